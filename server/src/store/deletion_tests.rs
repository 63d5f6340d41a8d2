//! Deletion and retention on a real database and image directory, with the
//! clock passed in.

use super::*;
use crate::access::Role;

const T0: &str = "2026-11-29T10:00:00Z";

fn t0() -> i64 {
    chrono::DateTime::parse_from_rfc3339(T0)
        .unwrap()
        .timestamp_millis()
}

/// A store with Max's device and, per (minute offset, kind), a minute or a
/// capture at T0 + offset.
fn setup(records: &[(i64, &str)]) -> (tempfile::TempDir, Store, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    let max = store
        .add_person("max@x", "Max", "UTC", Role::Member)
        .unwrap();
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    for (i, (offset_min, kind)) in records.iter().enumerate() {
        let at = rfc3339(t0() + offset_min * 60_000);
        let id = format!("0190c0de-0000-7000-8000-{i:012}");
        if *kind == "minute" {
            let m: stint_proto::MinuteRecord = serde_json::from_value(serde_json::json!({
                "id": id, "start": at, "utc_offset": 0, "seconds": 60, "keystrokes": 1,
                "clicks": 0, "scrolls": 0, "idle": false, "session_id": "s"
            }))
            .unwrap();
            let batch = stint_proto::MinuteBatch {
                sessions: vec![],
                minutes: vec![m],
            };
            store.upsert_batch(&device, &batch, "127.0.0.0").unwrap();
        } else {
            let meta: stint_proto::CaptureMeta = serde_json::from_value(serde_json::json!({
                "kind": kind, "taken_at": at, "utc_offset": 0, "monitor": "M",
                "width": 1, "height": 1, "format": "webp", "session_id": "s"
            }))
            .unwrap();
            store
                .upsert_capture(&device, &id, &meta, b"img", "127.0.0.0")
                .unwrap();
        }
    }
    (dir, store, max.id, device)
}

fn count(store: &Store, table: &str) -> i64 {
    store
        .conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
            r.get(0)
        })
        .unwrap()
}

fn files(dir: &std::path::Path) -> usize {
    walk(&dir.join("captures"))
}

fn walk(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_deleted_range_leaves_tombstones_and_a_reupload_is_dropped() {
    let (dir, store, max, device) = setup(&[
        (0, "minute"),
        (1, "minute"),
        (3, "screenshot"),
        (12, "minute"),
        (13, "screenshot"),
    ]);
    assert_eq!(files(dir.path()), 2);
    let gone = store
        .delete_range(&max, t0(), t0() + 600_000, "olga@x", "private call")
        .unwrap();
    assert_eq!((gone.minutes, gone.captures), (2, 1));
    assert_eq!(
        (count(&store, "minutes"), count(&store, "captures")),
        (1, 1)
    );
    assert_eq!(files(dir.path()), 1, "the image file went with its row");
    let reason: String = store
        .conn()
        .query_row(
            "SELECT deleted_by || ': ' || reason FROM tombstones LIMIT 1",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "olga@x: private call");
    let seen = store.deletions_of(&max).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (
            seen[0].by.as_str(),
            seen[0].reason.as_str(),
            seen[0].minutes,
            seen[0].captures
        ),
        ("olga@x", "private call", 2, 1)
    );

    // The agent sends a deleted minute and image again: done, nothing stored.
    let m: stint_proto::MinuteRecord = serde_json::from_value(serde_json::json!({
        "id": "0190c0de-0000-7000-8000-000000000000", "start": T0, "utc_offset": 0,
        "seconds": 60, "keystrokes": 1, "clicks": 0, "scrolls": 0, "idle": false, "session_id": "s"
    }))
    .unwrap();
    let batch = stint_proto::MinuteBatch {
        sessions: vec![],
        minutes: vec![m],
    };
    assert_eq!(
        store.upsert_batch(&device, &batch, "127.0.0.0").unwrap(),
        (0, 1)
    );
    let meta: stint_proto::CaptureMeta = serde_json::from_value(serde_json::json!({
        "kind": "screenshot", "taken_at": T0, "utc_offset": 0, "monitor": "M",
        "width": 1, "height": 1, "format": "webp", "session_id": "s"
    }))
    .unwrap();
    let id = "0190c0de-0000-7000-8000-000000000002";
    assert!(!store
        .upsert_capture(&device, id, &meta, b"img", "127.0.0.0")
        .unwrap());
    assert_eq!(
        (count(&store, "minutes"), count(&store, "captures")),
        (1, 1)
    );
    assert_eq!(files(dir.path()), 1);
}

#[test]
fn everything_of_a_person_goes_at_once() {
    let (dir, store, max, _) = setup(&[(0, "minute"), (500, "minute"), (9000, "screenshot")]);
    let gone = store.delete_all(&max, "olga@x", "left").unwrap();
    assert_eq!((gone.minutes, gone.captures), (2, 1));
    assert_eq!(
        (count(&store, "minutes"), count(&store, "captures")),
        (0, 0)
    );
    assert_eq!(files(dir.path()), 0);
}

#[test]
fn retention_expires_each_kind_after_its_days_on_a_fake_clock() {
    let (dir, store, _, _) = setup(&[(0, "minute"), (1, "screenshot"), (2, "webcam")]);
    let day = 86_400_000;
    assert_eq!(
        store.retention().unwrap(),
        Retention::default(),
        "screenshots 45 days by default"
    );
    store
        .set_retention(&Retention {
            screenshots_days: Some(45),
            webcam_days: Some(7),
            minutes_days: Some(365),
            audit_days: Some(30),
        })
        .unwrap();
    for (days_later, want_minutes, want_captures) in [(6, 1, 2), (8, 1, 1), (46, 1, 0), (366, 0, 0)]
    {
        store.apply_retention(t0() + days_later * day).unwrap();
        assert_eq!(
            (count(&store, "minutes"), count(&store, "captures")),
            (want_minutes, want_captures),
            "{days_later} days later"
        );
    }
    assert_eq!(files(dir.path()), 0);
    assert_eq!(count(&store, "tombstones"), 3);
}
