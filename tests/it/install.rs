//! The Linux package as IT uses it: build the .deb, install it silently with the
//! server URL and enrollment token in the environment, check what it put where,
//! run the installed binary's `doctor`, refuse a bad parameter, and purge.

use std::path::Path;
use std::process::Command;

use crate::helpers::*;

fn apt(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn purge() {
    let _ = Command::new("dpkg").args(["--purge", "stint"]).output();
}

#[test]
fn deb_installs_silently_configures_autostart_runs_doctor_and_purges_clean() {
    require_root("installing a package");
    purge();
    // A user for STINT_INPUT_USERS.
    stint_test_user();
    let out_dir = tempfile::tempdir().unwrap();
    let build = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("installers/linux/build-deb.sh"))
        .args(["--binary", STINT, "--fast", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(build.status.success(), "build-deb.sh: {build:?}");
    let deb = String::from_utf8(build.stdout).unwrap().trim().to_string();

    let token = r#"stn_enr_"quoted"\token"#;
    let install = apt(
        &["install", "-y", &deb],
        &[
            ("STINT_SERVER_URL", "https://stint.example.com:8443"),
            ("STINT_ENROLL_TOKEN", token),
            ("STINT_TRACKING_INITIAL", "false"),
            ("STINT_INPUT_USERS", "stint-test"),
        ],
    );
    assert!(install.status.success(), "apt-get install: {install:?}");

    let exe = Path::new("/usr/bin/stint");
    assert!(exe.exists());
    assert!(Path::new("/usr/bin/stint-tray").exists());
    let autostart = std::fs::read_to_string("/etc/xdg/autostart/stint.desktop").unwrap();
    assert!(autostart.contains("Exec=/usr/bin/stint run"), "{autostart}");
    assert!(Path::new("/usr/share/icons/hicolor/48x48/apps/stint.png").exists());
    let conf = std::fs::read_to_string("/etc/stint/stint.toml").unwrap();
    let parsed: toml::Table = toml::from_str(&conf).unwrap_or_else(|e| panic!("{e}\n{conf}"));
    assert_eq!(
        parsed["server"]["url"].as_str(),
        Some("https://stint.example.com:8443")
    );
    assert_eq!(
        parsed["server"]["enroll_token"].as_str(),
        Some(token),
        "{conf}"
    );
    assert_eq!(
        parsed["tracking"]["initial"].as_bool(),
        Some(false),
        "{conf}"
    );

    // The admin's choice of who may be counted on Wayland: the 'input' group.
    let groups = Command::new("id")
        .args(["-nG", "stint-test"])
        .output()
        .unwrap();
    let groups = String::from_utf8_lossy(&groups.stdout).into_owned();
    Command::new("gpasswd")
        .args(["-d", "stint-test", "input"])
        .output()
        .unwrap();
    assert!(groups.split_whitespace().any(|g| g == "input"), "{groups}");

    // The installed binary on a real desktop picks up the managed config by itself.
    let desk = Desktop::start(800, 600);
    let home = tempfile::tempdir().unwrap();
    let doctor = Command::new(exe)
        .args(["doctor", "--json"])
        .env("HOME", home.path())
        .env("DISPLAY", &desk.display)
        .env_remove("STINT_SYSTEM_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&doctor.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}: {doctor:?}"));
    let by_name = |n: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no {n} check in {checks}"))
    };
    assert!(
        by_name("config")["detail"]
            .as_str()
            .unwrap()
            .contains("/etc/stint/stint.toml"),
        "{checks}"
    );
    for name in ["input", "window", "screenshots"] {
        assert_eq!(by_name(name)["ok"], true, "{name}: {checks}");
    }
    assert_eq!(doctor.status.code(), Some(0), "{checks}");

    // The Wayland helpers where GNOME and KWin look for them, and valid
    // JavaScript (node parses; GNOME 45+'s file as an ES module).
    for (file, module) in [
        (
            "/usr/share/gnome-shell/extensions/stint-focus@stint.dev/extension.js",
            true,
        ),
        (
            "/usr/share/gnome-shell/extensions/stint-focus@stint.dev/metadata.json",
            false,
        ),
        ("/usr/share/stint/gnome-shell-legacy/extension.js", false),
        (
            "/usr/share/kwin/scripts/stint-focus/contents/code/main.js",
            false,
        ),
        ("/usr/share/kwin/scripts/stint-focus/metadata.json", false),
    ] {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        if file.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            continue;
        }
        let copy = home
            .path()
            .join(if module { "check.mjs" } else { "check.js" });
        std::fs::write(&copy, &text).unwrap();
        let node = Command::new("node")
            .arg("--check")
            .arg(&copy)
            .output()
            .unwrap();
        assert!(node.status.success(), "{file}: {node:?}");
    }

    // Remove keeps the managed config; purge takes it and everything else.
    let remove = apt(&["remove", "-y", "stint"], &[]);
    assert!(remove.status.success(), "{remove:?}");
    assert!(!exe.exists());
    assert!(Path::new("/etc/stint/stint.toml").exists());
    let purged = apt(&["purge", "-y", "stint"], &[]);
    assert!(purged.status.success(), "{purged:?}");
    for gone in [
        "/etc/stint",
        "/etc/xdg/autostart/stint.desktop",
        "/usr/share/applications/stint.desktop",
        "/usr/share/icons/hicolor/48x48/apps/stint.png",
        "/usr/share/gnome-shell/extensions/stint-focus@stint.dev",
        "/usr/share/kwin/scripts/stint-focus",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} left after purge");
    }

    // A parameter stint would refuse stops the install and names the key.
    let bad = apt(
        &["install", "-y", &deb],
        &[("STINT_SERVER_URL", "http://stint.example.com")],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&bad.stdout),
        String::from_utf8_lossy(&bad.stderr)
    );
    purge();
    assert!(
        !bad.status.success(),
        "installed with an http:// server URL"
    );
    assert!(
        text.contains("url") && text.contains("http://stint.example.com"),
        "{text}"
    );
}

#[test]
fn rpm_carries_the_same_files_autostart_and_config_script() {
    let out_dir = tempfile::tempdir().unwrap();
    let build = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("installers/linux/build-rpm.sh"))
        .args(["--binary", STINT, "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(build.status.success(), "build-rpm.sh: {build:?}");
    let rpm = String::from_utf8(build.stdout).unwrap().trim().to_string();
    let query = |args: &[&str]| {
        let out = Command::new("rpm").args(args).arg(&rpm).output().unwrap();
        assert!(out.status.success(), "rpm {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let files = query(&["-qlp"]);
    for f in [
        "/usr/bin/stint",
        "/usr/bin/stint-tray",
        "/etc/xdg/autostart/stint.desktop",
        "/usr/share/icons/hicolor/256x256/apps/stint.png",
    ] {
        assert!(files.lines().any(|l| l == f), "{f} missing from {files}");
    }
    let scripts = query(&["-qp", "--scripts"]);
    assert!(scripts.contains("STINT_ENROLL_TOKEN") && scripts.contains("set -- configure"));
    assert!(scripts.contains("rm -rf /etc/stint"), "{scripts}");
    assert!(query(&["-qp", "--requires"]).contains("gtk3"));
}
