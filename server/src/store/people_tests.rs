//! People, accounts, sessions and the relation `access::allowed` decides on.

use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store(dir.path());
    (dir, store)
}

#[test]
fn logins_succeed_fail_alike_and_are_throttled() {
    let (_dir, store) = store();
    let ann = store
        .add_person("Ann@Example.com ", "Ann", "Europe/Berlin", Role::Member)
        .unwrap();
    assert_eq!(ann.email, "ann@example.com");
    assert!(store
        .add_person("ann@example.com", "Again", "UTC", Role::Member)
        .is_err());
    assert!(store.set_password(&ann.id, "short").is_err(), "too short");
    store
        .set_password(&ann.id, "correct horse battery")
        .unwrap();

    let ok = store
        .login("ANN@example.com", "correct horse battery", "10.0.0.1")
        .unwrap();
    let Login::Ok { token, person } = ok else {
        panic!("{ok:?}")
    };
    assert_eq!(person.id, ann.id);
    assert_eq!(
        store.session(&token).unwrap().map(|p| p.id),
        Some(ann.id.clone())
    );

    // An unknown account and a wrong password get the same answer.
    for (email, password) in [
        ("nobody@example.com", "whatever it is"),
        ("ann@example.com", "wrong"),
    ] {
        assert_eq!(
            store.login(email, password, "10.0.0.2").unwrap(),
            Login::Refused
        );
    }
    // Five failures in a row for the account earn a wait, even from a fresh address.
    for _ in 0..4 {
        store.login("ann@example.com", "wrong", "10.0.0.3").unwrap();
    }
    assert!(matches!(
        store.login("ann@example.com", "correct horse battery", "10.0.0.4").unwrap(),
        Login::Throttled { retry_after_secs } if retry_after_secs >= 1
    ));

    store.logout(&token).unwrap();
    assert_eq!(store.session(&token).unwrap(), None);
}

#[test]
fn sessions_end_when_idle_too_long_or_too_old_and_with_a_new_password() {
    let (_dir, store) = store();
    let bob = store
        .add_person("bob@example.com", "Bob", "UTC", Role::Manager)
        .unwrap();
    store
        .set_password(&bob.id, "a long enough password")
        .unwrap();
    let login = |s: &Store| match s
        .login("bob@example.com", "a long enough password", "10.1.0.1")
        .unwrap()
    {
        Login::Ok { token, .. } => token,
        other => panic!("{other:?}"),
    };
    for (what, created_ago, seen_ago, alive) in [
        ("fresh", 0, 0, true),
        (
            "idle too long",
            SESSION_IDLE_MS + 1,
            SESSION_IDLE_MS + 1,
            false,
        ),
        ("too old though busy", SESSION_MAX_MS + 1, 0, false),
    ] {
        let token = login(&store);
        let now = now_ms();
        store
            .conn()
            .execute(
                "UPDATE web_sessions SET created_ms = ?2, last_seen_ms = ?3 WHERE token_hash = ?1",
                params![
                    sha256_hex(token.as_bytes()),
                    now - created_ago,
                    now - seen_ago
                ],
            )
            .unwrap();
        assert_eq!(store.session(&token).unwrap().is_some(), alive, "{what}");
    }
    let token = login(&store);
    store
        .set_password(&bob.id, "another long password")
        .unwrap();
    assert_eq!(
        store.session(&token).unwrap(),
        None,
        "a new password logs out everywhere"
    );
}

#[test]
fn the_subject_follows_teams_and_views_are_audited() {
    let (_dir, store) = store();
    let add = |e: &str, r| store.add_person(e, e, "UTC", r).unwrap();
    let (mia, max, eve, zoe) = (
        add("mia@x", Role::Manager),
        add("max@x", Role::Member),
        add("eve@x", Role::Member),
        add("zoe@x", Role::Auditor),
    );
    let team = store.add_team("Support").unwrap();
    store.join_team(&team, &mia.id, true).unwrap();
    store.join_team(&team, &max.id, false).unwrap();
    for (viewer, subject, want) in [
        (&mia, Some(mia.id.as_str()), Subject::Own),
        (&mia, Some(max.id.as_str()), Subject::Managed),
        (&mia, Some(eve.id.as_str()), Subject::Other),
        (&max, Some(mia.id.as_str()), Subject::Other),
        (&zoe, None, Subject::Unbound),
    ] {
        assert_eq!(
            store.subject(viewer, subject).unwrap(),
            want,
            "{} -> {subject:?}",
            viewer.email
        );
    }
    store
        .record_view(&mia, &max.id, "diary 2026-11-29")
        .unwrap();
    store.record_view(&max, &max.id, "own diary").unwrap();
    store.record_view(&zoe, &max.id, "screenshot c1").unwrap();
    let views = store.views_of(&max.id).unwrap();
    let seen: Vec<(&str, Role)> = views
        .iter()
        .map(|v| (v.what.as_str(), v.viewer_role))
        .collect();
    assert_eq!(
        seen,
        [
            ("screenshot c1", Role::Auditor),
            ("diary 2026-11-29", Role::Manager)
        ]
    );
    assert!(views[1].viewer.contains("mia@x"));
}
