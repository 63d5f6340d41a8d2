//! Input on Wayland, where no protocol gives an ordinary client global input:
//! exact counts from evdev when the user may read `/dev/input`, else only
//! the compositor's idle time (its idle protocol, or Mutter's monitor), with
//! the counts recorded as unknown and the reason said.

use super::{InputCounts, InputSource, Limitation};
use crate::sampler::wayland::{gnome, protocols};
use crate::sampler::SamplerError;

/// Input on Wayland: exact counts from evdev when the user may read the
/// devices; otherwise idle time from the compositor, with counts unknown.
pub fn input() -> Result<Box<dyn InputSource>, SamplerError> {
    let why = match super::evdev::create() {
        Ok(source) => return Ok(source),
        Err(e) => e,
    };
    let idle_err = match protocols::idle() {
        Ok(idle) => {
            let backend = idle.protocol;
            return Ok(Box::new(IdleOnly {
                idle: Box::new(move || idle.idle_ms()),
                backend,
                why,
            }));
        }
        Err(e) => e,
    };
    // Mutter offers no idle protocol to clients, but its D-Bus monitor.
    match gnome::MutterIdle::connect() {
        Ok(m) => Ok(Box::new(IdleOnly {
            idle: Box::new(move || m.idle_ms().unwrap_or(0)),
            backend: "org.gnome.Mutter.IdleMonitor",
            why,
        })),
        Err(_) => Err(SamplerError::Failed(format!(
            "{why}; and no idle time either: {idle_err}"
        ))),
    }
}

/// Idle time without counts: the compositor's idle notification or monitor.
struct IdleOnly {
    idle: Box<dyn Fn() -> u64 + Send + Sync>,
    backend: &'static str,
    why: SamplerError,
}

impl InputSource for IdleOnly {
    fn take_counts(&self) -> Option<InputCounts> {
        None
    }

    fn idle_ms(&self) -> u64 {
        (self.idle)()
    }

    fn healthy(&self) -> bool {
        true
    }

    fn backend(&self) -> &'static str {
        self.backend
    }

    fn limitation(&self) -> Option<Limitation> {
        Some(Limitation::NoCounts(self.why.clone()))
    }
}
