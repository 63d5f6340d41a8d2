//! Records arriving from agents: minute batches with their sessions, and
//! images, each upserted on its client id.

use rusqlite::{params, OptionalExtension};
use stint_proto::{CaptureMeta, MinuteBatch};

use super::{io, now_ms, Store, StoreError};

impl Store {
    /// Upserts a batch in one transaction; returns (stored, duplicates).
    pub fn upsert_batch(
        &self,
        device: &str,
        batch: &MinuteBatch,
        ip: &str,
    ) -> Result<(u64, u64), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        let (mut stored, mut dup) = (0u64, 0u64);
        {
            let mut owner = tx.prepare_cached("SELECT device_id FROM minutes WHERE id = ?1")?;
            let mut session_owner =
                tx.prepare_cached("SELECT device_id FROM sessions WHERE id = ?1")?;
            let mut ins_session = tx.prepare_cached(
                "INSERT INTO sessions (id, device_id, body, received_ms, public_ip) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            // A repeat may carry more counts: the agent merges a revisited minute
            // into its unsent row, so the newest copy wins.
            let mut upd_minute = tx.prepare_cached(
                "UPDATE minutes SET seconds = ?2, keystrokes = ?3, clicks = ?4, scrolls = ?5, idle = ?6, title = ?7, exe_path = ?8, app = ?9,
                 synthetic_keystrokes = ?10, synthetic_clicks = ?11, counts_unknown = ?12 WHERE id = ?1",
            )?;
            let mut ins_minute = tx.prepare_cached(
                "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, received_ms, public_ip,
                                      synthetic_keystrokes, synthetic_clicks, counts_unknown)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )?;
            for s in &batch.sessions {
                match session_owner
                    .query_row([&s.id], |r| r.get::<_, String>(0))
                    .optional()?
                {
                    Some(d) if d == device => dup += 1,
                    Some(_) => return Err(StoreError::Conflict(s.id.clone())),
                    None => {
                        let body = serde_json::to_string(s).expect("a record serialises");
                        ins_session.execute(params![s.id, device, body, now, ip])?;
                        stored += 1;
                    }
                }
            }
            let mut deleted =
                tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM tombstones WHERE id = ?1)")?;
            for m in &batch.minutes {
                // Deleted for good: answered as done, so the agent drops it.
                if deleted.query_row([&m.id], |r| r.get::<_, bool>(0))? {
                    dup += 1;
                    continue;
                }
                match owner
                    .query_row([&m.id], |r| r.get::<_, String>(0))
                    .optional()?
                {
                    Some(d) if d == device => {
                        upd_minute.execute(params![
                            m.id,
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
                        ])?;
                        dup += 1;
                    }
                    Some(_) => return Err(StoreError::Conflict(m.id.clone())),
                    None => {
                        ins_minute.execute(params![
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
                        ])?;
                        stored += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok((stored, dup))
    }

    /// Stores one image durably (file fsynced, renamed and its directory
    /// fsynced before its row), or reports a duplicate if this device already
    /// sent it. Two devices racing with one id: the row decides who owns it,
    /// and the loser's file (in its own directory) is removed again.
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
        let dir = self.images.join(device);
        if !dir.exists() {
            crate::private::dir(&dir).map_err(io(&dir))?;
            // The new directory's own entry must reach the disk too.
            stint_common::durable::sync_dir(&self.images).map_err(io(&self.images))?;
        }
        let file = format!("{id}.{}", stint_proto::extension(&meta.format));
        let path = dir.join(&file);
        stint_common::durable::write(&path, data, 0o600)
            .map_err(io(&stint_common::durable::part_path(&path)))?;
        // Before the row: a committed capture always has its thumbnail, when
        // one can be made at all.
        if let Some(thumb) = super::thumbs::make(data, &meta.format) {
            let at = super::thumbs::thumb_path(&path);
            stint_common::durable::write(&at, &thumb, 0o600)
                .map_err(io(&stint_common::durable::part_path(&at)))?;
        }
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
                format!("{device}/{file}"),
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
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(super::thumbs::thumb_path(&path));
                Err(StoreError::Conflict(id.into()))
            }
        }
    }

    fn capture_owner(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT device_id FROM captures WHERE id = ?1", [id], |r| {
                r.get(0)
            })
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
        let store = Arc::new(Store::open(dir.path()).unwrap());
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
            .query_row("SELECT count(*) FROM captures", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            (files as i64, rows),
            (40, 40),
            "one file per row, no orphans"
        );
    }
}
