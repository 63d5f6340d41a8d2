//! Upload to a real stint-server over TLS with a generated CA: exactly once
//! through outages, injected faults, a poisoned record and repeated kill -9,
//! and clear refusals of bad certificates.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::helpers::*;

const FAST: &str = "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n";

/// Adds `n` minutes (one poisoned with an impossible keystroke count) straight
/// into the agent's queue, as a long offline stretch would leave them.
fn add_backlog(agent: &Agent, n: i64) -> (HashSet<String>, String) {
    let ids = agent.add_backlog(n, "backlog");
    let poisoned = format!("backlog-{:05}", n / 2);
    let db = rusqlite::Connection::open(agent.data_dir().join("queue.db")).unwrap();
    db.execute(
        "UPDATE minutes SET keystrokes = 1000000 WHERE id = ?1",
        [&poisoned],
    )
    .unwrap();
    (ids, poisoned)
}

#[test]
fn every_minute_arrives_exactly_once_through_outage_faults_poison_and_kill_9() {
    // 413 for any batch over 40 KB (a full 500-minute batch is ~150 KB), and a
    // 500, a 429 with Retry-After and a 503 on the first minute uploads.
    let mut server = Server::start(
        "127.0.0.1",
        &[
            "--max-batch-bytes",
            "40000",
            "--inject-faults",
            "minutes=500,429,503;captures=500",
        ],
    );
    let mut agent = Agent::new(
        None,
        &format!(
            "{FAST}[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    agent.wait_for_log("enrolled", Duration::from_secs(20));
    agent.wait_for_log("minute committed", Duration::from_secs(10));
    agent.stop_daemon();
    let (mut expected, poisoned) = add_backlog(&agent, 3_000);

    // Server down while the agent records; the backlog waits.
    server.stop();
    agent.start_daemon();
    std::thread::sleep(Duration::from_secs(3));
    agent.stop_daemon();
    let down = agent.status();
    assert!(
        down["sync"]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("onnect"),
        "{down}"
    );
    server.restart("127.0.0.1");

    // kill -9 at random moments, most of them mid-upload.
    for round in 0..100u64 {
        agent.start_daemon();
        std::thread::sleep(Duration::from_millis(40 + fastrand::u64(0..260)));
        agent.kill_daemon();
        if round % 25 == 0 {
            eprintln!("kill round {round}");
        }
    }
    agent.start_daemon();
    wait_for("the backlog to drain", Duration::from_secs(120), || {
        let s = agent.status();
        (s["queue"]["pending_minutes"].as_u64() <= Some(2)).then_some(())
    });
    agent.stop_daemon();
    agent.start_daemon(); // uploads the minute closed at the stop
    wait_for("the last minutes", Duration::from_secs(30), || {
        (agent.status()["queue"]["pending_minutes"].as_u64() == Some(0)).then_some(())
    });
    agent.stop_daemon();

    for line in agent
        .stderr()
        .lines()
        .filter(|l| l.contains("minute committed"))
    {
        let start = line
            .split("start=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        expected.insert(start.to_string()); // live minutes are matched by start
    }
    let stored = server.minutes();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_start: HashMap<&str, usize> = HashMap::new();
    for (id, start) in &stored {
        *by_id.entry(id).or_default() += 1;
        *by_start.entry(start).or_default() += 1;
    }
    let duplicates: Vec<_> = by_start.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicated minutes: {duplicates:?}");
    expected.remove(&poisoned);
    let lost: Vec<_> = expected
        .iter()
        .filter(|k| !by_id.contains_key(k.as_str()) && !by_start.contains_key(k.as_str()))
        .collect();
    assert_eq!(
        lost.len(),
        0,
        "minutes lost: {:?}",
        &lost[..lost.len().min(10)]
    );
    assert!(
        !by_id.contains_key(poisoned.as_str()),
        "poisoned record stored"
    );

    let s = agent.status();
    assert_eq!(s["queue"]["dead_letters"], 1, "{s}");
    // Every run's log, killed ones included: the daily files accumulate.
    let log: String = std::fs::read_dir(agent.data_dir().join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    for needle in [
        "server refused a record; moved to dead letters",
        "batch too large; splitting",
        "429 Too Many Requests",
        "500 Internal Server Error",
    ] {
        assert!(log.contains(needle), "agent log lacks {needle:?}");
    }
}

#[test]
fn bad_certificates_are_refused_with_the_reason() {
    let other = Server::start("127.0.0.1", &[]); // only for its (foreign) CA
    let expired_dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = stint_server::certs::generate(
        &["localhost".into(), "127.0.0.1".into()],
        Some(((2020, 1, 1), (2021, 1, 1))),
    )
    .unwrap();
    for (name, data) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
        std::fs::write(expired_dir.path().join(name), data).unwrap();
    }
    let cert_arg = expired_dir.path().join("cert.pem");
    let key_arg = expired_dir.path().join("key.pem");
    let expired = Server::start(
        "127.0.0.1",
        &[
            "--cert",
            cert_arg.to_str().unwrap(),
            "--key",
            key_arg.to_str().unwrap(),
        ],
    );
    let any_host = Server::start("0.0.0.0", &[]);
    let token = |s: &Server| s.admin(&["token", "create"]).trim().to_string();
    let cases = [
        (
            "wrong CA",
            format!(
                "url = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}",
                any_host.port,
                token(&any_host),
                other.ca()
            ),
            "signed by a CA this machine does not trust",
        ),
        (
            "wrong host name",
            format!(
                "url = \"https://127.0.0.2:{}\"\nenroll_token = \"{}\"\nca_file = {:?}",
                any_host.port,
                token(&any_host),
                any_host.ca()
            ),
            "not valid for the host name",
        ),
        (
            "expired certificate",
            format!(
                "url = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}",
                expired.port,
                token(&expired),
                expired_dir.path().join("ca.pem")
            ),
            "has expired",
        ),
        (
            "pinned key mismatch",
            format!(
                "url = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\npin_sha256 = \"{}\"",
                any_host.port,
                token(&any_host),
                any_host.ca(),
                "ab".repeat(32)
            ),
            "does not match server.pin_sha256",
        ),
    ];
    for (name, server_toml, why) in cases {
        let mut agent = Agent::new(None, &format!("{FAST}[server]\n{server_toml}\n"));
        agent.start_daemon();
        let error = wait_for(name, Duration::from_secs(20), || {
            let e = agent.status()["sync"]["last_error"].as_str()?.to_string();
            e.contains("TLS refused").then_some(e)
        });
        agent.stop_daemon();
        assert!(error.contains(why), "{name}: {error}");
        assert!(
            !agent.data_dir().join("device.json").exists(),
            "{name}: enrolled anyway"
        );
    }
}

/// Captures the server holds, as epoch ms of `taken_at`, oldest first.
/// Every capture the server holds, as (taken at, width, height), oldest first.
fn server_captures(server: &Server) -> Vec<(i64, u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(&server.admin(&["export", "--json"])).unwrap();
    let mut t: Vec<(i64, u64, u64)> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["captures"].as_array().unwrap().clone())
        .map(|c| {
            (
                parse_ms(c["taken_at"].as_str().unwrap()),
                c["width"].as_u64().unwrap(),
                c["height"].as_u64().unwrap(),
            )
        })
        .collect();
    t.sort();
    t
}

fn wait_for_policy_applied(agent: &Agent, times: usize) {
    wait_for("the policy to be applied", Duration::from_secs(20), || {
        (agent.stderr().matches("policy applied").count() >= times).then_some(())
    });
}

#[test]
fn server_policy_turns_screenshots_off_and_on_blurs_them_and_sets_the_segment_length() {
    let desk = Desktop::start(640, 480);
    let server = Server::start("127.0.0.1", &[]);
    server.admin(&["policy", "--set", "screenshots=false"]);
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "{FAST}[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    wait_for_policy_applied(&agent, 1);
    let off_at = now_ms();
    std::thread::sleep(Duration::from_secs(5)); // two and a half 2-second segments
    let s = agent.status();
    assert_eq!(s["samplers"]["screen"], "disabled by policy", "{s}");
    assert_eq!(s["policy"]["screenshots"], false, "{s}");
    let during_off = server_captures(&server)
        .into_iter()
        .filter(|c| c.0 >= off_at)
        .count();
    assert_eq!(during_off, 0, "screenshots taken while the policy said off");

    // Back on, with 3-second segments instead of the config's 2, blurred.
    server.admin(&[
        "policy",
        "--set",
        "screenshots=true",
        "--set",
        "segment_secs=3",
        "--set",
        "blur=true",
    ]);
    wait_for_policy_applied(&agent, 2);
    let on_at = now_ms();
    std::thread::sleep(Duration::from_secs(10));
    wait_for("captures to upload", Duration::from_secs(20), || {
        (agent.status()["queue"]["pending_captures"].as_u64() == Some(0)).then_some(())
    });
    agent.stop_daemon();
    let after: Vec<(i64, u64, u64)> = server_captures(&server)
        .into_iter()
        .filter(|c| c.0 >= on_at)
        .collect();
    // Blurred on the device: the 640x480 screen arrives as 64x48 averages.
    assert!(after.iter().all(|c| (c.1, c.2) == (64, 48)), "{after:?}");
    let shots: Vec<i64> = after.iter().map(|c| c.0).collect();
    let segments: HashSet<i64> = shots.iter().map(|t| t.div_euclid(3_000)).collect();
    assert_eq!(
        segments.len(),
        shots.len(),
        "two shots in one 3 s segment: {shots:?}"
    );
    // 10 s holds three 3-second segments (four if the edges fall right); 2-second
    // segments would have given five.
    assert!((2..=4).contains(&shots.len()), "{shots:?}");
}

#[test]
fn uploads_go_through_an_https_proxy_from_config_or_environment() {
    let server = Server::start("127.0.0.1", &[]);
    for how in ["config", "HTTPS_PROXY"] {
        let proxy = ConnectProxy::start();
        let mut toml = format!(
            "{FAST}[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        );
        let mut agent = if how == "config" {
            toml.push_str(&format!("proxy = \"{}\"\n", proxy.url()));
            Agent::new(None, &toml)
        } else {
            let mut a = Agent::new(None, &toml);
            a.env.push(("HTTPS_PROXY".into(), proxy.url()));
            a
        };
        agent.start_daemon();
        agent.wait_for_log("enrolled", Duration::from_secs(20));
        wait_for("a minute to arrive", Duration::from_secs(20), || {
            (agent.status()["sync"]["last_success"].is_string()).then_some(())
        });
        agent.stop_daemon();
        let targets = proxy.targets();
        assert!(
            !targets.is_empty()
                && targets
                    .iter()
                    .all(|t| *t == format!("localhost:{}", server.port)),
            "{how}: the proxy saw {targets:?}"
        );
    }
}

#[test]
fn a_revoked_device_stops_uploading_and_cannot_come_back_under_a_new_id() {
    let server = Server::start("127.0.0.1", &[]);
    let mut agent = Agent::new(
        None,
        &format!(
            "{FAST}[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    agent.wait_for_log("enrolled", Duration::from_secs(20));
    let device = wait_for("the device id", Duration::from_secs(10), || {
        agent.status()["sync"]["device_id"]
            .as_str()
            .map(str::to_string)
    });
    server.admin(&["revoke-device", &device]);
    let blocked = wait_for("uploads to be blocked", Duration::from_secs(30), || {
        let s = agent.status();
        (s["sync"]["state"] == "blocked").then_some(s)
    });
    agent.stop_daemon();
    let why = blocked["sync"]["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("device_revoked"), "{blocked}");
    let devices: serde_json::Value =
        serde_json::from_str(&server.admin(&["devices", "--json"])).unwrap();
    assert_eq!(
        devices.as_array().map(Vec::len),
        Some(1),
        "re-enrolled as a new device: {devices}"
    );
    assert!(agent
        .stderr()
        .contains("device token refused; enrolling again"));
}

/// Every record the server holds, as (kind, taken or started at, received at).
fn server_records(server: &Server) -> Vec<(&'static str, i64, i64)> {
    let v: serde_json::Value = serde_json::from_str(&server.admin(&["export", "--json"])).unwrap();
    let mut out = Vec::new();
    for d in v["devices"].as_array().unwrap() {
        for (kind, list, at) in [
            ("minute", "minutes", "start"),
            ("capture", "captures", "taken_at"),
        ] {
            for r in d[list].as_array().unwrap() {
                out.push((
                    kind,
                    parse_ms(r[at].as_str().unwrap()),
                    parse_ms(r["received_at"].as_str().unwrap()),
                ));
            }
        }
    }
    out
}

#[test]
fn review_window_holds_each_segment_back_and_the_user_can_delete_one() {
    const SEGMENT: i64 = 2_000;
    const REVIEW: i64 = 4_000;
    let desk = Desktop::start(640, 480);
    let server = Server::start("127.0.0.1", &[]);
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "{FAST}[privacy]\nreview_delay = \"4s\"\n[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    let status = agent.ok(&["status"]);
    assert!(status.contains("each segment waits 4s"), "{status}");
    let capture = wait_for("a screenshot in the queue", Duration::from_secs(20), || {
        agent.log().captures.into_iter().next()
    });
    let taken = parse_ms(&capture.taken_at);
    let end = taken - taken.rem_euclid(SEGMENT) + SEGMENT;
    if now_ms() < end - 300 {
        let out = agent.run(&["capture", "delete", &capture.id]);
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && text.contains("still being recorded"),
            "{out:?}"
        );
    }
    while now_ms() < end + 100 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let s = agent.status();
    assert_eq!(s["deletable"]["capture_id"], capture.id.as_str(), "{s}");
    let deleted = agent.ok(&["capture", "delete", &capture.id]);
    assert!(deleted.contains("deleted the segment"), "{deleted}");
    assert!(deleted.contains("1 capture(s)"), "{deleted}");

    // Later segments arrive, each no sooner than its end plus the window.
    wait_for(
        "captures of later segments on the server",
        Duration::from_secs(30),
        || {
            (server_records(&server)
                .iter()
                .filter(|r| r.0 == "capture")
                .count()
                >= 2)
                .then_some(())
        },
    );
    // Gone from the device too; a second deletion finds nothing and says so.
    assert!(agent.log().captures.iter().all(|c| c.id != capture.id));
    let out = agent.run(&["capture", "delete", &capture.id]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && text.contains("waits on this device"),
        "{out:?}"
    );
    agent.stop_daemon();
    let records = server_records(&server);
    for (kind, at, received) in &records {
        let seg_end = at - at.rem_euclid(SEGMENT) + SEGMENT;
        assert!(
            *received >= seg_end + REVIEW - 10,
            "{kind} of {} arrived at {}, inside its review window",
            stint::model::rfc3339(*at),
            stint::model::rfc3339(*received)
        );
        assert!(
            !(end - SEGMENT..end).contains(at),
            "a {kind} of the deleted segment reached the server"
        );
    }
}
