//! The tray icon in real tray hosts on Xvfb, an XEmbed tray (trayer) and a
//! StatusNotifierItem host (xfce4-panel on its own session bus): it appears, and
//! its colour follows tracking as `stint stop` / `stint start` switch it.

use std::path::Path;
use std::time::Duration;

use stint::indicator::TrayState;

use crate::helpers::*;

/// `stint stop` turns the icon in `strip` grey (and nothing green is left),
/// then `stint start` turns it green again (and nothing grey is left).
fn icon_follows_stop_and_start(agent: &Agent, strip: impl Fn() -> Vec<[u8; 3]>) {
    let (green, grey) = (TrayState::Tracking.colour(), TrayState::Paused.colour());
    agent.ok(&["stop"]);
    wait_for(
        "the icon to turn grey (paused)",
        Duration::from_secs(10),
        || {
            let s = strip();
            (count(&s, grey) > 40 && count(&s, green) == 0).then_some(())
        },
    );
    agent.ok(&["start"]);
    wait_for(
        "the icon to turn green again",
        Duration::from_secs(10),
        || {
            let s = strip();
            (count(&s, green) > 40 && count(&s, grey) == 0).then_some(())
        },
    );
}

/// Whether this agent's `stint-tray` process is alive.
/// Runs `command` to its end, killed if it takes longer than `limit`.
fn wait_for_output(mut command: std::process::Command, limit: Duration) -> std::process::Output {
    let child = command.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            panic!("{command:?} did not end within {limit:?}")
        }
    }
}

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
    let desk = desktop_with_trayer();
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
    let green = TrayState::Tracking.colour();
    wait_for(
        "a green (tracking) icon in the tray",
        Duration::from_secs(10),
        || (count(&strip(), green) > 40).then_some(()),
    );
    icon_follows_stop_and_start(&agent, strip);
    agent.wait_for_log("tray icon state=\"paused\"", Duration::from_secs(5));

    // The menu itself: click the icon, take the first item ("Stop tracking").
    open_menu(&desk);
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
    open_menu(&desk);
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

/// The panel's configuration: one 32 px panel along the top edge, on black,
/// holding only the status tray, which hosts StatusNotifierItems (and XEmbed).
const XFCE_PANEL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="icon-size" type="uint" value="24"/>
      <property name="background-style" type="uint" value="1"/>
      <property name="background-rgba" type="array">
        <value type="double" value="0"/>
        <value type="double" value="0"/>
        <value type="double" value="0"/>
        <value type="double" value="1"/>
      </property>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"#;

/// The StatusNotifierItems the watcher on `bus` has registered.
fn registered_items(bus: &str) -> String {
    let out = std::process::Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args([
            "--session",
            "--print-reply",
            "--dest=org.kde.StatusNotifierWatcher",
            "/StatusNotifierWatcher",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.kde.StatusNotifierWatcher",
            "string:RegisteredStatusNotifierItems",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tray_icon_shows_in_a_status_notifier_host_and_follows_start_and_stop() {
    let desk = Desktop::start(800, 600);
    let (_bus, address) = session_bus();
    let home = tempfile::tempdir().unwrap();
    let channel = home.path().join("config/xfce4/xfconf/xfce-perchannel-xml");
    std::fs::create_dir_all(&channel).unwrap();
    std::fs::write(channel.join("xfce4-panel.xml"), XFCE_PANEL).unwrap();
    let _panel = Proc(
        desk.command("xfce4-panel")
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("xfce4-panel is installed (scripts/setup-debian.sh)"),
    );
    wait_for(
        "xfce4-panel's StatusNotifierWatcher on the session bus",
        Duration::from_secs(20),
        || registered_items(&address).contains("array").then_some(()),
    );
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"1h\"\n[tracking]\ninitial = true\n",
    );
    agent
        .env
        .push(("DBUS_SESSION_BUS_ADDRESS".into(), address.clone()));
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    assert!(
        agent.stderr().contains("StatusNotifierItem host"),
        "{}",
        agent.stderr()
    );
    // Registered as an item with the watcher: the SNI path, not an XEmbed fallback.
    wait_for(
        "stint's item registered with the StatusNotifierWatcher",
        Duration::from_secs(10),
        || {
            registered_items(&address)
                .contains("NotificationItem")
                .then_some(())
        },
    );
    let green = TrayState::Tracking.colour();
    let panel = wait_for(
        "a green (tracking) icon in the panel",
        Duration::from_secs(10),
        || {
            let s = desk.grab(0, 0, 800, 32);
            (count(&s, green) > 40).then_some(s)
        },
    );
    // The panel draws some grey of its own: watch only the icon's own box.
    let xs = || {
        panel
            .iter()
            .enumerate()
            .filter(|(_, p)| count(&[**p], green) == 1)
            .map(|(i, _)| i % 800)
    };
    let (left, right) = (xs().min().unwrap(), xs().max().unwrap());
    let strip = || desk.grab(left as i16, 0, (right - left + 1) as u16, 32);
    icon_follows_stop_and_start(&agent, strip);
    agent.stop_daemon();
}

#[test]
fn the_tray_menu_deletes_a_segment_in_its_review_window() {
    let desk = desktop_with_trayer();
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[privacy]\nreview_delay = \"6s\"\n[tracking]\ninitial = true\n",
    );
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    wait_for("a deletable segment", Duration::from_secs(20), || {
        agent.status()["deletable"]["capture_id"]
            .as_str()
            .map(str::to_string)
    });
    // The tray refreshes every 2 s; then its menu holds "Delete …" just above
    // the separator before Quit: Up selects Quit, a second Up the delete item.
    std::thread::sleep(Duration::from_millis(2_500));
    open_menu(&desk);
    desk.xdotool(&["key", "Up", "Up", "Return"]);
    agent.wait_for_log("segment deleted from the tray", Duration::from_secs(10));
    agent.wait_for_log("segment deleted by the user", Duration::from_secs(5));
    // The daemon's line names the segment: nothing taken in it is left.
    let log = agent.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("segment deleted by the user"))
        .unwrap();
    let field = |name: &str| {
        let at = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
        parse_ms(line[at..].split_whitespace().next().unwrap())
    };
    let (from, to) = (field("from"), field("to"));
    assert!(line.contains("captures=1"), "{line}");
    let left: Vec<_> = agent
        .log()
        .captures
        .into_iter()
        .filter(|c| (from..to).contains(&parse_ms(&c.taken_at)))
        .collect();
    assert!(left.is_empty(), "{left:?} survived the deletion of {line}");
    agent.stop_daemon();
}

/// Enrolled and uploading, "Open my activity" opens the server's diary in the
/// browser and "Add offline time…" its form for offline time (a stand-in
/// `xdg-open` notes what it was asked to open).
#[test]
fn open_my_activity_opens_the_servers_diary_once_enrolled() {
    let server = Server::start("127.0.0.1", &[]);
    let desk = desktop_with_trayer();
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    let bin = agent.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let opened = agent.dir.path().join("opened.txt");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", opened.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    agent.env.push(("PATH".into(), path));
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    wait_for("enrolled and uploading", Duration::from_secs(30), || {
        let s = agent.status();
        (s["sync"]["device_id"].is_string() && s["sync"]["last_error"].is_null()).then_some(())
    });
    // A refresh of the tray after enrollment; then Up selects Quit and a
    // second Up "Open my activity" (no segment is deletable here).
    std::thread::sleep(Duration::from_millis(2_500));
    open_menu(&desk);
    desk.xdotool(&["key", "Up", "Up", "Return"]);
    let url = wait_for("the browser opened", Duration::from_secs(10), || {
        std::fs::read_to_string(&opened)
            .ok()
            .filter(|t| !t.is_empty())
    });
    assert_eq!(url.trim(), format!("https://localhost:{}/", server.port));
    // Above it, "Add offline time…" opens the server's form for it.
    std::fs::remove_file(&opened).unwrap();
    open_menu(&desk);
    desk.xdotool(&["key", "Up", "Up", "Up", "Return"]);
    let url = wait_for("the browser opened again", Duration::from_secs(10), || {
        std::fs::read_to_string(&opened)
            .ok()
            .filter(|t| !t.is_empty())
    });
    assert_eq!(
        url.trim(),
        format!("https://localhost:{}/me/offline", server.port)
    );
    agent.stop_daemon();
}

#[test]
fn without_a_tray_host_the_log_and_doctor_say_so() {
    let desk = Desktop::start(640, 480);
    let mut agent = Agent::new(Some(&desk), "[tracking]\ninitial = false\n");
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("the tray icon will not be visible", Duration::from_secs(10));
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    // A daemon killed outright takes its tray with it (Linux ends the child
    // with its parent).
    agent.kill_daemon();
    wait_for(
        "stint-tray to end with its daemon",
        Duration::from_secs(5),
        || (!tray_running(&agent)).then_some(()),
    );
    // Where the OS cannot do that, a tray without a daemon notices by itself
    // and exits: one started with none.
    let mut orphan = std::process::Command::new(Path::new(STINT).with_file_name("stint-tray"));
    orphan
        .arg("--config")
        .arg(&agent.config)
        .env("HOME", agent.dir.path())
        .env("XDG_RUNTIME_DIR", agent.dir.path().join("run"))
        .env("DISPLAY", &desk.display)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let out = wait_for_output(orphan, Duration::from_secs(30));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("no daemon any more; the tray exits"),
        "{said}"
    );
    assert!(
        agent.stderr().contains("no tray host"),
        "{}",
        agent.stderr()
    );
    // Started at login the tray has no terminal: its own file keeps the reason.
    let tray_log = std::fs::read_dir(agent.data_dir().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("tray.")
        })
        .expect("the tray's log file in <data_dir>/logs");
    let text = std::fs::read_to_string(&tray_log).unwrap();
    assert!(text.contains("no tray host"), "{text}");
    let doctor = agent.run(&["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("tray") && text.contains("no tray host"),
        "{text}"
    );
}

/// `dunstctl` against the test's own session bus.
fn dunstctl(bus: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("dunstctl")
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A span of absence waiting for a decision is announced by a desktop
/// notification, once, through a real notification server (dunst on the
/// test's display and session bus); deciding it announces nothing more.
#[test]
fn a_waiting_idle_span_is_announced_by_a_desktop_notification() {
    let test = "tray::a_waiting_idle_span_is_announced_by_a_desktop_notification";
    if !have_tools(test, &["dunst", "dunstctl", "dbus-send"]) {
        return;
    }
    let mut desk = desktop_with_trayer();
    let (_bus, address) = session_bus();
    let home = tempfile::tempdir().unwrap();
    let _dunst = Proc(
        desk.command("dunst")
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dunst is installed (scripts/setup-debian.sh)"),
    );
    wait_for("dunst on the session bus", Duration::from_secs(10), || {
        let paused = dunstctl(&address, &["is-paused"]);
        (paused.trim() == "false").then_some(())
    });
    desk.xterm("editor");
    let mut agent = Agent::new(
        Some(&desk),
        "[schedule]\nminute = \"2s\"\nsegment = \"10s\"\nidle_after = \"3s\"\n[tracking]\ninitial = true\n",
    );
    agent
        .env
        .push(("DBUS_SESSION_BUS_ADDRESS".into(), address.clone()));
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    desk.xdotool(&["type", "--delay", "50", "before "]);
    std::thread::sleep(Duration::from_secs(7));
    desk.xdotool(&["type", "--delay", "50", "back "]);
    agent.wait_for_log("idle span announced", Duration::from_secs(20));
    // Closed notifications move to dunst's history, which says what it showed.
    dunstctl(&address, &["close-all"]);
    let history = wait_for(
        "the notification in dunst's history",
        Duration::from_secs(10),
        || {
            let h = dunstctl(&address, &["history"]);
            h.contains("Away ").then_some(h)
        },
    );
    assert!(
        history.contains("stint idle") && history.contains("min)"),
        "{history}"
    );
    agent.ok(&["idle", "discard"]);
    std::thread::sleep(Duration::from_secs(5));
    desk.xdotool(&["type", "--delay", "50", "still here "]);
    let announced = agent.stderr().matches("idle span announced").count();
    assert_eq!(announced, 1, "{}", agent.stderr());
    agent.stop_daemon();
}
