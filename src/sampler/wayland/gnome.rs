//! GNOME (Mutter) on Wayland: the focused window from stint's own Shell
//! extension (`installers/linux/gnome-shell/`, D-Bus `dev.stint.Focus`),
//! since GNOME closes `Shell.Introspect` and `Eval` to other programs; idle
//! time from Mutter's `org.gnome.Mutter.IdleMonitor`.

use zbus::blocking::Connection;

use crate::sampler::source::{WindowInfo, WindowSource};
use crate::sampler::SamplerError;

const FOCUS_NAME: &str = "dev.stint.Focus";
pub const EXTENSION: &str = "stint-focus@stint.dev";

fn bus() -> Result<Connection, SamplerError> {
    Connection::session().map_err(|e| SamplerError::Failed(format!("the session bus: {e}")))
}

pub struct GnomeWindows {
    conn: Connection,
}

impl GnomeWindows {
    /// Probes for the extension's name on the bus.
    pub fn connect() -> Result<GnomeWindows, SamplerError> {
        let conn = bus()?;
        if !crate::platform::on_bus(&conn, FOCUS_NAME) {
            return Err(SamplerError::Wayland(format!(
                "GNOME shows the focused window only to its extensions, and the stint focus extension is not running: gnome-extensions enable {EXTENSION} (the packages install it), then log in again"
            )));
        }
        Ok(GnomeWindows { conn })
    }
}

impl WindowSource for GnomeWindows {
    fn backend(&self) -> &'static str {
        "GNOME Shell extension"
    }

    fn active(&self) -> Result<Option<WindowInfo>, SamplerError> {
        let reply = self
            .conn
            .call_method(
                Some(FOCUS_NAME),
                "/dev/stint/Focus",
                Some("dev.stint.Focus1"),
                "FocusedWindow",
                &(),
            )
            .map_err(|e| SamplerError::Failed(format!("{FOCUS_NAME}: {e}")))?;
        let (title, app, pid): (String, String, u32) = reply
            .body()
            .deserialize()
            .map_err(|e| SamplerError::Failed(format!("{FOCUS_NAME}: {e}")))?;
        Ok(super::window_of(title, app, pid))
    }
}

/// Mutter's idle time, in milliseconds.
pub struct MutterIdle {
    conn: Connection,
}

impl MutterIdle {
    pub fn connect() -> Result<MutterIdle, SamplerError> {
        let idle = MutterIdle { conn: bus()? };
        idle.idle_ms()?;
        Ok(idle)
    }

    pub fn idle_ms(&self) -> Result<u64, SamplerError> {
        let reply = self
            .conn
            .call_method(
                Some("org.gnome.Mutter.IdleMonitor"),
                "/org/gnome/Mutter/IdleMonitor/Core",
                Some("org.gnome.Mutter.IdleMonitor"),
                "GetIdletime",
                &(),
            )
            .map_err(|e| SamplerError::Unsupported(format!("org.gnome.Mutter.IdleMonitor: {e}")))?;
        reply
            .body()
            .deserialize()
            .map_err(|e| SamplerError::Failed(format!("org.gnome.Mutter.IdleMonitor: {e}")))
    }
}
