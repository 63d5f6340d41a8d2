//! Login through the organisation's OpenID Connect provider: the
//! authorization-code flow with PKCE (S256) and a nonce. The ID token's RS256
//! signature is checked against the provider's published keys, and its
//! issuer, audience, expiry and nonce against this login. A person is found
//! by the provider's subject, or on the first login by a verified email.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::Deserialize;

use super::pages::blocking;
use super::{set_cookie, Refusal, SESSION_COOKIE};
use crate::api::AppState;
use crate::store::OidcRefusal;

/// The provider and this server's registration with it.
pub struct Oidc {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `https://stint.example.com/login/oidc/callback`
    pub redirect_uri: String,
    http: reqwest::Client,
    meta: tokio::sync::Mutex<Option<Meta>>,
}

#[derive(Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Clone)]
struct Meta {
    discovery: Discovery,
    keys: Vec<Jwk>,
}

#[derive(Clone, Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("--oidc-issuer {0:?}: expected an https:// URL (http:// only on loopback)")]
    Issuer(String),
    #[error("the OIDC provider: {0}")]
    Provider(String),
    #[error("the ID token: {0}")]
    Token(String),
    /// Signed by a key the cached set lacks: the provider may have rotated.
    #[error("the ID token: no key of the provider's signed it")]
    UnknownKey,
}

impl Oidc {
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        public_url: &str,
    ) -> Result<Oidc, OidcError> {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| issuer.starts_with(p));
        if !issuer.starts_with("https://") && !loopback {
            return Err(OidcError::Issuer(issuer.into()));
        }
        // The client's TLS uses the process's provider, ring, as the listener does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OidcError::Provider(e.to_string()))?;
        Ok(Oidc {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uri: format!("{}/login/oidc/callback", public_url.trim_end_matches('/')),
            http,
            meta: tokio::sync::Mutex::new(None),
        })
    }

    /// The provider's endpoints and keys, fetched once (again after a key
    /// the cache does not know).
    async fn meta(&self, refresh: bool) -> Result<Meta, OidcError> {
        let mut cached = self.meta.lock().await;
        if let (Some(m), false) = (cached.as_ref(), refresh) {
            return Ok(m.clone());
        }
        let get = |url: String| async move {
            self.http
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| OidcError::Provider(format!("{url}: {e}")))
        };
        let discovery: Discovery = get(format!("{}/.well-known/openid-configuration", self.issuer))
            .await?
            .json()
            .await
            .map_err(|e| OidcError::Provider(format!("discovery: {e}")))?;
        if discovery.issuer.trim_end_matches('/') != self.issuer {
            return Err(OidcError::Provider(format!(
                "discovery names issuer {:?}, not {:?}",
                discovery.issuer, self.issuer
            )));
        }
        let jwks: Jwks = get(discovery.jwks_uri.clone())
            .await?
            .json()
            .await
            .map_err(|e| OidcError::Provider(format!("keys: {e}")))?;
        let meta = Meta {
            discovery,
            keys: jwks.keys,
        };
        *cached = Some(meta.clone());
        Ok(meta)
    }
}

/// `GET /login/oidc`: off to the provider, with a state, a PKCE challenge
/// and a nonce this server keeps.
pub async fn start(State(state): State<Arc<AppState>>) -> Result<Response, Refusal> {
    let oidc = state.oidc.get().ok_or(Refusal::NotFound)?;
    let meta = oidc.meta(false).await.map_err(|e| {
        tracing::error!(error = %e, "OIDC provider unreachable");
        Refusal::Failed("the organisation's login provider does not answer; try again later".into())
    })?;
    let (login, verifier, nonce) = (random(), random(), random());
    let challenge = B64.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let (l, v, n) = (login.clone(), verifier, nonce.clone());
    blocking(&state, move |s| {
        s.oidc_begin(&l, &v, &n, stint_common::time::now_ms())
    })
    .await?;
    let url = reqwest::Url::parse_with_params(
        &meta.discovery.authorization_endpoint,
        [
            ("response_type", "code"),
            ("client_id", oidc.client_id.as_str()),
            ("redirect_uri", oidc.redirect_uri.as_str()),
            ("scope", "openid email"),
            ("state", login.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(|_| Refusal::Failed("the provider's login address is not a URL".into()))?;
    Ok(Redirect::to(url.as_str()).into_response())
}

fn random() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the OS random source works");
    B64.encode(b)
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// `GET /login/oidc/callback`: the provider sends the person back with a
/// code, which buys the ID token that says who they are.
pub async fn callback(State(state): State<Arc<AppState>>, Query(q): Query<Callback>) -> Response {
    match finish(&state, q).await {
        Ok(token) => {
            let max_age = crate::store::SESSION_MAX_MS / 1000;
            (
                [set_cookie(SESSION_COOKIE, &token, max_age)],
                Redirect::to("/"),
            )
                .into_response()
        }
        Err(why) => {
            tracing::warn!(why = %why, "OIDC login refused");
            (StatusCode::FORBIDDEN, super::pages::message_page(403, &why)).into_response()
        }
    }
}

/// A session token, or why there is none, in words for the person.
async fn finish(state: &Arc<AppState>, q: Callback) -> Result<String, String> {
    let oidc = state.oidc.get().ok_or("OIDC login is not set up here.")?;
    if let Some(e) = q.error {
        return Err(format!("The provider said: {e}."));
    }
    let (Some(code), Some(login)) = (q.code, q.state) else {
        return Err("The provider's answer lacks a code or a state.".into());
    };
    let taken = blocking(state, move |s| {
        s.oidc_take(&login, stint_common::time::now_ms())
    })
    .await
    .map_err(|_| "The server could not look up this login.".to_string())?;
    let Some((verifier, nonce)) = taken else {
        return Err("This login expired or was already used: start again.".into());
    };
    let meta = oidc.meta(false).await.map_err(|e| e.to_string())?;
    let answer: TokenAnswer = oidc
        .http
        .post(&meta.discovery.token_endpoint)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", oidc.redirect_uri.as_str()),
            ("client_id", oidc.client_id.as_str()),
            ("client_secret", oidc.client_secret.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("The provider refused the code: {e}"))?
        .json()
        .await
        .map_err(|e| format!("The provider's token answer: {e}"))?;
    let now = stint_common::time::now_ms() / 1000;
    let claims = match verify(&answer.id_token, &meta.keys, oidc, &nonce, now) {
        Err(OidcError::UnknownKey) => {
            // The provider rotated its keys: fetch them once more.
            let fresh = oidc.meta(true).await.map_err(|e| e.to_string())?;
            verify(&answer.id_token, &fresh.keys, oidc, &nonce, now)
        }
        other => other,
    }
    .map_err(|e| e.to_string())?;
    let email = claims.email.filter(|_| claims.email_verified == Some(true));
    let sub = claims.sub;
    let found = blocking(state, move |s| {
        Ok(match s.oidc_person(&sub, email.as_deref())? {
            Ok(p) => Ok(s.start_session(&p.id, stint_common::time::now_ms())?),
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

#[derive(Debug, Deserialize)]
pub struct Claims {
    iss: String,
    aud: Audience,
    exp: i64,
    nonce: Option<String>,
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Checks an ID token's RS256 signature against `keys` and its claims
/// against this login; the claims when all hold.
fn verify(
    token: &str,
    keys: &[Jwk],
    oidc: &Oidc,
    nonce: &str,
    now_s: i64,
) -> Result<Claims, OidcError> {
    let bad = |why: &str| OidcError::Token(why.to_string());
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not three parts"));
    };
    let header: Header =
        serde_json::from_slice(&B64.decode(h).map_err(|_| bad("header encoding"))?)
            .map_err(|_| bad("header"))?;
    if header.alg != "RS256" {
        return Err(OidcError::Token(format!(
            "algorithm {:?}, expected RS256",
            header.alg
        )));
    }
    let key = keys
        .iter()
        .filter(|k| k.kty == "RSA")
        .find(|k| header.kid.is_none() || k.kid == header.kid)
        .ok_or(OidcError::UnknownKey)?;
    let decode = |v: &Option<String>| v.as_deref().and_then(|v| B64.decode(v).ok());
    let (Some(n), Some(e)) = (decode(&key.n), decode(&key.e)) else {
        return Err(bad("a key without its modulus or exponent"));
    };
    let signature = B64.decode(s).map_err(|_| bad("signature encoding"))?;
    ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{h}.{c}").as_bytes(),
            &signature,
        )
        .map_err(|_| bad("the signature does not match"))?;
    let claims: Claims =
        serde_json::from_slice(&B64.decode(c).map_err(|_| bad("claims encoding"))?)
            .map_err(|e| OidcError::Token(format!("claims: {e}")))?;
    let audience_ok = match &claims.aud {
        Audience::One(a) => *a == oidc.client_id,
        Audience::Many(all) => all.contains(&oidc.client_id),
    };
    if claims.iss.trim_end_matches('/') != oidc.issuer {
        return Err(OidcError::Token(format!("issuer {:?}", claims.iss)));
    }
    if !audience_ok {
        return Err(bad("issued for another client"));
    }
    // A minute of leeway for clocks that differ.
    if claims.exp + 60 < now_s {
        return Err(bad("expired"));
    }
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(bad("the nonce is not this login's"));
    }
    Ok(claims)
}
