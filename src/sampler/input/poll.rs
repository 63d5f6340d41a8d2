//! Input counting by polling device state (device_query) for platforms where stint
//! has no event API yet (Windows, macOS). Polls at 50 Hz: presses shorter than one
//! poll can be missed, which is why Linux uses raw events instead.

use std::sync::Arc;
use std::time::Duration;

use device_query::{DeviceQuery, DeviceState};

use super::{classify_button, Counters, InputSource, KeyTracker};
use crate::sampler::SamplerError;

const POLL: Duration = Duration::from_millis(20);

struct PolledInput {
    counters: Arc<Counters>,
}

pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    // checked_new fails on macOS until Input Monitoring/Accessibility is granted.
    if DeviceState::checked_new().is_none() {
        return Err(SamplerError::Permission(
            "reading keyboard and mouse state was refused".into(),
        ));
    }
    let counters = Arc::new(Counters::new());
    let k = counters.clone();
    std::thread::Builder::new()
        .name("stint-input".into())
        .spawn(move || poll_loop(&k))
        .map_err(|e| SamplerError::Failed(format!("spawn input thread: {e}")))?;
    Ok(Box::new(PolledInput { counters }))
}

fn poll_loop(counters: &Counters) {
    let state = DeviceState::new();
    let mut keys = KeyTracker::default();
    let mut buttons = KeyTracker::default();
    let mut last_pos = state.get_mouse().coords;
    loop {
        for _ in keys.snapshot(state.get_keys()) {
            counters.key();
        }
        let mouse = state.get_mouse();
        let down = mouse
            .button_pressed
            .iter()
            .enumerate()
            .filter(|(_, &d)| d)
            .map(|(i, _)| i as u32);
        for b in buttons.snapshot(down) {
            counters.button(classify_button(b));
        }
        if mouse.coords != last_pos {
            last_pos = mouse.coords;
            counters.touch();
        }
        std::thread::sleep(POLL);
    }
}

impl InputSource for PolledInput {
    fn take_counts(&self) -> super::InputCounts {
        self.counters.take()
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
}
