//! The organisation's OpenID Connect provider as this server sees it: its
//! endpoints and keys (fetched once, again after a key the cache lacks), the
//! authorization address with PKCE (S256) and a nonce, the code exchange,
//! and the ID token's RS256 signature and claims checked against this login.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::Deserialize;

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
pub struct Meta {
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
        if !issuer_allowed(issuer) {
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
    pub async fn meta(&self, refresh: bool) -> Result<Meta, OidcError> {
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

/// An issuer address this server may talk to: https://, or plain http://
/// to a loopback host (a provider on the same machine), judged on the
/// parsed host, not on how the text begins.
fn issuer_allowed(issuer: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(issuer) else {
        return false;
    };
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

impl Oidc {
    /// Where to send the browser: the provider's authorization endpoint with
    /// this login's `state`, `nonce` and PKCE `challenge`.
    pub fn authorize_url(
        &self,
        meta: &Meta,
        state: &str,
        nonce: &str,
        challenge: &str,
    ) -> Result<String, OidcError> {
        reqwest::Url::parse_with_params(
            &meta.discovery.authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("scope", "openid email"),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .map(String::from)
        .map_err(|_| OidcError::Provider("the provider's login address is not a URL".into()))
    }

    /// Trades the code the provider sent back for the verified claims of
    /// its ID token, fetching the provider's keys again once if the token
    /// names a key the cache lacks (the provider rotated them).
    pub async fn claims(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        now_s: i64,
    ) -> Result<Claims, OidcError> {
        let meta = self.meta(false).await?;
        let answer: TokenAnswer = self
            .http
            .post(&meta.discovery.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| OidcError::Provider(format!("the provider refused the code: {e}")))?
            .json()
            .await
            .map_err(|e| OidcError::Provider(format!("the provider's token answer: {e}")))?;
        match verify(&answer.id_token, &meta.keys, self, nonce, now_s) {
            Err(OidcError::UnknownKey) => {
                let fresh = self.meta(true).await?;
                verify(&answer.id_token, &fresh.keys, self, nonce, now_s)
            }
            other => other,
        }
    }
}

/// 32 random bytes, URL-safe: a login's state, PKCE verifier or nonce.
pub fn random() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the OS random source works");
    B64.encode(b)
}

/// The PKCE S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    B64.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain HTTP only to a loopback host, judged on the host itself: a
    /// name that merely begins like one is refused.
    #[test]
    fn issuers_https_or_loopback_only() {
        for (issuer, ok) in [
            ("https://login.example.com/realms/staff", true),
            ("http://127.0.0.1:8080", true),
            ("http://localhost:9000/oidc", true),
            ("http://[::1]:9000", true),
            ("http://localhost.evil.example", false),
            ("http://127.0.0.1.evil.example", false),
            ("http://login.example.com", false),
            ("ftp://localhost", false),
            ("not a url", false),
        ] {
            assert_eq!(issuer_allowed(issuer), ok, "{issuer}");
        }
    }
}
