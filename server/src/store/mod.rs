//! The server's storage: one database (embedded SQLite with WAL and
//! synchronous=FULL, or PostgreSQL) for devices, tokens and records, and one
//! object store (a local directory or an S3 bucket) for images.
//!
//! Every record is upserted on its client-generated id, so a retried upload is a
//! no-op that still answers success: the agent may delete its copy either way.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use sql::{params, Conn, OptionalExtension};
use stint_proto::Policy;

mod api_tokens;
mod aws_profile;
mod budgets;
mod copy;
mod deletion;
mod diary;
mod export;
mod grants;
mod hooks;
mod keys;
mod leases;
mod links;
mod names;
pub mod objects;
mod offline;
mod oidc;
mod passwords;
mod payroll;
mod people;
mod periods;
mod policy;
mod private_time;
mod projects;
mod reassign;
mod records;
mod schema;
mod schema_pg;
pub(crate) mod sql;
mod stale;
mod throttle;
pub mod thumbs;
mod tokens;
mod work_hours;
pub mod worktime;

pub use api_tokens::{ApiToken, MAX_TOKEN_DAYS};
pub use budgets::{hours, Budget};
pub use copy::{Checked, CopyError};
pub use deletion::{Deleted, Deletion, Retention};
pub use diary::{CaptureOwner, DiaryCapture, DiaryIdle, DiaryMinute, Image, Size};
pub use export::{DeviceRecords, Received};
pub use grants::{Actor, Grant, View, Whose, SAME_VIEW_MS};
pub use hooks::{Delivery, Due, Hook, MAX_ATTEMPTS};
pub use keys::{PersonKey, MIN_ITERATIONS};
pub use leases::ORPHAN_GRACE_MS;
pub use links::{INVITE_MS, RESET_MS};
pub use offline::{Offline, OfflineState, MAX_OFFLINE_MS};
pub use oidc::{OidcRefusal, OIDC_LOGIN_MS};
pub use payroll::PayrollDay;
pub use people::{Login, Person, Team, SESSION_MAX_MS};
pub use periods::{Checklist, Period, PeriodEvent, PeriodState};
pub use policy::{Effective, Scope};
pub use private_time::PrivateView;
pub use projects::{Member, Names, Project, Task};
pub use reassign::{window_allows, Reassignment, MAX_REASSIGN_MS};
pub use tokens::{TokenInfo, TokenLimits, TokenPerson};
pub use worktime::Spent;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("server database {what}: {source}")]
    Open { what: String, source: sql::SqlError },
    #[error("server database: {0}")]
    Sql(#[from] sql::SqlError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Schema {
        what: String,
        source: stint_common::migrate::MigrationError,
    },
    #[error(transparent)]
    Objects(#[from] objects::ObjectsError),
    #[error("record {0} belongs to another device")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// A value the store does not take, said in words naming it.
    #[error("{0}")]
    Invalid(String),
    /// Not allowed, said in words for the person who asked.
    #[error("{0}")]
    Denied(String),
    /// A grant used for a read it was not made for: a bug, refused.
    #[error("a grant for {0:?} does not open this read")]
    WrongGrant(crate::access::Action),
}

impl StoreError {
    /// Storage that may come back (a lost database connection, an object
    /// store that does not answer), as opposed to a bug or bad data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Objects(e) => e.is_transient(),
            StoreError::Sql(e) => e.is_connection_lost(),
            _ => false,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What an enrollment attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Enrolled {
    Device {
        id: String,
        token: String,
    },
    /// The enrollment token cannot enroll: why, in words.
    BadToken(String),
    /// The agent's previous device was revoked by the admin.
    Revoked(String),
}

pub struct Store {
    pool: Pool,
    objects: objects::Objects,
    /// Images being written to the object store right now (a metric).
    pending_writes: std::sync::atomic::AtomicI64,
}

/// Where records go: `sqlite:PATH` or `postgres://...` (`postgresql://`
/// too, and libpq's `key=value` form after `postgres:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::str::FromStr for Database {
    type Err = String;
    fn from_str(s: &str) -> Result<Database, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(Database::Postgres(s.to_string()))
        } else if let Some(kv) = s.strip_prefix("postgres:") {
            Ok(Database::Postgres(kv.to_string()))
        } else if let Some(path) = s.strip_prefix("sqlite:") {
            Ok(Database::Sqlite(PathBuf::from(path)))
        } else {
            Err(format!(
                "{s:?}: expected sqlite:PATH or postgres://USER@HOST/DATABASE"
            ))
        }
    }
}

/// A few connections, each used by one thread at a time. SQLite gets one (it
/// writes one transaction at a time anyway); PostgreSQL several, so one slow
/// query does not hold up every request of a replica.
struct Pool {
    conns: Vec<Mutex<Conn>>,
    next: std::sync::atomic::AtomicUsize,
    /// Makes a replacement when PostgreSQL drops a connection.
    reconnect: Option<Box<dyn Fn() -> Result<Conn, sql::SqlError> + Send + Sync>>,
}

impl Pool {
    fn get(&self) -> std::sync::MutexGuard<'_, Conn> {
        // A panic while holding a lock cannot leave a transaction half applied
        // (Tx rolls back on drop), so a poisoned lock is still safe to use.
        let free = self.conns.iter().find_map(|c| c.try_lock().ok());
        let mut conn = free.unwrap_or_else(|| {
            let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let slot = &self.conns[i % self.conns.len()];
            slot.lock().unwrap_or_else(|p| p.into_inner())
        });
        if let (true, Some(reconnect)) = (conn.is_closed(), &self.reconnect) {
            match reconnect() {
                Ok(fresh) => *conn = fresh,
                Err(e) => tracing::warn!(error = %e, "reconnecting to the database failed"),
            }
        }
        conn
    }
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
    /// Whose device it is; `None` until someone binds it.
    pub person_id: Option<String>,
}

pub use stint_common::time::{now_ms, rfc3339};

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
    /// The embedded default: `server.db` and `captures/` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        crate::private::dir(data_dir).map_err(io(data_dir))?;
        let objects = objects::Objects::open(&data_dir.join("captures").display().to_string())?;
        Store::open_sqlite(&data_dir.join("server.db"), objects)
    }

    /// `database` with images in `objects`.
    pub fn connect(database: &Database, objects: objects::Objects) -> Result<Store, StoreError> {
        match database {
            Database::Sqlite(path) => Store::open_sqlite(path, objects),
            Database::Postgres(url) => Store::open_postgres(url, 8, objects),
        }
    }

    fn open_sqlite(path: &Path, objects: objects::Objects) -> Result<Store, StoreError> {
        crate::private::touch(path).map_err(io(path))?;
        let what = path.display().to_string();
        let mut conn = Conn::open_sqlite(path).map_err(|source| StoreError::Open {
            what: what.clone(),
            source,
        })?;
        schema::migrate(&mut conn).map_err(|source| StoreError::Schema {
            what: what.clone(),
            source,
        })?;
        Ok(Store {
            pool: Pool {
                conns: vec![Mutex::new(conn)],
                next: Default::default(),
                reconnect: None,
            },
            objects,
            pending_writes: Default::default(),
        })
    }

    /// PostgreSQL at `url` (`postgres://user:pass@host/db`), with `size`
    /// connections; migrates the schema first.
    pub fn open_postgres(
        url: &str,
        size: usize,
        objects: objects::Objects,
    ) -> Result<Store, StoreError> {
        let what = schema_pg::redacted(url);
        let connect = {
            let url = url.to_string();
            move || Conn::connect_postgres(&url)
        };
        let open_err = |source| StoreError::Open {
            what: what.clone(),
            source,
        };
        let mut first = connect().map_err(open_err)?;
        schema_pg::migrate(&mut first).map_err(|source| StoreError::Schema {
            what: what.clone(),
            source,
        })?;
        let mut conns = vec![Mutex::new(first)];
        for _ in 1..size.max(1) {
            conns.push(Mutex::new(connect().map_err(open_err)?));
        }
        Ok(Store {
            pool: Pool {
                conns,
                next: Default::default(),
                reconnect: Some(Box::new(connect)),
            },
            objects,
            pending_writes: Default::default(),
        })
    }

    /// Both halves answer: a query on the database, a listing of one key
    /// in the object store.
    pub fn ready(&self) -> Result<(), StoreError> {
        self.conn()
            .query_row("SELECT 1", params![], |r| r.get::<i64>(0))?;
        self.objects.get(".ready")?;
        Ok(())
    }

    /// Images being written to the object store at this moment.
    pub fn pending_writes(&self) -> i64 {
        self.pending_writes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Conn> {
        self.pool.get()
    }

    /// Binds (or re-binds) a device to a person: its records, past and
    /// future, are that person's.
    pub fn bind_device(&self, device_id: &str, person_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        // Both people's sums change: the one it leaves and the one it joins.
        stale::mark_all_of_device(&mut tx, device_id)?;
        let n = tx.execute(
            "UPDATE devices SET person_id = ?2 WHERE id = ?1",
            params![device_id, person_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no device {device_id}")));
        }
        stale::mark_all_of_device(&mut tx, device_id)?;
        tx.commit()?;
        Ok(())
    }

    pub fn revoke_device(&self, device_id: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE devices SET revoked = 1 WHERE id = ?1",
            params![device_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no device {device_id}")));
        }
        Ok(())
    }

    /// A new device and its token, when the enrollment token may still
    /// enroll; the use is counted in the same transaction. The device is the
    /// enrollment token's person's, or nobody's: never the previous
    /// device's person. An agent names its previous device only after that
    /// device's token was refused, which proves nothing about who sends the
    /// id, and anyone holding a fleet token could otherwise plant records in
    /// a colleague's diary by naming the colleague's device. An admin binds
    /// the new device.
    pub fn enroll(
        &self,
        req: &stint_proto::EnrollRequest,
        ip: &str,
    ) -> Result<Enrolled, StoreError> {
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        let person = match tokens::claim(&mut tx, &req.enroll_token)? {
            Ok(person) => person,
            Err(why) => return Ok(Enrolled::BadToken(why)),
        };
        if let Some(prev) = &req.previous_device_id {
            // A fleet enrollment token is shared by every machine, so without this
            // a revoked device would simply come back under a new id.
            let revoked: Option<bool> = tx
                .query_row(
                    "SELECT revoked FROM devices WHERE id = ?1",
                    params![prev],
                    |r| r.get(0),
                )
                .optional()?;
            if revoked == Some(true) {
                return Ok(Enrolled::Revoked(prev.clone()));
            }
        }
        let id = uuid::Uuid::now_v7().to_string();
        let token = new_secret("stn_dev_");
        let now = now_ms();
        tx.execute(
            "INSERT INTO devices (id, token_hash, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip, person_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
            params![
                id,
                sha256_hex(token.as_bytes()),
                req.hostname,
                req.os_type,
                req.os_version,
                req.os_user,
                req.agent_version,
                now,
                ip,
                person
            ],
        )?;
        tx.commit()?;
        Ok(Enrolled::Device { id, token })
    }

    /// The device a bearer token belongs to, noting the contact.
    pub fn authenticate(&self, token: &str, ip: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        let id: Option<String> = conn
            .query_row(
                "SELECT id FROM devices WHERE token_hash = ?1 AND revoked = 0",
                params![sha256_hex(token.as_bytes())],
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

    pub fn policy(&self) -> Result<Policy, StoreError> {
        self.setting("policy")
    }

    pub fn set_policy(&self, policy: &Policy) -> Result<(), StoreError> {
        self.set_setting("policy", policy)
    }

    /// The JSON value kept under `key` in `settings`; the type's default
    /// when it is unset or unreadable.
    fn setting<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &str,
    ) -> Result<T, StoreError> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    fn set_setting<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![
                key,
                serde_json::to_string(value).expect("a setting serialises")
            ],
        )?;
        Ok(())
    }

    pub fn devices(&self) -> Result<Vec<DeviceInfo>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map("SELECT id, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip, revoked, person_id
             FROM devices ORDER BY enrolled_ms", params![], |r| {
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
                person_id: r.get(10)?,
            })
        })?;
        Ok(rows)
    }
}

/// The store a unit test runs against: embedded in `dir`, or, with
/// `STINT_TEST_STORE=postgres`, a fresh database of its own in the cluster
/// `STINT_TEST_POSTGRES` names; scripts/test.sh runs the store tests both ways.
#[cfg(test)]
pub(crate) fn test_store(dir: &Path) -> Store {
    if std::env::var("STINT_TEST_STORE").as_deref() != Ok("postgres") {
        return Store::open(dir).unwrap();
    }
    let url = fresh_pg_database().expect(
        "STINT_TEST_STORE=postgres needs STINT_TEST_POSTGRES (scripts/postgres.sh start prints it)",
    );
    let objects = objects::Objects::open(&dir.join("captures").display().to_string()).unwrap();
    Store::open_postgres(&url, 4, objects).unwrap()
}

/// Says a test could not run here and why: on stdout, and in the file
/// scripts/test.sh lists at the end (the harness hides a passing test's
/// output).
#[cfg(test)]
pub(crate) fn not_run(test: &str, why: &str) {
    let line = format!("NOT RUN {test}: {why}");
    println!("{line}");
    if let Some(path) = std::env::var_os("STINT_TEST_NOT_RUN") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// The URL of a new, empty database in the cluster `STINT_TEST_POSTGRES`
/// names, or `None` when it names none.
#[cfg(test)]
pub(crate) fn fresh_pg_database() -> Option<String> {
    let url = std::env::var("STINT_TEST_POSTGRES").ok()?;
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').expect("a URL ending in /DATABASE");
    Some(format!("{base}/{name}"))
}
