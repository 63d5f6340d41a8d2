//! What a broken or hostile server cannot do to the agent: crash-loop it with
//! a policy, lure its token away with a redirect, or make it hammer the server
//! with Retry-After: 0. A real stint-server, bent with injected faults or an
//! edited database, against the real `stint` daemon.

use std::time::Duration;

use crate::helpers::*;

const FAST: &str = "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true\n";

fn agent_for(server: &Server) -> Agent {
    Agent::new(None, &format!("{FAST}{}", server.agent_toml("localhost")))
}

fn sync_error(agent: &Agent) -> String {
    agent.status()["sync"]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The policy a server hands out, written into its database behind its own
/// validation, as a buggy or hostile server would send it.
fn force_policy(server: &Server, json: &str) {
    let db = rusqlite::Connection::open(server.dir.path().join("server.db")).unwrap();
    db.execute(
        "INSERT INTO settings (key, value) VALUES ('policy', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [json],
    )
    .unwrap();
}

#[test]
fn an_invalid_policy_is_refused_whole_and_the_last_good_one_stays() {
    let server = Server::start("127.0.0.1", &[]);
    server.admin(&["policy", "--set", "segment_secs=4"]);
    let mut agent = agent_for(&server);
    agent.start_daemon();
    agent.wait_for_log("policy applied", Duration::from_secs(20));
    // A segment of 0 s once divided by zero in the recorder, and the stored
    // policy made every restart do it again.
    force_policy(&server, r#"{"segment_secs":0,"screenshots":true}"#);
    // Not a passing error, which the next upload would clear: it holds
    // while the server sends the bad policy.
    let why = wait_for("the refusal in status", Duration::from_secs(20), || {
        let s = agent.status();
        s["sync"]["policy_error"].as_str().map(str::to_string)
    });
    assert!(why.contains("invalid policy"), "{why}");
    assert!(why.contains("segment_secs"), "{why}");
    assert_eq!(
        agent.status()["policy"]["segment_secs"],
        4,
        "the last good one"
    );
    agent.stop_daemon(); // a clean exit: it never panicked
    let before = server.minutes().len();
    agent.start_daemon();
    wait_for("minutes after a restart", Duration::from_secs(30), || {
        (server.minutes().len() > before + 2).then_some(())
    });
    assert_eq!(agent.status()["policy"]["segment_secs"], 4);
    agent.stop_daemon();
}

#[test]
fn redirects_are_not_followed_and_the_token_goes_nowhere_else() {
    // Where the server points: plain http on another port, which records
    // anything that reaches it.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = elsewhere.local_addr().unwrap().port();
    elsewhere.set_nonblocking(true).unwrap();
    let to = format!("307>http://127.0.0.1:{port}/api/v1/minutes");
    let server = Server::start(
        "127.0.0.1",
        &[
            "--inject-faults",
            &format!("heartbeat={to};minutes={to},{to},{to}"),
        ],
    );
    let mut agent = agent_for(&server);
    agent.start_daemon();
    let why = wait_for("the redirect in status", Duration::from_secs(30), || {
        let e = sync_error(&agent);
        e.contains("redirect").then_some(e)
    });
    assert!(why.contains("follows no redirects"), "{why}");
    // Once the server stops redirecting, the minutes arrive where they belong.
    wait_for("minutes at the server", Duration::from_secs(60), || {
        (!server.minutes().is_empty()).then_some(())
    });
    agent.stop_daemon();
    assert!(
        elsewhere.accept().is_err(),
        "the agent connected to where the redirect pointed"
    );
}

#[test]
fn retry_after_zero_is_floored_and_repeated_failures_are_logged_once() {
    // Four answers of 429 with Retry-After: 0. Followed to the letter they
    // take no time; with every wait at least a second they take four at least
    // (and the backoff keeps growing under them).
    let faults = ["429@0"; 4].join(",");
    let server = Server::start(
        "127.0.0.1",
        &["--inject-faults", &format!("minutes={faults}")],
    );
    let mut agent = agent_for(&server);
    agent.start_daemon();
    agent.wait_for_log("enrolled", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        server.minutes().is_empty(),
        "four 429s got through in 3 s: the waits were not floored"
    );
    wait_for("minutes at the server", Duration::from_secs(60), || {
        (!server.minutes().is_empty()).then_some(())
    });
    let warnings = agent.stderr().matches("sync failed").count();
    assert!(
        warnings <= 2,
        "the same failure logged {warnings} times:\n{}",
        agent.stderr()
    );
    agent.stop_daemon();
}
