//! Which graphical session this process runs in, as far as the environment
//! tells: X11, or one of the Wayland compositor families stint has routes
//! into. A leaf: every Linux sampler asks it before choosing its route.

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
