//! Windows paths: the managed config lives in %ProgramData%, writable only by administrators.
use std::path::PathBuf;

pub const OS_FAMILY: &str = "windows";

pub fn system_config_path() -> PathBuf {
    let base = std::env::var_os("ProgramData").unwrap_or_else(|| r"C:\ProgramData".into());
    PathBuf::from(base).join("stint").join("stint.toml")
}

/// Opens `path` in the user's default application for it.
pub fn open_in_viewer(path: &std::path::Path) -> std::io::Result<()> {
    std::process::Command::new("explorer.exe")
        .arg(path)
        .spawn()
        .map(drop)
}
