//! The web diary in a real headless Chromium over WebDriver: login, a
//! manager's view of a member's day and full-size screenshot, a member's
//! refusal, "Who looked at my data". The browser's screenshots of the pages
//! are kept in target/web-artifacts/.

use std::time::Duration;

use crate::helpers::*;

#[test]
fn in_a_real_browser_the_manager_sees_the_screenshot_and_a_member_is_refused() {
    let world = World::new();
    let browser = WebBrowser::start();
    let base = format!("https://localhost:{}", world.server.port);

    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    assert!(
        browser.url().contains(&format!("/diary/{}/", world.mia)),
        "{}",
        browser.url()
    );
    browser.open(&format!("{base}{}", world.max_day()));
    let text = browser.text();
    assert!(text.contains("Max") && text.contains("% active"), "{text}");
    // The screenshot arrives through the permission-checked route and decodes.
    let width = wait_for(
        "the screenshot decoded in the page",
        Duration::from_secs(20),
        || {
            browser
            .eval("const i = document.querySelector('.shots img'); return i && i.complete ? i.naturalWidth : 0")
            .as_u64()
            .filter(|w| *w > 0)
        },
    );
    assert_eq!(width, 240, "a thumbnail of the agent's 320x240 screen");
    browser.screenshot(&artefact("diary-as-manager.png"));
    // The thumbnail opens the full screenshot with its segment's minutes.
    browser.click(".shots a");
    wait_for("the full screenshot", Duration::from_secs(20), || {
        browser
            .eval("const i = document.querySelector('figure.shot img'); return i && i.complete ? i.naturalWidth : 0")
            .as_u64()
            .filter(|w| *w == 320)
    });
    assert!(
        browser.text().contains("The segment's minutes"),
        "{}",
        browser.text()
    );
    browser.screenshot(&artefact("screenshot-full-size.png"));
    // The vendored script, allowed by the CSP, takes Escape back to the day.
    browser.press_key("\u{E00C}");
    wait_for("Escape back to the day", Duration::from_secs(20), || {
        browser.url().contains("/diary/").then_some(())
    });

    log_in(
        &browser,
        &base,
        "eve@example.com",
        "Eve has a long password",
    );
    browser.open(&format!("{base}/images/{}", world.capture));
    assert!(
        browser.text().contains("You may not see this."),
        "{}",
        browser.text()
    );
    browser.screenshot(&artefact("image-refused-to-another-member.png"));

    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    browser.open(&format!("{base}/me/views"));
    let text = browser.text();
    assert!(
        text.contains("mia@example.com") && text.contains("manager"),
        "{text}"
    );
    assert!(!text.contains("eve@example.com"), "{text}");
    browser.screenshot(&artefact("who-looked-at-my-data.png"));

    log_in(
        &browser,
        &base,
        "olga@example.com",
        "Olga has a long password",
    );
    browser.open(&format!("{base}/admin"));
    let text = browser.text();
    assert!(
        text.contains("Administration") && text.contains("Policy in effect"),
        "{text}"
    );
    browser.screenshot(&artefact("administration.png"));
}

/// A manager who leads a project reassigns a segment of Max's day to it in
/// Chromium; Max sees the change, its reason and who made it on his "what
/// changed" page; the project report's totals equal the sum of its CSV rows.
#[test]
fn in_a_real_browser_a_lead_reassigns_a_segment_and_the_member_sees_why() {
    let world = World::new();
    let server = &world.server;
    let website = server.admin(&["project", "add", "Website", "--client", "ACME"]);
    let website = website.trim();
    server.admin(&[
        "project",
        "member",
        "Website",
        "mia@example.com",
        "--role",
        "lead",
    ]);
    server.admin(&[
        "project",
        "member",
        "Website",
        "max@example.com",
        "--role",
        "member",
    ]);
    let browser = WebBrowser::start();
    let base = format!("https://localhost:{}", server.port);

    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    browser.open(&format!("{base}{}", world.max_day()));
    browser.eval(&format!(
        "document.querySelector('form.reassign select').value = '{website}'; return true"
    ));
    browser.type_into("form.reassign input[name=reason]", "was the website launch");
    browser.click("form.reassign button");
    wait_for(
        "the segment under its new project",
        Duration::from_secs(20),
        || {
            browser
            .eval("const w = document.querySelector('.segment p.work'); return w ? w.innerText : ''")
            .as_str()
            .filter(|t| t.contains("Website"))
            .map(drop)
        },
    );
    browser.screenshot(&artefact("diary-reassigned.png"));
    assert!(browser.text().contains("Website"), "{}", browser.text());

    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    browser.open(&format!("{base}/me/views"));
    browser.screenshot(&artefact("what-changed.png"));
    let changes = browser
        .eval("const t = document.querySelector('#changes'); return t ? t.innerText : ''")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        changes.contains("was the website launch")
            && changes.contains("Website")
            && changes.contains("Mia <mia@example.com>"),
        "{changes}"
    );
    browser.screenshot(&artefact("what-changed.png"));

    // The report page's total is the sum of its CSV rows.
    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    browser.open(&format!(
        "{base}/reports/projects?from={0}&to={0}",
        world.today
    ));
    let total = browser
        .eval("return document.querySelector('#total-tracked').innerText")
        .as_str()
        .unwrap()
        .to_string();
    browser.screenshot(&artefact("time-per-project.png"));
    let curl = Curl::new(server);
    curl.login("mia@example.com", "Mia has a long password");
    let csv = curl
        .get(&format!(
            "/reports/projects?from={0}&to={0}&format=csv",
            world.today
        ))
        .body;
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let sum: u64 = rows.iter().map(|r| r[8].parse::<u64>().unwrap()).sum();
    assert!(
        rows.iter().any(|r| r[1] == "Website" && r[0] == "ACME"),
        "{csv}"
    );
    assert_eq!(
        total,
        format!("{}:{:02}:{:02}", sum / 3600, sum % 3600 / 60, sum % 60),
        "{csv}"
    );
    let minutes: u64 = server.minutes().len().try_into().unwrap();
    assert!(minutes > 0 && sum > 0, "{csv}");

    // A lead who is not Max's manager sees his time on her project, is told
    // that is all she sees, and Max sees that she looked and at what.
    server.admin(&[
        "project",
        "member",
        "Website",
        "eve@example.com",
        "--role",
        "lead",
    ]);
    log_in(
        &browser,
        &base,
        "eve@example.com",
        "Eve has a long password",
    );
    browser.open(&format!("{base}{}", world.max_day()));
    let scope = browser
        .eval("const n = document.querySelector('#scope'); return n ? n.innerText : ''")
        .as_str()
        .unwrap_or_default()
        .to_string();
    browser.screenshot(&artefact("lead-view.png"));
    assert!(
        scope.contains("only the time on Website"),
        "{scope}\n{}",
        browser.text()
    );
    assert!(browser.text().contains("Website"), "{}", browser.text());
    log_in(
        &browser,
        &base,
        "max@example.com",
        "Max has a long password",
    );
    browser.open(&format!("{base}/me/views"));
    let views = browser.text();
    assert!(
        views.contains("Eve") && views.contains("(time on Website)"),
        "{views}"
    );
}
