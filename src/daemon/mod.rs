//! The recorder loop: turns sampler readings into minute records and captures in the
//! queue while tracking is on.
//!
//! One task owns all recorder state and sleeps towards the next wall-clock deadline
//! (minute end, window sample, capture moment) or the next change of the tracking
//! switch or policy, which the queue's watch channel brings. Deadlines are slept on
//! the monotonic clock and checked against the wall clock at every wake, so suspend,
//! SIGSTOP and clock changes are noticed instead of producing bogus minutes.

mod away;
mod capture;
mod limits;
mod privacy;
mod samplers;

use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::clock::{self, align_down, random_moment, Continuity, Now};
use crate::config::Config;
use crate::model::{local_offset_at, new_id, rfc3339, MinuteRecord};
use crate::queue::Queue;
use crate::sampler::run_blocking;
use crate::sampler::window::WindowInfo;
use crate::sysfacts;

pub use samplers::Samplers;

/// Upper bound for reading the active window once.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(3);
/// Minutes kept in memory while the disk refuses writes (one day at 1-minute records).
const MAX_PENDING: usize = 1440;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The queue thread ended: nothing recorded from now on could be kept,
    /// so the daemon ends (non-zero) for the service manager to start it
    /// again, rather than hold minutes in memory that never reach the disk.
    #[error("the local queue stopped; {lost} minute(s) held in memory could not be written; stint exits so it can be started again")]
    QueueGone { lost: usize },
}

/// The minute being accumulated.
struct Minute {
    slot_ms: i64,
    /// What its seconds are for: a switch closes the minute and opens the
    /// rest of the slot under the new choice.
    work: stint_proto::Work,
    /// When accumulation began: the slot start, or later if tracking started mid-minute.
    open: Now,
    window_at_ms: i64,
    window: Option<WindowInfo>,
    sampled: bool,
    /// The privacy rule that changed `window`, and the one that kept the
    /// segment's screenshot from being taken in this minute.
    privacy_rule: Option<String>,
    screenshot_skipped: Option<String>,
}

/// The segment whose screenshot is pending or taken.
struct Segment {
    start_ms: i64,
    end_ms: i64,
    capture_at_ms: i64,
    taken: bool,
}

struct Recorder {
    /// The config files' settings; `cfg` is this with the server's policy laid over.
    base: Config,
    policy: stint_proto::Policy,
    cfg: Config,
    queue: Queue,
    samplers: Samplers,
    session_id: String,
    minute: Option<Minute>,
    segment: Option<Segment>,
    pending: VecDeque<(MinuteRecord, i64, u32)>,
    /// The project choice the next minutes are for.
    work: stint_proto::Work,
    away: away::Away,
    /// `cfg`'s privacy rules, compiled.
    rules: stint_proto::Rules,
}

/// Runs the recorder until `shutdown` resolves; then closes the open minute.
pub async fn run(
    cfg: Config,
    queue: Queue,
    samplers: Samplers,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    tokio::pin!(shutdown);
    let initial = cfg.tracking.initial;
    // The queue thread sends each committed change of the tracking switch or
    // the policy: the recorder sleeps until a deadline or a change, never polls.
    let mut control = queue.control();
    let (mut tracking, mut private) = {
        let c = control.borrow_and_update();
        (c.tracking.unwrap_or(initial), c.private)
    };
    let mut rec = Recorder {
        base: cfg.clone(),
        policy: stint_proto::Policy::default(),
        cfg,
        queue,
        samplers,
        session_id: String::new(),
        minute: None,
        segment: None,
        pending: VecDeque::new(),
        work: control.borrow().work.clone(),
        away: away::Away::default(),
        rules: stint_proto::Rules::default(),
    };
    rec.rules = privacy::compile(&rec.cfg);
    rec.refresh_policy().await;
    rec.decide_overdue().await;
    private = rec.private_over(private, Now::read()).await;
    // Recording: tracking is on and no private time pauses it.
    let mut recording = tracking && private.is_none();
    tracing::info!(tracking, private = private.is_some(), "recorder started");
    if recording {
        rec.start(Now::read()).await;
    }
    loop {
        // The monotonic clock stands still while the machine sleeps, so a
        // deadline alone could wake the recorder up to a minute after a
        // resume; a wall-clock look every few seconds notices it sooner.
        let private_end = private.and_then(|p| p.until_ms).map(|u| {
            Instant::now() + Duration::from_millis((u - stint_common::time::now_ms()).max(0) as u64)
        });
        let deadline = match (rec.next_deadline(), private_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|d| d.min(Instant::now() + WALL_LOOK));
        tokio::select! {
            _ = sleep_until_some(deadline) => {}
            changed = control.changed() => {
                if changed.is_err() {
                    let lost = rec.pending.len() + usize::from(rec.minute.is_some());
                    tracing::error!(lost, "the queue thread has stopped; exiting");
                    return Err(DaemonError::QueueGone { lost });
                }
            }
            _ = &mut shutdown => {
                rec.stop(Now::read()).await;
                tracing::info!("recorder stopped");
                return Ok(());
            }
        }
        let (wanted, work, asked) = {
            let c = control.borrow_and_update();
            (c.tracking.unwrap_or(initial), c.work.clone(), c.private)
        };
        let now = Now::read();
        private = rec.private_over(asked, now).await;
        if work != rec.work {
            rec.switch(now, work).await;
        }
        let switched = wanted != tracking;
        if switched {
            tracking = wanted;
            tracing::info!(tracking, "tracking switched");
        }
        let want = tracking && private.is_none();
        if want != recording {
            recording = want;
            if !switched && recording {
                tracing::info!("private time ended: recording again");
            } else if !switched {
                tracing::info!("private time began: nothing is recorded");
            }
            if recording {
                rec.start(now).await;
            } else {
                rec.stop(now).await;
            }
        }
        rec.tick(now).await;
    }
}

/// Longest sleep while tracking; see the loop in `run`.
const WALL_LOOK: Duration = Duration::from_secs(5);

/// Sleeps until `deadline`, or for ever without one (not tracking: only a
/// control change or shutdown wakes the recorder then).
async fn sleep_until_some(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

impl Recorder {
    fn minute_ms(&self) -> i64 {
        self.cfg.schedule.minute.as_millis() as i64
    }

    fn segment_ms(&self) -> i64 {
        self.cfg.schedule.segment.as_millis() as i64
    }

    async fn start(&mut self, now: Now) {
        if let Some(input) = &self.samplers.input {
            input.take_counts(); // what happened while not tracking is not ours to keep
        }
        let session = sysfacts::session(now.wall_ms, self.cfg.privacy.truncate_ip);
        self.session_id = session.id.clone();
        let started = now.wall_ms;
        if let Err(e) = self
            .queue
            .call(move |s| s.insert_session(&session, started))
            .await
        {
            tracing::error!(error = %e, "could not store session facts");
        }
        let slot = align_down(now.wall_ms, self.minute_ms());
        self.open_minute(now, slot);
        self.away = away::Away::tracking_from(now.wall_ms);
    }

    async fn stop(&mut self, now: Now) {
        if self.minute.is_some() {
            self.close_minute(now, false).await;
        }
        self.end_away(now.wall_ms).await;
    }

    /// A new project choice: the open minute ends at this second and the
    /// rest of its slot opens under the new choice, so every second is
    /// counted once, for the choice it was tracked under.
    async fn switch(&mut self, now: Now, work: stint_proto::Work) {
        tracing::info!(project = ?work.project_id, task = ?work.task_id, "project switched");
        self.work = work;
        // The project's policy (screenshots, idle threshold) from now on.
        self.refresh_policy().await;
        let Some(m) = &self.minute else { return };
        let end = m.slot_ms + self.minute_ms();
        let at = ((now.wall_ms + 500) / 1000 * 1000).clamp(m.open.wall_ms, end);
        if at >= end {
            // The minute is over anyway: the next one opens under the new choice.
            if let Some(m) = self.minute.as_mut() {
                m.work = self.work.clone();
            }
            return;
        }
        let boundary = Now {
            wall_ms: at,
            mono: now.mono_at(at),
        };
        let slot = m.slot_ms;
        self.close_minute(boundary, false).await;
        self.open_minute(boundary, slot);
    }

    fn open_minute(&mut self, open: Now, slot_ms: i64) {
        let end = slot_ms + self.minute_ms();
        let from = open.wall_ms.max(slot_ms);
        self.minute = Some(Minute {
            slot_ms,
            work: self.work.clone(),
            open,
            window_at_ms: random_moment(from, end),
            window: None,
            sampled: false,
            privacy_rule: None,
            screenshot_skipped: None,
        });
        let seg_ms = self.segment_ms();
        let seg_start = align_down(slot_ms, seg_ms);
        // Keep the moment clear of the segment's end so the capture, which finishes a
        // little after its moment, is still stamped inside its own segment.
        let seg_last = seg_start + seg_ms - (seg_ms / 10).min(1_000);
        match &mut self.segment {
            // The open segment runs to its end even when policy changed the length.
            Some(seg) if seg.start_ms <= slot_ms && slot_ms < seg.end_ms => {
                // Resumed inside a segment whose moment passed while not tracking.
                if !seg.taken && seg.capture_at_ms < from {
                    seg.capture_at_ms = random_moment(from, seg_last);
                }
            }
            prev => {
                // After a length change the new grid's first segment can overlap
                // the one just shot; that shot counts for it, so no segment of
                // the grid gets two.
                let taken = prev
                    .as_ref()
                    .is_some_and(|p| p.taken && p.capture_at_ms >= seg_start);
                *prev = Some(Segment {
                    start_ms: seg_start,
                    end_ms: seg_start + seg_ms,
                    capture_at_ms: random_moment(from, seg_last),
                    taken,
                });
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let m = self.minute.as_ref()?;
        let end = m.slot_ms + self.minute_ms();
        let mut t = m.open.mono_at(end);
        if !m.sampled {
            t = t.min(m.open.mono_at(m.window_at_ms));
        }
        if let Some(seg) = self
            .segment
            .as_ref()
            .filter(|s| !s.taken && s.capture_at_ms < end)
        {
            t = t.min(m.open.mono_at(seg.capture_at_ms));
        }
        Some(t)
    }

    async fn tick(&mut self, now: Now) {
        let minute_ms = self.minute_ms();
        let Some(m) = self.minute.as_mut() else {
            return;
        };
        let due = |open: &Now, wall: i64| now.wall_ms >= wall || now.mono >= open.mono_at(wall);
        let end = m.slot_ms + minute_ms;
        if !m.sampled && due(&m.open, m.window_at_ms) {
            m.sampled = true;
            if let Some(w) = self.samplers.window.clone() {
                match run_blocking(WINDOW_TIMEOUT, move || w.active()).await {
                    Ok(info) => {
                        let (window, rule) = match info {
                            Some(w) => privacy::screen(&self.rules, w),
                            None => (None, None),
                        };
                        m.window = window.map(WindowInfo::clipped);
                        m.privacy_rule = rule;
                    }
                    Err(e) => tracing::warn!(error = %e, "active window sample failed"),
                }
            }
        }
        let capture_due = self
            .segment
            .as_ref()
            .is_some_and(|s| !s.taken && s.capture_at_ms < end && due(&m.open, s.capture_at_ms));
        if capture_due {
            if let Some(seg) = self.segment.as_mut() {
                seg.taken = true;
            }
            self.capture(now).await;
        }
        self.follow_away(now).await;
        let Some(m) = self.minute.as_ref() else {
            return;
        };
        if due(&m.open, end) {
            self.close_minute(now, true).await;
            self.refresh_policy().await;
            self.decide_overdue().await;
            self.enforce_allowance().await;
            self.samplers.reprobe(&self.cfg, &self.queue).await;
        }
    }

    /// Closes the open minute; with `reopen`, opens the next one.
    async fn close_minute(&mut self, now: Now, reopen: bool) {
        let Some(m) = self.minute.take() else { return };
        let minute_ms = self.minute_ms();
        let end = m.slot_ms + minute_ms;
        let expected = end - m.open.wall_ms;
        let wall_el = now.wall_ms - m.open.wall_ms;
        let mono_el = now.mono.saturating_duration_since(m.open.mono).as_millis() as i64;
        let cont = clock::continuity(wall_el, mono_el, expected, clock::tolerance_ms(minute_ms));
        let observed = if reopen && cont == Continuity::Normal {
            expected
        } else {
            // The monotonic clock does not run during suspend, so it measures time
            // actually tracked.
            mono_el.clamp(0, expected)
        };
        if cont != Continuity::Normal {
            tracing::warn!(
                continuity = ?cont,
                minute = %rfc3339(m.slot_ms),
                wall_elapsed_ms = wall_el,
                mono_elapsed_ms = mono_el,
                "clock discontinuity (suspend, stopped process or clock change); not inventing the minutes in between"
            );
        }
        // No source, or one that cannot count: the counts are unknown, not zero.
        let (counts, idle_ms) = match &self.samplers.input {
            Some(i) => (i.take_counts(), Some(i.idle_ms())),
            None => (None, None),
        };
        let known = counts.unwrap_or_default();
        let idle = idle_ms.is_some_and(|idle_ms| {
            clock::is_idle(
                known.total(),
                idle_ms,
                observed as u64,
                self.cfg.schedule.idle_after.as_millis() as u64,
            )
        });
        let seconds = ((observed + 500) / 1000) as u32;
        if seconds > 0 || known.total() > 0 {
            let w = m.window.unwrap_or_default();
            let non_empty = |s: String| (!s.is_empty()).then_some(s);
            let record = MinuteRecord {
                id: new_id(),
                start: rfc3339(m.slot_ms),
                utc_offset: local_offset_at(m.slot_ms),
                seconds,
                from_secs: (((m.open.wall_ms - m.slot_ms).max(0) + 500) / 1000) as u32,
                keystrokes: known.keystrokes,
                clicks: known.clicks,
                scrolls: known.scrolls,
                synthetic_keystrokes: known.synthetic_keystrokes,
                synthetic_clicks: known.synthetic_clicks,
                counts_unknown: counts.is_none(),
                idle,
                title: non_empty(w.title),
                exe_path: non_empty(w.exe_path),
                app: non_empty(w.app),
                session_id: self.session_id.clone(),
                project_id: m.work.project_id.clone(),
                task_id: m.work.task_id.clone(),
                privacy_rule: m.privacy_rule,
                screenshot_skipped: m.screenshot_skipped,
            };
            let slot_secs = (minute_ms / 1000).max(1) as u32;
            self.commit_minute(record, m.slot_ms, slot_secs).await;
        }
        if reopen {
            if cont == Continuity::Normal {
                let boundary = Now {
                    wall_ms: end,
                    mono: now.mono_at(end),
                };
                self.open_minute(boundary, end);
            } else {
                self.open_minute(now, align_down(now.wall_ms, minute_ms));
            }
        }
    }

    /// Stores a minute, first retrying any the disk refused earlier, oldest first.
    async fn commit_minute(&mut self, record: MinuteRecord, start_ms: i64, slot_secs: u32) {
        self.pending.push_back((record, start_ms, slot_secs));
        while let Some((r, s, l)) = self.pending.front().cloned() {
            let start = r.start.clone();
            let (keys, clicks, scrolls, idle) = (r.keystrokes, r.clicks, r.scrolls, r.idle);
            match self.queue.call(move |st| st.upsert_minute(&r, s, l)).await {
                Ok(()) => {
                    tracing::info!(%start, keys, clicks, scrolls, idle, "minute committed");
                    self.pending.pop_front();
                }
                Err(e) => {
                    if self.pending.len() > MAX_PENDING {
                        let dropped = self.pending.pop_front().map(|p| p.0.start);
                        tracing::error!(
                            ?dropped,
                            "in-memory backlog full; dropped the oldest unsaved minute"
                        );
                    }
                    tracing::error!(error = %e, pending = self.pending.len(), "could not store minute; kept in memory, retrying next minute");
                    return;
                }
            }
        }
    }

    /// The private time in force at `now`: one whose end passed (while the
    /// recorder slept, or the daemon was down) is closed at its planned end.
    async fn private_over(
        &mut self,
        private: Option<crate::queue::Private>,
        now: Now,
    ) -> Option<crate::queue::Private> {
        let p = private?;
        if !p.over_at(now.wall_ms) {
            return Some(p);
        }
        if let Err(e) = self.queue.call(move |q| q.end_private(now.wall_ms)).await {
            tracing::error!(error = %e, "could not end private time");
        }
        None
    }

    /// Picks up a policy sync stored since the last look. Takes effect from the
    /// next minute: the open segment keeps its moment, later ones follow the
    /// new length.
    async fn refresh_policy(&mut self) {
        let server = self.queue.control().borrow().policy.clone();
        // A project's own layer lies over the server's while it is chosen.
        let work = self.work.clone();
        let policy = match self
            .queue
            .call(move |q| Ok(crate::work::effective(&server, &q.projects()?, &work)))
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the project list");
                self.queue.control().borrow().policy.clone()
            }
        };
        if policy == self.policy {
            return;
        }
        let cfg = crate::policy::apply(&self.base, &policy);
        tracing::info!(
            screenshots = cfg.capture.screenshots,
            webcam = cfg.capture.webcam,
            segment = %crate::config::format_duration(cfg.schedule.segment),
            idle_after = %crate::config::format_duration(cfg.schedule.idle_after),
            blur = cfg.privacy.blur,
            review_delay = %crate::config::format_duration(cfg.privacy.review_delay),
            "policy applied"
        );
        self.samplers.follow_policy(&cfg, &self.queue).await;
        self.rules = privacy::compile(&cfg);
        self.cfg = cfg;
        self.policy = policy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the queue thread ends, the recorder ends too, with an error the
    /// binary turns into a non-zero exit, instead of recording into memory
    /// that will never reach the disk.
    #[tokio::test]
    async fn the_recorder_ends_when_the_queue_thread_does() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::defaults().unwrap();
        cfg.storage.data_dir = dir.path().to_path_buf();
        cfg.capture.screenshots = false;
        let (queue, _) = Queue::open(dir.path(), crate::queue::Role::Owner).unwrap();
        let samplers = Samplers::probe(&cfg, &queue).await;
        let recorder = run(cfg, queue.clone(), samplers, std::future::pending());
        queue.halt();
        let ended = tokio::time::timeout(Duration::from_secs(30), recorder)
            .await
            .expect("the recorder ends");
        assert!(
            matches!(ended, Err(DaemonError::QueueGone { lost: 0 })),
            "{ended:?}"
        );
    }
}
