//! Privacy rules end to end on Xvfb: a window a rule covers is recorded
//! redacted or not at all, no screenshot is taken while it has focus, and
//! its original title is in none of the files the agent or the server
//! wrote; the employee sees which minutes a rule changed, the diary shows
//! the skipped screenshot.

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
    let token = server.admin(&["token", "create", "--person", "max@example.com"]);
    let mut desk = Desktop::start(800, 600);
    desk.xterm("Payroll SECRET-7f3a");
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "[schedule]\nminute = \"5s\"\nsegment = \"5s\"\n[tracking]\ninitial = true\n\
             [privacy]\nreview_delay = \"20s\"\n\
             [[privacy.rules]]\nlabel = \"Payroll\"\ntitle = \"secret-7f3a\"\nactions = [\"redact_title\", \"skip_screenshot\"]\n\
             [server]\nurl = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
            server.port,
            token.trim(),
            server.ca().to_str().unwrap()
        ),
    );
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
