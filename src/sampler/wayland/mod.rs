//! Linux Wayland: which compositor family the session runs, and the routes
//! stint has into each. No Wayland protocol gives an ordinary client global
//! input or the focused window, so each family gets its own: sway's IPC for
//! the window (`sway.rs`), the compositor's idle and screencopy protocols
//! (`protocols.rs`), and evdev for input counts on any of them (`evdev.rs`).

pub mod evdev;
pub mod protocols;
pub mod sway;

use std::sync::Arc;

use super::input::{InputCounts, InputSource, Limitation};
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

/// Why the focused window cannot be read on `desktop`, and what would.
pub fn no_window_route(desktop: &Desktop) -> SamplerError {
    SamplerError::Wayland(match desktop {
        Desktop::Gnome => "GNOME keeps the focused window to itself; stint needs its GNOME Shell extension there, which is not written yet".into(),
        Desktop::Kde => "KWin keeps the focused window to itself; stint needs its KWin script there, which is not written yet".into(),
        Desktop::OtherWayland(name) => format!("{name}: stint reads the focused window through sway's IPC only"),
        Desktop::X11 | Desktop::Sway { .. } => "the focused window is readable here".into(),
    })
}

/// Input on Wayland: exact counts from evdev when the user may read the
/// devices; otherwise idle time from the compositor, with counts unknown.
pub fn input() -> Result<Box<dyn InputSource>, SamplerError> {
    let why = match evdev::create() {
        Ok(source) => return Ok(source),
        Err(e) => e,
    };
    match protocols::idle() {
        Ok(idle) => Ok(Box::new(IdleOnly { idle, why })),
        Err(idle_err) => Err(SamplerError::Failed(format!(
            "{why}; and no idle time either: {idle_err}"
        ))),
    }
}

/// Idle time without counts: the compositor's idle notification.
struct IdleOnly {
    idle: Arc<protocols::Idle>,
    why: SamplerError,
}

impl InputSource for IdleOnly {
    fn take_counts(&self) -> Option<InputCounts> {
        None
    }

    fn idle_ms(&self) -> u64 {
        self.idle.idle_ms()
    }

    fn healthy(&self) -> bool {
        true
    }

    fn backend(&self) -> &'static str {
        self.idle.protocol
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
        protocols::screencopy()?
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
