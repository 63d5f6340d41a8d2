//! Deletion and retention on a real database and image directory, with the
//! clock passed in.

use super::*;
use crate::access::{Action, Role};
use crate::store::Whose;

const T0: &str = "2026-11-29T10:00:00Z";

fn t0() -> i64 {
    chrono::DateTime::parse_from_rfc3339(T0)
        .unwrap()
        .timestamp_millis()
}

/// A store with Max's device and, per (minute offset, kind), a minute or a
/// capture at T0 + offset.
fn setup(records: &[(i64, &str)]) -> (tempfile::TempDir, Store, String, String) {
    setup_at(t0(), records)
}

/// Like `setup`, with the offsets counted from `base`.
fn setup_at(base: i64, records: &[(i64, &str)]) -> (tempfile::TempDir, Store, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    let max = store
        .add_person("max@x", "Max", "UTC", Role::Member)
        .unwrap();
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    for (i, (offset_min, kind)) in records.iter().enumerate() {
        let at = rfc3339(base + offset_min * 60_000);
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
                idle_spans: vec![],
                private_spans: vec![],
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
    let olga = store
        .add_person("olga@x", "Olga", "UTC", Role::Owner)
        .unwrap();
    let grant = store
        .grant(&olga, Whose::Person(&max), Action::DeleteOld, "")
        .unwrap();
    let gone = store
        .delete_range(&grant, t0(), t0() + 600_000, "private call")
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
    assert_eq!(reason, "Olga <olga@x>: private call");
    let seen = store
        .deletions_of(&store.host_grant(Whose::Person(&max), Action::ViewAudit))
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (
            seen[0].by.as_str(),
            seen[0].reason.as_str(),
            seen[0].minutes,
            seen[0].captures
        ),
        ("Olga <olga@x>", "private call", 2, 1)
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
        idle_spans: vec![],
        private_spans: vec![],
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
    let grant = store.host_grant(Whose::Person(&max), Action::DeleteAll);
    let gone = store.delete_all(&grant, "left").unwrap();
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

/// The deletion window is checked against every record found, not the range
/// asked for: Max deletes his segment of an hour ago, but a range whose end
/// is recent enough and which reaches back to a segment that ended more than
/// a day ago deletes nothing, and says why.
#[test]
fn a_person_deletes_only_recent_records_whatever_range_they_ask_for() {
    let (seg, hour, day) = (600_000, 3_600_000, 86_400_000);
    let now = now_ms();
    let old = (now - 2 * day + 3 * hour).div_euclid(seg) * seg;
    let recent = (now - hour).div_euclid(seg) * seg;
    let (_dir, store, max, _) =
        setup_at(old, &[(0, "minute"), ((recent - old) / 60_000, "minute")]);
    let me = store.person(&max).unwrap().unwrap();
    let grant = store
        .grant(&me, Whose::Person(&max), Action::DeleteRecent, "")
        .unwrap();
    // What the form's own end would have allowed: it ends less than a day ago.
    let to = old + day - hour;
    assert_eq!(crate::access::deletion(to, now, 0), Action::DeleteRecent);
    let refused = store.delete_range(&grant, old, to, "mine").unwrap_err();
    assert!(
        matches!(&refused, StoreError::Denied(why) if why.contains("past the window")),
        "{refused}"
    );
    assert_eq!(count(&store, "minutes"), 2, "nothing deleted");
    let gone = store
        .delete_range(&grant, recent, recent + seg, "mine")
        .unwrap();
    assert_eq!(gone.minutes, 1);
    assert!(
        matches!(
            store.delete_all(&grant, "all"),
            Err(StoreError::WrongGrant(_))
        ),
        "a grant to delete recent records does not delete everything"
    );
}
