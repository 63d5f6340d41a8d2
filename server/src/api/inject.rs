//! Answers with the next injected fault of a request's route
//! (`faults.rs`), before anything else looks at the request but after its
//! body arrived: an answer sent while the client still uploads can reach
//! it as a reset connection instead, and the fault the test asked for
//! would never be seen.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::fail::Fail;
use crate::state::AppState;

/// Answers with the next fault queued for the request's route, if any,
/// before anything else looks at the request.
pub async fn inject(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let fault = crate::faults::route(req.uri().path()).and_then(|r| {
        state
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next(r)
    });
    let Some(f) = fault else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let limit = state
        .limits
        .max_capture_bytes
        .max(state.limits.max_batch_bytes);
    // A body too large or too slow is the client's to be told about by the
    // real route; the fault answers either way.
    let _ =
        super::extract::body_limited(body, &parts.headers, limit, state.limits.idle_timeout).await;
    let c = f.code;
    let status = StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut fail = Fail::new(status, "injected", format!("injected fault {c}"));
    fail.location = f.location;
    match f.retry_after {
        Some(secs) => fail.retry_after(secs),
        None if c == 429 || c == 503 => fail.retry_after(1),
        None => fail,
    }
    .into_response()
}
