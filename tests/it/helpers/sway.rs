//! A real sway compositor, headless (wlroots' headless backend and pixman
//! renderer), running as the unprivileged user stint-test (sway refuses
//! root), with foot terminals as Wayland clients and wtype for key input.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use std::os::unix::process::CommandExt;
use std::process::Child;

use super::{wait_for, wait_for_or_show};

/// A process started in a group of its own, killed with everything it
/// started: runuser's child (sway, mutter, dbus-run-session's bus) would
/// outlive a kill of runuser alone.
pub(super) struct Group(pub(super) Child);

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: signals the group this struct's child leads, nothing else.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

pub struct Sway {
    /// Holds sway's runtime dir and log for as long as sway runs.
    dir: tempfile::TempDir,
    /// Absolute paths, so a client needs no XDG_RUNTIME_DIR of sway's.
    pub wayland: PathBuf,
    pub ipc: PathBuf,
    _proc: Group,
}

impl Sway {
    /// sway with one 640x480 output, or `None` after saying why it cannot
    /// run here.
    pub fn start(test: &str) -> Option<Sway> {
        let tools = [
            "sway",
            "swaymsg",
            "foot",
            "wtype",
            "runuser",
            "dbus-run-session",
        ];
        if !super::have_tools(test, &tools) {
            return None;
        }
        super::stint_test_user();
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(
            dir.path().join("config"),
            "output HEADLESS-1 resolution 640x480\nxwayland disable\n",
        )
        .unwrap();
        super::give_to("stint-test", dir.path());
        let log = std::fs::File::create(dir.path().join("sway.log")).unwrap();
        let child = Command::new("runuser")
            .args(["-u", "stint-test", "--", "env"])
            .arg(format!("XDG_RUNTIME_DIR={}", run.display()))
            .args([
                "WLR_BACKENDS=headless",
                "WLR_RENDERER=pixman",
                "WLR_LIBINPUT_NO_DEVICES=1",
                "dbus-run-session",
                "sway",
                "-c",
            ])
            .arg(dir.path().join("config"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        let proc = Group(child);
        let (wayland, ipc) = wait_for("sway's sockets", Duration::from_secs(20), || {
            let mut wayland = None;
            let mut ipc = None;
            for e in std::fs::read_dir(&run).ok()?.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("wayland-") && !name.ends_with(".lock") {
                    wayland = Some(e.path());
                }
                if name.starts_with("sway-ipc") {
                    ipc = Some(e.path());
                }
            }
            Some((wayland?, ipc?))
        });
        let sway = Sway {
            dir,
            wayland,
            ipc,
            _proc: proc,
        };
        wait_for("sway to answer", Duration::from_secs(20), || {
            sway.try_msg(&["-t", "get_version"]).map(drop)
        });
        Some(sway)
    }

    /// What a client of this sway needs in its environment.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("WAYLAND_DISPLAY".into(), self.wayland.display().to_string()),
            ("SWAYSOCK".into(), self.ipc.display().to_string()),
            ("XDG_SESSION_TYPE".into(), "wayland".into()),
            ("XDG_CURRENT_DESKTOP".into(), "sway".into()),
        ]
    }

    fn try_msg(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("swaymsg")
            .arg("-s")
            .arg(&self.ipc)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn msg(&self, args: &[&str]) -> String {
        self.try_msg(args)
            .unwrap_or_else(|| panic!("swaymsg {args:?} failed"))
    }

    /// Opens a foot terminal titled `title` (it takes the focus) and waits
    /// until sway shows it.
    pub fn terminal(&self, title: &str) {
        // foot runs `cat`, not a shell: without SHELL in the environment (as
        // on CI) foot would run stint-test's login shell, nologin, and close
        // at once.
        self.msg(&["exec", &format!("foot -T '{title}' cat")]);
        wait_for_or_show(
            title,
            Duration::from_secs(20),
            || {
                let log = std::fs::read_to_string(self.dir.path().join("sway.log"));
                format!(
                    "sway's log (foot's errors land there):\n{}",
                    log.unwrap_or_default()
                )
            },
            || self.msg(&["-t", "get_tree"]).contains(title).then_some(()),
        );
    }

    /// Types `text` into the focused window through the virtual-keyboard
    /// protocol, as a person at the keyboard would reach it.
    pub fn type_text(&self, text: &str) {
        let out = Command::new("wtype")
            .arg(text)
            .env("WAYLAND_DISPLAY", &self.wayland)
            .output()
            .unwrap();
        assert!(out.status.success(), "wtype: {out:?}");
    }
}
