//! Input activity: counts of key presses, clicks and scroll steps, and time since
//! the user last touched anything. Never which key, never text.
//!
//! Linux/X11 counts exact XInput2 raw events (measured: every press, ~0 CPU);
//! other platforms poll device state with device_query until they get an event API.

#[cfg_attr(target_os = "linux", path = "x11.rs")]
#[cfg_attr(not(target_os = "linux"), path = "poll.rs")]
mod platform;

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::time::Instant;

use super::SamplerError;

/// Counts since the previous [`InputSource::take_counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputCounts {
    pub keystrokes: u32,
    pub clicks: u32,
    pub scrolls: u32,
}

impl InputCounts {
    pub fn total(&self) -> u64 {
        u64::from(self.keystrokes) + u64::from(self.clicks) + u64::from(self.scrolls)
    }
}

pub trait InputSource: Send + Sync {
    /// Returns and resets the counts.
    fn take_counts(&self) -> InputCounts;
    /// Milliseconds since the last user input of any kind (including pointer motion
    /// where the platform can tell).
    fn idle_ms(&self) -> u64;
    /// False once the event source died (e.g. the X server went away); the daemon
    /// then probes again.
    fn healthy(&self) -> bool;
    fn backend(&self) -> &'static str;
}

/// Probes this machine and returns the best input source, or why there is none.
pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    platform::create()
}

/// Lock-free counters shared between the event thread and the daemon.
pub(crate) struct Counters {
    keystrokes: AtomicU32,
    clicks: AtomicU32,
    scrolls: AtomicU32,
    base: Instant,
    last_input_ms: AtomicI64,
    alive: AtomicBool,
}

impl Counters {
    pub(crate) fn new() -> Counters {
        Counters {
            keystrokes: AtomicU32::new(0),
            clicks: AtomicU32::new(0),
            scrolls: AtomicU32::new(0),
            base: Instant::now(),
            last_input_ms: AtomicI64::new(0),
            alive: AtomicBool::new(true),
        }
    }

    pub(crate) fn key(&self) {
        self.keystrokes.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    pub(crate) fn button(&self, b: Button) {
        match b {
            Button::Click => self.clicks.fetch_add(1, Ordering::Relaxed),
            Button::Scroll => self.scrolls.fetch_add(1, Ordering::Relaxed),
        };
        self.touch();
    }

    pub(crate) fn touch(&self) {
        self.last_input_ms
            .store(self.base.elapsed().as_millis() as i64, Ordering::Relaxed);
    }

    pub(crate) fn take(&self) -> InputCounts {
        InputCounts {
            keystrokes: self.keystrokes.swap(0, Ordering::Relaxed),
            clicks: self.clicks.swap(0, Ordering::Relaxed),
            scrolls: self.scrolls.swap(0, Ordering::Relaxed),
        }
    }

    pub(crate) fn idle_ms(&self) -> u64 {
        let now = self.base.elapsed().as_millis() as i64;
        (now - self.last_input_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    #[allow(dead_code)] // only event-driven backends can lose their source
    pub(crate) fn set_dead(&self) {
        self.alive.store(false, Ordering::Relaxed);
    }

    pub(crate) fn alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Button {
    Click,
    Scroll,
}

/// X11 button numbering, which the other platforms' pollers also use: 4-7 are wheel
/// steps (vertical and horizontal), everything else is a click (including the
/// back/forward buttons 8 and 9).
pub(crate) fn classify_button(button: u32) -> Button {
    if (4..=7).contains(&button) {
        Button::Scroll
    } else {
        Button::Click
    }
}

/// Turns a stream of press/release reports into counted presses: a press of a key
/// that is already down is auto-repeat and does not count.
pub(crate) struct KeyTracker<K> {
    down: HashSet<K>,
}

impl<K> Default for KeyTracker<K> {
    fn default() -> Self {
        KeyTracker {
            down: HashSet::new(),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyTracker<K> {
    /// Returns true when this press counts.
    #[allow(dead_code)] // event-driven backends; pollers use `snapshot`
    pub(crate) fn press(&mut self, key: K) -> bool {
        self.down.insert(key)
    }

    #[allow(dead_code)] // event-driven backends; pollers use `snapshot`
    pub(crate) fn release(&mut self, key: &K) {
        self.down.remove(key);
    }

    /// For pollers: given every key down now, returns those that went down since
    /// the previous snapshot.
    #[allow(dead_code)] // only the polling backend (non-Linux) calls it
    pub(crate) fn snapshot(&mut self, now_down: impl IntoIterator<Item = K>) -> Vec<K> {
        let now: HashSet<K> = now_down.into_iter().collect();
        let new = now.difference(&self.down).cloned().collect();
        self.down = now;
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_table() {
        let cases = [
            (1, Button::Click),
            (2, Button::Click),
            (3, Button::Click),
            (4, Button::Scroll),
            (5, Button::Scroll),
            (6, Button::Scroll),
            (7, Button::Scroll),
            (8, Button::Click),
            (9, Button::Click),
        ];
        for (b, want) in cases {
            assert_eq!(classify_button(b), want, "button {b}");
        }
    }

    #[test]
    fn auto_repeat_is_not_a_keystroke() {
        let mut t = KeyTracker::default();
        assert!(t.press(38));
        assert!(!t.press(38), "repeat while held");
        assert!(!t.press(38));
        t.release(&38);
        assert!(t.press(38), "pressed again after release");
        assert!(t.press(39), "another key while the first is held");
    }

    #[test]
    fn snapshots_count_only_new_presses() {
        let mut t = KeyTracker::default();
        let mut snap = |keys: &[u32]| {
            let mut v = t.snapshot(keys.iter().copied());
            v.sort();
            v
        };
        assert_eq!(snap(&[1, 2]), vec![1, 2]);
        assert_eq!(snap(&[1, 2]), Vec::<u32>::new(), "still held");
        assert_eq!(snap(&[2, 3]), vec![3]);
        assert_eq!(snap(&[]), Vec::<u32>::new());
        assert_eq!(snap(&[1]), vec![1]);
    }

    #[test]
    fn counters_take_resets() {
        let c = Counters::new();
        c.key();
        c.key();
        c.button(classify_button(1));
        c.button(classify_button(5));
        let got = c.take();
        assert_eq!((got.keystrokes, got.clicks, got.scrolls), (2, 1, 1));
        assert_eq!(c.take(), InputCounts::default());
        assert!(c.idle_ms() < 10_000);
    }
}
