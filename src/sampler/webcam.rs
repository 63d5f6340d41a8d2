//! Optional webcam frame through nokhwa; off unless policy enables it.
//!
//! MJPEG frames are stored as the camera sent them (no decode, no re-encode);
//! raw formats are converted with nokhwa's pure-Rust decoders and JPEG-encoded.

use std::sync::Arc;

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{ApiBackend, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

use super::SamplerError;
use crate::encode::{encode, EncodeOptions, Encoded, Pixels};

pub trait WebcamSource: Send + Sync {
    /// One frame, and the camera's name.
    fn capture(&self, opts: EncodeOptions) -> Result<(String, Encoded), SamplerError>;
}

/// Probes for a camera; `NoCamera` when the system lists none.
pub fn create() -> Result<Arc<dyn WebcamSource>, SamplerError> {
    let cams = nokhwa::query(ApiBackend::Auto).map_err(map_err)?;
    if cams.is_empty() {
        return Err(SamplerError::NoCamera);
    }
    Ok(Arc::new(NokhwaCamera))
}

struct NokhwaCamera;

impl WebcamSource for NokhwaCamera {
    fn capture(&self, opts: EncodeOptions) -> Result<(String, Encoded), SamplerError> {
        let info = nokhwa::query(ApiBackend::Auto)
            .map_err(map_err)?
            .into_iter()
            .next()
            .ok_or(SamplerError::NoCamera)?;
        let format =
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestResolution);
        let index = info.index().clone();
        let mut cam = nokhwa::Camera::new(index.clone(), format).map_err(map_err)?;
        cam.open_stream().map_err(map_err)?;
        let frame = cam.frame();
        let _ = cam.stop_stream();
        let frame = frame.map_err(map_err)?;
        let res = frame.resolution();
        let name = match index {
            CameraIndex::Index(i) => format!("{} #{i}", info.human_name()),
            CameraIndex::String(s) => format!("{} {s}", info.human_name()),
        };
        if frame.source_frame_format() == FrameFormat::MJPEG {
            return Ok((
                name,
                Encoded {
                    width: res.width(),
                    height: res.height(),
                    data: frame.buffer().to_vec(),
                    format: "jpeg",
                },
            ));
        }
        let rgb = frame.decode_image::<RgbFormat>().map_err(map_err)?;
        let (w, h) = (rgb.width(), rgb.height());
        let enc = encode(rgb.as_raw(), Pixels::Rgb, w, h, opts)
            .map_err(|e| SamplerError::Failed(e.to_string()))?;
        Ok((name, enc))
    }
}

fn map_err(e: nokhwa::NokhwaError) -> SamplerError {
    let text = e.to_string();
    if text.to_lowercase().contains("permission") {
        SamplerError::Permission(text)
    } else {
        SamplerError::Failed(format!("camera: {text}"))
    }
}
