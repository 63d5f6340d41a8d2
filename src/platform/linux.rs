//! Linux paths: the managed config lives under /etc like any system service's.
use std::path::PathBuf;

pub const OS_FAMILY: &str = "linux";

pub fn system_config_path() -> PathBuf {
    PathBuf::from("/etc/stint/stint.toml")
}
