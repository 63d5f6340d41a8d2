//! What time is for, end to end: projects created on a real stint-server
//! reach a real agent on Xvfb, are chosen in the real tray's menu and on
//! the command line, and the server's project report attributes every
//! second as the agent recorded it, across switches and an idle span kept
//! as another project; a policy that requires a project refuses to track
//! without one.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::*;

/// A server with Max (a member) and Mia (an admin), the projects Website
/// (tasks Build and Design) and Shop, Max a member of both; the agent
/// config for Max's computer.
struct Work {
    server: Server,
    website: String,
    shop: String,
    design: String,
}

impl Work {
    fn new() -> Work {
        let server = Server::start("127.0.0.1", &[]);
        add_user(&server, "max@example.com", "Max", "member");
        add_user(&server, "mia@example.com", "Mia", "admin");
        let id = |out: String| out.trim().to_string();
        let website = id(server.admin(&["project", "add", "Website", "--client", "ACME"]));
        let shop = id(server.admin(&["project", "add", "Shop"]));
        server.admin(&["project", "task", "Website", "Build"]);
        let design = id(server.admin(&["project", "task", "Website", "Design"]));
        for p in ["Website", "Shop"] {
            server.admin(&[
                "project",
                "member",
                p,
                "max@example.com",
                "--role",
                "member",
            ]);
        }
        Work {
            server,
            website,
            shop,
            design,
        }
    }

    fn agent_toml(&self, schedule: &str) -> String {
        let token = self
            .server
            .admin(&["token", "create", "--person", "max@example.com"]);
        format!(
            "{schedule}[capture]\nscreenshots = false\n[server]\nurl = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
            self.server.port,
            token.trim(),
            self.server.ca().to_str().unwrap()
        )
    }

    /// The project report's CSV rows for today, as Mia downloads it.
    fn report(&self) -> Vec<BTreeMap<String, String>> {
        let browser = Curl::new(&self.server);
        browser.login("mia@example.com", "Mia has a long password");
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let page = browser.get(&format!(
            "/reports/projects?from={yesterday}&to={today}&format=csv"
        ));
        assert_eq!(page.status, 200, "{}", page.body);
        csv_rows(&page.body)
    }

    /// Every minute the server holds, as exported.
    fn minutes(&self) -> Vec<serde_json::Value> {
        let v: serde_json::Value =
            serde_json::from_str(&self.server.admin(&["export", "--json"])).unwrap();
        v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["minutes"].as_array().unwrap().clone())
            .collect()
    }
}

/// Waits until the agent holds the server's project list.
fn wait_for_projects(agent: &Agent) {
    wait_for(
        "the project list from the server",
        Duration::from_secs(30),
        || {
            let p = agent.ok(&["projects", "--json"]);
            p.contains("Website").then_some(())
        },
    );
}

/// Waits until every minute and every decided idle span is uploaded.
fn wait_for_upload(agent: &Agent) {
    wait_for("the queue to drain", Duration::from_secs(60), || {
        let minutes = agent.status()["queue"]["pending_minutes"].as_u64();
        let decided = agent.log().idle_spans.iter().any(|s| s.decision.is_some());
        (minutes == Some(0) && !decided).then_some(())
    });
}

/// Seconds per (project_id, task_id) in `minutes`.
fn seconds_by_work(minutes: &[serde_json::Value]) -> BTreeMap<(String, String), u64> {
    let mut by = BTreeMap::new();
    for m in minutes {
        let key = (
            m["project_id"].as_str().unwrap_or("").to_string(),
            m["task_id"].as_str().unwrap_or("").to_string(),
        );
        *by.entry(key).or_default() += m["seconds"].as_u64().unwrap();
    }
    by
}

#[test]
fn a_project_chosen_in_the_tray_and_a_task_switch_are_reported_to_the_second() {
    let work = Work::new();
    let mut desk = desktop_with_trayer();
    desk.xterm("editor");
    let mut agent = Agent::new(
        Some(&desk),
        &work.agent_toml("[schedule]\nminute = \"5s\"\nsegment = \"10s\"\n"),
    );
    agent.tray = true;
    agent.start_daemon();
    agent.wait_for_log("tray icon shown", Duration::from_secs(10));
    wait_for_projects(&agent);
    // The tray refreshes every 2 s. Its menu: the switch, then "Project ▸"
    // holding Shop, Website, Website / Build, Website / Design, No project
    // (no time today anywhere: by name).
    std::thread::sleep(Duration::from_millis(2_500));
    open_menu(&desk);
    desk.xdotool(&["key", "Down", "Down", "Right"]);
    std::thread::sleep(Duration::from_millis(300));
    desk.xdotool(&["key", "Down", "Return"]);
    agent.wait_for_log("project chosen from the tray", Duration::from_secs(10));
    let status = agent.status();
    assert_eq!(
        status["work"]["current"]["project_id"],
        work.website.as_str(),
        "{status}"
    );
    assert_eq!(status["work"]["label"], "Website");

    agent.ok(&["start"]);
    let typing = |secs: u64| {
        let end = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < end {
            desk.xdotool(&["type", "--delay", "50", "hello "]);
        }
    };
    typing(6);
    // Mid-slot, so the switch splits a minute (one at a slot's edge
    // needs no split).
    wait_into_next_period(5_000, 2_500);
    assert!(agent
        .ok(&["switch", "Website", "--task", "Design"])
        .contains("Website / Design"));
    typing(8);
    agent.ok(&["stop"]);
    wait_for_upload(&agent);
    agent.stop_daemon();

    let minutes = work.minutes();
    let by = seconds_by_work(&minutes);
    let whole = by.get(&(work.website.clone(), String::new())).copied();
    let task = by
        .get(&(work.website.clone(), work.design.clone()))
        .copied();
    assert!(whole.unwrap_or(0) >= 6 && task.unwrap_or(0) >= 6, "{by:?}");
    assert_eq!(by.len(), 2, "nothing unassigned or elsewhere: {by:?}");
    // The minute of the switch is split: its parts add up to the slot.
    let mut slots: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for m in &minutes {
        slots
            .entry(m["start"].as_str().unwrap())
            .or_default()
            .push(m["seconds"].as_u64().unwrap());
    }
    let split: Vec<_> = slots.iter().filter(|(_, parts)| parts.len() == 2).collect();
    assert_eq!(split.len(), 1, "one split minute: {slots:?}");
    assert_eq!(split[0].1.iter().sum::<u64>(), 5, "{slots:?}");
    assert!(
        slots.values().all(|p| p.iter().sum::<u64>() <= 5),
        "{slots:?}"
    );

    // The report says what the records say, to the second.
    let rows = work.report();
    let row = |task: &str| {
        rows.iter()
            .find(|r| r["project"] == "Website" && r["task"] == task)
            .unwrap_or_else(|| panic!("no Website/{task:?} in {rows:?}"))["tracked_seconds"]
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(Some(row("")), whole, "{rows:?}");
    assert_eq!(Some(row("Design")), task, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["client"] == "ACME" && r["name"] == "Max"),
        "{rows:?}"
    );
}

#[test]
fn a_required_project_refuses_to_track_without_one() {
    let work = Work::new();
    work.server
        .admin(&["policy", "--set", "project_required=true"]);
    // Website's own layer: a task is required on it, and idle time is kept.
    work.server.admin(&[
        "policy",
        "--project",
        "Website",
        "--set",
        "task_required=true",
        "--set",
        "idle_decision=keep",
    ]);
    let effective: serde_json::Value = serde_json::from_str(&work.server.admin(&[
        "policy",
        "--effective",
        "max@example.com",
        "--on",
        "Website",
    ]))
    .unwrap();
    assert_eq!(
        effective["sources"]["task_required"], "project Website",
        "{effective}"
    );
    assert_eq!(effective["sources"]["project_required"], "organisation");
    let mut agent = Agent::new(
        None,
        &work.agent_toml("[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n"),
    );
    agent.start_daemon();
    wait_for_projects(&agent);
    wait_for("the policy", Duration::from_secs(20), || {
        (agent.status()["work"]["required"] == true).then_some(())
    });
    let out = agent.run(&["start"]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("requires a project"), "{err}");
    assert_eq!(agent.status()["tracking"], false);
    // No such project: refused in words, naming it.
    let out = agent.run(&["start", "--project", "Nope"]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no project \"Nope\""));
    let out = agent.run(&["start", "--project", "Website"]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("requires a task"),
        "{out:?}"
    );
    agent.ok(&["start", "--project", "Website", "--task", "Design"]);
    let status = agent.ok(&["status"]);
    assert!(
        status.contains(
            "Website / Design (the project's policy: idle_decision=\"keep\", task_required=true)"
        ),
        "{status}"
    );
    agent.ok(&["stop"]);
    agent.ok(&["start", "--project", "shop"]);
    let s = agent.status();
    assert_eq!(
        (s["tracking"].clone(), s["work"]["label"].clone()),
        (true.into(), "Shop".into())
    );
    // While tracking, "no project" is refused too.
    let out = agent.run(&["switch", "--none"]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    agent.stop_daemon();
}

#[test]
fn an_idle_span_kept_as_another_project_arrives_and_is_counted() {
    let work = Work::new();
    let mut desk = Desktop::start(320, 240);
    desk.xterm("editor");
    let mut agent = Agent::new(
        Some(&desk),
        &work.agent_toml("[schedule]\nminute = \"2s\"\nsegment = \"10s\"\nidle_after = \"3s\"\n"),
    );
    agent.start_daemon();
    wait_for_projects(&agent);
    agent.ok(&["start", "--project", "Website"]);
    desk.xdotool(&["type", "--delay", "50", "before "]);
    std::thread::sleep(Duration::from_secs(7));
    desk.xdotool(&["type", "--delay", "50", "back "]);
    let spans = wait_for(
        "a span waiting for a decision",
        Duration::from_secs(15),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&agent.ok(&["idle", "--json"])).unwrap();
            v.as_array().filter(|a| !a.is_empty()).cloned()
        },
    );
    assert_eq!(spans.len(), 1, "{spans:?}");
    let span = &spans[0];
    let secs = (parse_ms(span["end"].as_str().unwrap())
        - parse_ms(span["start"].as_str().unwrap()))
        / 1000;
    assert!((6..=9).contains(&secs), "dated from the last input: {span}");
    let listed = agent.ok(&["idle"]);
    assert!(
        listed.contains("Away ") && listed.contains("(on Website)"),
        "{listed}"
    );
    agent.ok(&["idle", "keep", "--project", "Shop"]);
    assert!(agent.ok(&["idle"]).contains("no idle time waits"));
    // Present until the end: stopping during an absence would leave a
    // second span waiting.
    desk.xdotool(&["type", "--delay", "50", "done "]);
    agent.ok(&["stop"]);
    wait_for_upload(&agent);
    agent.stop_daemon();

    let rows = work.report();
    let shop = rows
        .iter()
        .find(|r| r["project"] == "Shop")
        .unwrap_or_else(|| panic!("no Shop in {rows:?}"));
    assert_eq!(
        shop["idle_kept_seconds"].parse::<i64>().unwrap(),
        secs,
        "{rows:?}"
    );
    assert_eq!(shop["tracked_seconds"], shop["idle_kept_seconds"]);
    // Website keeps the rest of the minutes; nothing is counted twice.
    let total: u64 = work
        .minutes()
        .iter()
        .map(|m| m["seconds"].as_u64().unwrap())
        .sum();
    let reported: u64 = rows
        .iter()
        .map(|r| r["tracked_seconds"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(reported, total, "{rows:?}");
    let status = agent.status();
    assert_eq!(
        status["work"]["pending_idle"],
        serde_json::json!([]),
        "{status}"
    );
    let _ = &work.shop;
}

/// A hard budget reached while tracking stops tracking on the project and
/// says why, in the status and on the next `stint start`; a weekly limit
/// already used up refuses the project from the start.
#[test]
fn a_hard_budget_stops_tracking_and_a_used_up_limit_refuses_the_project() {
    let work = Work::new();
    // 10 seconds in all, a hard stop; and no time a week on Shop for Max.
    work.server.admin(&[
        "project",
        "budget",
        "Website",
        "--hours",
        "0.0028",
        "--hard-stop",
    ]);
    work.server.admin(&[
        "project",
        "limit",
        "Shop",
        "max@example.com",
        "--weekly-hours",
        "0",
    ]);
    let mut agent = Agent::new(
        None,
        &work.agent_toml("[schedule]\nminute = \"2s\"\nsegment = \"10s\"\n"),
    );
    agent.start_daemon();
    wait_for_projects(&agent);
    let out = agent.run(&["start", "--project", "Shop"]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("weekly limit of 0 h") && err.contains("used up"),
        "{err}"
    );

    agent.ok(&["start", "--project", "Website"]);
    let status = wait_for(
        "the budget to stop tracking",
        Duration::from_secs(40),
        || {
            let s = agent.status();
            (s["tracking"] == false).then_some(s)
        },
    );
    let why = status["work"]["stopped"].as_str().unwrap_or_default();
    assert!(why.contains("budget of 0:00:10"), "{status}");
    assert!(
        agent
            .ok(&["status"])
            .contains("stopped:   tracking stopped"),
        "{status}"
    );
    let out = agent.run(&["start"]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("used up"),
        "{out:?}"
    );
    wait_for_upload(&agent);
    agent.stop_daemon();
    // What was tracked before the stop is the budget, give or take a minute
    // still on its way when the last heartbeat counted.
    let tracked: u64 = work
        .minutes()
        .iter()
        .map(|m| m["seconds"].as_u64().unwrap())
        .sum();
    assert!(
        (8..=16).contains(&tracked),
        "{tracked} s tracked on a 10 s budget"
    );
    let _ = (&work.website, &work.shop);
}
