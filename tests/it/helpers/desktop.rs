//! A real X desktop for tests: Xvfb (or Xorg with the dummy driver for several
//! monitors) with openbox, xterm windows, pixel grabs and XTEST input through
//! xdotool.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{wait_for, wait_for_or_show, Proc};

/// A private X server with a window manager.
pub struct Desktop {
    pub display: String,
    procs: Vec<Proc>,
    /// The window manager's log, and Xorg's configuration and log.
    dir: tempfile::TempDir,
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
        Desktop::with_window_manager(server, display, tempfile::tempdir().unwrap())
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
        let d = Desktop::with_window_manager(server, display, dir);
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

    fn with_window_manager(server: Proc, display: String, dir: tempfile::TempDir) -> Desktop {
        let mut d = Desktop {
            display,
            procs: vec![server],
            dir,
        };
        // openbox once exited 1 at start with nothing in its log, in a clean
        // CI run of some hundred desktops, on display :0 that an earlier
        // desktop had just let go of (the fleet test passed when run again):
        // a second start is tried, and said so, before the desktop counts as
        // broken.
        for attempt in 1..=2 {
            let log = d.dir.path().join(format!("openbox-{attempt}.log"));
            let wm = d
                .command("openbox")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap();
            d.procs.push(Proc(wm));
            let read = || std::fs::read_to_string(&log).unwrap_or_default();
            let exited = wait_for_or_show(
                "openbox to manage the screen",
                Duration::from_secs(30),
                || format!("openbox's log:\n{}", read()),
                || {
                    let out = d
                        .command("xprop")
                        .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
                        .output()
                        .unwrap();
                    if String::from_utf8_lossy(&out.stdout).contains("window id") {
                        return Some(None);
                    }
                    d.procs.last_mut().unwrap().0.try_wait().unwrap().map(Some)
                },
            );
            let Some(status) = exited else {
                break;
            };
            let said = format!(
                "openbox exited ({status}) before managing {}; its log:\n{}",
                d.display,
                read()
            );
            assert!(attempt < 2, "{said}");
            eprintln!("{said}\nstarting openbox once more");
            d.procs.pop();
        }
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
        let id = window_named(&self.display, title, Duration::from_secs(10));
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

    /// An X server inside a window of this desktop (Xephyr). Input typed into
    /// that window reaches the nested server through its own keyboard and
    /// pointer devices, as a person's would; xdotool aimed at the nested
    /// display goes through its XTEST devices instead.
    pub fn nested(&mut self, width: u32, height: u32) -> Nested {
        let title = format!("stint nested {width}x{height}");
        let mut xephyr = self.command("Xephyr");
        xephyr.args(["-screen", &format!("{width}x{height}"), "-title", &title]);
        let (server, display) = x_server(xephyr);
        self.procs.push(server);
        let window = window_named(&self.display, &title, Duration::from_secs(10));
        self.focus(&window);
        Nested { display, window }
    }

    /// Ends the X server, as a crash or the end of a session would.
    pub fn kill_x_server(&mut self) {
        drop(self.procs.remove(0));
    }

    /// Starts a bare Xvfb again on the same display (no window manager).
    pub fn restart_x_server(&mut self, width: u32, height: u32) {
        let x = Command::new("Xvfb")
            .arg(&self.display)
            .args([
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.procs.insert(0, Proc(x));
        wait_for(
            "the X server to accept clients",
            Duration::from_secs(10),
            || x11rb::connect(Some(&self.display)).ok().map(drop),
        );
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

/// Waits for a window whose name matches `name` on `display` and returns its id.
pub fn window_named(display: &str, name: &str, timeout: Duration) -> String {
    wait_for(&format!("a window named {name:?}"), timeout, || {
        let out = Command::new("xdotool")
            .env("DISPLAY", display)
            .args(["search", "--name", name])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(str::to_string)
    })
}

/// A nested X server (see [`Desktop::nested`]): its display, for the agent
/// and for XTEST input, and its window on the outer desktop, for device input.
pub struct Nested {
    pub display: String,
    pub window: String,
}

impl Nested {
    /// xdotool on the nested display: XTEST, which X marks as synthetic.
    pub fn xtest(&self, args: &[&str]) {
        let out = Command::new("xdotool")
            .env("DISPLAY", &self.display)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "xdotool {args:?}: {out:?}");
    }
}
