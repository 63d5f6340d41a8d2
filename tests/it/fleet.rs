//! stint-server as a fleet: two replicas sharing one PostgreSQL database and
//! one S3 bucket (SeaweedFS), agents behind a balancer, replicas killed with
//! SIGKILL again and again, S3 stopped for a while, and an embedded
//! deployment migrated across, killed halfway and resumed. Afterwards every
//! minute and image is there exactly once and every object is referenced.

use std::collections::HashSet;
use std::time::Duration;

use crate::helpers::fleet::{psql, Balancer, Engines};
use crate::helpers::*;

const FAST: &str = "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n";

fn env_value<'a>(env: &'a [(String, String)], key: &str) -> &'a str {
    &env.iter().find(|(k, _)| k == key).unwrap().1
}

/// Every object key under the bucket prefix the env names, straight from S3.
fn bucket_keys(env: &[(String, String)]) -> HashSet<String> {
    let spec = env_value(env, "STINT_SERVER_OBJECTS");
    let prefix = spec
        .trim_start_matches("s3://stint/")
        .split('?')
        .next()
        .unwrap();
    let mut keys = HashSet::new();
    let mut token = String::new();
    loop {
        let mut url =
            format!("http://127.0.0.1:8333/stint?list-type=2&max-keys=1000&prefix={prefix}/");
        if !token.is_empty() {
            url.push_str(&format!("&continuation-token={token}"));
        }
        let out = std::process::Command::new("curl")
            .args(["-sf", &url])
            .output()
            .unwrap();
        assert!(out.status.success(), "listing the bucket: {out:?}");
        let xml = String::from_utf8(out.stdout).unwrap();
        for part in xml.split("<Key>").skip(1) {
            let key = part.split("</Key>").next().unwrap();
            keys.insert(key.trim_start_matches(&format!("{prefix}/")).to_string());
        }
        match xml.split("<NextContinuationToken>").nth(1) {
            Some(rest) => token = rest.split('<').next().unwrap().replace('=', "%3D"),
            None => return keys,
        }
    }
}

/// Rows of one query on the fleet database, one string per row.
fn rows(env: &[(String, String)], sql: &str) -> Vec<String> {
    let out = psql(env_value(env, "STINT_SERVER_DATABASE"), sql);
    out.lines().map(str::to_string).collect()
}

/// Every capture row's image (and thumbnail) is in the bucket, and every
/// object in the bucket belongs to a row or is noted for the orphan sweep.
fn assert_rows_and_objects_agree(env: &[(String, String)]) {
    let files = rows(env, "SELECT file FROM captures");
    let mut named: HashSet<String> = files.iter().cloned().collect();
    named.extend(files.iter().map(|f| {
        let stem = f.rsplit_once('.').unwrap().0;
        format!("{stem}.thumb.webp")
    }));
    let keys = bucket_keys(env);
    let missing: Vec<_> = files.iter().filter(|f| !keys.contains(*f)).collect();
    assert!(missing.is_empty(), "rows naming no object: {missing:?}");
    // A replica killed between an object and its row leaves an orphan; the
    // sweep finds it through its in-doubt note, so none may lack one.
    let noted: HashSet<String> = rows(env, "SELECT key FROM object_writes")
        .into_iter()
        .collect();
    let orphans: Vec<_> = keys
        .iter()
        .filter(|k| {
            let image = k.replace(".thumb.webp", ".");
            !named.contains(*k) && !noted.iter().any(|n| *n == **k || n.starts_with(&image))
        })
        .collect();
    assert!(
        orphans.is_empty(),
        "objects no row names and no note finds: {orphans:?}"
    );
}

/// Capture ids an agent's logs say it committed to its queue.
fn committed_captures(agent: &Agent) -> HashSet<String> {
    std::fs::read_dir(agent.data_dir().join("logs"))
        .unwrap()
        .flat_map(|e| {
            std::fs::read_to_string(e.unwrap().path())
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("capture committed"))
                .filter_map(|l| {
                    l.split("id=")
                        .nth(1)?
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn drained(agent: &Agent) -> Option<()> {
    let q = &agent.status()["queue"];
    (q["pending_minutes"].as_u64() == Some(0) && q["pending_captures"].as_u64() == Some(0))
        .then_some(())
}

#[test]
fn two_replicas_lose_nothing_while_killed_again_and_again() {
    let Some(engines) = Engines::from_env("two_replicas_lose_nothing_while_killed_again_and_again")
    else {
        return;
    };
    let env = engines.fresh();
    // Small batches (413 above 40 KB, and the agent halves), so the backlog
    // takes many requests and the kills land mid-drain.
    let small = ["--max-batch-bytes", "40000"];
    let mut a = Server::start_env("127.0.0.1", &small, None, env.clone());
    // One certificate for both, as behind a real load balancer.
    let (cert, key) = (
        a.dir.path().join("server.pem"),
        a.dir.path().join("server.key"),
    );
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let mut b = Server::start_env(
        "127.0.0.1",
        &[small[0], small[1], "--cert", cert, "--key", key],
        None,
        env.clone(),
    );
    let lb = Balancer::start(vec![a.port, b.port]);
    let token = a.admin(&["token", "create"]);
    let mut desk = Desktop::start(320, 240);
    desk.xterm("fleet");
    let toml = format!(
        "{FAST}[tracking]\ninitial = true\n[server]\nurl = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
        lb.port,
        token.trim(),
        a.ca().to_str().unwrap()
    );
    let mut agents: Vec<Agent> = (0..3).map(|_| Agent::new(Some(&desk), &toml)).collect();
    let mut expected = HashSet::new();
    for (i, agent) in agents.iter_mut().enumerate() {
        agent.start_daemon();
        agent.wait_for_log("enrolled", Duration::from_secs(30));
        agent.stop_daemon();
        expected.extend(agent.add_backlog(5_000, &format!("fleet{i}")));
    }
    for agent in &mut agents {
        agent.start_daemon();
    }
    // Kill one replica or the other, mid-upload, for a while.
    let mut mid_drain = 0;
    for round in 0..12 {
        let victim = if round % 2 == 0 { &mut a } else { &mut b };
        std::thread::sleep(Duration::from_millis(200 + fastrand::u64(0..600)));
        let arrived = rows(&env, "SELECT count(*) FROM minutes WHERE id LIKE 'fleet%'");
        mid_drain += (arrived[0].parse::<usize>().unwrap() < expected.len()) as u32;
        victim.stop(); // SIGKILL
        std::thread::sleep(Duration::from_millis(100 + fastrand::u64(0..400)));
        victim.restart("127.0.0.1");
    }
    assert!(
        mid_drain >= 6,
        "only {mid_drain} of 12 kills came before the backlog was in"
    );
    for agent in &agents {
        agent.ok(&["stop"]);
    }
    for agent in &agents {
        wait_for("the backlog to drain", Duration::from_secs(180), || {
            drained(agent)
        });
    }
    let mut captured = HashSet::new();
    for agent in &mut agents {
        agent.stop_daemon();
        captured.extend(committed_captures(agent));
    }

    let ids = rows(&env, "SELECT id FROM minutes WHERE id LIKE 'fleet%'");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a minute stored twice");
    let lost: Vec<_> = expected
        .iter()
        .filter(|id| !unique.contains(id))
        .take(10)
        .collect();
    assert!(lost.is_empty(), "minutes lost: {lost:?}");
    let stored: HashSet<String> = rows(&env, "SELECT id FROM captures").into_iter().collect();
    let lost: Vec<_> = captured.difference(&stored).collect();
    assert!(
        !captured.is_empty() && lost.is_empty(),
        "images lost: {lost:?}"
    );
    assert_rows_and_objects_agree(&env);
    // Both replicas took part, and the one that ran retention and the sweep
    // holds its lease alone.
    for s in [&a, &b] {
        let log = std::fs::read_to_string(s.stderr_path()).unwrap();
        assert!(!log.contains("panicked"), "{log}");
    }
    assert_eq!(
        rows(&env, "SELECT count(*) FROM leases WHERE name = 'retention'"),
        ["1"]
    );
}

#[test]
fn with_s3_stopped_uploads_get_503_and_nothing_is_lost() {
    let Some(engines) = Engines::from_env("with_s3_stopped_uploads_get_503_and_nothing_is_lost")
    else {
        return;
    };
    // No other test may use the bucket while it is down.
    let _owned = Engines::own_s3();
    let mut env = engines.fresh();
    env.push(("STINT_TEST_OWNS_S3".into(), "1".into()));
    let server = Server::start_env("127.0.0.1", &[], None, env.clone());
    let mut desk = Desktop::start(320, 240);
    desk.xterm("outage");
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "{FAST}[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    agent.wait_for_log("capture committed", Duration::from_secs(30));

    let down = engines.s3_down();
    let ready = std::process::Command::new("curl")
        .args(["-sk", "-w", "\n%{http_code}"])
        .arg(format!("https://127.0.0.1:{}/readyz", server.port))
        .output()
        .unwrap();
    let refused = wait_for(
        "a capture refused with 503",
        Duration::from_secs(40),
        || {
            let e = agent.status()["sync"]["last_error"].as_str()?.to_string();
            e.contains("503").then_some(e)
        },
    );
    drop(down);
    // Anyone may ask: the answer names no host, bucket or error.
    assert_eq!(
        String::from_utf8_lossy(&ready.stdout),
        "not ready\n\n503",
        "readyz while S3 is down"
    );
    assert!(refused.contains("retry"), "{refused}");

    agent.ok(&["stop"]);
    wait_for("the queue to drain", Duration::from_secs(120), || {
        drained(&agent)
    });
    agent.stop_daemon();
    let captured = committed_captures(&agent);
    let stored: HashSet<String> = rows(&env, "SELECT id FROM captures").into_iter().collect();
    let lost: Vec<_> = captured.difference(&stored).collect();
    assert!(lost.is_empty(), "images lost: {lost:?}");
    assert_rows_and_objects_agree(&env);
}

#[test]
fn an_embedded_deployment_migrates_to_postgres_and_s3_through_a_kill() {
    let Some(engines) =
        Engines::from_env("an_embedded_deployment_migrates_to_postgres_and_s3_through_a_kill")
    else {
        return;
    };
    let world = World::new_embedded();
    let embedded = world.server.admin(&["export", "--json"]);
    let _s3 = Engines::share_s3();
    let env = engines.fresh();
    let target = [
        "migrate",
        "--to-database",
        env_value(&env, "STINT_SERVER_DATABASE"),
        "--to-objects",
        env_value(&env, "STINT_SERVER_OBJECTS"),
        "--batch",
        "1",
    ];
    // Killed at its first progress line, mid-copy.
    let mut first = world.server.admin_command();
    first
        .args(target)
        .envs(env.iter().filter(|(k, _)| k.starts_with("AWS_")).cloned())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = first.spawn().unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.starts_with("migrate: "), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();

    let out = world
        .server
        .admin_command()
        .args(target)
        .envs(env.iter().filter(|(k, _)| k.starts_with("AWS_")).cloned())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("migrated and verified"),
        "{out:?}"
    );
    assert!(said.contains("images"), "{said}");

    // The fleet serves what the embedded server held, byte for byte.
    let fleet = Server::start_env("127.0.0.1", &[], None, env.clone());
    assert_eq!(fleet.admin(&["export", "--json"]), embedded);
    let at = fleet.admin(&["capture-path", &world.capture]);
    assert!(at.starts_with("s3://stint/it_"), "{at}");
    assert_rows_and_objects_agree(&env);
}
