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
    // A one-time link from the host lets Ann in whatever the throttle
    // says, and ends the lock on her account.
    let link = store
        .password_link(&ann.id, crate::store::RESET_MS)
        .unwrap();
    assert!(store
        .use_link(&link, "a brand new passphrase")
        .unwrap()
        .is_some());
    assert!(matches!(
        store
            .login("ann@example.com", "a brand new passphrase", "10.0.0.5")
            .unwrap(),
        Login::Ok { .. }
    ));

    store.logout(&token).unwrap();
    assert_eq!(store.session(&token).unwrap(), None);

    // A good password takes back only its own attempt from the address:
    // the failures others made from there still count.
    let (zed, pw) = ("zed@example.com", "zed's own long password");
    let z = store.add_person(zed, "Zed", "UTC", Role::Member).unwrap();
    store.set_password(&z.id, pw).unwrap();
    for other in ["a", "b", "c"] {
        store
            .login(&format!("{other}@example.com"), "wrong", "10.9.0.1")
            .unwrap();
    }
    assert!(matches!(
        store.login(zed, pw, "10.9.0.1").unwrap(),
        Login::Ok { .. }
    ));
    store.login("d@example.com", "wrong", "10.9.0.1").unwrap();
    assert_eq!(
        store.login("e@example.com", "wrong", "10.9.0.1").unwrap(),
        Login::Refused
    );
    assert!(matches!(
        store.login(zed, pw, "10.9.0.1").unwrap(),
        Login::Throttled { .. }
    ));

    // An email no address can be is refused before anything is counted or
    // stored: the throttle's table does not grow with such attempts.
    let rows = |s: &Store| -> i64 {
        s.conn()
            .query_row("SELECT count(*) FROM login_failures", params![], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let before = rows(&store);
    let long = format!("{}@example.com", "x".repeat(10_000));
    assert_eq!(
        store.login(&long, "whatever it is", "10.0.0.9").unwrap(),
        Login::Refused
    );
    assert_eq!(rows(&store), before);
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
