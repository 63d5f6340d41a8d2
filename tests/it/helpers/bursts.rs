//! The input every backend must count exactly, as xdotool commands: presses
//! held from 5 to 80 ms, a fast burst, a key held through auto-repeat, clicks
//! of three buttons and wheel steps. The X11 test and the Wine test play the
//! same table.

use super::{now_ms, wait_into_next_period};

/// One burst of input injected inside a single minute, and what it must count.
pub struct Burst {
    pub name: &'static str,
    pub xdotool: &'static [&'static str],
    pub keys: u32,
    pub clicks: u32,
    pub scrolls: u32,
}

pub const BURSTS: [Burst; 5] = [
    Burst {
        name: "presses held 5 to 80 ms",
        xdotool: &[
            "keydown", "a", "sleep", "0.005", "keyup", "a", "sleep", "0.03", "keydown", "b",
            "sleep", "0.01", "keyup", "b", "sleep", "0.03", "keydown", "c", "sleep", "0.02",
            "keyup", "c", "sleep", "0.03", "keydown", "d", "sleep", "0.04", "keyup", "d", "sleep",
            "0.03", "keydown", "e", "sleep", "0.08", "keyup", "e", "sleep", "0.03", "keydown",
            "shift", "keydown", "f", "sleep", "0.005", "keyup", "f", "keyup", "shift",
        ],
        keys: 7,
        clicks: 0,
        scrolls: 0,
    },
    Burst {
        name: "a fast burst (xdotool key holds ~6 ms)",
        xdotool: &[
            "key", "--delay", "15", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
        ],
        keys: 12,
        clicks: 0,
        scrolls: 0,
    },
    Burst {
        name: "one key held through auto-repeat",
        xdotool: &["keydown", "s", "sleep", "1.2", "keyup", "s"],
        keys: 1,
        clicks: 0,
        scrolls: 0,
    },
    Burst {
        name: "clicks of three buttons",
        xdotool: &[
            "click", "--repeat", "4", "--delay", "40", "1", "click", "3", "click", "2",
        ],
        keys: 0,
        clicks: 6,
        scrolls: 0,
    },
    Burst {
        name: "scrolls both ways and sideways",
        xdotool: &[
            "click", "--repeat", "5", "--delay", "20", "4", "click", "--repeat", "3", "--delay",
            "20", "5", "click", "6",
        ],
        keys: 0,
        clicks: 0,
        scrolls: 9,
    },
];

/// Plays every burst 0.4 s into a fresh minute of `minute_ms` through
/// `xdotool` and returns those minutes' starts.
pub fn play(minute_ms: i64, mut xdotool: impl FnMut(&[&str])) -> Vec<i64> {
    let mut slots = Vec::new();
    for b in &BURSTS {
        let slot = wait_into_next_period(minute_ms, 400);
        xdotool(b.xdotool);
        assert!(
            now_ms() < slot + minute_ms - 300,
            "burst {:?} overran its minute",
            b.name
        );
        slots.push(slot);
    }
    slots
}

/// Checks each burst's minute: `counts(start)` is (keys, clicks, scrolls,
/// idle) of the minute starting at `start`.
pub fn check(slots: &[i64], counts: impl Fn(i64) -> (u32, u32, u32, bool)) {
    for (b, slot) in BURSTS.iter().zip(slots) {
        let (keys, clicks, scrolls, idle) = counts(*slot);
        assert_eq!(
            (keys, clicks, scrolls),
            (b.keys, b.clicks, b.scrolls),
            "{}: minute {}",
            b.name,
            stint::model::rfc3339(*slot)
        );
        assert!(!idle, "{}: a minute with input is active", b.name);
    }
}

/// Keys in all bursts together, to show no stray count landed elsewhere.
pub fn total_keys() -> u32 {
    BURSTS.iter().map(|b| b.keys).sum()
}
