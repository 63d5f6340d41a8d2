//! Who is asking and whether their form is theirs, as axum extractors, so no
//! handler reads a cookie or compares a token by hand: [`Viewer`] is the
//! person behind the session cookie (or the login page), [`Checked`] a form
//! whose CSRF token is this browser's, [`Browser`] the token a page for
//! someone not logged in puts in its form, [`SessionCookie`] the raw
//! session for logging out.
//!
//! Cookies carry the `__Host-` prefix (Secure, Path=/, no Domain: no other
//! host or path can set or shadow them). The CSRF token is not a cookie of
//! its own: it is an HMAC keyed by the session cookie (or, before login, by
//! a random browser cookie), so it is bound to the session and a new one
//! comes with every login.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName};
use axum::response::AppendHeaders;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::refusal::{blocking, Refusal};
use crate::access::{allowed, Action, Subject};
use crate::state::AppState;
use crate::store::Person;

pub const SESSION_COOKIE: &str = "__Host-stint_session";
/// A random key for the CSRF token of pages shown before login.
pub const BROWSER_COOKIE: &str = "__Host-stint_browser";
/// The state of an OIDC login this browser started (SameSite=Lax: it must
/// come back with the provider's redirect).
pub const OIDC_COOKIE: &str = "__Host-stint_oidc";

/// The largest form any page posts.
const MAX_FORM_BYTES: usize = 64 << 10;

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether a cookie may travel with requests other sites start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    /// Top-level navigations from elsewhere too: the provider's redirect.
    Lax,
}

/// A `Set-Cookie` header; `max_age_secs` 0 removes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    same_site: SameSite,
) -> (HeaderName, String) {
    let same_site = match same_site {
        SameSite::Strict => "Strict",
        SameSite::Lax => "Lax",
    };
    (
        header::SET_COOKIE,
        format!(
            "{name}={value}; Path=/; HttpOnly; Secure; SameSite={same_site}; Max-Age={max_age_secs}"
        ),
    )
}

/// The cookies of a new login: the session, and the end of the browser
/// cookie the login form's token was keyed by. Appended, not inserted: a
/// response may set several cookies.
pub fn login_cookies(token: &str) -> AppendHeaders<[(HeaderName, String); 2]> {
    let max_age = crate::store::SESSION_MAX_MS / 1000;
    AppendHeaders([
        set_cookie(SESSION_COOKIE, token, max_age, SameSite::Strict),
        set_cookie(BROWSER_COOKIE, "", 0, SameSite::Strict),
    ])
}

/// The CSRF token of forms in a browser whose session (or browser) cookie
/// is `key`.
fn csrf_for(key: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    crate::store::hex(ring::hmac::sign(&key, b"stint csrf v1").as_ref())
}

/// What the CSRF token is keyed by: the session cookie, else the browser's.
fn csrf_key(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
        .filter(|c| !c.is_empty())
        .or_else(|| cookie(headers, BROWSER_COOKIE).filter(|c| c.len() == 64))
}

/// Equal, taking the same time wherever they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The person logged in, with the CSRF token their forms carry.
pub struct Viewer {
    pub person: Person,
    pub csrf: String,
    /// Offline time and periods waiting for this person's decision, for the
    /// navigation.
    pub inbox: usize,
}

impl Viewer {
    /// The navigation of this viewer's pages. Whether it offers the
    /// administration page is only an offer: the page asks for a grant.
    pub fn nav(&self) -> super::render::Nav {
        super::render::Nav {
            id: self.person.id.clone(),
            name: self.person.name.clone(),
            role: self.person.role.name(),
            csrf: self.csrf.clone(),
            admin: allowed(self.person.role, Action::ManagePeople, Subject::Org),
            inbox: self.inbox,
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Viewer {
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Viewer, Refusal> {
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Login)?;
        let csrf = csrf_for(&token);
        let key = csrf.clone();
        let post = parts.method != axum::http::Method::GET;
        let cached = if post { None } else { state.inbox_cached(&key) };
        let (person, inbox) = blocking(state, move |s| {
            let Some(person) = s.session(&token)? else {
                return Ok(None);
            };
            let inbox = match cached {
                Some(n) => n,
                None => s.offline_waiting(&person)? + s.periods_waiting(&person)?.len(),
            };
            Ok(Some((person, inbox)))
        })
        .await?
        .ok_or(Refusal::Login)?;
        state.inbox_remember(&key, (!post).then_some(inbox));
        Ok(Viewer {
            person,
            csrf,
            inbox,
        })
    }
}

/// The session cookie as sent, valid or not: what logging out ends.
pub struct SessionCookie(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<SessionCookie, Refusal> {
        Ok(SessionCookie(
            cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()),
        ))
    }
}

/// The OIDC login this browser started: the state its cookie holds.
pub struct OidcStarted(Option<String>);

impl OidcStarted {
    /// Whether the provider's answer carries the state this browser began.
    pub fn is(&self, state: &str) -> bool {
        self.0.as_deref().is_some_and(|s| same_secret(s, state))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for OidcStarted {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<OidcStarted, Refusal> {
        Ok(OidcStarted(cookie(&parts.headers, OIDC_COOKIE)))
    }
}

/// The CSRF token for a page shown to someone who may not be logged in
/// (login, set a password), and the browser cookie to set when there is
/// none yet.
pub struct Browser {
    pub csrf: String,
    set: Option<(HeaderName, String)>,
}

impl Browser {
    /// `resp` with the browser cookie this page's token needs.
    pub fn keep(&self, resp: axum::response::Response) -> axum::response::Response {
        super::render::with_cookie(resp, self.set.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Browser, Refusal> {
        Ok(match csrf_key(&parts.headers) {
            Some(key) => Browser {
                csrf: csrf_for(&key),
                set: None,
            },
            None => {
                let key = crate::store::new_secret("");
                Browser {
                    csrf: csrf_for(&key),
                    set: Some(set_cookie(BROWSER_COOKIE, &key, 86_400, SameSite::Strict)),
                }
            }
        })
    }
}

/// A form whose `csrf` field is this browser's token; anything else is
/// refused before the handler runs. `csrf` is kept for a page that shows
/// the form again.
pub struct Checked<T> {
    pub form: T,
    pub csrf: String,
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

/// Reads and checks a form before anything else answers: a request whose
/// body was never read gets its answer before the body is through, which an
/// HTTP/2 client may see as a broken stream.
async fn checked_form<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<Checked<T>, Refusal> {
    let expected = csrf_key(headers).map(|k| csrf_for(&k));
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| Refusal::BadRequest("the form is larger than 64 KiB".into()))?;
    let Token { csrf } = serde_urlencoded::from_bytes(&bytes).map_err(|_| Refusal::Forged)?;
    if !expected.is_some_and(|e| same_secret(&e, &csrf)) {
        return Err(Refusal::Forged);
    }
    let form = serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| Refusal::BadRequest(format!("the form: {e}")))?;
    Ok(Checked { form, csrf })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Checked<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, _: &S) -> Result<Checked<T>, Refusal> {
        let (parts, body) = req.into_parts();
        checked_form(&parts.headers, body).await
    }
}

/// A checked form and the person who sent it: the form is read and checked
/// first, then the session, so even a refusal comes after the whole body.
pub struct Signed<T> {
    pub viewer: Viewer,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<Arc<AppState>> for Signed<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Signed<T>, Refusal> {
        let (mut parts, body) = req.into_parts();
        let checked = checked_form(&parts.headers, body).await?;
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        Ok(Signed {
            viewer,
            form: checked.form,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_session_and_compared_whole() {
        let (a, b) = (csrf_for("session-a"), csrf_for("session-b"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b, "another session, another token");
        assert_eq!(a, csrf_for("session-a"));
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b) && !same_secret(&a, &a[..63]));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("{BROWSER_COOKIE}={}; {SESSION_COOKIE}=s1", "f".repeat(64))
                .parse()
                .unwrap(),
        );
        assert_eq!(csrf_key(&h).as_deref(), Some("s1"), "the session first");
        let (name, value) = set_cookie(OIDC_COOKIE, "st", 600, SameSite::Lax);
        assert_eq!(name, header::SET_COOKIE);
        assert_eq!(
            value,
            "__Host-stint_oidc=st; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600"
        );
    }
}
