//! Samplers: the only code that reads the desktop (input counts, active window,
//! screens, webcam). Each sits behind a small trait with a probing constructor that
//! either returns a working sampler or says exactly why it cannot work here.
//!
//! Samplers never touch the network or the queue; the daemon decides what to keep.

#[cfg(target_os = "linux")]
pub mod desktop;
pub mod input;
pub mod screen;
pub mod screen_helper;
pub mod source;
#[cfg(target_os = "linux")]
pub mod wayland;
pub mod webcam;
pub mod window;
#[cfg(target_os = "linux")]
pub(crate) mod x11;

use std::time::Duration;

/// Why a sampler cannot work (at all, or for one iteration).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SamplerError {
    #[error("no graphical session: {0}")]
    NoDisplay(String),
    #[error("Wayland session: {0}")]
    Wayland(String),
    #[error("the window manager does not publish the active window (_NET_ACTIVE_WINDOW)")]
    NoWindowManager,
    #[error("no camera found")]
    NoCamera,
    #[error("permission denied: {0}")]
    Permission(String),
    /// The input devices exist, but belong to a group this user is not in.
    #[error("cannot read {path}: the input devices belong to the '{group}' group, which {user} is not in")]
    InputGroup {
        path: String,
        group: String,
        user: String,
    },
    /// The kernel shows no input devices at all (a container, a VM without
    /// them, a headless session): there is nothing to count.
    #[error("no input devices under /dev/input ({0})")]
    NoInputDevices(String),
    #[error("not supported here: {0}")]
    Unsupported(String),
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    #[error("{0}")]
    Failed(String),
}

impl SamplerError {
    /// What a person can do about it; `stint doctor` prints this.
    pub fn fix(&self) -> String {
        let fixed: &str = match self {
            SamplerError::InputGroup { group, user, .. } => {
                return format!(
                    "add {user} to the '{group}' group: sudo usermod -aG {group} {user}, then log out and in again; stint finds the devices within a minute"
                )
            }
            SamplerError::NoDisplay(_) => {
                "run stint inside the user's desktop session (DISPLAY must be set), e.g. from the XDG autostart entry"
            }
            SamplerError::Wayland(_) => {
                "on Wayland: sway works as it is; GNOME needs the stint focus extension enabled and KDE the stint KWin script (both come with the packages); any other compositor: log in with an X11 (Xorg) session"
            }
            SamplerError::NoWindowManager => {
                "use an EWMH-compliant window manager (GNOME, KDE, Xfce, openbox, i3 ...)"
            }
            SamplerError::NoCamera => "connect a camera, or set capture.webcam = false",
            SamplerError::Permission(_) => {
                "grant the permission (macOS: System Settings > Privacy & Security; Linux: add the user to the 'video' group for cameras, and on Wayland to the 'input' group for input counts: sudo usermod -aG input USER, then log in again)"
            }
            SamplerError::Unsupported(_) => "this capability is not available on this platform",
            SamplerError::NoInputDevices(_) => {
                "nothing to do on this machine: it shows the kernel no keyboard or mouse (a container, a VM or a headless session has none); on a desktop with them, counts work as they are"
            }
            SamplerError::TimedOut(_) | SamplerError::Failed(_) => {
                "see the log for details; the sampler is retried at its next interval"
            }
        };
        fixed.to_string()
    }
}

/// The graphical session in words, for `stint doctor`: which display or
/// compositor, so the routes each sampler names make sense beside it.
pub fn session_name() -> String {
    #[cfg(target_os = "linux")]
    return match desktop::current() {
        desktop::Desktop::X11 => format!(
            "X11, display {}",
            std::env::var("DISPLAY").unwrap_or_else(|_| "(DISPLAY not set)".into())
        ),
        desktop::Desktop::Sway { socket } => format!("Wayland: sway, its IPC at {socket}"),
        desktop::Desktop::Gnome => "Wayland: GNOME Shell".into(),
        desktop::Desktop::Kde => "Wayland: KDE Plasma (KWin)".into(),
        desktop::Desktop::OtherWayland(name) => format!("Wayland: {name}"),
    };
    #[cfg(not(target_os = "linux"))]
    "the desktop session".into()
}

/// Whether a graphical session is reachable at all (on X11: `$DISPLAY` connects).
pub fn probe_session() -> Result<(), SamplerError> {
    window::probe_session()
}

/// Runs one blocking sampler iteration on the blocking pool under a timeout. A panic
/// inside a platform library is contained and reported as a failed iteration.
pub async fn run_blocking<T, F>(timeout: Duration, f: F) -> Result<T, SamplerError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SamplerError> + Send + 'static,
{
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(f)).await {
        Err(_) => Err(SamplerError::TimedOut(timeout)),
        Ok(Err(join)) => Err(SamplerError::Failed(format!("sampler panicked: {join}"))),
        Ok(Ok(result)) => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input without counts says the one step that helps: joining the
    /// devices' group, named with the user; or that there is none.
    #[test]
    fn input_errors_name_their_own_fix() {
        let group = SamplerError::InputGroup {
            path: "/dev/input/event3".into(),
            group: "input".into(),
            user: "max".into(),
        };
        assert_eq!(
            group.to_string(),
            "cannot read /dev/input/event3: the input devices belong to the 'input' group, which max is not in"
        );
        assert!(group
            .fix()
            .starts_with("add max to the 'input' group: sudo usermod -aG input max"));
        let none = SamplerError::NoInputDevices("/dev/input: No such file or directory".into());
        assert!(
            none.fix().starts_with("nothing to do on this machine"),
            "{}",
            none.fix()
        );
    }
}
