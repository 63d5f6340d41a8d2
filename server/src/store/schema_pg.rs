//! The PostgreSQL schema: its own append-only steps (version 1 is the
//! SQLite schema at its version 6; SQLite's later steps follow one for
//! one), run by stint-common's migration runner like SQLite's, under an
//! advisory lock so replicas starting together migrate once.

use super::sql::{params, Conn, SqlError};
use stint_common::migrate::MigrationError;

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
    r#"
ALTER TABLE login_failures ADD COLUMN last_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE login_failures ADD COLUMN attempt TEXT NOT NULL DEFAULT '';
"#,
    super::schema::WORK_STEP,
    super::schema::WORK_HOURS_STEP,
    super::schema::OFFLINE_STEP,
    super::schema::PERIODS_STEP,
    super::schema::API_TOKENS_STEP,
    super::schema::WEBHOOKS_STEP,
    super::schema::PRIVACY_STEP,
    super::schema::PRIVATE_TIME_STEP,
    super::schema::SEALED_STEP,
];

/// Any fixed number: replicas serialise their migrations on it.
const MIGRATION_LOCK: i64 = 0x5717_0001;

pub(super) const SCHEMA: stint_common::migrate::Schema = stint_common::migrate::Schema {
    what: "stint-server database",
    steps: MIGRATIONS,
    newer_hint: "upgrade stint-server",
    foreign_hint: "point --database at an empty database or the server's own",
};

/// Migrates under a session advisory lock, so replicas starting together
/// migrate once: the others wait, then find nothing left to do.
pub(super) fn migrate(conn: &mut Conn) -> Result<(), MigrationError> {
    let engine = |e: SqlError| MigrationError::Engine(Box::new(e));
    conn.query_row(
        "SELECT pg_advisory_lock(?1)::text",
        params![MIGRATION_LOCK],
        |_| Ok(()),
    )
    .map_err(engine)?;
    let done = stint_common::migrate::migrate(conn, &SCHEMA).map(drop);
    // A lock left behind ends with the connection in any case.
    let _ = conn.query_row(
        "SELECT pg_advisory_unlock(?1)::text",
        params![MIGRATION_LOCK],
        |_| Ok(()),
    );
    done
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
        Conn::connect_postgres(url).unwrap()
    }

    /// Fixture from version 1 (the SQLite schema at its version 6) through
    /// every later step: a person keeps their password and gains an empty
    /// OIDC subject, a capture keeps its file, the new tables start empty,
    /// a minute's hour is stale;
    /// then a newer schema and a foreign database are refused.
    #[test]
    fn version_1_with_a_person_and_a_capture_migrates_to_the_latest() {
        let Some(url) = crate::store::fresh_pg_database() else {
            crate::store::not_run(
                "schema_pg::version_1_with_a_person_and_a_capture_migrates_to_the_latest",
                "needs STINT_TEST_POSTGRES (scripts/test.sh starts PostgreSQL)",
            );
            return;
        };
        let mut conn = connect(&url);
        conn.batch(MIGRATIONS[0]).unwrap();
        conn.batch(
            "CREATE TABLE stint_schema (version BIGINT NOT NULL);
             INSERT INTO stint_schema (version) VALUES (1);
             INSERT INTO people (id, email, name, role, password_hash, created_ms) VALUES ('p1', 'a@x', 'A', 'owner', 'h', 1);
             INSERT INTO captures (id, device_id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, file, received_ms, public_ip) VALUES ('c1', 'd', 'screenshot', 't', 0, 'M', 1, 1, 1, 'jpeg', 's', 'd/c1.jpg', 1, '127.0.0.0');
             INSERT INTO devices (id, token_hash, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip, person_id) VALUES ('d', 'h', 'pc', 'Linux', '12', 'u', '0.1', 1, 1, '127.0.0.0', 'p1');
             INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, received_ms, public_ip) VALUES ('m1', 'd', '2026-11-01T10:00:00Z', 0, 60, 7, 3, 1, 0, 's', 1, '127.0.0.1');",
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
        let minute: (i64, Option<String>, i64) = conn
            .query_row(
                "SELECT keystrokes, project_id, (SELECT count(*) FROM projects) FROM minutes",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(minute, (7, None, 0), "an older minute is unassigned");
        let stale: (String, String, i64) = conn
            .query_row(
                "SELECT person_id, hour, gen FROM work_hours_stale",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            stale,
            ("p1".into(), "2026-11-01T10".into(), 1),
            "an older minute's hour is summed before it is read"
        );
        let version: i64 = conn
            .query_row("SELECT version FROM stint_schema", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA.latest());

        conn.batch(&format!(
            "UPDATE stint_schema SET version = {}",
            SCHEMA.latest() + 1
        ))
        .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(MigrationError::TooNew { .. })
        ));

        let other = crate::store::fresh_pg_database().unwrap();
        let mut foreign = connect(&other);
        foreign.batch("CREATE TABLE invoices (id BIGINT)").unwrap();
        let refused = migrate(&mut foreign).unwrap_err();
        assert!(
            matches!(refused, MigrationError::Foreign { .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("empty database"), "{refused}");
    }

    /// The tables and columns of both engines' latest schemas, but for
    /// PostgreSQL's version table and the `rowid` SQLite gives every table
    /// without naming it (view_audit's, which PostgreSQL spells out).
    fn tables(conn: &mut Conn, sql: &str) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (table, column) in conn
            .query_map(sql, params![], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?))
            })
            .unwrap()
        {
            if table != "stint_schema" && column != "rowid" {
                out.entry(table).or_default().push(column);
            }
        }
        for columns in out.values_mut() {
            columns.sort();
        }
        out
    }

    #[test]
    fn both_engines_have_the_same_tables_and_columns() {
        let Some(url) = crate::store::fresh_pg_database() else {
            crate::store::not_run(
                "schema_pg::both_engines_have_the_same_tables_and_columns",
                "needs STINT_TEST_POSTGRES (scripts/test.sh starts PostgreSQL)",
            );
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut lite = Conn::open_sqlite(&dir.path().join("s.db")).unwrap();
        super::super::schema::migrate(&mut lite).unwrap();
        let mut pg = connect(&url);
        migrate(&mut pg).unwrap();
        let sqlite = tables(
            &mut lite,
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        );
        let postgres = tables(
            &mut pg,
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema()",
        );
        assert!(sqlite.len() >= 15, "{sqlite:?}");
        assert_eq!(sqlite, postgres);
        assert_eq!(
            super::super::schema::SCHEMA.latest(),
            SCHEMA.latest() + 5,
            "PostgreSQL's step 1 is SQLite's steps 1 to 6"
        );
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
