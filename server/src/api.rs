//! The `/api/v1` HTTP surface: enrollment, batch minutes, one capture per
//! request, heartbeat. Every refusal is a JSON `ApiError` with a stable code.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use stint_proto::{
    Accepted, ApiError, CaptureMeta, EnrollRequest, EnrollResponse, HeartbeatResponse, MinuteBatch,
};

use crate::store::{Enrolled, Store, StoreError};

/// Size and rate limits; see `stint-server serve --help`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_batch_bytes: usize,
    pub max_capture_bytes: usize,
    /// Requests per second per device; 0 turns rate limiting off.
    pub rate_per_sec: f64,
    /// Longest silence while a body arrives (and, in the listener, during the
    /// TLS handshake, the request head and between requests).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batch_bytes: 4 << 20,
            max_capture_bytes: 32 << 20,
            rate_per_sec: 200.0,
            idle_timeout: Duration::from_secs(20),
        }
    }
}

/// Answers to force on the next requests of a route, for testing clients
/// against a misbehaving server: `minutes=500,429;captures=503`. A code may
/// carry a Retry-After (`429@0`) or, for a redirect, a Location
/// (`307>http://127.0.0.1:9/elsewhere`).
#[derive(Debug, Default)]
pub struct Faults(HashMap<String, VecDeque<Fault>>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: u16,
    pub retry_after: Option<u64>,
    pub location: Option<String>,
}

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut map: HashMap<String, VecDeque<Fault>> = HashMap::new();
        for part in spec.split(';').filter(|p| !p.trim().is_empty()) {
            let (route, codes) = part.split_once('=').ok_or_else(|| {
                format!("{part:?}: expected ROUTE=CODE[,CODE...], e.g. minutes=500,429")
            })?;
            let route = route.trim();
            if !["enroll", "minutes", "captures", "heartbeat"].contains(&route) {
                return Err(format!(
                    "{route:?}: routes are enroll, minutes, captures, heartbeat"
                ));
            }
            for c in codes.split(',') {
                let bad = || {
                    format!("{c:?}: expected an HTTP status 300-599, optionally @RETRY_AFTER_SECS or >LOCATION")
                };
                let (code, location) = match c.split_once('>') {
                    Some((code, to)) => (code, Some(to.trim().to_string())),
                    None => (c, None),
                };
                let (code, retry_after) = match code.split_once('@') {
                    Some((code, secs)) => (code, Some(secs.trim().parse().map_err(|_| bad())?)),
                    None => (code, None),
                };
                let code: u16 = code
                    .trim()
                    .parse()
                    .ok()
                    .filter(|c| (300..600).contains(c))
                    .ok_or_else(bad)?;
                map.entry(route.to_string()).or_default().push_back(Fault {
                    code,
                    retry_after,
                    location,
                });
            }
        }
        Ok(Faults(map))
    }

    fn next(&mut self, route: &str) -> Option<Fault> {
        self.0.get_mut(route)?.pop_front()
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct AppState {
    pub store: Arc<Store>,
    pub limits: Limits,
    buckets: Mutex<HashMap<String, Bucket>>,
    faults: Mutex<Faults>,
    pub metrics: crate::ops::Metrics,
    /// Set once at start when OIDC login is configured.
    pub oidc: std::sync::OnceLock<crate::web::oidc::Oidc>,
}

impl AppState {
    pub fn new(store: Arc<Store>, limits: Limits, faults: Faults) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            limits,
            buckets: Mutex::new(HashMap::new()),
            faults: Mutex::new(faults),
            metrics: Default::default(),
            oidc: Default::default(),
        })
    }

    /// Token bucket per device (burst of two seconds' worth); the error carries
    /// how long until the next request may pass.
    fn rate_limit(&self, device: &str) -> Result<(), Fail> {
        let rate = self.limits.rate_per_sec;
        if rate <= 0.0 {
            return Ok(());
        }
        let burst = (rate * 2.0).max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let b = buckets.entry(device.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
        Err(Fail::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("more than {rate} requests per second from this device"),
        )
        .retry_after(wait))
    }

    fn fault(&self, route: &str) -> Result<(), Fail> {
        let code = self
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next(route);
        match code {
            None => Ok(()),
            Some(f) => {
                let c = f.code;
                let status = StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut fail = Fail::new(status, "injected", format!("injected fault {c}"));
                fail.location = f.location;
                Err(match f.retry_after {
                    Some(secs) => fail.retry_after(secs),
                    None if c == 429 || c == 503 => fail.retry_after(1),
                    None => fail,
                })
            }
        }
    }
}

/// A refusal: status, JSON body and optional Retry-After.
#[derive(Debug)]
pub struct Fail {
    status: StatusCode,
    body: ApiError,
    retry_after: Option<u64>,
    location: Option<String>,
}

impl Fail {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Fail {
        Fail {
            status,
            body: ApiError {
                code: code.into(),
                message: message.into(),
                record_id: None,
            },
            retry_after: None,
            location: None,
        }
    }

    fn retry_after(mut self, secs: u64) -> Fail {
        self.retry_after = Some(secs);
        self
    }

    fn record(mut self, id: &str) -> Fail {
        self.body.record_id = Some(id.into());
        self
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, s.to_string().parse().expect("digits"));
        }
        if let Some(to) = self.location.and_then(|l| l.parse().ok()) {
            resp.headers_mut().insert(header::LOCATION, to);
        }
        resp
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        match e {
            StoreError::Conflict(id) => Fail::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("record {id} was uploaded by another device"),
            )
            .record(&id),
            // The database or the bucket is away for a moment: the agent
            // keeps its copy and comes back, here or at another replica.
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "storage unavailable");
                Fail::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server's storage is unavailable; retry later",
                )
                .retry_after(5)
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                Fail::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage",
                    "the server could not store the records; retry later",
                )
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Fail> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            Fail::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("worker failed: {e}"),
            )
        })?
        .map_err(Fail::from)
}

/// Reads a body up to `limit` bytes; beyond it answers 413 naming the limit.
/// A body that breaks off or stalls for the idle timeout is 408, which
/// agents retry: the record is fine, the transfer was not.
async fn body_limited(
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
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
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

/// The address to store, truncated unless the policy says otherwise. The
/// policy read blocks (PostgreSQL's client does), so it runs off the runtime.
async fn client_ip(state: &AppState, addr: SocketAddr) -> String {
    let store = state.store.clone();
    let truncate = blocking(move || store.policy())
        .await
        .map(|p| p.truncate_ip.unwrap_or(true))
        .unwrap_or(true);
    if truncate {
        stint_proto::truncate_ip(addr.ip())
    } else {
        addr.ip().to_string()
    }
}

async fn authenticate(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    ip: &str,
) -> Result<String, Fail> {
    let unauthorized = |m: &str| Fail::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("missing `Authorization: Bearer <device token>`"))?
        .to_string();
    let (store, ip) = (state.store.clone(), ip.to_string());
    blocking(move || store.authenticate(&token, &ip))
        .await?
        .ok_or_else(|| unauthorized("unknown or revoked device token; enroll again"))
}

/// The gate every device call passes: who is calling (and from where), within
/// its rate, and any fault a test asked this route to answer with.
async fn admit(
    state: &Arc<AppState>,
    addr: SocketAddr,
    headers: &HeaderMap,
    route: &str,
) -> Result<(String, String), Fail> {
    let ip = client_ip(state, addr).await;
    let device = authenticate(state, headers, &ip).await?;
    state.rate_limit(&device)?;
    state.fault(route)?;
    Ok((device, ip))
}

/// A 400 naming the first record of `records` that fails validation.
fn first_invalid<'a>(
    list: &str,
    records: impl Iterator<Item = (&'a str, Result<(), stint_proto::Invalid>)>,
) -> Result<(), Fail> {
    for (i, (id, checked)) in records.enumerate() {
        if let Err(e) = checked {
            return Err(Fail::new(
                StatusCode::BAD_REQUEST,
                "invalid_record",
                format!("{list}[{i}] (id {id:?}): {e}"),
            )
            .record(id));
        }
    }
    Ok(())
}

fn bad_json(what: &str, e: impl std::fmt::Display) -> Fail {
    Fail::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("{what} is not valid: {e}"),
    )
}

async fn enroll(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EnrollResponse>, Fail> {
    state.fault("enroll")?;
    let bytes = body_limited(body, &headers, 64 << 10, state.limits.idle_timeout).await?;
    let req: EnrollRequest =
        serde_json::from_slice(&bytes).map_err(|e| bad_json("enroll body", e))?;
    for (field, v) in [
        ("hostname", &req.hostname),
        ("os_type", &req.os_type),
        ("os_version", &req.os_version),
        ("os_user", &req.os_user),
        ("agent_version", &req.agent_version),
    ] {
        if v.len() > stint_proto::MAX_TEXT {
            return Err(bad_json(
                field,
                format!("longer than {} bytes", stint_proto::MAX_TEXT),
            ));
        }
    }
    let ip = client_ip(&state, addr).await;
    let store = state.store.clone();
    let hostname = req.hostname.clone();
    let previous = req.previous_device_id.clone();
    match blocking(move || store.enroll(&req, &ip)).await? {
        Enrolled::Device {
            id: device_id,
            token: device_token,
        } => {
            // The hostname is the client's to choose: Debug-quoted, so a newline in
            // it cannot forge a log line.
            tracing::info!(%device_id, ?hostname, ?previous, "device enrolled");
            Ok(Json(EnrollResponse {
                device_id,
                device_token,
            }))
        }
        Enrolled::BadToken(why) => Err(Fail::new(StatusCode::UNAUTHORIZED, "unauthorized", why)),
        Enrolled::Revoked(id) => Err(Fail::new(
            StatusCode::FORBIDDEN,
            "device_revoked",
            format!("device {id} was revoked by the server's admin; it may not enroll again"),
        )),
    }
}

async fn minutes(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, Fail> {
    let (device, ip) = admit(&state, addr, &headers, "minutes").await?;
    let bytes = body_limited(
        body,
        &headers,
        state.limits.max_batch_bytes,
        state.limits.idle_timeout,
    )
    .await?;
    let batch: MinuteBatch =
        serde_json::from_slice(&bytes).map_err(|e| bad_json("minute batch", e))?;
    first_invalid(
        "sessions",
        batch.sessions.iter().map(|s| (s.id.as_str(), s.validate())),
    )?;
    first_invalid(
        "minutes",
        batch.minutes.iter().map(|m| (m.id.as_str(), m.validate())),
    )?;
    let store = state.store.clone();
    let (stored, duplicates) = blocking(move || store.upsert_batch(&device, &batch, &ip)).await?;
    let m = &state.metrics;
    m.minutes_stored.fetch_add(stored, Ordering::Relaxed);
    m.minutes_repeated.fetch_add(duplicates, Ordering::Relaxed);
    Ok(Json(Accepted { stored, duplicates }))
}

async fn capture(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    query: Result<Query<CaptureMeta>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, Fail> {
    let (device, ip) = admit(&state, addr, &headers, "captures").await?;
    let invalid = |e: String| {
        Fail::new(
            StatusCode::BAD_REQUEST,
            "invalid_record",
            format!("capture {id:?}: {e}"),
        )
        .record(&id)
    };
    stint_proto::validate_id(&id).map_err(|e| invalid(e.to_string()))?;
    let Query(meta) = query.map_err(|e| invalid(e.body_text()))?;
    meta.validate().map_err(|e| invalid(e.to_string()))?;
    let data = body_limited(
        body,
        &headers,
        state.limits.max_capture_bytes,
        state.limits.idle_timeout,
    )
    .await?;
    if data.is_empty() {
        return Err(invalid("the body (the image) is empty".into()));
    }
    let store = state.store.clone();
    let new = blocking(move || store.upsert_capture(&device, &id, &meta, &data, &ip)).await?;
    match new {
        true => &state.metrics.captures_stored,
        false => &state.metrics.captures_repeated,
    }
    .fetch_add(1, Ordering::Relaxed);
    Ok(Json(Accepted {
        stored: u64::from(new),
        duplicates: u64::from(!new),
    }))
}

async fn heartbeat(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HeartbeatResponse>, Fail> {
    let (device, _) = admit(&state, addr, &headers, "heartbeat").await?;
    let bytes = body_limited(body, &headers, 64 << 10, state.limits.idle_timeout).await?;
    let hb: stint_proto::Heartbeat =
        serde_json::from_slice(&bytes).map_err(|e| bad_json("heartbeat body", e))?;
    tracing::debug!(%device, pending_minutes = hb.pending_minutes, pending_captures = hb.pending_captures, "heartbeat");
    let store = state.store.clone();
    // The effective policy of the device's person: organisation, teams, person.
    let policy = blocking(move || store.device_policy(&device)).await?;
    Ok(Json(HeartbeatResponse {
        policy,
        server_time: crate::store::rfc3339(crate::store::now_ms()),
    }))
}

async fn not_found() -> Fail {
    Fail::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see docs/protocol.md for /api/v1",
    )
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/minutes", post(minutes))
        .route("/api/v1/captures/{id}", put(capture))
        .route("/api/v1/heartbeat", post(heartbeat))
        .fallback(not_found)
        // Bodies are limited per route above, with a JSON 413.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        let f = |code, retry_after, location: Option<&str>| Fault {
            code,
            retry_after,
            location: location.map(str::to_string),
        };
        let mut faults =
            Faults::parse("minutes=500,429@0; captures=503; heartbeat=307>http://x:9/y").unwrap();
        assert_eq!(faults.next("minutes"), Some(f(500, None, None)));
        assert_eq!(faults.next("minutes"), Some(f(429, Some(0), None)));
        assert_eq!(faults.next("minutes"), None);
        assert_eq!(faults.next("captures"), Some(f(503, None, None)));
        assert_eq!(
            faults.next("heartbeat"),
            Some(f(307, None, Some("http://x:9/y")))
        );
        for bad in [
            "minutes",
            "uploads=500",
            "minutes=200",
            "minutes=x",
            "minutes=429@x",
        ] {
            assert!(Faults::parse(bad).is_err(), "{bad}");
        }
    }
}
