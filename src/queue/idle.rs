//! Idle spans in the queue: recorded when input returns, pending until the
//! person (or, a day later, the policy's default) decides, then uploaded
//! with the minutes and removed once the server acknowledged them.

use rusqlite::{params, OptionalExtension};
use stint_proto::{Decision, IdleSpanRecord, Work};

use super::{none_if_empty, QueueError, Store};
use crate::model::{parse_ms, rfc3339, IdleSpan};

/// How long a span waits for an answer before the default decides.
pub const ANSWER_WITHIN_MS: i64 = 24 * 3_600_000;

const COLUMNS: &str =
    "SELECT id, start_ms, end_ms, utc_offset, decision, auto, project_id, task_id, decided_ms FROM idle_spans";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IdleSpan> {
    let decision: Option<String> = r.get(4)?;
    Ok(IdleSpan {
        id: r.get(0)?,
        start: rfc3339(r.get(1)?),
        end: rfc3339(r.get(2)?),
        utc_offset: r.get(3)?,
        decision: decision.as_deref().and_then(Decision::parse),
        auto: r.get(5)?,
        work: Work {
            project_id: none_if_empty(r.get(6)?),
            task_id: none_if_empty(r.get(7)?),
        },
        decided_at: r.get::<_, Option<i64>>(8)?.map(rfc3339),
    })
}

impl Store {
    /// Stores a span, pending or already decided (a policy that always
    /// keeps or discards).
    pub fn add_idle_span(&mut self, span: &IdleSpan) -> Result<(), QueueError> {
        self.conn
            .execute(
                "INSERT INTO idle_spans (id, start_ms, end_ms, utc_offset, decision, auto, project_id, task_id, decided_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    span.id,
                    parse_ms(&span.start),
                    parse_ms(&span.end),
                    span.utc_offset,
                    span.decision.map(Decision::as_str),
                    span.auto,
                    span.work.project_id.as_deref().unwrap_or(""),
                    span.work.task_id.as_deref().unwrap_or(""),
                    span.decided_at.as_deref().map(parse_ms),
                ],
            )
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// Spans nobody decided on yet, oldest first.
    pub fn pending_idle(&self) -> Result<Vec<IdleSpan>, QueueError> {
        let e = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "{COLUMNS} WHERE decision IS NULL ORDER BY start_ms"
            ))
            .map_err(e)?;
        let rows = stmt.query_map([], row).map_err(e)?;
        rows.collect::<Result<_, _>>().map_err(e)
    }

    /// Every span that started at or after `since_ms` and is still here.
    pub fn idle_spans(&self, since_ms: i64) -> Result<Vec<IdleSpan>, QueueError> {
        let e = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{COLUMNS} WHERE end_ms >= ?1 ORDER BY start_ms"))
            .map_err(e)?;
        let rows = stmt.query_map([since_ms], row).map_err(e)?;
        rows.collect::<Result<_, _>>().map_err(e)
    }

    /// Decides a pending span; `None` when there is no pending span `id`
    /// (unknown, or decided already: a decision is final).
    pub fn decide_idle(
        &mut self,
        id: &str,
        decision: Decision,
        work: &Work,
        auto: bool,
        now_ms: i64,
    ) -> Result<Option<IdleSpan>, QueueError> {
        let n = self
            .conn
            .execute(
                "UPDATE idle_spans SET decision = ?2, auto = ?3, project_id = ?4, task_id = ?5, decided_ms = ?6
                 WHERE id = ?1 AND decision IS NULL",
                params![
                    id,
                    decision.as_str(),
                    auto,
                    work.project_id.as_deref().unwrap_or(""),
                    work.task_id.as_deref().unwrap_or(""),
                    now_ms
                ],
            )
            .map_err(|e| self.sql_err(e))?;
        if n == 0 {
            return Ok(None);
        }
        self.conn
            .query_row(&format!("{COLUMNS} WHERE id = ?1"), [id], row)
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// Applies `default` to every span unanswered for [`ANSWER_WITHIN_MS`]
    /// after it ended, recorded as decided by the policy; returns them.
    pub fn decide_overdue(
        &mut self,
        default: Decision,
        now_ms: i64,
    ) -> Result<Vec<IdleSpan>, QueueError> {
        let due: Vec<IdleSpan> = self
            .pending_idle()?
            .into_iter()
            .filter(|s| parse_ms(&s.end) + ANSWER_WITHIN_MS <= now_ms)
            .collect();
        let mut decided = Vec::new();
        for s in due {
            // The span keeps the choice its minutes carry.
            if let Some(d) = self.decide_idle(&s.id, default, &s.work, true, now_ms)? {
                decided.push(d);
            }
        }
        Ok(decided)
    }

    /// Decided spans that ended before `before_ms`, for the next upload.
    pub(super) fn idle_batch(&self, before_ms: i64) -> Result<Vec<IdleSpanRecord>, QueueError> {
        let e = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "{COLUMNS} WHERE decision IS NOT NULL AND end_ms < ?1 ORDER BY start_ms LIMIT 500"
            ))
            .map_err(e)?;
        let rows = stmt.query_map([before_ms], row).map_err(e)?;
        let spans: Vec<IdleSpan> = rows.collect::<Result<_, _>>().map_err(e)?;
        Ok(spans.iter().filter_map(IdleSpan::record).collect())
    }

    /// Whether the day holds spans still to be decided (for the status).
    pub fn pending_idle_count(&self) -> Result<u64, QueueError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM idle_spans WHERE decision IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.sql_err(e))
    }
}

/// Removes acknowledged spans inside the batch's transaction.
pub(super) fn ack(
    tx: &rusqlite::Transaction<'_>,
    spans: &[IdleSpanRecord],
) -> Result<(), rusqlite::Error> {
    for s in spans {
        tx.execute(
            "DELETE FROM idle_spans WHERE id = ?1 AND decision IS NOT NULL",
            [&s.id],
        )?;
    }
    Ok(())
}
