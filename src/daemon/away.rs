//! Idle spans: noticing that the person was away (no input for longer than
//! the idle threshold) and, once input returns, storing the span from the
//! last input before it to the input that ended it, for the person to
//! decide on (`stint idle`, the tray) or decided at once by the policy.

use stint_proto::{Decision, IdleDecision};

use crate::clock::Now;
use crate::model::{local_offset_at, new_id, rfc3339, IdleSpan};

/// Shorter spans are not worth a question (and a threshold below this is
/// a test's).
const MIN_SPAN_MS: i64 = 1_000;

/// Where the recorder is in an absence.
#[derive(Debug, Default)]
pub(super) struct Away {
    /// The last input before the threshold passed; `None` while present.
    since_ms: Option<i64>,
    /// When tracking began: an absence starts no earlier.
    tracking_from_ms: i64,
}

impl Away {
    /// Tracking starts at `now_ms`, present.
    pub(super) fn tracking_from(now_ms: i64) -> Away {
        Away {
            since_ms: None,
            tracking_from_ms: now_ms,
        }
    }
}

/// What a policy decides without asking; `None`: ask.
pub(crate) fn decided_by(policy: IdleDecision) -> Option<Decision> {
    match policy {
        IdleDecision::Prompt => None,
        IdleDecision::Keep => Some(Decision::Keep),
        IdleDecision::Discard => Some(Decision::Discard),
    }
}

/// The decision applied to a span nobody answered for a day: worked time
/// is what someone claimed, so a prompt left unanswered discards.
pub(crate) fn default_of(policy: IdleDecision) -> Decision {
    decided_by(policy).unwrap_or(Decision::Discard)
}

impl super::Recorder {
    /// Looks at the input's idle time: past the threshold an absence
    /// begins at the last input; input afterwards ends it.
    pub(super) async fn follow_away(&mut self, now: Now) {
        let Some(input) = &self.samplers.input else {
            return;
        };
        if self.minute.is_none() {
            return;
        }
        let idle_ms = input.idle_ms() as i64;
        let last_input = now.wall_ms - idle_ms;
        let threshold = self.cfg.schedule.idle_after.as_millis() as i64;
        match self.away.since_ms {
            None if idle_ms >= threshold => {
                // Not from before tracking began: that time was not tracked.
                let since = last_input.max(self.away.tracking_from_ms);
                tracing::info!(since = %rfc3339(since), "away: no input since");
                self.away.since_ms = Some(since);
            }
            Some(since) if idle_ms < threshold => {
                self.away.since_ms = None;
                self.store_span(since, last_input.max(since)).await;
            }
            _ => {}
        }
    }

    /// Tracking stops during an absence: the span ends there.
    pub(super) async fn end_away(&mut self, end_ms: i64) {
        if let Some(since) = self.away.since_ms.take() {
            self.store_span(since, end_ms).await;
        }
    }

    async fn store_span(&mut self, start_ms: i64, end_ms: i64) {
        // Whole seconds, as minutes are: reports then split to the second.
        let second = |ms: i64| (ms + 500).div_euclid(1000) * 1000;
        let (start_ms, end_ms) = (second(start_ms), second(end_ms));
        if end_ms - start_ms < MIN_SPAN_MS {
            return;
        }
        let now = crate::clock::Now::read().wall_ms;
        let decision = decided_by(self.cfg.tracking.idle_decision);
        let span = IdleSpan {
            id: new_id(),
            start: rfc3339(start_ms),
            end: rfc3339(end_ms),
            utc_offset: local_offset_at(start_ms),
            decision,
            auto: decision.is_some(),
            work: self.work.clone(),
            decided_at: decision.map(|_| rfc3339(now)),
        };
        let text = span.span_text();
        let (id, s) = (span.id.clone(), span.clone());
        match self.queue.call(move |q| q.add_idle_span(&s)).await {
            Ok(()) => tracing::info!(
                %id,
                start = %span.start,
                end = %span.end,
                decision = decision.map_or("pending", Decision::as_str),
                "idle span: away {text}"
            ),
            Err(e) => tracing::error!(error = %e, "could not store the idle span"),
        }
    }

    /// Applies the policy's default to spans unanswered for a day.
    pub(super) async fn decide_overdue(&mut self) {
        let default = default_of(self.cfg.tracking.idle_decision);
        let now = crate::clock::Now::read().wall_ms;
        match self
            .queue
            .call(move |q| q.decide_overdue(default, now))
            .await
        {
            Ok(done) => {
                for s in done {
                    tracing::info!(id = %s.id, decision = default.as_str(), "idle span unanswered for 24 hours: the policy's default applied");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not apply the idle default"),
        }
    }
}
