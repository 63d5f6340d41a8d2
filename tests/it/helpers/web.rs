//! Fixtures for the web UI's tests: a server with people in every role, a
//! team, and a screenshot uploaded by a real agent on Xvfb; and curl as a
//! browser with its own cookie jar.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{wait_for, Agent, Desktop, Server};

/// A curl session with its own cookie jar.
pub struct Curl<'a> {
    server: &'a Server,
    pub jar: tempfile::NamedTempFile,
}

pub struct Page {
    pub status: u16,
    /// Lower-cased, for matching names and values alike.
    pub headers: String,
    /// The Location of a redirect, as sent (not lower-cased).
    #[allow(dead_code)] // the benches share these helpers
    pub redirect: String,
    pub body: String,
}

impl<'a> Curl<'a> {
    pub fn new(server: &'a Server) -> Curl<'a> {
        Curl {
            server,
            jar: tempfile::NamedTempFile::new().unwrap(),
        }
    }

    pub fn request(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.run(path, form, false)
    }

    /// Follows every redirect from `path`, to other hosts too (an OIDC
    /// provider and back); the page where it ends.
    #[allow(dead_code)] // the benches share these helpers
    pub fn follow(&self, path: &str) -> Page {
        self.run(path, &[], true)
    }

    /// Where `url` (absolute, on any host) redirects to, without going.
    #[allow(dead_code)] // the benches share these helpers
    pub fn location(&self, url: &str) -> String {
        let out = Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "20",
                "-o",
                "/dev/null",
            ])
            .args(["-w", "%{redirect_url}"])
            .arg(url)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {url}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// GET `path` with `cookie` (NAME=VALUE) added to what the jar sends.
    #[allow(dead_code)] // the benches share these helpers
    pub fn get_with_cookie(&self, path: &str, cookie: &str) -> Page {
        self.run_with(path, &[], false, Some(cookie))
    }

    fn run(&self, path: &str, form: &[(&str, &str)], follow: bool) -> Page {
        self.run_with(path, form, follow, None)
    }

    fn run_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        follow: bool,
        cookie: Option<&str>,
    ) -> Page {
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
            .args(["-o", "-", "-w", "\n%{http_code}\n%{redirect_url}"]);
        if follow {
            c.arg("--location");
        }
        if let Some(cookie) = cookie {
            c.arg("-H").arg(format!("Cookie: {cookie}"));
        }
        for (k, v) in form {
            c.arg("--data-urlencode").arg(format!("{k}={v}"));
        }
        let out = c
            .arg(format!("https://localhost:{}{path}", self.server.port))
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {path}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (rest, redirect) = text.rsplit_once('\n').unwrap();
        let (body, status) = rest.rsplit_once('\n').unwrap();
        Page {
            status: status.trim().parse().unwrap(),
            redirect: redirect.to_string(),
            headers: std::fs::read_to_string(headers.path())
                .unwrap()
                .to_lowercase(),
            body: body.to_string(),
        }
    }

    pub fn get(&self, path: &str) -> Page {
        self.request(path, &[])
    }

    /// The CSRF token of the last page's form.
    pub fn csrf(page: &Page) -> String {
        let at = page
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        page.body[at..].split('"').next().unwrap().to_string()
    }

    pub fn login(&self, email: &str, password: &str) -> Page {
        let form = self.get("/login");
        let csrf = Curl::csrf(&form);
        self.request(
            "/login",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
    }
}

pub fn add_user(server: &Server, email: &str, name: &str, role: &str) {
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

/// 1 s minutes and 2 s segments, tracking from the start.
pub const FAST_SHOTS: &str =
    "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true\n";

/// A server with an owner, a manager and two members (the manager's team
/// holds Max), and a screenshot of Max's computer uploaded by a real agent.
pub struct World {
    pub server: Server,
    pub capture: String,
    pub max: String,
    pub mia: String,
    pub today: String,
}

impl World {
    /// On the back end this test pass uses (embedded, or the fleet's).
    pub fn new() -> World {
        World::on(Server::start("127.0.0.1", &[]))
    }

    /// On SQLite and a directory whatever the pass.
    #[allow(dead_code)] // the benches share these helpers
    pub fn new_embedded() -> World {
        World::on(Server::start_env("127.0.0.1", &[], None, Vec::new()))
    }

    fn on(server: Server) -> World {
        people_in_support(
            &server,
            &[
                ("olga@example.com", "Olga", "owner"),
                ("mia@example.com", "Mia", "manager"),
                ("max@example.com", "Max", "member"),
                ("eve@example.com", "Eve", "member"),
                ("ada@example.com", "Ada", "admin"),
                ("aud@example.com", "Aud", "auditor"),
            ],
        );
        // Max's computer records and uploads a screenshot of his terminal.
        let mut desk = Desktop::start(320, 240);
        desk.xterm("Max's terminal");
        let mut agent = Agent::new(
            Some(&desk),
            &server.person_agent_toml("max@example.com", FAST_SHOTS),
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
        // And the minutes around it.
        wait_for("minutes at the server", Duration::from_secs(30), || {
            (server.minutes().len() >= 3).then_some(())
        });
        agent.stop_daemon();
        let (max, mia) = (
            server.person_id("max@example.com"),
            server.person_id("mia@example.com"),
        );
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        World {
            server,
            capture,
            max,
            mia,
            today,
        }
    }

    pub fn max_day(&self) -> String {
        format!("/diary/{}/{}", self.max, self.today)
    }
}

/// A report's CSV (no quoted commas in it) as one map per row, by header.
pub fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// People, and the team Support with Mia as its manager and Max in it
/// (both must be among `people`).
pub fn people_in_support(server: &Server, people: &[(&str, &str, &str)]) {
    for (email, name, role) in people {
        add_user(server, email, name, role);
    }
    server.admin(&["team", "add", "Support"]);
    server.admin(&["team", "join", "Support", "mia@example.com", "--manager"]);
    server.admin(&["team", "join", "Support", "max@example.com"]);
}

/// The form's hidden `name` value on a page.
pub fn field(body: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = body
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in:\n{body}"))
        + key.len();
    body[at..].split('"').next().unwrap().to_string()
}

/// The text of `<code id="shown">` on an admin page: a new link or token.
pub fn shown(body: &str) -> String {
    let at = body
        .find("<code id=\"shown\">")
        .unwrap_or_else(|| panic!("nothing shown in:\n{body}"))
        + 17;
    body[at..]
        .split('<')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
}

/// Where the browser tests keep their screenshots of pages.
pub fn artefact(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/web-artifacts")
        .join(name)
}

/// Logs in through the login form, as a person would.
pub fn log_in(browser: &super::WebBrowser, base: &str, email: &str, password: &str) {
    browser.delete_cookies();
    browser.open(&format!("{base}/login"));
    browser.type_into("#email", email);
    browser.type_into("#password", password);
    browser.click("button[type=submit]");
    wait_for(
        "the diary after logging in",
        Duration::from_secs(20),
        || browser.url().contains("/diary/").then_some(()),
    );
}

/// A JSON POST to the agents' API with curl; the answer's body.
pub fn api_post(
    server: &Server,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> String {
    let mut c = std::process::Command::new("curl");
    c.args(["--silent", "--show-error", "--max-time", "15", "--cacert"])
        .arg(server.ca())
        .args(["-H", "content-type: application/json"]);
    if let Some(t) = token {
        c.args(["-H", &format!("authorization: Bearer {t}")]);
    }
    let out = c
        .arg("--data")
        .arg(body.to_string())
        .arg(format!("https://localhost:{}{path}", server.port))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Server {
    /// An agent config for `email`'s computer: `settings` (TOML tables),
    /// then this server with a personal enrollment token.
    pub fn person_agent_toml(&self, email: &str, settings: &str) -> String {
        let token = self.admin(&["token", "create", "--person", email]);
        format!(
            "{settings}[server]\nurl = \"https://localhost:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
            self.port,
            token.trim(),
            self.ca().to_str().unwrap()
        )
    }

    /// The id of the person with `email`, as the host lists people.
    pub fn person_id(&self, email: &str) -> String {
        let people: serde_json::Value =
            serde_json::from_str(&self.admin(&["user", "list", "--json"])).unwrap();
        people
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == email)
            .unwrap_or_else(|| panic!("no person {email}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}
