//! "Screenshot key": a person's key pair for sealed screenshots, made and
//! unlocked in their browser (`static/e2e.js`). The server receives the
//! public key and the private key wrapped with a key from a passphrase it
//! never sees; a new key retires the one before, which stays (wrapped) so
//! the screenshots sealed to it stay readable with its passphrase.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::{Signed, Viewer};
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::state::AppState;
use crate::store::{rfc3339, PersonKey};

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    nav: Nav,
    /// (key id, made, retired or "current").
    keys: Vec<(String, String, String)>,
    /// Whether the organisation seals screenshots at all.
    sealing: bool,
    iterations: u32,
}

pub async fn mine(State(state): State<Arc<AppState>>, viewer: Viewer) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        Ok(KeysPage {
            nav,
            keys: store
                .keys_of(&me.id)?
                .into_iter()
                .map(|k| {
                    let state = k
                        .retired_ms
                        .map_or("current".to_string(), |r| format!("retired {}", rfc3339(r)));
                    (k.key_id, rfc3339(k.created_ms), state)
                })
                .collect(),
            sealing: store.effective_policy(Some(&me.id))?.policy.e2e_screenshots == Some(true),
            iterations: PBKDF2_ITERATIONS,
        })
    })
    .await?;
    Ok(render(&page))
}

/// What the browser spends on deriving the wrapping key (OWASP's figure for
/// PBKDF2-HMAC-SHA256).
const PBKDF2_ITERATIONS: u32 = 600_000;

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    public: String,
    #[serde(default)]
    wrapped: String,
    #[serde(default)]
    salt: String,
    #[serde(default)]
    iv: String,
    #[serde(default)]
    iterations: u32,
}

pub async fn add(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<KeyForm>,
) -> Result<Response, Refusal> {
    let me = viewer.person;
    let key = PersonKey {
        key_id: String::new(),
        public_key: form.public,
        wrapped: form.wrapped,
        salt: form.salt,
        iv: form.iv,
        iterations: form.iterations,
        created_ms: 0,
        retired_ms: None,
    };
    let id = blocking(&state, move |store| Ok(store.add_key(&me.id, &key)?)).await?;
    tracing::info!(key = %id, "screenshot key made");
    Ok(Redirect::to("/me/keys").into_response())
}
