//! The durable local queue: one thread owns the SQLite connection and the capture files.
//!
//! Callers send closures to that thread and get their answer only after the
//! transaction committed (WAL, `synchronous=FULL`), so an acknowledged record survives
//! a crash or power loss. Capture images are written to a `.part` file, fsynced, renamed
//! into place and only then referenced by a committed row: a crash never leaves a
//! half-written capture visible, and the owner sweeps leftovers when it opens.

mod captures;
mod idle;
mod migrations;
mod minutes;
mod open;
mod private;
mod state;

pub use idle::ANSWER_WITHIN_MS;
pub use private::Private;
pub use state::{Baseline, Control, Key, Sampler};

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use crate::model::{local_offset_at, rfc3339, LogOutput, QueueStats, SessionRecord};
use captures::{capture_row, CAPTURE_COLUMNS};
use minutes::{minute_row, MINUTE_COLUMNS};

pub use migrations::LATEST as SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot open queue database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("queue database {path}: {source}")]
    Schema {
        path: PathBuf,
        source: migrations::MigrationError,
    },
    #[error("queue database {path} is corrupt ({detail}); run `stint run` to move it aside and start a fresh queue")]
    Corrupt { path: PathBuf, detail: String },
    #[error("disk full while writing {path}; free space on that disk")]
    DiskFull { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("queue database: {0}")]
    Sql(rusqlite::Error),
    #[error("the queue thread has stopped")]
    Closed,
    /// A job panicked; the thread caught it (its transaction rolled back)
    /// and goes on with the next.
    #[error("a queue job failed unexpectedly: {0}")]
    Panicked(String),
    #[error(transparent)]
    DataDir(#[from] crate::datadir::DataDirError),
}

/// Who is opening the queue. Only the daemon may repair or sweep; readers (the CLI)
/// must never delete a file the daemon is about to reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Reader,
}

/// What happened while opening, for the caller to log.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// A corrupt database was moved here and a fresh one created.
    pub moved_corrupt_to: Option<PathBuf>,
    /// Its capture files went here, with it: never swept as strangers.
    pub moved_captures_to: Option<(PathBuf, usize)>,
    /// Leftover files of interrupted capture writes that were removed.
    pub swept_files: usize,
}

/// What the queue thread is sent.
enum Job {
    Run(Box<dyn FnOnce(&mut Store) + Send>),
    /// Ends the thread, as a fault would: for testing those who rely on it.
    #[cfg(test)]
    Halt,
}

/// A panic's message, for the error that replaces it.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Runs `f` on the store, a panic in it turned into an error: the thread
/// must outlive any one job, or every later record would have nowhere to go.
fn guarded<T>(
    store: &mut Store,
    f: impl FnOnce(&mut Store) -> Result<T, QueueError>,
) -> Result<T, QueueError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(store))) {
        Ok(r) => r,
        Err(p) => {
            let text = panic_text(&*p);
            tracing::error!(panic = ?text, "a queue job panicked; its transaction rolled back");
            Err(QueueError::Panicked(text))
        }
    }
}

/// Cheap, cloneable handle to the queue thread.
#[derive(Clone)]
pub struct Queue {
    tx: mpsc::Sender<Job>,
    paths: Arc<Paths>,
    control: tokio::sync::watch::Receiver<Control>,
}

#[derive(Debug)]
struct Paths {
    db: PathBuf,
    captures: PathBuf,
}

impl Queue {
    /// Opens (creating if needed) the queue in `data_dir` and starts its thread.
    pub fn open(data_dir: &Path, role: Role) -> Result<(Queue, OpenReport), QueueError> {
        let paths = Arc::new(Paths {
            db: data_dir.join("queue.db"),
            captures: data_dir.join("captures"),
        });
        // Never into someone's folder; owner-only, since the queue holds
        // window titles and screenshots.
        crate::datadir::claim(data_dir)?;
        for dir in [data_dir, paths.captures.as_path()] {
            crate::platform::create_private_dir(dir).map_err(|source| QueueError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_paths = paths.clone();
        std::thread::Builder::new()
            .name("stint-queue".into())
            .spawn(move || match Store::open(&thread_paths, role) {
                Ok((mut store, report)) => {
                    let _ = ready_tx.send(Ok((report, store.control.subscribe())));
                    for job in rx {
                        match job {
                            Job::Run(job) => job(&mut store),
                            #[cfg(test)]
                            Job::Halt => break,
                        }
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|source| QueueError::Io {
                path: paths.db.clone(),
                source,
            })?;
        let (report, control) = ready_rx.recv().map_err(|_| QueueError::Closed)??;
        Ok((Queue { tx, paths, control }, report))
    }

    /// The tracking switch and the policy, updated by the queue thread as soon
    /// as a change to either commits.
    pub fn control(&self) -> tokio::sync::watch::Receiver<Control> {
        self.control.clone()
    }

    pub fn db_path(&self) -> &Path {
        &self.paths.db
    }

    /// Runs `f` on the queue thread and waits for its result; a panic in
    /// `f` comes back as [`QueueError::Panicked`].
    pub async fn call<T, F>(&self, f: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, QueueError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Run(Box::new(move |store: &mut Store| {
                let _ = tx.send(guarded(store, f));
            })))
            .map_err(|_| QueueError::Closed)?;
        rx.await.map_err(|_| QueueError::Closed)?
    }

    /// Ends the queue thread, as a fault would.
    #[cfg(test)]
    pub(crate) fn halt(&self) {
        let _ = self.tx.send(Job::Halt);
    }

    /// [`Queue::call`] for code that is not async (CLI commands, tests).
    pub fn call_blocking<T, F>(&self, f: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, QueueError> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Job::Run(Box::new(move |store: &mut Store| {
                let _ = tx.send(guarded(store, f));
            })))
            .map_err(|_| QueueError::Closed)?;
        rx.recv().map_err(|_| QueueError::Closed)?
    }
}

/// The connection and capture directory; reachable only from the queue thread.
pub struct Store {
    conn: Connection,
    db_path: PathBuf,
    captures: PathBuf,
    /// Sends each committed change of the tracking switch or the policy.
    control: tokio::sync::watch::Sender<Control>,
}

impl Store {
    fn sql_err(&self, e: rusqlite::Error) -> QueueError {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::DiskFull {
                return QueueError::DiskFull {
                    path: self.db_path.clone(),
                };
            }
        }
        QueueError::Sql(e)
    }

    pub fn insert_session(&mut self, s: &SessionRecord, started_ms: i64) -> Result<(), QueueError> {
        let ips = serde_json::to_string(&s.ip_addresses).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT OR IGNORE INTO sessions (id, started_ms, utc_offset, os_type, os_version, kernel,
                 hostname, os_user, agent_version, ip_addresses)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    s.id,
                    started_ms,
                    s.utc_offset,
                    s.os_type,
                    s.os_version,
                    s.kernel,
                    s.hostname,
                    s.os_user,
                    s.agent_version,
                    ips
                ],
            )
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// Everything recorded at or after `since_ms`, oldest first.
    pub fn log(&self, since_ms: i64) -> Result<LogOutput, QueueError> {
        let e = |e| self.sql_err(e);
        let mut out = LogOutput::default();
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{SESSION_COLUMNS} WHERE started_ms >= ?1 ORDER BY started_ms"
            ))
            .map_err(e)?;
        let rows = stmt.query_map([since_ms], session_row).map_err(e)?;
        out.sessions = rows.collect::<Result<_, _>>().map_err(e)?;

        let mut stmt = self
            .conn
            .prepare(&format!(
                "{MINUTE_COLUMNS} WHERE start_ms >= ?1 ORDER BY start_ms"
            ))
            .map_err(e)?;
        let rows = stmt.query_map([since_ms], minute_row).map_err(e)?;
        out.minutes = rows.collect::<Result<_, _>>().map_err(e)?;

        let mut stmt = self
            .conn
            .prepare(&format!(
                "{CAPTURE_COLUMNS} WHERE taken_ms >= ?1 ORDER BY taken_ms, monitor"
            ))
            .map_err(e)?;
        let rows = stmt.query_map([since_ms], capture_row).map_err(e)?;
        out.captures = rows
            .map(|r| r.map(|(c, _)| c))
            .collect::<Result<_, _>>()
            .map_err(e)?;
        out.idle_spans = self.idle_spans(since_ms)?;
        out.private_spans = self.private_spans(since_ms)?;
        Ok(out)
    }

    /// Moves a record the server refused for good into `dead_letter`, with the
    /// server's reason, so the rest of the queue keeps flowing.
    pub fn dead_letter(&mut self, id: &str, reason: &str) -> Result<(), QueueError> {
        let tx = self.conn.transaction().map_err(QueueError::Sql)?;
        let found: Option<(&str, String)> = {
            let session = tx
                .query_row(
                    &format!("{SESSION_COLUMNS} WHERE id = ?1"),
                    [id],
                    session_row,
                )
                .optional()
                .map_err(QueueError::Sql)?
                .map(|r| ("session", serde_json::to_string(&r).unwrap_or_default()));
            let minute = tx
                .query_row(&format!("{MINUTE_COLUMNS} WHERE id = ?1"), [id], minute_row)
                .optional()
                .map_err(QueueError::Sql)?
                .map(|r| ("minute", serde_json::to_string(&r).unwrap_or_default()));
            let capture = tx
                .query_row(
                    &format!("{CAPTURE_COLUMNS} WHERE id = ?1"),
                    [id],
                    capture_row,
                )
                .optional()
                .map_err(QueueError::Sql)?
                .map(|(r, _)| ("capture", serde_json::to_string(&r).unwrap_or_default()));
            let idle = tx
                .query_row(
                    "SELECT id, start_ms, end_ms, decision FROM idle_spans WHERE id = ?1",
                    [id],
                    |r| {
                        let v = serde_json::json!({
                            "id": r.get::<_, String>(0)?,
                            "start": rfc3339(r.get(1)?),
                            "end": rfc3339(r.get(2)?),
                            "decision": r.get::<_, Option<String>>(3)?,
                        });
                        Ok(("idle_span", v.to_string()))
                    },
                )
                .optional()
                .map_err(QueueError::Sql)?;
            let private = private::dead_letter_row(&tx, id).map_err(QueueError::Sql)?;
            session.or(minute).or(capture).or(idle).or(private)
        };
        let Some((kind, json)) = found else {
            return Ok(());
        };
        tx.execute(
            "INSERT OR REPLACE INTO dead_letter (id, kind, record, reason, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, kind, json, reason, stint_common::time::now_ms()],
        )
        .map_err(QueueError::Sql)?;
        let file: Option<String> = match kind {
            "session" => {
                tx.execute("UPDATE sessions SET uploaded = 1 WHERE id = ?1", [id])
                    .map_err(QueueError::Sql)?;
                None
            }
            "minute" => {
                tx.execute("DELETE FROM minutes WHERE id = ?1", [id])
                    .map_err(QueueError::Sql)?;
                None
            }
            "idle_span" => {
                tx.execute("DELETE FROM idle_spans WHERE id = ?1", [id])
                    .map_err(QueueError::Sql)?;
                None
            }
            "private_span" => {
                tx.execute("DELETE FROM private_spans WHERE id = ?1", [id])
                    .map_err(QueueError::Sql)?;
                None
            }
            _ => tx
                .query_row(
                    "DELETE FROM captures WHERE id = ?1 RETURNING file",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(QueueError::Sql)?,
        };
        tx.commit().map_err(|e| self.sql_err(e))?;
        if let Some(f) = file {
            let _ = std::fs::remove_file(self.captures.join(f));
        }
        Ok(())
    }

    /// Dead-lettered records with the server's reasons, newest first.
    pub fn dead_letters(&self) -> Result<Vec<(String, String, String)>, QueueError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, reason FROM dead_letter ORDER BY at_ms DESC")
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }

    pub fn stats(&self, day_start_ms: i64) -> Result<QueueStats, QueueError> {
        let e = |e| self.sql_err(e);
        let one = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<i64, QueueError> {
            self.conn.query_row(sql, p, |r| r.get(0)).map_err(e)
        };
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(start_ms) FROM minutes", [], |r| r.get(0))
            .map_err(e)?;
        let image_bytes = one("SELECT coalesce(sum(bytes), 0) FROM captures", &[])?;
        let db_bytes: u64 = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|sfx| {
                let mut p = self.db_path.clone().into_os_string();
                p.push(sfx);
                std::fs::metadata(p).ok().map(|m| m.len())
            })
            .sum();
        Ok(QueueStats {
            pending_minutes: one("SELECT count(*) FROM minutes", &[])? as u64,
            pending_captures: one("SELECT count(*) FROM captures", &[])? as u64,
            queue_bytes: db_bytes + image_bytes as u64,
            tracked_seconds_today: one(
                "SELECT (SELECT coalesce(sum(seconds), 0) FROM minutes WHERE start_ms >= ?1)
                      + (SELECT coalesce(sum(tracked), 0) FROM day_totals WHERE day_ms >= ?1)",
                &[&day_start_ms],
            )? as u64,
            active_seconds_today: one(
                "SELECT (SELECT coalesce(sum(seconds), 0) FROM minutes WHERE start_ms >= ?1 AND idle = 0)
                      + (SELECT coalesce(sum(active), 0) FROM day_totals WHERE day_ms >= ?1)",
                &[&day_start_ms],
            )? as u64,
            dead_letters: one("SELECT count(*) FROM dead_letter", &[])? as u64,
            last_minute: last.map(rfc3339),
        })
    }
}

/// The queue spells "no project" as '' (see migration 3 -> 4).
pub(super) fn none_if_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub(super) const SESSION_COLUMNS: &str = "SELECT id, started_ms, utc_offset, os_type, os_version, kernel, hostname, os_user, agent_version, ip_addresses FROM sessions";

pub(super) fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    let ips: String = r.get(9)?;
    Ok(SessionRecord {
        id: r.get(0)?,
        started_at: rfc3339(r.get(1)?),
        utc_offset: r.get(2)?,
        os_type: r.get(3)?,
        os_version: r.get(4)?,
        kernel: r.get(5)?,
        hostname: r.get(6)?,
        os_user: r.get(7)?,
        agent_version: r.get(8)?,
        ip_addresses: serde_json::from_str(&ips).unwrap_or_default(),
    })
}

/// Local midnight today as epoch milliseconds; `stint status` sums from there.
pub fn local_day_start_ms(now_ms: i64) -> i64 {
    let offset_ms = i64::from(local_offset_at(now_ms)) * 1000;
    crate::clock::align_down(now_ms + offset_ms, 86_400_000) - offset_ms
}

#[cfg(test)]
mod tests;
