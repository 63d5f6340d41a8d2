//! Minute records in the queue: merging a revisited minute, the upload batch
//! and its acknowledgement.

use rusqlite::params;
use stint_proto::MinuteBatch;

use super::{local_day_start_ms, none_if_empty, session_row, QueueError, Store, SESSION_COLUMNS};
use crate::model::{rfc3339, MinuteRecord};

impl Store {
    /// Inserts a minute, or merges it into an existing row for the same start
    /// and project choice (a clock set back can revisit a minute, a switch
    /// back to the first choice within one): counts add up, tracked seconds are capped at the
    /// minute's length so time is never counted twice, and counts unknown for
    /// either part are unknown for the whole.
    pub fn upsert_minute(
        &mut self,
        m: &MinuteRecord,
        start_ms: i64,
        slot_secs: u32,
    ) -> Result<(), QueueError> {
        self.conn
            .execute(
                "INSERT INTO minutes (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle,
                                      title, exe_path, app, session_id, synthetic_keystrokes,
                                      synthetic_clicks, counts_unknown, project_id, task_id, from_secs,
                                      privacy_rule, screenshot_skipped)
                 VALUES (?1, ?2, ?3, MIN(?4, ?13), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15, ?16,
                         ?17, ?18, ?19, ?20, ?21)
                 ON CONFLICT(start_ms, project_id, task_id) DO UPDATE SET
                    seconds    = MIN(?13, seconds + excluded.seconds),
                    from_secs  = MIN(from_secs, excluded.from_secs),
                    keystrokes = keystrokes + excluded.keystrokes,
                    clicks     = clicks + excluded.clicks,
                    scrolls    = scrolls + excluded.scrolls,
                    synthetic_keystrokes = synthetic_keystrokes + excluded.synthetic_keystrokes,
                    synthetic_clicks     = synthetic_clicks + excluded.synthetic_clicks,
                    counts_unknown       = counts_unknown OR excluded.counts_unknown,
                    idle       = idle AND excluded.idle,
                    title      = COALESCE(title, excluded.title),
                    exe_path   = COALESCE(exe_path, excluded.exe_path),
                    app        = COALESCE(app, excluded.app),
                    privacy_rule = COALESCE(privacy_rule, excluded.privacy_rule),
                    screenshot_skipped = COALESCE(screenshot_skipped, excluded.screenshot_skipped)",
                params![
                    m.id,
                    start_ms,
                    m.utc_offset,
                    m.seconds,
                    m.keystrokes,
                    m.clicks,
                    m.scrolls,
                    m.idle,
                    m.title,
                    m.exe_path,
                    m.app,
                    m.session_id,
                    slot_secs,
                    m.synthetic_keystrokes,
                    m.synthetic_clicks,
                    m.counts_unknown,
                    m.project_id.as_deref().unwrap_or(""),
                    m.task_id.as_deref().unwrap_or(""),
                    m.from_secs,
                    m.privacy_rule,
                    m.screenshot_skipped
                ],
            )
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// The oldest `limit` minutes that started before `before_ms` (the review
    /// window's cutoff) and every session the server has not acknowledged.
    pub fn upload_batch(&self, limit: usize, before_ms: i64) -> Result<MinuteBatch, QueueError> {
        let e = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "{SESSION_COLUMNS} WHERE uploaded = 0 ORDER BY started_ms"
            ))
            .map_err(e)?;
        let sessions = stmt
            .query_map([], session_row)
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "{MINUTE_COLUMNS} WHERE start_ms < ?2 ORDER BY start_ms LIMIT ?1"
            ))
            .map_err(e)?;
        let minutes = stmt
            .query_map([limit as i64, before_ms], minute_row)
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let idle_spans = self.idle_batch(before_ms)?;
        let private_spans = self.private_batch(before_ms)?;
        Ok(MinuteBatch {
            sessions,
            minutes,
            idle_spans,
            private_spans,
        })
    }

    /// Removes what the server acknowledged, in one transaction. A minute whose
    /// counts changed since it was read (a revisited minute merged into it) stays
    /// for the next upload, which the server applies as an update.
    pub fn ack_batch(&mut self, batch: &MinuteBatch) -> Result<(), QueueError> {
        let tx = self.conn.transaction().map_err(QueueError::Sql)?;
        for s in &batch.sessions {
            tx.execute("UPDATE sessions SET uploaded = 1 WHERE id = ?1", [&s.id])
                .map_err(QueueError::Sql)?;
        }
        super::idle::ack(&tx, &batch.idle_spans).map_err(QueueError::Sql)?;
        super::private::ack(&tx, &batch.private_spans).map_err(QueueError::Sql)?;
        for m in &batch.minutes {
            let start_ms = chrono::DateTime::parse_from_rfc3339(&m.start)
                .map(|t| t.timestamp_millis())
                .unwrap_or_default();
            let gone = tx
                .execute(
                    "DELETE FROM minutes WHERE id = ?1 AND seconds = ?2 AND keystrokes = ?3
                     AND clicks = ?4 AND scrolls = ?5 AND idle = ?6 AND counts_unknown = ?7",
                    params![
                        m.id,
                        m.seconds,
                        m.keystrokes,
                        m.clicks,
                        m.scrolls,
                        m.idle,
                        m.counts_unknown
                    ],
                )
                .map_err(QueueError::Sql)?;
            if gone == 1 {
                let active = if m.idle { 0 } else { m.seconds };
                tx.execute(
                    "INSERT INTO day_totals (day_ms, tracked, active) VALUES (?1, ?2, ?3)
                     ON CONFLICT (day_ms) DO UPDATE SET tracked = tracked + excluded.tracked,
                                                        active = active + excluded.active",
                    params![local_day_start_ms(start_ms), m.seconds, active],
                )
                .map_err(QueueError::Sql)?;
                tx.execute(
                    "INSERT INTO work_totals (day_ms, project_id, task_id, tracked) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (day_ms, project_id, task_id) DO UPDATE SET tracked = tracked + excluded.tracked",
                    params![
                        local_day_start_ms(start_ms),
                        m.project_id.as_deref().unwrap_or(""),
                        m.task_id.as_deref().unwrap_or(""),
                        m.seconds
                    ],
                )
                .map_err(QueueError::Sql)?;
            }
        }
        tx.commit().map_err(|e| self.sql_err(e))
    }
}

impl Store {
    /// Seconds tracked since `day_start_ms` per project choice, uploaded
    /// or not: what the tray shows beside each project.
    pub fn today_by_work(
        &self,
        day_start_ms: i64,
    ) -> Result<Vec<(stint_proto::Work, u64)>, QueueError> {
        let e = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT project_id, task_id, sum(s) FROM (
                    SELECT project_id, task_id, seconds AS s FROM minutes WHERE start_ms >= ?1
                    UNION ALL
                    SELECT project_id, task_id, tracked AS s FROM work_totals WHERE day_ms >= ?1)
                 GROUP BY project_id, task_id ORDER BY project_id, task_id",
            )
            .map_err(e)?;
        let rows = stmt
            .query_map([day_start_ms], |r| {
                Ok((
                    stint_proto::Work {
                        project_id: none_if_empty(r.get(0)?),
                        task_id: none_if_empty(r.get(1)?),
                    },
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(e)?;
        rows.collect::<Result<_, _>>().map_err(e)
    }

    /// The same, summed per project over its tasks (unassigned time left out).
    pub fn today_by_project(
        &self,
        day_start_ms: i64,
    ) -> Result<std::collections::BTreeMap<String, u64>, QueueError> {
        let mut by = std::collections::BTreeMap::new();
        for (work, secs) in self.today_by_work(day_start_ms)? {
            if let Some(p) = work.project_id {
                *by.entry(p).or_default() += secs;
            }
        }
        Ok(by)
    }
}

pub(super) const MINUTE_COLUMNS: &str = "SELECT id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, synthetic_keystrokes, synthetic_clicks, counts_unknown, project_id, task_id, from_secs, privacy_rule, screenshot_skipped FROM minutes";

pub(super) fn minute_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MinuteRecord> {
    Ok(MinuteRecord {
        id: r.get(0)?,
        start: rfc3339(r.get(1)?),
        utc_offset: r.get(2)?,
        seconds: r.get(3)?,
        keystrokes: r.get(4)?,
        clicks: r.get(5)?,
        scrolls: r.get(6)?,
        synthetic_keystrokes: r.get(12)?,
        synthetic_clicks: r.get(13)?,
        counts_unknown: r.get(14)?,
        idle: r.get(7)?,
        title: r.get(8)?,
        exe_path: r.get(9)?,
        app: r.get(10)?,
        session_id: r.get(11)?,
        project_id: none_if_empty(r.get(15)?),
        task_id: none_if_empty(r.get(16)?),
        privacy_rule: r.get(18)?,
        screenshot_skipped: r.get(19)?,
        from_secs: r.get(17)?,
    })
}
