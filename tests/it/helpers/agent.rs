//! The real `stint` binary on a private data dir, config, HOME and runtime
//! dir, as a daemon or for one command.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use stint::model::LogOutput;

use super::{signal, wait_for, wait_for_or_show, Desktop, Proc, STINT};

/// The `stint` binary with its own data directory, config and HOME.
pub struct Agent {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// Extra environment for every command (e.g. HTTPS_PROXY).
    pub env: Vec<(String, String)>,
    /// Show the tray icon; off by default (`stint run --no-tray`).
    pub tray: bool,
    display: Option<String>,
    daemon: Option<Proc>,
    /// Runs every command as this (uid, gid) instead of root's.
    user: Option<(u32, u32)>,
}

impl Agent {
    /// `toml` is appended after the `[storage]` section the helper writes.
    pub fn new(desktop: Option<&Desktop>, toml: &str) -> Agent {
        Agent::on_display(desktop.map(|d| d.display.clone()), toml)
    }

    /// Like [`Agent::new`] for any X display (a nested one, say).
    pub fn on_display(display: Option<String>, toml: &str) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("stint.toml");
        let data = dir.path().join("data");
        std::fs::write(
            &config,
            format!(
                "[storage]\ndata_dir = {:?}\n\n{toml}\n",
                data.to_str().unwrap()
            ),
        )
        .unwrap();
        Agent {
            dir,
            config,
            env: Vec::new(),
            tray: false,
            display,
            daemon: None,
            user: None,
        }
    }

    /// Every command from now on runs as the OS user `name`, who gets the
    /// agent's directory: a desktop's services judge their callers by who
    /// they are (the screenshot portal refuses a caller it cannot inspect).
    pub fn as_user(&mut self, name: &str) {
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, name]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        self.user = Some((id("-u"), id("-g")));
        super::give_to(name, self.dir.path());
    }

    /// Adds `n` minutes with ids `PREFIX-00000`... straight into the queue,
    /// as a long offline stretch would leave them; returns their ids.
    pub fn add_backlog(&self, n: i64, prefix: &str) -> std::collections::HashSet<String> {
        let db = rusqlite::Connection::open(self.data_dir().join("queue.db")).unwrap();
        let start = 1_700_000_000_000i64 - n * 60_000;
        let mut ids = std::collections::HashSet::new();
        let tx = db.unchecked_transaction().unwrap();
        for i in 0..n {
            let id = format!("{prefix}-{i:05}");
            tx.execute(
                "INSERT INTO minutes (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id)
                 VALUES (?1, ?2, 0, 60, ?3, 1, 0, 0, 'backlog window title', '/usr/bin/xterm', 'xterm', 'backlog-session')",
                rusqlite::params![id, start + i * 60_000, i % 97],
            )
            .unwrap();
            ids.insert(id);
        }
        tx.commit().unwrap();
        ids
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(STINT);
        c.arg("--config")
            .arg(&self.config)
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .env(
                "STINT_SYSTEM_CONFIG",
                self.dir.path().join("no-system.toml"),
            )
            // Its own runtime dir: one daemon per session, and tests run many.
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE")
            .env_remove("STINT_LOG")
            .env_remove("RUST_LOG")
            // Only a bus the test starts itself (see `env`): a host's session bus
            // would lend the tray a StatusNotifierItem host the test did not set up.
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        match &self.display {
            Some(d) => c.env("DISPLAY", d),
            None => c.env_remove("DISPLAY"),
        };
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            c.env_remove(var);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some((uid, gid)) = self.user {
            use std::os::unix::process::CommandExt;
            c.uid(uid).gid(gid);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "stint {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn start_daemon(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("stderr.log")).unwrap();
        let child = self
            .command()
            .arg("run")
            .args((!self.tray).then_some("--no-tray"))
            .stderr(log)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.daemon = Some(Proc(child));
        self.wait_for_log("recorder started", Duration::from_secs(20));
    }

    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().expect("daemon running").0.id()
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop_daemon(&mut self) {
        if let Some(mut p) = self.daemon.take() {
            signal(p.0.id(), "TERM");
            let status = p.0.wait().unwrap();
            assert!(
                status.success(),
                "daemon exited with {status:?}: {}",
                self.stderr()
            );
        }
    }

    /// Waits for the daemon to exit on its own (e.g. Quit from the tray).
    pub fn wait_daemon_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let mut p = self.daemon.take().expect("daemon running");
        let status = wait_for("the daemon to exit", timeout, || p.0.try_wait().unwrap());
        std::mem::forget(p); // already reaped
        status
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill_daemon(&mut self) {
        if let Some(mut p) = self.daemon.take() {
            signal(p.0.id(), "KILL");
            let _ = p.0.wait();
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits for `needle` in the daemon's (and tray's) log; a timeout shows
    /// the log's last lines.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let tail = || {
            let log = self.stderr();
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        wait_for_or_show(needle, timeout, tail, || {
            self.stderr().contains(needle).then_some(())
        });
    }

    /// `stint status --json`.
    pub fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["status", "--json"])).unwrap()
    }

    pub fn log(&self) -> LogOutput {
        serde_json::from_str(&self.ok(&["log", "--json"])).unwrap()
    }

    /// Waits up to 30 s for a minute recorded in the window titled `title`.
    pub fn minute_in(&self, title: &str) -> stint::model::MinuteRecord {
        self.first_minute(&format!("a minute in {title:?}"), |m| {
            m.title.as_deref() == Some(title)
        })
    }

    /// Waits up to 30 s for a minute recorded as idle.
    pub fn idle_minute(&self) -> stint::model::MinuteRecord {
        self.first_minute("an idle minute", |m| m.idle)
    }

    fn first_minute(
        &self,
        what: &str,
        wanted: impl Fn(&stint::model::MinuteRecord) -> bool,
    ) -> stint::model::MinuteRecord {
        wait_for(what, Duration::from_secs(30), || {
            self.log().minutes.into_iter().find(&wanted)
        })
    }

    /// Waits until the minute starting at `start_ms` is committed and returns the log.
    pub fn wait_for_minute(&self, start_ms: i64) -> LogOutput {
        let start = stint::model::rfc3339(start_ms);
        wait_for(&format!("minute {start}"), Duration::from_secs(20), || {
            let log = self.log();
            log.minutes.iter().any(|m| m.start == start).then_some(log)
        })
    }
}
