//! Every route of the web UI as every role and as a stranger, over real
//! HTTPS with curl: the status each gets, whether the request left a row
//! in the audit of the person whose data it is, and that the walk visits
//! every route the router has.

use crate::helpers::*;

/// The audit rows about Max, as the host reads them.
fn audit_of_max(server: &Server) -> Vec<serde_json::Value> {
    serde_json::from_str(&server.admin(&["audit", "max@example.com", "--json"])).unwrap()
}

/// Every route as every role and as a stranger: the status each gets, for
/// Max's data (Mia manages his team; Eve is another member), and whether
/// the request left a row in Max's audit ('+' after the status): a look at
/// his data by anyone but him always does, anything else never.
#[test]
fn every_route_as_every_role() {
    let world = World::new();
    let server = &world.server;
    let (day, image) = (world.max_day(), format!("/images/{}", world.capture));
    let (thumb, shot) = (
        format!("{image}?size=thumb"),
        format!("/shots/{}", world.capture),
    );
    let export = format!("/export/{}", world.max);
    let eve = server.person_id("eve@example.com");
    let (delete, delete_all) = (format!("{day}/delete"), format!("/people/{eve}/delete-all"));
    let reassign = format!("{day}/reassign");
    // Yesterday's first minute: passed and unrecorded whenever the test runs.
    let yesterday = chrono::NaiveDate::parse_from_str(&world.today, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap();
    let offline = format!("/diary/{}/{yesterday}/offline", world.max);
    let max_id = world.max.as_str();
    let walkway = server.admin(&["project", "add", "Walkway"]);
    let task = format!("/projects/{}/task", walkway.trim());
    // GET routes, then POST routes with the viewer's own form token (an
    // empty range of Max's, everything of Eve's, who has nothing, a team),
    // and logging out last.
    let gets = [
        day.as_str(),
        image.as_str(),
        thumb.as_str(),
        shot.as_str(),
        export.as_str(),
        "/me/views",
        "/reports/timesheet",
        "/reports/projects",
        "/reports/apps",
        "/team",
        "/",
        "/login",
        "/static/stint.css",
        "/static/stint.js",
        "/admin",
        "/login/oidc",
        "/login/oidc/callback?code=c&state=s",
        "/set-password/not-a-link",
        "/projects",
        "/inbox",
        "/me/offline",
        "/periods",
        "/reports/payroll",
        "/me/tokens",
        "/me/keys",
        "/static/e2e.js",
    ];
    let posts: [(&str, &[(&str, &str)]); 13] = [
        (
            delete.as_str(),
            &[("from", "1"), ("to", "2"), ("reason", "walk")],
        ),
        (delete_all.as_str(), &[("reason", "walk")]),
        ("/admin/team-add", &[("team", "Walkers")]),
        ("/projects/add", &[("name", "Walks")]),
        (task.as_str(), &[("task", "walk")]),
        (
            reassign.as_str(),
            &[("from", "1"), ("to", "2"), ("work", ""), ("reason", "walk")],
        ),
        (
            offline.as_str(),
            &[
                ("from", "00:00"),
                ("to", "00:01"),
                ("work", ""),
                ("reason", "walk"),
            ],
        ),
        ("/inbox/decide", &[("id", "nope"), ("decision", "approve")]),
        // A week long past: each viewer hands in their own, once.
        ("/periods/submit", &[("day", "2026-01-05")]),
        (
            "/periods/decide",
            &[
                ("person", max_id),
                ("day", "2026-01-05"),
                ("decision", "approve"),
            ],
        ),
        ("/me/tokens/revoke", &[("id", "0123456789ab")]),
        // A key that is no key: refused in words, whoever asks.
        ("/me/keys", &[("public", "AAAA"), ("iterations", "600000")]),
        ("/logout", &[]),
    ];
    let walked: Vec<&str> = gets
        .iter()
        .copied()
        .chain(posts.iter().map(|p| p.0))
        .collect();
    let routes = web_routes();
    assert!(routes.len() >= 20, "{routes:?}");
    for route in &routes {
        assert!(
            walked.iter().any(|p| route_matches(route, p)),
            "the walk visits no path of {route}"
        );
    }
    // One row per viewer: the answers to the GETs, then to the POSTs.
    #[rustfmt::skip]
    let table: [(Option<&str>, [&str; 26], [&str; 13]); 7] = [
        (None,
         ["303", "303", "303", "303", "303", "303", "303", "303", "303", "303", "303", "200", "200", "200", "303", "404", "403", "410", "303", "303", "303", "303", "303", "303", "303", "200"],
         ["303", "303", "303", "303", "303", "303", "303", "303", "303", "303", "303", "303", "303"]),
        (Some("olga@example.com"),
         ["200+", "200+", "200+", "200+", "200+", "200", "200+", "200+", "200+", "200+", "303", "200", "200", "200", "200", "404", "403", "410", "200", "200", "303", "200", "200+", "200", "200", "200"],
         ["303", "303", "303", "303", "303", "303", "403", "400", "303", "400", "400", "400", "303"]),
        (Some("ada@example.com"),
         ["200+", "200+", "200+", "200+", "200+", "200", "200+", "200+", "200+", "200+", "303", "200", "200", "200", "200", "404", "403", "410", "200", "200", "303", "200", "200+", "200", "200", "200"],
         ["303", "303", "400", "400", "400", "303", "403", "400", "303", "400", "400", "400", "303"]),
        (Some("mia@example.com"),
         ["200+", "200+", "200+", "200+", "403", "200", "200+", "200+", "200+", "200+", "303", "200", "200", "200", "403", "404", "403", "410", "200", "200", "303", "200", "200+", "200", "200", "200"],
         ["403", "403", "403", "403", "403", "303", "403", "400", "303", "400", "400", "400", "303"]),
        (Some("max@example.com"),
         ["200", "200", "200", "200", "200", "200", "200", "200", "200", "200", "303", "200", "200", "200", "403", "404", "403", "410", "200", "200", "303", "200", "200", "200", "200", "200"],
         ["303", "403", "403", "403", "403", "403", "303", "400", "303", "403", "400", "400", "303"]),
        (Some("eve@example.com"),
         ["403", "403", "403", "403", "403", "200", "200", "200", "200", "200", "303", "200", "200", "200", "403", "404", "403", "410", "200", "200", "303", "200", "200", "200", "200", "200"],
         ["403", "403", "403", "403", "403", "403", "403", "400", "303", "403", "400", "400", "303"]),
        (Some("aud@example.com"),
         ["200+", "200+", "200+", "200+", "403", "200", "200+", "200+", "200+", "200+", "303", "200", "200", "200", "403", "404", "403", "410", "200", "200", "303", "200", "200+", "200", "200", "200"],
         ["403", "403", "403", "403", "403", "403", "403", "400", "303", "403", "400", "400", "303"]),
    ];
    for (who, want_gets, want_posts) in table {
        let browser = Curl::new(server);
        if let Some(email) = who {
            let name = email.split('@').next().unwrap();
            let mut name = name.to_string();
            name[..1].make_ascii_uppercase();
            let login = browser.login(email, &format!("{name} has a long password"));
            assert_eq!(login.status, 303, "{email} logs in: {}", login.body);
        }
        let mut audited = audit_of_max(server).len();
        let mut answer = |status: u16| {
            let now = audit_of_max(server).len();
            let mark = if now > audited { "+" } else { "" };
            audited = now;
            format!("{status}{mark}")
        };
        let got: Vec<String> = gets
            .iter()
            .map(|r| {
                let page = browser.get(r);
                leaks_nothing(&page, who, r, &world);
                answer(page.status)
            })
            .collect();
        assert_eq!(got, want_gets, "{who:?} on {gets:?}");
        // The token of a page every viewer (and a stranger) can load.
        let csrf = Curl::csrf(&browser.get(if who.is_some() { "/me/views" } else { "/login" }));
        let got: Vec<String> = posts
            .iter()
            .map(|(path, fields)| {
                let mut form = vec![("csrf", csrf.as_str())];
                form.extend_from_slice(fields);
                {
                    let page = browser.request(path, &form);
                    leaks_nothing(&page, who, path, &world);
                    answer(page.status)
                }
            })
            .collect();
        assert_eq!(got, want_posts, "{who:?} posting {:?}", posts.map(|p| p.0));
    }
    // Nothing another member was refused shows in Max's audit; the owner's,
    // admin's, manager's and auditor's looks do.
    let views = serde_json::to_string(&audit_of_max(server)).unwrap();
    for (email, seen) in [
        ("olga@example.com", true),
        ("ada@example.com", true),
        ("mia@example.com", true),
        ("aud@example.com", true),
        ("eve@example.com", false),
    ] {
        assert_eq!(views.contains(email), seen, "{email} in:\n{views}");
    }
    // Every form without a token is refused, whatever the role allows.
    let olga = Curl::new(server);
    olga.login("olga@example.com", "Olga has a long password");
    for (path, fields) in &posts {
        // A field at least, so curl sends a POST.
        let fields: &[(&str, &str)] = if fields.is_empty() {
            &[("x", "1")]
        } else {
            fields
        };
        let page = olga.request(path, fields);
        assert_eq!(page.status, 403, "{path} without a token: {}", page.body);
    }
    // A form with another browser's token, or none, is refused.
    let mia = Curl::new(server);
    mia.login("mia@example.com", "Mia has a long password");
    let mias = Curl::csrf(&mia.get("/me/views"));
    for form in [
        vec![("csrf", mias.as_str()), ("team", "Forged")],
        vec![("team", "Forged")],
    ] {
        assert_eq!(olga.request("/admin/team-add", &form).status, 403);
    }
    assert!(!server.admin(&["team", "list"]).contains("Forged"));
}

/// Whether `path` (its query aside) is one of `route`'s, `{name}` standing
/// for any one segment.
fn route_matches(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len()
        && r.iter()
            .zip(&p)
            .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
}

/// The routes of the web router, read from its source.
fn web_routes() -> Vec<String> {
    let router = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src/web/mod.rs"),
    )
    .unwrap();
    router
        .match_indices(".route(")
        .filter_map(|(at, _)| router[at..].split('"').nth(1).map(str::to_string))
        .collect()
}

/// A refused or redirected answer shows nothing of Max's (his window
/// title, his screenshot's id or bytes), and a redirect stays on the site.
fn leaks_nothing(page: &Page, who: Option<&str>, path: &str, world: &World) {
    if page.status >= 300 {
        for secret in ["Max's terminal", world.capture.as_str(), "WEBPVP8"] {
            assert!(
                !page.body.contains(secret),
                "{who:?} on {path}: {} shows {secret:?}",
                page.status
            );
        }
    }
    if (300..400).contains(&page.status) {
        let to = page.redirect.as_str();
        let on_site = to.starts_with('/') && !to.starts_with("//")
            || to.starts_with(&format!("https://localhost:{}/", world.server.port))
            || path.starts_with("/login/oidc");
        assert!(on_site, "{who:?} on {path}: redirect to {to:?}");
    }
}

/// Logging in rotates the session: a cookie the browser brought (planted
/// by someone else) is no session and is replaced, two logins get two
/// sessions, and wherever the login form says to go, it lands on the site.
#[test]
fn logins_rotate_the_session_and_never_redirect_off_the_site() {
    let server = Server::start("127.0.0.1", &[]);
    add_user(&server, "max@example.com", "Max", "member");
    let cookie = |page: &Page| {
        let at = page
            .headers
            .find("set-cookie: __host-stint_session=")
            .unwrap_or_else(|| panic!("no session cookie: {}", page.headers));
        page.headers[at..].split(';').next().unwrap().to_string()
    };
    let browser = Curl::new(&server);
    let planted = browser.get_with_cookie("/me/views", "__Host-stint_session=planted-by-eve");
    assert_eq!(planted.status, 303, "a planted cookie is no session");
    let form = Curl::csrf(&browser.get("/login"));
    let login = browser.request(
        "/login",
        &[
            ("email", "max@example.com"),
            ("password", "Max has a long password"),
            ("csrf", &form),
            ("next", "https://evil.example/"),
            ("redirect", "//evil.example/"),
        ],
    );
    assert_eq!(login.status, 303, "{}", login.headers);
    assert!(
        login.headers.contains("\nlocation: /\r\n"),
        "home, whatever the form asked: {}",
        login.headers
    );
    let first = cookie(&login);
    assert!(!first.contains("planted"), "{first}");
    let again = Curl::new(&server).login("max@example.com", "Max has a long password");
    assert_ne!(cookie(&again), first, "each login its own session");
}
