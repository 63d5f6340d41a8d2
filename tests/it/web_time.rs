//! Time people claim and hand in, in a real headless Chromium: offline time
//! asked for on the diary and approved from the inbox, timesheet periods
//! submitted, rejected and approved, late minutes kept, and the payroll CSV.

use std::time::Duration;

use crate::helpers::*;

/// Max asks for two stretches of offline time on yesterday's diary; Mia,
/// his manager, sees both in her inbox (its count in the navigation),
/// each within his day, ticks both and approves them at once; the
/// timesheet then shows them as offline time, apart from tracked time, and
/// Max sees who decided.
#[test]
fn in_a_real_browser_offline_time_is_asked_for_approved_and_counted_apart() {
    let world = World::new();
    let server = &world.server;
    let browser = WebBrowser::start();
    let base = format!("https://localhost:{}", server.port);
    let yesterday = chrono::NaiveDate::parse_from_str(&world.today, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap();
    let max_yesterday = format!("{base}/diary/{}/{yesterday}", world.max);

    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    for (from, to, why) in [
        ("09:00", "10:30", "Client meeting at ACME"),
        ("11:00", "11:15", "Phone call with the printer"),
    ] {
        browser.open(&max_yesterday);
        browser.eval(&format!(
            "document.querySelector('form.offline-form input[name=from]').value = '{from}';
             document.querySelector('form.offline-form input[name=to]').value = '{to}'; return true"
        ));
        browser.type_into("form.offline-form input[name=reason]", why);
        browser.click("form.offline-form button");
        wait_for("the request on the diary", Duration::from_secs(20), || {
            browser.text().contains(why).then_some(())
        });
    }
    browser.screenshot(&artefact("offline-asked.png"));
    let listed = browser.text();
    assert!(
        listed.contains("09:00–10:30 (1:30)") && listed.contains("waiting for a decision"),
        "{listed}"
    );
    // Time the agent recorded cannot be claimed again.
    let curl = Curl::new(server);
    curl.login("max@example.com", "Max has a long password");
    let csrf = Curl::csrf(&curl.get("/me/views"));
    // The first minute the agent recorded today (Max's zone is UTC).
    let first = server.minutes()[0].1.clone();
    let at = chrono::DateTime::parse_from_rfc3339(&first).unwrap();
    let (from, to) = (
        at.format("%H:%M").to_string(),
        (at + chrono::Duration::minutes(1))
            .format("%H:%M")
            .to_string(),
    );
    let overlap = curl.request(
        &format!("{}/offline", world.max_day()),
        &[
            ("csrf", csrf.as_str()),
            ("from", from.as_str()),
            ("to", to.as_str()),
            ("work", ""),
            ("reason", "all day"),
        ],
    );
    assert_eq!(overlap.status, 400, "{}", overlap.body);
    assert!(
        overlap.body.contains("overlaps time the agent recorded"),
        "{}",
        overlap.body
    );

    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    let count = browser
        .eval("const c = document.querySelector('#nav-inbox .count'); return c ? c.innerText : ''")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(count, "2", "{}", browser.text());
    browser.open(&format!("{base}/inbox"));
    let inbox = browser.text();
    assert!(
        inbox.contains("Client meeting at ACME") && inbox.contains("asked 09:00-10:30"),
        "{inbox}"
    );
    browser.screenshot(&artefact("offline-inbox.png"));
    browser.eval(
        "document.querySelectorAll('input[type=checkbox][form=bulk]').forEach(c => c.checked = true); return true",
    );
    browser.click("#approve-selected");
    wait_for("an empty inbox", Duration::from_secs(20), || {
        browser
            .text()
            .contains("No offline time waits")
            .then_some(())
    });

    // The timesheet counts it apart from tracked time.
    browser.open(&format!(
        "{base}/reports/timesheet?from={yesterday}&to={yesterday}"
    ));
    browser.screenshot(&artefact("offline-timesheet.png"));
    let cells = browser
        .eval("return [...document.querySelectorAll('td.offline')].map(c => c.innerText).join(' ')")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(cells.contains("1:45"), "{cells}");
    let mia = Curl::new(server);
    mia.login("mia@example.com", "Mia has a long password");
    let csv = mia
        .get(&format!(
            "/reports/timesheet?from={yesterday}&to={yesterday}&format=csv"
        ))
        .body;
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "offline_seconds").unwrap();
    let max_row = csv
        .lines()
        .find(|l| l.contains("max@example.com"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert_eq!(max_row.split(',').nth(at), Some("6300"), "{csv}");
    let tracked = header.iter().position(|h| *h == "tracked_seconds").unwrap();
    assert_eq!(max_row.split(',').nth(tracked), Some("0"), "{csv}");

    // Max sees who decided, and when.
    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    browser.open(&format!("{base}/me/views"));
    let asked = browser
        .eval("const t = document.querySelector('#offline'); return t ? t.innerText : ''")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        asked.matches("approved").count() == 2 && asked.contains("Mia <mia@example.com>"),
        "{asked}"
    );
}

/// Max submits last week and the one before; Mia rejects last week (only
/// that one reopens), Max submits it again and Mia approves it; a minute
/// an agent uploads for it afterwards is stored and flagged late, and the
/// payroll CSV counts the week as approved: its offline hour, not the
/// late minute.
#[test]
fn in_a_real_browser_a_week_is_submitted_rejected_approved_and_late_minutes_kept() {
    let world = World::new();
    let server = &world.server;
    let browser = WebBrowser::start();
    let base = format!("https://localhost:{}", server.port);
    let today = chrono::NaiveDate::parse_from_str(&world.today, "%Y-%m-%d").unwrap();
    let monday = today
        - chrono::Duration::days(i64::from(
            chrono::Datelike::weekday(&today).num_days_from_monday(),
        ));
    let last = monday - chrono::Duration::days(7);
    let before = last - chrono::Duration::days(7);
    let tuesday = last + chrono::Duration::days(1);
    let state_of = |first: chrono::NaiveDate| {
        browser
            .eval(&format!(
                "const r = document.querySelector('tr[data-first=\"{first}\"] .state'); return r ? r.innerText : ''"
            ))
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let submit = |first: chrono::NaiveDate| {
        browser.open(&format!("{base}/periods"));
        browser.click(&format!("tr[data-first=\"{first}\"] form.submit button"));
        wait_for("the period submitted", Duration::from_secs(20), || {
            (state_of(first) == "submitted").then_some(())
        });
    };

    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    // An hour of offline time on last Tuesday, which Mia approves.
    browser.open(&format!("{base}/diary/{}/{tuesday}", world.max));
    browser.eval(
        "document.querySelector('form.offline-form input[name=from]').value = '09:00';
         document.querySelector('form.offline-form input[name=to]').value = '10:00'; return true",
    );
    browser.type_into("form.offline-form input[name=reason]", "Supplier visit");
    browser.click("form.offline-form button");
    wait_for("the request listed", Duration::from_secs(20), || {
        browser.text().contains("Supplier visit").then_some(())
    });
    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    browser.open(&format!("{base}/inbox"));
    browser.click("li.request form.approve button");
    wait_for("the request approved", Duration::from_secs(20), || {
        browser
            .text()
            .contains("No offline time waits")
            .then_some(())
    });

    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    submit(last);
    submit(before);
    browser.screenshot(&artefact("periods-submitted.png"));

    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    let count = browser
        .eval("const c = document.querySelector('#nav-inbox .count'); return c ? c.innerText : ''")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(count, "2", "{}", browser.text());
    browser.open(&format!("{base}/inbox"));
    let item = format!("#periods-waiting li[data-first=\"{last}\"]");
    browser.type_into(
        &format!("{item} form.reject input[name=reason]"),
        "Monday is missing",
    );
    browser.click(&format!("{item} form.reject button"));
    wait_for(
        "one period left to approve",
        Duration::from_secs(20),
        || (!browser.text().contains(&format!("{last} to"))).then_some(()),
    );
    browser.screenshot(&artefact("periods-inbox.png"));

    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    browser.open(&format!("{base}/periods"));
    assert_eq!(state_of(last), "rejected");
    assert_eq!(
        state_of(before),
        "submitted",
        "only the rejected week reopens"
    );
    assert!(
        browser.text().contains("Monday is missing"),
        "{}",
        browser.text()
    );
    submit(last);

    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    browser.open(&format!("{base}/inbox"));
    browser.click(&format!("{item} form.approve button"));
    wait_for("last week approved", Duration::from_secs(20), || {
        (!browser.text().contains(&format!("{last} to"))).then_some(())
    });

    // An agent that was offline uploads a minute of last Wednesday now.
    let token = server.admin(&["token", "create", "--person", "max@example.com"]);
    let enrolled: serde_json::Value = serde_json::from_str(&api_post(
        server,
        "/api/v1/enroll",
        None,
        &serde_json::json!({
            "enroll_token": token.trim(), "hostname": "laptop", "os_type": "Linux",
            "os_version": "12", "os_user": "max", "agent_version": "0.1",
        }),
    ))
    .unwrap();
    let device = enrolled["device_token"].as_str().unwrap();
    let wednesday = last + chrono::Duration::days(2);
    let late_id = "0190c0de-0000-7000-8000-00000000late";
    let stored = api_post(
        server,
        "/api/v1/minutes",
        Some(device),
        &serde_json::json!({"sessions": [], "minutes": [{
            "id": late_id, "start": format!("{wednesday}T10:00:00Z"), "utc_offset": 0,
            "seconds": 60, "keystrokes": 12, "clicks": 1, "scrolls": 0, "idle": false,
            "session_id": "0190c0de-0000-7000-8000-0000000sess1",
        }]}),
    );
    assert!(stored.contains("\"stored\":1"), "{stored}");
    assert!(server.minutes().iter().any(|(id, _)| id == late_id), "kept");
    browser.open(&format!("{base}/diary/{}/{wednesday}", world.max));
    let note = browser
        .eval("const n = document.querySelector('#period'); return n ? n.innerText : ''")
        .as_str()
        .unwrap_or_default()
        .to_string();
    browser.screenshot(&artefact("period-late-minute.png"));
    assert!(
        note.contains("approved") && note.contains("1 minute(s) of this day arrived after"),
        "{note}"
    );

    let curl = Curl::new(server);
    curl.login("mia@example.com", "Mia has a long password");
    let csv = curl
        .get(&format!(
            "/reports/payroll?from={before}&to={}",
            monday - chrono::Duration::days(1)
        ))
        .body;
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].starts_with(&format!("Max,max@example.com,{tuesday},"))
            && rows[0].ends_with(",1:00,3600,0,3600"),
        "the offline hour, not the late minute, and nothing of the week only submitted: {csv}"
    );
}
