//! Offline time on a real database (SQLite, or PostgreSQL with
//! `STINT_TEST_STORE=postgres`): what a request may be, who decides it,
//! whose inbox shows it, and where approved time counts.

use super::*;
use crate::access::{ProjectRole, Role};
use crate::store::{Budget, Scope, Whose};

const HOUR: i64 = 3_600_000;

/// A state, or the words of a refusal.
type Want = Result<OfflineState, &'static str>;

/// 2026-11-30T09:00:00Z: the day's start in the tests.
const T0: i64 = 1_764_493_200_000;

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    max: Person,
    mia: Person,
    lee: Person,
    eve: Person,
    ada: Person,
    web: String,
    app: String,
}

/// Max (a member; Mia's team) tracks on Website (led by Lee) and App, and
/// recorded 10:00 to 11:00.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    let add = |e: &str, n: &str, r| store.add_person(e, n, "UTC", r).unwrap();
    let max = add("max@x", "Max", Role::Member);
    let mia = add("mia@x", "Mia", Role::Manager);
    let lee = add("lee@x", "Lee", Role::Member);
    let eve = add("eve@x", "Eve", Role::Member);
    let ada = add("ada@x", "Ada", Role::Admin);
    let team = store.add_team("T").unwrap();
    store.join_team(&team, &mia.id, true).unwrap();
    store.join_team(&team, &max.id, false).unwrap();
    let web = store.add_project("Website", None, None, None).unwrap();
    let app = store.add_project("App", None, None, None).unwrap();
    store.add_project("Shop", None, None, None).unwrap();
    for (p, who, role) in [
        (&web, &max, ProjectRole::Member),
        (&app, &max, ProjectRole::Member),
        (&web, &lee, ProjectRole::Lead),
    ] {
        store.set_member(p, &who.id, Some(role)).unwrap();
    }
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    let minutes: Vec<serde_json::Value> = (60..120)
        .map(|m| {
            serde_json::json!({
                "id": format!("0190c0de-0000-7000-8000-{m:012}"),
                "start": rfc3339(T0 + m * 60_000), "utc_offset": 0, "seconds": 60,
                "keystrokes": 1, "clicks": 0, "scrolls": 0, "idle": false, "session_id": "s",
                "project_id": web,
            })
        })
        .collect();
    let batch =
        serde_json::from_value(serde_json::json!({"sessions": [], "minutes": minutes})).unwrap();
    store.upsert_batch(&device, &batch, "127.0.0.0").unwrap();
    World {
        _dir: dir,
        store,
        max,
        mia,
        lee,
        eve,
        ada,
        web,
        app,
    }
}

fn on(p: &str) -> Work {
    Work {
        project_id: Some(p.to_string()),
        task_id: None,
    }
}

fn at(h: f64) -> i64 {
    T0 + (h * HOUR as f64) as i64
}

const NOW: i64 = T0 + 12 * HOUR;

#[test]
fn a_request_fills_a_gap_in_the_past_or_is_refused_in_words() {
    let w = world();
    let shop = w.store.project_named("Shop").unwrap().id;
    let cases: Vec<(_, _, _, Want)> = vec![
        (
            (at(0.0), at(1.0)),
            on(&w.web),
            "standup",
            Ok(OfflineState::Pending),
        ),
        (
            (at(0.5), at(0.75)),
            on(&w.app),
            "again",
            Err("overlaps your offline time"),
        ),
        (
            (at(1.5), at(2.5)),
            on(&w.web),
            "meeting",
            Err("overlaps time the agent recorded"),
        ),
        (
            (at(11.0), at(13.0)),
            on(&w.web),
            "later",
            Err("time that has passed"),
        ),
        (
            (at(-20.0), at(5.0)),
            on(&w.web),
            "long",
            Err("from a minute to 24 hours"),
        ),
        ((at(3.0), at(4.0)), on(&w.web), "  ", Err("needs a reason")),
        (
            (at(3.0), at(4.0)),
            on(&shop),
            "visit",
            Err("does not track time on project"),
        ),
        (
            (at(3.0), at(4.0)),
            Work::default(),
            "site visit",
            Ok(OfflineState::Pending),
        ),
    ];
    for (range, work, reason, want) in cases {
        let got = w.store.request_offline(&w.max, range, &work, reason, NOW);
        match (got, want) {
            (Ok(o), Ok(state)) => assert_eq!(o.state, state, "{reason}"),
            (Err(e), Err(words)) => assert!(e.to_string().contains(words), "{reason}: {e}"),
            (got, want) => panic!("{reason}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn someone_else_decides_and_each_inbox_holds_what_its_owner_may_decide() {
    let w = world();
    let ask = |range, work: &Work| {
        w.store
            .request_offline(&w.max, range, work, "client meeting", NOW)
            .unwrap()
    };
    let web = ask((at(0.0), at(1.0)), &on(&w.web));
    let app = ask((at(2.0), at(3.0)), &on(&w.app));
    let inbox = |p: &Person| -> Vec<String> {
        let mut ids: Vec<String> = w
            .store
            .offline_inbox(p)
            .unwrap()
            .into_iter()
            .map(|(_, o)| o.id)
            .collect();
        ids.sort();
        ids
    };
    let mut both = vec![web.id.clone(), app.id.clone()];
    both.sort();
    assert_eq!(inbox(&w.mia), both, "the manager");
    assert_eq!(inbox(&w.ada), both, "an admin");
    assert_eq!(
        inbox(&w.lee),
        std::slice::from_ref(&web.id),
        "the lead: her project's"
    );
    assert!(inbox(&w.eve).is_empty());
    assert!(inbox(&w.max).is_empty(), "never one's own");

    let cases: Vec<(&Person, &Offline, _, _, Want)> = vec![
        (&w.max, &web, true, "", Err("nobody approves their own")),
        (&w.eve, &web, true, "", Err("may not")),
        (&w.lee, &app, true, "", Err("projects they lead only")),
        (&w.mia, &app, false, "", Err("needs a reason")),
        (&w.lee, &web, true, "", Ok(OfflineState::Approved)),
        (&w.ada, &web, false, "no", Err("approved already")),
        (
            &w.mia,
            &app,
            false,
            "that was lunch",
            Ok(OfflineState::Denied),
        ),
    ];
    for (who, o, approve, reason, want) in cases {
        let got = w.store.decide_offline(who, &o.id, approve, reason);
        match (got, want) {
            (Ok(d), Ok(state)) => {
                assert_eq!(d.state, state, "{}", who.name);
                assert!(d.decided_by.as_deref().unwrap().contains(&who.email));
            }
            (Err(e), Err(words)) => assert!(
                e.to_string().to_lowercase().contains(&words.to_lowercase()),
                "{}: {e}",
                who.name
            ),
            (got, want) => panic!("{}: got {got:?}, want {want:?}", who.name),
        }
    }
    assert!(inbox(&w.mia).is_empty(), "decided: out of every inbox");

    // Approved time counts, cut to the range; denied time does not.
    let grant = w
        .store
        .grant(
            &w.mia,
            Whose::Person(&w.max.id),
            Action::ViewReport,
            "report",
        )
        .unwrap();
    let spent = w.store.offline_spent(&grant, at(0.5), at(24.0)).unwrap();
    assert_eq!(spent.get(&on(&w.web)), Some(&1800));
    assert_eq!(spent.get(&on(&w.app)), None);
    let listed = w.store.offline_of(&grant, at(0.0), at(24.0)).unwrap();
    assert_eq!(
        listed.len(),
        2,
        "the person's page lists both, with their decisions"
    );
    assert_eq!(listed[1].decision_reason.as_deref(), Some("that was lunch"));
}

#[test]
fn the_policy_turns_it_off_or_approves_at_once_and_hard_budgets_keep_their_limit() {
    let w = world();
    let mut policy = stint_proto::Policy {
        manual_time: Some(ManualTime::Off),
        ..Default::default()
    };
    w.store.set_scoped_policy(&Scope::Org, &policy).unwrap();
    let range = (at(0.0), at(1.0));
    let off = w
        .store
        .request_offline(&w.max, range, &on(&w.web), "meeting", NOW);
    assert!(off
        .unwrap_err()
        .to_string()
        .contains("off in your organisation's policy"));

    policy.manual_time = Some(ManualTime::Auto);
    w.store.set_scoped_policy(&Scope::Org, &policy).unwrap();
    let auto = w
        .store
        .request_offline(&w.max, range, &on(&w.web), "meeting", NOW)
        .unwrap();
    assert_eq!((auto.state, auto.auto), (OfflineState::Approved, true));
    assert_eq!(auto.decided_by.as_deref(), Some("the policy"));

    // Website: 2 h, a hard stop; 1 h recorded and 1 h offline leave nothing.
    let budget = Budget {
        secs: 2 * 3600,
        monthly: false,
        warn_percent: 80,
        hard_stop: true,
    };
    w.store.set_budget(&w.web, Some(budget)).unwrap();
    let (_, used) = w.store.budget_used(&w.web, NOW).unwrap().unwrap();
    assert_eq!(used, 2 * 3600, "offline time counts against the budget");
    let full = w
        .store
        .request_offline(&w.max, (at(3.0), at(3.5)), &on(&w.web), "more", NOW);
    let e = full.unwrap_err().to_string();
    assert!(e.contains("budget") && e.contains("left"), "{e}");
}
