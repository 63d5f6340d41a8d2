//! Per-OS facts that are not samplers: where managed configuration lives.
//!
//! Business logic asks this module; it never checks `target_os` itself.

#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "windows", path = "windows.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod os;

/// Opens a web address in the user's browser: the same opener as for files
/// (xdg-open, `open`, ShellExecute) takes URLs too.
pub fn open_url(url: &str) -> std::io::Result<()> {
    os::open_in_viewer(std::path::Path::new(url))
}

pub use os::{
    detach_own_console, end_with_parent, no_console_window, open_in_viewer, system_config_path,
    tray_host, OS_FAMILY,
};
/// The session bus: whether a name has an owner, or could be started.
#[cfg(target_os = "linux")]
pub(crate) use os::{on_bus, reachable};

/// Registers for the OS's stop requests right away (SIGTERM and SIGINT; on
/// Windows Ctrl-C, console close, logoff and shutdown), so one that arrives while
/// the daemon is still starting is not lost, and returns a future that resolves
/// on the first of them.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let wait = {
        use tokio::signal::unix::{signal, SignalKind};
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match handlers {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    };
    #[cfg(windows)]
    let wait = {
        use tokio::signal::windows;
        let handlers = (
            windows::ctrl_c(),
            windows::ctrl_close(),
            windows::ctrl_logoff(),
            windows::ctrl_shutdown(),
        );
        async move {
            match handlers {
                (Ok(mut c), Ok(mut close), Ok(mut logoff), Ok(mut shutdown)) => {
                    tokio::select! {
                        _ = c.recv() => {}
                        _ = close.recv() => {}
                        _ = logoff.recv() => {}
                        _ = shutdown.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    };
    wait
}

/// The login name of the user running stint.
pub fn os_user() -> String {
    for var in ["USER", "USERNAME", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    #[cfg(unix)]
    {
        // Services and autostart entries may run without USER set; ask the passwd db.
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the call; `buf` outlives the use of `pwd`.
        let rc = unsafe {
            libc::getpwuid_r(
                libc::getuid(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == 0 && !result.is_null() {
            // SAFETY: on success pw_name points into `buf`, NUL-terminated.
            return unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }
                .to_string_lossy()
                .into_owned();
        }
    }
    String::new()
}

/// Writes a secret file readable only by this user, atomically (temp file,
/// fsync, rename). On Unix the file is created 0600; on Windows the data
/// directory under %LOCALAPPDATA% already carries a user-only ACL, which the
/// file inherits.
/// Creates `dir` (and missing parents) readable by its owner alone (0700 on
/// Unix), and tightens it if it already exists looser. On Windows the per-user
/// profile directories already carry an owner-only ACL that new folders inherit.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = std::fs::metadata(dir)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}
