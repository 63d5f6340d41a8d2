//! The web diary over real HTTPS with curl as the browser (every status and
//! header): people with roles log in, a manager opens a team member's day and
//! screenshot, another member is refused both, timesheets, deletion and "Download my
//! data" do what they promise.

use std::process::Command;

use crate::helpers::*;

#[test]
fn a_manager_sees_a_members_day_others_are_refused_and_the_member_sees_who_looked() {
    let world = World::new();
    let (server, capture, mia, today) = (&world.server, &world.capture, &world.mia, &world.today);
    let max_day = world.max_day();
    // Nobody logged in: to the login page, for pages and images alike.
    let stranger = Curl::new(server);
    for path in [
        max_day.as_str(),
        &format!("/images/{capture}"),
        "/me/views",
        "/",
    ] {
        let page = stranger.get(path);
        assert_eq!(page.status, 303, "{path}");
        assert!(
            page.headers.contains("location: /login"),
            "{path}: {}",
            page.headers
        );
    }
    // Wrong password and unknown account: the same words.
    for (email, password) in [
        ("mia@example.com", "wrong"),
        ("nobody@example.com", "whatever"),
    ] {
        let page = stranger.login(email, password);
        assert_eq!(page.status, 401);
        assert!(
            page.body.contains("The email or the password is wrong."),
            "{}",
            page.body
        );
    }
    // A form posted without the CSRF cookie's token is refused.
    let forged = Curl::new(server).request(
        "/login",
        &[
            ("email", "mia@example.com"),
            ("password", "Mia has a long password"),
            ("csrf", "x"),
        ],
    );
    assert_eq!(forged.status, 403);

    // The manager opens Max's day and his screenshot.
    let mia_browser = Curl::new(server);
    let before = Curl::csrf(&mia_browser.get("/login"));
    let login = mia_browser.login("mia@example.com", "Mia has a long password");
    assert_eq!(login.status, 303, "{}", login.body);
    assert!(
        login.headers.contains("set-cookie: __host-stint_session=")
            && login.headers.contains("httponly")
            && login.headers.contains("samesite=strict")
            && login.headers.contains("secure")
            && login.headers.contains("path=/"),
        "{}",
        login.headers
    );
    // The forms' token is the session's: a new one at login, and the one
    // from before no longer works.
    let after = Curl::csrf(&mia_browser.get("/me/views"));
    assert_ne!(before, after);
    assert_eq!(
        mia_browser.request("/logout", &[("csrf", &before)]).status,
        403
    );
    let home = mia_browser.get("/");
    assert!(
        home.headers.contains(&format!("location: /diary/{mia}/")),
        "{}",
        home.headers
    );
    let day = mia_browser.get(&max_day);
    assert_eq!(day.status, 200, "{}", day.body);
    assert!(
        day.body.contains("Max")
            && day.body.contains(&format!("/images/{capture}"))
            && day.body.contains("class=\"bar b"),
        "{}",
        day.body
    );
    assert!(
        day.headers
            .contains("content-security-policy: default-src 'none'"),
        "{}",
        day.headers
    );
    let thumb = mia_browser.get(&format!("/images/{capture}?size=thumb"));
    assert_eq!(thumb.status, 200);
    assert!(
        thumb.headers.contains("content-type: image/webp"),
        "{}",
        thumb.headers
    );
    assert!(
        thumb.body.len() <= 15 * 1024,
        "thumbnail of {} bytes",
        thumb.body.len()
    );
    let image = mia_browser.get(&format!("/images/{capture}"));
    assert_eq!(image.status, 200);
    assert!(
        image.headers.contains("content-type: image/webp"),
        "{}",
        image.headers
    );
    assert!(
        image.headers.contains("cache-control: private, no-store"),
        "{}",
        image.headers
    );

    // The manager's overview of today: herself and Max, with his last minute.
    let team = mia_browser.get("/team").body;
    assert!(
        team.contains("Max") && team.contains("Mia") && team.contains(" in XTerm"),
        "{team}"
    );

    // Another member may see neither.
    let eve = Curl::new(server);
    assert_eq!(
        eve.login("eve@example.com", "Eve has a long password")
            .status,
        303
    );
    assert_eq!(eve.get(&max_day).status, 403);
    assert_eq!(eve.get(&format!("/images/{capture}")).status, 403);

    // Max sees who looked, and that Eve's refused attempts left no trace.
    let max_browser = Curl::new(server);
    assert_eq!(
        max_browser
            .login("max@example.com", "Max has a long password")
            .status,
        303
    );
    let views = max_browser.get("/me/views");
    assert_eq!(views.status, 200);
    assert!(views.body.contains("mia@example.com"), "{}", views.body);
    assert!(
        views.body.contains(&format!("screenshot {capture}")),
        "{}",
        views.body
    );
    assert!(
        views.body.contains(&format!("diary of {today}")),
        "{}",
        views.body
    );
    assert!(!views.body.contains("eve@example.com"), "{}", views.body);

    // Logging out ends the session.
    let csrf = Curl::csrf(&mia_browser.get(&max_day));
    assert_eq!(
        mia_browser.request("/logout", &[("csrf", &csrf)]).status,
        303
    );
    assert_eq!(mia_browser.get(&max_day).status, 303);
}

/// The timesheet's CSV holds one row per person the viewer may see and day,
/// with the seconds the records add up to.
#[test]
fn the_timesheet_csv_matches_the_records_and_the_viewers_reach() {
    let world = World::new();
    let server = &world.server;
    let export: serde_json::Value =
        serde_json::from_str(&server.admin(&["export", "--json"])).unwrap();
    let max_secs: u64 = export["devices"][0]["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seconds"].as_u64().unwrap())
        .sum();
    let path = format!("/reports/timesheet?from={0}&to={0}&format=csv", world.today);
    for (email, password, names) in [
        (
            "mia@example.com",
            "Mia has a long password",
            vec!["Max", "Mia"],
        ),
        ("eve@example.com", "Eve has a long password", vec!["Eve"]),
    ] {
        let browser = Curl::new(server);
        browser.login(email, password);
        let page = browser.get(&path);
        assert_eq!(page.status, 200);
        assert!(
            page.headers.contains("content-type: text/csv"),
            "{}",
            page.headers
        );
        let rows: Vec<Vec<&str>> = page
            .body
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        let got: Vec<&str> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(got, names, "{email}:\n{}", page.body);
        if let Some(max) = rows.iter().find(|r| r[0] == "Max") {
            assert_eq!(max[2], world.today);
            assert_eq!(max[8].parse::<u64>().unwrap(), max_secs, "{}", page.body);
        }
    }
    let bad = Curl::new(server);
    bad.login("mia@example.com", "Mia has a long password");
    let page = bad.get("/reports/timesheet?from=2026-01-01&to=2025-01-01");
    assert_eq!(page.status, 400);
    assert!(page.body.contains("must run forward"), "{}", page.body);
}

/// Max deletes a segment of his own from the diary; his manager may not (the
/// form is not even offered); the admin deletes the rest of the day from the
/// command line. Deleted images are gone from the server.
#[test]
fn a_person_deletes_their_own_segment_and_a_manager_may_not() {
    let world = World::new();
    let server = &world.server;
    let day = world.max_day();
    let image = format!("/images/{}", world.capture);

    let mia = Curl::new(server);
    mia.login("mia@example.com", "Mia has a long password");
    let page = mia.get(&day);
    assert!(
        !page.body.contains("Delete this segment"),
        "no delete form for the manager"
    );

    let max = Curl::new(server);
    max.login("max@example.com", "Max has a long password");
    let page = max.get(&day);
    assert!(page.body.contains("Delete this segment"), "{}", page.body);
    let (csrf, from, to) = (
        field(&page.body, "csrf"),
        field(&page.body, "from"),
        field(&page.body, "to"),
    );
    let form = [
        ("csrf", csrf.as_str()),
        ("from", &from),
        ("to", &to),
        ("reason", "a private call"),
    ];

    // The manager posting the same form is refused, and nothing goes.
    let mia_csrf = Curl::csrf(&mia.get(&day));
    let mut forged = form;
    forged[0] = ("csrf", &mia_csrf);
    assert_eq!(mia.request(&format!("{day}/delete"), &forged).status, 403);
    assert_eq!(mia.get(&image).status, 200);

    let done = max.request(&format!("{day}/delete"), &form);
    assert_eq!(done.status, 303, "{}", done.body);
    // Max sees what was deleted, by whom and why.
    let views = max.get("/me/views").body;
    assert!(
        views.contains("What was deleted")
            && views.contains("a private call")
            && views.contains("max@example.com"),
        "{views}"
    );
    assert_eq!(max.get(&image).status, 404, "the image is gone");
    assert_eq!(mia.get(&image).status, 404);
    let v: serde_json::Value = serde_json::from_str(&server.admin(&["export", "--json"])).unwrap();
    assert!(
        v["devices"][0]["captures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != world.capture.as_str()),
        "{v}"
    );

    let said = server.admin(&[
        "delete",
        "max@example.com",
        "--day",
        &world.today,
        "--reason",
        "test",
    ]);
    assert!(said.starts_with("deleted "), "{said}");
    assert!(server.minutes().is_empty(), "{:?}", server.minutes());
}

/// "Download my data": the person gets every record and image as one tar
/// archive; a manager and another member may not download it; the owner may,
/// and the person sees that.
#[test]
fn a_person_downloads_everything_recorded_about_them() {
    let world = World::new();
    let server = &world.server;
    let path = format!("/export/{}", world.max);
    let max = Curl::new(server);
    max.login("max@example.com", "Max has a long password");
    let page = max.get("/me/views");
    assert!(
        page.body.contains(&format!("href=\"{path}\"")),
        "the nav offers it"
    );

    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("export.tar");
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(server.ca())
        .arg("-b")
        .arg(max.jar.path())
        .arg("-o")
        .arg(&tar)
        .arg(format!("https://localhost:{}{path}", server.port))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let listing = Command::new("tar").arg("-tf").arg(&tar).output().unwrap();
    assert!(listing.status.success(), "tar reads it: {listing:?}");
    let names = String::from_utf8(listing.stdout).unwrap();
    assert!(
        names.contains("stint-export/records.json") && names.contains("stint-export/minutes.csv"),
        "{names}"
    );
    assert!(
        names.contains(&world.capture) && names.contains(".webp"),
        "{names}"
    );
    let unpack = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(unpack.success());
    let records: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stint-export/records.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(records["person"]["email"], "max@example.com");
    let minutes = records["devices"][0]["minutes"].as_array().unwrap().len();
    assert_eq!(minutes, server.minutes().len(), "every minute");

    for (email, password, status) in [
        ("mia@example.com", "Mia has a long password", 403),
        ("eve@example.com", "Eve has a long password", 403),
        ("olga@example.com", "Olga has a long password", 200),
    ] {
        let who = Curl::new(server);
        who.login(email, password);
        assert_eq!(who.get(&path).status, status, "{email}");
    }
    let views = max.get("/me/views").body;
    assert!(
        views.contains("olga@example.com") && views.contains("the export of all their data"),
        "{views}"
    );
}

/// The rest of the diary's controls: a zone the viewer picks, the
/// applications report, logging out everywhere, and deleting a whole day or
/// everything, each for those allowed.
#[test]
fn zones_applications_logout_everywhere_and_deleting_days_and_everything() {
    let world = World::new();
    let server = &world.server;
    let day = world.max_day();

    let max = Curl::new(server);
    max.login("max@example.com", "Max has a long password");
    let tokyo = max.get(&format!("{day}?tz=Asia/Tokyo"));
    assert_eq!(tokyo.status, 200);
    assert!(
        tokyo.body.contains("(Asia/Tokyo)") && tokyo.body.contains("?tz=Asia/Tokyo"),
        "{}",
        tokyo.body
    );
    assert_eq!(max.get(&format!("{day}?tz=Mars/Olympus")).status, 400);

    let apps = max.get(&format!("/reports/apps?person={}", world.max));
    assert_eq!(apps.status, 200);
    assert!(apps.body.contains("XTerm"), "{}", apps.body);

    // Max may delete his day, not everything; the manager neither.
    let page = max.get(&day).body;
    assert!(
        page.contains("Delete this whole day") && !page.contains("Delete everything"),
        "{page}"
    );
    let mia = Curl::new(server);
    mia.login("mia@example.com", "Mia has a long password");
    let mcsrf = Curl::csrf(&mia.get(&day));
    let all = format!("/people/{}/delete-all", world.max);
    assert_eq!(
        mia.request(&all, &[("csrf", &mcsrf), ("reason", "no")])
            .status,
        403
    );
    assert!(!server.minutes().is_empty());

    let olga = Curl::new(server);
    olga.login("olga@example.com", "Olga has a long password");
    let opage = olga.get(&day).body;
    assert!(
        opage.contains("Delete everything recorded about Max"),
        "{opage}"
    );
    let ocsrf = field(&opage, "csrf");
    assert_eq!(
        olga.request(&all, &[("csrf", &ocsrf), ("reason", "left the company")])
            .status,
        303
    );
    assert!(server.minutes().is_empty(), "{:?}", server.minutes());
    assert_eq!(max.get(&format!("/images/{}", world.capture)).status, 404);
    let views = max.get("/me/views").body;
    assert!(
        views.contains("left the company") && views.contains("olga@example.com"),
        "{views}"
    );

    // Log out everywhere: a second session of Max's ends too.
    let other = Curl::new(server);
    other.login("max@example.com", "Max has a long password");
    let csrf = Curl::csrf(&max.get("/me/views"));
    assert_eq!(
        max.request("/logout", &[("csrf", &csrf), ("everywhere", "1")])
            .status,
        303
    );
    assert_eq!(
        other.get("/me/views").status,
        303,
        "the other session ended"
    );
    assert_eq!(max.get("/me/views").status, 303);
}
