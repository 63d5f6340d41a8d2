//! Who is calling the agents' API: [`Client`] is the address, limited per
//! address before anything else (so requests with bad tokens are limited
//! too) and stored truncated unless the policy says otherwise; [`Device`]
//! adds the device behind the bearer token, limited per device. Bodies are
//! read with [`body_limited`], which caps their size and their silences;
//! small ones are read before any of that ([`settle_small_body`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::fail::Fail;
use crate::limiter::Wait;
use crate::state::AppState;

fn rate_limited(whom: &str, per_sec: f64, wait: Wait) -> Fail {
    Fail::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("more than {per_sec} requests per second from {whom}"),
    )
    .retry_after(wait.0)
}

/// The calling address, admitted by its rate, in the form the store keeps.
pub struct Client {
    pub ip: String,
}

impl FromRequestParts<Arc<AppState>> for Client {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Client, Fail> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .ok_or_else(|| {
                Fail::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "no client address",
                )
            })?;
        state
            .limiter
            .address(addr.ip())
            .map_err(|w| rate_limited("this address", state.limits.address_rate_per_sec, w))?;
        let ip = if state.truncate_ip().await {
            stint_proto::truncate_ip(addr.ip())
        } else {
            addr.ip().to_string()
        };
        Ok(Client { ip })
    }
}

/// The device behind the request's bearer token, admitted by its rate.
pub struct Device {
    pub id: String,
    pub ip: String,
}

impl FromRequestParts<Arc<AppState>> for Device {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Device, Fail> {
        let Client { ip } = Client::from_request_parts(parts, state).await?;
        let unauthorized = |m: &str| Fail::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("missing `Authorization: Bearer <device token>`"))?
            .to_string();
        let seen_from = ip.clone();
        let id = state
            .blocking(move |s| s.authenticate(&token, &seen_from))
            .await??
            .ok_or_else(|| unauthorized("unknown or revoked device token; enroll again"))?;
        state
            .limiter
            .device(&id)
            .map_err(|w| rate_limited("this device", state.limits.rate_per_sec, w))?;
        Ok(Device { id, ip })
    }
}

/// The person behind an integration's access token (`/api/people/v1`),
/// admitted by the address's rate like every API call.
pub struct ApiCaller(pub crate::store::Person);

impl FromRequestParts<Arc<AppState>> for ApiCaller {
    type Rejection = Fail;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<ApiCaller, Fail> {
        Client::from_request_parts(parts, state).await?;
        let unauthorized = |m: &str| Fail::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("missing `Authorization: Bearer <access token>`"))?
            .to_string();
        let person = state
            .blocking(move |s| s.api_token_person(&token, crate::store::now_ms()))
            .await??
            .ok_or_else(|| {
                unauthorized(
                    "unknown, revoked or expired access token; make a new one under API tokens",
                )
            })?;
        Ok(ApiCaller(person))
    }
}

/// Bodies declared at most this long are read whole before anything may
/// refuse the request.
pub const SETTLE_BYTES: usize = 64 << 10;

/// Reads a small body before the extractors run. A refusal (a bad token, a
/// rate limit) sent while an HTTP/2 client still has its body to send ends
/// with a stream reset, and clients such as curl 7.88 report the reset
/// instead of the answer: 3 % of unauthenticated heartbeats under load.
/// Large bodies (batches, images) still stream into their routes' limits.
pub async fn settle_small_body(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if !declared_length(req.headers()).is_some_and(|n| n > 0 && n <= SETTLE_BYTES) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match body_limited(
        body,
        &parts.headers,
        SETTLE_BYTES,
        state.limits.idle_timeout,
    )
    .await
    {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(fail) => fail.into_response(),
    }
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Reads a body up to `limit` bytes; beyond it answers 413 naming the limit.
/// A body that breaks off or stalls for the idle timeout is 408, which
/// agents retry: the record is fine, the transfer was not.
pub async fn body_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    idle: Duration,
) -> Result<Bytes, Fail> {
    use futures_util::StreamExt;
    let too_large = || {
        Fail::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request body over the limit of {limit} bytes; send fewer records"),
        )
    };
    let incomplete = |why: String| {
        Fail::new(
            StatusCode::REQUEST_TIMEOUT,
            "incomplete_body",
            format!("the request body did not arrive whole ({why}); send it again"),
        )
    };
    let declared = declared_length(headers);
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    // A declared length is a claim, not a promise: reserve at most 1 MiB on it.
    let mut got = Vec::with_capacity(declared.unwrap_or(0).min(1 << 20));
    loop {
        let chunk = match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => return Err(incomplete(format!("nothing for {} s", idle.as_secs()))),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(incomplete(e.to_string())),
            Ok(Some(Ok(chunk))) => chunk,
        };
        if got.len() + chunk.len() > limit {
            return Err(too_large());
        }
        got.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(got))
}
