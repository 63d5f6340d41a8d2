//! Linux Wayland: which compositor family the session runs, and the routes
//! stint has into each. No Wayland protocol gives an ordinary client global
//! input or the focused window, so each family gets its own: sway's IPC for
//! the window (`sway.rs`), the compositor's idle and screencopy protocols
//! (`protocols.rs`), stint's GNOME Shell extension (`gnome.rs`) and KWin
//! script (`kde.rs`) for the window there, `wlr-foreign-toplevel-management`
//! on other wlroots compositors (`toplevel.rs`), the desktop portal for their
//! screenshots (`portal.rs`); input counts on any of them come from evdev
//! (`input/evdev.rs`). These modules read the desktop; the traits they
//! serve are `source.rs`'s, and which session this is, `desktop.rs`'s.

pub mod gnome;
pub mod kde;
pub mod portal;
pub mod protocols;
pub mod sway;
pub mod toplevel;

use std::sync::Arc;

pub use super::desktop::{current, Desktop};
use super::source::{ScreenSource, Shot, WindowInfo, WindowSource};
use super::SamplerError;

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
        super::source::app_from_path(&exe)
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
pub fn screens() -> Result<Arc<dyn ScreenSource>, SamplerError> {
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

impl ScreenSource for PortalScreens {
    fn capture_all(&self, opts: crate::encode::EncodeOptions) -> Result<Vec<Shot>, SamplerError> {
        encode_frames(vec![portal::screenshot(PORTAL_TIMEOUT)?], opts)
    }
}

fn encode_frames(
    frames: Vec<protocols::Frame>,
    opts: crate::encode::EncodeOptions,
) -> Result<Vec<Shot>, SamplerError> {
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
            Ok(Shot {
                monitor: f.output,
                image,
            })
        })
        .collect()
}

/// Screenshots through wlr-screencopy, encoded one output at a time.
pub struct WlrScreens;

impl ScreenSource for WlrScreens {
    fn capture_all(&self, opts: crate::encode::EncodeOptions) -> Result<Vec<Shot>, SamplerError> {
        encode_frames(protocols::screencopy()?, opts)
    }
}
