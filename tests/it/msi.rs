//! The Windows artefacts, built and run here: the cross-compiled stint.exe,
//! the MSI built by wixl from installers/windows/stint.wxs, its tables read with
//! msiinfo, then a silent install, the installed agent's doctor/status/IPC and an
//! uninstall, all under Wine on an Xvfb display (`helpers/wine.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::*;

fn msi_table(msi: &Path, table: &str) -> String {
    let out = Command::new("msiinfo")
        .args(["export"])
        .arg(msi)
        .arg(table)
        .output()
        .unwrap();
    assert!(out.status.success(), "msiinfo export {table}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn msi_installs_silently_under_wine_and_the_agent_runs_and_uninstalls() {
    let exe = windows_exe();
    let work = tempfile::tempdir().unwrap();
    let build = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("installers/windows/build-msi.sh"))
        .arg("--binary")
        .arg(&exe)
        .arg("--out")
        .arg(work.path())
        .output()
        .unwrap();
    assert!(build.status.success(), "build-msi.sh: {build:?}");
    let msi = PathBuf::from(String::from_utf8(build.stdout).unwrap().trim());

    // The tables say what the install will do, before anything runs.
    let actions = msi_table(&msi, "CustomAction");
    assert!(
        actions.contains(
            r#"managed-config write --server-url "[SERVER_URL]" --enroll-token "[ENROLL_TOKEN]""#
        ),
        "{actions}"
    );
    let registry = msi_table(&msi, "Registry");
    assert!(
        registry.contains(r"Software\Microsoft\Windows\CurrentVersion\Run")
            && registry.contains(r#""[INSTALLDIR]stint.exe" run"#),
        "{registry}"
    );
    let files = msi_table(&msi, "File");
    assert!(
        files.contains("stint.exe") && files.contains("stint-tray.exe"),
        "{files}"
    );
    assert!(
        msi_table(&msi, "Property").contains("ALLUSERS\t1"),
        "per-machine"
    );
    let sequence = msi_table(&msi, "InstallExecuteSequence");
    assert!(
        sequence.contains("WriteManagedConfig\tNOT REMOVE"),
        "{sequence}"
    );

    let desk = Desktop::start(1024, 768);
    let wine = Wine::boot(&desk);

    let msi_arg = format!("Z:{}", msi.display()).replace('/', "\\");
    let install = wine.run(&[
        "msiexec",
        "/i",
        &msi_arg,
        "/qn",
        "SERVER_URL=https://stint.example.com:8443",
        "ENROLL_TOKEN=stn_enr_wine",
    ]);
    assert!(install.status.success(), "msiexec /i: {install:?}");
    let installed = wine.c_drive().join("Program Files/stint/stint.exe");
    assert!(installed.exists());
    let managed = wine.c_drive().join("ProgramData/stint/stint.toml");
    let conf: toml::Table = toml::from_str(&std::fs::read_to_string(&managed).unwrap()).unwrap();
    assert_eq!(
        conf["server"]["url"].as_str(),
        Some("https://stint.example.com:8443")
    );
    assert_eq!(
        conf["server"]["enroll_token"].as_str(),
        Some("stn_enr_wine")
    );
    let run_key = wine.run(&[
        "reg",
        "query",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
        "/v",
        "stint",
    ]);
    assert!(
        Wine::text(&run_key).contains(r#""C:\Program Files\stint\stint.exe" run"#),
        "{run_key:?}"
    );

    let stint = r"C:\Program Files\stint\stint.exe";
    let doctor = wine.run(&[stint, "doctor"]);
    let text = Wine::text(&doctor);
    assert_eq!(doctor.status.code(), Some(0), "{text}");
    assert!(text.contains(r"C:\ProgramData\stint\stint.toml"), "{text}");
    let status = Wine::text(&wine.run(&[stint, "status"]));
    assert!(status.contains("daemon:    not running"), "{status}");

    // The daemon, and the named-pipe control channel to it.
    let daemon = Proc(
        wine.command(&[stint, "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let running = wait_for("the daemon to answer", Duration::from_secs(60), || {
        let s = Wine::text(&wine.run(&[stint, "status"]));
        s.contains("daemon:    running").then_some(s)
    });
    assert!(running.contains(r"\\.\pipe\stint-S-"), "{running}");
    // The tray process, started by the daemon from beside stint.exe, reached it too.
    wait_for("stint-tray.exe to run", Duration::from_secs(30), || {
        let out = Command::new("pgrep")
            .args(["-f", "stint-tray.exe"])
            .output()
            .unwrap();
        (!out.stdout.is_empty()).then_some(())
    });
    assert_eq!(
        Wine::text(&wine.run(&[stint, "stop"])).trim(),
        "tracking off"
    );
    assert!(Wine::text(&wine.run(&[stint, "status"])).contains("tracking:  off"));
    let second = wine.run(&[stint, "run", "--no-tray"]);
    assert_eq!(second.status.code(), Some(75), "{second:?}");
    drop(daemon);
    wine.kill_all();

    let uninstall = wine.run(&["msiexec", "/x", &msi_arg, "/qn"]);
    assert!(uninstall.status.success(), "msiexec /x: {uninstall:?}");
    assert!(!installed.exists(), "stint.exe left after uninstall");
    assert!(!managed.exists(), "managed config left after uninstall");
    let run_key = wine.run(&[
        "reg",
        "query",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
        "/v",
        "stint",
    ]);
    assert!(
        !Wine::text(&run_key).contains("stint.exe"),
        "autostart left"
    );
}
