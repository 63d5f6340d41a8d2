//! Each person's time per UTC hour, project and task, summed once and kept,
//! so a report over a month reads a few hundred sums a person instead of
//! every minute. The sums are a cache of [`worktime::by_work`] over the
//! minutes as every reader sees them (reassigned, idle spans applied):
//! every write that changes what an hour sums to marks the hour stale in
//! the same transaction (`stale.rs`), and a stale hour is summed again before it is
//! read. Hours are keys like `2026-12-03T10` (the first 13 characters of a
//! stored UTC time), the same text in SQL and here.
//!
//! A minute belongs to the hour its slot starts in, as it belongs to the
//! day it starts in; its seconds may run up to an hour past that start
//! (`from_secs + seconds <= 3600`), which is why marks reach an hour back.

use std::collections::BTreeMap;

use stint_proto::Work;

use super::diary::{ms, Windows};
use super::sql::{params, ToValue};
use super::stale::{hour_key, HOUR_MS};
use super::worktime::{by_work, Spent};
use super::{DiaryIdle, DiaryMinute, Grant, Store, StoreError};
use crate::access::Action;

/// Rows to one statement where many go at once.
const CHUNK: usize = 100;

fn key_ms(key: &str) -> Option<i64> {
    ms(&format!("{key}:00:00Z"))
}

fn add_all(into: &mut BTreeMap<Work, Spent>, from: BTreeMap<Work, Spent>) {
    for (w, s) in from {
        *into.entry(w).or_default() += s;
    }
}

fn unkey(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Store {
    /// The grant's person's time in [from_ms, to_ms) per project choice:
    /// whole hours from the kept sums (summed again first where stale),
    /// the parts of hours at either end from the minutes; and approved
    /// offline time. Equal, second for
    /// second, to [`by_work`] over all the minutes of the range at once.
    pub fn work_spent(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<BTreeMap<Work, Spent>, StoreError> {
        let person = grant.person_for(&[Action::ViewDiary, Action::ViewReport])?;
        let first = from_ms.div_euclid(HOUR_MS) * HOUR_MS;
        let first = if first < from_ms {
            first + HOUR_MS
        } else {
            first
        };
        let last = to_ms.div_euclid(HOUR_MS) * HOUR_MS;
        let mut out = BTreeMap::new();
        if first >= last {
            add_all(&mut out, self.work_from_minutes(person, from_ms, to_ms)?);
            for (w, secs) in self.offline_spent(grant, from_ms, to_ms)? {
                out.entry(w).or_default().offline += secs;
            }
            out.retain(|w, _| grant.opens(w.project_id.as_deref()));
            return Ok(out);
        }
        for (a, b) in [(from_ms, first), (last, to_ms)] {
            if a < b {
                add_all(&mut out, self.work_from_minutes(person, a, b)?);
            }
        }
        self.sum_stale(person, first, last)?;
        let rows = self.conn().query_map(
            "SELECT project_id, task_id, CAST(sum(tracked) AS BIGINT), CAST(sum(active) AS BIGINT),
                    CAST(sum(idle) AS BIGINT), CAST(sum(idle_kept) AS BIGINT), CAST(sum(discarded) AS BIGINT)
             FROM work_hours WHERE person_id = ?1 AND hour >= ?2 AND hour < ?3
             GROUP BY project_id, task_id",
            params![person, hour_key(first), hour_key(last)],
            |r| {
                Ok((
                    Work {
                        project_id: unkey(r.get(0)?),
                        task_id: unkey(r.get(1)?),
                    },
                    Spent {
                        tracked: r.get(2)?,
                        active: r.get(3)?,
                        idle: r.get(4)?,
                        idle_kept: r.get(5)?,
                        discarded: r.get(6)?,
                        offline: 0,
                    },
                ))
            },
        )?;
        add_all(&mut out, rows.into_iter().collect());
        for (w, secs) in self.offline_spent(grant, from_ms, to_ms)? {
            out.entry(w).or_default().offline += secs;
        }
        // A lead's grant: the lead's projects alone.
        out.retain(|w, _| grant.opens(w.project_id.as_deref()));
        Ok(out)
    }

    /// Sums every stale hour before `before_ms`, for everyone: the hourly
    /// job, so a report's first reader does not wait for the sums. Returns
    /// how many hours were summed.
    pub fn sum_stale_hours(&self, before_ms: i64) -> Result<u64, StoreError> {
        let people: Vec<String> = self.conn().query_map(
            "SELECT DISTINCT person_id FROM work_hours_stale WHERE hour < ?1",
            params![hour_key(before_ms)],
            |r| r.get(0),
        )?;
        let mut n = 0;
        for p in people {
            n += self.sum_stale(&p, i64::MIN / 2, before_ms)?;
        }
        Ok(n)
    }

    /// Sums the person's stale hours in [from_ms, to_ms) again.
    fn sum_stale(&self, person: &str, from_ms: i64, to_ms: i64) -> Result<u64, StoreError> {
        // Generations first, minutes second: a write committed in between
        // leaves a newer generation, and its hour stays stale.
        let lo = if from_ms < 0 {
            String::new()
        } else {
            hour_key(from_ms)
        };
        let stale: Vec<(String, i64)> = self.conn().query_map(
            "SELECT hour, gen FROM work_hours_stale WHERE person_id = ?1 AND hour >= ?2 AND hour < ?3
             ORDER BY hour",
            params![person, lo, hour_key(to_ms)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (Some(first), Some(last)) = (
            stale.first().and_then(|(h, _)| key_ms(h)),
            stale.last().and_then(|(h, _)| key_ms(h)),
        ) else {
            return Ok(0);
        };
        let (minutes, spans) = self.minutes_for_work(person, first, last + HOUR_MS)?;
        let mut by_hour: BTreeMap<String, Vec<DiaryMinute>> = BTreeMap::new();
        for m in minutes {
            by_hour.entry(hour_key(m.start_ms)).or_default().push(m);
        }
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        for chunk in stale.chunks(CHUNK) {
            let keys: Vec<&dyn ToValue> = std::iter::once(&person as &dyn ToValue)
                .chain(chunk.iter().map(|(h, _)| h as &dyn ToValue))
                .collect();
            tx.execute(
                &format!(
                    "DELETE FROM work_hours WHERE person_id = ?1 AND hour IN ({})",
                    super::records::marks(2, chunk.len())
                ),
                &keys,
            )?;
            let mut rows = Vec::new();
            for (hour, _) in chunk {
                let Some(h) = key_ms(hour) else { continue };
                let Some(ms) = by_hour.get(hour) else {
                    continue;
                };
                let near: Vec<DiaryIdle> = spans
                    .iter()
                    .filter(|s| s.end_ms > h && s.start_ms < h + 2 * HOUR_MS)
                    .cloned()
                    .collect();
                for (w, s) in by_work(ms, &near) {
                    rows.push((
                        hour.clone(),
                        w.project_id.unwrap_or_default(),
                        w.task_id.unwrap_or_default(),
                        s,
                    ));
                }
            }
            for part in rows.chunks(CHUNK) {
                let mut args: Vec<&dyn ToValue> = vec![&person as &dyn ToValue];
                let values: Vec<String> = part
                    .iter()
                    .enumerate()
                    .map(|(i, (h, p, t, s))| {
                        args.extend([
                            h as &dyn ToValue,
                            p,
                            t,
                            &s.tracked,
                            &s.active,
                            &s.idle,
                            &s.idle_kept,
                            &s.discarded,
                        ]);
                        format!("(?1, {})", super::records::marks(2 + i * 8, 8))
                    })
                    .collect();
                tx.execute(
                    &format!(
                        "INSERT INTO work_hours (person_id, hour, project_id, task_id, tracked, active, idle, idle_kept, discarded)
                         VALUES {} ON CONFLICT (person_id, hour, project_id, task_id) DO UPDATE SET
                         tracked = excluded.tracked, active = excluded.active, idle = excluded.idle,
                         idle_kept = excluded.idle_kept, discarded = excluded.discarded",
                        values.join(", ")
                    ),
                    &args,
                )?;
            }
            for (hour, gen) in chunk {
                tx.execute(
                    "DELETE FROM work_hours_stale WHERE person_id = ?1 AND hour = ?2 AND gen = ?3",
                    params![person, hour, gen],
                )?;
            }
        }
        tx.commit()?;
        Ok(stale.len() as u64)
    }

    /// [`by_work`] straight from the minutes of [from_ms, to_ms).
    fn work_from_minutes(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<BTreeMap<Work, Spent>, StoreError> {
        let (minutes, spans) = self.minutes_for_work(person, from_ms, to_ms)?;
        Ok(by_work(&minutes, &spans))
    }

    /// The person's minutes that start in [from_ms, to_ms) (without their
    /// windows: the sums need none), and every decided span that can reach
    /// them, reassigned as every reader sees them.
    pub(super) fn minutes_for_work(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Vec<DiaryMinute>, Vec<DiaryIdle>), StoreError> {
        self.minutes_received_for_work(person, from_ms, to_ms, i64::MAX)
    }

    /// [`Store::minutes_for_work`] of what the server had by `received_by`.
    pub(super) fn minutes_received_for_work(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
        received_by: i64,
    ) -> Result<(Vec<DiaryMinute>, Vec<DiaryIdle>), StoreError> {
        let mut minutes = self.minutes_of(person, from_ms, to_ms, Windows::Left, received_by)?;
        // A minute's seconds end at most an hour after its start.
        let mut spans = self.idle_of(person, from_ms, to_ms + HOUR_MS, received_by)?;
        let week = stint_proto::MAX_IDLE_SPAN_SECS * 1000;
        let rs = self.reassignments_where(person, from_ms - week, to_ms + HOUR_MS)?;
        super::reassign::apply(&rs, &mut minutes, &mut spans);
        Ok((minutes, spans))
    }
}

#[cfg(test)]
#[path = "work_hours_tests.rs"]
mod tests;
