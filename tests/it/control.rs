//! The local control channel: one daemon per session, `stint start/stop/status`
//! over it, clear answers without a daemon, and no access for another OS user.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use crate::helpers::*;

const FAST: &str = "[schedule]\nminute = \"1s\"\nsegment = \"1h\"\n";

#[test]
fn one_daemon_per_session_and_start_stop_status_reach_it() {
    let mut agent = Agent::new(None, &format!("{FAST}[tracking]\ninitial = false\n"));

    // No daemon: the choice is remembered and the user is told.
    let out = agent.run(&["start"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no stint daemon is running") && err.contains("when it starts"),
        "{err}"
    );
    let s = agent.status();
    assert_eq!(
        (s["daemon"].is_null(), &s["tracking"]),
        (true, &serde_json::json!(true))
    );
    let text = agent.ok(&["status"]);
    assert!(text.contains("daemon:    not running"), "{text}");

    agent.start_daemon();
    agent.wait_for_log("control channel listening", Duration::from_secs(10));
    agent.wait_for_log("minute committed", Duration::from_secs(10));
    let s = agent.status();
    assert_eq!(s["daemon"]["pid"], agent.daemon_pid(), "{s}");

    // A second daemon for the same session refuses to start and names the first.
    let second = agent.run(&["run", "--no-tray"]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(75), "{err}");
    assert!(
        err.contains("already running") && err.contains(&agent.daemon_pid().to_string()),
        "{err}"
    );

    // Stop over the channel: the daemon stops recording within its control poll.
    let out = agent.ok(&["stop"]);
    assert_eq!(out.trim(), "tracking off");
    agent.wait_for_log("tracking switched tracking=false", Duration::from_secs(5));
    let before = agent.stderr().matches("minute committed").count();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        agent.stderr().matches("minute committed").count(),
        before,
        "minutes recorded after stop"
    );
    assert_eq!(agent.status()["tracking"], false);
    agent.ok(&["start"]);
    agent.wait_for_log("tracking switched tracking=true", Duration::from_secs(5));

    // Quit over the channel (the tray's Quit) is refused while policy says so.
    let socket = agent.dir.path().join("run/stint/stint.sock");
    let quit = || {
        use std::io::{BufRead, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        s.write_all(b"{\"cmd\":\"quit\"}\n").unwrap();
        let mut answer = String::new();
        std::io::BufReader::new(s).read_line(&mut answer).unwrap();
        answer
    };
    let db = rusqlite::Connection::open(agent.data_dir().join("queue.db")).unwrap();
    db.execute(
        "INSERT OR REPLACE INTO state (key, value) VALUES ('policy', '{\"allow_quit\":false}')",
        [],
    )
    .unwrap();
    let refused = quit();
    assert!(
        refused.contains("turned off by your organisation's policy"),
        "{refused}"
    );
    assert_eq!(agent.status()["daemon"]["pid"], agent.daemon_pid());
    db.execute("DELETE FROM state WHERE key = 'policy'", [])
        .unwrap();
    let answer = quit();
    assert!(answer.contains("\"answer\":\"status\""), "{answer}");
    let status = agent.wait_daemon_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert!(
        !agent.dir.path().join("run/stint/stint.sock").exists(),
        "socket left behind"
    );
    let mode = std::fs::metadata(agent.data_dir())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "data dir is {mode:o}");
}

const OTHER: &str = "stint-it-other";

/// Runs stint as another OS user with the agent's config and runtime dir.
fn as_other_user(agent: &Agent, config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", OTHER, "--", STINT, "--config"])
        .arg(config)
        .args(args)
        .env("XDG_RUNTIME_DIR", agent.dir.path().join("run"))
        .env("HOME", "/nonexistent")
        .env("STINT_SYSTEM_CONFIG", "/nonexistent/stint.toml")
        .env_remove("DISPLAY")
        .output()
        .unwrap()
}

/// A stopped (or hung) daemon still accepts connections, since the kernel
/// queues them, but never answers: every command gives up with its own exit
/// code instead of hanging.
#[test]
fn a_daemon_that_does_not_answer_is_said_so_with_exit_70() {
    let mut agent = Agent::new(None, &format!("{FAST}[tracking]\ninitial = true\n"));
    agent.start_daemon();
    agent.wait_for_log("control channel listening", Duration::from_secs(10));
    signal(agent.daemon_pid(), "STOP");
    for args in [
        &["status"][..],
        &["stop"],
        &["capture", "delete", "nothing"],
    ] {
        let out = agent.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(70), "stint {args:?}: {err}");
        assert!(err.contains("does not answer"), "stint {args:?}: {err}");
    }
    signal(agent.daemon_pid(), "CONT");
    assert!(agent.ok(&["status"]).contains("daemon:    running"));
    agent.stop_daemon();
}

#[test]
fn another_os_user_can_neither_control_nor_read_the_daemon() {
    require_root("this test creates an OS user");
    let _ = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            OTHER,
        ])
        .output();
    let mut agent = Agent::new(None, &format!("{FAST}[tracking]\ninitial = true\n"));
    // The other user may read a copy of the config (so it names the same data
    // dir and socket) and traverse to the socket, nothing more.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = shared.path().join("stint.toml");
    std::fs::copy(&agent.config, &config).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(agent.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    agent.start_daemon();
    agent.wait_for_log("control channel listening", Duration::from_secs(10));
    let run_dir = agent.dir.path().join("run/stint");
    assert_eq!(
        std::fs::metadata(&run_dir).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let denied = |what: &str| {
        for args in [
            &["stop"][..],
            &["start"],
            &["status", "--json"],
            &["status"],
        ] {
            let out = as_other_user(&agent, &config, args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(77), "{what}: {args:?}: {err}");
            assert!(
                err.contains("belongs to another user"),
                "{what}: {args:?}: {err}"
            );
            assert!(
                out.stdout.is_empty(),
                "{what}: {args:?} printed {:?}",
                out.stdout
            );
        }
    };
    // As installed: the owner-only directory keeps the other user out.
    denied("0700 runtime dir");
    // Even with the directory and socket opened up, the daemon checks the peer.
    for dir in [agent.dir.path().join("run"), run_dir.clone()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::set_permissions(
        run_dir.join("stint.sock"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    denied("world-writable socket");
    assert!(agent
        .stderr()
        .contains("control connection from another user refused"));
    assert_eq!(
        agent.status()["tracking"],
        true,
        "the other user switched tracking"
    );
    // And the queue itself is not readable by them either.
    let out = as_other_user(&agent, &config, &["log", "--json"]);
    assert!(!out.status.success(), "other user read the log: {out:?}");
    agent.stop_daemon();
}

/// Whether a `stint-tray` of the agent's config is running.
fn tray_running(agent: &Agent) -> bool {
    Command::new("pgrep")
        .arg("-f")
        .arg(format!("stint-tray --config {}", agent.config.display()))
        .status()
        .unwrap()
        .success()
}

/// `stint run` with its output to pipes, as a script that reads it starts it.
fn run_piped(agent: &Agent) -> std::process::Child {
    agent
        .command()
        .arg("run")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `pipe` to its end on a thread; the text, once every writer is gone.
fn to_end(mut pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// Daemons killed outright on a desktop take their trays with them, and
/// nothing they started holds the pipes of whoever started them; so a
/// config error right after, on the same desktop and user, exits 78 at
/// once, its output complete. (Orphaned trays once kept a caller that
/// waits for the pipes to close waiting, and a new daemon's tray beside
/// the old ones.)
#[test]
fn killed_daemons_leave_no_tray_or_pipe_behind_and_a_bad_config_then_exits_78() {
    let desk = Desktop::start(320, 240);
    let agent = Agent::new(Some(&desk), "[tracking]\ninitial = true\n");
    for round in 0..2 {
        let mut child = run_piped(&agent);
        let (out, err) = (
            to_end(child.stdout.take().unwrap()),
            to_end(child.stderr.take().unwrap()),
        );
        wait_for("the tray", Duration::from_secs(20), || {
            tray_running(&agent).then_some(())
        });
        child.kill().unwrap();
        child.wait().unwrap();
        // At once, not when an orphaned tray would notice (seconds later):
        // the tray dies with its daemon and never held these pipes.
        for (name, pipe) in [("stdout", out), ("stderr", err)] {
            pipe.recv_timeout(Duration::from_secs(3))
                .unwrap_or_else(|_| {
                    panic!("round {round}: the daemon's {name} is still held open")
                });
        }
        wait_for(
            "the tray to end with its daemon",
            Duration::from_secs(3),
            || (!tray_running(&agent)).then_some(()),
        );
    }
    let mut toml = std::fs::read_to_string(&agent.config).unwrap();
    toml.push_str("\n[schedule]\nminute = \"1ms\"\n");
    std::fs::write(&agent.config, toml).unwrap();
    let mut child = run_piped(&agent);
    let err = to_end(child.stderr.take().unwrap());
    let status = wait_for(
        "stint run with a bad config to exit",
        Duration::from_secs(10),
        || child.try_wait().unwrap(),
    );
    assert_eq!(status.code(), Some(78));
    let said = err
        .recv_timeout(Duration::from_secs(10))
        .expect("its stderr closed");
    assert!(
        said.contains("schedule.minute") && said.contains("1ms"),
        "{said}"
    );
    assert!(!tray_running(&agent));
}
