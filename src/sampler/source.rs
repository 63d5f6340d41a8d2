//! What every sampler hands the daemon, and the traits the daemon holds
//! them by: input counts and idle time (`InputSource`), the active window
//! (`WindowSource`), screenshots (`ScreenSource`). A leaf: the samplers of
//! each OS and each Wayland route depend on it, it on none of them.

use std::path::Path;

use crate::encode::{EncodeOptions, Encoded};

use super::SamplerError;

/// Counts since the previous [`InputSource::take_counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputCounts {
    pub keystrokes: u32,
    pub clicks: u32,
    pub scrolls: u32,
    /// The part of `keystrokes` the OS marked as injected by software.
    pub synthetic_keystrokes: u32,
    /// The part of `clicks` the OS marked as injected by software.
    pub synthetic_clicks: u32,
}

impl InputCounts {
    pub fn total(&self) -> u64 {
        u64::from(self.keystrokes) + u64::from(self.clicks) + u64::from(self.scrolls)
    }
}

/// What keeps a working source from exact counts.
#[derive(Debug, Clone)]
pub enum Limitation {
    /// No counts at all, only idle time (macOS without Input Monitoring).
    NoCounts(SamplerError),
    /// Counting by polling because the event source could not be opened (why):
    /// presses and clicks shorter than one poll are missed.
    Polling(String),
}

pub trait InputSource: Send + Sync {
    /// Returns and resets the counts; `None` when this source cannot count
    /// (the minute's counts are then unknown, not zero).
    fn take_counts(&self) -> Option<InputCounts>;
    /// Milliseconds since the last user input of any kind (including pointer motion
    /// where the platform can tell).
    fn idle_ms(&self) -> u64;
    /// False once the event source died (e.g. the X server went away); the
    /// daemon then probes again, at most once a minute.
    fn healthy(&self) -> bool;
    fn backend(&self) -> &'static str;
    /// Why this source is a stand-in for exact counting, if it is; the daemon
    /// keeps trying for a better one, at most once a minute.
    fn limitation(&self) -> Option<Limitation> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WindowInfo {
    pub title: String,
    pub exe_path: String,
    pub app: String,
}

impl WindowInfo {
    /// Cuts each text to what a record may carry (`stint_proto::MAX_TEXT`
    /// bytes), at a character boundary: a server refuses longer ones.
    pub fn clipped(mut self) -> WindowInfo {
        for s in [&mut self.title, &mut self.exe_path, &mut self.app] {
            if s.len() > stint_proto::MAX_TEXT {
                let mut end = stint_proto::MAX_TEXT;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.truncate(end);
            }
        }
        self
    }
}

pub trait WindowSource: Send + Sync {
    /// The focused window, or None when nothing has focus (e.g. the bare desktop).
    fn active(&self) -> Result<Option<WindowInfo>, SamplerError>;
    /// How it is read, for `stint status`.
    fn backend(&self) -> &'static str;
}

#[cfg_attr(target_os = "windows", allow(dead_code))] // Windows names apps by version info
pub(crate) fn app_from_path(exe: &str) -> String {
    // Backslashes too: a Windows path is named the same wherever it is read.
    let name = exe.rsplit(['/', '\\']).next().unwrap_or(exe);
    Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One monitor's encoded screenshot.
#[derive(Debug, Clone)]
pub struct Shot {
    pub monitor: String,
    pub image: Encoded,
}

pub trait ScreenSource: Send + Sync {
    /// Captures every monitor. A monitor that fails is logged and skipped; the call
    /// fails only when none could be captured.
    fn capture_all(&self, opts: EncodeOptions) -> Result<Vec<Shot>, SamplerError>;
}
