//! Private time in the queue: the open span is the state (tracking is on,
//! nothing is recorded until it ends), a closed one waits for upload with
//! the minutes and goes once the server acknowledged it.

use rusqlite::{params, OptionalExtension};
use stint_proto::PrivateSpanRecord;

use super::{QueueError, Store};
use crate::model::{local_offset_at, new_id, rfc3339};

/// Private time under way: since when, and until when (`None`: until
/// tracking stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Private {
    pub start_ms: i64,
    pub until_ms: Option<i64>,
}

impl Private {
    /// Whether it is over at `now_ms` (its end passed while nobody looked).
    pub fn over_at(&self, now_ms: i64) -> bool {
        self.until_ms.is_some_and(|u| u <= now_ms)
    }
}

impl Store {
    /// The private time under way, if any.
    pub fn private_now(&self) -> Result<Option<Private>, QueueError> {
        self.conn
            .query_row(
                "SELECT start_ms, until_ms FROM private_spans WHERE end_ms IS NULL",
                [],
                |r| {
                    Ok(Private {
                        start_ms: r.get(0)?,
                        until_ms: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// Begins private time at `now_ms`, or moves the end of the one under
    /// way; tells the recorder, which closes the open minute at once.
    pub fn begin_private(
        &mut self,
        now_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<Private, QueueError> {
        let e = |e| self.sql_err(e);
        let p = match self.private_now()? {
            Some(p) => {
                self.conn
                    .execute(
                        "UPDATE private_spans SET until_ms = ?1 WHERE end_ms IS NULL",
                        params![until_ms],
                    )
                    .map_err(e)?;
                Private { until_ms, ..p }
            }
            None => {
                self.conn
                    .execute(
                        "INSERT INTO private_spans (id, start_ms, until_ms, utc_offset) VALUES (?1, ?2, ?3, ?4)",
                        params![new_id(), now_ms, until_ms, local_offset_at(now_ms)],
                    )
                    .map_err(e)?;
                Private {
                    start_ms: now_ms,
                    until_ms,
                }
            }
        };
        self.control.send_modify(|c| c.private = Some(p));
        Ok(p)
    }

    /// Ends the private time under way at `at_ms` (never past its planned
    /// end, never before its start; a span of no length is forgotten).
    pub fn end_private(&mut self, at_ms: i64) -> Result<(), QueueError> {
        let Some(p) = self.private_now()? else {
            return Ok(());
        };
        let end = p.until_ms.map_or(at_ms, |u| u.min(at_ms)).max(p.start_ms);
        let e = |e| self.sql_err(e);
        if end == p.start_ms {
            self.conn
                .execute("DELETE FROM private_spans WHERE end_ms IS NULL", [])
                .map_err(e)?;
        } else {
            self.conn
                .execute(
                    "UPDATE private_spans SET end_ms = ?1 WHERE end_ms IS NULL",
                    [end],
                )
                .map_err(e)?;
        }
        self.control
            .send_if_modified(|c| c.private.take().is_some());
        Ok(())
    }

    /// Milliseconds of private time since `day_start_ms`, the one under way
    /// counted to `now_ms`: what the day's allowance is spent by.
    pub fn private_today_ms(&self, day_start_ms: i64, now_ms: i64) -> Result<i64, QueueError> {
        self.conn
            .query_row(
                "SELECT COALESCE(sum(MIN(COALESCE(end_ms, ?2), COALESCE(until_ms, ?2), ?2) - MAX(start_ms, ?1)), 0)
                 FROM private_spans WHERE COALESCE(end_ms, ?2) > ?1",
                params![day_start_ms, now_ms],
                |r| r.get::<_, i64>(0),
            )
            .map(|ms| ms.max(0))
            .map_err(|e| self.sql_err(e))
    }

    /// Every span since `since_ms` still here (`stint log`), oldest first.
    pub fn private_spans(&self, since_ms: i64) -> Result<Vec<PrivateSpanRecord>, QueueError> {
        self.private_where("end_ms IS NOT NULL AND end_ms >= ?1", since_ms)
    }

    /// Closed spans that ended before `before_ms`, for the next upload.
    pub(super) fn private_batch(
        &self,
        before_ms: i64,
    ) -> Result<Vec<PrivateSpanRecord>, QueueError> {
        self.private_where("end_ms IS NOT NULL AND end_ms < ?1", before_ms)
    }

    fn private_where(&self, cond: &str, at: i64) -> Result<Vec<PrivateSpanRecord>, QueueError> {
        let e = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, start_ms, end_ms, utc_offset FROM private_spans WHERE {cond} ORDER BY start_ms LIMIT 500"
            ))
            .map_err(e)?;
        let rows = stmt
            .query_map([at], |r| {
                Ok(PrivateSpanRecord {
                    id: r.get(0)?,
                    start: rfc3339(r.get(1)?),
                    end: rfc3339(r.get(2)?),
                    utc_offset: r.get(3)?,
                })
            })
            .map_err(e)?;
        rows.collect::<Result<_, _>>().map_err(e)
    }
}

/// Removes acknowledged spans inside the batch's transaction.
pub(super) fn ack(
    tx: &rusqlite::Transaction<'_>,
    spans: &[PrivateSpanRecord],
) -> Result<(), rusqlite::Error> {
    for s in spans {
        tx.execute(
            "DELETE FROM private_spans WHERE id = ?1 AND end_ms IS NOT NULL",
            [&s.id],
        )?;
    }
    Ok(())
}

/// A closed span `id` as a dead letter's JSON, if there is one.
pub(super) fn dead_letter_row(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
) -> Result<Option<(&'static str, String)>, rusqlite::Error> {
    tx.query_row(
        "SELECT start_ms, end_ms FROM private_spans WHERE id = ?1 AND end_ms IS NOT NULL",
        [id],
        |r| {
            let v = serde_json::json!({
                "id": id,
                "start": rfc3339(r.get(0)?),
                "end": rfc3339(r.get(1)?),
            });
            Ok(("private_span", v.to_string()))
        },
    )
    .optional()
}
