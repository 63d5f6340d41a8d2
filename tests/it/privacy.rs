//! Privacy rules end to end on Xvfb: a window a rule covers is recorded
//! redacted or not at all, no screenshot is taken while it has focus, and
//! its original title is in none of the files the agent or the server
//! wrote; the employee sees which minutes a rule changed, the diary shows
//! the skipped screenshot. Private time chosen in the real tray records
//! nothing until it ends, and the server shows it as private: the spans to
//! the person, a total to the manager.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::*;

/// Every file under `dir`, recursively, that holds `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

fn ms(t: &str) -> i64 {
    stint::model::parse_ms(t)
}

/// The agent config for Max's computer: 5 s minutes and segments, each
/// kept 20 s before upload so the test can read the queue first.
fn max_toml(server: &Server, extra: &str) -> String {
    server.person_agent_toml(
        "max@example.com",
        &format!(
            "[schedule]\nminute = \"5s\"\nsegment = \"5s\"\n[tracking]\ninitial = true\n\
             [privacy]\nreview_delay = \"20s\"\n{extra}"
        ),
    )
}

fn type_for(desk: &Desktop, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        desk.xdotool(&["type", "--delay", "60", "ledger "]);
    }
}

#[test]
fn a_covered_window_leaves_no_title_and_no_screenshot_on_either_side() {
    let server = Server::start("127.0.0.1", &[]);
    add_user(&server, "max@example.com", "Max", "member");
    add_user(&server, "mia@example.com", "Mia", "admin");
    // The organisation's rule, delivered by the heartbeat, adds to the
    // device's own.
    server.admin(&[
        "policy",
        "--set",
        r#"privacy_rules=[{"label":"Bank","title":"banking 99","actions":["untracked"]}]"#,
    ]);
    let mut desk = Desktop::start(800, 600);
    desk.xterm("Payroll SECRET-7f3a");
    let rule = "[[privacy.rules]]\nlabel = \"Payroll\"\ntitle = \"secret-7f3a\"\nactions = [\"redact_title\", \"skip_screenshot\"]\n";
    let mut agent = Agent::new(Some(&desk), &max_toml(&server, rule));
    agent.start_daemon();
    type_for(&desk, 11);

    // The employee's view: the rule's label where the title was, and the
    // screenshot it kept back, in `stint log`; no screenshot at all.
    let log = agent.log();
    let covered: Vec<_> = log
        .minutes
        .iter()
        .filter(|m| m.privacy_rule.as_deref() == Some("Payroll"))
        .collect();
    assert!(!covered.is_empty(), "{:?}", log.minutes);
    assert!(covered
        .iter()
        .all(|m| m.title.as_deref() == Some("Payroll")));
    assert!(
        log.minutes
            .iter()
            .any(|m| m.screenshot_skipped.as_deref() == Some("Payroll")),
        "{:?}",
        log.minutes
    );
    assert!(log.captures.is_empty(), "{:?}", log.captures);
    let text = agent.ok(&["log"]);
    assert!(
        text.contains("(rule: Payroll)") && text.contains("(screenshot skipped: Payroll)"),
        "{text}"
    );

    // The policy's rule arrives and is listed beside the device's.
    wait_for("the policy's rule", Duration::from_secs(30), || {
        let rules = agent.status()["rules"].to_string();
        (rules.contains("Bank") && rules.contains("Payroll")).then_some(())
    });
    desk.xterm("Banking 99 statement");
    type_for(&desk, 6);
    let bank = wait_for(
        "a minute the Bank rule kept",
        Duration::from_secs(20),
        || {
            agent
                .log()
                .minutes
                .into_iter()
                .find(|m| m.privacy_rule.as_deref() == Some("Bank"))
        },
    );
    assert_eq!(
        (bank.title, bank.exe_path, bank.app),
        (None, None, None),
        "untracked: no window at all"
    );

    // A window no rule covers is recorded and shot as always.
    desk.xterm("plain notes");
    type_for(&desk, 6);
    agent.minute_in("plain notes");
    wait_for(
        "a screenshot of the plain window",
        Duration::from_secs(20),
        || (!agent.log().captures.is_empty()).then_some(()),
    );
    agent.ok(&["stop"]);
    wait_for("everything uploaded", Duration::from_secs(90), || {
        let q = &agent.status()["queue"];
        (q["pending_minutes"] == 0 && q["pending_captures"] == 0).then_some(())
    });
    agent.stop_daemon();

    // Neither side wrote the original titles anywhere: queue, WAL, images,
    // logs; the server's database, its WAL and objects. (The rules' own
    // lower-case patterns are in the agent's config and the server's policy.)
    for secret in [
        "Payroll SECRET-7f3a",
        "SECRET",
        "Banking 99 statement",
        "Banking",
    ] {
        for dir in [agent.dir.path(), server.dir.path()] {
            let found = files_holding(dir, secret.as_bytes());
            assert!(found.is_empty(), "{secret:?} written to {found:?}");
        }
    }
    // What the server received says what the rules did.
    let export: serde_json::Value =
        serde_json::from_str(&server.admin(&["export", "--json"])).unwrap();
    let minutes: Vec<_> = export["devices"][0]["minutes"].as_array().unwrap().to_vec();
    let rule_of = |label: &str| {
        minutes
            .iter()
            .filter(|m| m["privacy_rule"] == label)
            .count()
    };
    assert!(rule_of("Payroll") > 0 && rule_of("Bank") > 0, "{minutes:?}");
    assert!(minutes.iter().any(|m| m["title"] == "plain notes"));

    // The diary says why a segment has no screenshot.
    let browser = Curl::new(&server);
    browser.login("mia@example.com", "Mia has a long password");
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let page = browser.get(&format!(
        "/diary/{}/{day}",
        server.person_id("max@example.com")
    ));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("screenshot skipped by the privacy rule Payroll")
            && page.body.contains("Privacy rule Payroll"),
        "{}",
        page.body
    );
}

#[test]
fn private_time_from_the_tray_records_nothing_and_the_server_shows_it_as_private() {
    let server = Server::start("127.0.0.1", &[]);
    add_user(&server, "max@example.com", "Max", "member");
    add_user(&server, "mia@example.com", "Mia", "admin");
    let mut desk = desktop_with_trayer();
    desk.xterm("notes");
    let mut agent = Agent::new(Some(&desk), &max_toml(&server, ""));
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    type_for(&desk, 6);

    // The menu from the top: the switch, "Project ▸", then (today's time
    // and sync are no items to select) "Privacy ▸", whose first item is 15
    // minutes. One key at a time: the submenu opens by itself once its
    // item is selected.
    std::thread::sleep(Duration::from_millis(2_500));
    open_menu(&desk);
    for key in ["Down", "Down", "Down", "Right", "Return"] {
        std::thread::sleep(Duration::from_millis(300));
        desk.xdotool(&["key", key]);
    }
    agent.wait_for_log("private time chosen from the tray", Duration::from_secs(10));
    agent.wait_for_log("private time began", Duration::from_secs(10));
    agent.wait_for_log(
        "private time shown in the tray title=Private until",
        Duration::from_secs(10),
    );
    let status = agent.status();
    assert!(status["private"]["until"].is_string(), "{status}");
    assert!(
        agent.ok(&["status"]).contains("private:   Private until"),
        "status says it"
    );
    desk.xterm("notes while private");
    type_for(&desk, 8);
    assert!(agent
        .ok(&["private", "off"])
        .contains("no private time: recording as usual"));
    agent.wait_for_log(
        "private time ended: recording again",
        Duration::from_secs(10),
    );
    let span = wait_for(
        "the private span in the queue",
        Duration::from_secs(10),
        || agent.log().private_spans.into_iter().next(),
    );
    let (from, to) = (ms(&span.start), ms(&span.end));
    assert!(to - from >= 8_000, "{span:?}");
    type_for(&desk, 6);

    // The policy turns private time off: asked for, it is refused in words.
    server.admin(&["policy", "--set", "private_time_max_mins_per_day=0"]);
    wait_for("the policy", Duration::from_secs(30), || {
        (agent.status()["private"]["max_mins_per_day"] == 0).then_some(())
    });
    let refused = agent.run(&["private", "15m"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("turned off by your organisation's policy"),
        "{err}"
    );

    agent.ok(&["stop"]);
    wait_for("everything uploaded", Duration::from_secs(90), || {
        let q = &agent.status()["queue"];
        let spans = agent.log().private_spans;
        (q["pending_minutes"] == 0 && q["pending_captures"] == 0 && spans.is_empty()).then_some(())
    });
    agent.stop_daemon();

    // Nothing was recorded inside the span: no minute, no screenshot.
    let export: serde_json::Value =
        serde_json::from_str(&server.admin(&["export", "--json"])).unwrap();
    let device = &export["devices"][0];
    let minutes = device["minutes"].as_array().unwrap();
    assert!(minutes.len() >= 2, "{minutes:?}");
    for m in minutes {
        let start = ms(m["start"].as_str().unwrap()) + m["from_secs"].as_i64().unwrap_or(0) * 1000;
        let end = start + m["seconds"].as_i64().unwrap() * 1000;
        assert!(
            end <= from + 1_000 || start >= to - 1_000,
            "a minute inside the private span {span:?}: {m}"
        );
    }
    for c in device["captures"].as_array().unwrap() {
        let at = ms(c["taken_at"].as_str().unwrap());
        assert!(at <= from || at >= to, "a capture inside {span:?}: {c}");
    }

    // Max sees the span in his diary; Mia a total, in the diary and the
    // timesheet, and no span.
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let max_id = server.person_id("max@example.com");
    let max = Curl::new(&server);
    max.login("max@example.com", "Max has a long password");
    let own = max.get(&format!("/diary/{max_id}/{day}"));
    assert!(
        own.body.contains("nothing was recorded</li>"),
        "{}",
        own.body
    );
    let mia = Curl::new(&server);
    mia.login("mia@example.com", "Mia has a long password");
    let theirs = mia.get(&format!("/diary/{max_id}/{day}"));
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(
        theirs.body.contains("id=\"private-total\"")
            && !theirs.body.contains("nothing was recorded</li>"),
        "{}",
        theirs.body
    );
    let sheet = mia.get(&format!(
        "/reports/timesheet?from={day}&to={day}&format=csv"
    ));
    let secs: u64 = csv_rows(&sheet.body)
        .iter()
        .filter(|r| r["name"] == "Max")
        .map(|r| r["private_seconds"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(secs as i64, (to - from) / 1000, "{}", sheet.body);
}
