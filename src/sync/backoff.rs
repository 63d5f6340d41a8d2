//! Retry delays: exponential with full jitter and a cap, never under a second,
//! and the server's Retry-After as a lower bound: a server that keeps failing
//! still sees the waits grow, whatever Retry-After it sends (0 included).
//! Pure, so the policy is unit-tested exactly.

use std::time::Duration;

pub const BASE: Duration = Duration::from_millis(500);
pub const CAP: Duration = Duration::from_secs(300);
/// No wait is shorter: a failing server is never hammered.
pub const MIN_WAIT: Duration = Duration::from_secs(1);
/// A Retry-After longer than this is treated as this: a misconfigured server must
/// not park an agent for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Delay before retry number `attempt` (0 = first retry). `unit` is a uniform
/// random number in [0, 1): full jitter spreads a fleet's retries so a
/// recovering server is not hit by every agent at once.
pub fn delay(attempt: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
    let ceiling = BASE
        .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(CAP)
        .min(CAP);
    let backoff = ceiling.mul_f64(unit.clamp(0.0, 1.0)).max(MIN_WAIT);
    match retry_after {
        Some(ra) => ra.min(MAX_RETRY_AFTER).max(backoff),
        None => backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_table() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let cases = [
            (0, None, 0.0, MIN_WAIT),
            (0, None, 0.5, MIN_WAIT), // 250 ms: floored
            (
                2,
                None,
                0.999_999,
                s(1) + ms(999) + Duration::from_nanos(998_000),
            ),
            (3, None, 0.5, s(2)),
            (20, None, 0.5, s(150)), // capped at 300 s before jitter
            (u32::MAX, None, 1.0, CAP),
            (0, Some(s(7)), 0.5, s(7)), // Retry-After over a shorter backoff
            (0, Some(s(0)), 0.5, MIN_WAIT), // Retry-After: 0 is still a second
            (9, Some(s(0)), 0.5, s(128)), // and backoff keeps growing under it
            (9, Some(s(86_400)), 0.5, MAX_RETRY_AFTER),
        ];
        for (attempt, ra, unit, want) in cases {
            assert_eq!(
                delay(attempt, ra, unit),
                want,
                "attempt {attempt} {ra:?} {unit}"
            );
        }
    }
}
