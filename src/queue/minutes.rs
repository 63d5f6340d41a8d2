//! Minute records in the queue: merging a revisited minute, the upload batch
//! and its acknowledgement.

use rusqlite::params;
use stint_proto::MinuteBatch;

use super::{local_day_start_ms, session_row, QueueError, Store, SESSION_COLUMNS};
use crate::model::{rfc3339, MinuteRecord};

impl Store {
    /// Inserts a minute, or merges it into an existing row for the same start (a clock
    /// set back can revisit a minute): counts add up, tracked seconds are capped at the
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
                                      synthetic_clicks, counts_unknown)
                 VALUES (?1, ?2, ?3, MIN(?4, ?13), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15, ?16)
                 ON CONFLICT(start_ms) DO UPDATE SET
                    seconds    = MIN(?13, seconds + excluded.seconds),
                    keystrokes = keystrokes + excluded.keystrokes,
                    clicks     = clicks + excluded.clicks,
                    scrolls    = scrolls + excluded.scrolls,
                    synthetic_keystrokes = synthetic_keystrokes + excluded.synthetic_keystrokes,
                    synthetic_clicks     = synthetic_clicks + excluded.synthetic_clicks,
                    counts_unknown       = counts_unknown OR excluded.counts_unknown,
                    idle       = idle AND excluded.idle,
                    title      = COALESCE(title, excluded.title),
                    exe_path   = COALESCE(exe_path, excluded.exe_path),
                    app        = COALESCE(app, excluded.app)",
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
                    m.counts_unknown
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
        Ok(MinuteBatch { sessions, minutes })
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
            }
        }
        tx.commit().map_err(|e| self.sql_err(e))
    }
}

pub(super) const MINUTE_COLUMNS: &str = "SELECT id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, synthetic_keystrokes, synthetic_clicks, counts_unknown FROM minutes";

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
    })
}
