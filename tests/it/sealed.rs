//! Sealed screenshots end to end: a manager makes a screenshot key in a real
//! Chromium, a real agent on Xvfb seals Max's screenshots to it, the server
//! stores bytes no decoder opens, the manager's browser opens them with the
//! passphrase, someone the permission function refuses gets nothing to
//! open, and a new key leaves old screenshots to the old key alone.

use std::path::Path;
use std::time::Duration;

use crate::helpers::*;

/// Every object file under the server's data dir that holds a capture.
fn stored_images(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "sealed" || x == "webp") {
                found.push(p);
            }
        }
    }
    found
}

/// Makes a key on /me/keys in `browser` (logged in) with `pass`; returns
/// the page's key table.
fn make_key(browser: &WebBrowser, base: &str, pass: &str) -> String {
    browser.open(&format!("{base}/me/keys"));
    let rows = || {
        browser
            .eval("return document.querySelectorAll('#keys tbody tr').length")
            .as_u64()
            .unwrap_or(0)
    };
    let before = rows();
    browser.type_into("#e2e-pass", pass);
    browser.type_into("#e2e-again", pass);
    browser.click("#e2e-make button");
    wait_for_or_show(
        "the key made",
        Duration::from_secs(30),
        || browser.text(),
        || (rows() > before).then(|| browser.text()),
    )
}

/// Unlocks with `pass` on the page open in `browser`.
fn unlock(browser: &WebBrowser, pass: &str) {
    browser.type_into("#e2e-unlock-pass", pass);
    browser.click("#e2e-unlock button");
}

/// (opened, still sealed) among the page's thumbnails, once each has tried.
fn thumbs(browser: &WebBrowser, want_open: u64) -> (u64, u64) {
    wait_for_or_show(
        "the thumbnails to open",
        Duration::from_secs(30),
        || browser.text(),
        || {
            let v = browser.eval(
                "const i = [...document.querySelectorAll('.shots img')];
                 return [i.filter(x => !x.dataset.sealed && x.complete && x.naturalWidth > 0).length,
                         i.filter(x => x.dataset.sealed).length]",
            );
            let (o, s) = (v[0].as_u64()?, v[1].as_u64()?);
            (o >= want_open).then_some((o, s))
        },
    )
}

#[test]
fn sealed_screenshots_open_only_in_the_browsers_of_those_who_may_see_them() {
    let server = Server::start_env("127.0.0.1", &[], None, Vec::new());
    people_in_support(
        &server,
        &[
            ("mia@example.com", "Mia", "manager"),
            ("max@example.com", "Max", "member"),
            ("eve@example.com", "Eve", "member"),
        ],
    );
    server.admin(&["policy", "--set", "e2e_screenshots=true"]);
    let base = format!("https://localhost:{}", server.port);
    let browser = WebBrowser::start();
    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    let keys = make_key(&browser, &base, "first passphrase of Mia");
    assert!(keys.contains("current"), "{keys}");
    // Eve, another member, makes a key too: the permission function does
    // not let her see Max's screenshots, so nothing is sealed to it.
    log_in(
        &browser,
        &base,
        "eve@example.com",
        "Eve has a long password",
    );
    make_key(&browser, &base, "Eve's own passphrase");

    let mut desk = Desktop::start(320, 240);
    desk.xterm("Max's terminal");
    let mut agent = Agent::new(
        Some(&desk),
        &server.person_agent_toml("max@example.com", FAST_SHOTS),
    );
    agent.start_daemon();
    let sealed_captures = |n: usize| {
        wait_for_or_show(
            "sealed screenshots at the server",
            Duration::from_secs(40),
            || {
                let log = agent.stderr();
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(25)..].join("\n")
            },
            || {
                let v: serde_json::Value =
                    serde_json::from_str(&server.admin(&["export", "--json"])).ok()?;
                let c = v["devices"][0]["captures"].as_array()?.clone();
                (c.len() >= n).then_some(c)
            },
        )
    };
    let first = sealed_captures(2);
    assert!(first.iter().all(|c| c["sealed"] == true), "{first:?}");

    // What the server stores: sealed to Mia's key alone, no image in sight.
    let files = stored_images(server.dir.path());
    assert!(!files.is_empty());
    let mia_pub = {
        let page = Curl::new(&server);
        page.login("mia@example.com", "Mia has a long password");
        page.get("/me/keys").body
    };
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(&bytes[..4], b"STE1", "{f:?} is sealed");
        assert!(
            !bytes.windows(4).any(|w| w == b"WEBP"),
            "{f:?} holds no WebP"
        );
        assert!(webp::Decoder::new(&bytes).decode().is_none(), "{f:?}");
        let ids = stint_common::seal::key_ids(&bytes).unwrap();
        assert_eq!(ids.len(), 1, "Mia only, not Eve: {f:?}");
        let hex: String = ids[0].iter().map(|b| format!("{b:02x}")).collect();
        assert!(mia_pub.contains(&hex), "sealed to Mia's key {hex}");
    }

    // Mia's browser opens them with her passphrase: the diary's thumbnails,
    // then a screenshot at full size.
    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let max_day = format!("{base}/diary/{}/{day}", server.person_id("max@example.com"));
    browser.open(&max_day);
    let (open, _) = thumbs(&browser, 0);
    assert_eq!(open, 0, "locked until the passphrase");
    unlock(&browser, "first passphrase of Mia");
    let (open, still) = thumbs(&browser, 2);
    assert_eq!(still, 0);
    assert!(open >= 2);
    let width = browser
        .eval("return document.querySelector('.shots img').naturalWidth")
        .as_u64();
    assert_eq!(width, Some(240), "the agent's own 240 px thumbnail");
    browser.screenshot(&artefact("sealed-diary-unlocked.png"));
    browser.click(".shots a");
    wait_for(
        "the full screenshot opened",
        Duration::from_secs(20),
        || {
            browser
            .eval("const i = document.querySelector('figure.shot img'); return i && !i.dataset.sealed && i.complete ? i.naturalWidth : 0")
            .as_u64()
            .filter(|w| *w == 320)
        },
    );

    // Eve may not see Max's images: refused, nothing to open.
    let eve = Curl::new(&server);
    eve.login("eve@example.com", "Eve has a long password");
    let id = first[0]["id"].as_str().unwrap();
    assert_eq!(eve.get(&format!("/images/{id}")).status, 403);
    // The operator's way to an image: the path it names holds the seal.
    let path = server.admin(&["capture-path", id]);
    let on_disk = std::fs::read(path.trim().trim_start_matches("file://")).unwrap();
    assert_eq!(&on_disk[..4], b"STE1", "{path}");
    // Max's own download of his data carries the sealed bytes only.
    let max = Curl::new(&server);
    max.login("max@example.com", "Max has a long password");
    let tar = max.get(&format!("/export/{}", server.person_id("max@example.com")));
    assert_eq!(tar.status, 200);
    assert!(tar.body.contains("STE1") && !tar.body.contains("WEBPVP8"));

    // A new key: new screenshots are sealed to it; the old ones stay with the
    // old key. Unlocking only the new one leaves them sealed.
    make_key(&browser, &base, "second passphrase of Mia");
    let seen = first.len();
    wait_for(
        "a screenshot sealed to the new key",
        Duration::from_secs(40),
        || {
            let mut files = stored_images(server.dir.path());
            files.sort();
            let newest = files.into_iter().filter_map(|f| {
                let b = std::fs::read(&f).ok()?;
                stint_common::seal::key_ids(&b).ok()
            });
            let distinct: std::collections::BTreeSet<_> = newest.collect();
            (distinct.len() >= 2).then_some(())
        },
    );
    agent.stop_daemon();
    log_in(
        &browser,
        &base,
        "mia@example.com",
        "Mia has a long password",
    );
    browser.open(&max_day);
    unlock(&browser, "second passphrase of Mia");
    let (open, still) = thumbs(&browser, 1);
    assert!(
        open >= 1 && still >= seen as u64,
        "{open} open, {still} sealed"
    );
    unlock(&browser, "first passphrase of Mia");
    let (_, still) = thumbs(&browser, open + still);
    assert_eq!(still, 0, "the retired key opens the old ones");
    browser.screenshot(&artefact("sealed-diary-after-rotation.png"));
}
