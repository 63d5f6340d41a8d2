//! The records stint keeps, as they are stored locally and printed by `stint log --json`.
//!
//! Field names here are an interface: the server export (`stint-server export --json`)
//! repeats them, so rename nothing without a migration note in docs/protocol.md.

use serde::{Deserialize, Serialize};

/// Activity of one wall-clock minute. Only counts: never which keys, never text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteRecord {
    /// Client-generated UUIDv7, the idempotency key for upload.
    pub id: String,
    /// Start of the minute, RFC 3339 UTC.
    pub start: String,
    /// Local offset from UTC in seconds at that minute (east positive).
    pub utc_offset: i32,
    /// Seconds of the minute that were actually tracked (a minute in which tracking
    /// started or stopped is partial).
    pub seconds: u32,
    pub keystrokes: u32,
    pub clicks: u32,
    pub scrolls: u32,
    pub idle: bool,
    pub title: Option<String>,
    pub exe_path: Option<String>,
    pub app: Option<String>,
    pub session_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureKind {
    Screenshot,
    Webcam,
}

impl CaptureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureKind::Screenshot => "screenshot",
            CaptureKind::Webcam => "webcam",
        }
    }

    pub fn parse(s: &str) -> Option<CaptureKind> {
        match s {
            "screenshot" => Some(CaptureKind::Screenshot),
            "webcam" => Some(CaptureKind::Webcam),
            _ => None,
        }
    }
}

/// One image: a monitor's screenshot or a webcam frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRecord {
    pub id: String,
    pub kind: CaptureKind,
    /// RFC 3339 UTC with milliseconds.
    pub taken_at: String,
    pub utc_offset: i32,
    /// Monitor (or camera) name as the OS reports it.
    pub monitor: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Image encoding, e.g. "jpeg".
    pub format: String,
    pub session_id: String,
}

/// Facts recorded once each time tracking starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub started_at: String,
    pub utc_offset: i32,
    pub os_type: String,
    pub os_version: String,
    pub kernel: String,
    pub hostname: String,
    pub os_user: String,
    pub agent_version: String,
    /// Local addresses, truncated to networks when privacy.truncate_ip is on.
    pub ip_addresses: Vec<String>,
}

/// What `stint log --json` prints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogOutput {
    pub sessions: Vec<SessionRecord>,
    pub minutes: Vec<MinuteRecord>,
    pub captures: Vec<CaptureRecord>,
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
}

/// Formats epoch milliseconds as RFC 3339 UTC, seconds precision when whole.
pub fn rfc3339(ms: i64) -> String {
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).unwrap_or_default();
    if ms % 1000 == 0 {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
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
    fn rfc3339_table() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn kind_round_trips() {
        for k in [CaptureKind::Screenshot, CaptureKind::Webcam] {
            assert_eq!(CaptureKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(CaptureKind::parse("video"), None);
    }
}
