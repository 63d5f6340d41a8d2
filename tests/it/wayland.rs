//! stint on real Wayland compositors, headless: sway (foot terminals as the
//! windows, wtype typing into them), GNOME Shell and mutter, and KWin. The
//! focused window comes from sway's IPC, wlr-foreign-toplevel, stint's GNOME
//! Shell extension or stint's KWin script; idle time from the compositor's
//! idle protocol or Mutter's idle monitor; screenshots through wlr-screencopy
//! or the desktop portal. Without readable /dev/input the counts are unknown,
//! never 0.

use std::time::Duration;

use crate::helpers::*;

#[test]
fn on_sway_minutes_name_the_focused_window_go_idle_and_screenshots_have_pixels() {
    let Some(sway) = Sway::start("on_sway_minutes_name_the_focused_window") else {
        return;
    };
    sway.terminal("stint first window");
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\nidle_after = \"3s\"\n[tracking]\ninitial = true",
    );
    agent.env.extend(sway.env());
    // Exits non-zero here: without /dev/input the counts fail.
    let doctor = String::from_utf8_lossy(&agent.run(&["doctor"]).stdout).into_owned();
    assert!(
        doctor.contains("\"stint first window\" (/usr/bin/foot)"),
        "{doctor}"
    );
    assert!(doctor.contains("HEADLESS-1 640x480"), "{doctor}");
    // Each capability names its route, and input the step that fixes it
    // here: none, without input devices; joining the group, where they
    // belong to one the user is not in.
    for route in [
        "Wayland: sway, its IPC at",
        "through sway IPC",
        "through wlr-screencopy",
        "idle time is still measured, through",
    ] {
        assert!(doctor.contains(route), "{route} in:\n{doctor}");
    }
    let input = doctor
        .lines()
        .skip_while(|l| !l.contains(" input "))
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    if std::path::Path::new("/dev/input").exists() {
        assert!(
            input.contains("usermod -aG") || input.contains("through evdev"),
            "{input}"
        );
    } else {
        assert!(
            input.contains("no input devices under /dev/input")
                && input.contains("nothing to do on this machine")
                && !input.contains("not available on this platform"),
            "{input}"
        );
    }
    agent.start_daemon();
    let first = agent.minute_in("stint first window");
    assert_eq!(first.exe_path.as_deref(), Some("/usr/bin/foot"));
    assert_eq!(first.app.as_deref(), Some("foot"));

    // A new window takes the focus; the minutes follow it.
    sway.terminal("stint second window");
    agent.minute_in("stint second window");

    // No input since the start: the compositor says idle after 5 s.
    let idle = agent.idle_minute();
    // Without readable input devices the counts are unknown, never zero.
    let status = agent.status();
    if std::path::Path::new("/dev/input").exists() {
        eprintln!("/dev/input exists here: counts come from evdev (see the evdev tests)");
    } else {
        assert!(idle.counts_unknown, "{idle:?}");
        assert!(
            status["samplers"]["input"]
                .as_str()
                .unwrap_or("")
                .contains("org_kde_kwin_idle")
                || status["samplers"]["input"]
                    .as_str()
                    .unwrap_or("")
                    .contains("ext-idle-notify"),
            "{status}"
        );
    }
    // Typing ends the idle stretch.
    let typed_at = now_ms();
    sway.type_text("echo stint");
    wait_for(
        "an active minute after typing",
        Duration::from_secs(30),
        || {
            agent
                .log()
                .minutes
                .into_iter()
                .find(|m| parse_ms(&m.start) > typed_at && !m.idle)
        },
    );
    agent.stop_daemon();

    let log = agent.log();
    let shot = log.captures.last().expect("a screenshot");
    assert_eq!((shot.width, shot.height), (640, 480));
    let out = agent.dir.path().join("shot.webp");
    agent.ok(&["capture", "export", &shot.id, out.to_str().unwrap()]);
    let (w, h, stddev) = decode_image(&out);
    assert_eq!((w, h), (640, 480));
    assert!(
        stddev > 5.0,
        "the screenshot looks blank (luma stddev {stddev:.1})"
    );
}

/// A virtual keyboard and mouse through /dev/uinput: real kernel evdev
/// devices the agent reads like any other.
struct Uinput(std::fs::File);

impl Uinput {
    const EV_SYN: u16 = 0;
    const EV_KEY: u16 = 1;
    const EV_REL: u16 = 2;
    const KEY_A: u16 = 30;
    const KEY_B: u16 = 48;
    const BTN_LEFT: u16 = 0x110;
    const REL_X: u16 = 0;
    const REL_WHEEL: u16 = 8;

    fn create() -> std::io::Result<Uinput> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/uinput")?;
        let fd = f.as_raw_fd();
        let iow = |nr: u64, size: u64| (1u64 << 30) | (size << 16) | ((b'U' as u64) << 8) | nr;
        let check = |r: i32| {
            if r < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        };
        // SAFETY: plain-integer ioctls on our own uinput fd.
        unsafe {
            for ev in [Self::EV_KEY, Self::EV_REL] {
                check(libc::ioctl(fd, iow(100, 4) as _, libc::c_int::from(ev)))?;
            }
            for key in [Self::KEY_A, Self::KEY_B, Self::BTN_LEFT] {
                check(libc::ioctl(fd, iow(101, 4) as _, libc::c_int::from(key)))?;
            }
            for rel in [Self::REL_X, Self::REL_WHEEL] {
                check(libc::ioctl(fd, iow(102, 4) as _, libc::c_int::from(rel)))?;
            }
        }
        // struct uinput_setup: input_id (bustype, vendor, product, version),
        // name[80], ff_effects_max. BUS_USB: a device like any plugged in.
        let mut setup = [0u8; 92];
        for (i, v) in [3u16, 0x1234, 0x5678, 1].iter().enumerate() {
            setup[i * 2..i * 2 + 2].copy_from_slice(&v.to_ne_bytes());
        }
        setup[8..8 + 17].copy_from_slice(b"stint test device");
        // SAFETY: UI_DEV_SETUP reads the 92 bytes of `setup`; UI_DEV_CREATE takes no argument.
        unsafe {
            check(libc::ioctl(fd, iow(3, 92) as _, setup.as_ptr()))?;
            check(libc::ioctl(fd, ((b'U' as u64) << 8 | 1) as _))?;
        }
        Ok(Uinput(f))
    }

    fn emit(&mut self, kind: u16, code: u16, value: i32) {
        use std::io::Write;
        let mut e = vec![0u8; 16];
        e.extend_from_slice(&kind.to_ne_bytes());
        e.extend_from_slice(&code.to_ne_bytes());
        e.extend_from_slice(&value.to_ne_bytes());
        self.0.write_all(&e).unwrap();
        if kind != Self::EV_SYN {
            self.emit(Self::EV_SYN, 0, 0);
        }
    }
}

#[test]
fn on_wayland_evdev_counts_a_virtual_keyboard_and_mouse_exactly() {
    let test = "on_wayland_evdev_counts_a_virtual_keyboard_and_mouse_exactly";
    let device = match Uinput::create() {
        Ok(d) => d,
        Err(e) => {
            not_run(test, &format!("no usable /dev/uinput here ({e}); the counting itself is unit-tested from recorded streams and FIFOs in src/sampler/input/evdev.rs"));
            return;
        }
    };
    let Some(sway) = Sway::start(test) else {
        return;
    };
    sway.terminal("stint evdev");
    let mut device = device;
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\n[tracking]\ninitial = true",
    );
    agent.env.extend(sway.env());
    agent.start_daemon();
    std::thread::sleep(Duration::from_secs(2));
    let from = now_ms();
    // 3 presses of A (one held into auto-repeat), 2 of B, 2 clicks, 3 notches, motion.
    for (key, repeats) in [
        (Uinput::KEY_A, 3),
        (Uinput::KEY_B, 0),
        (Uinput::KEY_A, 0),
        (Uinput::KEY_B, 0),
        (Uinput::KEY_A, 0),
    ] {
        device.emit(Uinput::EV_KEY, key, 1);
        for _ in 0..repeats {
            device.emit(Uinput::EV_KEY, key, 2);
        }
        device.emit(Uinput::EV_KEY, key, 0);
    }
    for _ in 0..2 {
        device.emit(Uinput::EV_KEY, Uinput::BTN_LEFT, 1);
        device.emit(Uinput::EV_KEY, Uinput::BTN_LEFT, 0);
    }
    for v in [1, -1, 1] {
        device.emit(Uinput::EV_REL, Uinput::REL_WHEEL, v);
    }
    device.emit(Uinput::EV_REL, Uinput::REL_X, 10);
    std::thread::sleep(Duration::from_secs(3));
    agent.stop_daemon();
    let minutes: Vec<_> = agent
        .log()
        .minutes
        .into_iter()
        .filter(|m| parse_ms(&m.start) >= from - 1_000)
        .collect();
    let sum = |f: fn(&stint::model::MinuteRecord) -> u32| minutes.iter().map(f).sum::<u32>();
    assert_eq!(
        (sum(|m| m.keystrokes), sum(|m| m.clicks), sum(|m| m.scrolls)),
        (5, 2, 3),
        "{minutes:?}"
    );
}

/// KWin for real (its virtual output): stint's KWin script, installed where
/// the package puts it and enabled by default, reports the focused window to
/// the agent: the one focused before the agent started (KWin runs the script
/// again for it) and each one after; idle time comes from KWin's idle
/// protocol.
#[test]
fn on_kde_kwin_runs_the_script_and_the_minutes_name_the_focused_window() {
    let Some(kde) = WlDesktop::kwin("on_kde_kwin_runs_the_script") else {
        return;
    };
    kde.window("stint kwin first");
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\nidle_after = \"3s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true",
    );
    agent.env.extend(kde.env());
    agent.as_user("stint-test");
    // The window maps a moment after zenity starts.
    let mut doctor = String::new();
    wait_for("doctor naming the window", Duration::from_secs(20), || {
        let out = agent.run(&["doctor"]);
        doctor = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        doctor
            .contains("active window: \"stint kwin first\" (/usr/bin/zenity)")
            .then_some(())
    });
    agent.start_daemon();
    let first = agent.minute_in("stint kwin first");
    assert_eq!(
        first.exe_path.as_deref(),
        Some("/usr/bin/zenity"),
        "the pid's program"
    );
    assert_eq!(first.app.as_deref(), Some("zenity"));
    assert_eq!(agent.status()["samplers"]["window"], "ok (KWin script)");
    // A focus change after the start: the script's own report.
    kde.window("stint kwin second");
    agent.minute_in("stint kwin second");
    agent.idle_minute();
    agent.stop_daemon();
}

/// GNOME's compositor for real (mutter headless, without the Shell): idle
/// time from Mutter's idle monitor; the window check names the extension to
/// enable; with no portal the screenshot check says so at once, no hang.
#[test]
fn on_gnome_idle_comes_from_mutter_and_doctor_names_the_extension() {
    let Some(mutter) = WlDesktop::mutter("on_gnome_idle_comes_from_mutter") else {
        return;
    };
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\nidle_after = \"2s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true",
    );
    agent.env.extend(mutter.env());
    let started = std::time::Instant::now();
    let doctor = String::from_utf8_lossy(&agent.run(&["doctor"]).stdout).into_owned();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "doctor took {:?}",
        started.elapsed()
    );
    for said in [
        "org.gnome.Mutter.IdleMonitor",
        "gnome-extensions enable stint-focus@stint.dev",
        "no org.freedesktop.portal.Desktop on the session bus",
    ] {
        assert!(doctor.contains(said), "{said} in\n{doctor}");
    }
    agent.start_daemon();
    let idle = agent.idle_minute();
    assert!(
        idle.counts_unknown || std::path::Path::new("/dev/input").exists(),
        "{idle:?}"
    );
    agent.stop_daemon();
}

/// GNOME Shell for real (headless): stint's extension, in the format the
/// package installs for this Shell version, names the focused window; idle
/// time comes from Mutter; the portal takes the screenshots, and until the
/// user has allowed that once, doctor says so instead of hanging.
#[test]
fn on_gnome_shell_the_extension_names_the_window_and_the_portal_takes_screenshots() {
    let Some(gnome) = WlDesktop::gnome_shell("on_gnome_shell_the_extension_names_the_window")
    else {
        return;
    };
    gnome.window("stint gnome window");
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\nidle_after = \"3s\"\n[tracking]\ninitial = true",
    );
    agent.env.extend(gnome.env());
    // As the session's own user, as on a desktop: the portal inspects its
    // caller's /proc entries, which root's process would hide from it.
    agent.as_user("stint-test");
    // GNOME asks before the first screenshot a program takes without a
    // dialog of its own; nobody answers here.
    let doctor = String::from_utf8_lossy(&agent.run(&["doctor"]).stdout).into_owned();
    for said in [
        "\"stint gnome window\" (/usr/bin/zenity)",
        "org.gnome.Mutter.IdleMonitor",
        "the desktop may be asking to allow stint's screenshots",
    ] {
        assert!(doctor.contains(said), "{said} in\n{doctor}");
    }
    gnome.allow_screenshots();
    agent.start_daemon();
    let minute = agent.minute_in("stint gnome window");
    assert_eq!(minute.exe_path.as_deref(), Some("/usr/bin/zenity"));
    assert!(
        minute
            .app
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("zenity")),
        "{minute:?}"
    );
    assert_eq!(
        agent.status()["samplers"]["window"],
        "ok (GNOME Shell extension)"
    );
    agent.idle_minute();
    let shot = wait_for("a screenshot", Duration::from_secs(40), || {
        agent.log().captures.into_iter().last()
    });
    agent.stop_daemon();
    assert_eq!((shot.width, shot.height), (640, 480));
    let out = agent.dir.path().join("shot.webp");
    agent.ok(&["capture", "export", &shot.id, out.to_str().unwrap()]);
    let (_, _, stddev) = decode_image(&out);
    assert!(
        stddev > 5.0,
        "the screenshot looks blank (luma stddev {stddev:.1})"
    );
    // Kept for a person to look at, as the web tests keep theirs.
    let kept = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wayland-artifacts");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::copy(&out, kept.join("gnome-shell.webp")).unwrap();
    // The portal's own files are not left in the user's home.
    let left: Vec<_> = walk(&gnome.home())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(left.is_empty(), "portal pictures left behind: {left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A wlroots compositor without sway's IPC (Hyprland, river ...), played by
/// sway with its socket hidden: the focused window comes from
/// wlr-foreign-toplevel-management, which sway offers as they do.
#[test]
fn on_other_wlroots_compositors_the_focused_window_comes_from_foreign_toplevel() {
    let Some(sway) = Sway::start("on_other_wlroots_compositors_the_focused_window") else {
        return;
    };
    sway.terminal("stint toplevel one");
    let mut agent = Agent::new(
        None,
        "[schedule]\nminute = \"1s\"\n[tracking]\ninitial = true",
    );
    agent.env.extend(
        sway.env()
            .into_iter()
            .filter(|(k, _)| k != "SWAYSOCK" && k != "XDG_CURRENT_DESKTOP"),
    );
    agent
        .env
        .push(("XDG_CURRENT_DESKTOP".into(), "river".into()));
    agent.start_daemon();
    let first = agent.minute_in("stint toplevel one");
    assert_eq!(first.app.as_deref(), Some("foot"));
    sway.terminal("stint toplevel two");
    agent.minute_in("stint toplevel two");
    assert_eq!(
        agent.status()["samplers"]["window"],
        "ok (wlr-foreign-toplevel-management)"
    );
    agent.stop_daemon();
}
