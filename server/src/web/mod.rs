//! The web UI: server-rendered pages for people (login, the work diary, who
//! looked at my data) and the images behind them. Every route that shows data
//! asks `access::allowed`; every look at someone else's data is audited.
//!
//! Sessions are an HttpOnly, Secure, SameSite=Strict cookie holding a random
//! token the database stores only hashed. Forms carry a double-submit CSRF
//! token. Every answer carries the security headers in `secure_headers`.

mod admin;
mod archive;
mod delete;
mod diary;
pub mod oidc;
mod pages;
mod reports;
mod shot;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::api::AppState;
use crate::store::Person;

pub use diary::{day_bounds, segments};

const SESSION_COOKIE: &str = "stint_session";
const CSRF_COOKIE: &str = "stint_csrf";

/// The web routes, to merge with the agents' API on one listener.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/login/oidc", get(oidc::start))
        .route("/login/oidc/callback", get(oidc::callback))
        .route("/logout", post(pages::logout))
        .route("/diary/{person}/{day}", get(pages::diary))
        .route("/diary/{person}/{day}/delete", post(delete::delete_segment))
        .route("/people/{person}/delete-all", post(delete::delete_all))
        .route("/images/{capture}", get(pages::image))
        .route("/shots/{capture}", get(shot::shot))
        .route("/me/views", get(pages::my_views))
        .route("/export/{person}", get(archive::download))
        .route("/reports/timesheet", get(reports::timesheet))
        .route("/reports/apps", get(reports::apps))
        .route("/team", get(reports::team))
        .route("/admin", get(admin::admin))
        .route("/admin/{action}", post(admin::act))
        .route(
            "/set-password/{token}",
            get(admin::set_password_form).post(admin::set_password),
        )
        .route("/static/stint.css", get(stylesheet))
        .route("/static/stint.js", get(script))
        .layer(axum::middleware::from_fn(secure_headers))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/stint.css"),
    )
        .into_response()
}

/// The only script: keyboard navigation, vendored here so no page loads
/// anything from elsewhere and reading works with it off.
async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/stint.js"),
    )
        .into_response()
}

/// Headers every page and image carries: no inline script and no framing,
/// no MIME sniffing, no referrer, HTTPS only, and nothing cached.
async fn secure_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ),
        (header::CACHE_CONTROL, "private, no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    resp
}

/// The value of cookie `name`, if the request carries it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(name: &str, value: &str, max_age_secs: i64) -> (header::HeaderName, String) {
    (
        header::SET_COOKIE,
        format!(
            "{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_secs}"
        ),
    )
}

/// What every page's navigation shows: who is logged in, and the token its
/// logout form carries.
pub struct Nav {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    /// Whether to offer the administration page.
    pub admin: bool,
}

impl Nav {
    fn of(me: &Person, csrf: &str) -> Nav {
        Nav {
            id: me.id.clone(),
            name: me.name.clone(),
            role: me.role.name(),
            csrf: csrf.to_string(),
            admin: crate::access::allowed(
                me.role,
                crate::access::Action::ManagePeople,
                crate::access::Subject::Org,
            ),
        }
    }
}

/// Why a page is not shown.
pub enum Refusal {
    /// Not logged in (or the session ended): to the login page.
    Login,
    /// Logged in, but not allowed: 403, saying so and nothing more.
    Denied,
    NotFound,
    /// A one-time link that was used, expired or never existed.
    Gone,
    /// A parameter that cannot be used, said in words.
    BadRequest(String),
    /// The form's CSRF token did not match its cookie.
    Forged,
    Failed(String),
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Refusal {
        tracing::error!(error = %e, "web request failed");
        Refusal::Failed("the server could not read its data; try again".into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            Refusal::Login => return Redirect::to("/login").into_response(),
            Refusal::Denied => (StatusCode::FORBIDDEN, "You may not see this.".to_string()),
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
        (status, pages::message_page(status.as_u16(), &text)).into_response()
    }
}

/// Who is asking: the person behind the session cookie.
async fn viewer(state: &Arc<AppState>, headers: &HeaderMap) -> Result<Person, Refusal> {
    let token = cookie(headers, SESSION_COOKIE).ok_or(Refusal::Login)?;
    pages::blocking(state, move |store| store.session(&token))
        .await?
        .ok_or(Refusal::Login)
}

/// The double-submit check: the form's token equals the cookie's.
fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|c| !c.is_empty() && c == form_token)
}
