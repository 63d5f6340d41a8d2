//! Time arithmetic for the recorder: wall-clock alignment, suspend/clock-jump detection
//! and the idle rule. Pure functions, so every edge case is a table row in a unit test.

use std::time::{Duration, Instant};

/// A reading of both clocks at one moment. Wall time decides which minute a record
/// belongs to; the monotonic clock (which stops during suspend on Linux and never
/// jumps) tells whether the wall clock can be trusted between two readings.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Milliseconds since the Unix epoch, UTC.
    pub wall_ms: i64,
    pub mono: Instant,
}

impl Now {
    pub fn read() -> Now {
        Now {
            wall_ms: stint_common::time::now_ms(),
            mono: Instant::now(),
        }
    }

    /// The monotonic instant at which the wall clock should read `wall_ms`,
    /// assuming it keeps pace; used to sleep towards wall-clock deadlines.
    pub fn mono_at(&self, wall_ms: i64) -> Instant {
        let delta = wall_ms - self.wall_ms;
        if delta >= 0 {
            self.mono + Duration::from_millis(delta as u64)
        } else {
            self.mono
                .checked_sub(Duration::from_millis(delta.unsigned_abs()))
                .unwrap_or(self.mono)
        }
    }
}

/// Start of the period containing `t_ms`, periods being aligned to the Unix epoch
/// (so with a 60 s minute, records start at :00 of every UTC minute).
pub fn align_down(t_ms: i64, period_ms: i64) -> i64 {
    t_ms - t_ms.rem_euclid(period_ms)
}

/// How the time between two readings looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// Both clocks advanced together by about what was expected.
    Normal,
    /// The wall clock advanced much more than the monotonic one: the machine was
    /// suspended, or the clock was set forward.
    WallAhead,
    /// The wall clock advanced much less (or went back): the clock was set back.
    WallBehind,
    /// Both clocks agree, but far more time passed than expected: the process was
    /// stopped (SIGSTOP, debugger, a starved VM).
    Stalled,
}

/// Slack allowed between the clocks before a reading is treated as disrupted:
/// a quarter of the period, kept between 250 ms and 5 s so short test minutes and
/// real minutes both tolerate ordinary timer and NTP-slew jitter.
pub fn tolerance_ms(period_ms: i64) -> i64 {
    (period_ms / 4).clamp(250, 5_000)
}

/// Classifies the interval between opening and closing a minute.
pub fn continuity(
    wall_elapsed_ms: i64,
    mono_elapsed_ms: i64,
    expected_ms: i64,
    tol_ms: i64,
) -> Continuity {
    let drift = wall_elapsed_ms - mono_elapsed_ms;
    if drift > tol_ms {
        Continuity::WallAhead
    } else if drift < -tol_ms {
        Continuity::WallBehind
    } else if mono_elapsed_ms > expected_ms + tol_ms {
        Continuity::Stalled
    } else {
        Continuity::Normal
    }
}

/// A minute is idle when it saw no counted input and the user has been away for at
/// least `idle_after` and for the whole observed part of the minute (so mouse motion
/// alone keeps a minute active).
pub fn is_idle(input_events: u64, idle_ms: u64, observed_ms: u64, idle_after_ms: u64) -> bool {
    input_events == 0 && idle_ms >= idle_after_ms && idle_ms >= observed_ms
}

/// A uniformly random moment in `[from, to)`; `from` when the range is empty.
pub fn random_moment(from_ms: i64, to_ms: i64) -> i64 {
    if to_ms <= from_ms {
        from_ms
    } else {
        fastrand::i64(from_ms..to_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_down_table() {
        let cases = [
            (0, 60_000, 0),
            (59_999, 60_000, 0),
            (60_000, 60_000, 60_000),
            (125_000, 2_000, 124_000),
            (-1, 60_000, -60_000),
        ];
        for (t, p, want) in cases {
            assert_eq!(align_down(t, p), want, "align_down({t}, {p})");
        }
    }

    #[test]
    fn continuity_table() {
        use Continuity::*;
        let minute = 60_000;
        let tol = tolerance_ms(minute);
        let cases = [
            // (wall elapsed, mono elapsed, expected)
            (60_000, 60_000, Normal),
            (60_004, 59_998, Normal),
            (3_600_000, 60_000, WallAhead), // suspended for an hour
            (60_000 + 3_600_000, 60_000, WallAhead), // clock set forward
            (-3_540_000, 60_000, WallBehind), // clock set back an hour
            (600_000, 600_000, Stalled),    // SIGSTOP for nine minutes
        ];
        for (wall, mono, want) in cases {
            assert_eq!(
                continuity(wall, mono, minute, tol),
                want,
                "wall={wall} mono={mono}"
            );
        }
    }

    #[test]
    fn tolerance_is_clamped() {
        assert_eq!(tolerance_ms(2_000), 500);
        assert_eq!(tolerance_ms(200), 250);
        assert_eq!(tolerance_ms(60_000), 5_000);
    }

    #[test]
    fn idle_rule_table() {
        let cases = [
            // (events, idle_ms, observed_ms, idle_after_ms, idle?)
            (0, 400_000, 60_000, 300_000, true),
            (0, 120_000, 60_000, 300_000, false), // away 2 min: still within threshold
            (3, 400_000, 60_000, 300_000, false), // counted input
            (0, 30_000, 60_000, 10_000, false),   // moved the mouse 30 s ago
            (0, 5_000, 2_000, 3_000, true),
        ];
        for (ev, idle, obs, after, want) in cases {
            assert_eq!(
                is_idle(ev, idle, obs, after),
                want,
                "{ev} {idle} {obs} {after}"
            );
        }
    }

    #[test]
    fn random_moment_stays_in_range() {
        for _ in 0..1000 {
            let m = random_moment(1_000, 1_010);
            assert!((1_000..1_010).contains(&m));
        }
        assert_eq!(random_moment(5, 5), 5);
    }
}
