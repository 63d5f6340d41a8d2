//! Each migration step of the embedded database from a fixture of the
//! schema before it, and a newer schema refused.

use super::*;
use rusqlite::Connection;

/// A database as the first `n` migrations left it.
fn at_version(n: usize) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    for (i, step) in MIGRATIONS[..n].iter().enumerate() {
        conn.execute_batch(step).unwrap();
        conn.pragma_update(None, "user_version", i + 1).unwrap();
    }
    conn
}

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
    migrate(&mut conn).unwrap();
    let row: (i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT keystrokes, clicks, synthetic_keystrokes, synthetic_clicks, counts_unknown FROM minutes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(row, (7, 3, 0, 0, 0));
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA.latest());
}

/// Fixture for 2 -> 3: a token created by a version-2 server keeps
/// working, with no expiry and no use limit.
#[test]
fn version_2_with_a_token_migrates_to_3() {
    let mut conn = at_version(2);
    conn.execute(
        "INSERT INTO enroll_tokens (hash, label, created_ms) VALUES ('h', 'fleet', 1)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, Option<i64>, Option<i64>, i64) = conn
        .query_row(
            "SELECT label, expires_ms, max_uses, uses FROM enroll_tokens",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, ("fleet".into(), None, None, 0));
}

/// Fixture for 3 -> 4: a device enrolled before people existed stays,
/// bound to nobody.
#[test]
fn version_3_with_a_device_migrates_to_4() {
    let mut conn = at_version(3);
    conn.execute(
        "INSERT INTO devices (id, token_hash, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip)
         VALUES ('d1', 'h', 'pc', 'Linux', '12', 'u', '0.1', 1, 1, '127.0.0.0')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, Option<String>) = conn
        .query_row("SELECT hostname, person_id FROM devices", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(row, ("pc".into(), None));
}

/// Fixture for 4 -> 5: a version-4 database keeps its people and gains
/// an empty tombstone list.
#[test]
fn version_4_with_a_person_migrates_to_5() {
    let mut conn = at_version(4);
    conn.execute(
        "INSERT INTO people (id, email, name, role, created_ms) VALUES ('p1', 'a@x', 'A', 'owner', 1)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT email FROM people), (SELECT count(*) FROM tombstones)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("a@x".into(), 0));
}

/// Fixture for 5 -> 6: a version-5 database keeps its tombstones and
/// gains the (empty) lease table for jobs that run once per fleet.
#[test]
fn version_5_with_a_tombstone_migrates_to_6() {
    let mut conn = at_version(5);
    conn.execute(
        "INSERT INTO tombstones (id, kind, deleted_ms, deleted_by, reason) VALUES ('m1', 'minute', 1, 'a@x', 'r')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT id FROM tombstones), (SELECT count(*) FROM leases)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("m1".into(), 0));
}

/// Fixture for 7 -> 8: captures stay, and the journal of objects in
/// doubt starts empty.
#[test]
fn version_7_with_a_capture_migrates_to_8() {
    let mut conn = at_version(7);
    conn.execute(
        "INSERT INTO captures (id, device_id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, file, received_ms, public_ip) VALUES ('c1', 'd', 'screenshot', 't', 0, 'M', 1, 1, 1, 'jpeg', 's', 'd/c1.jpg', 1, '127.0.0.0')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT file FROM captures), (SELECT count(*) FROM object_writes)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("d/c1.jpg".into(), 0));
}

/// Fixture for 6 -> 7: people keep their passwords and gain an empty
/// OIDC subject.
#[test]
fn version_6_with_a_person_migrates_to_7() {
    let mut conn = at_version(6);
    conn.execute(
        "INSERT INTO people (id, email, name, role, password_hash, created_ms) VALUES ('p1', 'a@x', 'A', 'owner', 'h', 1)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, Option<String>, i64) = conn
        .query_row(
            "SELECT password_hash, oidc_subject, (SELECT count(*) FROM oidc_logins) FROM people",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, ("h".into(), None, 0));
}

/// Fixture for 8 -> 9: a lock in force stays in force; its failures,
/// last counted "long ago", are forgiven by the decay.
#[test]
fn version_8_with_a_login_failure_migrates_to_9() {
    let mut conn = at_version(8);
    conn.execute(
        "INSERT INTO login_failures (key, failures, locked_until_ms) VALUES ('account:a@x', 7, 99)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (i64, i64, i64, String) = conn
        .query_row(
            "SELECT failures, locked_until_ms, last_ms, attempt FROM login_failures",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, (7, 99, 0, String::new()));
}

/// Fixture for 9 -> 10: a stored minute reads as unassigned, and the
/// work tables start empty and take a project with its task.
#[test]
fn version_9_with_a_minute_migrates_to_10() {
    let mut conn = at_version(9);
    conn.execute(
        "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, received_ms, public_ip)
         VALUES ('m1', 'd1', '2026-11-01T10:00:00Z', 0, 60, 7, 3, 1, 0, 's1', 1, '127.0.0.1')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (i64, Option<String>, Option<String>, i64) = conn
        .query_row(
            "SELECT keystrokes, project_id, task_id, (SELECT count(*) FROM projects) FROM minutes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, (7, None, None, 0));
    conn.execute_batch(
        "INSERT INTO projects (id, name, created_ms) VALUES ('p1', 'Website', 1);
         INSERT INTO tasks (id, project_id, name) VALUES ('t1', 'p1', 'Design');
         INSERT INTO project_members (project_id, person_id, role) VALUES ('p1', 'x', 'lead');",
    )
    .unwrap();
    let dup = conn.execute(
        "INSERT INTO tasks (id, project_id, name) VALUES ('t2', 'p1', 'Design')",
        [],
    );
    assert!(dup.is_err(), "task names are unique within a project");
}

/// Fixture for 10 -> 11: a bound device's minutes leave their hours
/// stale (summed before any report reads them), an unbound one's none.
#[test]
fn version_10_with_minutes_migrates_to_11() {
    let mut conn = at_version(10);
    conn.execute_batch(
        "INSERT INTO devices (id, token_hash, hostname, os_type, os_version, os_user, agent_version, enrolled_ms, last_seen_ms, last_ip, person_id)
         VALUES ('d1', 'h1', 'pc', 'Linux', '12', 'u', '0.1', 1, 1, '127.0.0.0', 'p1'),
                ('d2', 'h2', 'pc', 'Linux', '12', 'u', '0.1', 1, 1, '127.0.0.0', NULL);
         INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, received_ms, public_ip)
         VALUES ('m1', 'd1', '2026-11-01T10:00:00Z', 0, 60, 7, 3, 1, 0, 's1', 1, '127.0.0.1'),
                ('m2', 'd1', '2026-11-01T10:59:00Z', 0, 60, 7, 3, 1, 0, 's1', 1, '127.0.0.1'),
                ('m3', 'd1', '2026-11-01T11:00:00Z', 0, 60, 7, 3, 1, 0, 's1', 1, '127.0.0.1'),
                ('m4', 'd2', '2026-11-01T12:00:00Z', 0, 60, 7, 3, 1, 0, 's1', 1, '127.0.0.1');",
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let mut stmt = conn
        .prepare("SELECT person_id, hour, gen FROM work_hours_stale ORDER BY hour")
        .unwrap();
    let rows: Vec<(String, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want = |h: &str| ("p1".to_string(), h.to_string(), 1);
    assert_eq!(rows, [want("2026-11-01T10"), want("2026-11-01T11")]);
}

/// Fixture for 11 -> 12: the hour sums stay, and offline time starts
/// empty and takes a request.
#[test]
fn version_11_with_hour_sums_migrates_to_12() {
    let mut conn = at_version(11);
    conn.execute(
        "INSERT INTO work_hours (person_id, hour, project_id, task_id, tracked, active, idle, idle_kept, discarded)
         VALUES ('p1', '2026-11-01T10', '', '', 60, 60, 0, 0, 0)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (i64, i64) = conn
        .query_row(
            "SELECT (SELECT tracked FROM work_hours), (SELECT count(*) FROM offline_time)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, (60, 0));
    conn.execute(
        "INSERT INTO offline_time (id, person_id, from_ms, to_ms, reason, state, requested_ms)
         VALUES ('o1', 'p1', 0, 60000, 'meeting', 'pending', 1)",
        [],
    )
    .unwrap();
    let bad = conn.execute(
        "INSERT INTO offline_time (id, person_id, from_ms, to_ms, reason, state, requested_ms)
         VALUES ('o2', 'p1', 0, 60000, 'meeting', 'maybe', 1)",
        [],
    );
    assert!(bad.is_err(), "a state is one of three");
}

/// Fixture for 12 -> 13: offline time stays, and periods start open (no
/// rows) and take one.
#[test]
fn version_12_with_offline_time_migrates_to_13() {
    let mut conn = at_version(12);
    conn.execute(
        "INSERT INTO offline_time (id, person_id, from_ms, to_ms, reason, state, requested_ms)
         VALUES ('o1', 'p1', 0, 60000, 'meeting', 'approved', 1)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT state FROM offline_time), (SELECT count(*) FROM periods)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("approved".into(), 0));
    conn.execute(
        "INSERT INTO periods (person_id, first_day, last_day, state, changed_ms) VALUES ('p1', '2026-11-30', '2026-12-06', 'submitted', 1)",
        [],
    )
    .unwrap();
}

/// Fixture for 13 -> 14: periods stay, and there are no API tokens yet.
#[test]
fn version_13_with_a_period_migrates_to_14() {
    let mut conn = at_version(13);
    conn.execute(
        "INSERT INTO periods (person_id, first_day, last_day, state, changed_ms) VALUES ('p1', '2026-11-30', '2026-12-06', 'approved', 1)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT state FROM periods), (SELECT count(*) FROM api_tokens)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("approved".into(), 0));
}

/// Fixture for 14 -> 15: API tokens stay, and no webhook is registered.
#[test]
fn version_14_with_a_token_migrates_to_15() {
    let mut conn = at_version(14);
    conn.execute(
        "INSERT INTO api_tokens (hash, person_id, label, created_ms, expires_ms) VALUES ('h', 'p1', 'payroll', 1, 2)",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT label FROM api_tokens), (SELECT count(*) FROM webhooks)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("payroll".into(), 0));
}

/// Fixture for 15 -> 16: a minute keeps its title and reads as changed by
/// no privacy rule.
#[test]
fn version_15_with_a_minute_migrates_to_16() {
    let mut conn = at_version(15);
    conn.execute(
        "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, session_id, received_ms, public_ip)
         VALUES ('m1', 'd1', '2026-12-01T10:00:00Z', 0, 60, 5, 1, 0, 0, 'notes', 's1', 1, '')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT title, privacy_rule, screenshot_skipped FROM minutes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, ("notes".into(), None, None));
}

/// Fixture for 16 -> 17: minutes stay, private time has its table.
#[test]
fn version_16_with_a_minute_migrates_to_17() {
    let mut conn = at_version(16);
    conn.execute(
        "INSERT INTO minutes (id, device_id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, session_id, received_ms, public_ip, privacy_rule)
         VALUES ('m1', 'd1', '2026-12-01T10:00:00Z', 0, 60, 5, 1, 0, 0, 's1', 1, '', 'Vault')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (String, i64) = conn
        .query_row(
            "SELECT (SELECT privacy_rule FROM minutes), (SELECT count(*) FROM private_spans)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row, ("Vault".into(), 0));
}

/// Fixture for 17 -> 18: a capture stays a plain one, keys have a table.
#[test]
fn version_17_with_a_capture_migrates_to_18() {
    let mut conn = at_version(17);
    conn.execute(
        "INSERT INTO captures (id, device_id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, file, received_ms, public_ip)
         VALUES ('c1', 'd1', 'screenshot', '2026-12-01T10:00:00Z', 0, 'M', 10, 10, 99, 'webp', 's1', 'd1/c1.webp', 1, '')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let row: (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT bytes FROM captures), (SELECT sealed FROM captures), (SELECT count(*) FROM person_keys)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, (99, 0, 0));
}

#[test]
fn a_newer_schema_is_refused() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "user_version", SCHEMA.latest() + 1)
        .unwrap();
    let e = migrate(&mut conn).unwrap_err().to_string();
    assert!(e.contains("upgrade stint-server"), "{e}");
}
