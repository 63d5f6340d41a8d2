//! Private time on the wire: a span the employee kept to themselves, in
//! which nothing was recorded. It carries when, and nothing else.

use serde::{Deserialize, Serialize};

use crate::validate::{check, check_id, check_offset, check_time, Invalid};

/// The longest private span a record may name: one day, which no policy
/// allowance exceeds.
pub const MAX_PRIVATE_SPAN_SECS: i64 = 86_400;

/// A span of private time: tracking was on and nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateSpanRecord {
    pub id: String,
    /// RFC 3339 UTC.
    pub start: String,
    pub end: String,
    pub utc_offset: i32,
}

impl PrivateSpanRecord {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_id("id", &self.id)?;
        check_time("start", &self.start)?;
        check_time("end", &self.end)?;
        check_offset(self.utc_offset)?;
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).map(|t| t.timestamp_millis());
        if let (Ok(s), Ok(e)) = (at(&self.start), at(&self.end)) {
            check(
                s < e && e - s <= MAX_PRIVATE_SPAN_SECS * 1000,
                "end",
                || {
                    format!(
                        "{} is not after {} by at most {MAX_PRIVATE_SPAN_SECS} s",
                        self.end, self.start
                    )
                },
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_checked_field_by_field() {
        let ok = PrivateSpanRecord {
            id: "0190a0a0-0000-7000-8000-000000000001".into(),
            start: "2026-12-04T10:00:00.000Z".into(),
            end: "2026-12-04T10:15:00.000Z".into(),
            utc_offset: 3600,
        };
        assert_eq!(ok.validate(), Ok(()));
        for (bad, field) in [
            (
                PrivateSpanRecord {
                    end: ok.start.clone(),
                    ..ok.clone()
                },
                "end",
            ),
            (
                PrivateSpanRecord {
                    end: "2026-12-05T10:00:01.000Z".into(),
                    ..ok.clone()
                },
                "end",
            ),
            (
                PrivateSpanRecord {
                    start: "yesterday".into(),
                    ..ok.clone()
                },
                "start",
            ),
            (
                PrivateSpanRecord {
                    id: String::new(),
                    ..ok.clone()
                },
                "id",
            ),
        ] {
            assert_eq!(bad.validate().unwrap_err().field, field, "{bad:?}");
        }
    }
}
