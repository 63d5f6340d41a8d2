//! The HTTP side of sync: the client (TLS, proxy, no redirects),
//! and sorting every answer (or the failure to get one) into an [`Outcome`].
//! Everything here reads what a server sent, so nothing here may trust it:
//! bodies are capped, texts are shortened and escaped before they reach a
//! log line or `stint status`.

use std::path::Path;
use std::time::Duration;

use stint_proto::{Accepted, ApiError, CaptureRecord};

use super::{tls, SyncError};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer stint reads: its bodies are a policy, ids and error
/// texts, a few KB at most.
pub(super) const MAX_REPLY_BYTES: usize = 1 << 20;
/// The most of a server's text that goes into a log line or status.
const MAX_QUOTED_CHARS: usize = 200;

/// How one request ended, from the queue's point of view.
#[derive(Debug)]
pub(super) enum Outcome<T> {
    Ok(T),
    /// Transient: connection, timeout, 408, 429, 5xx. Retry after a delay.
    Retry {
        why: String,
        after: Option<Duration>,
    },
    /// 401: the device token is no longer accepted.
    Unauthorized(String),
    /// 413: the body was too large.
    TooLarge(String),
    /// Any other 4xx: this record (or one in the batch) will never be accepted.
    Rejected {
        why: String,
        record_id: Option<String>,
    },
}

pub fn build_client(cfg: &crate::config::Server) -> Result<reqwest::Client, SyncError> {
    let tls = tls::client_config(cfg.ca_file.as_deref(), cfg.pin_sha256.as_deref())?;
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(concat!("stint/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(REQUEST_TIMEOUT)
        // A redirect would carry the token wherever the server points, plain
        // http included: none is followed, so every request goes to
        // [server] url, whose scheme config checked (https, or http to
        // localhost only).
        .redirect(reqwest::redirect::Policy::none());
    if let Some(p) = &cfg.proxy {
        let proxy =
            reqwest::Proxy::all(p).map_err(|e| SyncError::Proxy(p.clone(), e.to_string()))?;
        b = b.proxy(proxy);
    }
    b.build().map_err(|e| SyncError::Client(tls::explain(&e)))
}

/// One capture upload, streamed from its file. A file that cannot be opened is
/// the record's fault, not the server's: it comes back as `Rejected`.
pub(super) async fn put_capture(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    rec: &CaptureRecord,
    path: &Path,
) -> Outcome<Accepted> {
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            return Outcome::Rejected {
                why: format!("image file {}: {e}", path.display()),
                record_id: Some(rec.id.clone()),
            }
        }
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(rec.bytes);
    // Streamed from disk: an image is never held whole in memory here.
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    let sent = http
        .put(format!("{url}/api/v1/captures/{}", rec.id))
        .bearer_auth(token)
        .query(&rec.meta())
        .header(reqwest::header::CONTENT_LENGTH, len)
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("image/{}", rec.format),
        )
        .body(body)
        .send()
        .await;
    classify::<Accepted>(sent).await
}

/// Sorts a response (or the failure to get one) into an `Outcome`.
pub(super) async fn classify<T: serde::de::DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Outcome<T> {
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Retry {
                why: tls::explain(&e),
                after: None,
            }
        }
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = match read_capped(resp).await {
        Ok(b) => b,
        Err(why) => return Outcome::Retry { why, after: None },
    };
    if status.is_success() {
        return match serde_json::from_slice::<T>(&body) {
            Ok(v) => Outcome::Ok(v),
            // A 2xx we cannot read is the server's bug, not the record's: retry.
            Err(e) => Outcome::Retry {
                why: format!(
                    "server answered {status} with a body stint cannot read: {}",
                    escape(&e.to_string())
                ),
                after: None,
            },
        };
    }
    let api: Option<ApiError> = serde_json::from_slice(&body).ok();
    let why = match &api {
        // One quote of both, so a long code and a long message together
        // still fit the bound a status line has.
        Some(a) => format!("{status} {}", escape(&format!("{}: {}", a.code, a.message))),
        None => format!("{status}: {}", escape(&String::from_utf8_lossy(&body))),
    };
    match status.as_u16() {
        300..=399 => Outcome::Retry {
            why: format!(
                "the server answered {status}, a redirect to {}; stint follows no redirects \
                 (the token would go along): set [server] url to the address that answers",
                location
                    .as_deref()
                    .map(escape)
                    .unwrap_or_else(|| "nowhere".into())
            ),
            after: retry_after,
        },
        401 | 403 => Outcome::Unauthorized(why),
        // Headers too large: about the request's headers (the token), never a
        // record's fault, so nothing is set aside for it.
        431 => Outcome::Retry {
            why,
            after: retry_after,
        },
        413 => Outcome::TooLarge(why),
        408 | 429 | 500..=599 => Outcome::Retry {
            why,
            after: retry_after,
        },
        400..=499 => Outcome::Rejected {
            why,
            record_id: api.and_then(|a| a.record_id),
        },
        _ => Outcome::Retry {
            why: format!("unexpected answer {why}"),
            after: retry_after,
        },
    }
}

/// Reads a body up to [`MAX_REPLY_BYTES`], refusing (without reading on) a
/// longer one.
async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_long = || format!("the server's answer is longer than {MAX_REPLY_BYTES} bytes");
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_REPLY_BYTES as u64)
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Err(too_long());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(format!("reading the answer: {}", tls::explain(&e))),
        }
    }
}

/// A server's text as it may appear in a log line or status: control
/// characters escaped so it cannot forge lines, and at most
/// [`MAX_QUOTED_CHARS`] characters of that (cut between characters, never
/// inside one or inside an escape), with "…" where it was cut.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let n = piece.chars().count();
        if used + n > MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        out.push_str(&piece);
        used += n;
    }
    out
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
