//! Schema migrations keyed on SQLite's `user_version`: entry N upgrades version N to N+1.
//!
//! Never edit a shipped entry; append a new one and a fixture test that starts from the
//! previous schema with data in it.

use rusqlite::Connection;

/// Each step runs in its own transaction together with the `user_version` bump.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r#"
    CREATE TABLE sessions (
        id            TEXT PRIMARY KEY,
        started_ms    INTEGER NOT NULL,
        utc_offset    INTEGER NOT NULL,
        os_type       TEXT NOT NULL,
        os_version    TEXT NOT NULL,
        kernel        TEXT NOT NULL,
        hostname      TEXT NOT NULL,
        os_user       TEXT NOT NULL,
        agent_version TEXT NOT NULL,
        ip_addresses  TEXT NOT NULL -- JSON array
    );
    CREATE TABLE minutes (
        id          TEXT PRIMARY KEY,
        start_ms    INTEGER NOT NULL UNIQUE,
        utc_offset  INTEGER NOT NULL,
        seconds     INTEGER NOT NULL CHECK (seconds >= 0),
        keystrokes  INTEGER NOT NULL CHECK (keystrokes >= 0),
        clicks      INTEGER NOT NULL CHECK (clicks >= 0),
        scrolls     INTEGER NOT NULL CHECK (scrolls >= 0),
        idle        INTEGER NOT NULL CHECK (idle IN (0, 1)),
        title       TEXT,
        exe_path    TEXT,
        app         TEXT,
        session_id  TEXT NOT NULL
    );
    CREATE TABLE captures (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('screenshot', 'webcam')),
        taken_ms    INTEGER NOT NULL,
        utc_offset  INTEGER NOT NULL,
        monitor     TEXT NOT NULL,
        width       INTEGER NOT NULL,
        height      INTEGER NOT NULL,
        bytes       INTEGER NOT NULL,
        format      TEXT NOT NULL,
        file        TEXT NOT NULL UNIQUE,
        session_id  TEXT NOT NULL
    );
    CREATE INDEX captures_taken ON captures (taken_ms);
    CREATE TABLE state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 1 -> 2: upload bookkeeping. Minutes and captures leave the queue once the
    // server acknowledged them; their time is kept per local day for `status`,
    // refused records wait in dead_letter with the server's reason.
    r#"
    ALTER TABLE sessions ADD COLUMN uploaded INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE dead_letter (
        id      TEXT PRIMARY KEY,
        kind    TEXT NOT NULL CHECK (kind IN ('session', 'minute', 'capture')),
        record  TEXT NOT NULL, -- the record as JSON
        reason  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    CREATE TABLE day_totals (
        day_ms   INTEGER PRIMARY KEY, -- local midnight, epoch ms
        tracked  INTEGER NOT NULL,
        active   INTEGER NOT NULL
    );
    "#,
    // 2 -> 3: the part of the counts software injected, and minutes whose
    // counts are unknown (no input permission). Existing minutes were all
    // counted, none told injected input apart: 0, 0 and known.
    r#"
    ALTER TABLE minutes ADD COLUMN synthetic_keystrokes INTEGER NOT NULL DEFAULT 0
        CHECK (synthetic_keystrokes BETWEEN 0 AND keystrokes);
    ALTER TABLE minutes ADD COLUMN synthetic_clicks INTEGER NOT NULL DEFAULT 0
        CHECK (synthetic_clicks BETWEEN 0 AND clicks);
    ALTER TABLE minutes ADD COLUMN counts_unknown INTEGER NOT NULL DEFAULT 0
        CHECK (counts_unknown IN (0, 1));
    "#,
    // 3 -> 4: what time is for, and where in its slot a minute's seconds
    // begin. A minute names the project and task chosen
    // ('' for none: SQLite's UNIQUE treats NULLs as distinct, and a minute
    // is unique per slot and choice, so a switch splits it into one row per
    // choice). Idle spans wait here for a decision and then for upload.
    // Existing minutes: unassigned.
    r#"
    CREATE TABLE minutes_v4 (
        id          TEXT PRIMARY KEY,
        start_ms    INTEGER NOT NULL,
        utc_offset  INTEGER NOT NULL,
        seconds     INTEGER NOT NULL CHECK (seconds >= 0),
        keystrokes  INTEGER NOT NULL CHECK (keystrokes >= 0),
        clicks      INTEGER NOT NULL CHECK (clicks >= 0),
        scrolls     INTEGER NOT NULL CHECK (scrolls >= 0),
        idle        INTEGER NOT NULL CHECK (idle IN (0, 1)),
        title       TEXT,
        exe_path    TEXT,
        app         TEXT,
        session_id  TEXT NOT NULL,
        from_secs   INTEGER NOT NULL DEFAULT 0 CHECK (from_secs >= 0),
        synthetic_keystrokes INTEGER NOT NULL DEFAULT 0
            CHECK (synthetic_keystrokes BETWEEN 0 AND keystrokes),
        synthetic_clicks INTEGER NOT NULL DEFAULT 0
            CHECK (synthetic_clicks BETWEEN 0 AND clicks),
        counts_unknown INTEGER NOT NULL DEFAULT 0 CHECK (counts_unknown IN (0, 1)),
        project_id  TEXT NOT NULL DEFAULT '',
        task_id     TEXT NOT NULL DEFAULT '',
        UNIQUE (start_ms, project_id, task_id)
    );
    INSERT INTO minutes_v4 (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle,
                            title, exe_path, app, session_id, synthetic_keystrokes,
                            synthetic_clicks, counts_unknown)
        SELECT id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle,
               title, exe_path, app, session_id, synthetic_keystrokes,
               synthetic_clicks, counts_unknown FROM minutes;
    DROP TABLE minutes;
    ALTER TABLE minutes_v4 RENAME TO minutes;
    CREATE TABLE idle_spans (
        id          TEXT PRIMARY KEY,
        start_ms    INTEGER NOT NULL,
        end_ms      INTEGER NOT NULL CHECK (end_ms > start_ms),
        utc_offset  INTEGER NOT NULL,
        decision    TEXT CHECK (decision IN ('keep', 'discard')), -- NULL: pending
        auto        INTEGER NOT NULL DEFAULT 0 CHECK (auto IN (0, 1)),
        project_id  TEXT NOT NULL DEFAULT '',
        task_id     TEXT NOT NULL DEFAULT '',
        decided_ms  INTEGER
    );
    CREATE INDEX idle_spans_start ON idle_spans (start_ms);
    CREATE TABLE dead_letter_v4 (
        id      TEXT PRIMARY KEY,
        kind    TEXT NOT NULL CHECK (kind IN ('session', 'minute', 'capture', 'idle_span')),
        record  TEXT NOT NULL, -- the record as JSON
        reason  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    INSERT INTO dead_letter_v4 SELECT id, kind, record, reason, at_ms FROM dead_letter;
    DROP TABLE dead_letter;
    ALTER TABLE dead_letter_v4 RENAME TO dead_letter;
    CREATE TABLE work_totals (
        day_ms      INTEGER NOT NULL, -- local midnight, epoch ms
        project_id  TEXT NOT NULL,
        task_id     TEXT NOT NULL,
        tracked     INTEGER NOT NULL,
        PRIMARY KEY (day_ms, project_id, task_id)
    );
    "#,
    // 4 -> 5: what privacy rules did to a minute (the rule's label, never
    // the original title).
    r#"
    ALTER TABLE minutes ADD COLUMN privacy_rule TEXT;
    ALTER TABLE minutes ADD COLUMN screenshot_skipped TEXT;
    "#,
    // 5 -> 6: private time (the open span, end_ms NULL, is the state), and
    // a place for one the server refuses.
    r#"
    CREATE TABLE private_spans (
        id          TEXT PRIMARY KEY,
        start_ms    INTEGER NOT NULL,
        until_ms    INTEGER,          -- NULL: until tracking stops
        end_ms      INTEGER CHECK (end_ms > start_ms), -- NULL: under way
        utc_offset  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX private_spans_open ON private_spans ((end_ms IS NULL)) WHERE end_ms IS NULL;
    CREATE TABLE dead_letter_v6 (
        id      TEXT PRIMARY KEY,
        kind    TEXT NOT NULL
                CHECK (kind IN ('session', 'minute', 'capture', 'idle_span', 'private_span')),
        record  TEXT NOT NULL,
        reason  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    INSERT INTO dead_letter_v6 SELECT id, kind, record, reason, at_ms FROM dead_letter;
    DROP TABLE dead_letter;
    ALTER TABLE dead_letter_v6 RENAME TO dead_letter;
    "#,
    // 6 -> 7: captures sealed on the device to their viewers' keys.
    r#"
    ALTER TABLE captures ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1));
    "#,
];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub use stint_common::migrate::MigrationError;

/// The queue's schema as the shared runner sees it.
const SCHEMA: stint_common::migrate::Schema = stint_common::migrate::Schema {
    what: "stint queue",
    steps: MIGRATIONS,
    newer_hint: "upgrade stint or restore an older database",
    foreign_hint: "move it out of the way and stint starts a fresh one",
};

/// Brings the database to [`LATEST`], one committed step at a time, so a crash
/// mid-upgrade resumes from the last completed step.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrationError> {
    let found = stint_common::migrate::migrate(conn, &SCHEMA)?;
    if found < LATEST {
        tracing::info!(from = found, to = LATEST, "migrated queue schema");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stint_common::migrate::version;

    /// Fixture for 0 -> 1: a brand-new file.
    #[test]
    fn empty_database_migrates_to_latest() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        // Idempotent: a second run is a no-op.
        migrate(&mut conn).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 9);
    }

    /// Fixture for 1 -> 2: a version-1 queue with a session, a minute and a
    /// capture keeps them, and the session starts as not yet uploaded.
    #[test]
    fn version_1_with_data_migrates_to_2() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO sessions VALUES ('s1', 0, 0, 'Linux', '12', '6.1', 'h', 'u', '0.1', '[]');
             INSERT INTO minutes VALUES ('m1', 60000, 0, 60, 5, 1, 0, 0, 't', '/bin/x', 'x', 's1');
             INSERT INTO captures VALUES ('c1', 'screenshot', 1000, 0, 'M', 10, 10, 99, 'jpeg', 'c1.jpg', 's1');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let row: (i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT uploaded FROM sessions), (SELECT keystrokes FROM minutes), (SELECT bytes FROM captures)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, (0, 5, 99));
    }

    /// Fixture for 2 -> 3: a version-2 queue's minute keeps its counts, reads
    /// as counted with nothing injected, and the new columns refuse a
    /// synthetic part larger than the whole.
    #[test]
    fn version_2_with_data_migrates_to_3() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, step) in MIGRATIONS[..2].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.pragma_update(None, "user_version", i + 1).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO minutes VALUES ('m1', 60000, 0, 60, 5, 2, 1, 0, 't', '/bin/x', 'x', 's1');
             INSERT INTO dead_letter VALUES ('m0', 'minute', '{}', 'bad', 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let row: (i64, i64, i64, i64, i64) = conn
            .query_row(
                "SELECT keystrokes, clicks, synthetic_keystrokes, synthetic_clicks, counts_unknown FROM minutes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(row, (5, 2, 0, 0, 0));
        conn.execute("UPDATE minutes SET synthetic_keystrokes = 5", [])
            .unwrap();
        let too_many = conn.execute("UPDATE minutes SET synthetic_clicks = 3", []);
        assert!(too_many.is_err(), "3 of 2 clicks injected");
    }

    /// Fixture for 3 -> 4: a version-3 minute keeps every field and reads as
    /// unassigned; afterwards one slot holds one row per project choice.
    #[test]
    fn version_3_with_data_migrates_to_4() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, step) in MIGRATIONS[..3].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.pragma_update(None, "user_version", i + 1).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO minutes VALUES ('m1', 60000, 0, 60, 5, 2, 1, 0, 't', '/bin/x', 'x', 's1', 3, 1, 0);
             INSERT INTO dead_letter VALUES ('m0', 'minute', '{}', 'bad', 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let row: (i64, i64, i64, String, String, String) = conn
            .query_row(
                "SELECT keystrokes, synthetic_keystrokes, synthetic_clicks, title, project_id, task_id FROM minutes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
        assert_eq!(row, (5, 3, 1, "t".into(), String::new(), String::new()));
        conn.execute(
            "INSERT INTO minutes (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, project_id)
             VALUES ('m2', 60000, 0, 20, 0, 0, 0, 0, 's1', 'p1')",
            [],
        )
        .expect("a second choice in the same slot");
        let again = conn.execute(
            "INSERT INTO minutes (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, project_id)
             VALUES ('m3', 60000, 0, 20, 0, 0, 0, 0, 's1', 'p1')",
            [],
        );
        assert!(again.is_err(), "one row per slot and choice");
        let kept: String = conn
            .query_row("SELECT reason FROM dead_letter WHERE id = 'm0'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, "bad");
        conn.execute(
            "INSERT INTO dead_letter VALUES ('i1', 'idle_span', '{}', 'bad', 1)",
            [],
        )
        .expect("refused idle spans have a place too");
    }

    /// Fixture for 4 -> 5: a version-4 minute keeps every field and reads
    /// as changed by no rule.
    #[test]
    fn version_4_with_data_migrates_to_5() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, step) in MIGRATIONS[..4].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.pragma_update(None, "user_version", i + 1).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO minutes (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, session_id, project_id)
             VALUES ('m1', 60000, 0, 60, 5, 2, 1, 0, 't', 's1', 'p1');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let row: (i64, String, String, Option<String>, Option<String>) = conn
            .query_row(
                "SELECT keystrokes, title, project_id, privacy_rule, screenshot_skipped FROM minutes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(row, (5, "t".into(), "p1".into(), None, None));
    }

    /// Fixture for 5 -> 6: dead letters stay, private time has a table
    /// that holds one open span at most, and refused spans have a place.
    #[test]
    fn version_5_with_data_migrates_to_6() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, step) in MIGRATIONS[..5].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.pragma_update(None, "user_version", i + 1).unwrap();
        }
        conn.execute_batch("INSERT INTO dead_letter VALUES ('i0', 'idle_span', '{}', 'bad', 1);")
            .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let kept: String = conn
            .query_row("SELECT reason FROM dead_letter WHERE id = 'i0'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, "bad");
        conn.execute_batch(
            "INSERT INTO dead_letter VALUES ('p0', 'private_span', '{}', 'bad', 1);
             INSERT INTO private_spans (id, start_ms, utc_offset) VALUES ('p1', 1000, 0);",
        )
        .unwrap();
        let second = conn.execute(
            "INSERT INTO private_spans (id, start_ms, utc_offset) VALUES ('p2', 2000, 0)",
            [],
        );
        assert!(second.is_err(), "one span under way at most");
    }

    /// Fixture for 6 -> 7: a capture stays, as a plain image.
    #[test]
    fn version_6_with_a_capture_migrates_to_7() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, step) in MIGRATIONS[..6].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.pragma_update(None, "user_version", i + 1).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO captures (id, kind, taken_ms, utc_offset, monitor, width, height, bytes, format, file, session_id)
             VALUES ('c1', 'screenshot', 1000, 0, 'M', 10, 10, 99, 'webp', 'c1.webp', 's1');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let row: (i64, bool) = conn
            .query_row("SELECT bytes, sealed FROM captures", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(row, (99, false));
    }

    /// Another program's database where the queue should be: one sentence,
    /// no SQL.
    #[test]
    fn a_foreign_database_is_refused_in_words_not_sql() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE sessions (whatever TEXT);")
            .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(
            err.contains("not a stint queue") && err.contains("already exists"),
            "{err}"
        );
        assert!(!err.contains("CREATE TABLE"), "{err}");
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(
            err.contains("stint queue schema version") && err.contains("upgrade stint"),
            "{err}"
        );
    }
}
