//! GNOME and KDE for real, headless, as the unprivileged user stint-test:
//! mutter alone (GNOME's compositor without its Shell), GNOME Shell with
//! stint's focus extension and the desktop portal, or KWin with stint's
//! KWin script. Their buses admit root's test process (a user's own session
//! bus admits only that user) and run as stint-test, so what they start on
//! demand (the portal, dconf) runs as that user.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::sway::Group;
use super::{wait_for, wait_for_or_show};

/// The Wayland socket's name in the session's runtime directory.
const SOCKET: &str = "stint-wl";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mutter,
    GnomeShell,
    Kwin,
}

impl Kind {
    /// `XDG_CURRENT_DESKTOP` in this kind of session.
    fn current_desktop(self) -> &'static str {
        if self == Kind::Kwin {
            "KDE"
        } else {
            "GNOME"
        }
    }
}

pub struct WlDesktop {
    windows: Mutex<Vec<Group>>,
    _compositor: Group,
    /// The session bus, then the stand-in for the system bus (the Shell
    /// gives up without one; nothing on it answers, as on a machine
    /// without logind).
    _buses: [Group; 2],
    pub wayland: PathBuf,
    pub bus: String,
    /// The session's environment for its own programs.
    session: Vec<(String, String)>,
    kind: Kind,
    /// Last, so the processes above are gone before their directory.
    dir: tempfile::TempDir,
}

impl WlDesktop {
    /// mutter headless with a 640x480 virtual monitor, on a bus that starts
    /// nothing on demand (so no portal either).
    pub fn mutter(test: &str) -> Option<WlDesktop> {
        Self::start(test, Kind::Mutter)
    }

    /// GNOME Shell headless with a 640x480 virtual monitor, stint's
    /// extension enabled as the package installs it for this Shell version,
    /// and the desktop portal on demand.
    pub fn gnome_shell(test: &str) -> Option<WlDesktop> {
        Self::start(test, Kind::GnomeShell)
    }

    /// KWin on a 640x480 virtual output with stint's KWin script installed
    /// where the package puts it for a user (enabled by default).
    pub fn kwin(test: &str) -> Option<WlDesktop> {
        Self::start(test, Kind::Kwin)
    }

    fn start(test: &str, kind: Kind) -> Option<WlDesktop> {
        let compositor = match kind {
            Kind::Mutter => "mutter",
            Kind::GnomeShell => "gnome-shell",
            Kind::Kwin => "kwin_wayland",
        };
        let shell = kind == Kind::GnomeShell;
        let mut needed = vec![compositor, "dbus-daemon", "dbus-send", "runuser", "zenity"];
        if shell {
            needed.extend(["gsettings", "/usr/libexec/xdg-desktop-portal-gnome"]);
        }
        if !super::have_tools(test, &needed) {
            return None;
        }
        super::stint_test_user();
        let dir = tempfile::tempdir().unwrap();
        let (run, home) = (dir.path().join("run"), dir.path().join("home"));
        std::fs::create_dir(&run).unwrap();
        std::fs::create_dir(&home).unwrap();
        let mut program = PathBuf::from(compositor);
        match kind {
            Kind::GnomeShell => install_extensions(&home),
            Kind::Kwin => {
                let scripts = home.join(".local/share/kwin/scripts/stint-focus");
                copy_tree(&repo().join("installers/linux/kwin/stint-focus"), &scripts);
                // kwin_wayland carries a file capability (cap_sys_resource),
                // which a container may refuse to exec; a copy carries none.
                program = dir.path().join("kwin_wayland");
                std::fs::copy("/usr/bin/kwin_wayland", &program).unwrap();
            }
            Kind::Mutter => {}
        }
        super::give_to("stint-test", dir.path());
        let mut session: Vec<(String, String)> = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("XDG_SESSION_TYPE", "wayland"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        session.push(("XDG_CURRENT_DESKTOP".into(), kind.current_desktop().into()));
        session.push(("HOME".into(), home.display().to_string()));
        session.push(("XDG_RUNTIME_DIR".into(), run.display().to_string()));
        let (system, system_address) = bus(dir.path(), "system", false, &session);
        session.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), system_address));
        // What the bus starts (the portal and its GNOME backend) draws on
        // this display.
        let mut activated = session.clone();
        activated.push(("WAYLAND_DISPLAY".into(), SOCKET.into()));
        let (session_bus, address) = bus(dir.path(), "session", shell, &activated);
        session.push(("DBUS_SESSION_BUS_ADDRESS".into(), address.clone()));
        if shell {
            let enabled = "['stint-focus@stint.dev', 'stint-test-desktop@stint.dev']";
            let out = as_user(&session)
                .args([
                    "gsettings",
                    "set",
                    "org.gnome.shell",
                    "enabled-extensions",
                    enabled,
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "gsettings: {out:?}");
        }
        let log = dir.path().join(format!("{compositor}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = as_user(&session);
        cmd.arg(&program);
        if kind == Kind::Kwin {
            cmd.args([
                "--virtual",
                "--width",
                "640",
                "--height",
                "480",
                "--socket",
                SOCKET,
            ])
            .args([
                "--no-lockscreen",
                "--no-global-shortcuts",
                "--no-kactivities",
            ]);
        } else {
            cmd.args(["--headless", "--wayland", "--no-x11"])
                .args(["--virtual-monitor", "640x480"])
                .arg(format!("--wayland-display={SOCKET}"));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap();
        let compositor_proc = Group(child);
        let wayland = run.join(SOCKET);
        // Ready once what the test talks to answers.
        let (dest, path, method, args, reply) = match kind {
            Kind::Mutter => (
                "org.gnome.Mutter.IdleMonitor",
                "/org/gnome/Mutter/IdleMonitor/Core",
                "org.gnome.Mutter.IdleMonitor.GetIdletime",
                None,
                "",
            ),
            // The extension answers once the Shell has started and enabled it.
            Kind::GnomeShell => (
                "dev.stint.Focus",
                "/dev/stint/Focus",
                "dev.stint.Focus1.FocusedWindow",
                None,
                "",
            ),
            Kind::Kwin => (
                "org.kde.KWin",
                "/Scripting",
                "org.kde.kwin.Scripting.isScriptLoaded",
                Some("string:stint-focus"),
                "boolean true",
            ),
        };
        let desktop = WlDesktop {
            windows: Mutex::new(Vec::new()),
            _compositor: compositor_proc,
            _buses: [session_bus, system],
            wayland,
            bus: address,
            session,
            kind,
            dir,
        };
        wait_for_or_show(
            &format!("{compositor} to answer"),
            Duration::from_secs(40),
            || {
                format!(
                    "its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            },
            || {
                desktop
                    .call(dest, path, method, args.as_slice())
                    .filter(|r| r.contains(reply))
            },
        );
        Some(desktop)
    }

    /// What a client of this session needs in its environment.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("WAYLAND_DISPLAY".into(), self.wayland.display().to_string()),
            ("XDG_SESSION_TYPE".into(), "wayland".into()),
            (
                "XDG_CURRENT_DESKTOP".into(),
                self.kind.current_desktop().into(),
            ),
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus.clone()),
            // Where the session's user has the KWin script, as a user's
            // own programs would find it under their HOME.
            (
                "XDG_DATA_HOME".into(),
                self.home().join(".local/share").display().to_string(),
            ),
        ]
    }

    /// A D-Bus method call on the session bus; its printed reply, or `None`
    /// when it failed.
    pub fn call(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> Option<String> {
        let out = Command::new("dbus-send")
            .args(["--session", "--print-reply", "--reply-timeout=3000"])
            .arg(format!("--dest={dest}"))
            .args([path, method])
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Opens a window titled `title` (a zenity dialog, GTK on Wayland) as
    /// the session's user; on GNOME Shell, waits until the extension names
    /// it as the focused window. (foot, the sway tests' window, dies of a
    /// division by zero on KWin's virtual output.)
    pub fn window(&self, title: &str) {
        let child = as_user(&self.session)
            .args([
                format!("WAYLAND_DISPLAY={SOCKET}"),
                "GDK_BACKEND=wayland".into(),
            ])
            .args(["zenity", "--info", "--title", title, "--text", title])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        self.windows.lock().unwrap().push(Group(child));
        if self.kind != Kind::GnomeShell {
            return;
        }
        wait_for(
            &format!("{title:?} focused"),
            Duration::from_secs(20),
            || {
                self.call(
                    "dev.stint.Focus",
                    "/dev/stint/Focus",
                    "dev.stint.Focus1.FocusedWindow",
                    &[],
                )
                .filter(|reply| reply.contains(title))
            },
        );
    }

    /// What a user's "Allow" in GNOME's dialog stores: the portal may take
    /// screenshots for programs outside a sandbox (app id "").
    pub fn allow_screenshots(&self) {
        let reply = self.call(
            "org.freedesktop.impl.portal.PermissionStore",
            "/org/freedesktop/impl/portal/PermissionStore",
            "org.freedesktop.impl.portal.PermissionStore.SetPermission",
            &[
                "string:screenshot",
                "boolean:true",
                "string:screenshot",
                "string:",
                "array:string:yes",
            ],
        );
        assert!(reply.is_some(), "the permission store refused the grant");
    }

    /// The session's home directory, where the portal saves its pictures.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// `runuser` as stint-test with exactly `env`, so nothing of the test
/// process's own session (DISPLAY, a bus) leaks in.
fn as_user(env: &[(String, String)]) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "stint-test", "--", "env", "-i"]);
    cmd.args(env.iter().map(|(k, v)| format!("{k}={v}")));
    cmd
}

/// A dbus-daemon of the session type as stint-test, admitting every user;
/// with `services`, it starts the system's session services on demand.
fn bus(dir: &Path, name: &str, services: bool, env: &[(String, String)]) -> (Group, String) {
    let socket = dir.join(format!("{name}-bus.sock"));
    let config = dir.join(format!("{name}-bus.conf"));
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  {}
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <!-- mutter gets no replies without these two -->
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display(),
            if services {
                "<standard_session_servicedirs/>"
            } else {
                ""
            }
        ),
    )
    .unwrap();
    // The address goes to a file: a pipe read once and dropped would leave
    // the daemon blocked on its next write.
    let printed = dir.join(format!("{name}-bus.address"));
    std::fs::write(&printed, "").unwrap();
    super::give_to("stint-test", &config);
    super::give_to("stint-test", &printed);
    let child = as_user(env)
        .arg("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .arg("--nofork")
        .arg("--print-address=1")
        .stdout(std::fs::File::create(&printed).unwrap())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = Group(child);
    let address = wait_for(
        &format!("the {name} bus's address"),
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(&printed).ok()?;
            text.lines().next().map(str::to_string)
        },
    );
    (group, address)
}

/// stint's extension in the format the package installs for this Shell
/// (installers/linux/postinst: the ES-module one from 45, the legacy one
/// before), and a test fixture that leaves the overview GNOME opens at
/// start, as a user pressing Escape would, so a new window takes the focus.
fn install_extensions(home: &Path) {
    let version = Command::new("gnome-shell")
        .arg("--version")
        .output()
        .unwrap();
    let major: u32 = String::from_utf8_lossy(&version.stdout)
        .split_whitespace()
        .last()
        .and_then(|v| v.split('.').next()?.parse().ok())
        .unwrap_or(0);
    let source = repo()
        .join("installers/linux/gnome-shell")
        .join(if major >= 45 {
            "stint-focus@stint.dev"
        } else {
            "legacy"
        });
    let extensions = home.join(".local/share/gnome-shell/extensions");
    let ours = extensions.join("stint-focus@stint.dev");
    std::fs::create_dir_all(&ours).unwrap();
    for f in ["extension.js", "metadata.json"] {
        std::fs::copy(source.join(f), ours.join(f)).unwrap();
    }
    let fixture = extensions.join("stint-test-desktop@stint.dev");
    std::fs::create_dir_all(&fixture).unwrap();
    std::fs::write(
        fixture.join("metadata.json"),
        format!(
            r#"{{"uuid": "stint-test-desktop@stint.dev", "name": "stint test desktop", "description": "Test fixture: leaves the startup overview.", "shell-version": ["{major}"]}}"#
        ),
    )
    .unwrap();
    let hide = r#"
        if (Main.layoutManager._startingUp)
            this._id = Main.layoutManager.connect('startup-complete', () => Main.overview.hide());
        else
            Main.overview.hide();
    "#;
    let body = if major >= 45 {
        format!(
            "import * as Main from 'resource:///org/gnome/shell/ui/main.js';\n\
             export default class Desktop {{\n  enable() {{{hide}}}\n  disable() {{}}\n}}\n"
        )
    } else {
        format!(
            "const Main = imports.ui.main;\n\
             class Desktop {{\n  enable() {{{hide}}}\n  disable() {{}}\n}}\n\
             function init() {{ return new Desktop(); }}\n"
        )
    };
    std::fs::write(fixture.join("extension.js"), body).unwrap();
}
