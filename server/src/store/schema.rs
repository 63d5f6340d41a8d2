//! The server database's schema, migrated step by step on `user_version`.

use rusqlite::Connection;

/// Schema steps keyed on `user_version`; entry N upgrades version N to N+1.
/// Append only, each with a fixture test from the previous schema.
pub(super) const MIGRATIONS: &[&str] = &[
    // 0 -> 1: devices, tokens, records, settings.
    r#"
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
"#,
    // 1 -> 2: the part of the counts software injected, and minutes whose
    // counts the agent could not take. Minutes of older agents: 0, 0, known.
    r#"
ALTER TABLE minutes ADD COLUMN synthetic_keystrokes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE minutes ADD COLUMN synthetic_clicks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE minutes ADD COLUMN counts_unknown INTEGER NOT NULL DEFAULT 0;
"#,
];

pub(super) const LATEST: usize = MIGRATIONS.len();

/// Brings the database to [`LATEST`], one committed step at a time; refuses a
/// database a newer server wrote, rather than misreading it.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<(), usize>> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > LATEST {
        return Ok(Err(version));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixture for 1 -> 2: a minute stored by a version-1 server keeps its
    /// counts and reads as counted, with nothing injected.
    #[test]
    fn version_1_with_a_minute_migrates_to_2() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, received_ms, public_ip)
             VALUES ('m1', 'd1', '2026-11-01T10:00:00Z', 0, 60, 7, 3, 1, 0, 's1', 1, '127.0.0.1')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap().unwrap();
        let row: (i64, i64, i64, i64, i64) = conn
            .query_row(
                "SELECT keystrokes, clicks, synthetic_keystrokes, synthetic_clicks, counts_unknown FROM minutes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(row, (7, 3, 0, 0, 0));
        let v: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Err(LATEST + 1));
    }
}
