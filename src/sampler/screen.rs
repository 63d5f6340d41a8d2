//! Screenshots of every monitor through xcap, encoded on the spot so full-size
//! pixel buffers never outlive one monitor's capture.

use std::sync::Arc;

use super::SamplerError;
use crate::encode::{encode, EncodeOptions, Encoded, Pixels};

/// One monitor's encoded screenshot.
#[derive(Debug, Clone)]
pub struct Shot {
    pub monitor: String,
    pub image: Encoded,
}

pub trait ScreenSource: Send + Sync {
    /// Captures every monitor. A monitor that fails is logged and skipped; the call
    /// fails only when none could be captured.
    fn capture_all(&self, opts: EncodeOptions) -> Result<Vec<Shot>, SamplerError>;
}

pub fn create() -> Result<Arc<dyn ScreenSource>, SamplerError> {
    super::probe_session()?;
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
