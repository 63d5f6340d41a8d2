//! Wine for the Windows artefacts: a throwaway prefix on a test desktop, the
//! cross-compiled stint.exe, and a Wine virtual desktop (the one way Wine hands
//! X input to low-level hooks: it must land on a Wine-owned X window).
//!
//! Wine 8 (Debian 12) lacks bcryptprimitives.dll, whose ProcessPrng every Rust
//! Windows program calls; tests/wine/bcryptprimitives.c is a shim built into
//! the throwaway prefix only. Real Windows runs in the CI workflow.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::desktop::window_named;
use super::{Desktop, Proc};

pub const WINE: &str = "/usr/lib/wine/wine64";
pub const WINESERVER: &str = "/usr/lib/wine/wineserver64";

/// The debug stint.exe that scripts/test.sh cross-builds.
pub fn windows_exe() -> PathBuf {
    let exe =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/x86_64-pc-windows-gnu/debug/stint.exe");
    assert!(
        exe.exists(),
        "{} missing: build it with `cargo build --target x86_64-pc-windows-gnu --bin stint --bin stint-tray` (scripts/test.sh does)",
        exe.display()
    );
    exe
}

/// A Linux path as Wine's Z: drive names it.
pub fn windows_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

pub struct Wine {
    pub prefix: tempfile::TempDir,
    pub display: String,
    programs: Vec<Proc>,
}

impl Wine {
    /// A fresh prefix on `desk`'s display, booted, with the ProcessPrng shim.
    pub fn boot(desk: &Desktop) -> Wine {
        let wine = Wine {
            prefix: tempfile::tempdir().unwrap(),
            display: desk.display.clone(),
            programs: Vec::new(),
        };
        let boot = wine.run(&["wineboot", "--init"]);
        assert!(boot.status.success(), "wineboot: {boot:?}");
        let shim = wine.c_drive().join("windows/system32/bcryptprimitives.dll");
        let gcc = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&shim)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wine/bcryptprimitives.c"))
            .arg("-ladvapi32")
            .output()
            .unwrap();
        assert!(gcc.status.success(), "shim: {gcc:?}");
        wine
    }

    /// Makes every program of this prefix run inside one `width`x`height`
    /// virtual-desktop X window, and returns that window's id once a program
    /// (`first`, e.g. notepad) has opened it.
    pub fn virtual_desktop(&mut self, width: u32, height: u32, first: &[&str]) -> String {
        for args in [
            [r"HKCU\Software\Wine\Explorer", "Desktop", "Default"],
            [
                r"HKCU\Software\Wine\Explorer\Desktops",
                "Default",
                &format!("{width}x{height}"),
            ],
        ] {
            let out = self.run(&["reg", "add", args[0], "/v", args[1], "/d", args[2], "/f"]);
            assert!(out.status.success(), "reg add {args:?}: {out:?}");
        }
        // The desktop wineboot opened lives on in explorer.exe until the
        // prefix's wineserver exits; only a new one is virtual.
        let waited = std::process::Command::new(WINESERVER)
            .arg("-w")
            .env("WINEPREFIX", self.prefix.path())
            .status()
            .unwrap();
        assert!(waited.success(), "wineserver -w: {waited:?}");
        let program = self
            .command(first)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.programs.push(Proc(program));
        window_named(
            &self.display,
            "Default - Wine desktop",
            Duration::from_secs(60),
        )
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(WINE);
        c.args(args)
            .env("WINEPREFIX", self.prefix.path())
            .env("WINESERVER", WINESERVER)
            .env("WINEDEBUG", "-all")
            .env("DISPLAY", &self.display);
        c
    }

    /// Runs to completion with output captured in files, not pipes: Wine's
    /// helper processes (wineserver, services.exe) can inherit a pipe and hold
    /// it open for as long as a daemon keeps them alive.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = tempfile::tempfile().unwrap();
        let err = tempfile::tempfile().unwrap();
        let status = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(err.try_clone().unwrap())
            .status()
            .unwrap();
        let read = |mut f: std::fs::File| {
            use std::io::{Read, Seek};
            let mut v = Vec::new();
            f.rewind().unwrap();
            f.read_to_end(&mut v).unwrap();
            v
        };
        Output {
            status,
            stdout: read(out),
            stderr: read(err),
        }
    }

    pub fn text(out: &Output) -> String {
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    }

    pub fn c_drive(&self) -> PathBuf {
        self.prefix.path().join("drive_c")
    }

    /// Ends every process of the prefix.
    pub fn kill_all(&self) {
        let _ = Command::new(WINESERVER)
            .arg("-k")
            .env("WINEPREFIX", self.prefix.path())
            .status();
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.kill_all();
    }
}
