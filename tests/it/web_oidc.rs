//! Logging in through the organisation's OpenID Connect provider, against a
//! real (small) provider on loopback: authorization code with PKCE, an RS256
//! ID token checked against the provider's keys, a person found by verified
//! email on the first login and by subject after; refusals for strangers,
//! replayed logins and tokens signed with a key the provider never published.

use crate::helpers::oidc::{Identity, Provider, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::web::add_user;
use crate::helpers::*;

fn who(sub: &str, email: &str, verified: bool) -> Identity {
    Identity {
        sub: sub.into(),
        email: email.into(),
        verified,
    }
}

#[test]
fn people_log_in_through_the_organisations_provider() {
    let provider = Provider::start(who("sub-max", "max@example.com", true));
    let mut server = Server::start("127.0.0.1", &[]);
    add_user(&server, "max@example.com", "Max", "member");
    // The redirect URI names the server's own address, known once it runs.
    server.stop();
    let public = format!("https://localhost:{}", server.port);
    server.args.extend(
        [
            "--public-url",
            &public,
            "--oidc-issuer",
            &provider.issuer,
            "--oidc-client-id",
            CLIENT_ID,
            "--oidc-client-secret",
            CLIENT_SECRET,
        ]
        .map(String::from),
    );
    server.restart("127.0.0.1");

    let login = Curl::new(&server).get("/login");
    assert!(
        login.body.contains("href=\"/login/oidc\""),
        "{}",
        login.body
    );

    // First login: matched by the verified email, the subject bound.
    let max = Curl::new(&server);
    let page = max.follow("/login/oidc");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Max"), "{}", page.body);
    assert_eq!(max.get("/me/views").status, 200, "logged in");

    // Later logins need only the subject, even with the email unverified.
    provider.log_in_as(who("sub-max", "", false));
    let again = Curl::new(&server);
    assert_eq!(again.follow("/login/oidc").status, 200);
    assert_eq!(again.get("/me/views").status, 200);

    // Someone the provider knows and stint does not.
    provider.log_in_as(who("sub-eve", "eve@example.com", true));
    let eve = Curl::new(&server);
    let refused = eve.follow("/login/oidc");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("No stint account matches"),
        "{}",
        refused.body
    );
    assert_eq!(eve.get("/me/views").status, 303, "not logged in");

    // An unverified email does not bind a stranger's subject to Max.
    provider.log_in_as(who("sub-mallory", "max@example.com", false));
    assert_eq!(Curl::new(&server).follow("/login/oidc").status, 403);

    // Login CSRF: a callback address someone else started (their state and
    // a code the provider issued them), opened in another browser, is
    // refused and logs nobody in.
    provider.log_in_as(who("sub-max", "max@example.com", true));
    let starter = Curl::new(&server);
    let to_provider = starter.get("/login/oidc").redirect;
    assert!(to_provider.starts_with(&provider.issuer), "{to_provider}");
    let back = starter.location(&to_provider);
    let callback = back
        .strip_prefix(&public)
        .unwrap_or_else(|| panic!("the provider sends the browser back: {back}"))
        .to_string();
    let victim = Curl::new(&server);
    let planted = victim.get(&callback);
    assert_eq!(planted.status, 403, "{}", planted.body);
    assert!(
        planted.body.contains("not started in this browser"),
        "{}",
        planted.body
    );
    assert_eq!(
        victim.get("/me/views").status,
        303,
        "the victim is not logged in"
    );
    // In the browser that started it, the callback logs in, once.
    assert_eq!(starter.get(&callback).status, 200);
    assert_eq!(starter.get("/me/views").status, 200);
    // Replayed with the browser's binding put back, the state is spent.
    let state = to_provider
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("state="))
        .unwrap()
        .to_string();
    let state = url::form_urlencoded::parse(format!("s={state}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    let reused =
        Curl::new(&server).get_with_cookie(&callback, &format!("__Host-stint_oidc={state}"));
    assert_eq!(reused.status, 403, "{}", reused.body);
    assert!(
        reused.body.contains("expired or was already used"),
        "{}",
        reused.body
    );

    // A token signed with a key the provider never published.
    provider.sign_with_a_rogue_key();
    let forged = Curl::new(&server).follow("/login/oidc");
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("signature"), "{}", forged.body);
}
