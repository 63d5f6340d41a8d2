//! Durations in config files: their spelling ("500ms", "2s", "1m30s"), how
//! they are printed back, and the range each duration key accepts.

use std::ops::RangeInclusive;
use std::time::Duration;

/// Accepted spelling of durations, repeated in every error about one.
pub const DURATION_HELP: &str = "a duration such as 500ms, 2s, 10m or 1h";

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// What each duration key accepts (assets/stint.example.toml says the same).
/// A minute record holds at most an hour (the protocol's limit); under a
/// second, records and timers would be noise.
pub const MINUTE: RangeInclusive<Duration> = secs(1)..=secs(3_600);
pub const SEGMENT: RangeInclusive<Duration> = secs(1)..=secs(86_400);
pub const IDLE_AFTER: RangeInclusive<Duration> = secs(1)..=secs(86_400);
/// A capture needs time to happen at all, and a stuck one must not hold a
/// segment's screenshot back for long.
pub const CAPTURE_TIMEOUT: RangeInclusive<Duration> = secs(1)..=secs(600);
/// As long as the server's review_delay_mins may be: a week.
pub const REVIEW_DELAY: RangeInclusive<Duration> = secs(0)..=secs(7 * 86_400);

/// Parses `500ms`, `2s`, `10m`, `1h`, `1d`, or a combination like `1m30s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let mut total_ms: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        total_ms = total_ms.checked_add(n.checked_mul(factor)?)?;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_millis(total_ms))
}

/// The inverse of [`parse_duration`] for messages: the largest unit that divides evenly.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, f) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms >= f && ms.is_multiple_of(f) {
            return format!("{}{unit}", ms / f);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_table() {
        let cases: &[(&str, Option<u64>)] = &[
            ("500ms", Some(500)),
            ("2s", Some(2_000)),
            ("10m", Some(600_000)),
            ("1h", Some(3_600_000)),
            ("1m30s", Some(90_000)),
            (" 3s ", Some(3_000)),
            ("", None),
            ("2", None),
            ("s", None),
            ("2x", None),
            ("-1s", None),
            ("1.5s", None),
            ("99999999999999999999s", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_duration(text).map(|d| d.as_millis() as u64),
                *want,
                "{text:?}"
            );
        }
    }

    #[test]
    fn format_duration_round_trips() {
        for text in ["2s", "10m", "1h", "1500ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
