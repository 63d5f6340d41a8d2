//! Input activity: counts of key presses, clicks and scroll steps, how many of
//! the presses and clicks software injected, and time since the user last
//! touched anything. Never which key, never text.
//!
//! Every OS counts from an event source on a thread of its own: XInput2 raw
//! events on Linux/X11 (`x11.rs`), evdev on Linux/Wayland (`evdev.rs`, or
//! the compositor's idle time alone: `wayland.rs`), low-level hooks on
//! Windows (`windows.rs`), a
//! listen-only CGEventTap on macOS (`macos.rs`). Polling device state
//! (`poll.rs`) is only the fallback on Windows and macOS when the event source
//! cannot be opened, and it says so: it misses presses shorter than a poll.

#[cfg(target_os = "linux")]
pub mod evdev;
#[cfg_attr(target_os = "linux", path = "x11.rs")]
#[cfg_attr(target_os = "windows", path = "windows.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod platform;
#[cfg(not(target_os = "linux"))]
mod poll;
#[cfg(target_os = "linux")]
mod wayland;
// The platforms' event logic builds and is tested everywhere.
#[cfg(any(test, target_os = "macos"))]
mod macevents;
#[cfg(any(test, target_os = "windows"))]
mod winhook;

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::time::Instant;

use super::SamplerError;

/// `STINT_INPUT_BACKEND=poll` makes Windows and macOS count by polling even
/// where the event source works: for measuring one against the other
/// (docs/performance.md) and as an escape hatch should a machine's security
/// software refuse the event source in a way stint cannot see.
pub const BACKEND_ENV: &str = "STINT_INPUT_BACKEND";

pub use super::source::{InputCounts, InputSource, Limitation};

/// Probes this machine and returns the best input source, or why there is none.
pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    if let Ok(v) = std::env::var(BACKEND_ENV) {
        match v.as_str() {
            "poll" => return platform::fallback(format!("{BACKEND_ENV}=poll")),
            "" | "auto" => {}
            other => {
                return Err(SamplerError::Unsupported(format!(
                    "{BACKEND_ENV}={other:?}: expected auto or poll"
                )))
            }
        }
    }
    match platform::create() {
        Ok(source) => Ok(source),
        // The event source's error is the one worth showing when there is no
        // fallback either (Linux has none).
        Err(e) => platform::fallback(e.to_string()).map_err(|_| e),
    }
}

/// The input sampler's line in `stint status` (state `sampler.input`) and the
/// tray: a source that cannot count reads as "unavailable", which the tray
/// shows red.
pub fn describe(r: &Result<Box<dyn InputSource>, SamplerError>) -> String {
    match r {
        Err(e) => format!("unavailable: {e}"),
        Ok(s) => match s.limitation() {
            None => format!("ok ({})", s.backend()),
            Some(Limitation::Polling(why)) => format!(
                "ok ({}): polling misses presses shorter than {} ms; event source: {why}",
                s.backend(),
                POLL_MS
            ),
            Some(Limitation::NoCounts(e)) => format!(
                "unavailable: {e}; idle time is still measured ({}), counts are recorded as unknown",
                s.backend()
            ),
        },
    }
}

/// The polling fallback's period, in milliseconds.
pub const POLL_MS: u64 = 20;

/// Where an event source's thread reports that it is ready (with what the
/// source's handle needs, e.g. the thread's id) or why it could not start.
#[cfg(not(target_os = "linux"))]
pub(crate) type Ready<T> = std::sync::mpsc::Sender<Result<T, SamplerError>>;

/// A started event thread: its counters, what it reported when ready, and its
/// handle (which also keeps its thread id from being reused while held).
#[cfg(not(target_os = "linux"))]
pub(crate) struct EventThread<T> {
    pub counters: std::sync::Arc<Counters>,
    pub ready: T,
    pub handle: std::thread::JoinHandle<()>,
}

/// Starts an event source's thread (`body` gets fresh counters) and waits for
/// it to report ready. A thread that reports after the wait gave up finds its
/// report refused and must undo what it set up and end.
#[cfg(not(target_os = "linux"))]
pub(crate) fn start_event_thread<T: Send + 'static>(
    body: impl FnOnce(std::sync::Arc<Counters>, Ready<T>) + Send + 'static,
) -> Result<EventThread<T>, SamplerError> {
    let counters = std::sync::Arc::new(Counters::new());
    let (tx, rx) = std::sync::mpsc::channel();
    let k = counters.clone();
    let handle = std::thread::Builder::new()
        .name("stint-input".into())
        .spawn(move || body(k, tx))
        .map_err(|e| SamplerError::Failed(format!("spawn input thread: {e}")))?;
    let ready = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .map_err(|_| SamplerError::Failed("the input event thread did not start".into()))??;
    Ok(EventThread {
        counters,
        ready,
        handle,
    })
}

/// Lock-free counters shared between the event thread and the daemon.
pub(crate) struct Counters {
    keystrokes: AtomicU32,
    clicks: AtomicU32,
    scrolls: AtomicU32,
    synthetic_keystrokes: AtomicU32,
    synthetic_clicks: AtomicU32,
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
            synthetic_keystrokes: AtomicU32::new(0),
            synthetic_clicks: AtomicU32::new(0),
            base: Instant::now(),
            last_input_ms: AtomicI64::new(0),
            alive: AtomicBool::new(true),
        }
    }

    pub(crate) fn key(&self, synthetic: bool) {
        self.keystrokes.fetch_add(1, Ordering::Relaxed);
        if synthetic {
            self.synthetic_keystrokes.fetch_add(1, Ordering::Relaxed);
        }
        self.touch();
    }

    pub(crate) fn button(&self, b: Button, synthetic: bool) {
        match b {
            Button::Click => {
                self.clicks.fetch_add(1, Ordering::Relaxed);
                if synthetic {
                    self.synthetic_clicks.fetch_add(1, Ordering::Relaxed);
                }
            }
            Button::Scroll => self.scroll(1),
        }
        self.touch();
    }

    pub(crate) fn scroll(&self, steps: u32) {
        self.scrolls.fetch_add(steps, Ordering::Relaxed);
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
            synthetic_keystrokes: self.synthetic_keystrokes.swap(0, Ordering::Relaxed),
            synthetic_clicks: self.synthetic_clicks.swap(0, Ordering::Relaxed),
        }
    }

    pub(crate) fn idle_ms(&self) -> u64 {
        let now = self.base.elapsed().as_millis() as i64;
        (now - self.last_input_ms.load(Ordering::Relaxed)).max(0) as u64
    }

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

/// X11 button numbering, which the pollers also use: 4-7 are wheel steps
/// (vertical and horizontal), everything else is a click (including the
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

#[cfg_attr(target_os = "macos", allow(dead_code))] // macOS is told about repeats
impl<K: Eq + Hash + Clone> KeyTracker<K> {
    /// Returns true when this press counts.
    pub(crate) fn press(&mut self, key: K) -> bool {
        self.down.insert(key)
    }

    pub(crate) fn release(&mut self, key: &K) {
        self.down.remove(key);
    }

    /// Forgets every key: after input went elsewhere (a locked session, another
    /// desktop), a key-up may have been missed, and a key wrongly held down
    /// would swallow its next press.
    #[cfg_attr(not(windows), allow(dead_code))]
    pub(crate) fn clear(&mut self) {
        self.down.clear();
    }

    #[cfg_attr(not(windows), allow(dead_code))]
    pub(crate) fn any_down(&self) -> bool {
        !self.down.is_empty()
    }

    /// For pollers: given every key down now, returns those that went down since
    /// the previous snapshot.
    #[cfg_attr(target_os = "linux", allow(dead_code))] // only the polling fallback
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
        t.clear();
        assert!(!t.any_down());
        assert!(t.press(38), "a missed key-up no longer swallows the press");
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
    fn counters_take_resets_and_keep_synthetic_a_subset() {
        let c = Counters::new();
        c.key(false);
        c.key(true);
        c.button(classify_button(1), true);
        c.button(classify_button(3), false);
        c.button(classify_button(5), true);
        c.scroll(2);
        let got = c.take();
        assert_eq!(
            got,
            InputCounts {
                keystrokes: 2,
                clicks: 2,
                scrolls: 3,
                synthetic_keystrokes: 1,
                synthetic_clicks: 1,
            }
        );
        assert_eq!(c.take(), InputCounts::default());
        assert!(c.idle_ms() < 10_000);
    }
}
