//! A small OpenID Connect provider on loopback for the login tests: discovery,
//! its RSA key as JWKS, an authorization endpoint that consents at once for
//! the identity the test sets, and a token endpoint that checks the PKCE
//! verifier and the client secret before it signs an RS256 ID token.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

pub const CLIENT_ID: &str = "stint-test-client";
pub const CLIENT_SECRET: &str = "stint-test-secret";

/// Who the provider says logged in: subject, email, email verified.
#[derive(Clone)]
pub struct Identity {
    pub sub: String,
    pub email: String,
    pub verified: bool,
}

struct Shared {
    issuer: String,
    key: RsaKeyPair,
    /// Signs with this instead when set: a key the JWKS does not hold.
    rogue: Option<RsaKeyPair>,
    who: Identity,
    /// code -> (PKCE challenge, nonce)
    codes: HashMap<String, (String, String)>,
}

pub struct Provider {
    pub issuer: String,
    shared: Arc<Mutex<Shared>>,
}

fn rsa_key(dir: &std::path::Path, name: &str) -> RsaKeyPair {
    let path = dir.join(name);
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-outform",
            "DER",
            "-out",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl genpkey: {out:?}");
    // OpenSSL writes a PKCS#1 RSAPrivateKey in DER.
    RsaKeyPair::from_der(&std::fs::read(&path).unwrap()).unwrap()
}

impl Provider {
    pub fn start(who: Identity) -> Provider {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = Arc::new(Mutex::new(Shared {
            issuer: issuer.clone(),
            key: rsa_key(dir.path(), "key.der"),
            rogue: None,
            who,
            codes: HashMap::new(),
        }));
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Provider { issuer, shared }
    }

    pub fn log_in_as(&self, who: Identity) {
        self.shared.lock().unwrap().who = who;
    }

    /// From now on, tokens are signed with a key the provider never published.
    pub fn sign_with_a_rogue_key(&self) {
        let dir = tempfile::tempdir().unwrap();
        self.shared.lock().unwrap().rogue = Some(rsa_key(dir.path(), "rogue.der"));
    }
}

/// A query string's or form body's pairs, decoded.
fn pairs(s: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(s.as_bytes())
        .into_owned()
        .collect()
}

fn serve(stream: TcpStream, shared: &Mutex<Shared>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut s = shared.lock().unwrap();
    let (status, location, json) = match path {
        "/.well-known/openid-configuration" => (
            200,
            None,
            serde_json::json!({
                "issuer": s.issuer,
                "authorization_endpoint": format!("{}/authorize", s.issuer),
                "token_endpoint": format!("{}/token", s.issuer),
                "jwks_uri": format!("{}/jwks", s.issuer),
            }),
        ),
        "/jwks" => {
            let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = s.key.public().into();
            let (n, e) = (parts.n, parts.e);
            (
                200,
                None,
                serde_json::json!({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
                    "n": B64.encode(n), "e": B64.encode(e)}]}),
            )
        }
        "/authorize" => {
            let q = pairs(query);
            let ok = q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && q.get("code_challenge_method").map(String::as_str) == Some("S256");
            if ok {
                let code = format!("code-{}", s.codes.len());
                s.codes.insert(
                    code.clone(),
                    (
                        q["code_challenge"].clone(),
                        q.get("nonce").cloned().unwrap_or_default(),
                    ),
                );
                let to = url::Url::parse_with_params(
                    &q["redirect_uri"],
                    [("code", code.as_str()), ("state", q["state"].as_str())],
                )
                .unwrap()
                .to_string();
                (302, Some(to), serde_json::json!({}))
            } else {
                (400, None, serde_json::json!({"error": "invalid_request"}))
            }
        }
        "/token" => {
            let f = pairs(&String::from_utf8_lossy(&body));
            let verifier_ok = |challenge: &str| {
                let v = f.get("code_verifier").cloned().unwrap_or_default();
                B64.encode(ring::digest::digest(&ring::digest::SHA256, v.as_bytes())) == challenge
            };
            match f.get("code").and_then(|c| s.codes.remove(c)) {
                Some((challenge, nonce))
                    if verifier_ok(&challenge)
                        && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET) =>
                {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let header = B64.encode(br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
                    let claims = B64.encode(
                        serde_json::json!({
                            "iss": s.issuer, "aud": CLIENT_ID, "sub": s.who.sub,
                            "email": s.who.email, "email_verified": s.who.verified,
                            "nonce": nonce, "iat": now, "exp": now + 300,
                        })
                        .to_string(),
                    );
                    let input = format!("{header}.{claims}");
                    let key = s.rogue.as_ref().unwrap_or(&s.key);
                    let mut sig = vec![0u8; key.public().modulus_len()];
                    key.sign(
                        &RSA_PKCS1_SHA256,
                        &ring::rand::SystemRandom::new(),
                        input.as_bytes(),
                        &mut sig,
                    )
                    .unwrap();
                    let token = format!("{input}.{}", B64.encode(sig));
                    (
                        200,
                        None,
                        serde_json::json!({"id_token": token, "access_token": "a", "token_type": "Bearer"}),
                    )
                }
                _ => (400, None, serde_json::json!({"error": "invalid_grant"})),
            }
        }
        _ => (404, None, serde_json::json!({})),
    };
    drop(s);
    let body = json.to_string();
    let reason = match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    if let Some(l) = location {
        out.push_str(&format!("Location: {l}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
}
