//! Shared test fixtures: a real X desktop (Xvfb + openbox + xterm windows), real
//! XTEST input through xdotool, the real `stint` binary on a private data dir, a
//! real stint-server, Wine for stint.exe, and the input bursts every OS must
//! count exactly.

mod agent;
pub mod bursts;
mod desktop;
pub mod fleet;
pub mod oidc;
mod server;
mod sway;
mod tray;
pub mod web;
mod webdriver;
mod wine;
mod wl_desktop;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub use agent::Agent;
pub use desktop::Desktop;
pub use server::{ConnectProxy, Server};
pub use sway::Sway;
pub use tray::{count, desktop_with_trayer, open_menu};
pub use web::{
    add_user, api_post, artefact, csv_rows, field, log_in, people_in_support, shown, Curl, Page,
    World, FAST_SHOTS,
};
pub use webdriver::Browser as WebBrowser;
pub use wine::{windows_exe, windows_path, Wine};
pub use wl_desktop::WlDesktop;

pub const STINT: &str = env!("CARGO_BIN_EXE_stint");

/// Kills a child process when dropped, so a failing test leaves nothing behind.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The minute record starting at `start_ms`; panics naming it when absent.
pub fn minute_at(log: &stint::model::LogOutput, start_ms: i64) -> &stint::model::MinuteRecord {
    let start = stint::model::rfc3339(start_ms);
    log.minutes
        .iter()
        .find(|m| m.start == start)
        .unwrap_or_else(|| panic!("no minute starting {start} in {:?}", log.minutes))
}

/// Fails the test, saying `why` it needs root, unless it runs as root
/// (scripts/test.sh does).
pub fn require_root(why: &str) {
    let uid = Command::new("id").arg("-u").output().unwrap().stdout;
    assert!(
        uid == b"0\n",
        "{why}: run the tests as root (scripts/test.sh does)"
    );
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Polls `f` every 50 ms until it returns Some, panicking with `what` on timeout.
pub fn wait_for<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    wait_for_or_show(what, timeout, String::new, f)
}

/// `wait_for`, whose timeout also shows `log()`: a program's own account of
/// why it is not ready (a slow start under load and a failed one look alike
/// from the outside).
pub fn wait_for_or_show<T>(
    what: &str,
    timeout: Duration,
    log: impl FnOnce() -> String,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() >= timeout {
            panic!("timed out after {timeout:?} waiting for {what}\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Sleeps until `offset_ms` into the next period and returns that period's start.
pub fn wait_into_next_period(period_ms: i64, offset_ms: i64) -> i64 {
    let now = now_ms();
    let next = now - now.rem_euclid(period_ms) + period_ms;
    std::thread::sleep(Duration::from_millis((next + offset_ms - now) as u64));
    next
}

pub fn parse_ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// Decodes a JPEG or WebP file (told apart by magic bytes) and returns
/// (width, height, standard deviation of luma).
pub fn decode_image(path: &Path) -> (u32, u32, f64) {
    let bytes = std::fs::read(path).unwrap();
    let (w, h, luma): (u32, u32, Vec<f64>) = if bytes.starts_with(b"RIFF") {
        let img = webp::Decoder::new(&bytes)
            .decode()
            .unwrap_or_else(|| panic!("{} is not a decodable WebP", path.display()));
        let step = if img.is_alpha() { 4 } else { 3 };
        let luma = img.chunks_exact(step).map(|p| f64::from(p[0])).collect();
        (img.width(), img.height(), luma)
    } else {
        let mut d = jpeg_decoder::Decoder::new(bytes.as_slice());
        let pixels = d.decode().unwrap();
        let info = d.info().unwrap();
        let step = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => 1,
            _ => 3,
        };
        let luma = pixels.chunks_exact(step).map(|p| f64::from(p[0])).collect();
        (u32::from(info.width), u32::from(info.height), luma)
    };
    let mean = luma.iter().sum::<f64>() / luma.len() as f64;
    let var = luma.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / luma.len() as f64;
    (w, h, var.sqrt())
}

/// A private D-Bus session bus; returns the daemon and its address.
pub fn session_bus() -> (Proc, String) {
    let mut bus = std::process::Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dbus-daemon is installed (scripts/setup-debian.sh)");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(bus.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    (Proc(bus), line.trim().to_string())
}

/// Makes `user` the owner of `path` and everything under it.
pub fn give_to(user: &str, path: &std::path::Path) {
    let chown = Command::new("chown")
        .args(["-R", user])
        .arg(path)
        .status()
        .unwrap();
    assert!(chown.success(), "chown -R {user} {}", path.display());
}

/// Whether every one of `tools` (a name on PATH or a path) is here; if not,
/// says which are missing and that `test` did not run.
pub fn have_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|b| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {b}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        not_run(
            test,
            &format!("missing {missing:?} (scripts/setup-debian.sh installs them)"),
        );
    }
    missing.is_empty()
}

/// Says that `test` could not run here and why: on stderr, which the test
/// harness shows only for failures, and as a line in the file
/// STINT_TEST_NOT_RUN names, which scripts/test.sh prints at the end, so a
/// skip never passes silently.
pub fn not_run(test: &str, why: &str) {
    let line = format!("{test}: NOT RUN: {why}");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("STINT_TEST_NOT_RUN") {
        use std::io::Write;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        // One write per line: parallel tests append whole lines.
        let _ = file.and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    }
}

/// The unprivileged user some tests need (sway and initdb refuse root, the
/// package test grants it a group); created on first use.
pub fn stint_test_user() -> &'static str {
    let exists = std::process::Command::new("id")
        .arg("stint-test")
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        // Another test may create it at the same moment: the check after counts.
        let _ = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "stint-test",
            ])
            .status();
    }
    "stint-test"
}
