//! Timesheet periods a person submits and their manager (or an admin)
//! approves or rejects: submitted, a period is locked against the person's
//! changes (offline time, reassigning, deleting); approved, against
//! everyone's, until an admin reopens it. A rejection reopens that period
//! only. The agent's minutes for a locked period are stored as ever and
//! flagged by their arrival after the lock; payroll counts what had arrived
//! when the period was approved. Every step is an event the person reads.

use chrono::NaiveDate;

use super::sql::{params, OptionalExtension};
use super::{now_ms, Grant, Person, Store, StoreError};
use crate::access::Action;
use crate::days::{day_bounds, day_of};
use crate::periods::PeriodSettings;

/// Where a period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodState {
    /// Nothing handed in (or reopened by an admin).
    Open,
    Submitted,
    Approved,
    /// Sent back with a reason: open again, to be submitted again.
    Rejected,
}

impl PeriodState {
    pub fn name(self) -> &'static str {
        match self {
            PeriodState::Open => "open",
            PeriodState::Submitted => "submitted",
            PeriodState::Approved => "approved",
            PeriodState::Rejected => "rejected",
        }
    }

    fn parse(t: &str) -> PeriodState {
        match t {
            "submitted" => PeriodState::Submitted,
            "approved" => PeriodState::Approved,
            "rejected" => PeriodState::Rejected,
            _ => PeriodState::Open,
        }
    }

    /// Whether the person's own changes are refused.
    pub fn locked(self) -> bool {
        matches!(self, PeriodState::Submitted | PeriodState::Approved)
    }
}

/// One person's period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub person_id: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub state: PeriodState,
    /// When it last changed state; for a locked period, records arriving
    /// later are late.
    pub changed_ms: i64,
    pub approved_ms: Option<i64>,
}

impl Period {
    /// "the period 2026-11-30 to 2026-12-06".
    pub fn words(&self) -> String {
        format!("the period {} to {}", self.first, self.last)
    }
}

/// One step of a period's story, as the person reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeriodEvent {
    pub first: NaiveDate,
    pub at_ms: i64,
    /// "Mia <mia@example.com>", or "the policy".
    pub by: String,
    /// submitted, approved, rejected, reopened.
    pub action: String,
    pub reason: Option<String>,
}

/// What to look at before submitting a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checklist {
    /// Tracked seconds on no project.
    pub unassigned_secs: u64,
    /// Idle seconds nobody decided on (an older agent's, or undecided).
    pub undecided_idle_secs: u64,
    /// Offline time still waiting for a decision: submitting waits for it.
    pub pending_offline: usize,
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap_or(NaiveDate::MIN)
}

impl Store {
    pub fn period_settings(&self) -> Result<PeriodSettings, StoreError> {
        self.setting("periods")
    }

    /// Changes the period rule (checked) and the auto-approval delay.
    pub fn set_period_settings(&self, s: &PeriodSettings) -> Result<(), StoreError> {
        if let Some(rule) = &s.rule {
            crate::periods::PeriodRule::parse(rule).map_err(StoreError::Invalid)?;
        }
        self.set_setting("periods", s)
    }

    /// The period `on` falls in, for `person`: as stored, or open.
    pub fn period_at(&self, person: &Person, on: NaiveDate) -> Result<Period, StoreError> {
        let stored: Option<Period> = self
            .conn()
            .query_row(
                "SELECT first_day, last_day, state, changed_ms, approved_ms FROM periods
                 WHERE person_id = ?1 AND first_day <= ?2 AND last_day >= ?2",
                params![person.id, on.to_string()],
                |r| {
                    Ok(Period {
                        person_id: person.id.clone(),
                        first: day(&r.get::<String>(0)?),
                        last: day(&r.get::<String>(1)?),
                        state: PeriodState::parse(&r.get::<String>(2)?),
                        changed_ms: r.get(3)?,
                        approved_ms: r.get(4)?,
                    })
                },
            )
            .optional()?;
        Ok(stored.unwrap_or_else(|| {
            let (first, last) = self
                .period_settings()
                .map(|s| s.rule())
                .unwrap_or_default()
                .period_of(on);
            Period {
                person_id: person.id.clone(),
                first,
                last,
                state: PeriodState::Open,
                changed_ms: 0,
                approved_ms: None,
            }
        }))
    }

    /// The locked period (submitted or approved) any day of [from_ms,
    /// to_ms) of `person`'s falls in, if one does.
    pub(super) fn locked_period(
        &self,
        person: &Person,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Option<Period>, StoreError> {
        let tz = person.tz();
        let (a, b) = (day_of(from_ms, tz), day_of((to_ms - 1).max(from_ms), tz));
        let hit: Option<String> = self
            .conn()
            .query_row(
                "SELECT first_day FROM periods WHERE person_id = ?1 AND state IN ('submitted', 'approved')
                 AND first_day <= ?3 AND last_day >= ?2 ORDER BY first_day",
                params![person.id, a.to_string(), b.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match hit {
            Some(first) => Ok(Some(self.period_at(person, day(&first))?)),
            None => Ok(None),
        }
    }

    /// Refuses a change to `person`'s time in [from_ms, to_ms) by `viewer`
    /// where a period locks it: a submitted period the person's own
    /// changes, an approved one everyone's.
    pub(super) fn check_unlocked(
        &self,
        viewer: &Person,
        person: &Person,
        (from_ms, to_ms): (i64, i64),
    ) -> Result<(), StoreError> {
        let Some(p) = self.locked_period(person, from_ms, to_ms)? else {
            return Ok(());
        };
        match p.state {
            PeriodState::Approved => Err(StoreError::Denied(format!(
                "{} is approved and stays as it is; an admin may reopen it",
                p.words()
            ))),
            PeriodState::Submitted if viewer.id == person.id => Err(StoreError::Denied(format!(
                "{} is submitted; ask your manager to reject it if something must change",
                p.words()
            ))),
            _ => Ok(()),
        }
    }

    /// What the person should look at before submitting the period that
    /// `on` falls in.
    pub fn checklist(&self, person: &Person, on: NaiveDate) -> Result<Checklist, StoreError> {
        let p = self.period_at(person, on)?;
        let grant = self.grant(
            person,
            super::Whose::Person(&person.id),
            Action::ViewReport,
            "",
        )?;
        let (from, to) = self.period_bounds(person, &p);
        let spent = self.work_spent(&grant, from, to)?;
        let pending = self
            .offline_of(&grant, from, to)?
            .into_iter()
            .filter(|o| o.state == super::OfflineState::Pending)
            .count();
        Ok(Checklist {
            unassigned_secs: spent
                .iter()
                .filter(|(w, _)| w.project_id.is_none())
                .map(|(_, s)| s.tracked)
                .sum(),
            undecided_idle_secs: spent.values().map(|s| s.idle).sum(),
            pending_offline: pending,
        })
    }

    /// [start, end) of a period in the person's zone.
    pub fn period_bounds(&self, person: &Person, p: &Period) -> (i64, i64) {
        let tz = person.tz();
        (day_bounds(p.first, tz).0, day_bounds(p.last, tz).1)
    }

    /// `viewer` submits their own period that `on` falls in, at `now`: once
    /// it has ended, and once no offline time in it waits for a decision.
    pub fn submit_period(
        &self,
        viewer: &Person,
        on: NaiveDate,
        now: i64,
    ) -> Result<Period, StoreError> {
        self.grant(
            viewer,
            super::Whose::Person(&viewer.id),
            Action::SubmitPeriod,
            "",
        )?;
        let p = self.period_at(viewer, on)?;
        if p.state.locked() {
            return Err(StoreError::Invalid(format!(
                "{} is {} already",
                p.words(),
                p.state.name()
            )));
        }
        if day_of(now, viewer.tz()) <= p.last {
            return Err(StoreError::Invalid(format!(
                "{} has not ended yet; submit it from {}",
                p.words(),
                p.last.succ_opt().unwrap_or(p.last)
            )));
        }
        let pending = self.checklist(viewer, on)?.pending_offline;
        if pending > 0 {
            return Err(StoreError::Invalid(format!(
                "{pending} request(s) for offline time in {} wait for a decision; submit once they are decided",
                p.words()
            )));
        }
        self.set_period_state(viewer, &p, PeriodState::Submitted, &viewer.id, None, now)
    }

    /// `viewer` approves or rejects (with a reason) `person`'s submitted
    /// period that `on` falls in.
    pub fn decide_period(
        &self,
        viewer: &Person,
        person: &Person,
        on: NaiveDate,
        approve: bool,
        reason: &str,
    ) -> Result<Period, StoreError> {
        self.grant(
            viewer,
            super::Whose::Person(&person.id),
            Action::ApprovePeriod,
            "",
        )?;
        let p = self.period_at(person, on)?;
        if p.state != PeriodState::Submitted {
            return Err(StoreError::Invalid(format!(
                "{} is {}, not submitted",
                p.words(),
                p.state.name()
            )));
        }
        let reason = reason.trim();
        if !approve && (reason.is_empty() || reason.chars().count() > 500) {
            return Err(StoreError::Invalid(
                "a rejection needs a reason of 1 to 500 characters".into(),
            ));
        }
        let (state, why) = match approve {
            true => (PeriodState::Approved, None),
            false => (PeriodState::Rejected, Some(reason)),
        };
        self.set_period_state(person, &p, state, &viewer.id, why, now_ms())
    }

    /// An admin reopens `person`'s approved period that `on` falls in.
    pub fn reopen_period(
        &self,
        viewer: &Person,
        person: &Person,
        on: NaiveDate,
        reason: &str,
    ) -> Result<Period, StoreError> {
        self.grant(
            viewer,
            super::Whose::Person(&person.id),
            Action::ReopenPeriod,
            "",
        )?;
        let p = self.period_at(person, on)?;
        if p.state != PeriodState::Approved {
            return Err(StoreError::Invalid(format!(
                "{} is not approved",
                p.words()
            )));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(StoreError::Invalid(
                "reopening needs a reason of 1 to 500 characters".into(),
            ));
        }
        self.set_period_state(
            person,
            &p,
            PeriodState::Open,
            &viewer.id,
            Some(reason),
            now_ms(),
        )
    }

    /// Approves, as the policy, every period submitted more than the
    /// settings' days before `now`; how many.
    pub fn auto_approve_periods(&self, now: i64) -> Result<u64, StoreError> {
        let Some(days) = self.period_settings()?.auto_approve_days else {
            return Ok(0);
        };
        let due: Vec<(String, String)> = self.conn().query_map(
            "SELECT person_id, first_day FROM periods WHERE state = 'submitted' AND changed_ms <= ?1",
            params![now - i64::from(days) * 86_400_000],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut n = 0;
        for (person, first) in due {
            if let Some(p) = self.person(&person)? {
                let period = self.period_at(&p, day(&first))?;
                self.set_period_state(&p, &period, PeriodState::Approved, "the policy", None, now)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Submitted periods waiting for `viewer`'s decision, oldest first.
    pub fn periods_waiting(&self, viewer: &Person) -> Result<Vec<(Person, Period)>, StoreError> {
        let rows: Vec<(String, String)> = self.conn().query_map(
            "SELECT person_id, first_day FROM periods WHERE state = 'submitted' ORDER BY changed_ms",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = Vec::new();
        for (person, first) in rows {
            let Some(p) = self.person(&person)?.filter(|p| p.id != viewer.id) else {
                continue;
            };
            let subject = self.subject(viewer, &p.id)?;
            if crate::access::allowed(viewer.role, Action::ApprovePeriod, subject) {
                let period = self.period_at(&p, day(&first))?;
                out.push((p, period));
            }
        }
        Ok(out)
    }

    /// The grant's person's periods that were ever handed in, newest first,
    /// and every step of them.
    pub fn periods_of(&self, grant: &Grant) -> Result<(Vec<Period>, Vec<PeriodEvent>), StoreError> {
        let person = grant.person_for(&[Action::ViewReport, Action::ViewAudit])?;
        let periods = self.conn().query_map(
            "SELECT first_day, last_day, state, changed_ms, approved_ms FROM periods
             WHERE person_id = ?1 ORDER BY first_day DESC",
            params![person],
            |r| {
                Ok(Period {
                    person_id: person.to_string(),
                    first: day(&r.get::<String>(0)?),
                    last: day(&r.get::<String>(1)?),
                    state: PeriodState::parse(&r.get::<String>(2)?),
                    changed_ms: r.get(3)?,
                    approved_ms: r.get(4)?,
                })
            },
        )?;
        let events = self.conn().query_map(
            "SELECT e.first_day, e.at_ms, coalesce(p.name || ' <' || p.email || '>', e.by_id), e.action, e.reason
             FROM period_events e LEFT JOIN people p ON p.id = e.by_id
             WHERE e.person_id = ?1 ORDER BY e.at_ms DESC, e.id DESC",
            params![person],
            |r| {
                Ok(PeriodEvent {
                    first: day(&r.get::<String>(0)?),
                    at_ms: r.get(1)?,
                    by: r.get(2)?,
                    action: r.get(3)?,
                    reason: r.get(4)?,
                })
            },
        )?;
        Ok((periods, events))
    }

    /// How many of the person's minutes in [from_ms, to_ms) arrived after
    /// `since_ms`: what the diary flags as late for a locked period.
    pub fn late_minutes(
        &self,
        grant: &Grant,
        (from_ms, to_ms): (i64, i64),
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        let person = grant.person_for(&[Action::ViewDiary, Action::ViewReport])?;
        let all = self.minutes_of(
            person,
            from_ms,
            to_ms,
            super::diary::Windows::Left,
            i64::MAX,
        )?;
        let kept = self.minutes_of(
            person,
            from_ms,
            to_ms,
            super::diary::Windows::Left,
            since_ms,
        )?;
        Ok(all.len().saturating_sub(kept.len()) as u64)
    }

    fn set_period_state(
        &self,
        person: &Person,
        p: &Period,
        state: PeriodState,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<Period, StoreError> {
        let action = match state {
            PeriodState::Open => "reopened",
            s => s.name(),
        };
        let approved = (state == PeriodState::Approved).then_some(now);
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO periods (person_id, first_day, last_day, state, changed_ms, approved_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (person_id, first_day) DO UPDATE SET state = excluded.state,
                 changed_ms = excluded.changed_ms, approved_ms = excluded.approved_ms",
            params![
                person.id,
                p.first.to_string(),
                p.last.to_string(),
                state.name(),
                now,
                approved
            ],
        )?;
        tx.execute(
            "INSERT INTO period_events (id, person_id, first_day, at_ms, by_id, action, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                uuid::Uuid::now_v7().to_string(),
                person.id,
                p.first.to_string(),
                now,
                by,
                action,
                reason.map(str::to_string)
            ],
        )?;
        tx.commit()?;
        drop(conn);
        tracing::info!(person = %person.id, first = %p.first, state = state.name(), by, "period changed");
        self.announce(
            &format!("period.{action}"),
            serde_json::json!({"person_id": person.id, "first_day": p.first, "last_day": p.last,
                "by": by, "reason": reason}),
        );
        Ok(Period {
            state,
            changed_ms: now,
            approved_ms: approved,
            ..p.clone()
        })
    }
}

#[cfg(test)]
#[path = "periods_tests.rs"]
mod tests;
