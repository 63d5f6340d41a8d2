//! Windows and macOS: active-win-pos-rs reads titles natively; nothing to repair.

use crate::sampler::SamplerError;

pub fn probe() -> Result<(), SamplerError> {
    Ok(())
}

pub fn fallback_title(_window_id: &str) -> Option<String> {
    None
}

pub fn probe_session() -> Result<(), SamplerError> {
    Ok(())
}
