//! Deleting records for good: a person's segment, day or everything, and what
//! retention expires. Rows and image files go; a tombstone (id, who, when,
//! why) stays, so an agent uploading a deleted id again is told it is done
//! and drops it, and nothing deleted comes back.

use super::sql::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{now_ms, rfc3339, Grant, Store, StoreError};
use crate::access::Action;

/// How long each kind of data is kept, in days; `None` keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub screenshots_days: Option<u32>,
    pub webcam_days: Option<u32>,
    pub minutes_days: Option<u32>,
    pub audit_days: Option<u32>,
}

impl Default for Retention {
    /// Screenshots 45 days, the rest until deleted.
    fn default() -> Retention {
        Retention {
            screenshots_days: Some(45),
            webcam_days: Some(45),
            minutes_days: None,
            audit_days: None,
        }
    }
}

/// One deletion of a person's records, as they see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    pub at: String,
    pub by: String,
    pub reason: String,
    pub minutes: u64,
    pub captures: u64,
}

/// What a deletion removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub minutes: u64,
    pub captures: u64,
    pub audit: u64,
}

const DAY_MS: i64 = 86_400_000;

impl Store {
    /// Deletes every minute and capture of the grant's person in [from_ms,
    /// to_ms), files included, leaving tombstones that say who and why. The
    /// deletion window is checked against every record found, by the end of
    /// the segment it falls in, not against the range asked for: a grant to
    /// delete recent records deletes no older one, and if the range holds
    /// one, nothing is deleted.
    pub fn delete_range(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
        reason: &str,
    ) -> Result<Deleted, StoreError> {
        let person = grant.person_for(&[Action::DeleteRecent, Action::DeleteOld])?;
        // A submitted or approved timesheet period stays as it was handed in.
        if let (super::Actor::Person(viewer), Some(p)) = (grant.actor(), self.person(person)?) {
            self.check_unlocked(viewer, &p, (from_ms, to_ms))?;
        }
        let (lo, hi) = super::diary::text_bounds(from_ms, to_ms);
        let minutes = self.ids_where(
            "SELECT m.id, m.start FROM minutes m JOIN devices d ON d.id = m.device_id
             WHERE d.person_id = ?1 AND m.start >= ?2 AND m.start <= ?3",
            params![person, lo, hi],
            from_ms,
            to_ms,
        )?;
        let captures = self.ids_where(
            "SELECT c.id, c.taken_at FROM captures c JOIN devices d ON d.id = c.device_id
             WHERE d.person_id = ?1 AND c.taken_at >= ?2 AND c.taken_at <= ?3",
            params![person, lo, hi],
            from_ms,
            to_ms,
        )?;
        let oldest = minutes.iter().chain(&captures).map(|(_, t)| *t).min();
        if let Some(t) = oldest {
            let policy = self.effective_policy(Some(person))?;
            let seg = policy.segment_ms().max(60_000);
            let segment_end = (t.div_euclid(seg) + 1) * seg;
            let needs = crate::access::deletion(segment_end, now_ms(), policy.review_ms());
            if !grant.allows(needs) {
                return Err(StoreError::Denied(format!(
                    "the records of the segment that ended at {} are past the window in which you may delete them",
                    rfc3339(segment_end)
                )));
            }
        }
        let ids =
            |found: Vec<(String, i64)>| found.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        self.remove(
            Some(person),
            &ids(minutes),
            &ids(captures),
            &grant.by(),
            reason,
        )
    }

    /// Every record of the grant's person, for "delete everything".
    pub fn delete_all(&self, grant: &Grant, reason: &str) -> Result<Deleted, StoreError> {
        let person = grant.person_for(&[Action::DeleteAll])?;
        // The epoch to late in year 9999: later times would print with a
        // sign and five digits and no longer compare as text.
        let (lo, hi) = super::diary::text_bounds(0, 253_402_300_000_000);
        let ids = |sql: &str| -> Result<Vec<String>, StoreError> {
            let mut conn = self.conn();
            Ok(conn.query_map(sql, params![person, lo, hi], |r| r.get::<String>(0))?)
        };
        let minutes = ids(
            "SELECT m.id FROM minutes m JOIN devices d ON d.id = m.device_id
             WHERE d.person_id = ?1 AND m.start >= ?2 AND m.start <= ?3",
        )?;
        let captures = ids(
            "SELECT c.id FROM captures c JOIN devices d ON d.id = c.device_id
             WHERE d.person_id = ?1 AND c.taken_at >= ?2 AND c.taken_at <= ?3",
        )?;
        self.remove(Some(person), &minutes, &captures, &grant.by(), reason)
    }

    /// Ids with their times (epoch ms) a query finds, those in [from, to)
    /// only: stored times are strings, compared exactly after parsing.
    fn ids_where(
        &self,
        sql: &str,
        args: &[&dyn super::sql::ToValue],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map(sql, args, |r| {
            Ok((r.get::<String>(0)?, r.get::<String>(1)?))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, t)| {
                let t = super::diary::ms(&t)?;
                (from_ms..to_ms).contains(&t).then_some((id, t))
            })
            .collect())
    }

    /// Removes rows and files in one transaction, tombstones in the same one;
    /// files go after the commit (a crash in between leaves files the next
    /// deletion or retention run finds no row for, never a row without its
    /// tombstone).
    fn remove(
        &self,
        person: Option<&str>,
        minutes: &[String],
        captures: &[String],
        by: &str,
        reason: &str,
    ) -> Result<Deleted, StoreError> {
        let now = now_ms();
        let mut files = Vec::new();
        {
            let mut conn = self.conn();
            let mut tx = conn.transaction()?;
            // The hours whose sums the deleted minutes leave, per device.
            let mut hours: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
                Default::default();
            for (kind, ids) in [("minute", minutes), ("capture", captures)] {
                for id in ids {
                    if kind == "capture" {
                        let file: Option<String> = tx
                            .query_row(
                                "SELECT file FROM captures WHERE id = ?1",
                                params![id],
                                |r| r.get(0),
                            )
                            .optional()?;
                        if let Some(file) = file {
                            // In doubt until its delete below succeeds.
                            tx.execute(super::leases::NOTE_IN_DOUBT, params![file, id, now])?;
                            files.push(file);
                        }
                        tx.execute("DELETE FROM captures WHERE id = ?1", params![id])?;
                    } else {
                        let gone: Vec<(String, String)> = tx.query_map(
                            "DELETE FROM minutes WHERE id = ?1 RETURNING device_id, start",
                            params![id],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?;
                        for (device, start) in gone {
                            if let Some(h) = start.get(..13) {
                                hours.entry(device).or_default().insert(h.to_string());
                            }
                        }
                    }
                    tx.execute(
                        "INSERT INTO tombstones (id, kind, deleted_ms, deleted_by, reason, person_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                        params![id, kind, now, by, reason, person],
                    )?;
                }
            }
            for (device, hours) in hours {
                super::stale::mark_device(&mut tx, &device, hours)?;
            }
            tx.commit()?;
        }
        for file in files {
            match self.remove_image(&file) {
                Ok(()) => self.settled(&file),
                // Left behind, it is still noted in doubt: the orphan sweep
                // takes it later.
                Err(e) => {
                    tracing::warn!(key = %file, error = %e, "could not remove a deleted image")
                }
            }
        }
        Ok(Deleted {
            minutes: minutes.len() as u64,
            captures: captures.len() as u64,
            audit: 0,
        })
    }

    /// What was deleted of the grant's person's records and by whom, newest
    /// first: one line per deletion (who, when, why, how many minutes and
    /// captures).
    pub fn deletions_of(&self, grant: &Grant) -> Result<Vec<Deletion>, StoreError> {
        let person = grant.person_for(&[Action::ViewAudit])?;
        let mut conn = self.conn();
        let rows = conn.query_map(
            "SELECT deleted_ms, deleted_by, reason,
                    sum(CASE WHEN kind = 'minute' THEN 1 ELSE 0 END),
                    sum(CASE WHEN kind = 'capture' THEN 1 ELSE 0 END)
             FROM tombstones WHERE person_id = ?1
             GROUP BY deleted_ms, deleted_by, reason ORDER BY deleted_ms DESC",
            params![person],
            |r| {
                Ok(Deletion {
                    at: rfc3339(r.get(0)?),
                    by: r.get(1)?,
                    reason: r.get(2)?,
                    minutes: r.get(3)?,
                    captures: r.get(4)?,
                })
            },
        )?;
        Ok(rows)
    }

    /// Whether `id` was deleted (an upload of it is answered as done).
    pub fn tombstoned(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM tombstones WHERE id = ?1)",
            params![id],
            |r| r.get(0),
        )?)
    }

    pub fn retention(&self) -> Result<Retention, StoreError> {
        self.setting("retention")
    }

    pub fn set_retention(&self, r: &Retention) -> Result<(), StoreError> {
        self.set_setting("retention", r)
    }

    /// Deletes what retention says has been kept long enough at `now_ms`.
    pub fn apply_retention(&self, now_ms: i64) -> Result<Deleted, StoreError> {
        let r = self.retention()?;
        let cutoff = |days: u32| rfc3339(now_ms - i64::from(days) * DAY_MS);
        let expired = |sql: &str, days: Option<u32>| -> Result<Vec<String>, StoreError> {
            let Some(days) = days else {
                return Ok(Vec::new());
            };
            let mut conn = self.conn();
            Ok(conn.query_map(sql, params![cutoff(days)], |r| r.get::<String>(0))?)
        };
        let mut captures = expired(
            "SELECT id FROM captures WHERE kind = 'screenshot' AND taken_at < ?1",
            r.screenshots_days,
        )?;
        captures.extend(expired(
            "SELECT id FROM captures WHERE kind = 'webcam' AND taken_at < ?1",
            r.webcam_days,
        )?);
        let minutes = expired("SELECT id FROM minutes WHERE start < ?1", r.minutes_days)?;
        let mut deleted = self.remove(
            None,
            &minutes,
            &captures,
            "retention",
            "kept as long as retention allows",
        )?;
        if let Some(days) = r.audit_days {
            deleted.audit = self.conn().execute(
                "DELETE FROM view_audit WHERE at_ms < ?1",
                params![now_ms - i64::from(days) * DAY_MS],
            )? as u64;
        }
        Ok(deleted)
    }
}

#[cfg(test)]
#[path = "deletion_tests.rs"]
mod tests;
