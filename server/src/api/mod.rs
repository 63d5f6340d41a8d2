//! The `/api/v1` HTTP surface the agents talk to, and `/api/people/v1`, the
//! integrations' read API (`people.rs`): the routes, a JSON 404
//! for anything else, and (in builds with the `faults` feature) the
//! injected faults tests bend it with (`inject.rs`). Every refusal is a JSON `ApiError`
//! with a stable code (`fail.rs`).

mod device;
mod extract;
mod fail;
#[cfg(feature = "faults")]
mod inject;
mod people;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;

pub use fail::Fail;

use crate::state::AppState;

async fn not_found() -> Fail {
    Fail::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see docs/protocol.md for /api/v1",
    )
}

pub fn router(state: Arc<AppState>) -> Router {
    let router = Router::new()
        .route("/api/v1/enroll", post(device::enroll))
        .route("/api/v1/minutes", post(device::minutes))
        .route("/api/v1/captures/{id}", put(device::capture))
        .route("/api/v1/heartbeat", post(device::heartbeat))
        .route("/api/people/v1/people", get(people::people))
        .route("/api/people/v1/people/{id}/days", get(people::days))
        .route("/api/people/v1/approved", get(people::approved))
        .route("/api/people/v1/openapi.json", get(people::openapi_json))
        .fallback(not_found)
        // Bodies are limited per route, with a JSON 413.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extract::settle_small_body,
        ));
    #[cfg(feature = "faults")]
    let router = router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        inject::inject,
    ));
    router.with_state(state)
}
