//! "API tokens": a person's access tokens for the integrations' read API
//! (`/api/people/v1`). A new token is shown once, on the page that made it;
//! after that only its label, dates and id are.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::{Signed, Viewer};
use super::format::visible;
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::state::AppState;
use crate::store::{rfc3339, ApiToken};

#[derive(Template)]
#[template(path = "api_tokens.html")]
struct TokensPage {
    nav: Nav,
    /// The token just made: shown this once.
    made: Option<String>,
    /// (id, label, created, expires, last used, state).
    tokens: Vec<(String, String, String, String, String, &'static str)>,
}

fn rows(
    tokens: Vec<ApiToken>,
    now: i64,
) -> Vec<(String, String, String, String, String, &'static str)> {
    tokens
        .into_iter()
        .map(|t| {
            let state = if t.revoked {
                "revoked"
            } else if t.expires_ms <= now {
                "expired"
            } else {
                "active"
            };
            (
                t.id,
                visible(&t.label),
                rfc3339(t.created_ms),
                rfc3339(t.expires_ms),
                t.last_used_ms
                    .map(rfc3339)
                    .unwrap_or_else(|| "never".into()),
                state,
            )
        })
        .collect()
}

async fn page(
    state: &Arc<AppState>,
    viewer: Viewer,
    made: Option<String>,
) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(state, move |store| {
        Ok(TokensPage {
            nav,
            made,
            tokens: rows(store.api_tokens(&me)?, crate::store::now_ms()),
        })
    })
    .await?;
    Ok(render(&page))
}

pub async fn list(State(state): State<Arc<AppState>>, viewer: Viewer) -> Result<Response, Refusal> {
    page(&state, viewer, None).await
}

#[derive(Deserialize)]
pub struct MakeForm {
    #[serde(default)]
    label: String,
    days: u32,
}

pub async fn make(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<MakeForm>,
) -> Result<Response, Refusal> {
    let me = viewer.person.clone();
    let (token, _) = blocking(&state, move |store| {
        Ok(store.create_api_token(&me, &form.label, form.days, crate::store::now_ms())?)
    })
    .await?;
    page(&state, viewer, Some(token)).await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    id: String,
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<RevokeForm>,
) -> Result<Response, Refusal> {
    let me = viewer.person;
    blocking(&state, move |store| {
        Ok(store.revoke_api_token(&me, &form.id)?)
    })
    .await?;
    Ok(Redirect::to("/me/tokens").into_response())
}
