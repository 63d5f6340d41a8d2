//! Administration in the browser: invitations with one-time links, tokens,
//! devices and archiving, for owners and admins only.

use crate::helpers::*;

/// Owners and admins run the organisation from the browser: invite a person
/// with a one-time link, make and revoke tokens, re-bind a device, archive a
/// person; nobody else reaches the page.
#[test]
fn administration_in_the_browser() {
    let world = World::new();
    let server = &world.server;
    for (email, password, status) in [
        ("mia@example.com", "Mia has a long password", 403),
        ("eve@example.com", "Eve has a long password", 403),
        ("aud@example.com", "Aud has a long password", 403),
        ("ada@example.com", "Ada has a long password", 200),
    ] {
        let who = Curl::new(server);
        who.login(email, password);
        assert_eq!(who.get("/admin").status, status, "{email}");
    }
    assert_eq!(Curl::new(server).get("/admin").status, 303);

    let olga = Curl::new(server);
    olga.login("olga@example.com", "Olga has a long password");
    let page = olga.get("/admin");
    assert!(
        page.body.contains("max@example.com") && page.body.contains("Devices"),
        "{}",
        page.body
    );
    let csrf = Curl::csrf(&page);
    let invited = olga.request(
        "/admin/invite",
        &[
            ("csrf", &csrf),
            ("name", "Kim"),
            ("email", "kim@example.com"),
            ("role", "member"),
            ("time_zone", "Asia/Tokyo"),
        ],
    );
    assert_eq!(invited.status, 200, "{}", invited.body);
    let link = shown(&invited.body);
    let path = link
        .split_once(&format!(":{}", server.port))
        .unwrap_or_else(|| panic!("a link to this server: {link:?}"))
        .1
        .to_string();
    assert!(path.starts_with("/set-password/"), "{link}");

    let kim = Curl::new(server);
    let form = kim.get(&path);
    assert_eq!(form.status, 200);
    let kcsrf = Curl::csrf(&form);
    let differ = kim.request(
        &path,
        &[
            ("csrf", &kcsrf),
            ("password", "Kim has a long password"),
            ("again", "something else"),
        ],
    );
    assert_eq!(differ.status, 400);
    let set = kim.request(
        &path,
        &[
            ("csrf", &kcsrf),
            ("password", "Kim has a long password"),
            ("again", "Kim has a long password"),
        ],
    );
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(kim.get(&path).status, 410, "a link works once");
    assert_eq!(
        kim.login("kim@example.com", "Kim has a long password")
            .status,
        303
    );

    // Only an owner makes owners.
    let ada = Curl::new(server);
    ada.login("ada@example.com", "Ada has a long password");
    let acsrf = Curl::csrf(&ada.get("/admin"));
    let promoted = ada.request(
        "/admin/invite",
        &[
            ("csrf", &acsrf),
            ("name", "Oz"),
            ("email", "oz@example.com"),
            ("role", "owner"),
            ("time_zone", "UTC"),
        ],
    );
    assert_eq!(promoted.status, 403);

    // A token for Kim, shown once, then revoked.
    let made = olga.request(
        "/admin/token",
        &[
            ("csrf", &csrf),
            ("label", "kim laptop"),
            ("person", "kim@example.com"),
            ("expires_days", "7"),
        ],
    );
    let token = shown(&made.body);
    assert!(token.starts_with("stn_enr_"), "{token}");
    let listed: serde_json::Value =
        serde_json::from_str(&server.admin(&["token", "list", "--json"])).unwrap();
    let hash = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "kim laptop")
        .unwrap()["hash_prefix"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        olga.request("/admin/revoke-token", &[("csrf", &csrf), ("token", &hash)])
            .status,
        303
    );
    let listed: serde_json::Value =
        serde_json::from_str(&server.admin(&["token", "list", "--json"])).unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["label"] == "kim laptop" && t["revoked"] == true));

    // Max's device re-bound to Eve: its records become hers.
    let device = serde_json::from_str::<serde_json::Value>(&server.admin(&["devices", "--json"]))
        .unwrap()[0]["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        olga.request(
            "/admin/bind",
            &[
                ("csrf", &csrf),
                ("device", &device),
                ("email", "eve@example.com")
            ]
        )
        .status,
        303
    );
    let eve = Curl::new(server);
    eve.login("eve@example.com", "Eve has a long password");
    let her_day = eve.get(&format!("/images/{}", world.capture));
    assert_eq!(her_day.status, 200, "the image is Eve's now");

    // Archived, Eve's session ends and she cannot log in again.
    assert_eq!(
        olga.request(
            "/admin/archive",
            &[("csrf", &csrf), ("email", "eve@example.com")]
        )
        .status,
        303
    );
    assert_eq!(eve.get("/me/views").status, 303);
    assert_eq!(
        eve.login("eve@example.com", "Eve has a long password")
            .status,
        401
    );

    // Policy in layers: the page shows where each value of Max's comes from.
    server.admin(&["policy", "--set", "screenshots=true"]);
    server.admin(&["policy", "--team", "Support", "--set", "segment_secs=300"]);
    server.admin(&[
        "policy",
        "--person",
        "max@example.com",
        "--set",
        "blur=true",
    ]);
    let effective: serde_json::Value =
        serde_json::from_str(&server.admin(&["policy", "--effective", "max@example.com"])).unwrap();
    assert_eq!(effective["policy"]["segment_secs"], 300);
    assert_eq!(effective["sources"]["segment_secs"], "team Support");
    assert_eq!(effective["sources"]["blur"], "person");
    let page = olga.get("/admin").body;
    assert!(
        page.contains("team Support") && page.contains("<code>blur</code>"),
        "{page}"
    );

    // Teams and policy layers from the browser.
    let post = |path: &str, form: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        olga.request(path, &all)
    };
    assert_eq!(post("/admin/team-add", &[("team", "Sales")]).status, 303);
    assert_eq!(
        post("/admin/team-add", &[("team", "Sales")]).status,
        400,
        "names are unique"
    );
    assert_eq!(
        post(
            "/admin/team-join",
            &[
                ("team", "Sales"),
                ("email", "kim@example.com"),
                ("manager", "1")
            ]
        )
        .status,
        303
    );
    assert_eq!(
        post(
            "/admin/policy",
            &[
                ("scope", "team:Sales"),
                ("key", "segment_secs"),
                ("value", "120")
            ]
        )
        .status,
        303
    );
    let refused = post(
        "/admin/policy",
        &[
            ("scope", "team:Sales"),
            ("key", "segment_secs"),
            ("value", "0"),
        ],
    );
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("segment_secs"), "{}", refused.body);
    let kim_policy: serde_json::Value =
        serde_json::from_str(&server.admin(&["policy", "--effective", "kim@example.com"])).unwrap();
    assert_eq!(kim_policy["policy"]["segment_secs"], 120);
    assert_eq!(kim_policy["sources"]["segment_secs"], "team Sales");
    let page = olga.get("/admin").body;
    assert!(
        page.contains("Sales") && page.contains("kim@example.com"),
        "{page}"
    );
    let mia = Curl::new(server);
    mia.login("mia@example.com", "Mia has a long password");
    let mcsrf = Curl::csrf(&mia.get("/me/views"));
    let denied = mia.request(
        "/admin/policy",
        &[
            ("csrf", &mcsrf),
            ("scope", "organisation"),
            ("key", "blur"),
            ("value", "false"),
        ],
    );
    assert_eq!(denied.status, 403);
}
