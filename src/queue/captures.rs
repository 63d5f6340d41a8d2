//! Captures in the queue: the durable write of an image and its row, reading
//! them for upload and review, their acknowledgement and the employee's
//! deletion of a segment.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};

use super::{QueueError, Store};
use crate::model::{rfc3339, CaptureKind, CaptureRecord};

impl Store {
    /// Durably stores an image and its row; returns only after both are on disk.
    pub fn store_capture(
        &mut self,
        c: &CaptureRecord,
        taken_ms: i64,
        data: &[u8],
    ) -> Result<(), QueueError> {
        let file = capture_file(c);
        let final_path = self.captures.join(&file);
        write_image(&final_path, data)?;
        let inserted = self.conn.execute(
            "INSERT INTO captures (id, kind, taken_ms, utc_offset, monitor, width, height, bytes, format, file, session_id, sealed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                c.id,
                c.kind.as_str(),
                taken_ms,
                c.utc_offset,
                c.monitor,
                c.width,
                c.height,
                data.len() as i64,
                c.format,
                file,
                c.session_id,
                c.sealed
            ],
        );
        if let Err(e) = inserted {
            let _ = std::fs::remove_file(&final_path);
            return Err(self.sql_err(e));
        }
        Ok(())
    }

    /// A capture's record and the path of its image file.
    pub fn capture(&self, id: &str) -> Result<Option<(CaptureRecord, PathBuf)>, QueueError> {
        self.conn
            .query_row(
                &format!("{CAPTURE_COLUMNS} WHERE id = ?1"),
                [id],
                capture_row,
            )
            .optional()
            .map(|o| o.map(|(c, file)| (c, self.captures.join(file))))
            .map_err(|e| self.sql_err(e))
    }

    /// When capture `id` was taken, if it still waits in the queue.
    pub fn capture_taken_ms(&self, id: &str) -> Result<Option<i64>, QueueError> {
        self.conn
            .query_row("SELECT taken_ms FROM captures WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// The newest capture taken before `before_ms`, as (id, taken at).
    pub fn newest_capture_before(
        &self,
        before_ms: i64,
    ) -> Result<Option<(String, i64)>, QueueError> {
        self.conn
            .query_row(
                "SELECT id, taken_ms FROM captures WHERE taken_ms < ?1 ORDER BY taken_ms DESC LIMIT 1",
                [before_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// The `limit` oldest captures taken before `before_ms` (the review
    /// window's cutoff) waiting for upload, with their files. With the
    /// policy's sealing on, a capture still stored plain (taken before the
    /// policy said so) is sealed in place first, and one that cannot be
    /// (nobody who may see it has a key yet) waits: no plain image leaves.
    pub fn next_captures(
        &mut self,
        limit: usize,
        before_ms: i64,
    ) -> Result<Vec<(CaptureRecord, PathBuf)>, QueueError> {
        let sealing = self.policy()?.e2e_screenshots == Some(true);
        if sealing {
            self.seal_plain(limit, before_ms)?;
        }
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "{CAPTURE_COLUMNS} WHERE taken_ms < ?2 AND (sealed = 1 OR ?3 = 0) ORDER BY taken_ms, id LIMIT ?1"
            ))
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map(
                rusqlite::params![limit as i64, before_ms, sealing],
                capture_row,
            )
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.sql_err(e))?;
        Ok(rows
            .into_iter()
            .map(|(c, file)| (c, self.captures.join(file)))
            .collect())
    }

    /// Seals up to `limit` plain captures taken before `before_ms` to the
    /// keys the last heartbeat named: the sealed file is written whole
    /// before the row names it, and the plain one removed after.
    fn seal_plain(&mut self, limit: usize, before_ms: i64) -> Result<(), QueueError> {
        let Some(keys) = self.sealed_to()?.filter(|k| !k.is_empty()) else {
            return Ok(());
        };
        let plain: Vec<(CaptureRecord, String)> = self
            .conn
            .prepare_cached(&format!(
                "{CAPTURE_COLUMNS} WHERE taken_ms < ?2 AND sealed = 0 ORDER BY taken_ms LIMIT ?1"
            ))
            .and_then(|mut st| {
                st.query_map(rusqlite::params![limit as i64, before_ms], capture_row)?
                    .collect()
            })
            .map_err(|e| self.sql_err(e))?;
        for (c, file) in plain {
            let path = self.captures.join(&file);
            let Ok(image) = std::fs::read(&path) else {
                continue;
            };
            let sealed =
                stint_common::seal::seal_capture(&image, &c.format, &keys).map_err(|e| {
                    QueueError::Io {
                        path: path.clone(),
                        source: std::io::Error::other(e.to_string()),
                    }
                })?;
            let new_file = capture_file(&CaptureRecord {
                sealed: true,
                ..c.clone()
            });
            write_image(&self.captures.join(&new_file), &sealed)?;
            self.conn
                .execute(
                    "UPDATE captures SET file = ?2, bytes = ?3, sealed = 1 WHERE id = ?1",
                    rusqlite::params![c.id, new_file, sealed.len() as i64],
                )
                .map_err(|e| self.sql_err(e))?;
            let _ = std::fs::remove_file(&path);
            tracing::info!(id = %c.id, "a capture taken before sealing was on is sealed before upload");
        }
        Ok(())
    }

    /// Forgets acknowledged captures in one commit: the rows first, so a crash
    /// before the files go leaves only orphans, which the next owner open sweeps.
    pub fn ack_captures(&mut self, ids: &[String]) -> Result<(), QueueError> {
        let tx = self.conn.transaction().map_err(QueueError::Sql)?;
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            let file: Option<String> = tx
                .query_row(
                    "DELETE FROM captures WHERE id = ?1 RETURNING file",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(QueueError::Sql)?;
            files.extend(file);
        }
        tx.commit().map_err(|e| self.sql_err(e))?;
        for f in files {
            let _ = std::fs::remove_file(self.captures.join(f));
        }
        Ok(())
    }

    /// The employee's deletion of a segment `[start_ms, end_ms)` still in its
    /// review window: its captures (every monitor, the webcam) and its minutes,
    /// in one commit, then the image files. Returns (captures, minutes) removed.
    pub fn delete_segment(
        &mut self,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<(usize, usize), QueueError> {
        let tx = self.conn.transaction().map_err(QueueError::Sql)?;
        let files = {
            let mut stmt = tx
                .prepare(
                    "DELETE FROM captures WHERE taken_ms >= ?1 AND taken_ms < ?2 RETURNING file",
                )
                .map_err(QueueError::Sql)?;
            let files = stmt
                .query_map([start_ms, end_ms], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(QueueError::Sql)?;
            files
        };
        let minutes = tx
            .execute(
                "DELETE FROM minutes WHERE start_ms >= ?1 AND start_ms < ?2",
                [start_ms, end_ms],
            )
            .map_err(QueueError::Sql)?;
        tx.commit().map_err(|e| self.sql_err(e))?;
        for f in &files {
            let _ = std::fs::remove_file(self.captures.join(f));
        }
        Ok((files.len(), minutes))
    }
}

/// A capture's file name in `captures/`: a sealed bundle is no image any
/// viewer could open, so it is not named as one.
fn capture_file(c: &CaptureRecord) -> String {
    let ext = if c.sealed {
        "sealed"
    } else {
        stint_proto::extension(&c.format)
    };
    format!("{}.{ext}", c.id)
}

/// Writes an image of the employee's screen durably, owner-only like the
/// database; a full disk is said as such.
fn write_image(path: &Path, data: &[u8]) -> Result<(), QueueError> {
    stint_common::durable::write(path, data, 0o600).map_err(|source| {
        let path = stint_common::durable::part_path(path);
        if source.kind() == std::io::ErrorKind::StorageFull {
            QueueError::DiskFull { path }
        } else {
            QueueError::Io { path, source }
        }
    })
}

pub(super) const CAPTURE_COLUMNS: &str = "SELECT id, kind, taken_ms, utc_offset, monitor, width, height, bytes, format, session_id, file, sealed FROM captures";

pub(super) fn capture_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(CaptureRecord, String)> {
    let kind: String = r.get(1)?;
    let taken_ms: i64 = r.get(2)?;
    Ok((
        CaptureRecord {
            id: r.get(0)?,
            kind: CaptureKind::parse(&kind).unwrap_or(CaptureKind::Screenshot),
            taken_at: rfc3339(taken_ms),
            utc_offset: r.get(3)?,
            monitor: r.get(4)?,
            width: r.get(5)?,
            height: r.get(6)?,
            bytes: r.get::<_, i64>(7)? as u64,
            format: r.get(8)?,
            session_id: r.get(9)?,
            sealed: r.get(11)?,
        },
        r.get(10)?,
    ))
}
