//! Offline time: time the agent did not record (a meeting away from the
//! computer, a site visit), asked for by the person and, under the policy's
//! `manual_time = approval`, approved or denied by someone else: the
//! project's lead, the person's manager, an admin, never the person. A
//! request is refused when it overlaps recorded time or another request,
//! or a hard budget or limit has no room for it. Each request is one row
//! that keeps its whole story (asked when and why, decided by whom, when
//! and why), which the person reads under "What changed".

use std::collections::BTreeMap;

use stint_proto::{ManualTime, Work};

use super::diary::Windows;
use super::sql::{params, OptionalExtension};
use super::{now_ms, rfc3339, Grant, Person, Store, StoreError};
use crate::access::{allowed, scoped, Action};

/// The longest one request may be.
pub const MAX_OFFLINE_MS: i64 = 24 * 3_600_000;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OfflineState {
    Pending,
    Approved,
    Denied,
}

impl OfflineState {
    pub fn name(self) -> &'static str {
        match self {
            OfflineState::Pending => "pending",
            OfflineState::Approved => "approved",
            OfflineState::Denied => "denied",
        }
    }

    fn parse(t: &str) -> Option<OfflineState> {
        [
            OfflineState::Pending,
            OfflineState::Approved,
            OfflineState::Denied,
        ]
        .into_iter()
        .find(|s| s.name() == t)
    }
}

/// One request for offline time, with its decision once there is one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Offline {
    pub id: String,
    pub person_id: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub work: Work,
    pub reason: String,
    pub state: OfflineState,
    /// Approved by the policy (`manual_time = auto`), not by a person.
    pub auto: bool,
    pub requested_ms: i64,
    /// "Mia <mia@example.com>", or "the policy".
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    pub decision_reason: Option<String>,
}

impl Offline {
    pub fn seconds(&self) -> u64 {
        ((self.to_ms - self.from_ms).max(0) / 1000) as u64
    }
}

/// Someone whose offline time a viewer decides on: all of it, or (a lead's)
/// that on the projects `led`.
struct Decides {
    person: Person,
    led: Option<Vec<String>>,
}

const COLUMNS: &str = "o.id, o.person_id, o.from_ms, o.to_ms, o.project_id, o.task_id, o.reason, o.state, o.auto,
     o.requested_ms, coalesce(p.name || ' <' || p.email || '>', o.decided_by), o.decided_ms, o.decision_reason";

fn row(r: &super::sql::Row) -> Result<Offline, super::sql::SqlError> {
    let state: String = r.get(7)?;
    Ok(Offline {
        id: r.get(0)?,
        person_id: r.get(1)?,
        from_ms: r.get(2)?,
        to_ms: r.get(3)?,
        work: Work {
            project_id: r.get(4)?,
            task_id: r.get(5)?,
        },
        reason: r.get(6)?,
        state: OfflineState::parse(&state).unwrap_or(OfflineState::Pending),
        auto: r.get(8)?,
        requested_ms: r.get(9)?,
        decided_by: r.get(10)?,
        decided_ms: r.get(11)?,
        decision_reason: r.get(12)?,
    })
}

/// A reason as people write it: 1 to 500 characters, no control characters.
fn reason_text(what: &str, reason: &str) -> Result<String, StoreError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{what} needs a reason of 1 to 500 characters"
        )));
    }
    Ok(reason.to_string())
}

/// "10:00-11:30" in UTC, for messages (pages show times in the person's zone).
fn span_words(from_ms: i64, to_ms: i64) -> String {
    format!("{} to {}", rfc3339(from_ms), rfc3339(to_ms))
}

impl Store {
    /// `viewer` asks for [from_ms, to_ms) of their own time as offline time
    /// on `work`, at `now`. Refused, in words, when the policy has no
    /// offline time, the range is not a past stretch of at most a day, it
    /// overlaps recorded time or another request (pending or approved), or
    /// a hard budget or limit on the project has no room for it.
    pub fn request_offline(
        &self,
        viewer: &Person,
        (from_ms, to_ms): (i64, i64),
        work: &Work,
        reason: &str,
        now: i64,
    ) -> Result<Offline, StoreError> {
        self.grant(
            viewer,
            super::Whose::Person(&viewer.id),
            Action::RequestTime,
            "",
        )?;
        let reason = reason_text("offline time", reason)?;
        if !(60_000..=MAX_OFFLINE_MS).contains(&(to_ms - from_ms)) {
            return Err(StoreError::Invalid(format!(
                "{}: offline time runs forward, from a minute to 24 hours",
                span_words(from_ms, to_ms)
            )));
        }
        if to_ms > now + 60_000 {
            return Err(StoreError::Invalid(format!(
                "{}: offline time is time that has passed; ask once it has",
                span_words(from_ms, to_ms)
            )));
        }
        self.check_unlocked(viewer, viewer, (from_ms, to_ms))?;
        let project = self.open_work_for(viewer, work)?;
        let on = project.as_ref().map(|p| (p.id.as_str(), p.name.as_str()));
        let policy = self.effective_policy_on(Some(&viewer.id), on)?.policy;
        let mode = policy.manual_time.unwrap_or_default();
        if mode == ManualTime::Off {
            return Err(StoreError::Denied(
                "offline time is off in your organisation's policy".into(),
            ));
        }
        if policy.project_required == Some(true) && project.is_none() {
            return Err(StoreError::Invalid(
                "the policy needs a project for every stretch of time: choose one".into(),
            ));
        }
        let recorded = self.minutes_of(
            &viewer.id,
            from_ms - 3_600_000,
            to_ms,
            Windows::Left,
            i64::MAX,
        )?;
        if let Some(m) = recorded.iter().find(|m| {
            let start = m.start_ms + i64::from(m.from_secs) * 1000;
            start < to_ms && start + i64::from(m.seconds) * 1000 > from_ms && m.seconds > 0
        }) {
            return Err(StoreError::Invalid(format!(
                "it overlaps time the agent recorded (the minute from {}); offline time fills gaps only",
                rfc3339(m.start_ms)
            )));
        }
        let others = self.offline_where(&viewer.id, from_ms, to_ms)?;
        if let Some(o) = others.iter().find(|o| o.state != OfflineState::Denied) {
            return Err(StoreError::Invalid(format!(
                "it overlaps your offline time {} ({})",
                span_words(o.from_ms, o.to_ms),
                o.state.name()
            )));
        }
        if let Some(p) = &project {
            let secs = ((to_ms - from_ms) / 1000) as u64;
            for a in self.allowances(viewer, p, now)? {
                if a.hard_stop && a.remaining_secs < secs {
                    return Err(StoreError::Denied(format!(
                        "{} has {} left on {:?}, less than the {} asked for",
                        a.what,
                        super::hours(a.remaining_secs),
                        p.name,
                        super::hours(secs)
                    )));
                }
            }
        }
        let auto = mode == ManualTime::Auto;
        let id = uuid::Uuid::now_v7().to_string();
        self.conn().execute(
            "INSERT INTO offline_time (id, person_id, from_ms, to_ms, project_id, task_id, reason, state, auto,
                                       requested_ms, decided_by, decided_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                viewer.id,
                from_ms,
                to_ms,
                work.project_id,
                work.task_id,
                reason,
                if auto { "approved" } else { "pending" },
                auto,
                now,
                auto.then(|| "the policy".to_string()),
                auto.then_some(now)
            ],
        )?;
        tracing::info!(person = %viewer.id, from_ms, to_ms, auto, "offline time requested");
        self.announce(
            "offline_time.requested",
            serde_json::json!({"id": id, "person_id": viewer.id, "from": rfc3339(from_ms),
                "to": rfc3339(to_ms), "project_id": work.project_id, "task_id": work.task_id,
                "state": if auto { "approved" } else { "pending" }}),
        );
        self.offline(&id)?
            .ok_or_else(|| StoreError::NotFound(format!("offline time {id}")))
    }

    /// `viewer` approves or denies request `id` (a denial needs a reason).
    /// Refused for one's own request, for one the viewer may not decide (a
    /// lead decides only on their projects), and for one decided already.
    pub fn decide_offline(
        &self,
        viewer: &Person,
        id: &str,
        approve: bool,
        reason: &str,
    ) -> Result<Offline, StoreError> {
        let o = self
            .offline(id)?
            .ok_or_else(|| StoreError::NotFound(format!("no offline time {id}")))?;
        if o.person_id == viewer.id {
            return Err(StoreError::Denied(
                "nobody approves their own offline time; your manager or the project's lead does"
                    .into(),
            ));
        }
        let grant = self.grant(
            viewer,
            super::Whose::Person(&o.person_id),
            Action::DecideTime,
            "",
        )?;
        if !grant.opens(o.work.project_id.as_deref()) {
            return Err(StoreError::Denied(
                "a project's lead decides on offline time for the projects they lead only".into(),
            ));
        }
        if let Some(person) = self.person(&o.person_id)? {
            self.check_unlocked(viewer, &person, (o.from_ms, o.to_ms))?;
        }
        let reason = match (approve, reason.trim().is_empty()) {
            (true, true) => None,
            _ => Some(reason_text("a denial", reason)?),
        };
        let n = self.conn().execute(
            "UPDATE offline_time SET state = ?2, decided_by = ?3, decided_ms = ?4, decision_reason = ?5
             WHERE id = ?1 AND state = 'pending'",
            params![
                id,
                if approve { "approved" } else { "denied" },
                viewer.id,
                now_ms(),
                reason
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "this offline time was {} already",
                o.state.name()
            )));
        }
        tracing::info!(by = %viewer.id, person = %o.person_id, id, approve, "offline time decided");
        self.announce(
            "offline_time.decided",
            serde_json::json!({"id": id, "person_id": o.person_id, "by": viewer.id,
                "state": if approve { "approved" } else { "denied" }}),
        );
        self.offline(id)?
            .ok_or_else(|| StoreError::NotFound(format!("offline time {id}")))
    }

    /// The requests waiting for a decision `viewer` may make, oldest first,
    /// with whose they are (names only: showing the day around one is a
    /// look of its own, granted and audited by the page).
    pub fn offline_inbox(&self, viewer: &Person) -> Result<Vec<(Person, Offline)>, StoreError> {
        let pending: Vec<Offline> = self.conn().query_map(
            &format!(
                "SELECT {COLUMNS} FROM offline_time o LEFT JOIN people p ON p.id = o.decided_by
                 WHERE o.state = 'pending' ORDER BY o.requested_ms, o.id"
            ),
            params![],
            row,
        )?;
        let mut out = Vec::new();
        // Per person: whether the viewer decides for them, and on what.
        let mut whose: BTreeMap<String, Option<Decides>> = BTreeMap::new();
        for o in pending {
            if !whose.contains_key(&o.person_id) {
                let decides = self.decides(viewer, &o.person_id)?;
                whose.insert(o.person_id.clone(), decides);
            }
            if let Some(Some(d)) = whose.get(&o.person_id) {
                let opens = match (&d.led, &o.work.project_id) {
                    (None, _) => true,
                    (Some(led), Some(project)) => led.contains(project),
                    (Some(_), None) => false,
                };
                if opens {
                    out.push((d.person.clone(), o));
                }
            }
        }
        Ok(out)
    }

    /// How many requests wait for `viewer`'s decision: for the navigation
    /// of every page, so nothing is read when nothing waits at all.
    pub fn offline_waiting(&self, viewer: &Person) -> Result<usize, StoreError> {
        let any: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM offline_time WHERE state = 'pending')",
            params![],
            |r| r.get(0),
        )?;
        Ok(if any {
            self.offline_inbox(viewer)?.len()
        } else {
            0
        })
    }

    /// The grant's person's requests that overlap [from_ms, to_ms), oldest
    /// first (a lead's grant: on the lead's projects only).
    pub fn offline_of(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Offline>, StoreError> {
        let person =
            grant.person_for(&[Action::ViewDiary, Action::ViewReport, Action::ViewAudit])?;
        let mut all = self.offline_where(person, from_ms, to_ms)?;
        all.retain(|o| grant.opens(o.work.project_id.as_deref()));
        Ok(all)
    }

    /// Approved offline seconds per project choice in [from_ms, to_ms),
    /// each request cut to the range.
    pub fn offline_spent(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<BTreeMap<Work, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for o in self.offline_of(grant, from_ms, to_ms)? {
            if o.state == OfflineState::Approved {
                let secs = ((o.to_ms.min(to_ms) - o.from_ms.max(from_ms)).max(0) / 1000) as u64;
                *out.entry(o.work).or_default() += secs;
            }
        }
        Ok(out)
    }

    /// Approved offline seconds on `project` since `since_ms`: everyone's,
    /// or `person`'s: what budgets and weekly limits count beside minutes.
    pub(super) fn offline_used(
        &self,
        project: &str,
        person: Option<&str>,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        const ALL: &str =
            "SELECT CAST(coalesce(sum((to_ms - from_ms) / 1000), 0) AS BIGINT) FROM offline_time
             WHERE project_id = ?1 AND state = 'approved' AND to_ms > ?2";
        let secs: i64 = match person {
            None => self
                .conn()
                .query_row(ALL, params![project, since_ms], |r| r.get(0))?,
            Some(p) => self.conn().query_row(
                &format!("{ALL} AND person_id = ?3"),
                params![project, since_ms, p],
                |r| r.get(0),
            )?,
        };
        Ok(secs.max(0) as u64)
    }

    /// Whether `viewer` decides on `person`'s offline time, and on which
    /// projects' only (a lead's), as `Store::grant` would decide it.
    fn decides(&self, viewer: &Person, person: &str) -> Result<Option<Decides>, StoreError> {
        let Some(p) = self.person(person)?.filter(|p| p.id != viewer.id) else {
            return Ok(None);
        };
        let subject = self.subject(viewer, &p.id)?;
        if !allowed(viewer.role, Action::DecideTime, subject) {
            return Ok(None);
        }
        let led = match scoped(viewer.role, Action::DecideTime, subject) {
            true => Some(self.led_projects(&viewer.id, &p.id)?),
            false => None,
        };
        Ok(Some(Decides { person: p, led }))
    }

    fn offline(&self, id: &str) -> Result<Option<Offline>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM offline_time o LEFT JOIN people p ON p.id = o.decided_by
                     WHERE o.id = ?1"
                ),
                params![id],
                row,
            )
            .optional()?)
    }

    fn offline_where(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Offline>, StoreError> {
        Ok(self.conn().query_map(
            &format!(
                "SELECT {COLUMNS} FROM offline_time o LEFT JOIN people p ON p.id = o.decided_by
                 WHERE o.person_id = ?1 AND o.to_ms > ?2 AND o.from_ms < ?3
                 ORDER BY o.from_ms, o.id"
            ),
            params![person, from_ms, to_ms],
            row,
        )?)
    }
}

#[cfg(test)]
#[path = "offline_tests.rs"]
mod tests;
