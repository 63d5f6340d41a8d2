//! What the recorder captures on a live desktop: exact counts, window facts, idle
//! minutes, screenshots, and nothing at all while tracking is off.

use std::time::Duration;

use crate::helpers::*;

const COUNT_CONFIG: &str = r#"
[schedule]
minute = "3s"
segment = "30s"
idle_after = "1m"
[capture]
screenshots = false
[tracking]
initial = true
"#;

#[test]
fn counts_every_press_click_and_scroll_exactly() {
    let mut desk = Desktop::start(1024, 768);
    desk.xterm("stint count target");
    let mut agent = Agent::new(Some(&desk), COUNT_CONFIG);
    agent.start_daemon();
    let slots = bursts::play(3_000, |args| desk.xdotool(args));
    let log = agent.wait_for_minute(*slots.last().unwrap());
    bursts::check(&slots, |start| {
        let m = minute_at(&log, start);
        (m.keystrokes, m.clicks, m.scrolls, m.idle)
    });
    let total_keys: u32 = log.minutes.iter().map(|m| m.keystrokes).sum();
    assert_eq!(total_keys, bursts::total_keys(), "no stray counts anywhere");
    // xdotool types through XTEST, which X marks: all of it is synthetic.
    for m in &log.minutes {
        assert_eq!(
            (m.synthetic_keystrokes, m.synthetic_clicks, m.counts_unknown),
            (m.keystrokes, m.clicks, false),
            "minute {}",
            m.start
        );
    }
    agent.stop_daemon();
}

/// Device input against XTEST input: an X server nested in a window (Xephyr)
/// gets what is typed into that window through its own keyboard and pointer,
/// as from a person, while xdotool on the nested display goes through XTEST,
/// as from a mouse jiggler or a remote-control tool.
#[test]
fn synthetic_presses_and_clicks_are_told_apart_from_device_input() {
    let mut desk = Desktop::start(1024, 768);
    let nested = desk.nested(640, 480);
    let mut agent = Agent::on_display(Some(nested.display.clone()), COUNT_CONFIG);
    agent.start_daemon();
    desk.xdotool(&["mousemove", "--window", &nested.window, "200", "200"]);
    let slot = wait_into_next_period(3_000, 400);
    desk.xdotool(&["key", "--delay", "20", "a", "b", "c", "d", "e"]);
    desk.xdotool(&["click", "--repeat", "3", "--delay", "40", "1"]);
    nested.xtest(&["key", "--delay", "20", "x", "y"]);
    nested.xtest(&["click", "--repeat", "2", "--delay", "40", "1"]);
    assert!(now_ms() < slot + 2_700, "the input overran its minute");
    let log = agent.wait_for_minute(slot);
    let m = minute_at(&log, slot);
    assert_eq!(
        (
            m.keystrokes,
            m.synthetic_keystrokes,
            m.clicks,
            m.synthetic_clicks
        ),
        (7, 2, 5, 2),
        "device input counts, XTEST input counts and is marked synthetic"
    );
    agent.stop_daemon();
}

#[test]
fn records_title_exe_and_app_of_the_focused_window() {
    let mut desk = Desktop::start(800, 600);
    let titles = ["stint plain ASCII title", "Тест ✓ 日本語 — stint"];
    let windows: Vec<String> = titles.iter().map(|t| desk.xterm(t)).collect();
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"2s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    let xterm = std::fs::canonicalize("/usr/bin/xterm").unwrap();
    for (title, win) in titles.iter().zip(&windows) {
        desk.focus(win);
        // The sample moment is random inside the minute: the next whole minute is
        // entirely under this focus.
        let slot = wait_into_next_period(2_000, 0);
        let log = agent.wait_for_minute(slot);
        let m = minute_at(&log, slot);
        assert_eq!(m.title.as_deref(), Some(*title));
        assert_eq!(m.exe_path.as_deref(), Some(xterm.to_str().unwrap()));
        assert_eq!(m.app.as_deref(), Some("XTerm"));
    }
    agent.stop_daemon();
}

#[test]
fn idle_minutes_follow_the_threshold_and_motion_keeps_a_minute_active() {
    let mut desk = Desktop::start(800, 600);
    let win = desk.xterm("stint idle target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"2s\"\nidle_after = \"5s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    let typed = wait_into_next_period(2_000, 300);
    desk.xdotool(&["key", "x"]);
    // Then nothing: minutes stay active until idle_after has passed at their end.
    let log = agent.wait_for_minute(typed + 6_000);
    let idle_of = |start: i64| minute_at(&log, start).idle;
    assert!(!idle_of(typed), "minute with a keystroke");
    assert!(
        !idle_of(typed + 2_000),
        "3.7 s since input at its end: within idle_after"
    );
    assert!(idle_of(typed + 4_000), "5.7 s since input at its end: idle");
    assert!(idle_of(typed + 6_000), "7.7 s since input at its end: idle");
    // Motion only: no counts, yet not idle.
    let moved = wait_into_next_period(2_000, 300);
    desk.xdotool(&[
        "mousemove",
        "--window",
        &win,
        "100",
        "100",
        "mousemove",
        "--window",
        &win,
        "200",
        "150",
    ]);
    let log = agent.wait_for_minute(moved);
    let m = minute_at(&log, moved);
    assert_eq!(
        (m.keystrokes, m.clicks, m.scrolls, m.idle),
        (0, 0, 0, false)
    );
    agent.stop_daemon();
}

#[test]
fn one_screenshot_per_segment_decodes_to_the_monitor_size_and_is_not_blank() {
    let mut desk = Desktop::start(1280, 720);
    desk.xterm("stint screenshot target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"3s\"\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    let first_full = wait_into_next_period(3_000, 0);
    std::thread::sleep(Duration::from_millis(3 * 3_000 + 1_500));
    agent.stop_daemon();
    let log = agent.log();
    let segments: Vec<i64> = log
        .captures
        .iter()
        .map(|c| {
            let t = parse_ms(&c.taken_at);
            t - t.rem_euclid(3_000)
        })
        .collect();
    for seg in [first_full, first_full + 3_000, first_full + 6_000] {
        let n = segments.iter().filter(|s| **s == seg).count();
        assert_eq!(
            n,
            1,
            "segment {} has {n} screenshots: {:?}",
            stint::model::rfc3339(seg),
            log.captures
        );
    }
    for c in &log.captures {
        assert_eq!(
            (c.kind, c.width, c.height),
            (stint::model::CaptureKind::Screenshot, 1280, 720)
        );
        assert_eq!(c.format, "webp", "the default format");
        let out = agent.dir.path().join(format!("{}.webp", c.id));
        agent.ok(&["capture", "export", &c.id, out.to_str().unwrap()]);
        let (w, h, stddev) = decode_image(&out);
        assert_eq!((w, h), (1280, 720));
        assert!(stddev > 5.0, "image looks blank (luma stddev {stddev:.1})");
        assert_eq!(std::fs::metadata(&out).unwrap().len(), c.bytes);
    }
}

#[test]
fn every_monitor_gets_its_own_screenshot_each_segment() {
    let mut desk = Desktop::start_monitors(2, 800, 600);
    desk.xterm("stint left monitor"); // openbox places it on the first monitor
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    let first_full = wait_into_next_period(2_000, 0);
    std::thread::sleep(Duration::from_millis(2 * 2_000 + 1_500));
    agent.stop_daemon();
    let log = agent.log();
    for seg in [first_full, first_full + 2_000] {
        let mut shots: Vec<_> = log
            .captures
            .iter()
            .filter(|c| parse_ms(&c.taken_at).div_euclid(2_000) * 2_000 == seg)
            .collect();
        shots.sort_by(|a, b| a.monitor.cmp(&b.monitor));
        let seen: Vec<_> = shots
            .iter()
            .map(|c| (c.monitor.as_str(), c.width, c.height, c.taken_at.as_str()))
            .collect();
        let at = shots.first().map_or("", |c| c.taken_at.as_str());
        assert_eq!(
            seen,
            [("DUMMY0", 800, 600, at), ("DUMMY1", 800, 600, at)],
            "one shot per monitor at one moment in segment {}",
            stint::model::rfc3339(seg)
        );
        let stddev: Vec<f64> = shots
            .iter()
            .map(|c| {
                let out = agent.dir.path().join(&c.id);
                agent.ok(&["capture", "export", &c.id, out.to_str().unwrap()]);
                let (w, h, stddev) = decode_image(&out);
                assert_eq!((w, h), (800, 600));
                stddev
            })
            .collect();
        assert!(
            stddev[0] > 5.0 && (stddev[0] - stddev[1]).abs() > 1.0,
            "each image shows its own monitor (the terminal is on the left one only): luma stddev {stddev:?}"
        );
    }
}

#[test]
fn tracking_off_records_nothing_and_the_choice_survives_a_restart() {
    let mut desk = Desktop::start(800, 600);
    desk.xterm("stint off target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true",
    );
    agent.ok(&["stop"]);
    agent.start_daemon();
    desk.xdotool(&["key", "--delay", "50", "a", "b", "c", "click", "1"]);
    agent.stop_daemon();
    agent.start_daemon(); // a restart keeps the user's "off"
    desk.xdotool(&["key", "--delay", "50", "d", "e", "f", "click", "1"]);
    std::thread::sleep(Duration::from_millis(4_500));
    let log = agent.log();
    assert!(
        log.minutes.is_empty() && log.captures.is_empty(),
        "recorded while off: {log:?}"
    );

    agent.ok(&["start"]);
    agent.wait_for_log("tracking switched tracking=true", Duration::from_secs(5));
    let slot = wait_into_next_period(1_000, 200);
    desk.xdotool(&["key", "z"]);
    let log = agent.wait_for_minute(slot);
    assert_eq!(
        log.minutes.iter().map(|m| m.keystrokes).sum::<u32>(),
        1,
        "only input after start counts"
    );
    assert!(!log.sessions.is_empty());
    agent.stop_daemon();
}

#[test]
fn a_stopped_process_invents_no_minutes_and_counts_none_twice() {
    let mut desk = Desktop::start(800, 600);
    desk.xterm("stint stall target");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true",
    );
    agent.start_daemon();
    std::thread::sleep(Duration::from_millis(2_500));
    let pid = agent.daemon_pid();
    signal(pid, "STOP");
    let stopped_at = now_ms();
    std::thread::sleep(Duration::from_millis(5_000));
    signal(pid, "CONT");
    let resumed_at = now_ms();
    agent.wait_for_log("clock discontinuity", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(2_500));
    agent.stop_daemon();
    let log = agent.log();
    let starts: Vec<i64> = log.minutes.iter().map(|m| parse_ms(&m.start)).collect();
    let mut dedup = starts.clone();
    dedup.dedup();
    assert_eq!(starts, dedup, "no minute recorded twice");
    let invented: Vec<_> = starts
        .iter()
        .filter(|s| **s >= stopped_at + 1_000 && **s + 1_000 <= resumed_at - 1_000)
        .collect();
    assert!(
        invented.is_empty(),
        "minutes invented while stopped: {invented:?}"
    );
    assert!(
        log.minutes.iter().all(|m| m.seconds <= 1),
        "no minute holds more than its length"
    );
}
