//! Upload loop: enrolls the device, then moves the queue to the server oldest
//! first, deleting a record only after the server acknowledged it.
//!
//! The loop is an explicit state machine (`State`); `backoff` decides retry
//! delays; `tls` builds the verifier. Every outcome of one request is sorted
//! into an `Outcome`, so the policy (retry, split, dead-letter, re-enroll) lives
//! in one match.

pub mod backoff;
mod creds;
mod http;
mod quiet;
mod supervise;
pub mod tls;

use std::path::PathBuf;
use std::time::Duration;
use stint_common::time::now_ms;

use stint_proto::{
    Accepted, CaptureRecord, EnrollRequest, EnrollResponse, Heartbeat, HeartbeatResponse,
    MinuteBatch,
};

use crate::config::Config;
use crate::queue::{Queue, QueueError};
pub use creds::diary_url;
use creds::{creds_path, load_creds, usable_token, Credentials};
pub use http::build_client;
use http::{classify, put_capture, Outcome};
use quiet::Quiet;
pub use supervise::supervise;

/// Largest minute batch; halved on 413 and grown back after successes.
pub const MAX_BATCH: usize = 500;
/// Captures uploaded at once; measured in benches/sync (docs/performance.md).
const CAPTURES_IN_FLIGHT: usize = 4;
/// At most this long between heartbeats (the policy arrives with each); never
/// longer than one minute record, so a 1-second test minute sees changes fast.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);

pub use crate::model::{SyncState as State, SyncStatus};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Tls(#[from] tls::TlsSetupError),
    #[error("server.proxy {0:?}: {1}")]
    Proxy(String, String),
    #[error("HTTP client: {0}")]
    Client(String),
}

struct Sync {
    cfg: Config,
    queue: Queue,
    http: reqwest::Client,
    url: String,
    creds: Option<Credentials>,
    status: SyncStatus,
    attempt: u32,
    batch: usize,
    reenrolled: bool,
    last_heartbeat: Option<std::time::Instant>,
    quiet: Quiet,
    /// Holds each segment back until the employee's review window has passed.
    review: crate::review::Window,
}

fn now_text() -> String {
    crate::model::rfc3339(now_ms())
}

/// Records, for `stint status` and the tray, that uploads could not even be set
/// up (e.g. the OS refused the TLS configuration); the daemon records on.
pub async fn blocked_at_start(queue: &Queue, url: &str, why: String) {
    let status = SyncStatus {
        state: State::Blocked(why.clone()),
        server: Some(url.to_string()),
        device_id: None,
        last_success: None,
        last_error: Some(why),
        policy_error: None,
    };
    if let Err(e) = queue.call(move |q| q.set_sync_status(&status)).await {
        tracing::warn!(error = %e, "could not save sync status");
    }
}

/// Runs until the task is dropped. Uploads are idempotent, so being cancelled
/// mid-request loses nothing: the record is still queued and is sent again.
pub async fn run(cfg: Config, queue: Queue, http: reqwest::Client) {
    let Some(url) = cfg.server.url.clone() else {
        return;
    };
    let creds = load_creds(&cfg, &url);
    let review = crate::policy::review_window(&cfg, &crate::policy::load(&queue).await);
    let mut s = Sync {
        status: SyncStatus {
            state: if creds.is_some() {
                State::Idle
            } else {
                State::Unenrolled
            },
            server: Some(url.clone()),
            device_id: creds.as_ref().map(|c| c.device_id.clone()),
            last_success: None,
            last_error: None,
            policy_error: None,
        },
        cfg,
        queue,
        http,
        url,
        creds,
        attempt: 0,
        batch: MAX_BATCH,
        reenrolled: false,
        last_heartbeat: None,
        quiet: Quiet::default(),
        review,
    };
    if let Ok(Some(prev)) = s.queue.call(|q| q.sync_status()).await {
        s.status.last_success = prev.last_success;
        // Lost device.json: the server still learns which device this was.
        if s.status.device_id.is_none() && prev.server.as_deref() == Some(s.url.as_str()) {
            s.status.device_id = prev.device_id;
        }
    }
    s.save().await;
    let poll = s.cfg.schedule.minute.min(Duration::from_secs(30));
    loop {
        if let State::Blocked(_) = s.status.state {
            // Parked until restart; still wake now and then so status stays fresh.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            continue;
        }
        match s.step().await {
            Step::Progress => {
                s.attempt = 0;
                s.batch = (s.batch * 2).min(MAX_BATCH);
            }
            Step::Empty => {
                s.set_state(State::Idle).await;
                tokio::time::sleep(poll).await;
            }
            Step::Wait(after) => {
                let d = backoff::delay(s.attempt, after, fastrand::f64());
                s.attempt = s.attempt.saturating_add(1);
                s.set_state(State::Backoff).await;
                tracing::debug!(
                    delay_ms = d.as_millis() as u64,
                    attempt = s.attempt,
                    "sync backing off"
                );
                tokio::time::sleep(d).await;
            }
            Step::Again => {}
        }
    }
}

enum Step {
    /// Something was acknowledged.
    Progress,
    /// Nothing to send.
    Empty,
    /// A transient failure; retry after backoff (or the server's Retry-After).
    Wait(Option<Duration>),
    /// Something changed (batch split, record set aside, re-enrolled); go again now.
    Again,
}

impl Sync {
    async fn save(&mut self) {
        let status = self.status.clone();
        if let Err(e) = self.queue.call(move |q| q.set_sync_status(&status)).await {
            tracing::warn!(error = %e, "could not save sync status");
        }
    }

    async fn set_state(&mut self, state: State) {
        if self.status.state != state {
            self.status.state = state;
            self.save().await;
        }
    }

    async fn fail(&mut self, why: String) {
        match self.quiet.say(&why, std::time::Instant::now()) {
            Some(repeated) => tracing::warn!(error = %why, repeated, "sync failed"),
            None => tracing::debug!(error = %why, "sync failed again"),
        }
        if self.status.last_error.as_deref() != Some(&why) {
            self.status.last_error = Some(why);
            self.save().await;
        }
    }

    async fn succeeded(&mut self) {
        let now = now_text();
        // Saved at most once a second: a status write is a commit.
        let stale = self
            .status
            .last_success
            .as_deref()
            .is_none_or(|t| t.get(..19) != now.get(..19));
        if stale || self.status.last_error.is_some() || self.status.state != State::Uploading {
            self.status.last_success = Some(now);
            self.status.last_error = None;
            self.status.state = State::Uploading;
            self.save().await;
        }
    }

    async fn step(&mut self) -> Step {
        if self.creds.is_none() {
            return self.enroll().await;
        }
        if self
            .last_heartbeat
            .is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY.min(self.cfg.schedule.minute))
        {
            if let Some(step) = self.heartbeat().await {
                return step;
            }
        }
        let (limit, review) = (self.batch, self.review);
        // The cutoff is taken on the queue thread, in the same turn as the read,
        // so a deletion the review window still allows is never raced by an upload.
        let batch = match self
            .queue
            .call(move |q| q.upload_batch(limit, review.upload_before(now_ms())))
            .await
        {
            Ok(b) => b,
            Err(e) => return self.queue_failed(e).await,
        };
        let mut progressed = false;
        if !batch.minutes.is_empty()
            || !batch.sessions.is_empty()
            || !batch.idle_spans.is_empty()
            || !batch.private_spans.is_empty()
        {
            match self.send_batch(batch).await {
                Step::Progress => progressed = true,
                other => return other,
            }
        }
        match self
            .queue
            .call(move |q| q.next_captures(CAPTURES_IN_FLIGHT, review.upload_before(now_ms())))
            .await
        {
            Ok(caps) if caps.is_empty() => {}
            Ok(caps) => match self.send_captures(caps).await {
                Step::Progress => progressed = true,
                other => return other,
            },
            Err(e) => return self.queue_failed(e).await,
        }
        if progressed {
            Step::Progress
        } else {
            Step::Empty
        }
    }

    async fn queue_failed(&mut self, e: QueueError) -> Step {
        self.fail(format!("local queue: {e}")).await;
        Step::Wait(None)
    }

    async fn enroll(&mut self) -> Step {
        let Some(token) = self.cfg.server.enroll_token.clone() else {
            self.set_state(State::Unenrolled).await;
            self.fail(
                "not enrolled: set [server] enroll_token (from `stint-server token create`)".into(),
            )
            .await;
            return Step::Wait(Some(Duration::from_secs(300)));
        };
        let facts = crate::sysfacts::session(0, true);
        let req = EnrollRequest {
            enroll_token: token,
            hostname: facts.hostname,
            os_type: facts.os_type,
            os_version: facts.os_version,
            os_user: facts.os_user,
            agent_version: facts.agent_version,
            previous_device_id: self.status.device_id.clone(),
        };
        let sent = self
            .http
            .post(format!("{}/api/v1/enroll", self.url))
            .json(&req)
            .send()
            .await;
        match classify::<EnrollResponse>(sent).await {
            Outcome::Ok(r) if !usable_token(&r.device_token) || r.device_id.len() > 64 => {
                self.fail(
                    "enrolling: the server sent a device token or id stint cannot use".into(),
                )
                .await;
                Step::Wait(None)
            }
            Outcome::Ok(r) => {
                let creds = Credentials {
                    server: self.url.clone(),
                    device_id: r.device_id,
                    device_token: r.device_token,
                };
                let path = creds_path(&self.cfg);
                let text = serde_json::to_string_pretty(&creds).expect("serialises");
                if let Err(e) = stint_common::durable::write(&path, text.as_bytes(), 0o600) {
                    self.fail(format!(
                        "cannot save device credentials {}: {e}",
                        path.display()
                    ))
                    .await;
                    return Step::Wait(None);
                }
                tracing::info!(device_id = %creds.device_id, "enrolled");
                self.status.device_id = Some(creds.device_id.clone());
                self.creds = Some(creds);
                self.set_state(State::Idle).await;
                Step::Again
            }
            Outcome::Retry { why, after } => {
                self.fail(format!("enrolling: {why}")).await;
                Step::Wait(after)
            }
            Outcome::Unauthorized(why) | Outcome::Rejected { why, .. } | Outcome::TooLarge(why) => {
                let why = format!("enrollment refused: {why}");
                self.fail(why.clone()).await;
                self.set_state(State::Blocked(why)).await;
                Step::Again
            }
        }
    }

    /// A 401: enroll again once (the server may have been reset); a second 401
    /// in a row blocks uploads.
    async fn unauthorized(&mut self, why: String) -> Step {
        if self.reenrolled {
            let why = format!("the server refused this device twice: {why}");
            self.fail(why.clone()).await;
            self.set_state(State::Blocked(why)).await;
            return Step::Again;
        }
        self.reenrolled = true;
        tracing::warn!(error = %why, "device token refused; enrolling again");
        let _ = std::fs::remove_file(creds_path(&self.cfg));
        self.creds = None;
        Step::Again
    }

    fn token(&self) -> String {
        self.creds
            .as_ref()
            .map(|c| c.device_token.clone())
            .unwrap_or_default()
    }

    async fn heartbeat(&mut self) -> Option<Step> {
        let stats = self.queue.call(|q| q.stats(0)).await.unwrap_or_default();
        let sent = self
            .http
            .post(format!("{}/api/v1/heartbeat", self.url))
            .bearer_auth(self.token())
            .json(&Heartbeat {
                agent_version: env!("CARGO_PKG_VERSION").into(),
                pending_minutes: stats.pending_minutes,
                pending_captures: stats.pending_captures,
            })
            .send()
            .await;
        match classify::<HeartbeatResponse>(sent).await {
            Outcome::Ok(r) => {
                self.last_heartbeat = Some(std::time::Instant::now());
                self.reenrolled = false;
                let refused =
                    r.policy.validate().err().map(|e| {
                        format!("the server sent an invalid policy, kept the last one: {e}")
                    });
                if refused != self.status.policy_error {
                    match &refused {
                        Some(why) => tracing::warn!(error = %why, "policy refused"),
                        None => tracing::info!("the server's policy is valid again"),
                    }
                    self.status.policy_error = refused.clone();
                    self.save().await;
                }
                if refused.is_some() {
                    // Refused whole: the last good policy stays in force.
                    return None;
                }
                self.review = crate::policy::review_window(&self.cfg, &r.policy);
                let policy = r.policy.clone();
                let _ = self.queue.call(move |q| q.set_policy(&policy)).await;
                // Keys a capture is sealed to: all of them good, or the last
                // list stays (sealing with a key the server mangled would
                // leave a viewer out).
                match r.sealed_to.as_deref().map(stint_common::seal::public_keys) {
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "the server sent an invalid key list; kept the last one")
                    }
                    _ => {
                        let keys = r.sealed_to.clone();
                        let _ = self
                            .queue
                            .call(move |q| q.set_sealed_to(keys.as_deref()))
                            .await;
                    }
                }
                match r.work.map(|w| w.validate().map(|()| w)) {
                    Some(Ok(list)) => {
                        let _ = self
                            .queue
                            .call(move |q| q.set_projects(&list, now_ms()))
                            .await;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "the server sent an invalid project list; kept the last one")
                    }
                    None => {}
                }
                None
            }
            Outcome::Unauthorized(why) => Some(self.unauthorized(why).await),
            Outcome::Retry { why, after } => {
                self.fail(format!("heartbeat: {why}")).await;
                Some(Step::Wait(after))
            }
            Outcome::TooLarge(why) | Outcome::Rejected { why, .. } => {
                // Not worth stopping uploads for; try again next period.
                self.last_heartbeat = Some(std::time::Instant::now());
                self.fail(format!("heartbeat refused: {why}")).await;
                None
            }
        }
    }

    async fn send_batch(&mut self, batch: MinuteBatch) -> Step {
        self.set_state(State::Uploading).await;
        let sent = self
            .http
            .post(format!("{}/api/v1/minutes", self.url))
            .bearer_auth(self.token())
            .json(&batch)
            .send()
            .await;
        match classify::<Accepted>(sent).await {
            Outcome::Ok(a) => {
                let n = batch.minutes.len();
                if let Err(e) = self.queue.call(move |q| q.ack_batch(&batch)).await {
                    return self.queue_failed(e).await;
                }
                tracing::debug!(
                    minutes = n,
                    stored = a.stored,
                    duplicates = a.duplicates,
                    "batch acknowledged"
                );
                self.reenrolled = false;
                self.succeeded().await;
                Step::Progress
            }
            Outcome::Retry { why, after } => {
                self.fail(why).await;
                Step::Wait(after)
            }
            Outcome::Unauthorized(why) => self.unauthorized(why).await,
            Outcome::TooLarge(why) if batch.minutes.len() > 1 => {
                self.batch = (batch.minutes.len() / 2).max(1);
                tracing::info!(batch = self.batch, reason = %why, "batch too large; splitting");
                Step::Again
            }
            Outcome::TooLarge(why) => {
                let id = batch.minutes.first().map(|m| m.id.clone());
                self.reject(id, format!("too large even alone: {why}"))
                    .await
            }
            Outcome::Rejected { why, record_id } => {
                let known = record_id.filter(|id| {
                    batch.minutes.iter().any(|m| &m.id == id)
                        || batch.sessions.iter().any(|s| &s.id == id)
                        || batch.idle_spans.iter().any(|s| &s.id == id)
                });
                match known {
                    Some(id) => self.reject(Some(id), why).await,
                    // The server did not say which record: narrow down by halving.
                    None if batch.minutes.len() > 1 => {
                        self.batch = (batch.minutes.len() / 2).max(1);
                        Step::Again
                    }
                    None => {
                        self.reject(batch.minutes.first().map(|m| m.id.clone()), why)
                            .await
                    }
                }
            }
        }
    }

    async fn reject(&mut self, id: Option<String>, why: String) -> Step {
        let Some(id) = id else {
            self.fail(why).await;
            return Step::Wait(None);
        };
        tracing::warn!(%id, reason = %why, "server refused a record; moved to dead letters");
        let reason = why.clone();
        let moved = self.queue.call(move |q| q.dead_letter(&id, &reason)).await;
        if let Err(e) = moved {
            return self.queue_failed(e).await;
        }
        self.status.last_error = Some(format!("record refused: {why}"));
        self.save().await;
        Step::Again
    }

    /// Uploads a few captures at once (a capture's round trip is mostly the
    /// server's fsyncs, so overlapping them is what drains a backlog fast) and
    /// acknowledges the accepted ones in one commit.
    async fn send_captures(&mut self, caps: Vec<(CaptureRecord, PathBuf)>) -> Step {
        self.set_state(State::Uploading).await;
        let mut set = tokio::task::JoinSet::new();
        for (i, (rec, path)) in caps.into_iter().enumerate() {
            let (http, url, token) = (self.http.clone(), self.url.clone(), self.token());
            set.spawn(async move {
                let sent = put_capture(&http, &url, &token, &rec, &path).await;
                (i, rec, sent)
            });
        }
        let mut results = set.join_all().await;
        results.sort_by_key(|r| r.0);
        let mut acked = Vec::new();
        let mut step = None;
        for (_, rec, sent) in results {
            match sent {
                Outcome::Ok(_) => acked.push(rec.id),
                Outcome::Retry { why, after } => {
                    if step.is_none() {
                        self.fail(why).await;
                        step = Some(Step::Wait(after));
                    }
                }
                Outcome::Unauthorized(why) => {
                    if step.is_none() {
                        step = Some(self.unauthorized(why).await);
                    }
                }
                Outcome::TooLarge(why) | Outcome::Rejected { why, .. } => {
                    if let Step::Wait(after) = self.reject(Some(rec.id), why).await {
                        step.get_or_insert(Step::Wait(after));
                    }
                }
            }
        }
        if !acked.is_empty() {
            if let Err(e) = self.queue.call(move |q| q.ack_captures(&acked)).await {
                return self.queue_failed(e).await;
            }
            self.reenrolled = false;
            self.succeeded().await;
        }
        step.unwrap_or(Step::Progress)
    }
}
