//! The server's storage: one SQLite database (WAL, synchronous=FULL) for devices,
//! tokens and records, and one directory of image files per device.
//!
//! Every record is upserted on its client-generated id, so a retried upload is a
//! no-op that still answers success: the agent may delete its copy either way.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use stint_proto::{
    CaptureKind, CaptureMeta, CaptureRecord, MinuteBatch, MinuteRecord, Policy, SessionRecord,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("server database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("server database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("record {0} belongs to another device")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Schema steps keyed on `user_version`; append only.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE enroll_tokens (
    hash TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    os_type TEXT NOT NULL,
    os_version TEXT NOT NULL,
    os_user TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    enrolled_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    last_ip TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE TABLE minutes (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    start TEXT NOT NULL,
    utc_offset INTEGER NOT NULL,
    seconds INTEGER NOT NULL,
    keystrokes INTEGER NOT NULL,
    clicks INTEGER NOT NULL,
    scrolls INTEGER NOT NULL,
    idle INTEGER NOT NULL,
    title TEXT,
    exe_path TEXT,
    app TEXT,
    session_id TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE INDEX minutes_by_device ON minutes (device_id, start);
CREATE TABLE captures (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    utc_offset INTEGER NOT NULL,
    monitor TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    format TEXT NOT NULL,
    session_id TEXT NOT NULL,
    file TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE INDEX captures_by_device ON captures (device_id, taken_at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#];

/// What an enrollment attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Enrolled {
    Device {
        id: String,
        token: String,
    },
    /// Unknown or revoked enrollment token.
    BadToken,
    /// The agent's previous device was revoked by the admin.
    Revoked(String),
}

pub struct Store {
    conn: Mutex<Connection>,
    images: PathBuf,
}

/// One device as `devices` and `export` print it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub hostname: String,
    pub os_type: String,
    pub os_version: String,
    pub os_user: String,
    pub agent_version: String,
    pub enrolled_at: String,
    pub last_seen: String,
    pub last_ip: String,
    pub revoked: bool,
}

/// A stored record plus what the server adds to it.
#[derive(Debug, Clone, Serialize)]
pub struct Received<T> {
    #[serde(flatten)]
    pub record: T,
    pub device_id: String,
    pub received_at: String,
    pub public_ip: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceRecords {
    #[serde(flatten)]
    pub device: DeviceInfo,
    pub sessions: Vec<Received<SessionRecord>>,
    pub minutes: Vec<Received<MinuteRecord>>,
    pub captures: Vec<Received<CaptureRecord>>,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Hex SHA-256: tokens are stored only as this.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new secret: `prefix` plus 32 random bytes in hex.
pub fn new_secret(prefix: &str) -> String {
    use ring::rand::SecureRandom;
    let mut buf = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("the OS random source works");
    format!("{prefix}{}", hex(&buf))
}

impl Store {
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
        let path = data_dir.join("server.db");
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction().map_err(open_err)?;
            tx.execute_batch(step).map_err(open_err)?;
            tx.pragma_update(None, "user_version", i + 1)
                .map_err(open_err)?;
            tx.commit().map_err(open_err)?;
        }
        let images = data_dir.join("captures");
        std::fs::create_dir_all(&images).map_err(io(&images))?;
        Ok(Store {
            conn: Mutex::new(conn),
            images,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half applied
        // (it rolls back on drop), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn create_token(&self, label: &str) -> Result<String, StoreError> {
        let token = new_secret("stn_enr_");
        self.conn().execute(
            "INSERT INTO enroll_tokens (hash, label, created_ms) VALUES (?1, ?2, ?3)",
            params![sha256_hex(token.as_bytes()), label, now_ms()],
        )?;
        Ok(token)
    }

    /// Revokes an enrollment token; devices already enrolled with it keep working.
    pub fn revoke_token(&self, token: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE enroll_tokens SET revoked = 1 WHERE hash = ?1",
            [sha256_hex(token.as_bytes())],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("no such enrollment token".into()));
        }
        Ok(())
    }

    pub fn revoke_device(&self, device_id: &str) -> Result<(), StoreError> {
        let n = self
            .conn()
            .execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [device_id])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no device {device_id}")));
        }
        Ok(())
    }

    /// Returns (device id, device token), or `None` if the enrollment token is
    /// unknown or revoked.
    pub fn enroll(
        &self,
        req: &stint_proto::EnrollRequest,
        ip: &str,
    ) -> Result<Enrolled, StoreError> {
        let conn = self.conn();
        let ok: Option<i64> = conn
            .query_row(
                "SELECT revoked FROM enroll_tokens WHERE hash = ?1",
                [sha256_hex(req.enroll_token.as_bytes())],
                |r| r.get(0),
            )
            .optional()?;
        if ok != Some(0) {
            return Ok(Enrolled::BadToken);
        }
        if let Some(prev) = &req.previous_device_id {
            // A fleet enrollment token is shared by every machine, so without this
            // a revoked device would simply come back under a new id.
            let revoked: Option<bool> = conn
                .query_row("SELECT revoked FROM devices WHERE id = ?1", [prev], |r| {
                    r.get(0)
                })
                .optional()?;
            if revoked == Some(true) {
                return Ok(Enrolled::Revoked(prev.clone()));
            }
        }
        let id = uuid::Uuid::now_v7().to_string();
        let token = new_secret("stn_dev_");
        let now = now_ms();
        conn.execute(
            "INSERT INTO devices (id, token_hash, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
            params![
                id,
                sha256_hex(token.as_bytes()),
                req.hostname,
                req.os_type,
                req.os_version,
                req.os_user,
                req.agent_version,
                now,
                ip
            ],
        )?;
        Ok(Enrolled::Device { id, token })
    }

    /// The device a bearer token belongs to, noting the contact.
    pub fn authenticate(&self, token: &str, ip: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn();
        let id: Option<String> = conn
            .query_row(
                "SELECT id FROM devices WHERE token_hash = ?1 AND revoked = 0",
                [sha256_hex(token.as_bytes())],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = &id {
            conn.execute(
                "UPDATE devices SET last_seen_ms = ?2, last_ip = ?3 WHERE id = ?1",
                params![id, now_ms(), ip],
            )?;
        }
        Ok(id)
    }

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
                "UPDATE minutes SET seconds = ?2, keystrokes = ?3, clicks = ?4, scrolls = ?5, idle = ?6, title = ?7, exe_path = ?8, app = ?9 WHERE id = ?1",
            )?;
            let mut ins_minute = tx.prepare_cached(
                "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, received_ms, public_ip)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
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
                            m.app
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
                            ip
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
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let file = format!("{id}.{}", stint_proto::extension(&meta.format));
        let path = dir.join(&file);
        let part = dir.join(format!("{file}.part"));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&part)?;
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

    pub fn policy(&self) -> Result<Policy, StoreError> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT value FROM settings WHERE key = 'policy'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    pub fn set_policy(&self, policy: &Policy) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES ('policy', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [serde_json::to_string(policy).expect("policy serialises")],
        )?;
        Ok(())
    }

    pub fn devices(&self) -> Result<Vec<DeviceInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip, revoked
             FROM devices ORDER BY enrolled_ms",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeviceInfo {
                device_id: r.get(0)?,
                hostname: r.get(1)?,
                os_type: r.get(2)?,
                os_version: r.get(3)?,
                os_user: r.get(4)?,
                agent_version: r.get(5)?,
                enrolled_at: rfc3339(r.get(6)?),
                last_seen: rfc3339(r.get(7)?),
                last_ip: r.get(8)?,
                revoked: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every device with its records; `day` ("YYYY-MM-DD", UTC) narrows the
    /// records to that day, `device` to that device.
    pub fn export(
        &self,
        device: Option<&str>,
        day: Option<&str>,
    ) -> Result<Vec<DeviceRecords>, StoreError> {
        let (from, to) = match day {
            Some(d) => (format!("{d}T00:00:00"), format!("{d}T99")),
            None => (String::new(), "~".to_string()),
        };
        let mut out = Vec::new();
        for d in self.devices()? {
            if device.is_some_and(|want| want != d.device_id) {
                continue;
            }
            let conn = self.conn();
            let id = d.device_id.clone();
            let mut stmt = conn.prepare(
                "SELECT body, received_ms, public_ip FROM sessions WHERE device_id = ?1 ORDER BY id",
            )?;
            let sessions = stmt
                .query_map([&id], |r| {
                    let body: String = r.get(0)?;
                    Ok((body, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter_map(|(body, ms, ip)| {
                    let record: SessionRecord = serde_json::from_str(&body).ok()?;
                    Some(Received {
                        record,
                        device_id: id.clone(),
                        received_at: rfc3339(ms),
                        public_ip: ip,
                    })
                })
                .collect();
            let mut stmt = conn.prepare(
                "SELECT id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, received_ms, public_ip
                 FROM minutes WHERE device_id = ?1 AND start >= ?2 AND start < ?3 ORDER BY start, id",
            )?;
            let minutes = stmt
                .query_map(params![id, from, to], |r| {
                    Ok(Received {
                        record: MinuteRecord {
                            id: r.get(0)?,
                            start: r.get(1)?,
                            utc_offset: r.get(2)?,
                            seconds: r.get(3)?,
                            keystrokes: r.get(4)?,
                            clicks: r.get(5)?,
                            scrolls: r.get(6)?,
                            idle: r.get(7)?,
                            title: r.get(8)?,
                            exe_path: r.get(9)?,
                            app: r.get(10)?,
                            session_id: r.get(11)?,
                        },
                        device_id: id.clone(),
                        received_at: rfc3339(r.get(12)?),
                        public_ip: r.get(13)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut stmt = conn.prepare(
                "SELECT id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, received_ms, public_ip
                 FROM captures WHERE device_id = ?1 AND taken_at >= ?2 AND taken_at < ?3 ORDER BY taken_at, id",
            )?;
            let captures = stmt
                .query_map(params![id, from, to], |r| {
                    let kind: String = r.get(1)?;
                    Ok(Received {
                        record: CaptureRecord {
                            id: r.get(0)?,
                            kind: CaptureKind::parse(&kind).unwrap_or(CaptureKind::Screenshot),
                            taken_at: r.get(2)?,
                            utc_offset: r.get(3)?,
                            monitor: r.get(4)?,
                            width: r.get(5)?,
                            height: r.get(6)?,
                            bytes: r.get::<_, i64>(7)? as u64,
                            format: r.get(8)?,
                            session_id: r.get(9)?,
                        },
                        device_id: id.clone(),
                        received_at: rfc3339(r.get(10)?),
                        public_ip: r.get(11)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            out.push(DeviceRecords {
                device: d,
                sessions,
                minutes,
                captures,
            });
        }
        Ok(out)
    }

    /// Path of a stored image, for admins reading what arrived.
    pub fn capture_path(&self, id: &str) -> Result<PathBuf, StoreError> {
        let file: Option<String> = self
            .conn()
            .query_row("SELECT file FROM captures WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        file.map(|f| self.images.join(f))
            .ok_or_else(|| StoreError::NotFound(format!("no capture {id}")))
    }
}
