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

/// Nothing to hide here: a child process opens no window of its own.
pub fn no_console_window(_command: &mut std::process::Command) {}

/// Ends `command`'s process when this one ends, however it ends (SIGKILL
/// included): the kernel sends it SIGTERM. A tray outliving its daemon
/// would otherwise hold on to whatever it inherited until it noticed.
pub fn end_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// Which tray host is running, or why none is: a system tray owning
/// `_NET_SYSTEM_TRAY_S<n>` (XEmbed) or a StatusNotifierWatcher on the session bus.
pub fn tray_host() -> Result<String, String> {
    let mut found = Vec::new();
    match xembed_tray() {
        Ok(true) => found.push("XEmbed system tray"),
        Ok(false) => {}
        Err(e) => tracing::debug!(error = %e, "no X11 tray check"),
    }
    if sni_watcher() {
        found.push("StatusNotifierItem host");
    }
    if found.is_empty() {
        Err("no tray host: nothing owns _NET_SYSTEM_TRAY_S0 and no StatusNotifierWatcher is on the session bus, so the icon will not be visible".into())
    } else {
        Ok(found.join(" and "))
    }
}

fn xembed_tray() -> Result<bool, String> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::ConnectionExt;
    let (conn, screen) = x11rb::connect(None).map_err(|e| e.to_string())?;
    let _ = conn.setup();
    let name = format!("_NET_SYSTEM_TRAY_S{screen}");
    let atom = conn
        .intern_atom(false, name.as_bytes())
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?
        .atom;
    let owner = conn
        .get_selection_owner(atom)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?
        .owner;
    Ok(owner != x11rb::NONE)
}

fn sni_watcher() -> bool {
    zbus::blocking::Connection::session()
        .is_ok_and(|conn| on_bus(&conn, "org.kde.StatusNotifierWatcher"))
}

/// Whether `name` has an owner on the session bus `conn`.
pub(crate) fn on_bus(conn: &zbus::blocking::Connection, name: &str) -> bool {
    let Ok(dbus) = zbus::blocking::fdo::DBusProxy::new(conn) else {
        return false;
    };
    zbus::names::BusName::try_from(name)
        .ok()
        .and_then(|n| dbus.name_has_owner(n).ok())
        .unwrap_or(false)
}

/// Whether `name` is on the session bus `conn` or would be started on the
/// first call: a desktop portal is often activated on demand, not running.
pub(crate) fn reachable(conn: &zbus::blocking::Connection, name: &str) -> bool {
    on_bus(conn, name)
        || zbus::blocking::fdo::DBusProxy::new(conn)
            .ok()
            .and_then(|dbus| dbus.list_activatable_names().ok())
            .is_some_and(|names| names.iter().any(|n| n.as_str() == name))
}
