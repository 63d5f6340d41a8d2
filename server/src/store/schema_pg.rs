//! The PostgreSQL schema: its own append-only steps (version 1 is the
//! SQLite schema at its version 6; SQLite's later steps follow one for
//! one), applied at start under an advisory lock so replicas starting
//! together migrate once, with the same refusal of a newer schema the
//! SQLite side has.

use super::sql::{params, Conn, OptionalExtension, SqlError};

/// Types chosen so one SQL text serves both engines: every integer is
/// BIGINT (flags too, compared with `= 0`), and `view_audit` carries the
/// `rowid` SQLite gives every table for free.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE enroll_tokens (
    hash TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0,
    expires_ms BIGINT,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    person_id TEXT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    os_type TEXT NOT NULL,
    os_version TEXT NOT NULL,
    os_user TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    enrolled_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    last_ip TEXT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0,
    person_id TEXT
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE TABLE minutes (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    start TEXT NOT NULL,
    utc_offset BIGINT NOT NULL,
    seconds BIGINT NOT NULL,
    keystrokes BIGINT NOT NULL,
    clicks BIGINT NOT NULL,
    scrolls BIGINT NOT NULL,
    idle BIGINT NOT NULL,
    title TEXT,
    exe_path TEXT,
    app TEXT,
    session_id TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    public_ip TEXT NOT NULL,
    synthetic_keystrokes BIGINT NOT NULL DEFAULT 0,
    synthetic_clicks BIGINT NOT NULL DEFAULT 0,
    counts_unknown BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX minutes_by_device ON minutes (device_id, start);
CREATE TABLE captures (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    utc_offset BIGINT NOT NULL,
    monitor TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    format TEXT NOT NULL,
    session_id TEXT NOT NULL,
    file TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE INDEX captures_by_device ON captures (device_id, taken_at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'member', 'auditor')),
    archived BIGINT NOT NULL DEFAULT 0,
    password_hash TEXT,
    created_ms BIGINT NOT NULL
);
CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE team_people (
    team_id TEXT NOT NULL REFERENCES teams (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    manager BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, person_id)
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL
);
CREATE TABLE view_audit (
    rowid BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    viewer_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE INDEX view_audit_by_subject ON view_audit (subject_id, at_ms);
CREATE TABLE tombstones (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    deleted_ms BIGINT NOT NULL,
    deleted_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    person_id TEXT
);
CREATE INDEX tombstones_by_person ON tombstones (person_id, deleted_ms);
CREATE TABLE password_links (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE TABLE policies (scope TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
"#,
    r#"
ALTER TABLE people ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX people_by_oidc_subject ON people (oidc_subject);
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
"#,
    // Objects in doubt: a write started before its row commits, or an
    // image whose row is gone and whose delete may not have happened. The
    // orphan sweep reads only these, never the whole bucket.
    r#"
CREATE TABLE object_writes (
    key TEXT PRIMARY KEY,
    capture_id TEXT NOT NULL,
    since_ms BIGINT NOT NULL
);
CREATE INDEX object_writes_by_age ON object_writes (since_ms);
"#,
];

/// Any fixed number: replicas serialise their migrations on it.
const MIGRATION_LOCK: i64 = 0x5717_0001;

#[derive(Debug, thiserror::Error)]
pub enum PgSchemaError {
    #[error("schema version {found} is newer than this stint-server understands ({latest}); upgrade stint-server")]
    TooNew { found: i64, latest: i64 },
    #[error("it holds tables but no stint_schema: not a stint-server database; point --database at an empty database")]
    Foreign,
    #[error("schema step {step} failed: {source}")]
    Step { step: usize, source: SqlError },
    #[error(transparent)]
    Sql(#[from] SqlError),
}

pub(super) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

pub(super) fn migrate(conn: &mut Conn) -> Result<(), PgSchemaError> {
    let mut tx = conn.transaction()?;
    tx.query_row(
        "SELECT pg_advisory_xact_lock(?1)::text",
        params![MIGRATION_LOCK],
        |_| Ok(()),
    )?;
    // Quiet: "already exists, skipping" on every start is no news.
    tx.batch("SET LOCAL client_min_messages = warning")?;
    tx.batch("CREATE TABLE IF NOT EXISTS stint_schema (version BIGINT NOT NULL)")?;
    let found: Option<i64> = tx
        .query_row("SELECT version FROM stint_schema", params![], |r| r.get(0))
        .optional()?;
    let found = match found {
        Some(v) => v,
        None => {
            let others: i64 = tx.query_row(
                "SELECT count(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name <> 'stint_schema'",
                params![],
                |r| r.get(0),
            )?;
            if others > 0 {
                return Err(PgSchemaError::Foreign);
            }
            tx.execute("INSERT INTO stint_schema (version) VALUES (0)", params![])?;
            0
        }
    };
    if found > latest() {
        return Err(PgSchemaError::TooNew {
            found,
            latest: latest(),
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch(step).map_err(|source| PgSchemaError::Step {
            step: i + 1,
            source,
        })?;
    }
    tx.execute("UPDATE stint_schema SET version = ?1", params![latest()])?;
    tx.commit()?;
    Ok(())
}

/// The URL without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(url: &str) -> Conn {
        Conn::postgres(postgres::Client::connect(url, postgres::NoTls).unwrap())
    }

    /// Fixture from version 1 (the SQLite schema at its version 6) through
    /// every later step: a person keeps their password and gains an empty
    /// OIDC subject, a capture keeps its file, the new tables start empty;
    /// then a newer schema and a foreign database are refused.
    #[test]
    fn version_1_with_a_person_and_a_capture_migrates_to_the_latest() {
        let Some(url) = crate::store::fresh_pg_database() else {
            println!("NOT RUN: needs STINT_TEST_POSTGRES (scripts/test.sh starts PostgreSQL)");
            return;
        };
        let mut conn = connect(&url);
        conn.batch(MIGRATIONS[0]).unwrap();
        conn.batch(
            "CREATE TABLE stint_schema (version BIGINT NOT NULL);
             INSERT INTO stint_schema (version) VALUES (1);
             INSERT INTO people (id, email, name, role, password_hash, created_ms) VALUES ('p1', 'a@x', 'A', 'owner', 'h', 1);
             INSERT INTO captures (id, device_id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, file, received_ms, public_ip) VALUES ('c1', 'd', 'screenshot', 't', 0, 'M', 1, 1, 1, 'jpeg', 's', 'd/c1.jpg', 1, '127.0.0.0');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let row: (String, Option<String>, String, i64, i64) = conn
            .query_row(
                "SELECT password_hash, oidc_subject, (SELECT file FROM captures),
                        (SELECT count(*) FROM oidc_logins), (SELECT count(*) FROM object_writes)
                 FROM people",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(row, ("h".into(), None, "d/c1.jpg".into(), 0, 0));
        let version: i64 = conn
            .query_row("SELECT version FROM stint_schema", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest());

        conn.batch(&format!(
            "UPDATE stint_schema SET version = {}",
            latest() + 1
        ))
        .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(PgSchemaError::TooNew { .. })
        ));

        let other = crate::store::fresh_pg_database().unwrap();
        let mut foreign = connect(&other);
        foreign.batch("CREATE TABLE invoices (id BIGINT)").unwrap();
        assert!(matches!(migrate(&mut foreign), Err(PgSchemaError::Foreign)));
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        for (url, shown) in [
            (
                "postgres://stint:s3cret@db:5432/stint",
                "postgres://stint:***@db:5432/stint",
            ),
            ("postgres://db/stint", "postgres://db/stint"),
            ("host=/tmp dbname=stint", "host=/tmp dbname=stint"),
        ] {
            assert_eq!(super::redacted(url), shown);
        }
    }
}
