//! The Windows half of the agent benchmark, under Wine: stint.exe's CPU and
//! memory idle and while typing ~10 keys/s into Notepad, with the low-level
//! hooks against the polling fallback (`STINT_INPUT_BACKEND=poll`), and how
//! many of the typed keys each counted. Wine's figures are indicative: its
//! wineserver relays every hook call, which Windows does in the kernel. The
//! ratio between the two backends is the point.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{windows_path, Desktop, Proc, Wine};
use crate::linux::{measure, Usage};

/// The release stint.exe if one was built, else the debug one the tests use.
fn exe() -> Option<PathBuf> {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/x86_64-pc-windows-gnu");
    ["release", "debug"]
        .iter()
        .map(|p| target.join(p).join("stint.exe"))
        .find(|p| p.exists())
}

pub fn run(secs: u64) {
    let Some(exe) = exe() else {
        println!(
            "\n== stint.exe under Wine: skipped, no stint.exe (cargo build --release --target x86_64-pc-windows-gnu --bin stint)"
        );
        return;
    };
    println!(
        "\n== stint.exe under Wine ({}), 10 s minutes, no screenshots, {secs} s per phase",
        exe.display()
    );
    println!(
        "{:<10} {:<20} {:>9} {:>9} {:>15} {:>16}",
        "backend", "phase", "CPU %", "RSS MB", "wineserver CPU %", "keys counted"
    );
    for (backend, env) in [("hooks", None), ("polling", Some("poll"))] {
        let desk = Desktop::start(1280, 900);
        let mut wine = Wine::boot(&desk);
        let window = wine.virtual_desktop(1024, 768, &["notepad"]);
        let data = wine.prefix.path().join("data");
        let config = wine.prefix.path().join("stint.toml");
        std::fs::write(
            &config,
            format!(
                "[storage]\ndata_dir = '{}'\n[schedule]\nminute = \"10s\"\n[capture]\nscreenshots = false\n[tracking]\ninitial = true\n",
                windows_path(&data)
            ),
        )
        .unwrap();
        let (exe_arg, config_arg) = (windows_path(&exe), windows_path(&config));
        let mut cmd = wine.command(&[&exe_arg, "--config", &config_arg, "run", "--no-tray"]);
        if let Some(v) = env {
            cmd.env(stint::sampler::input::BACKEND_ENV, v);
        }
        let _daemon = Proc(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_secs(10)); // past start-up
        let (Some(pid), Some(server)) = (pid_of("stint.exe"), pid_of("wineserver")) else {
            println!("{backend:<10} could not find the stint.exe or wineserver process");
            continue;
        };
        desk.xdotool(&["windowactivate", "--sync", &window]);
        desk.xdotool(&["mousemove", "--window", &window, "300", "300"]);
        let idle = measure_both(pid, server, secs);
        let text: String = "the quick brown fox jumps over the lazy dog ".repeat(40);
        let typed = &text[..((secs * 10) as usize).min(text.len())];
        let typing = Proc(
            desk.command("xdotool")
                .args(["type", "--delay", "100", typed])
                .spawn()
                .unwrap(),
        );
        let busy = measure_both(pid, server, secs);
        drop(typing);
        std::thread::sleep(Duration::from_secs(12)); // the last minute closes
        let log = wine.run(&[&exe_arg, "--config", &config_arg, "log", "--json"]);
        let counted: u64 = serde_json::from_slice::<serde_json::Value>(&log.stdout)
            .ok()
            .and_then(|v| {
                v["minutes"].as_array().map(|m| {
                    m.iter()
                        .map(|m| m["keystrokes"].as_u64().unwrap_or(0))
                        .sum()
                })
            })
            .unwrap_or(0);
        for (phase, (m, s), keys) in [
            ("idle desktop", idle, String::new()),
            (
                "typing ~10 keys/s",
                busy,
                format!("{counted} of {}", typed.len()),
            ),
        ] {
            println!(
                "{backend:<10} {phase:<20} {:>9.3} {:>9.1} {:>15.3} {keys:>16}",
                m.cpu_percent, m.rss_mb, s.cpu_percent
            );
        }
    }
}

/// stint.exe's and wineserver's usage over the same span.
fn measure_both(pid: u32, server: u32, secs: u64) -> (Usage, Usage) {
    let s = std::thread::spawn(move || measure(server, Duration::from_secs(secs)));
    let m = measure(pid, Duration::from_secs(secs));
    (m, s.join().unwrap())
}

/// The newest process whose command line contains `needle`.
fn pid_of(needle: &str) -> Option<u32> {
    let out = Command::new("pgrep")
        .args(["-n", "-f", needle])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
