//! The active window: title, executable path and application name, read once a
//! minute. Linux and macOS read it through active-win-pos-rs (`activewin.rs`)
//! with per-platform repairs; Windows reads it with its own Win32 calls, which
//! also see through the frame host of packaged apps and say why when a
//! process cannot be read.

#[cfg(not(target_os = "windows"))]
mod activewin;
#[cfg_attr(target_os = "linux", path = "x11.rs")]
#[cfg_attr(target_os = "windows", path = "windows.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod platform;
// Windows's resolution logic builds and is tested everywhere.
#[cfg(any(test, target_os = "windows"))]
mod hosted;

use std::sync::Arc;

use super::SamplerError;

pub use super::source::{WindowInfo, WindowSource};

pub(crate) use platform::probe_session;
/// How the active window is read here, for `stint status`.
pub use platform::BACKEND;

/// Probes whether the active window can be read here.
pub fn create() -> Result<Arc<dyn WindowSource>, SamplerError> {
    platform::create()
}

pub(crate) use super::source::app_from_path;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_from_path_table() {
        for (p, want) in [
            ("/usr/bin/xterm", "xterm"),
            ("C:\\x\\code.exe", "code"),
            ("C:\\Program Files\\My App\\app.v2.exe", "app.v2"),
            ("", ""),
        ] {
            assert_eq!(app_from_path(p), want, "{p}");
        }
    }

    #[test]
    fn long_texts_are_clipped_at_a_character_boundary() {
        let w = WindowInfo {
            title: "é".repeat(3000), // 6000 bytes
            exe_path: "/bin/x".into(),
            app: "x".repeat(4096),
        }
        .clipped();
        assert_eq!(w.title.len(), stint_proto::MAX_TEXT);
        assert_eq!((w.exe_path.as_str(), w.app.len()), ("/bin/x", 4096));
        let odd = WindowInfo {
            title: format!("a{}", "é".repeat(3000)),
            ..Default::default()
        }
        .clipped();
        assert_eq!(odd.title.len(), stint_proto::MAX_TEXT - 1);
    }
}
