//! Turning templates into answers: a page, a message page, a cookie added,
//! and the navigation every logged-in page shows.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    status: u16,
    text: &'a str,
}

pub fn message_page(status: u16, text: &str) -> Html<String> {
    Html(
        MessagePage { status, text }
            .render()
            .unwrap_or_else(|_| text.to_string()),
    )
}

/// `resp` with `set` (a `Set-Cookie` header) added, when there is one.
pub fn with_cookie(mut resp: Response, set: Option<(header::HeaderName, String)>) -> Response {
    if let Some((name, value)) = set {
        if let Ok(v) = value.parse() {
            resp.headers_mut().append(name, v);
        }
    }
    resp
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
    /// Offline time waiting for the viewer's decision.
    pub inbox: usize,
}
