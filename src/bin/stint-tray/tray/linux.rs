//! Linux tray loop: GTK on the tray process's main thread (libappindicator shows the
//! icon to a StatusNotifierItem host and falls back to XEmbed trays); desktop
//! notifications through the session bus's notification server.

use super::{Tray, TrayError, TICK};
use stint::config::Config;

/// Shows the icon and runs GTK's loop on this thread until Quit or until the
/// daemon is gone.
pub fn run(cfg: Config) -> Result<(), TrayError> {
    gtk::init().map_err(|e| TrayError::Unavailable(format!("GTK: {e}")))?;
    let mut tray = Tray::new(cfg)?;
    tracing::info!("tray icon shown");
    gtk::glib::timeout_add_local(TICK, move || {
        if tray.tick() {
            gtk::glib::ControlFlow::Continue
        } else {
            gtk::main_quit();
            gtk::glib::ControlFlow::Break
        }
    });
    gtk::main();
    Ok(())
}

/// Shows a desktop notification through `org.freedesktop.Notifications`
/// (GNOME Shell, KDE Plasma, dunst, xfce4-notifyd and the rest), at the
/// server's own timeout.
pub fn notify(summary: &str, body: &str) -> Result<(), String> {
    let conn =
        zbus::blocking::Connection::session().map_err(|e| format!("no D-Bus session bus: {e}"))?;
    let hints: std::collections::HashMap<&str, zbus::zvariant::Value<'_>> = Default::default();
    conn.call_method(
        Some("org.freedesktop.Notifications"),
        "/org/freedesktop/Notifications",
        Some("org.freedesktop.Notifications"),
        "Notify",
        &(
            "stint",
            0u32,
            "",
            summary,
            body,
            Vec::<&str>::new(),
            hints,
            -1i32,
        ),
    )
    .map_err(|e| format!("no notification server answered: {e}"))?;
    Ok(())
}
