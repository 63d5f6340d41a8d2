//! The segment's capture: the privacy rules' look at the focused window,
//! then the screenshots and webcam frame, taken on a spawned task so a slow
//! screenshot never delays a minute, and sealed to their viewers' keys when
//! the policy's `e2e_screenshots` is on.

use super::{privacy, Recorder, WINDOW_TIMEOUT};
use crate::clock::Now;
use crate::encode::EncodeOptions;
use crate::model::{local_offset_at, new_id, rfc3339, CaptureKind, CaptureRecord};
use crate::sampler::run_blocking;
use stint_common::seal::seal_capture;

impl Recorder {
    /// The capture moment. A window a `skip_screenshot` rule covers has
    /// focus: no monitor is captured, and the open minute says which rule
    /// kept it (the webcam frame, which shows the desk, not the screen,
    /// is still taken). A focused window that cannot be read counts as
    /// covered, since the rules cannot say it is not.
    pub(super) async fn capture(&mut self, now: Now) {
        // Sealing on: no capture without someone to seal it to; the minute
        // says why there is none.
        let sealed_to = if self.policy.e2e_screenshots == Some(true) {
            let keys = self.queue.call(|q| q.sealed_to()).await.ok().flatten();
            match keys.filter(|k| !k.is_empty()) {
                Some(k) => Some(k),
                None => {
                    tracing::info!(
                        "capture skipped: nobody who may see it has a screenshot key yet"
                    );
                    if let Some(m) = self.minute.as_mut() {
                        m.screenshot_skipped = Some("no viewer has a screenshot key".into());
                    }
                    return;
                }
            }
        } else {
            None
        };
        let mut screens = self.samplers.screen.is_some();
        if screens && !self.rules.is_empty() {
            if let Some(w) = self.samplers.window.clone() {
                let skip = match run_blocking(WINDOW_TIMEOUT, move || w.active()).await {
                    Ok(Some(info)) => privacy::judge(&self.rules, &info).skip_screenshot,
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "the focused window could not be read for the privacy rules");
                        Some("focused window unknown".to_string())
                    }
                };
                if let Some(label) = skip {
                    tracing::info!(rule = %label, "screenshot skipped by a privacy rule");
                    if let Some(m) = self.minute.as_mut() {
                        m.screenshot_skipped = Some(label);
                    }
                    screens = false;
                }
            }
        }
        self.spawn_capture(now, screens, sealed_to);
    }

    /// Takes this segment's screenshots (and webcam frame) without blocking the loop.
    fn spawn_capture(&self, now: Now, screens: bool, sealed_to: Option<Vec<[u8; 32]>>) {
        let queue = self.queue.clone();
        let screen = self.samplers.screen.clone().filter(|_| screens);
        let webcam = self.samplers.webcam.clone();
        let opts = self.cfg.capture.encode_options();
        // Blur hides what is on the screens; the webcam shot (when policy enables
        // it at all) is there to show who is at the desk.
        let screen_opts = EncodeOptions {
            blur: self.cfg.privacy.blur,
            ..opts
        };
        let timeout = self.cfg.capture.timeout;
        let session = self.session_id.clone();
        tokio::spawn(async move {
            let taken_ms = now.wall_ms;
            let mut images = Vec::new();
            if let Some(screen) = screen {
                match run_blocking(timeout, move || screen.capture_all(screen_opts)).await {
                    Ok(shots) => images.extend(
                        shots
                            .into_iter()
                            .map(|s| (CaptureKind::Screenshot, s.monitor, s.image)),
                    ),
                    Err(e) => tracing::warn!(error = %e, fix = %e.fix(), "screenshot failed"),
                }
            }
            if let Some(cam) = webcam {
                match run_blocking(timeout, move || cam.capture(opts)).await {
                    Ok((name, image)) => images.push((CaptureKind::Webcam, name, image)),
                    Err(e) => tracing::warn!(error = %e, fix = %e.fix(), "webcam frame failed"),
                }
            }
            for (kind, monitor, image) in images {
                let data = match &sealed_to {
                    None => image.data,
                    Some(keys) => match seal_capture(&image.data, image.format, keys) {
                        Ok(d) => d,
                        Err(e) => {
                            tracing::error!(error = %e, kind = kind.as_str(), "could not seal a capture; dropped");
                            continue;
                        }
                    },
                };
                let rec = CaptureRecord {
                    id: new_id(),
                    kind,
                    taken_at: rfc3339(taken_ms),
                    utc_offset: local_offset_at(taken_ms),
                    monitor,
                    width: image.width,
                    height: image.height,
                    bytes: data.len() as u64,
                    format: image.format.into(),
                    session_id: session.clone(),
                    sealed: sealed_to.is_some(),
                };
                let (id, bytes) = (rec.id.clone(), rec.bytes);
                match queue
                    .call(move |s| s.store_capture(&rec, taken_ms, &data))
                    .await
                {
                    Ok(()) => tracing::info!(%id, kind = kind.as_str(), bytes, "capture committed"),
                    Err(e) => {
                        tracing::error!(error = %e, kind = kind.as_str(), "could not store capture")
                    }
                }
            }
        });
    }
}
