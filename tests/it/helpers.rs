//! Shared test fixtures: a real X desktop (Xvfb + openbox + xterm windows), real
//! XTEST input through xdotool, and the real `stint` binary on a private data dir.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use stint::model::LogOutput;

pub const STINT: &str = env!("CARGO_BIN_EXE_stint");

/// Kills a child process when dropped, so a failing test leaves nothing behind.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private X server with a window manager.
pub struct Desktop {
    pub display: String,
    procs: Vec<Proc>,
    _dir: Option<tempfile::TempDir>,
}

/// Starts an X server with `-displayfd` (it picks a free display number, so tests
/// run in parallel) and returns it with its display name.
fn x_server(mut cmd: Command) -> (Proc, String) {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut x = cmd
        .args(["-displayfd", "1", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is installed (scripts/setup-debian.sh): {e}"));
    let mut line = String::new();
    BufReader::new(x.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Proc(x), format!(":{}", line.trim()))
}

impl Desktop {
    pub fn start(width: u32, height: u32) -> Desktop {
        let mut xvfb = Command::new("Xvfb");
        xvfb.args(["-screen", "0", &format!("{width}x{height}x24")]);
        let (server, display) = x_server(xvfb);
        Desktop::with_window_manager(server, display, None)
    }

    /// `count` monitors of `width`x`height` side by side: Xvfb has one RandR output,
    /// so this runs Xorg with the dummy driver, whose DUMMY0..15 outputs RandR can
    /// switch on like real monitors.
    pub fn start_monitors(count: usize, width: u32, height: u32) -> Desktop {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("xorg.conf");
        std::fs::write(
            &conf,
            format!(
                "Section \"Device\"\n Identifier \"dummy\"\n Driver \"dummy\"\n VideoRam 256000\nEndSection\n\
                 Section \"Screen\"\n Identifier \"screen\"\n Device \"dummy\"\n DefaultDepth 24\n\
                 SubSection \"Display\"\n  Depth 24\n  Virtual {} {height}\n EndSubSection\nEndSection\n",
                width as usize * count
            ),
        )
        .unwrap();
        let mut xorg = Command::new("Xorg");
        xorg.arg("-config")
            .arg(&conf)
            .arg("-logfile")
            .arg(dir.path().join("Xorg.log"))
            .args(["-noreset", "-novtswitch", "-sharevts"]);
        let (server, display) = x_server(xorg);
        let d = Desktop::with_window_manager(server, display, Some(dir));
        let mode = format!("{width}x{height}");
        for i in 0..count {
            let output = format!("DUMMY{i}");
            let mut args = vec!["--output", &output, "--mode", &mode];
            let left = format!("DUMMY{}", i.saturating_sub(1));
            if i > 0 {
                let _ = d
                    .command("xrandr")
                    .args(["--addmode", &output, &mode])
                    .status();
                args.extend(["--right-of", &left]);
            }
            let ok = d.command("xrandr").args(&args).status().unwrap().success();
            assert!(ok, "xrandr {args:?}");
        }
        d
    }

    fn with_window_manager(
        server: Proc,
        display: String,
        dir: Option<tempfile::TempDir>,
    ) -> Desktop {
        let mut d = Desktop {
            display,
            procs: vec![server],
            _dir: dir,
        };
        let wm = d
            .command("openbox")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        d.procs.push(Proc(wm));
        wait_for(
            "openbox to manage the screen",
            Duration::from_secs(10),
            || {
                let out = d
                    .command("xprop")
                    .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
                    .output()
                    .ok()?;
                String::from_utf8_lossy(&out.stdout)
                    .contains("window id")
                    .then_some(())
            },
        );
        d
    }

    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE");
        c
    }

    /// Opens an xterm with `title` (which sets only the legacy WM_NAME), focuses it
    /// and returns its window id.
    pub fn xterm(&mut self, title: &str) -> String {
        let child = self
            .command("xterm")
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .args([
                "-xrm",
                "XTerm*utf8Title: true",
                "-geometry",
                "80x24+0+0",
                "-T",
                title,
                "-e",
                "sleep",
                "600",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.procs.push(Proc(child));
        let id = wait_for("the xterm window", Duration::from_secs(10), || {
            let out = self
                .command("xdotool")
                .args(["search", "--name", title])
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::to_string)
        });
        self.focus(&id);
        id
    }

    /// Runs `program` on this desktop until the desktop is dropped.
    pub fn spawn(&mut self, program: &str, args: &[&str]) {
        let child = self
            .command(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} is installed (scripts/setup-debian.sh): {e}"));
        self.procs.push(Proc(child));
    }

    /// The RGB pixels of a screen rectangle, read with XGetImage.
    pub fn grab(&self, x: i16, y: i16, w: u16, h: u16) -> Vec<[u8; 3]> {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};
        let (conn, screen) = x11rb::connect(Some(&self.display)).unwrap();
        let root = conn.setup().roots[screen].root;
        let img = conn
            .get_image(ImageFormat::Z_PIXMAP, root, x, y, w, h, !0)
            .unwrap()
            .reply()
            .unwrap();
        // 24-bit depth is stored as 32-bit little-endian BGRX.
        img.data
            .chunks_exact(4)
            .map(|p| [p[2], p[1], p[0]])
            .collect()
    }

    /// Whether a client owns the XEmbed system tray selection.
    pub fn has_system_tray(&self) -> bool {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::ConnectionExt;
        let (conn, screen) = x11rb::connect(Some(&self.display)).unwrap();
        let _ = conn.setup();
        let atom = conn
            .intern_atom(false, format!("_NET_SYSTEM_TRAY_S{screen}").as_bytes())
            .unwrap()
            .reply()
            .unwrap()
            .atom;
        conn.get_selection_owner(atom)
            .unwrap()
            .reply()
            .unwrap()
            .owner
            != x11rb::NONE
    }

    pub fn focus(&self, window: &str) {
        self.xdotool(&["windowactivate", "--sync", window]);
        // Clicks must land inside the window, not on the desktop (which unfocuses it).
        self.xdotool(&["mousemove", "--window", window, "40", "40"]);
    }

    pub fn xdotool(&self, args: &[&str]) {
        let out = self.command("xdotool").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

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
}

impl Agent {
    /// `toml` is appended after the `[storage]` section the helper writes.
    pub fn new(desktop: Option<&Desktop>, toml: &str) -> Agent {
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
            display: desktop.map(|d| d.display.clone()),
            daemon: None,
        }
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

    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        wait_for(needle, timeout, || {
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

    /// Waits until the minute starting at `start_ms` is committed and returns the log.
    pub fn wait_for_minute(&self, start_ms: i64) -> LogOutput {
        let start = stint::model::rfc3339(start_ms);
        wait_for(&format!("minute {start}"), Duration::from_secs(20), || {
            let log = self.log();
            log.minutes.iter().any(|m| m.start == start).then_some(log)
        })
    }
}

/// The minute record starting at `start_ms`; panics naming it when absent.
pub fn minute_at(log: &LogOutput, start_ms: i64) -> &stint::model::MinuteRecord {
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
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
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

/// A real stint-server process on a loopback port with its own data dir.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub args: Vec<String>,
    proc: Option<Proc>,
}

pub fn stint_server_bin() -> PathBuf {
    let bin = Path::new(STINT).with_file_name("stint-server");
    assert!(
        bin.exists(),
        "{} missing: build it first with `cargo build --workspace --bins` (add --release for benches; scripts/test.sh does the debug build)",
        bin.display()
    );
    bin
}

impl Server {
    /// Starts `stint-server serve` on `listen_ip` and a free port; `args` are extra
    /// serve flags (limits, injected faults, --cert/--key).
    pub fn start(listen_ip: &str, args: &[&str]) -> Server {
        let mut s = Server {
            dir: tempfile::tempdir().unwrap(),
            port: 0,
            args: args.iter().map(|a| a.to_string()).collect(),
            proc: None,
        };
        s.restart(listen_ip);
        s
    }

    pub fn restart(&mut self, listen_ip: &str) {
        let mut child = self
            .admin_command()
            .args(["serve", "--listen", &format!("{listen_ip}:{}", self.port)])
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let proc = Proc(child);
        for line in out.lines() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("listening on https://") {
                self.port = addr.rsplit(':').next().unwrap().parse().unwrap();
                break;
            }
        }
        assert_ne!(self.port, 0, "stint-server did not start");
        self.proc = Some(proc);
    }

    pub fn stop(&mut self) {
        self.proc = None;
    }

    #[allow(dead_code)] // for benches/sync, which shares these helpers
    pub fn pid(&self) -> u32 {
        self.proc.as_ref().expect("server running").0.id()
    }

    pub fn admin_command(&self) -> Command {
        let mut c = Command::new(stint_server_bin());
        c.arg("--data-dir").arg(self.dir.path());
        c
    }

    pub fn admin(&self, args: &[&str]) -> String {
        let out = self.admin_command().args(args).output().unwrap();
        assert!(out.status.success(), "stint-server {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Agent config for this server over TLS with the generated CA.
    pub fn agent_toml(&self, host: &str) -> String {
        format!(
            "[server]\nurl = \"https://{host}:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
            self.port,
            self.admin(&["token", "create"]).trim(),
            self.ca().to_str().unwrap()
        )
    }

    /// Every minute stored, across devices, as (id, start).
    pub fn minutes(&self) -> Vec<(String, String)> {
        let v: serde_json::Value =
            serde_json::from_str(&self.admin(&["export", "--json"])).unwrap();
        v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["minutes"].as_array().unwrap().clone())
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_string(),
                    m["start"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// A real HTTP CONNECT proxy on a loopback port, as corporate networks put in
/// front of HTTPS. Records every CONNECT target it tunnelled.
pub struct ConnectProxy {
    pub port: u16,
    pub targets: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = targets.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, &seen));
            }
        });
        ConnectProxy { port, targets }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(client: std::net::TcpStream, seen: &std::sync::Mutex<Vec<String>>) {
    use std::io::Write;
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(n) if n > 0 && header != "\r\n" => continue,
            _ => break,
        }
    }
    let mut client = client;
    let target = match request.split_whitespace().collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] => target.to_string(),
        _ => {
            let _ =
                client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
            return;
        }
    };
    seen.lock().unwrap().push(target.clone());
    let Ok(upstream) = std::net::TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    // Bytes the client sent right after its CONNECT may already sit in `reader`.
    let buffered = reader.buffer().to_vec();
    let mut up_w = upstream.try_clone().unwrap();
    let mut down_w = client;
    let mut up_r = upstream;
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut down_w);
        let _ = down_w.shutdown(std::net::Shutdown::Write);
    });
    if up_w.write_all(&buffered).is_ok() {
        let mut rest = reader.into_inner();
        let _ = std::io::copy(&mut rest, &mut up_w);
    }
    let _ = up_w.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
}
