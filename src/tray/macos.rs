//! macOS tray: not implemented yet. The tray already runs as its own process on
//! its main thread, which is what AppKit needs; what is missing is running
//! NSApplication's loop there, which cannot be built or tested on Linux.

use super::TrayError;
use crate::config::Config;

pub fn run(_cfg: Config) -> Result<(), TrayError> {
    Err(TrayError::Unavailable(
        "the macOS menu-bar icon is not implemented yet; use `stint status`, `stint start` and `stint stop`".into(),
    ))
}

pub fn host() -> Result<String, String> {
    Ok("the macOS menu bar".into())
}
