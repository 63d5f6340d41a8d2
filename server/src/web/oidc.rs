//! Login through the organisation's OpenID Connect provider: `/login/oidc`
//! sends the browser there with a state, a PKCE challenge and a nonce this
//! server keeps, and binds the state to the browser with a cookie; the
//! callback accepts the provider's answer only in the browser that started
//! the login (a callback address someone else started cannot log anyone
//! into the starter's account), and a person is found by the provider's
//! subject, or on the first login by a verified email.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::{login_cookies, set_cookie, OidcStarted, SameSite, OIDC_COOKIE};
use super::refusal::{blocking, Refusal};
use super::render::{message_page, render};
use crate::state::AppState;
use crate::store::{OidcRefusal, Person, OIDC_LOGIN_MS};

/// `GET /login/oidc`: off to the provider.
pub async fn start(State(state): State<Arc<AppState>>) -> Result<Response, Refusal> {
    let oidc = state.oidc.get().ok_or(Refusal::NotFound)?;
    let meta = oidc.meta(false).await.map_err(|e| {
        tracing::error!(error = %e, "OIDC provider unreachable");
        Refusal::Failed("the organisation's login provider does not answer; try again later".into())
    })?;
    let (login, verifier, nonce) = (
        crate::oidc::random(),
        crate::oidc::random(),
        crate::oidc::random(),
    );
    let challenge = crate::oidc::challenge(&verifier);
    let (l, n) = (login.clone(), nonce.clone());
    blocking(&state, move |s| {
        Ok(s.oidc_begin(&l, &verifier, &n, stint_common::time::now_ms())?)
    })
    .await?;
    let url = oidc
        .authorize_url(&meta, &login, &nonce, &challenge)
        .map_err(|e| Refusal::Failed(e.to_string()))?;
    // Lax: the cookie must come back with the provider's redirect.
    let bind = set_cookie(OIDC_COOKIE, &login, OIDC_LOGIN_MS / 1000, SameSite::Lax);
    Ok(([bind], Redirect::to(&url)).into_response())
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// After an OIDC login: a page of this server's own that moves on to the
/// diary. A redirect would not do: a browser does not send a SameSite=Strict
/// cookie on a navigation that began at the provider, so the session would
/// seem missing until the next click.
#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedIn<'a> {
    name: &'a str,
}

/// `GET /login/oidc/callback`: the provider sends the person back with a
/// code, which buys the ID token that says who they are.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    started: OidcStarted,
    Query(q): Query<Callback>,
) -> Response {
    let forget = set_cookie(OIDC_COOKIE, "", 0, SameSite::Lax);
    match finish(&state, started, q).await {
        Ok((token, person)) => {
            let page = render(&SignedIn { name: &person.name });
            (login_cookies(&token), AppendHeaders([forget]), page).into_response()
        }
        Err(why) => {
            tracing::warn!(why = ?why, "OIDC login refused");
            (StatusCode::FORBIDDEN, [forget], message_page(403, &why)).into_response()
        }
    }
}

/// A session token and its person, or why there is none, in words for the
/// person.
async fn finish(
    state: &Arc<AppState>,
    started: OidcStarted,
    q: Callback,
) -> Result<(String, Person), String> {
    let oidc = state.oidc.get().ok_or("OIDC login is not set up here.")?;
    if let Some(e) = q.error {
        return Err(format!("The provider said: {e}."));
    }
    let (Some(code), Some(login)) = (q.code, q.state) else {
        return Err("The provider's answer lacks a code or a state.".into());
    };
    if !started.is(&login) {
        return Err(
            "This login was not started in this browser (or took too long): start again.".into(),
        );
    }
    let taken = blocking(state, move |s| {
        Ok(s.oidc_take(&login, stint_common::time::now_ms())?)
    })
    .await
    .map_err(|_| "The server could not look up this login.".to_string())?;
    let Some((verifier, nonce)) = taken else {
        return Err("This login expired or was already used: start again.".into());
    };
    let now = stint_common::time::now_ms() / 1000;
    let claims = oidc
        .claims(&code, &verifier, &nonce, now)
        .await
        .map_err(|e| e.to_string())?;
    let email = claims.email.filter(|_| claims.email_verified == Some(true));
    let sub = claims.sub;
    let found = blocking(state, move |s| {
        Ok(match s.oidc_person(&sub, email.as_deref())? {
            Ok(p) => Ok((s.start_session(&p.id, stint_common::time::now_ms())?, p)),
            Err(r) => Err(r),
        })
    })
    .await
    .map_err(|_| "The server could not log you in.".to_string())?;
    found.map_err(|r| match r {
        OidcRefusal::NoAccount => {
            "No stint account matches this login: ask an administrator to add your email."
                .to_string()
        }
        OidcRefusal::OtherSubject => {
            "This email's stint account is bound to another login of the provider.".to_string()
        }
    })
}
