//! Linux Wayland: which compositor family the session runs, and the routes
//! stint has into each. No Wayland protocol gives an ordinary client global
//! input or the focused window, so each family gets its own: sway's IPC for
//! the window (`sway.rs`), the compositor's idle and screencopy protocols
//! (`protocols.rs`), stint's GNOME Shell extension (`gnome.rs`) and KWin
//! script (`kde.rs`) for the window there, `wlr-foreign-toplevel-management`
//! on other wlroots compositors (`toplevel.rs`), the desktop portal for their
//! screenshots (`portal.rs`), and evdev for input counts on any of them
//! (`evdev.rs`).

pub mod evdev;
pub mod gnome;
pub mod kde;
pub mod portal;
pub mod protocols;
pub mod sway;
pub mod toplevel;

use std::sync::Arc;

use super::input::{InputCounts, InputSource, Limitation};
use super::window::{WindowInfo, WindowSource};
use super::SamplerError;

/// The graphical session, as far as the environment tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desktop {
    /// Xorg (or no Wayland variables): the X11 samplers apply.
    X11,
    /// sway, reachable over its IPC socket (`SWAYSOCK`).
    Sway { socket: String },
    /// GNOME Shell (Mutter).
    Gnome,
    /// KDE Plasma (KWin).
    Kde,
    /// Another Wayland compositor (Hyprland, river, Weston ...), by name.
    OtherWayland(String),
}

/// Reads the session from `var` (the process environment in practice).
pub fn detect(var: impl Fn(&str) -> Option<String>) -> Desktop {
    let set = |k: &str| var(k).filter(|v| !v.is_empty());
    let wayland =
        set("WAYLAND_DISPLAY").is_some() || set("XDG_SESSION_TYPE").as_deref() == Some("wayland");
    if !wayland {
        return Desktop::X11;
    }
    if let Some(socket) = set("SWAYSOCK") {
        return Desktop::Sway { socket };
    }
    let desktop = set("XDG_CURRENT_DESKTOP").unwrap_or_default();
    let names: Vec<String> = desktop.split(':').map(str::to_ascii_lowercase).collect();
    if names.iter().any(|n| n == "gnome") {
        Desktop::Gnome
    } else if names.iter().any(|n| n == "kde") {
        Desktop::Kde
    } else if names.iter().any(|n| n == "sway") {
        // sway without its socket variable: the IPC is out of reach.
        Desktop::OtherWayland("sway (SWAYSOCK not set)".into())
    } else {
        Desktop::OtherWayland(if desktop.is_empty() {
            "unknown compositor".into()
        } else {
            desktop
        })
    }
}

/// The focused window on a Wayland desktop, by the route its family allows.
pub fn window() -> Result<Arc<dyn WindowSource>, SamplerError> {
    match current() {
        Desktop::Sway { socket } => Ok(Arc::new(sway::SwayWindows::connect(&socket)?)),
        Desktop::Gnome => Ok(Arc::new(gnome::GnomeWindows::connect()?)),
        Desktop::Kde => Ok(Arc::new(kde::KdeWindows::start()?)),
        Desktop::OtherWayland(name) => toplevel::Toplevels::connect()
            .map(|t| Arc::new(t) as Arc<dyn WindowSource>)
            .map_err(|e| match e {
                SamplerError::Wayland(why) => SamplerError::Wayland(format!("{name}: {why}")),
                other => other,
            }),
        Desktop::X11 => Err(SamplerError::Wayland("not a Wayland session".into())),
    }
}

/// A window from what a compositor route reports: title, application id
/// (or class) and pid, the program read from `/proc/PID/exe`.
pub fn window_of(title: String, app: String, pid: u32) -> Option<WindowInfo> {
    if title.is_empty() && app.is_empty() && pid == 0 {
        return None; // nothing has the focus
    }
    let exe = (pid > 0)
        .then(|| std::fs::read_link(format!("/proc/{pid}/exe")).ok())
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let app = if app.is_empty() && !exe.is_empty() {
        super::window::app_from_path(&exe)
    } else {
        app
    };
    Some(
        WindowInfo {
            title,
            exe_path: exe,
            app,
        }
        .clipped(),
    )
}

/// Screenshots: wlr-screencopy where the compositor offers it, else the
/// desktop portal (GNOME, KDE).
pub fn screens() -> Result<Arc<dyn super::screen::ScreenSource>, SamplerError> {
    let copy = match protocols::probe_screencopy() {
        Ok(()) => return Ok(Arc::new(WlrScreens)),
        Err(e) => e,
    };
    let detail = |e: &SamplerError| match e {
        SamplerError::Unsupported(text) => text.clone(),
        other => other.to_string(),
    };
    match portal::probe() {
        Ok(()) => Ok(Arc::new(PortalScreens)),
        Err(p) => Err(SamplerError::Unsupported(format!(
            "{}; {}",
            detail(&copy),
            detail(&p)
        ))),
    }
}

/// How screenshots are taken in this session, for `stint status`.
pub fn screens_backend() -> &'static str {
    match current() {
        Desktop::Gnome | Desktop::Kde => "screenshot portal",
        _ => "wlr-screencopy",
    }
}

/// The whole desktop through the portal, as one picture.
pub struct PortalScreens;

/// Under the screenshot helper's own time limit, with room to spare.
const PORTAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

impl super::screen::ScreenSource for PortalScreens {
    fn capture_all(
        &self,
        opts: crate::encode::EncodeOptions,
    ) -> Result<Vec<super::screen::Shot>, SamplerError> {
        encode_frames(vec![portal::screenshot(PORTAL_TIMEOUT)?], opts)
    }
}

fn encode_frames(
    frames: Vec<protocols::Frame>,
    opts: crate::encode::EncodeOptions,
) -> Result<Vec<super::screen::Shot>, SamplerError> {
    frames
        .into_iter()
        .map(|f| {
            let image = crate::encode::encode(
                &f.rgba,
                crate::encode::Pixels::Rgba,
                f.width,
                f.height,
                opts,
            )
            .map_err(|e| SamplerError::Failed(e.to_string()))?;
            Ok(super::screen::Shot {
                monitor: f.output,
                image,
            })
        })
        .collect()
}

/// Input on Wayland: exact counts from evdev when the user may read the
/// devices; otherwise idle time from the compositor, with counts unknown.
pub fn input() -> Result<Box<dyn InputSource>, SamplerError> {
    let why = match evdev::create() {
        Ok(source) => return Ok(source),
        Err(e) => e,
    };
    let idle_err = match protocols::idle() {
        Ok(idle) => {
            let backend = idle.protocol;
            return Ok(Box::new(IdleOnly {
                idle: Box::new(move || idle.idle_ms()),
                backend,
                why,
            }));
        }
        Err(e) => e,
    };
    // Mutter offers no idle protocol to clients, but its D-Bus monitor.
    match gnome::MutterIdle::connect() {
        Ok(m) => Ok(Box::new(IdleOnly {
            idle: Box::new(move || m.idle_ms().unwrap_or(0)),
            backend: "org.gnome.Mutter.IdleMonitor",
            why,
        })),
        Err(_) => Err(SamplerError::Failed(format!(
            "{why}; and no idle time either: {idle_err}"
        ))),
    }
}

/// Idle time without counts: the compositor's idle notification or monitor.
struct IdleOnly {
    idle: Box<dyn Fn() -> u64 + Send + Sync>,
    backend: &'static str,
    why: SamplerError,
}

impl InputSource for IdleOnly {
    fn take_counts(&self) -> Option<InputCounts> {
        None
    }

    fn idle_ms(&self) -> u64 {
        (self.idle)()
    }

    fn healthy(&self) -> bool {
        true
    }

    fn backend(&self) -> &'static str {
        self.backend
    }

    fn limitation(&self) -> Option<Limitation> {
        Some(Limitation::NoCounts(self.why.clone()))
    }
}

/// Screenshots through wlr-screencopy, encoded one output at a time.
pub struct WlrScreens;

impl super::screen::ScreenSource for WlrScreens {
    fn capture_all(
        &self,
        opts: crate::encode::EncodeOptions,
    ) -> Result<Vec<super::screen::Shot>, SamplerError> {
        encode_frames(protocols::screencopy()?, opts)
    }
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

/// The session this process runs in.
pub fn current() -> Desktop {
    detect(|k| std::env::var(k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_names_the_desktop() {
        for (vars, want) in [
            (vec![("DISPLAY", ":0")], Desktop::X11),
            (vec![("WAYLAND_DISPLAY", "")], Desktop::X11),
            (
                vec![
                    ("WAYLAND_DISPLAY", "wayland-1"),
                    ("SWAYSOCK", "/run/sway.sock"),
                ],
                Desktop::Sway {
                    socket: "/run/sway.sock".into(),
                },
            ),
            (
                vec![
                    ("XDG_SESSION_TYPE", "wayland"),
                    ("XDG_CURRENT_DESKTOP", "ubuntu:GNOME"),
                ],
                Desktop::Gnome,
            ),
            (
                vec![
                    ("WAYLAND_DISPLAY", "wayland-0"),
                    ("XDG_CURRENT_DESKTOP", "KDE"),
                ],
                Desktop::Kde,
            ),
            (
                vec![
                    ("WAYLAND_DISPLAY", "wayland-1"),
                    ("XDG_CURRENT_DESKTOP", "sway"),
                ],
                Desktop::OtherWayland("sway (SWAYSOCK not set)".into()),
            ),
            (
                vec![
                    ("WAYLAND_DISPLAY", "wayland-1"),
                    ("XDG_CURRENT_DESKTOP", "Hyprland"),
                ],
                Desktop::OtherWayland("Hyprland".into()),
            ),
        ] {
            let got = detect(|k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            });
            assert_eq!(got, want, "{vars:?}");
        }
    }
}
