//! Linux paths: the managed config lives under /etc like any system service's.
use std::path::PathBuf;

pub const OS_FAMILY: &str = "linux";

pub fn system_config_path() -> PathBuf {
    PathBuf::from("/etc/stint/stint.toml")
}

/// Opens `path` in the user's default application for it.
pub fn open_in_viewer(path: &std::path::Path) -> std::io::Result<()> {
    std::process::Command::new("xdg-open")
        .arg(path)
        .spawn()
        .map(drop)
}

/// Only Windows gives a login-started program a console window of its own.
pub fn detach_own_console() {}
