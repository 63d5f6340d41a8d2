//! `/set-password/TOKEN`: a one-time link (an invitation, or a reset by an
//! admin or the host) sets the person's password and logs them in.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::{login_cookies, Browser, Checked};
use super::refusal::{blocking, Refusal};
use super::render::render;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    csrf: &'a str,
    error: Option<&'a str>,
}

pub async fn form(
    State(state): State<Arc<AppState>>,
    browser: Browser,
    Path(token): Path<String>,
) -> Result<Response, Refusal> {
    let valid = blocking(&state, move |s| Ok(s.link_person(&token)?))
        .await?
        .is_some();
    if !valid {
        return Err(Refusal::Gone);
    }
    Ok(browser.keep(render(&SetPasswordPage {
        csrf: &browser.csrf,
        error: None,
    })))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
    again: String,
}

pub async fn set(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    Checked { form, csrf }: Checked<PasswordForm>,
) -> Result<Response, Refusal> {
    let again = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            render(&SetPasswordPage {
                csrf: &csrf,
                error: Some(why),
            }),
        )
            .into_response()
    };
    if form.password != form.again {
        return Ok(again("The two passwords differ."));
    }
    let password = form.password.clone();
    match blocking(&state, move |s| Ok(s.use_link(&token, &password)?)).await {
        Ok(Some(session)) => Ok((login_cookies(&session), Redirect::to("/")).into_response()),
        Ok(None) => Err(Refusal::Gone),
        // The password was refused (too short, too common): say why, keep the form.
        Err(Refusal::BadRequest(why)) => Ok(again(&why)),
        Err(other) => Err(other),
    }
}
