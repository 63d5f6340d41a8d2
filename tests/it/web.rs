//! The web diary over real HTTPS with curl as the browser: people with roles
//! log in, a manager opens a team member's day and screenshot, another member
//! is refused both, and the member sees the manager's visit.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::*;

/// A curl session with its own cookie jar.
struct Browser<'a> {
    server: &'a Server,
    jar: tempfile::NamedTempFile,
}

struct Page {
    status: u16,
    headers: String,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(server: &'a Server) -> Browser<'a> {
        Browser {
            server,
            jar: tempfile::NamedTempFile::new().unwrap(),
        }
    }

    fn request(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let headers = tempfile::NamedTempFile::new().unwrap();
        let mut c = Command::new("curl");
        c.args(["--silent", "--show-error", "--max-time", "20", "--cacert"])
            .arg(self.server.ca())
            .arg("-b")
            .arg(self.jar.path())
            .arg("-c")
            .arg(self.jar.path())
            .arg("-D")
            .arg(headers.path())
            .args(["-o", "-", "-w", "\n%{http_code}"]);
        for (k, v) in form {
            c.arg("--data-urlencode").arg(format!("{k}={v}"));
        }
        let out = c
            .arg(format!("https://localhost:{}{path}", self.server.port))
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {path}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap();
        Page {
            status: status.trim().parse().unwrap(),
            headers: std::fs::read_to_string(headers.path())
                .unwrap()
                .to_lowercase(),
            body: body.to_string(),
        }
    }

    fn get(&self, path: &str) -> Page {
        self.request(path, &[])
    }

    /// The CSRF token of the last page's form.
    fn csrf(page: &Page) -> String {
        let at = page
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        page.body[at..].split('"').next().unwrap().to_string()
    }

    fn login(&self, email: &str, password: &str) -> Page {
        let form = self.get("/login");
        let csrf = Browser::csrf(&form);
        self.request(
            "/login",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
    }
}

fn add_user(server: &Server, email: &str, name: &str, role: &str) {
    let mut child = server
        .admin_command()
        .args([
            "user",
            "add",
            email,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{name} has a long password").unwrap();
    assert!(child.wait().unwrap().success(), "user add {email}");
}

#[test]
fn a_manager_sees_a_members_day_others_are_refused_and_the_member_sees_who_looked() {
    let server = Server::start("127.0.0.1", &[]);
    for (email, name, role) in [
        ("olga@example.com", "Olga", "owner"),
        ("mia@example.com", "Mia", "manager"),
        ("max@example.com", "Max", "member"),
        ("eve@example.com", "Eve", "member"),
    ] {
        add_user(&server, email, name, role);
    }
    server.admin(&["team", "add", "Support"]);
    server.admin(&["team", "join", "Support", "mia@example.com", "--manager"]);
    server.admin(&["team", "join", "Support", "max@example.com"]);
    let token = server.admin(&["token", "create", "--person", "max@example.com"]);

    // Max's computer records and uploads a screenshot.
    let desk = Desktop::start(320, 240);
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true\n[server]\nurl = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
            server.port,
            token.trim(),
            server.ca().to_str().unwrap()
        ),
    );
    agent.start_daemon();
    let capture = wait_for(
        "a screenshot at the server",
        Duration::from_secs(40),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&server.admin(&["export", "--json"])).ok()?;
            Some(v["devices"][0]["captures"][0]["id"].as_str()?.to_string())
        },
    );
    agent.stop_daemon();
    let people: serde_json::Value =
        serde_json::from_str(&server.admin(&["user", "list", "--json"])).unwrap();
    let id_of = |email: &str| {
        people
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == email)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (max, mia) = (id_of("max@example.com"), id_of("mia@example.com"));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let max_day = format!("/diary/{max}/{today}");

    // Nobody logged in: to the login page, for pages and images alike.
    let stranger = Browser::new(&server);
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
    let forged = Browser::new(&server).request(
        "/login",
        &[
            ("email", "mia@example.com"),
            ("password", "Mia has a long password"),
            ("csrf", "x"),
        ],
    );
    assert_eq!(forged.status, 403);

    // The manager opens Max's day and his screenshot.
    let mia_browser = Browser::new(&server);
    let login = mia_browser.login("mia@example.com", "Mia has a long password");
    assert_eq!(login.status, 303, "{}", login.body);
    assert!(
        login.headers.contains("httponly")
            && login.headers.contains("samesite=strict")
            && login.headers.contains("secure")
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
        day.body.contains("Max") && day.body.contains(&format!("/images/{capture}")),
        "{}",
        day.body
    );
    assert!(
        day.headers
            .contains("content-security-policy: default-src 'none'"),
        "{}",
        day.headers
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

    // Another member may see neither.
    let eve = Browser::new(&server);
    assert_eq!(
        eve.login("eve@example.com", "Eve has a long password")
            .status,
        303
    );
    assert_eq!(eve.get(&max_day).status, 403);
    assert_eq!(eve.get(&format!("/images/{capture}")).status, 403);

    // Max sees who looked, and that Eve's refused attempts left no trace.
    let max_browser = Browser::new(&server);
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
    let csrf = Browser::csrf(&mia_browser.get(&max_day));
    assert_eq!(
        mia_browser.request("/logout", &[("csrf", &csrf)]).status,
        303
    );
    assert_eq!(mia_browser.get(&max_day).status, 303);
}
