//! The records stint keeps locally and prints with `stint log --json`; the record
//! types themselves live in `stint-proto`, shared with the server.

use serde::{Deserialize, Serialize};
pub use stint_proto::{CaptureKind, CaptureRecord, MinuteRecord, SessionRecord};

/// What `stint log --json` prints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogOutput {
    pub sessions: Vec<SessionRecord>,
    pub minutes: Vec<MinuteRecord>,
    pub captures: Vec<CaptureRecord>,
    /// Idle spans still on this computer: pending, or decided and not yet
    /// uploaded.
    #[serde(default)]
    pub idle_spans: Vec<IdleSpan>,
    /// Private time that ended and is still on this computer.
    #[serde(default)]
    pub private_spans: Vec<stint_proto::PrivateSpanRecord>,
}

/// Queue-wide numbers for `stint status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    pub pending_minutes: u64,
    pub pending_captures: u64,
    /// Bytes on disk: database files plus stored images.
    pub queue_bytes: u64,
    pub tracked_seconds_today: u64,
    pub active_seconds_today: u64,
    pub last_minute: Option<String>,
    /// Records the server refused for good (see `stint status`).
    pub dead_letters: u64,
}

/// A minute's counts for people (`stint log`, the tray's activity view): the
/// injected part beside each count that has one, and "unknown" for a minute
/// the agent could not count, which is not the same as no input.
pub fn counts_text(m: &MinuteRecord) -> String {
    let count = |name: &str, n: u32, synthetic: u32| {
        if synthetic > 0 {
            format!("{name} {n:>4} ({synthetic} synthetic)")
        } else {
            format!("{name} {n:>4}")
        }
    };
    let text = [
        count("keys", m.keystrokes, m.synthetic_keystrokes),
        count("clicks", m.clicks, m.synthetic_clicks),
        count("scrolls", m.scrolls, 0),
    ]
    .join("  ");
    if m.counts_unknown {
        format!("{text}  (counts unknown)")
    } else {
        text
    }
}

pub use stint_common::time::rfc3339;

/// Where the sync loop is; persisted for `stint status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum SyncState {
    /// No `[server] url`: nothing leaves this machine.
    Unconfigured,
    /// No device token yet.
    Unenrolled,
    /// Queue empty; waiting for new records.
    Idle,
    Uploading,
    /// Waiting to retry after a failure.
    Backoff,
    /// The server refused our credentials twice; uploads stop until a restart
    /// or a new enrollment token.
    Blocked(String),
}

/// What `stint status` shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    #[serde(flatten)]
    pub state: SyncState,
    pub server: Option<String>,
    pub device_id: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// Why the server's current policy is refused (the last good one holds);
    /// kept until a valid one arrives, unlike `last_error`, which the next
    /// success clears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
}

/// Local UTC offset in seconds at the given instant (DST-aware).
pub fn local_offset_at(ms: i64) -> i32 {
    use chrono::Offset;
    let utc = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).unwrap_or_default();
    utc.with_timezone(&chrono::Local)
        .offset()
        .fix()
        .local_minus_utc()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_text_table() {
        let m = |keys, synthetic, unknown| MinuteRecord {
            id: "m".into(),
            start: String::new(),
            utc_offset: 0,
            seconds: 60,
            keystrokes: keys,
            clicks: 2,
            scrolls: 0,
            synthetic_keystrokes: synthetic,
            synthetic_clicks: 0,
            counts_unknown: unknown,
            idle: false,
            title: None,
            exe_path: None,
            app: None,
            session_id: "s".into(),
            from_secs: 0,
            project_id: None,
            task_id: None,
            privacy_rule: None,
            screenshot_skipped: None,
        };
        for (minute, want) in [
            (m(12, 0, false), "keys   12  clicks    2  scrolls    0"),
            (
                m(12, 3, false),
                "keys   12 (3 synthetic)  clicks    2  scrolls    0",
            ),
            (
                m(0, 0, true),
                "keys    0  clicks    2  scrolls    0  (counts unknown)",
            ),
        ] {
            assert_eq!(counts_text(&minute), want);
        }
    }
}

/// A span of idle time as the queue keeps it: pending until someone (or
/// the policy's default, after a day) decides, then waiting for upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdleSpan {
    pub id: String,
    pub start: String,
    pub end: String,
    pub utc_offset: i32,
    /// `None`: nobody decided yet.
    pub decision: Option<stint_proto::Decision>,
    #[serde(default)]
    pub auto: bool,
    #[serde(default, flatten)]
    pub work: stint_proto::Work,
    pub decided_at: Option<String>,
}

impl IdleSpan {
    /// The record the server receives; `None` while the span is pending.
    pub fn record(&self) -> Option<stint_proto::IdleSpanRecord> {
        Some(stint_proto::IdleSpanRecord {
            id: self.id.clone(),
            start: self.start.clone(),
            end: self.end.clone(),
            utc_offset: self.utc_offset,
            decision: self.decision?,
            auto: self.auto,
            work: self.work.clone(),
            decided_at: self.decided_at.clone()?,
        })
    }

    /// "10:42-11:17 (35 min)" in local time.
    pub fn span_text(&self) -> String {
        let mins = (parse_ms(&self.end) - parse_ms(&self.start)) / 60_000;
        format!(
            "{}-{} ({mins} min)",
            local_hm(&self.start),
            local_hm(&self.end)
        )
    }
}

/// "14:05": an RFC 3339 instant in the user's own time zone, for people.
pub fn local_hm(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// Epoch milliseconds of an RFC 3339 time; 0 when it is not one.
pub fn parse_ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}
