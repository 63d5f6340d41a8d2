//! The fallback on Windows and macOS when their event source cannot be opened:
//! counting by polling device state (device_query) at 50 Hz. Presses and clicks
//! shorter than one poll are missed and software-injected ones cannot be told
//! apart, so status and doctor label it, and the daemon keeps retrying the
//! event source (see [`Limitation`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use device_query::{DeviceQuery, DeviceState};

use super::{classify_button, Counters, InputSource, KeyTracker, Limitation, POLL_MS};
use crate::sampler::SamplerError;

struct PolledInput {
    counters: Arc<Counters>,
    why: String,
}

/// `why`: why the event source is not in use.
pub fn create(why: String) -> Result<Box<dyn InputSource>, SamplerError> {
    // checked_new fails on macOS until Input Monitoring/Accessibility is granted.
    if DeviceState::checked_new().is_none() {
        return Err(SamplerError::Permission(
            "reading keyboard and mouse state was refused".into(),
        ));
    }
    let counters = Arc::new(Counters::new());
    let weak = Arc::downgrade(&counters);
    std::thread::Builder::new()
        .name("stint-input-poll".into())
        .spawn(move || poll_loop(&weak))
        .map_err(|e| SamplerError::Failed(format!("spawn input thread: {e}")))?;
    Ok(Box::new(PolledInput { counters, why }))
}

/// Polls until the source is dropped (the daemon replaced it).
fn poll_loop(counters: &Weak<Counters>) {
    let state = DeviceState::new();
    let mut keys = KeyTracker::default();
    let mut buttons = KeyTracker::default();
    let mut last_pos = state.get_mouse().coords;
    while let Some(counters) = counters.upgrade() {
        for _ in keys.snapshot(state.get_keys()) {
            counters.key(false);
        }
        let mouse = state.get_mouse();
        let down = mouse
            .button_pressed
            .iter()
            .enumerate()
            .filter(|(_, &d)| d)
            .map(|(i, _)| i as u32);
        for b in buttons.snapshot(down) {
            counters.button(classify_button(b), false);
        }
        if mouse.coords != last_pos {
            last_pos = mouse.coords;
            counters.touch();
        }
        drop(counters);
        std::thread::sleep(Duration::from_millis(POLL_MS));
    }
}

impl InputSource for PolledInput {
    fn take_counts(&self) -> Option<super::InputCounts> {
        Some(self.counters.take())
    }

    fn idle_ms(&self) -> u64 {
        self.counters.idle_ms()
    }

    fn healthy(&self) -> bool {
        self.counters.alive()
    }

    fn backend(&self) -> &'static str {
        "device_query-poll"
    }

    fn limitation(&self) -> Option<Limitation> {
        Some(Limitation::Polling(self.why.clone()))
    }
}
