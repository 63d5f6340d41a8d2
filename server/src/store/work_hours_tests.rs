//! The kept hour sums against the minutes themselves, after each kind of
//! write that changes what an hour sums to, on a real database (SQLite, or
//! PostgreSQL with `STINT_TEST_STORE=postgres`).

use super::*;
use crate::access::{ProjectRole, Role};
use crate::store::rfc3339;
use crate::store::stale::hours_touching;
use crate::store::Whose;

const T0: &str = "2026-11-30T08:00:00Z";

fn t0() -> i64 {
    ms(T0).unwrap()
}

fn at(min: i64, sec: i64) -> String {
    rfc3339(t0() + min * 60_000 + sec * 1000)
}

fn minute(
    i: u32,
    min: i64,
    from_secs: u32,
    seconds: u32,
    keys: u32,
    project: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "id": format!("0190c0de-0000-7000-8000-{i:012}"), "start": at(min, 0), "utc_offset": 0,
        "seconds": seconds, "from_secs": from_secs, "keystrokes": keys, "clicks": 0, "scrolls": 0,
        "idle": keys == 0, "session_id": "s", "project_id": project,
    })
}

fn batch(
    minutes: Vec<serde_json::Value>,
    spans: Vec<serde_json::Value>,
) -> stint_proto::MinuteBatch {
    serde_json::from_value(serde_json::json!({
        "sessions": [], "minutes": minutes, "idle_spans": spans,
    }))
    .unwrap()
}

fn span(
    i: u32,
    from_min: i64,
    to_min: i64,
    decision: &str,
    project: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "id": format!("0190c0de-0000-7000-9000-{i:012}"), "start": at(from_min, 0),
        "end": at(to_min, 0), "utc_offset": 0, "decision": decision, "project_id": project,
        "decided_at": at(to_min, 5),
    })
}

/// Ranges a report asks for: whole hours, parts of hours at both ends (a
/// day in Asia/Kolkata starts at :30 UTC), less than an hour, a whole day.
fn ranges() -> Vec<(i64, i64)> {
    let m = |min: i64| t0() + min * 60_000;
    vec![
        (m(0), m(300)),
        (m(30), m(255)),
        (m(70), m(80)),
        (m(-480), m(960)),
    ]
}

fn total(spent: &BTreeMap<Work, Spent>) -> u64 {
    spent.values().map(|s| s.tracked + s.discarded).sum()
}

#[test]
fn kept_sums_equal_the_minutes_after_every_kind_of_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    let ada = store
        .add_person("ada@x", "Ada", "UTC", Role::Admin)
        .unwrap();
    let max = store
        .add_person("max@x", "Max", "UTC", Role::Member)
        .unwrap();
    let eve = store
        .add_person("eve@x", "Eve", "UTC", Role::Member)
        .unwrap();
    let a = store.add_project("A", None, None, None).unwrap();
    let b = store.add_project("B", None, None, None).unwrap();
    for p in [&a, &b] {
        store
            .set_member(p, &max.id, Some(ProjectRole::Member))
            .unwrap();
    }
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    // 08:00-12:59: on A, a switch to B at 09:30:25, a stretch of idle, the
    // last two minutes with seconds running past their hour.
    let mut minutes = Vec::new();
    for min in 0..300i64 {
        let i = min as u32 * 2;
        let keys = if (100..130).contains(&min) { 0 } else { 3 };
        match min {
            0..90 => minutes.push(minute(i, min, 0, 60, keys, Some(&a))),
            90 => {
                minutes.push(minute(i, min, 0, 25, keys, Some(&a)));
                minutes.push(minute(i + 1, min, 25, 35, keys, Some(&b)));
            }
            _ => minutes.push(minute(i, min, 0, 60, keys, Some(&b))),
        }
    }
    minutes.push(minute(9000, 299, 30, 600, 1, None));
    let check = |what: &str| {
        for (person, whom) in [(&max, "Max"), (&eve, "Eve")] {
            let grant = store
                .grant(
                    &ada,
                    Whose::Person(&person.id),
                    crate::access::Action::ViewReport,
                    "test",
                )
                .unwrap();
            for (from, to) in ranges() {
                let kept = store.work_spent(&grant, from, to).unwrap();
                let direct = store.work_from_minutes(&person.id, from, to).unwrap();
                assert_eq!(
                    kept,
                    direct,
                    "after {what}: {whom}'s {} to {}",
                    rfc3339(from),
                    rfc3339(to)
                );
            }
        }
    };
    let grant_max = store
        .grant(
            &ada,
            Whose::Person(&max.id),
            crate::access::Action::ViewReport,
            "test",
        )
        .unwrap();
    let day = ranges()[3];

    store
        .upsert_batch(&device, &batch(minutes, vec![]), "127.0.0.0")
        .unwrap();
    check("the minutes arrive");
    assert_eq!(
        total(&store.work_spent(&grant_max, day.0, day.1).unwrap()),
        300 * 60 + 600
    );
    check("the sums are kept (read again)");

    let spans = vec![
        span(1, 100, 130, "keep", Some(&a)),
        span(2, 118, 125, "discard", None),
        span(3, 160, 175, "discard", None),
    ];
    store
        .upsert_batch(&device, &batch(vec![], spans), "127.0.0.0")
        .unwrap();
    check("idle spans are decided");

    let work_a = Work {
        project_id: Some(a.clone()),
        task_id: None,
    };
    let range = (t0() + 150 * 60_000, t0() + 200 * 60_000);
    store
        .reassign(&ada, &max, range, &work_a, "was for A")
        .unwrap();
    check("a range is reassigned");

    // A repeat with more seconds, as an agent merging a revisited minute.
    store
        .upsert_batch(
            &device,
            &batch(vec![minute(400, 200, 0, 60, 9, None)], vec![]),
            "127.0.0.0",
        )
        .unwrap();
    check("a minute is sent again, changed");

    let grant = store
        .grant(
            &ada,
            Whose::Person(&max.id),
            crate::access::Action::DeleteOld,
            "test",
        )
        .unwrap();
    store
        .delete_range(&grant, t0() + 210 * 60_000, t0() + 240 * 60_000, "not work")
        .unwrap();
    check("a range is deleted");
    let before = total(&store.work_spent(&grant_max, day.0, day.1).unwrap());

    store.bind_device(&device, &eve.id).unwrap();
    check("the device changes hands");
    assert_eq!(
        total(&store.work_spent(&grant_max, day.0, day.1).unwrap()),
        0
    );

    // The hourly job leaves nothing stale before the hour it runs in.
    let now = t0() + 2 * 86_400_000;
    store.sum_stale_hours(now).unwrap();
    let stale: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM work_hours_stale WHERE hour < ?1",
            params![hour_key(now)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stale, 0);
    let grant_eve = store
        .grant(
            &ada,
            Whose::Person(&eve.id),
            crate::access::Action::ViewReport,
            "test",
        )
        .unwrap();
    assert_eq!(
        total(&store.work_spent(&grant_eve, day.0, day.1).unwrap()),
        before
    );

    store
        .set_retention(&crate::store::Retention {
            minutes_days: Some(1),
            ..Default::default()
        })
        .unwrap();
    store.apply_retention(now).unwrap();
    check("retention deletes the minutes");
    assert_eq!(
        total(&store.work_spent(&grant_eve, day.0, day.1).unwrap()),
        0
    );
}

#[test]
fn hour_keys_are_the_stored_times_first_characters() {
    for (ms_, key) in [
        (0, "1970-01-01T00"),
        (t0() + 59 * 60_000 + 59_999, "2026-11-30T08"),
        (t0() + 60 * 60_000, "2026-11-30T09"),
    ] {
        assert_eq!(hour_key(ms_), key);
        assert_eq!(&rfc3339(ms_)[..13], key);
    }
    let touched = hours_touching(t0() + 30 * 60_000, t0() + 90 * 60_000);
    assert_eq!(touched, ["2026-11-30T07", "2026-11-30T08", "2026-11-30T09"]);
}

/// A lead who is not the member's manager sees the member's time on the
/// lead's project and nothing else: its minutes, the screenshots taken
/// while they ran, its report rows; the look is audited naming the project,
/// and time moves only into the lead's project.
#[test]
fn a_lead_sees_only_the_time_on_their_project() {
    use crate::access::Action;
    use crate::store::Size;
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    let add = |e: &str, n: &str, r| store.add_person(e, n, "UTC", r).unwrap();
    let max = add("max@x", "Max", Role::Member);
    let lee = add("lee@x", "Lee", Role::Member);
    let eve = add("eve@x", "Eve", Role::Member);
    let web = store.add_project("Website", None, None, None).unwrap();
    let app = store.add_project("App", None, None, None).unwrap();
    for (p, who, role) in [
        (&web, &max, ProjectRole::Member),
        (&app, &max, ProjectRole::Member),
        (&web, &lee, ProjectRole::Lead),
    ] {
        store.set_member(p, &who.id, Some(role)).unwrap();
    }
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    let minutes = (0..20)
        .map(|min| {
            minute(
                min as u32,
                min,
                0,
                60,
                2,
                Some(if min < 10 { &web } else { &app }),
            )
        })
        .collect();
    store
        .upsert_batch(&device, &batch(minutes, vec![]), "127.0.0.0")
        .unwrap();
    for (id, min) in [
        ("0190c0de-0000-7000-a000-000000000001", 5),
        ("0190c0de-0000-7000-a000-000000000002", 15),
    ] {
        let meta: stint_proto::CaptureMeta = serde_json::from_value(serde_json::json!({
            "kind": "screenshot", "taken_at": at(min, 30), "utc_offset": 0, "monitor": "M",
            "width": 1, "height": 1, "format": "webp", "session_id": "s"
        }))
        .unwrap();
        store
            .upsert_capture(&device, id, &meta, b"img", "127.0.0.0")
            .unwrap();
    }
    let (from, to) = (t0(), t0() + 3_600_000);

    assert!(store
        .grant(&eve, Whose::Person(&max.id), Action::ViewDiary, "diary")
        .is_err());
    let diary = store
        .grant(
            &lee,
            Whose::Person(&max.id),
            Action::ViewDiary,
            "diary of 2026-11-30",
        )
        .unwrap();
    assert_eq!(diary.projects(), Some(&[web.clone()][..]));
    let (seen, captures) = store.day(&diary, from, to).unwrap();
    assert_eq!(seen.len(), 10);
    assert!(seen
        .iter()
        .all(|m| m.project_id.as_deref() == Some(web.as_str())));
    let ids: Vec<&str> = captures.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["0190c0de-0000-7000-a000-000000000001"]);
    let image = store
        .grant(
            &lee,
            Whose::Person(&max.id),
            Action::ViewImage,
            "screenshot",
        )
        .unwrap();
    assert!(store
        .image(&image, "0190c0de-0000-7000-a000-000000000001", Size::Full)
        .is_ok());
    let refused = store.image(&image, "0190c0de-0000-7000-a000-000000000002", Size::Full);
    assert!(
        matches!(refused, Err(StoreError::Denied(_))),
        "{:?}",
        refused.err()
    );

    let report = store
        .grant(&lee, Whose::Person(&max.id), Action::ViewReport, "report")
        .unwrap();
    let spent = store.work_spent(&report, from, to).unwrap();
    assert_eq!(
        spent
            .keys()
            .map(|w| w.project_id.clone())
            .collect::<Vec<_>>(),
        [Some(web.clone())]
    );
    assert_eq!(spent.values().map(|s| s.tracked).sum::<u64>(), 600);

    let audit = store
        .grant(&max, Whose::Person(&max.id), Action::ViewAudit, "")
        .unwrap();
    let views = store.views_of(&audit).unwrap();
    assert!(
        views
            .iter()
            .any(|v| v.what == "diary of 2026-11-30 (time on Website)" && v.viewer.contains("Lee")),
        "{views:?}"
    );

    let to_app = Work {
        project_id: Some(app.clone()),
        task_id: None,
    };
    let to_web = Work {
        project_id: Some(web.clone()),
        task_id: None,
    };
    let range = (t0() + 10 * 60_000, t0() + 12 * 60_000);
    assert!(store.reassign(&lee, &max, range, &to_app, "mine").is_err());
    store
        .reassign(&lee, &max, range, &to_web, "was for the website")
        .unwrap();
    let spent = store.work_spent(&report, from, to).unwrap();
    assert_eq!(spent.values().map(|s| s.tracked).sum::<u64>(), 720);
}
