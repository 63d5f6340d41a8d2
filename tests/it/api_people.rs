//! The integrations' read API (`/api/people/v1`) on a real server over
//! TLS: tokens made in the web UI and shown once, each endpoint as each
//! person's token (and none, and a revoked one) with the status it gets and
//! the audit row a look leaves, and the served OpenAPI document against the
//! routes the server has.

use std::process::Command;

use crate::helpers::*;

/// A GET with `token` as the bearer: (status, body).
fn api_get(server: &Server, path: &str, token: Option<&str>) -> (u16, String) {
    let mut c = Command::new("curl");
    c.args(["--silent", "--show-error", "--max-time", "15", "--cacert"])
        .arg(server.ca())
        .args(["--write-out", "\n%{http_code}"]);
    if let Some(t) = token {
        c.args(["-H", &format!("authorization: Bearer {t}")]);
    }
    let out = c
        .arg(format!("https://localhost:{}{path}", server.port))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

/// Logs `email` in and makes a token through the web form; the token the
/// page shows once.
fn make_token<'a>(server: &'a Server, email: &str) -> (Curl<'a>, String) {
    let browser = Curl::new(server);
    let name = email.split('@').next().unwrap();
    let mut name = name.to_string();
    name[..1].make_ascii_uppercase();
    assert_eq!(
        browser
            .login(email, &format!("{name} has a long password"))
            .status,
        303
    );
    let csrf = Curl::csrf(&browser.get("/me/tokens"));
    let page = browser.request(
        "/me/tokens",
        &[
            ("csrf", csrf.as_str()),
            ("label", "payroll"),
            ("days", "30"),
        ],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let token = page
        .body
        .split("<code>")
        .nth(1)
        .and_then(|t| t.split("</code>").next())
        .unwrap()
        .to_string();
    assert!(token.starts_with("stn_pat_"), "{token}");
    assert!(
        !browser.get("/me/tokens").body.contains(&token),
        "shown once only"
    );
    (browser, token)
}

fn audit_of_max(server: &Server) -> String {
    server.admin(&["audit", "max@example.com", "--json"])
}

#[test]
fn every_endpoint_as_every_token_and_the_document_matches_the_routes() {
    let world = World::new();
    let server = &world.server;
    let (max, eve) = (
        server.person_id("max@example.com"),
        server.person_id("eve@example.com"),
    );
    let (max_web, max_token) = make_token(server, "max@example.com");
    let (_, mia_token) = make_token(server, "mia@example.com");
    let (_, eve_token) = make_token(server, "eve@example.com");
    let range = format!("from={0}&to={0}", world.today);
    let paths = [
        "/api/people/v1/people".to_string(),
        format!("/api/people/v1/people/{max}/days?{range}"),
        format!("/api/people/v1/people/{eve}/days?{range}"),
        format!("/api/people/v1/approved?{range}"),
        "/api/people/v1/openapi.json".to_string(),
        format!("/api/people/v1/people/{max}/days?from=soon&to=later"),
    ];
    // The statuses per token, and '+' where Max's audit gained a row.
    for (who, token, want) in [
        ("nobody", None, ["401", "401", "401", "401", "200", "401"]),
        (
            "max",
            Some(max_token.as_str()),
            ["200", "200", "403", "200", "200", "400"],
        ),
        (
            "mia",
            Some(mia_token.as_str()),
            ["200", "200+", "403", "200+", "200", "400"],
        ),
        (
            "eve",
            Some(eve_token.as_str()),
            ["200", "403", "200", "200", "200", "400"],
        ),
        (
            "a bad token",
            Some("stn_pat_nope"),
            ["401", "401", "401", "401", "200", "401"],
        ),
    ] {
        let got: Vec<String> = paths
            .iter()
            .map(|p| {
                let before = audit_of_max(server);
                let (status, body) = api_get(server, p, token);
                if status != 200 {
                    assert!(body.contains("\"message\""), "{who} {p}: {body}");
                }
                let mark = if audit_of_max(server) != before {
                    "+"
                } else {
                    ""
                };
                format!("{status}{mark}")
            })
            .collect();
        assert_eq!(got, want, "{who} on {paths:?}");
    }
    // What each may list: Mia her team, Max and Eve themselves.
    let listed = |token: &str| -> Vec<String> {
        let (_, body) = api_get(server, "/api/people/v1/people", Some(token));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut e: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["email"].as_str().unwrap().to_string())
            .collect();
        e.sort();
        e
    };
    assert_eq!(listed(&max_token), ["max@example.com"]);
    assert_eq!(listed(&mia_token), ["max@example.com", "mia@example.com"]);
    let (_, page) = api_get(server, "/api/people/v1/people?limit=1", Some(&mia_token));
    let v: serde_json::Value = serde_json::from_str(&page).unwrap();
    let next = v["next"].as_str().expect("a second page").to_string();
    let (_, rest) = api_get(
        server,
        &format!("/api/people/v1/people?limit=1&after={next}"),
        Some(&mia_token),
    );
    let rest: serde_json::Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next"].is_null(), "{rest}");
    assert!(audit_of_max(server).contains("through the API"));

    // A revoked token stops at once.
    let listing = max_web.get("/me/tokens").body;
    let id = listing
        .split("<td><code>")
        .nth(1)
        .and_then(|t| t.split("</code>").next())
        .unwrap()
        .to_string();
    let csrf = Curl::csrf(&max_web.get("/me/tokens"));
    let revoked = max_web.request(
        "/me/tokens/revoke",
        &[("csrf", csrf.as_str()), ("id", id.as_str())],
    );
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(
        api_get(server, "/api/people/v1/people", Some(&max_token)).0,
        401
    );

    // The served document names exactly the routes the server has.
    let (_, doc) = api_get(server, "/api/people/v1/openapi.json", None);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let mut documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    documented.sort();
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src/api/mod.rs"),
    )
    .unwrap();
    let mut routed: Vec<String> = source
        .match_indices(".route(\"/api/people/")
        .filter_map(|(at, _)| source[at..].split('"').nth(1).map(str::to_string))
        .collect();
    routed.sort();
    assert_eq!(documented, routed);
    assert_eq!(doc["openapi"], "3.1.0");
}
