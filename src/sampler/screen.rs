//! Screenshots of every monitor through xcap, encoded on the spot so full-size
//! pixel buffers never outlive one monitor's capture. The `stint` binary runs
//! them in a helper process (`screen_helper.rs`); the library alone captures
//! in-process.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::SamplerError;
use crate::encode::{encode, EncodeOptions, Pixels};

pub use super::source::{ScreenSource, Shot};

/// The executable to run as the screenshot helper, chosen once by the binary.
static HELPER: OnceLock<PathBuf> = OnceLock::new();

/// Makes `create` capture through `exe capture-screens` from now on: only the
/// `stint` binary knows that it is one.
pub fn use_helper(exe: PathBuf) {
    let _ = HELPER.set(exe);
}

/// Probes the display; captures then run in the helper when there is one, and
/// it is killed after `timeout`.
pub fn create(timeout: Duration) -> Result<Arc<dyn ScreenSource>, SamplerError> {
    let in_process = create_in_process()?;
    Ok(match HELPER.get() {
        Some(exe) => Arc::new(super::screen_helper::HelperScreens {
            exe: exe.clone(),
            timeout,
        }),
        None => in_process,
    })
}

/// How screenshots are taken here, for `stint status`.
pub fn backend() -> &'static str {
    #[cfg(target_os = "linux")]
    if super::desktop::current() != super::desktop::Desktop::X11 {
        return super::wayland::screens_backend();
    }
    "xcap"
}

/// Captures in this process: what the helper itself runs.
pub fn create_in_process() -> Result<Arc<dyn ScreenSource>, SamplerError> {
    super::probe_session()?;
    #[cfg(target_os = "linux")]
    if super::desktop::current() != super::desktop::Desktop::X11 {
        return super::wayland::screens();
    }
    let monitors = xcap::Monitor::all().map_err(map_err)?;
    if monitors.is_empty() {
        return Err(SamplerError::Failed(
            "the display reports no monitors".into(),
        ));
    }
    Ok(Arc::new(XcapScreens))
}

struct XcapScreens;

impl ScreenSource for XcapScreens {
    fn capture_all(&self, opts: EncodeOptions) -> Result<Vec<Shot>, SamplerError> {
        let monitors = xcap::Monitor::all().map_err(map_err)?;
        let mut shots = Vec::with_capacity(monitors.len());
        let mut last_err = None;
        for (i, m) in monitors.iter().enumerate() {
            let name = m.name().unwrap_or_else(|_| format!("monitor-{i}"));
            let result = m.capture_image().map_err(map_err).and_then(|img| {
                let (w, h) = img.dimensions();
                encode(img.as_raw(), Pixels::Rgba, w, h, opts)
                    .map_err(|e| SamplerError::Failed(e.to_string()))
            });
            match result {
                Ok(image) => shots.push(Shot {
                    monitor: name,
                    image,
                }),
                Err(e) => {
                    tracing::warn!(monitor = %name, error = %e, "monitor capture failed");
                    last_err = Some(e);
                }
            }
        }
        match (shots.is_empty(), last_err) {
            (true, Some(e)) => Err(e),
            _ => Ok(shots),
        }
    }
}

fn map_err(e: xcap::XCapError) -> SamplerError {
    let text = e.to_string();
    if text.to_lowercase().contains("permission") {
        SamplerError::Permission(text)
    } else {
        SamplerError::Failed(format!("screen capture: {text}"))
    }
}
