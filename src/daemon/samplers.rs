//! The recorder's samplers: probed at start, switched on and off by policy, and
//! probed again (at most once a minute) while one is missing, died or stands in
//! for a better one, so an agent started before the desktop was ready, or
//! before a permission was granted, recovers on its own. Each change is
//! logged and stored as the `sampler.<name>` line of `stint status`, which the
//! tray shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::queue::{Queue, Sampler};
use crate::sampler::input::{self, InputSource};
use crate::sampler::screen::ScreenSource;
use crate::sampler::webcam::WebcamSource;
use crate::sampler::window::WindowSource;
use crate::sampler::{self, run_blocking, SamplerError};

const WEBCAM_PROBE: Duration = Duration::from_secs(10);
/// What the screen and webcam samplers are built on, for their status lines.
const WEBCAM_BACKEND: &str = "nokhwa";

/// The samplers that work on this machine; `None` where the probe failed or config
/// disabled them.
pub struct Samplers {
    pub input: Option<Box<dyn InputSource>>,
    pub window: Option<Arc<dyn WindowSource>>,
    pub screen: Option<Arc<dyn ScreenSource>>,
    pub webcam: Option<Arc<dyn WebcamSource>>,
    /// The input line last stored, to store (and log) only changes.
    input_state: String,
    last_probe: Instant,
}

/// One sampler's state, as stored for `stint status` under `sampler.<name>`.
fn describe<T>(r: &Result<T, SamplerError>, backend: &str) -> String {
    match r {
        Ok(_) => format!("ok ({backend})"),
        Err(e) => format!("unavailable: {e}"),
    }
}

fn keep<T>(name: &str, r: Result<T, SamplerError>) -> Option<T> {
    match r {
        Ok(v) => {
            tracing::info!(sampler = name, "sampler ready");
            Some(v)
        }
        Err(e) => {
            tracing::warn!(sampler = name, error = %e, fix = %e.fix(), "sampler unavailable");
            None
        }
    }
}

/// Stores sampler lines for `stint status`.
async fn store(queue: &Queue, states: Vec<(Sampler, String)>) {
    if states.is_empty() {
        return;
    }
    let result = queue
        .call(move |st| {
            for (sampler, line) in states {
                st.set_sampler_state(sampler, &line)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record sampler states");
    }
}

impl Samplers {
    /// Probes each sampler the config asks for and records what it found.
    pub async fn probe(cfg: &Config, queue: &Queue) -> Samplers {
        let mut s = Samplers {
            input: None,
            window: None,
            screen: None,
            webcam: None,
            input_state: String::new(),
            last_probe: Instant::now(),
        };
        let mut states = Vec::new();
        states.extend(s.set_input(input::create()));
        let window = sampler::window::create();
        states.push((Sampler::Window, describe_window(&window)));
        s.window = keep("window", window);
        states.extend(s.apply(cfg, "config").await);
        store(queue, states).await;
        s
    }

    /// Takes a freshly probed input source; returns its status line if it changed.
    fn set_input(
        &mut self,
        r: Result<Box<dyn InputSource>, SamplerError>,
    ) -> Option<(Sampler, String)> {
        let line = input::describe(&r);
        match &r {
            Ok(i) if i.limitation().is_none() => {
                tracing::info!(sampler = "input", backend = i.backend(), "sampler ready")
            }
            Ok(i) => {
                tracing::warn!(sampler = "input", backend = i.backend(), state = %line, "input counts are not exact")
            }
            Err(e) => {
                tracing::warn!(sampler = "input", error = %e, fix = %e.fix(), "sampler unavailable; counts are recorded as unknown")
            }
        }
        self.input = r.ok();
        (line != self.input_state).then(|| {
            self.input_state = line.clone();
            (Sampler::Input, line)
        })
    }

    /// Switches screenshots and webcam on or off as `cfg` says, `by` naming
    /// who decided ("config", "policy"); returns their status lines.
    async fn apply(&mut self, cfg: &Config, by: &str) -> Vec<(Sampler, String)> {
        let mut states = Vec::new();
        if !cfg.capture.screenshots {
            self.screen = None;
            states.push((Sampler::Screen, format!("disabled by {by}")));
        } else if self.screen.is_none() {
            let screen = sampler::screen::create(cfg.capture.timeout);
            states.push((
                Sampler::Screen,
                describe(&screen, sampler::screen::backend()),
            ));
            self.screen = keep("screen", screen);
        }
        if !cfg.capture.webcam {
            // Dropping the sampler releases the camera.
            self.webcam = None;
            states.push((Sampler::Webcam, format!("disabled by {by}")));
        } else if self.webcam.is_none() {
            let cam = run_blocking(WEBCAM_PROBE, sampler::webcam::create).await;
            states.push((Sampler::Webcam, describe(&cam, WEBCAM_BACKEND)));
            self.webcam = keep("webcam", cam);
        }
        states
    }

    /// Follows a new policy (`cfg` is the config with it laid over).
    pub async fn follow_policy(&mut self, cfg: &Config, queue: &Queue) {
        let states = self.apply(cfg, "policy").await;
        store(queue, states).await;
    }

    /// Retries what is missing, dead or a stand-in, at most once a minute.
    pub async fn reprobe(&mut self, cfg: &Config, queue: &Queue) {
        if self.last_probe.elapsed() < Duration::from_secs(60).min(cfg.schedule.minute) {
            return;
        }
        self.last_probe = Instant::now();
        let mut states = Vec::new();
        let retry_input = self
            .input
            .as_ref()
            .is_none_or(|i| !i.healthy() || i.limitation().is_some());
        if retry_input {
            let fresh = input::create();
            // A working stand-in (polling, idle only) gives way only to a source
            // without its limitation; anything beats a dead or missing one.
            let better = match (&fresh, &self.input) {
                (Ok(f), Some(old)) if old.healthy() => f.limitation().is_none(),
                (Ok(_), _) => true,
                (Err(_), old) => old.as_ref().is_some_and(|o| !o.healthy()),
            };
            if better {
                states.extend(self.set_input(fresh));
            }
        }
        if self.window.is_none() {
            let window = sampler::window::create();
            if window.is_ok() {
                states.push((Sampler::Window, describe_window(&window)));
            }
            self.window = window.ok();
        }
        if self.screen.is_none() && cfg.capture.screenshots {
            let screen = sampler::screen::create(cfg.capture.timeout);
            if screen.is_ok() {
                states.push((
                    Sampler::Screen,
                    describe(&screen, sampler::screen::backend()),
                ));
            }
            self.screen = screen.ok();
        }
        store(queue, states).await;
    }
}

fn describe_window(
    window: &Result<Arc<dyn sampler::window::WindowSource>, SamplerError>,
) -> String {
    let backend = window
        .as_ref()
        .map_or(sampler::window::BACKEND, |w| w.backend());
    describe(window, backend)
}
