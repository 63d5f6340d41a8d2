//! What a load balancer and a monitoring system ask of a replica: `/healthz`
//! (the process answers), `/readyz` (it can reach its database and object
//! store) and `/metrics` (Prometheus text: requests, latencies, ingest counts,
//! image writes in flight). None of them shows anything about a person.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// Times and counts every request, whatever route answers it.
pub async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .observe(resp.status(), started.elapsed().as_secs_f64());
    resp
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Ready or not, in one word: why not goes to the log, since anyone may
/// ask and the error would name hosts, buckets and paths.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    match state.blocking(|s| s.ready()).await {
        Ok(Ok(())) => "ready\n".into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.store.pending_writes()),
    )
        .into_response()
}
