//! Budgets and limits: hours per project (in all, or per calendar month in
//! UTC) with a warning share and an optional hard stop, and weekly limits
//! per member (weeks from Monday, in the member's time zone, always hard).
//! The heartbeat carries the tightest one of each project as an
//! `Allowance`, which the agent enforces offline.

use chrono::{Datelike, TimeZone};
use stint_proto::Allowance;

use super::sql::{params, OptionalExtension};
use super::{rfc3339, Person, Project, Store, StoreError};

/// A project's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub secs: u64,
    /// Per calendar month (UTC) rather than over the project's life.
    pub monthly: bool,
    /// Warn once this share is used.
    pub warn_percent: u8,
    /// Stop tracking on the project once it is used up.
    pub hard_stop: bool,
}

/// "100 h", or to the second: "1:30:00".
pub fn hours(secs: u64) -> String {
    if secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else {
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

impl Budget {
    pub fn describe(&self) -> String {
        format!(
            "the project's budget of {}{}",
            hours(self.secs),
            if self.monthly { " this month" } else { "" }
        )
    }
}

/// The first instant of `now_ms`'s month in UTC.
fn month_start_ms(now_ms: i64) -> i64 {
    let now = chrono::Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_default();
    chrono::Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp_millis())
}

/// The Monday 00:00 of `now_ms`'s week in `tz`.
fn week_start_ms(now_ms: i64, tz: chrono_tz::Tz) -> i64 {
    let Some(local) = tz.timestamp_millis_opt(now_ms).single() else {
        return now_ms;
    };
    let monday = local.date_naive()
        - chrono::Duration::days(i64::from(local.weekday().num_days_from_monday()));
    tz.from_local_datetime(&monday.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

impl Store {
    /// Sets (or, with `None`, removes) a project's budget.
    pub fn set_budget(&self, project: &str, budget: Option<Budget>) -> Result<(), StoreError> {
        if let Some(b) = budget {
            if b.secs == 0 || b.warn_percent > 100 {
                return Err(StoreError::Invalid(
                    "a budget is more than no time, warned at 0 to 100 %".into(),
                ));
            }
        }
        let n = self.conn().execute(
            "UPDATE projects SET budget_secs = ?2, budget_monthly = ?3, budget_warn_percent = ?4, budget_hard_stop = ?5
             WHERE id = ?1",
            params![
                project,
                budget.map(|b| b.secs as i64),
                budget.is_some_and(|b| b.monthly),
                budget.map_or(80, |b| i64::from(b.warn_percent)),
                budget.is_some_and(|b| b.hard_stop)
            ],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no project {project}")));
        }
        Ok(())
    }

    pub fn budget(&self, project: &str) -> Result<Option<Budget>, StoreError> {
        let row: Option<(Option<i64>, bool, i64, bool)> = self
            .conn()
            .query_row(
                "SELECT budget_secs, budget_monthly, budget_warn_percent, budget_hard_stop FROM projects WHERE id = ?1",
                params![project],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(row.and_then(|(secs, monthly, warn, hard_stop)| {
            Some(Budget {
                secs: u64::try_from(secs?).ok()?,
                monthly,
                warn_percent: u8::try_from(warn).unwrap_or(80),
                hard_stop,
            })
        }))
    }

    /// Sets (or removes) a member's weekly limit on a project.
    pub fn set_weekly_limit(
        &self,
        project: &str,
        person: &str,
        secs: Option<u64>,
    ) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE project_members SET weekly_limit_secs = ?3 WHERE project_id = ?1 AND person_id = ?2",
            params![project, person, secs.map(|s| s as i64)],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "{person} is not a member of project {project}"
            )));
        }
        Ok(())
    }

    /// The budget of `project` and the seconds recorded against it in the
    /// budget's period (everyone's, as the agents sent them).
    pub fn budget_used(
        &self,
        project: &str,
        now_ms: i64,
    ) -> Result<Option<(Budget, u64)>, StoreError> {
        let Some(b) = self.budget(project)? else {
            return Ok(None);
        };
        let since_ms = if b.monthly { month_start_ms(now_ms) } else { 0 };
        let since = if b.monthly {
            rfc3339(since_ms)
        } else {
            String::new()
        };
        let used: i64 = self.conn().query_row(
            "SELECT coalesce(sum(seconds), 0) FROM minutes WHERE project_id = ?1 AND start >= ?2",
            params![project, since],
            |r| r.get(0),
        )?;
        let offline = self.offline_used(project, None, since_ms)?;
        Ok(Some((b, used.max(0) as u64 + offline)))
    }

    /// The tightest of the project's budget (when it stops or warns) and
    /// the person's weekly limit on it, as of `now_ms`.
    pub fn allowance(
        &self,
        person: &Person,
        project: &Project,
        now_ms: i64,
    ) -> Result<Option<Allowance>, StoreError> {
        Ok(self
            .allowances(person, project, now_ms)?
            .into_iter()
            .min_by_key(|a| a.remaining_secs))
    }

    /// Each of the project's budget and the person's weekly limit on it
    /// that applies, as of `now_ms`.
    pub(super) fn allowances(
        &self,
        person: &Person,
        project: &Project,
        now_ms: i64,
    ) -> Result<Vec<Allowance>, StoreError> {
        let mut all = Vec::new();
        if let Some((b, used)) = self.budget_used(&project.id, now_ms)? {
            all.push(Allowance {
                remaining_secs: b.secs.saturating_sub(used),
                warn_below_secs: b.secs * u64::from(100 - b.warn_percent.min(100)) / 100,
                hard_stop: b.hard_stop,
                what: b.describe(),
            });
        }
        let limit: Option<i64> = self
            .conn()
            .query_row(
                "SELECT weekly_limit_secs FROM project_members WHERE project_id = ?1 AND person_id = ?2",
                params![project.id, person.id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(limit) = limit.and_then(|l| u64::try_from(l).ok()) {
            let since_ms = week_start_ms(now_ms, person.tz());
            let used: i64 = self.conn().query_row(
                "SELECT coalesce(sum(m.seconds), 0) FROM minutes m JOIN devices d ON d.id = m.device_id
                 WHERE d.person_id = ?1 AND m.project_id = ?2 AND m.start >= ?3",
                params![person.id, project.id, rfc3339(since_ms)],
                |r| r.get(0),
            )?;
            let used =
                used.max(0) as u64 + self.offline_used(&project.id, Some(&person.id), since_ms)?;
            all.push(Allowance {
                remaining_secs: limit.saturating_sub(used),
                warn_below_secs: limit / 10,
                hard_stop: true,
                what: format!("your weekly limit of {} on it", hours(limit)),
            });
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{ProjectRole, Role};

    #[test]
    fn periods_begin_in_utc_months_and_local_weeks() {
        let utc = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(
            month_start_ms(utc("2026-12-03T15:00:00Z")),
            utc("2026-12-01T00:00:00Z")
        );
        // Thursday 3 December 2026; Auckland is 13 hours ahead.
        let tz: chrono_tz::Tz = "Pacific/Auckland".parse().unwrap();
        assert_eq!(
            week_start_ms(utc("2026-12-03T15:00:00Z"), tz),
            utc("2026-11-29T11:00:00Z")
        );
        assert_eq!(
            week_start_ms(utc("2026-12-03T15:00:00Z"), chrono_tz::UTC),
            utc("2026-11-30T00:00:00Z")
        );
    }

    /// The budget counts everyone's recorded time, the weekly limit the
    /// person's own; the tighter one is the allowance.
    #[test]
    fn the_tightest_of_budget_and_weekly_limit_is_the_allowance() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let max = store
            .add_person("max@x", "Max", "UTC", Role::Member)
            .unwrap();
        let eve = store
            .add_person("eve@x", "Eve", "UTC", Role::Member)
            .unwrap();
        let web = store.add_project("Website", None, None, None).unwrap();
        for p in [&max, &eve] {
            store
                .set_member(&web, &p.id, Some(ProjectRole::Member))
                .unwrap();
        }
        let project = store.project(&web).unwrap().unwrap();
        let now = crate::store::now_ms();
        assert_eq!(store.allowance(&max, &project, now).unwrap(), None);
        store
            .set_budget(
                &web,
                Some(Budget {
                    secs: 3 * 3600,
                    monthly: true,
                    warn_percent: 80,
                    hard_stop: true,
                }),
            )
            .unwrap();
        for (who, n) in [(&max, 60), (&eve, 90)] {
            let device = store.enroll_device(Some(&who.id), "pc").unwrap();
            let minutes = (0..n)
                .map(|i| {
                    serde_json::from_value(serde_json::json!({
                        "id": format!("{}-{i}", who.name), "start": rfc3339(now - (i + 1) * 60_000),
                        "utc_offset": 0, "seconds": 60, "keystrokes": 1, "clicks": 0, "scrolls": 0,
                        "idle": false, "session_id": "s", "project_id": web,
                    }))
                    .unwrap()
                })
                .collect();
            let batch = stint_proto::MinuteBatch {
                sessions: vec![],
                minutes,
                idle_spans: vec![],
                private_spans: vec![],
            };
            store.upsert_batch(&device, &batch, "127.0.0.0").unwrap();
        }
        let a = store.allowance(&max, &project, now).unwrap().unwrap();
        assert_eq!(
            (a.remaining_secs, a.warn_below_secs, a.hard_stop),
            (1800, 2160, true)
        );
        assert!(a.what.contains("3 h this month"), "{a:?}");
        store
            .set_weekly_limit(&web, &max.id, Some(3600 + 600))
            .unwrap();
        let a = store.allowance(&max, &project, now).unwrap().unwrap();
        assert_eq!(
            a.remaining_secs, 600,
            "Max's own hour counts against his limit"
        );
        assert!(a.what.contains("weekly limit"), "{a:?}");
        let e = store.set_weekly_limit(&web, "nobody", Some(1)).unwrap_err();
        assert!(e.to_string().contains("not a member"), "{e}");
    }
}
