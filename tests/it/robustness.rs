//! Failure paths: crashes mid-segment, corrupt databases, bad config, missing
//! display or camera. Each must give a clear message and lose nothing committed.

use std::collections::HashSet;
use std::time::Duration;

use crate::helpers::*;
use stint::model::LogOutput;

/// Minute starts the daemon logged as committed (the log line follows the commit).
fn committed_minutes(agent: &Agent) -> Vec<String> {
    agent
        .stderr()
        .lines()
        .filter(|l| l.contains("minute committed"))
        .filter_map(|l| l.split("start=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn kill_9_mid_segment_keeps_every_committed_minute_and_no_half_capture() {
    let mut desk = Desktop::start(1024, 768);
    desk.xterm("stint crash target");
    let mut agent = Agent::new(
        Some(&desk),
        // JPEG here so both encoders run end to end (the screenshot test uses WebP).
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[capture]\nformat = \"jpeg\"\n[tracking]\ninitial = true",
    );
    let mut committed = HashSet::new();
    for round in 0..6u64 {
        agent.start_daemon();
        desk.xdotool(&["key", "--delay", "30", "a", "b"]);
        // Vary the moment of death across the segment, captures included.
        std::thread::sleep(Duration::from_millis(1_700 + round * 373));
        agent.kill_daemon();
        committed.extend(committed_minutes(&agent));

        // The files as the crash left them must already be a consistent database.
        let db = rusqlite::Connection::open(agent.data_dir().join("queue.db")).unwrap();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(db);
    }
    assert!(
        committed.len() >= 6,
        "the daemon committed minutes: {committed:?}"
    );
    agent.start_daemon(); // the owner sweeps leftovers of interrupted captures
    agent.stop_daemon();
    let log = agent.log();
    let stored: HashSet<String> = log.minutes.iter().map(|m| m.start.clone()).collect();
    let lost: Vec<_> = committed.difference(&stored).collect();
    assert!(lost.is_empty(), "committed minutes lost: {lost:?}");
    assert_eq!(stored.len(), log.minutes.len(), "no duplicate minutes");
    assert!(!log.captures.is_empty());
    assert_images_match_rows(&agent, &log, (1024, 768), "jpeg");
}

/// Every image file has a committed row and vice versa, and each decodes to the
/// size and byte count its row claims: no half-written capture is ever visible.
fn assert_images_match_rows(agent: &Agent, log: &LogOutput, size: (u32, u32), format: &str) {
    let dir = agent.data_dir().join("captures");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        log.captures.len(),
        "every image has a row and vice versa: {files:?}"
    );
    for c in &log.captures {
        assert_eq!(c.format, format);
        let path = files
            .iter()
            .find(|f| f.file_stem().and_then(|s| s.to_str()) == Some(c.id.as_str()))
            .unwrap_or_else(|| panic!("no image file for capture {}", c.id));
        let (w, h, _) = decode_image(path);
        assert_eq!(
            (w, h, c.bytes),
            (size.0, size.1, std::fs::metadata(path).unwrap().len())
        );
    }
}

/// A tmpfs mounted over a directory while the value lives: a disk that really
/// fills up (ENOSPC / SQLITE_FULL), not a simulated error.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root, as the test command runs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Writes zeros until the file system refuses another byte.
fn fill_disk(path: &std::path::Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 4096];
    loop {
        if let Err(e) = f.write_all(&block).and_then(|()| f.sync_all()) {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
            return;
        }
    }
}

#[test]
fn full_disk_keeps_minutes_in_memory_and_stores_each_once_space_returns() {
    let mut desk = Desktop::start(800, 600);
    let target = desk.xterm("stint full disk target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true",
    );
    let _disk = Tmpfs::mount(&agent.data_dir(), "2m");
    agent.start_daemon();
    agent.wait_for_log("minute committed", Duration::from_secs(20));
    desk.focus(&target);
    let filler = agent.data_dir().join("filler");
    fill_disk(&filler);

    let mut typed = 0;
    wait_for(
        "the queue to hit the full disk",
        Duration::from_secs(60),
        || {
            desk.xdotool(&["key", "--delay", "40", "a", "b", "c", "d", "e"]);
            typed += 5;
            agent
                .stderr()
                .contains("could not store minute")
                .then_some(())
        },
    );
    for _ in 0..3 {
        desk.xdotool(&["key", "--delay", "40", "a", "b", "c", "d", "e"]);
        typed += 5;
        std::thread::sleep(Duration::from_millis(700));
    }
    assert!(
        agent.stderr().contains("disk full while writing"),
        "the error names the cause:\n{}",
        agent.stderr()
    );

    std::fs::remove_file(&filler).unwrap();
    std::thread::sleep(Duration::from_secs(4)); // the next minutes retry the backlog
    agent.stop_daemon();

    let log = agent.log();
    let starts: Vec<i64> = log.minutes.iter().map(|m| parse_ms(&m.start)).collect();
    let gaps: Vec<_> = starts.windows(2).filter(|w| w[1] - w[0] != 1_000).collect();
    assert!(gaps.is_empty(), "minutes missing or repeated: {gaps:?}");
    let counted: u64 = log.minutes.iter().map(|m| u64::from(m.keystrokes)).sum();
    assert_eq!(
        counted, typed,
        "every keystroke typed while the disk was full"
    );
    assert_images_match_rows(&agent, &log, (800, 600), "webp");
}

#[test]
fn corrupt_database_is_reported_by_readers_and_moved_aside_by_the_daemon() {
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\n[tracking]\ninitial = true",
    );
    std::fs::create_dir_all(agent.data_dir()).unwrap();
    std::fs::write(agent.data_dir().join("queue.db"), vec![0xA5u8; 16_384]).unwrap();
    let out = agent.run(&["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{err}");
    assert!(err.contains("queue.db") && err.contains("corrupt"), "{err}");

    agent.start_daemon();
    agent.wait_for_log("minute committed", Duration::from_secs(10));
    agent.stop_daemon();
    assert!(agent.stderr().contains("started a fresh one"));
    let aside: Vec<_> = std::fs::read_dir(agent.data_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("queue.db.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(aside[0].path()).unwrap(),
        vec![0xA5u8; 16_384],
        "kept intact for recovery"
    );
    assert!(
        !agent.log().minutes.is_empty(),
        "recording continued in a fresh queue"
    );
}

fn image_names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with(".part"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A fresh database knows none of the old images; before, the sweep then
/// deleted every one of them as a leftover.
#[test]
fn a_corrupt_queue_keeps_its_screenshots_and_status_says_where() {
    let mut desk = Desktop::start(640, 480);
    desk.xterm("stint corrupt target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    let captures = agent.data_dir().join("captures");
    wait_for("three screenshots", Duration::from_secs(30), || {
        (image_names(&captures).len() >= 3).then_some(())
    });
    agent.stop_daemon();
    let images = image_names(&captures);
    let db = agent.data_dir().join("queue.db");
    // Everything into the main file first: SQLite would read a header page
    // still in the WAL from there and never notice the damage.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..100].fill(0xA5); // the header
    std::fs::write(&db, bytes).unwrap();

    agent.start_daemon();
    assert!(
        agent.stderr().contains("its captures aside"),
        "{}",
        agent.stderr()
    );
    let note = agent.status()["recovery"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(note.contains("capture file(s)"), "{note}");
    let aside = std::fs::read_dir(agent.data_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".captures"))
        .expect("the captures went aside with the database");
    assert_eq!(image_names(&aside), images, "every image kept");
    assert!(note.contains(&aside.display().to_string()), "{note}");
    assert!(agent.ok(&["status"]).contains("recovered: "));
    agent.stop_daemon();
}

/// `data_dir` pointed at someone's folder: refused with exit 74, and nothing
/// in it touched, its mode included.
#[test]
fn a_foreign_data_dir_is_refused_and_left_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let agent = Agent::new(None, "[tracking]\ninitial = true");
    let dir = agent.data_dir();
    std::fs::create_dir_all(dir.join("captures")).unwrap();
    std::fs::write(dir.join("captures/holiday.jpg"), "photo").unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let before = image_names(&dir);
    for args in [&["status"][..], &["run", "--no-tray"], &["log"]] {
        let out = agent.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(74), "stint {args:?}: {err}");
        assert!(
            err.contains("did not create") && err.contains("notes.txt"),
            "{err}"
        );
    }
    assert_eq!(image_names(&dir), before, "nothing added or removed");
    assert_eq!(image_names(&dir.join("captures")), ["holiday.jpg"]);
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o1777, "mode untouched");
}

/// Status follows the input source: unavailable once the X server is gone
/// (before, it still said ok), ok again once one is back.
#[test]
fn input_status_follows_the_x_server_going_and_coming_back() {
    let mut desk = Desktop::start(640, 480);
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    let input = |agent: &Agent| {
        agent.status()["samplers"]["input"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(input(&agent), "ok (xinput2-raw)");
    desk.kill_x_server();
    let gone = wait_for("input to read unavailable", Duration::from_secs(30), || {
        let s = input(&agent);
        s.starts_with("unavailable").then_some(s)
    });
    assert!(gone.contains("display") || gone.contains("X"), "{gone}");
    desk.restart_x_server(640, 480);
    wait_for("input to read ok again", Duration::from_secs(30), || {
        (input(&agent) == "ok (xinput2-raw)").then_some(())
    });
    let minutes = agent.log().minutes;
    assert!(
        minutes.iter().any(|m| m.counts_unknown),
        "minutes without X have unknown counts"
    );
    agent.stop_daemon();
}

#[test]
fn bad_config_is_refused_naming_file_key_value_and_what_is_allowed() {
    // (config text, what stderr must mention)
    let cases: &[(&str, &[&str])] = &[
        (
            "[schedule]\nminute = \"2x\"",
            &["schedule.minute", "\"2x\"", "500ms, 2s, 10m or 1h"],
        ),
        (
            "[schedule]\nsegment = \"10s\"\nminute = \"1m\"",
            &["schedule.segment", "at least schedule.minute"],
        ),
        (
            "[capture]\nquality = 101",
            &["capture.quality", "101", "1 to 100"],
        ),
        ("[capture]\nwebcam = \"yes\"", &["webcam", "boolean"]),
        ("[schedul]\nminute = \"1m\"", &["schedul", "unknown field"]),
    ];
    for (text, needles) in cases {
        let agent = Agent::new(None, text);
        for cmd in [&["status"][..], &["run"][..]] {
            let out = agent.run(cmd);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(78), "{text:?} {cmd:?}: {err}");
            assert!(
                err.contains(agent.config.to_str().unwrap()),
                "names the file: {err}"
            );
            for n in *needles {
                assert!(err.contains(n), "{text:?}: expected {n:?} in: {err}");
            }
        }
    }
    let out = std::process::Command::new(STINT)
        .args(["--config", "/nonexistent/stint.toml", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/stint.toml"));
}

#[test]
fn without_a_display_doctor_explains_and_the_daemon_still_keeps_time() {
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\n[tracking]\ninitial = true",
    );
    let out = agent.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(69), "{text}");
    assert!(text.contains("DISPLAY is not set"), "{text}");
    assert!(
        text.contains("fix: run stint inside the user's desktop session"),
        "{text}"
    );

    agent.start_daemon();
    agent.wait_for_log("minute committed", Duration::from_secs(10));
    agent.stop_daemon();
    let status = agent.ok(&["status"]);
    assert!(
        status.contains("input      unavailable: no graphical session"),
        "{status}"
    );
    let log = agent.log();
    assert!(log.minutes.iter().all(|m| m.title.is_none() && !m.idle));
    assert!(log.captures.is_empty());
}

#[test]
fn webcam_enabled_without_a_camera_is_a_clear_status_not_a_crash() {
    let mut desk = Desktop::start(800, 600);
    desk.xterm("stint webcam target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[capture]\nwebcam = true\n[tracking]\ninitial = true",
    );
    let out = agent.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(69), "{text}");
    assert!(text.contains("FAIL  webcam"), "{text}");
    assert!(
        text.contains("fix: connect a camera, or set capture.webcam = false"),
        "{text}"
    );

    agent.start_daemon();
    wait_for(
        "a screenshot despite the missing camera",
        Duration::from_secs(15),
        || (!agent.log().captures.is_empty()).then_some(()),
    );
    agent.stop_daemon();
    let status = agent.ok(&["status"]);
    assert!(status.contains("webcam     unavailable:"), "{status}");
    assert!(agent
        .log()
        .captures
        .iter()
        .all(|c| c.kind == stint::model::CaptureKind::Screenshot));
}
