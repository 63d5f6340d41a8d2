//! The agents' API's refusals: a status, a JSON `ApiError` with a stable
//! code and words, and a Retry-After where waiting helps.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use stint_proto::ApiError;

use crate::store::StoreError;

/// A refusal: status, JSON body and optional Retry-After.
#[derive(Debug)]
pub struct Fail {
    pub(crate) status: StatusCode,
    body: ApiError,
    retry_after: Option<u64>,
    /// Sent as Location (an injected redirect).
    pub(crate) location: Option<String>,
}

impl Fail {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Fail {
        Fail {
            status,
            body: ApiError {
                code: code.into(),
                message: message.into(),
                record_id: None,
            },
            retry_after: None,
            location: None,
        }
    }

    pub fn retry_after(mut self, secs: u64) -> Fail {
        self.retry_after = Some(secs);
        self
    }

    pub fn record(mut self, id: &str) -> Fail {
        self.body.record_id = Some(id.into());
        self
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, s.to_string().parse().expect("digits"));
        }
        if let Some(to) = self.location.and_then(|l| l.parse().ok()) {
            resp.headers_mut().insert(header::LOCATION, to);
        }
        resp
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        match e {
            StoreError::Conflict(id) => Fail::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("record {id} was uploaded by another device"),
            )
            .record(&id),
            // The database or the bucket is away for a moment: the agent
            // keeps its copy and comes back, here or at another replica.
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "storage unavailable");
                Fail::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server's storage is unavailable; retry later",
                )
                .retry_after(5)
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                Fail::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage",
                    "the server could not store the records; retry later",
                )
            }
        }
    }
}

impl From<tokio::task::JoinError> for Fail {
    fn from(e: tokio::task::JoinError) -> Fail {
        Fail::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("worker failed: {e}"),
        )
    }
}
