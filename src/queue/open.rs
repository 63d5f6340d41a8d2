//! Opening the queue: connecting (WAL, integrity check, migrations), moving a
//! corrupt database aside together with its captures, and clearing what
//! interrupted capture writes left behind. Only the owner repairs or sweeps.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::{migrations, Key, OpenReport, Paths, QueueError, Role, Store};

impl Store {
    pub(super) fn open(paths: &Paths, role: Role) -> Result<(Store, OpenReport), QueueError> {
        let mut report = OpenReport::default();
        let conn = match Self::connect(&paths.db) {
            Ok(conn) => conn,
            Err(QueueError::Corrupt { detail, .. }) if role == Role::Owner => {
                let aside = move_aside(&paths.db)?;
                // The fresh database knows none of the images: they go with
                // the database they belong to, or the sweep would take them.
                let (captures, files) = move_captures_aside(&paths.captures, &aside)?;
                tracing::error!(
                    path = %paths.db.display(),
                    moved_to = %aside.display(),
                    captures_moved_to = %captures.display(),
                    files,
                    %detail,
                    "queue database was corrupt; moved it and its captures aside (kept for recovery) and started a fresh one"
                );
                let conn = Self::connect(&paths.db)?;
                let note = format!(
                    "{} was unreadable ({detail}) on {}; it is kept as {} and its {files} capture file(s) in {}",
                    paths.db.display(),
                    crate::model::rfc3339(stint_common::time::now_ms()),
                    aside.display(),
                    captures.display()
                );
                conn.execute(
                    "INSERT INTO state (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![Key::Recovery.name(), note],
                )
                .map_err(QueueError::Sql)?;
                report.moved_corrupt_to = Some(aside);
                report.moved_captures_to = Some((captures, files));
                conn
            }
            Err(e) => return Err(e),
        };
        let store = Store {
            conn,
            db_path: paths.db.clone(),
            captures: paths.captures.clone(),
            control: tokio::sync::watch::Sender::new(Default::default()),
        };
        // Nobody subscribes before the queue thread hands out receivers.
        store.control.send_replace(store.control_now()?);
        if role == Role::Owner {
            report.swept_files = store.sweep_captures()?;
        }
        Ok((store, report))
    }

    fn connect(path: &Path) -> Result<Connection, QueueError> {
        let corrupt = |detail: String| QueueError::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let open_err = |source| QueueError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        let setup = conn.execute_batch(
            "PRAGMA busy_timeout = 5000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        );
        if let Err(e) = setup {
            return Err(if is_corruption(&e) {
                corrupt(e.to_string())
            } else {
                open_err(e)
            });
        }
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| corrupt(e.to_string()))?;
        if check != "ok" {
            return Err(corrupt(check));
        }
        migrations::migrate(&mut conn).map_err(|source| match source.sqlite() {
            Some(e) if is_corruption(e) => corrupt(e.to_string()),
            _ => QueueError::Schema {
                path: path.to_path_buf(),
                source,
            },
        })?;
        Ok(conn)
    }

    /// Clears the remains of captures interrupted before their commit: `.part`
    /// files (incomplete, and written by stint) are removed; a complete image
    /// no committed row refers to is moved to `orphans/` beside the queue,
    /// since a file stint cannot account for is never deleted.
    fn sweep_captures(&self) -> Result<usize, QueueError> {
        let known: HashSet<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT file FROM captures")
                .map_err(|e| self.sql_err(e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.sql_err(e))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| self.sql_err(e))?
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| QueueError::Io { path, source }
        };
        let orphans = self.captures.with_file_name("orphans");
        let (mut removed, mut kept) = (0, 0);
        for entry in std::fs::read_dir(&self.captures).map_err(io(&self.captures))? {
            let entry = entry.map_err(io(&self.captures))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if known.contains(&name) {
                continue;
            }
            if name.ends_with(".part") {
                std::fs::remove_file(entry.path()).map_err(io(&entry.path()))?;
                removed += 1;
            } else {
                crate::platform::create_private_dir(&orphans).map_err(io(&orphans))?;
                std::fs::rename(entry.path(), orphans.join(&name)).map_err(io(&entry.path()))?;
                kept += 1;
            }
        }
        if removed + kept > 0 {
            tracing::warn!(
                removed,
                moved_to_orphans = kept,
                orphans = %orphans.display(),
                "cleared leftovers of interrupted capture writes"
            );
        }
        Ok(removed + kept)
    }
}

pub(super) fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt))
}

/// Renames a corrupt database (and its WAL/SHM) to `queue.db.corrupt-<epoch>`.
fn move_aside(db: &Path) -> Result<PathBuf, QueueError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let aside = PathBuf::from(format!("{}.corrupt-{stamp}", db.display()));
    for sfx in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{sfx}", db.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{sfx}", aside.display()));
            std::fs::rename(&from, &to).map_err(|source| QueueError::Io { path: from, source })?;
        }
    }
    Ok(aside)
}

/// Moves `captures` to `<aside>.captures` beside the quarantined database and
/// starts an empty one; returns where they went and how many files they are.
fn move_captures_aside(captures: &Path, aside: &Path) -> Result<(PathBuf, usize), QueueError> {
    let to = PathBuf::from(format!("{}.captures", aside.display()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| QueueError::Io { path, source }
    };
    let files = match std::fs::read_dir(captures) {
        Ok(entries) => entries.count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(io(captures)(e)),
    };
    if files > 0 {
        std::fs::rename(captures, &to).map_err(io(captures))?;
        crate::platform::create_private_dir(captures).map_err(io(captures))?;
    }
    Ok((to, files))
}
