//! Logging in and out with a password, and the home page (the person's own
//! day).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::diary::day_of;
use super::extract::{
    login_cookies, set_cookie, Browser, Checked, SameSite, SessionCookie, Viewer, SESSION_COOKIE,
};
use super::refusal::{blocking, Refusal};
use super::render::render;
use crate::state::AppState;
use crate::store::Login;

pub async fn home(viewer: Viewer) -> Response {
    let today = day_of(crate::store::now_ms(), viewer.person.tz());
    Redirect::to(&format!("/diary/{}/{today}", viewer.person.id)).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    /// Offer "Log in with your organisation" (OIDC is set up).
    oidc: bool,
}

pub async fn login_form(State(state): State<Arc<AppState>>, browser: Browser) -> Response {
    browser.keep(render(&LoginPage {
        csrf: &browser.csrf,
        email: "",
        error: None,
        oidc: state.oidc.get().is_some(),
    }))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Checked { form, csrf }: Checked<LoginForm>,
) -> Result<Response, Refusal> {
    let (email, password) = (form.email.clone(), form.password);
    let ip = crate::limiter::client_key(addr.ip());
    let outcome = blocking(&state, move |s| Ok(s.login(&email, &password, &ip)?)).await?;
    let again = |status: StatusCode, error: &str| {
        let page = render(&LoginPage {
            csrf: &csrf,
            email: &form.email,
            error: Some(error),
            oidc: state.oidc.get().is_some(),
        });
        (status, page).into_response()
    };
    Ok(match outcome {
        Login::Ok { token, person } => {
            tracing::info!(person = %person.id, role = person.role.name(), "logged in");
            (login_cookies(&token), Redirect::to("/")).into_response()
        }
        Login::Refused => again(
            StatusCode::UNAUTHORIZED,
            "The email or the password is wrong.",
        ),
        Login::Throttled { retry_after_secs } => {
            let mut resp = again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed attempts: try again in {retry_after_secs} s."),
            );
            if let Ok(v) = retry_after_secs.to_string().parse() {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    })
}

#[derive(Deserialize)]
pub struct LogoutForm {
    /// Set by "Log out everywhere": every session of the person ends.
    #[serde(default)]
    everywhere: Option<String>,
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    SessionCookie(token): SessionCookie,
    Checked { form, .. }: Checked<LogoutForm>,
) -> Result<Response, Refusal> {
    if let Some(token) = token {
        let everywhere = form.everywhere.is_some();
        blocking(&state, move |s| {
            match s.session(&token)? {
                Some(me) if everywhere => s.logout_everywhere(&me.id)?,
                _ => s.logout(&token)?,
            }
            Ok(())
        })
        .await?;
    }
    Ok((
        [set_cookie(SESSION_COOKIE, "", 0, SameSite::Strict)],
        Redirect::to("/login"),
    )
        .into_response())
}
