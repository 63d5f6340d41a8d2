//! Linux tray loop: GTK on the tray's own thread (libappindicator shows the
//! icon to a StatusNotifierItem host and falls back to XEmbed trays), plus the
//! check for whether any tray host is there to show it.

use super::{Control, Tray, TrayError, TICK};

pub fn spawn(ctl: Control, ready: std::sync::mpsc::Sender<Result<(), TrayError>>) {
    let started = std::thread::Builder::new()
        .name("stint-tray".into())
        .spawn(move || {
            if let Err(e) = gtk::init() {
                let _ = ready.send(Err(TrayError::Unavailable(format!("GTK: {e}"))));
                return;
            }
            let mut tray = match Tray::new(ctl) {
                Ok(t) => t,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            gtk::glib::timeout_add_local(TICK, move || {
                if tray.tick() {
                    gtk::glib::ControlFlow::Continue
                } else {
                    gtk::main_quit();
                    gtk::glib::ControlFlow::Break
                }
            });
            gtk::main();
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "could not start the tray thread");
    }
}

/// Which tray host is running, or why none is: a system tray owning
/// `_NET_SYSTEM_TRAY_S<n>` (XEmbed) or a StatusNotifierWatcher on the session bus.
pub fn host() -> Result<String, String> {
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
    let Ok(conn) = zbus::blocking::Connection::session() else {
        return false;
    };
    let Ok(dbus) = zbus::blocking::fdo::DBusProxy::new(&conn) else {
        return false;
    };
    zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher")
        .ok()
        .and_then(|n| dbus.name_has_owner(n).ok())
        .unwrap_or(false)
}
