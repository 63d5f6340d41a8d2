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

/// `stint run` started at login (the HKLM Run value) gets a console window of
/// its own; when no other process shares that console, let it go so no window
/// stays open for the daemon's lifetime. Started from a terminal, it stays.
pub fn detach_own_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut ids = [0u32; 2];
    // SAFETY: the buffer and its length match; FreeConsole has no preconditions.
    unsafe {
        if GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) == 1 {
            FreeConsole();
        }
    }
}

/// Where the tray icon shows: there always is one on this OS.
pub fn tray_host() -> Result<String, String> {
    Ok("the Windows notification area".into())
}

/// A console program started by a process without a console (the daemon at
/// login) would open a console window of its own: ask Windows not to.
pub fn no_console_window(command: &mut std::process::Command) {
    use std::os::windows::process::CommandExt;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    command.creation_flags(CREATE_NO_WINDOW);
}

/// Windows ends no child with its parent: the tray notices its daemon is
/// gone at its next status refresh and exits.
pub fn end_with_parent(_command: &mut std::process::Command) {}
