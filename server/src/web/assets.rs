//! The stylesheet, the two small scripts, and the security headers every
//! page and image carries.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/stint.css"),
    )
        .into_response()
}

/// The only script: keyboard navigation, vendored here so no page loads
/// anything from elsewhere and reading works with it off.
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/stint.js"),
    )
        .into_response()
}

/// Sealed screenshots, made, unlocked and opened in the browser: vendored
/// like the other, WebCrypto only.
pub async fn e2e_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/e2e.js"),
    )
        .into_response()
}

/// Headers every page and image carries: no inline script and no framing,
/// no MIME sniffing, no referrer, HTTPS only, and nothing cached.
pub async fn secure_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
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
