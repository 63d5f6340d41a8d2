//! macOS: active-win-pos-rs reads titles natively; nothing to repair.

use std::sync::Arc;

use super::activewin::ActiveWin;
use super::WindowSource;
use crate::sampler::SamplerError;

pub const BACKEND: &str = "active-win-pos-rs";

pub fn create() -> Result<Arc<dyn WindowSource>, SamplerError> {
    Ok(ActiveWin::source(|_| None))
}

pub fn probe_session() -> Result<(), SamplerError> {
    Ok(())
}
