//! macOS tray: not started yet. AppKit wants the status item on the process's
//! main thread, which `stint run` gives to tokio today; until the main loop is
//! restructured the daemon runs without an icon and says so.

use super::{Control, TrayError};

pub fn spawn(_ctl: Control, ready: std::sync::mpsc::Sender<Result<(), TrayError>>) {
    let _ = ready.send(Err(TrayError::Unavailable(
        "the macOS menu-bar icon is not implemented yet; use `stint status`, `stint start` and `stint stop`".into(),
    )));
}

pub fn host() -> Result<String, String> {
    Ok("the macOS menu bar".into())
}
