//! Records arriving from agents: minute batches with their sessions, and
//! images, each upserted on its client id.

use super::sql::{params, OptionalExtension};
use stint_proto::{CaptureMeta, MinuteBatch};

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use stint_proto::MinuteRecord;

use super::sql::ToValue;
use super::{now_ms, Store, StoreError};

/// The columns a minute's row is inserted with; the statement, its width
/// and each row's values all derive from this list.
const MINUTE_COLUMNS: [&str; 23] = [
    "id",
    "device_id",
    "start",
    "utc_offset",
    "seconds",
    "keystrokes",
    "clicks",
    "scrolls",
    "idle",
    "title",
    "exe_path",
    "app",
    "session_id",
    "received_ms",
    "public_ip",
    "synthetic_keystrokes",
    "synthetic_clicks",
    "counts_unknown",
    "project_id",
    "task_id",
    "from_secs",
    "privacy_rule",
    "screenshot_skipped",
];

/// Rows per INSERT: 1,800 parameters stay far below both engines' limits
/// (SQLite 32,766, PostgreSQL 65,535).
const MINUTES_PER_INSERT: usize = 100;

/// One minute's values, in [`MINUTE_COLUMNS`] order: the array's length is
/// the list's, so the two cannot drift apart.
fn minute_values<'a>(
    m: &'a MinuteRecord,
    device: &'a &str,
    now: &'a i64,
    ip: &'a &str,
) -> [&'a dyn ToValue; MINUTE_COLUMNS.len()] {
    [
        &m.id,
        device,
        &m.start,
        &m.utc_offset,
        &m.seconds,
        &m.keystrokes,
        &m.clicks,
        &m.scrolls,
        &m.idle,
        &m.title,
        &m.exe_path,
        &m.app,
        &m.session_id,
        now,
        ip,
        &m.synthetic_keystrokes,
        &m.synthetic_clicks,
        &m.counts_unknown,
        &m.project_id,
        &m.task_id,
        &m.from_secs,
        &m.privacy_rule,
        &m.screenshot_skipped,
    ]
}

/// After an `INSERT … ON CONFLICT (id) DO NOTHING` into `table` that
/// changed `n` rows: true for a new record, false for a repeat by the same
/// device, a conflict when the id is another device's.
fn first_or_repeat(
    conn: &mut super::sql::Conn,
    n: usize,
    table: &'static str,
    id: &str,
    device: &str,
) -> Result<bool, StoreError> {
    if n == 1 {
        return Ok(true);
    }
    let owner: String = conn.query_row(
        &format!("SELECT device_id FROM {table} WHERE id = ?1"),
        params![id],
        |r| r.get(0),
    )?;
    if owner != device {
        return Err(StoreError::Conflict(id.to_string()));
    }
    Ok(false)
}

/// `?from, ?from+1, ...`: `n` parameter marks.
pub(super) fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Upserts a batch in one transaction; returns (stored, duplicates).
    pub fn upsert_batch(
        &self,
        device: &str,
        batch: &MinuteBatch,
        ip: &str,
    ) -> Result<(u64, u64), StoreError> {
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        let now = now_ms();
        let (mut stored, mut dup) = (0u64, 0u64);
        // Insert first and look only when the id was there already: another
        // replica may insert the same id at the same moment, and the primary
        // key, not a read before the write, decides who was first.
        for s in &batch.sessions {
            let body = serde_json::to_string(s).expect("a record serialises");
            let n = tx.execute(
                "INSERT INTO sessions (id, device_id, body, received_ms, public_ip) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO NOTHING",
                params![s.id, device, body, now, ip],
            )?;
            if first_or_repeat(&mut tx, n, "sessions", &s.id, device)? {
                stored += 1;
            } else {
                dup += 1;
            }
        }
        // Deleted for good: answered as done, so the agent drops them.
        let mut tombstoned = HashSet::new();
        for chunk in batch.minutes.chunks(500) {
            let ids: Vec<&dyn ToValue> = chunk.iter().map(|m| &m.id as &dyn ToValue).collect();
            let sql = format!(
                "SELECT id FROM tombstones WHERE id IN ({})",
                marks(1, ids.len())
            );
            tombstoned.extend(tx.query_map(&sql, &ids, |r| r.get::<String>(0))?);
        }
        let fresh: Vec<&MinuteRecord> = batch
            .minutes
            .iter()
            .filter(|m| !tombstoned.contains(&m.id))
            .collect();
        dup += (batch.minutes.len() - fresh.len()) as u64;
        // Many rows to a statement: the round trips, not the rows, are what
        // a remote database charges for.
        let mut inserted = HashSet::new();
        let width = MINUTE_COLUMNS.len();
        for chunk in fresh.chunks(MINUTES_PER_INSERT) {
            let mut args: Vec<&dyn ToValue> = Vec::with_capacity(chunk.len() * width);
            let mut rows = Vec::with_capacity(chunk.len());
            for (i, m) in chunk.iter().enumerate() {
                rows.push(format!("({})", marks(i * width + 1, width)));
                args.extend(minute_values(m, &device, &now, &ip));
            }
            let sql = format!(
                "INSERT INTO minutes ({}) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
                MINUTE_COLUMNS.join(", "),
                rows.join(", ")
            );
            inserted.extend(tx.query_map(&sql, &args, |r| r.get::<String>(0))?);
        }
        stored += inserted.len() as u64;
        for m in fresh.iter().filter(|m| !inserted.contains(&m.id)) {
            // A repeat may carry more counts: the agent merges a revisited
            // minute into its unsent row, so the newest copy wins, and only
            // on the device's own row.
            let n = tx.execute(
                "UPDATE minutes SET seconds = ?3, keystrokes = ?4, clicks = ?5, scrolls = ?6, idle = ?7, title = ?8, exe_path = ?9, app = ?10,
                 synthetic_keystrokes = ?11, synthetic_clicks = ?12, counts_unknown = ?13, project_id = ?14, task_id = ?15, from_secs = ?16,
                 privacy_rule = ?17, screenshot_skipped = ?18
                 WHERE id = ?1 AND device_id = ?2",
                params![
                    m.id,
                    device,
                    m.seconds,
                    m.keystrokes,
                    m.clicks,
                    m.scrolls,
                    m.idle,
                    m.title,
                    m.exe_path,
                    m.app,
                    m.synthetic_keystrokes,
                    m.synthetic_clicks,
                    m.counts_unknown,
                    m.project_id,
                    m.task_id,
                    m.from_secs,
                    m.privacy_rule,
                    m.screenshot_skipped
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict(m.id.clone()));
            }
            dup += 1;
        }
        for s in &batch.idle_spans {
            // A decision is final on the agent: a repeat is the same span.
            let n = tx.execute(
                "INSERT INTO idle_spans (id, device_id, start, end_at, utc_offset, decision, auto, project_id, task_id, decided_at, received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO NOTHING",
                params![
                    s.id,
                    device,
                    s.start,
                    s.end,
                    s.utc_offset,
                    s.decision.as_str(),
                    s.auto,
                    s.work.project_id,
                    s.work.task_id,
                    s.decided_at,
                    now
                ],
            )?;
            if first_or_repeat(&mut tx, n, "idle_spans", &s.id, device)? {
                stored += 1;
            } else {
                dup += 1;
            }
        }
        for s in &batch.private_spans {
            // Private time is final on the agent: a repeat is the same span.
            let n = tx.execute(
                "INSERT INTO private_spans (id, device_id, start, end_at, utc_offset, received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                params![s.id, device, s.start, s.end, s.utc_offset, now],
            )?;
            if first_or_repeat(&mut tx, n, "private_spans", &s.id, device)? {
                stored += 1;
            } else {
                dup += 1;
            }
        }
        // What the reports sum changes in the hours of these minutes, and
        // in those under these spans.
        let mut hours: std::collections::BTreeSet<String> = fresh
            .iter()
            .filter_map(|m| m.start.get(..13).map(str::to_string))
            .collect();
        for s in &batch.idle_spans {
            let (Some(a), Some(b)) = (super::diary::ms(&s.start), super::diary::ms(&s.end)) else {
                continue;
            };
            hours.extend(super::stale::hours_touching(a, b));
        }
        super::stale::mark_device(&mut tx, device, hours)?;
        tx.commit()?;
        Ok((stored, dup))
    }

    /// Stores one image durably (the object written, and its thumbnail,
    /// before its row: a row never names an object that is not there), or
    /// reports a duplicate if this device already sent it. Two devices racing
    /// with one id: the row decides who owns it, and the loser's objects
    /// (under its own device's key) are removed again.
    pub fn upsert_capture(
        &self,
        device: &str,
        id: &str,
        meta: &CaptureMeta,
        data: &[u8],
        ip: &str,
    ) -> Result<bool, StoreError> {
        // Deleted for good: answered as done, so the agent drops it.
        if self.tombstoned(id)? {
            return Ok(false);
        }
        match self.capture_device(id)? {
            Some(d) if d == device => return Ok(false),
            Some(_) => return Err(StoreError::Conflict(id.into())),
            None => {}
        }
        // A key of its own per attempt: a retry never writes over an object
        // the sweep may be removing, and an attempt that loses the row only
        // ever removes its own objects.
        let attempt = uuid::Uuid::now_v7().simple().to_string();
        // Sealed: the agent made the thumbnail and sealed both; nothing
        // here can open either, so nothing is decoded.
        let (data, thumb, ext) = if meta.sealed {
            let (thumb, image) = stint_common::seal::unbundle(data).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "capture {id:?}: a sealed capture's body is a bundle of its sealed thumbnail and image"
                ))
            })?;
            (image, Some(thumb.to_vec()), "sealed")
        } else {
            (
                data,
                super::thumbs::make(data, &meta.format),
                stint_proto::extension(&meta.format),
            )
        };
        let key = format!("{device}/{id}.{}.{ext}", &attempt[20..]);
        // Noted before the write: a crash from here to the row's commit
        // leaves the note, and the sweep removes what was written.
        self.in_doubt(&key, id, now_ms())?;
        self.pending_writes.fetch_add(1, Ordering::Relaxed);
        let written = self.objects.put(&key, data).and_then(|()| match &thumb {
            Some(t) => self.objects.put(&super::thumbs::thumb_key(&key), t),
            None => Ok(()),
        });
        self.pending_writes.fetch_sub(1, Ordering::Relaxed);
        written?;
        // The row and the end of the note in one commit. Not over a
        // tombstone: a deletion that committed since the check above would
        // otherwise see its capture come back.
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO captures (id, device_id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, file, received_ms, public_ip, sealed)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15
             WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE id = ?1)
             ON CONFLICT (id) DO NOTHING",
            params![
                id,
                device,
                meta.kind.as_str(),
                meta.taken_at,
                meta.utc_offset,
                meta.monitor,
                meta.width,
                meta.height,
                data.len() as i64,
                meta.format,
                meta.session_id,
                key,
                now_ms(),
                ip,
                meta.sealed
            ],
        )?;
        if inserted == 1 {
            tx.execute(super::leases::CLEAR_NOTE, params![key])?;
        }
        tx.commit()?;
        drop(conn);
        if inserted == 1 {
            return Ok(true);
        }
        // Another attempt's row won between the check and the insert (it
        // names that attempt's objects), or a deletion did: this one's go.
        // Not settled unless both are gone: the note lets the sweep try again.
        if self.remove_image(&key).is_ok() {
            self.settled(&key);
        }
        if self.tombstoned(id)? {
            return Ok(false);
        }
        match self.capture_device(id)? {
            Some(d) if d == device => Ok(false),
            _ => Err(StoreError::Conflict(id.into())),
        }
    }

    fn capture_device(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT device_id FROM captures WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn device(store: &Store, host: &str) -> String {
        store.enroll_device(None, host).unwrap()
    }

    fn batch(ids: &[&str], keys: u32) -> MinuteBatch {
        let minutes = ids
            .iter()
            .map(|id| {
                serde_json::from_value(serde_json::json!({
                    "id": id, "start": "2026-11-29T10:00:00Z", "utc_offset": 0, "seconds": 60,
                    "keystrokes": keys, "clicks": 1, "scrolls": 0, "idle": false,
                    "session_id": "s"
                }))
                .unwrap()
            })
            .collect();
        MinuteBatch {
            sessions: Vec::new(),
            minutes,
            idle_spans: Vec::new(),
            private_spans: Vec::new(),
        }
    }

    /// Each way a minute can arrive, in batches big enough to span several
    /// multi-row inserts.
    #[test]
    fn minutes_are_stored_once_updated_by_their_device_and_refused_to_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let max = store
            .add_person("max@x", "Max", "UTC", crate::access::Role::Member)
            .unwrap();
        let a = store.enroll_device(Some(&max.id), "a").unwrap();
        let b = device(&store, "b");
        let many: Vec<String> = (0..250).map(|i| format!("m-{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let keys = |id: &str| -> i64 {
            store
                .conn()
                .query_row(
                    "SELECT keystrokes FROM minutes WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(
            store.upsert_batch(&a, &batch(&many, 5), "ip").unwrap(),
            (250, 0)
        );
        // The agent's newer copy of the same minutes wins.
        assert_eq!(
            store.upsert_batch(&a, &batch(&many, 9), "ip").unwrap(),
            (0, 250)
        );
        assert_eq!(keys("m-249"), 9);
        // Half new, half repeated.
        let mixed = ["m-000", "n-000"];
        assert_eq!(
            store.upsert_batch(&a, &batch(&mixed, 9), "ip").unwrap(),
            (1, 1)
        );
        // Another device's id: refused, and nothing of its batch stays.
        let e = store
            .upsert_batch(&b, &batch(&["x-1", "m-001"], 1), "ip")
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(id) if id == "m-001"));
        assert_eq!(
            store
                .conn()
                .query_row(
                    "SELECT count(*) FROM minutes WHERE id = 'x-1'",
                    params![],
                    |r| r.get::<i64>(0)
                )
                .unwrap(),
            0
        );
        assert_eq!(keys("m-001"), 9);
        // Deleted for good: answered as a repeat, not stored again.
        let grant = store.host_grant(
            crate::store::Whose::Person(&max.id),
            crate::access::Action::DeleteAll,
        );
        store.delete_all(&grant, "r").unwrap();
        assert_eq!(
            store.upsert_batch(&a, &batch(&many[..3], 1), "ip").unwrap(),
            (0, 3)
        );
    }

    /// Two devices upload one capture id at the same moment, many times over:
    /// exactly one owns it, the other hears 409, and no image file is left
    /// that no row refers to.
    #[test]
    fn one_capture_id_from_two_devices_at_once_has_one_owner_and_no_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::store::test_store(dir.path()));
        let devices = [device(&store, "a"), device(&store, "b")];
        let meta: CaptureMeta = serde_json::from_value(serde_json::json!({
            "kind": "screenshot", "taken_at": "2026-11-29T10:00:00Z", "utc_offset": 0,
            "monitor": "M", "width": 1, "height": 1, "format": "jpeg", "session_id": "s"
        }))
        .unwrap();
        for round in 0..40 {
            let id = format!("0190c0de-0000-7000-8000-{round:012}");
            let barrier = Arc::new(Barrier::new(2));
            let results: Vec<Result<bool, StoreError>> = std::thread::scope(|s| {
                let handles: Vec<_> = devices
                    .iter()
                    .map(|d| {
                        let (store, barrier, meta, id) = (&store, barrier.clone(), &meta, &id);
                        s.spawn(move || {
                            barrier.wait();
                            store.upsert_capture(d, id, meta, b"image", "127.0.0.0")
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let won = results.iter().filter(|r| matches!(r, Ok(true))).count();
            let lost = results
                .iter()
                .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
                .count();
            assert_eq!((won, lost), (1, 1), "round {round}: {results:?}");
        }
        let files: usize = devices
            .iter()
            .filter_map(|d| std::fs::read_dir(dir.path().join("captures").join(d)).ok())
            .map(|entries| entries.count())
            .sum();
        let rows: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM captures", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(
            (files as i64, rows),
            (40, 40),
            "one file per row, no orphans"
        );
    }
}
