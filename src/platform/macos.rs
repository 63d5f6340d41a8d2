//! macOS paths: the managed config lives where MDM tools drop per-machine settings.
use std::path::PathBuf;

pub const OS_FAMILY: &str = "macos";

pub fn system_config_path() -> PathBuf {
    PathBuf::from("/Library/Application Support/stint/stint.toml")
}
