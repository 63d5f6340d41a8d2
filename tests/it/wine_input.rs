//! stint.exe counting input under Wine, end to end: the low-level hooks inside
//! a Wine virtual desktop with Notepad focused, the same bursts the X11 test
//! plays, idle minutes, Notepad named as the window, a screenshot of the
//! virtual desktop, and every minute arriving at a Linux stint-server over TLS
//! with those counts.
//!
//! Wine hands input to hooks only when it lands on a Wine-owned X window, so
//! all input goes to the virtual desktop's window. Wine does not mark XTEST
//! input as injected: the injected path is unit-tested in winhook.rs.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::*;

const MINUTE_MS: i64 = 3_000;

#[test]
fn stint_exe_counts_exactly_under_wine_and_its_minutes_reach_the_server() {
    let exe = windows_exe();
    let desk = Desktop::start(1280, 900);
    let mut wine = Wine::boot(&desk);
    let window = wine.virtual_desktop(1024, 768, &["notepad"]);
    let server = Server::start("127.0.0.1", &[]);
    let data = wine.prefix.path().join("stint-data");
    let config = wine.prefix.path().join("stint.toml");
    // Windows paths in TOML literal strings: no escapes.
    std::fs::write(
        &config,
        format!(
            "[storage]\ndata_dir = '{}'\n\n[schedule]\nminute = \"3s\"\nsegment = \"9s\"\nidle_after = \"2s\"\n\n\
             [capture]\nscreenshots = true\n\n[tracking]\ninitial = true\n\n\
             [server]\nurl = \"https://127.0.0.1:{}\"\nenroll_token = \"{}\"\nca_file = '{}'\n",
            windows_path(&data),
            server.port,
            server.admin(&["token", "create"]).trim(),
            windows_path(&server.ca()),
        ),
    )
    .unwrap();
    let config_arg = windows_path(&config);
    let exe_arg = windows_path(&exe);
    let stderr = wine.prefix.path().join("stint.err");
    let _daemon = Proc(
        wine.command(&[&exe_arg, "--config", &config_arg, "run", "--no-tray"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap(),
    );
    let log = || std::fs::read_to_string(&stderr).unwrap_or_default();
    wait_for(
        "stint.exe to start recording",
        Duration::from_secs(60),
        || log().contains("recorder started").then_some(()),
    );
    assert!(
        log().contains("input hooks installed"),
        "the event backend, not polling: {}",
        log()
    );
    // Input must land on Notepad inside the virtual desktop's X window.
    desk.focus(&window);
    desk.xdotool(&["mousemove", "--window", &window, "300", "300"]);
    let slots = bursts::play(MINUTE_MS, |args| desk.xdotool(args));
    // Nothing more: the minutes after idle_after are idle.
    let quiet = wait_into_next_period(MINUTE_MS, 0) + MINUTE_MS;
    std::thread::sleep(Duration::from_millis(MINUTE_MS as u64 * 2 + 1_000));

    let minutes = wait_for("the minutes at the server", Duration::from_secs(60), || {
        let m = server_minutes(&server);
        m.contains_key(&quiet).then_some(m)
    });
    bursts::check(&slots, |start| {
        let m = &minutes[&start];
        let n = |k: &str| m[k].as_u64().unwrap() as u32;
        (
            n("keystrokes"),
            n("clicks"),
            n("scrolls"),
            m["idle"] == true,
        )
    });
    let keys: u64 = minutes
        .values()
        .map(|m| m["keystrokes"].as_u64().unwrap())
        .sum();
    assert_eq!(
        keys,
        u64::from(bursts::total_keys()),
        "no stray counts anywhere"
    );
    assert_eq!(minutes[&quiet]["idle"], true, "{:?}", minutes[&quiet]);
    for slot in &slots {
        let m = &minutes[slot];
        assert_eq!(m["title"], "Untitled - Notepad", "{m}");
        let exe = m["exe_path"].as_str().unwrap().to_ascii_lowercase();
        assert!(exe.ends_with(r"\notepad.exe"), "{m}");
        // Wine's XTEST input reaches Windows as hardware input.
        assert_eq!(
            (
                m["synthetic_keystrokes"].as_u64(),
                m["counts_unknown"].as_bool()
            ),
            (Some(0), None),
            "{m}"
        );
    }

    let shot = wait_for(
        "a screenshot at the server",
        Duration::from_secs(30),
        || {
            let export = server_export(&server);
            let id = export["devices"][0]["captures"][0]["id"]
                .as_str()?
                .to_string();
            Some(server.admin(&["capture-path", &id]))
        },
    );
    let (w, h, spread) = decode_image(std::path::Path::new(shot.trim()));
    assert_eq!((w, h), (1024, 768), "the virtual desktop");
    assert!(
        spread > 5.0,
        "real pixels, not a blank image (luma stddev {spread})"
    );
}

fn server_export(server: &Server) -> serde_json::Value {
    serde_json::from_str(&server.admin(&["export", "--json"])).unwrap()
}

/// The server's minutes by start (epoch ms).
fn server_minutes(server: &Server) -> HashMap<i64, serde_json::Value> {
    server_export(server)["devices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["minutes"].as_array().unwrap().clone())
        .map(|m| (parse_ms(m["start"].as_str().unwrap()), m))
        .collect()
}
