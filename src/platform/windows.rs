//! Windows paths: the managed config lives in %ProgramData%, writable only by administrators.
use std::path::PathBuf;

pub const OS_FAMILY: &str = "windows";

pub fn system_config_path() -> PathBuf {
    let base = std::env::var_os("ProgramData").unwrap_or_else(|| r"C:\ProgramData".into());
    PathBuf::from(base).join("stint").join("stint.toml")
}
