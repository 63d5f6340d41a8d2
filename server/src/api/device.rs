//! The agents' endpoints: enrollment, batch minutes, one capture per
//! request, heartbeat. Who calls comes from the `Client` and `Device`
//! extractors; what they send is checked against stint-proto before the
//! store sees it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use stint_proto::{
    Accepted, CaptureMeta, EnrollRequest, EnrollResponse, HeartbeatResponse, MinuteBatch,
};

use super::extract::{body_limited, Client, Device};
use super::fail::Fail;
use crate::state::AppState;
use crate::store::Enrolled;

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

pub async fn enroll(
    State(state): State<Arc<AppState>>,
    Client { ip }: Client,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EnrollResponse>, Fail> {
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
    let hostname = req.hostname.clone();
    let previous = req.previous_device_id.clone();
    match state.blocking(move |s| s.enroll(&req, &ip)).await?? {
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

pub async fn minutes(
    State(state): State<Arc<AppState>>,
    Device { id: device, ip }: Device,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, Fail> {
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
    first_invalid(
        "idle_spans",
        batch
            .idle_spans
            .iter()
            .map(|s| (s.id.as_str(), s.validate())),
    )?;
    first_invalid(
        "private_spans",
        batch
            .private_spans
            .iter()
            .map(|s| (s.id.as_str(), s.validate())),
    )?;
    let (stored, duplicates) = state
        .blocking(move |s| s.upsert_batch(&device, &batch, &ip))
        .await??;
    let m = &state.metrics;
    m.minutes_stored.fetch_add(stored, Ordering::Relaxed);
    m.minutes_repeated.fetch_add(duplicates, Ordering::Relaxed);
    Ok(Json(Accepted { stored, duplicates }))
}

pub async fn capture(
    State(state): State<Arc<AppState>>,
    Device { id: device, ip }: Device,
    Path(id): Path<String>,
    query: Result<Query<CaptureMeta>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, Fail> {
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
    let new = state
        .blocking(move |s| s.upsert_capture(&device, &id, &meta, &data, &ip))
        .await??;
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

pub async fn heartbeat(
    State(state): State<Arc<AppState>>,
    Device { id: device, .. }: Device,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HeartbeatResponse>, Fail> {
    let bytes = body_limited(body, &headers, 64 << 10, state.limits.idle_timeout).await?;
    let hb: stint_proto::Heartbeat =
        serde_json::from_slice(&bytes).map_err(|e| bad_json("heartbeat body", e))?;
    tracing::debug!(%device, pending_minutes = hb.pending_minutes, pending_captures = hb.pending_captures, "heartbeat");
    // The effective policy of the device's person: organisation, teams,
    // person; and the projects that person may track time on.
    let (policy, work, sealed_to) = state
        .blocking(move |s| {
            let policy = s.device_policy(&device)?;
            // Sealing on: the keys of everyone who may see these captures.
            let sealed_to = match policy.e2e_screenshots {
                Some(true) => Some(s.sealed_to(s.device_person(&device)?.as_deref())?),
                _ => None,
            };
            Ok::<_, crate::store::StoreError>((policy, s.device_work(&device)?, sealed_to))
        })
        .await??;
    Ok(Json(HeartbeatResponse {
        policy,
        work,
        sealed_to,
        server_time: crate::store::rfc3339(crate::store::now_ms()),
    }))
}
