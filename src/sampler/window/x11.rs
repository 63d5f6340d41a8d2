//! X11 repairs for the active-window sampler: probing for an EWMH window manager
//! and reading titles of windows that only set the legacy WM_NAME property.

use std::sync::Arc;

use super::activewin::ActiveWin;
use super::WindowSource;
use crate::sampler::x11;
use crate::sampler::SamplerError;

pub const BACKEND: &str = "active-win-pos-rs";

pub fn create() -> Result<Arc<dyn WindowSource>, SamplerError> {
    use crate::sampler::desktop::{current, Desktop};
    if current() != Desktop::X11 {
        return crate::sampler::wayland::window();
    }
    let (conn, screen) = x11::connect_x11()?;
    if !x11::wm_publishes_active_window(&conn, screen) {
        return Err(SamplerError::NoWindowManager);
    }
    Ok(ActiveWin::source(fallback_title))
}

/// `window_id` is the decimal X resource id active-win-pos-rs reports.
fn fallback_title(window_id: &str) -> Option<String> {
    let win: u32 = window_id.parse().ok()?;
    let (conn, _) = x11::connect_x11().ok()?;
    x11::window_title(&conn, win)
}

pub fn probe_session() -> Result<(), SamplerError> {
    use crate::sampler::desktop::{current, Desktop};
    match current() {
        Desktop::X11 => x11::connect_x11().map(drop),
        _ => crate::sampler::wayland::protocols::probe_connection(),
    }
}
