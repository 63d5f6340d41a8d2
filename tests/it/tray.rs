//! The tray icon in a real XEmbed tray (trayer) on Xvfb: it appears, and its
//! colour follows tracking as `stint stop` / `stint start` switch it.

use std::time::Duration;

use stint::tray::TrayState;

use crate::helpers::*;

/// Pixels in the tray strip within a small distance of `colour`.
fn count(pixels: &[[u8; 3]], colour: [u8; 3]) -> usize {
    pixels
        .iter()
        .filter(|p| {
            p.iter()
                .zip(colour)
                .all(|(a, b)| (i16::from(*a) - i16::from(b)).abs() <= 12)
        })
        .count()
}

/// Whether this agent's `stint-tray` process is alive.
fn tray_running(agent: &Agent) -> bool {
    let pattern = format!("stint-tray --config {}", agent.config.display());
    let out = std::process::Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    !out.stdout.is_empty()
}

#[test]
fn tray_icon_shows_in_a_real_tray_and_follows_start_and_stop() {
    let mut desk = Desktop::start(800, 600);
    desk.spawn(
        "trayer",
        &[
            "--edge",
            "top",
            "--align",
            "left",
            "--widthtype",
            "pixel",
            "--width",
            "160",
            "--heighttype",
            "pixel",
            "--height",
            "40",
            "--transparent",
            "false",
            "--tint",
            "0x000000",
            "--SetDockType",
            "true",
        ],
    );
    wait_for(
        "trayer to own the system tray",
        Duration::from_secs(10),
        || desk.has_system_tray().then_some(()),
    );
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"1h\"\n[tracking]\ninitial = true\n",
    );
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    assert!(agent
        .stderr()
        .contains("tray host found host=XEmbed system tray"));
    let strip = || desk.grab(0, 0, 160, 40);
    let (green, grey) = (TrayState::Tracking.colour(), TrayState::Paused.colour());
    wait_for(
        "a green (tracking) icon in the tray",
        Duration::from_secs(10),
        || (count(&strip(), green) > 40).then_some(()),
    );

    agent.ok(&["stop"]);
    wait_for(
        "the icon to turn grey (paused)",
        Duration::from_secs(10),
        || {
            let s = strip();
            (count(&s, grey) > 40 && count(&s, green) == 0).then_some(())
        },
    );
    agent.wait_for_log("tray icon state=\"paused\"", Duration::from_secs(5));

    agent.ok(&["start"]);
    wait_for(
        "the icon to turn green again",
        Duration::from_secs(10),
        || {
            let s = strip();
            (count(&s, green) > 40 && count(&s, grey) == 0).then_some(())
        },
    );

    // The menu itself: click the icon, take the first item ("Stop tracking").
    let s = strip();
    let (sum_x, sum_y, n) = s
        .iter()
        .enumerate()
        .filter(|(_, p)| count(&[**p], green) == 1)
        .fold((0, 0, 0), |(x, y, n), (i, _)| {
            (x + i % 160, y + i / 160, n + 1)
        });
    let (x, y) = ((sum_x / n).to_string(), (sum_y / n).to_string());
    desk.xdotool(&["mousemove", &x, &y, "click", "1"]);
    std::thread::sleep(Duration::from_millis(500));
    desk.xdotool(&["key", "Down", "Return"]);
    agent.wait_for_log(
        "tracking switched from the tray tracking=false",
        Duration::from_secs(10),
    );
    wait_for(
        "the tray's stop to reach status",
        Duration::from_secs(5),
        || (agent.status()["tracking"] == false).then_some(()),
    );

    // Quit, the menu's last item, ends the daemon cleanly and the tray with it.
    desk.xdotool(&["mousemove", &x, &y, "click", "1"]);
    std::thread::sleep(Duration::from_millis(500));
    desk.xdotool(&["key", "Up", "Return"]);
    let status = agent.wait_daemon_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}: {}", agent.stderr());
    let log = agent.stderr();
    assert!(
        log.contains("quit requested over the control channel"),
        "{log}"
    );
    assert!(log.contains("recorder stopped"), "{log}");
    wait_for("stint-tray to exit", Duration::from_secs(10), || {
        (!tray_running(&agent)).then_some(())
    });
}

#[test]
fn without_a_tray_host_the_log_and_doctor_say_so() {
    let desk = Desktop::start(640, 480);
    let mut agent = Agent::new(Some(&desk), "[tracking]\ninitial = false\n");
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("the tray icon will not be visible", Duration::from_secs(10));
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    // A daemon killed outright cannot stop its tray; the tray notices and exits.
    agent.kill_daemon();
    wait_for(
        "the orphaned stint-tray to exit",
        Duration::from_secs(20),
        || (!tray_running(&agent)).then_some(()),
    );
    assert!(agent
        .stderr()
        .contains("no daemon any more; the tray exits"));
    assert!(
        agent.stderr().contains("no tray host"),
        "{}",
        agent.stderr()
    );
    let doctor = agent.run(&["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("tray") && text.contains("no tray host"),
        "{text}"
    );
}
