//! Records arriving from agents: minute batches with their sessions, and
//! images, each upserted on its client id.

use super::sql::{params, OptionalExtension};
use stint_proto::{CaptureMeta, MinuteBatch};

use std::sync::atomic::Ordering;

use super::{now_ms, Store, StoreError};

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
            if n == 1 {
                stored += 1;
                continue;
            }
            let owner: String = tx.query_row(
                "SELECT device_id FROM sessions WHERE id = ?1",
                params![s.id],
                |r| r.get(0),
            )?;
            if owner != device {
                return Err(StoreError::Conflict(s.id.clone()));
            }
            dup += 1;
        }
        for m in &batch.minutes {
            // Deleted for good: answered as done, so the agent drops it.
            if tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM tombstones WHERE id = ?1)",
                params![m.id],
                |r| r.get::<bool>(0),
            )? {
                dup += 1;
                continue;
            }
            let n = tx.execute(
                "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, received_ms, public_ip,
                                      synthetic_keystrokes, synthetic_clicks, counts_unknown)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    m.id,
                    device,
                    m.start,
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
                    now,
                    ip,
                    m.synthetic_keystrokes,
                    m.synthetic_clicks,
                    m.counts_unknown
                ],
            )?;
            if n == 1 {
                stored += 1;
                continue;
            }
            // A repeat may carry more counts: the agent merges a revisited
            // minute into its unsent row, so the newest copy wins, and only
            // on the device's own row.
            let n = tx.execute(
                "UPDATE minutes SET seconds = ?3, keystrokes = ?4, clicks = ?5, scrolls = ?6, idle = ?7, title = ?8, exe_path = ?9, app = ?10,
                 synthetic_keystrokes = ?11, synthetic_clicks = ?12, counts_unknown = ?13 WHERE id = ?1 AND device_id = ?2",
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
                    m.counts_unknown
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict(m.id.clone()));
            }
            dup += 1;
        }
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
        match self.capture_owner(id)? {
            Some(d) if d == device => return Ok(false),
            Some(_) => return Err(StoreError::Conflict(id.into())),
            None => {}
        }
        let key = format!("{device}/{id}.{}", stint_proto::extension(&meta.format));
        let thumb = super::thumbs::make(data, &meta.format);
        self.pending_writes.fetch_add(1, Ordering::Relaxed);
        let written = self.objects.put(&key, data).and_then(|()| match &thumb {
            Some(t) => self.objects.put(&super::thumbs::thumb_key(&key), t),
            None => Ok(()),
        });
        self.pending_writes.fetch_sub(1, Ordering::Relaxed);
        written?;
        let inserted = self.conn().execute(
            "INSERT INTO captures (id, device_id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, file, received_ms, public_ip)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
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
                ip
            ],
        )?;
        if inserted == 1 {
            return Ok(true);
        }
        // Someone else's row won between the check and the insert.
        match self.capture_owner(id)? {
            Some(d) if d == device => Ok(false),
            _ => {
                let _ = self.objects.delete(&key);
                let _ = self.objects.delete(&super::thumbs::thumb_key(&key));
                Err(StoreError::Conflict(id.into()))
            }
        }
    }

    fn capture_owner(&self, id: &str) -> Result<Option<String>, StoreError> {
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
