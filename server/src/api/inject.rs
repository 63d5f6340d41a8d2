//! Answers with the next injected fault of a request's route
//! (`faults.rs`), before anything else looks at the request but after its
//! body arrived: an answer sent while the client still uploads can reach
//! it as a reset connection instead, and the fault the test asked for
//! would never be seen. A request that breaks off leaves its fault queued.

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
    let Some(route) = crate::faults::route(req.uri().path()) else {
        return next.run(req).await;
    };
    let faults = || state.faults.lock().unwrap_or_else(|p| p.into_inner());
    let Some(f) = faults().next(route) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let limit = state
        .limits
        .max_capture_bytes
        .max(state.limits.max_batch_bytes);
    // A body too large is the client's to be told about by the real route;
    // the fault answers either way. One that breaks off (a client killed
    // mid-upload) never sees the answer: the fault waits for the next.
    let read =
        super::extract::body_limited(body, &parts.headers, limit, state.limits.idle_timeout).await;
    if let Err(e) = read {
        if e.status == StatusCode::REQUEST_TIMEOUT {
            faults().give_back(route, f);
            return e.into_response();
        }
    }
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
