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
}
