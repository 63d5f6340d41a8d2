//! Linux tray loop: GTK on the tray process's main thread (libappindicator shows the
//! icon to a StatusNotifierItem host and falls back to XEmbed trays).

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
