//! Timesheet periods on a real database (SQLite, or PostgreSQL with
//! `STINT_TEST_STORE=postgres`): submitting, rejecting one period while
//! another stays, approving, what each state locks, late minutes kept and
//! flagged but not paid, reopening, and approval by the policy.

use super::*;
use crate::access::{ProjectRole, Role};
use crate::store::Whose;
use stint_proto::Work;

fn ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .unwrap()
        .timestamp_millis()
}

fn d(t: &str) -> NaiveDate {
    t.parse().unwrap()
}

/// A minute of Max's on Website at `start`.
fn minute(i: u32, start: i64, web: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("0190c0de-0000-7000-8000-{i:012}"),
        "start": super::super::rfc3339(start), "utc_offset": 0, "seconds": 60,
        "keystrokes": 1, "clicks": 0, "scrolls": 0, "idle": false, "session_id": "s",
        "project_id": web,
    })
}

#[test]
fn periods_are_submitted_decided_locked_and_paid_as_approved() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    let add = |e: &str, n: &str, r| store.add_person(e, n, "UTC", r).unwrap();
    let max = add("max@x", "Max", Role::Member);
    let mia = add("mia@x", "Mia", Role::Manager);
    let ada = add("ada@x", "Ada", Role::Admin);
    let eve = add("eve@x", "Eve", Role::Member);
    let lee = add("lee@x", "Lee", Role::Member);
    let team = store.add_team("T").unwrap();
    store.join_team(&team, &mia.id, true).unwrap();
    store.join_team(&team, &max.id, false).unwrap();
    let web = store.add_project("Website", None, None, None).unwrap();
    store
        .set_member(&web, &max.id, Some(ProjectRole::Member))
        .unwrap();
    store
        .set_member(&web, &lee.id, Some(ProjectRole::Lead))
        .unwrap();
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    let t0 = ms("2026-11-25T10:00:00Z");
    let upload = |minutes: Vec<serde_json::Value>| {
        let batch = serde_json::from_value(serde_json::json!({"sessions": [], "minutes": minutes}))
            .unwrap();
        store.upsert_batch(&device, &batch, "127.0.0.0").unwrap();
    };
    upload(
        (0..60)
            .map(|i| minute(i, t0 + i64::from(i) * 60_000, &web))
            .collect(),
    );
    // The clock the server records by: the minutes above were received at it.
    let now = now_ms();
    let (week, before) = (d("2026-11-25"), d("2026-11-18"));
    let on_web = Work {
        project_id: Some(web.clone()),
        task_id: None,
    };
    let hour = |h: i64| t0 + h * 3_600_000;
    let asked = store
        .request_offline(&max, (hour(3), hour(4)), &on_web, "client visit", now)
        .unwrap();

    let err = |r: Result<Period, StoreError>| r.unwrap_err().to_string();
    let today = day_of(now, chrono_tz::UTC);
    assert!(err(store.submit_period(&max, today, now)).contains("has not ended yet"));
    assert!(err(store.submit_period(&max, week, now_ms())).contains("wait for a decision"));
    store.decide_offline(&mia, &asked.id, true, "").unwrap();
    let p = store.submit_period(&max, week, now_ms()).unwrap();
    assert_eq!(
        (p.first, p.last, p.state),
        (d("2026-11-23"), d("2026-11-29"), PeriodState::Submitted)
    );
    store.submit_period(&max, before, now_ms()).unwrap();

    // Submitted: locked against Max's changes, not his manager's.
    let again = store.request_offline(&max, (hour(5), hour(6)), &on_web, "more", now);
    assert!(again.unwrap_err().to_string().contains("is submitted"));
    let range = (hour(0), hour(0) + 600_000);
    let own = store.reassign(&max, &max, range, &Work::default(), "not web");
    assert!(own.unwrap_err().to_string().contains("is submitted"));
    store
        .reassign(&mia, &max, range, &on_web, "was web")
        .unwrap();

    for (who, words) in [(&max, "may not"), (&eve, "may not"), (&lee, "may not")] {
        let e = err(store.decide_period(who, &max, week, true, ""));
        assert!(e.to_lowercase().contains(words), "{}: {e}", who.name);
    }
    assert!(err(store.decide_period(&mia, &max, week, false, " ")).contains("needs a reason"));
    let rejected = store
        .decide_period(&mia, &max, week, false, "Wednesday is missing")
        .unwrap();
    assert_eq!(rejected.state, PeriodState::Rejected);
    assert_eq!(
        store.period_at(&max, before).unwrap().state,
        PeriodState::Submitted,
        "only that week reopens"
    );
    assert!(
        store
            .request_offline(&max, (hour(5), hour(6)), &on_web, "the missing hour", now)
            .is_ok(),
        "a rejected period takes changes again"
    );
    let _ = store
        .offline_inbox(&mia)
        .unwrap()
        .into_iter()
        .map(|(_, o)| store.decide_offline(&mia, &o.id, true, ""))
        .collect::<Vec<_>>();
    store.submit_period(&max, week, now_ms()).unwrap();
    let approved = store.decide_period(&mia, &max, week, true, "").unwrap();
    assert_eq!(approved.state, PeriodState::Approved);
    let at = approved.approved_ms.unwrap();

    // Approved: locked for everyone.
    let e = store.reassign(&mia, &max, range, &Work::default(), "late change");
    assert!(e.unwrap_err().to_string().contains("is approved"));
    let grant = store
        .grant(&max, Whose::Person(&max.id), Action::DeleteRecent, "")
        .unwrap();
    let e = store.delete_range(&grant, hour(0), hour(1), "mine");
    assert!(e.unwrap_err().to_string().contains("is approved"));

    // A minute the agent sends late is kept and flagged, and not paid.
    std::thread::sleep(std::time::Duration::from_millis(5));
    upload(vec![minute(500, hour(2), &web)]);
    let report = store
        .grant(&mia, Whose::Person(&max.id), Action::ViewReport, "payroll")
        .unwrap();
    let (from, to) = store.period_bounds(&max, &approved);
    assert_eq!(store.late_minutes(&report, (from, to), at).unwrap(), 1);
    let paid = store
        .payroll(&report, &max, (d("2026-11-01"), d("2026-11-30")))
        .unwrap();
    let tracked: u64 = paid.iter().map(|p| p.tracked).sum();
    let offline: u64 = paid.iter().map(|p| p.offline).sum();
    assert_eq!((tracked, offline), (3600, 7200), "{paid:?}");
    assert!(paid.iter().all(|p| p.day == d("2026-11-25")), "{paid:?}");

    // Reopening is an admin's, with a reason; then the period changes again.
    assert!(err(store.reopen_period(&mia, &max, week, "why")).contains("may not"));
    assert!(err(store.reopen_period(&ada, &max, week, "")).contains("needs a reason"));
    assert_eq!(
        store
            .reopen_period(&ada, &max, week, "payroll error")
            .unwrap()
            .state,
        PeriodState::Open
    );
    assert!(store
        .payroll(&report, &max, (d("2026-11-01"), d("2026-11-30")))
        .unwrap()
        .is_empty());
    let audit = store
        .grant(&max, Whose::Person(&max.id), Action::ViewAudit, "")
        .unwrap();
    let (_, events) = store.periods_of(&audit).unwrap();
    let steps: Vec<&str> = events
        .iter()
        .filter(|e| e.first == d("2026-11-23"))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        steps,
        ["reopened", "approved", "submitted", "rejected", "submitted"]
    );
    assert!(events[0].by.contains("ada@x") && events[0].reason.as_deref() == Some("payroll error"));

    // The week before, left submitted, is approved by the policy once due.
    store
        .set_period_settings(&crate::periods::PeriodSettings {
            rule: None,
            auto_approve_days: Some(3),
        })
        .unwrap();
    assert_eq!(store.auto_approve_periods(now + 86_400_000).unwrap(), 0);
    assert_eq!(store.auto_approve_periods(now + 4 * 86_400_000).unwrap(), 1);
    let (_, events) = store.periods_of(&audit).unwrap();
    assert_eq!(
        (events[0].action.as_str(), events[0].by.as_str()),
        ("approved", "the policy")
    );
    let waiting = store.periods_waiting(&mia).unwrap();
    assert!(waiting.is_empty(), "{waiting:?}");
}
