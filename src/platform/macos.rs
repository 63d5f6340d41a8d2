//! macOS paths: the managed config lives where MDM tools drop per-machine settings.
use std::path::PathBuf;

pub const OS_FAMILY: &str = "macos";

pub fn system_config_path() -> PathBuf {
    PathBuf::from("/Library/Application Support/stint/stint.toml")
}

/// Opens `path` in the user's default application for it.
pub fn open_in_viewer(path: &std::path::Path) -> std::io::Result<()> {
    std::process::Command::new("open")
        .arg(path)
        .spawn()
        .map(drop)
}

/// Only Windows gives a login-started program a console window of its own.
pub fn detach_own_console() {}

/// Nothing to hide here: a child process opens no window of its own.
pub fn no_console_window(_command: &mut std::process::Command) {}

/// macOS has no death signal for a parent: the tray notices its daemon is
/// gone at its next status refresh and exits.
pub fn end_with_parent(_command: &mut std::process::Command) {}

/// Where the tray icon shows: there always is one on this OS.
pub fn tray_host() -> Result<String, String> {
    Ok("the macOS menu bar".into())
}
