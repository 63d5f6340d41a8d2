//! Why a page is not shown, as the answer the browser gets, and the one way
//! handlers run store calls (off the runtime, errors turned into refusals).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::state::AppState;
use crate::store::{Store, StoreError};

/// Why a page is not shown.
#[derive(Debug)]
pub enum Refusal {
    /// Not logged in (or the session ended): to the login page.
    Login,
    /// Logged in, but not allowed: 403, with words for the person.
    Denied(String),
    NotFound,
    /// A one-time link that was used, expired or never existed.
    Gone,
    /// A parameter that cannot be used, said in words.
    BadRequest(String),
    /// The form's CSRF token is not this browser's.
    Forged,
    Failed(String),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        match e {
            StoreError::Denied(why) => Refusal::Denied(why),
            StoreError::Invalid(why) | StoreError::NotFound(why) => Refusal::BadRequest(why),
            e => {
                tracing::error!(error = %e, "web request failed");
                Refusal::Failed("the server could not read its data; try again".into())
            }
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            Refusal::Login => return Redirect::to("/login").into_response(),
            Refusal::Denied(why) => (StatusCode::FORBIDDEN, why),
            Refusal::NotFound => (StatusCode::NOT_FOUND, "There is nothing here.".to_string()),
            Refusal::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
            Refusal::Gone => (
                StatusCode::GONE,
                "This link was used already or has expired; ask for a new one.".to_string(),
            ),
            Refusal::Forged => (
                StatusCode::FORBIDDEN,
                "The form was too old or not ours; reload the page and try again.".to_string(),
            ),
            Refusal::Failed(why) => (StatusCode::INTERNAL_SERVER_ERROR, why),
        };
        (status, super::render::message_page(status.as_u16(), &text)).into_response()
    }
}

/// Runs `f` with the store off the async runtime.
pub async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Store) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    state
        .blocking(f)
        .await
        .map_err(|e| Refusal::Failed(format!("the request's worker failed: {e}")))?
}
