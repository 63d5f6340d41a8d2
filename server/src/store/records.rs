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
            for m in &batch.minutes {
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

    /// Stores one image durably (file fsynced and renamed before its row), or
    /// reports a duplicate if this device already sent it.
    pub fn upsert_capture(
        &self,
        device: &str,
        id: &str,
        meta: &CaptureMeta,
        data: &[u8],
        ip: &str,
    ) -> Result<bool, StoreError> {
        use std::io::Write;
        let existing: Option<String> = self
            .conn()
            .query_row("SELECT device_id FROM captures WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        match existing {
            Some(d) if d == device => return Ok(false),
            Some(_) => return Err(StoreError::Conflict(id.into())),
            None => {}
        }
        let dir = self.images.join(device);
        crate::private::dir(&dir).map_err(io(&dir))?;
        let file = format!("{id}.{}", stint_proto::extension(&meta.format));
        let path = dir.join(&file);
        let part = dir.join(format!("{file}.part"));
        let write = || -> std::io::Result<()> {
            let mut f = crate::private::create(&part)?;
            f.write_all(data)?;
            f.sync_all()?;
            std::fs::rename(&part, &path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&part);
            return Err(StoreError::Io {
                path: part,
                source: e,
            });
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
        Ok(inserted == 1)
    }
}
