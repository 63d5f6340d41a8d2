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
    #[error("not supported here: {0}")]
    Unsupported(String),
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    #[error("{0}")]
    Failed(String),
}

impl SamplerError {
    /// What a person can do about it; `stint doctor` prints this.
    pub fn fix(&self) -> &'static str {
        match self {
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
            SamplerError::TimedOut(_) | SamplerError::Failed(_) => {
                "see the log for details; the sampler is retried at its next interval"
            }
        }
    }
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
