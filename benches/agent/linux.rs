//! The Linux/X11 half of the agent benchmark (see main.rs).

use std::time::{Duration, Instant};

use crate::helpers::{Agent, Desktop, Proc};
use stint::encode::{encode, EncodeOptions, Pixels};

pub fn run() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut desk = Desktop::start(1920, 1080);
    let _text = fill_screen_with_text(&desk);
    let typing_target = desk.xterm("stint bench typing target");
    // Set before any other thread of this process reads the environment.
    std::env::set_var("DISPLAY", &desk.display);

    println!("== screenshot capture + encode, 1920x1080, text-heavy desktop (20 runs each)");
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>10}",
        "quality", "capture ms", "encode ms", "total ms", "KB"
    );
    let monitor = xcap::Monitor::all().unwrap().remove(0);
    let _ = monitor.capture_image(); // warm-up: the first XGetImage sets up buffers
    for quality in [40u8, 50, 60, 70, 80] {
        let (mut cap, mut enc, mut bytes) = (Vec::new(), Vec::new(), 0);
        for _ in 0..20 {
            let t = Instant::now();
            let img = monitor.capture_image().unwrap();
            cap.push(t.elapsed());
            let t = Instant::now();
            let (w, h) = img.dimensions();
            let out = encode(
                img.as_raw(),
                Pixels::Rgba,
                w,
                h,
                EncodeOptions {
                    quality,
                    max_width: 0,
                },
            )
            .unwrap();
            enc.push(t.elapsed());
            bytes = out.data.len();
        }
        let (c, e) = (median_ms(&mut cap), median_ms(&mut enc));
        println!(
            "{quality:<10} {c:>12.1} {e:>12.1} {:>12.1} {:>10}",
            c + e,
            bytes / 1024
        );
    }

    println!(
        "\n== stint run, default schedule (60 s minutes, 10 min segments), {secs} s per phase"
    );
    let mut agent = Agent::new(Some(&desk), "[tracking]\ninitial = true");
    agent.start_daemon();
    std::thread::sleep(Duration::from_secs(3)); // past start-up probing
    let pid = agent.daemon_pid();
    let idle = measure(pid, Duration::from_secs(secs));
    desk.focus(&typing_target);
    // ~10 keystrokes a second, a fast typist's sustained rate.
    let text: String = "the quick brown fox jumps over the lazy dog ".repeat(30);
    let n = (secs * 10) as usize;
    let typing = Proc(
        desk.command("xdotool")
            .args(["type", "--delay", "100", &text[..n.min(text.len())]])
            .spawn()
            .unwrap(),
    );
    let busy = measure(pid, Duration::from_secs(secs));
    drop(typing);
    agent.stop_daemon();
    println!(
        "{:<22} {:>10} {:>10} {:>12}",
        "phase", "CPU %", "RSS MB", "peak RSS MB"
    );
    for (name, m) in [("idle desktop", idle), ("typing ~10 keys/s", busy)] {
        println!(
            "{name:<22} {:>10.3} {:>10.1} {:>12.1}",
            m.cpu_percent, m.rss_mb, m.peak_rss_mb
        );
    }
}

fn median_ms(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// Terminals full of text: closer to a real screen than an empty desktop, which
/// would flatter the JPEG sizes.
fn fill_screen_with_text(desk: &Desktop) -> Vec<Proc> {
    let geometries = [
        "118x33+0+0",
        "118x33+960+0",
        "118x33+0+540",
        "118x33+960+540",
    ];
    let sources = [
        "cat /usr/share/common-licenses/GPL-3",
        "ls -la /usr/bin",
        "cat /usr/share/common-licenses/Apache-2.0",
        "ps auxww; dpkg -l",
    ];
    let procs: Vec<Proc> = geometries
        .iter()
        .zip(sources)
        .map(|(g, cmd)| {
            Proc(
                desk.command("xterm")
                    .args([
                        "-geometry",
                        g,
                        "-e",
                        "sh",
                        "-c",
                        &format!("{cmd}; sleep 3600"),
                    ])
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(5)); // until the terminals stop scrolling
    procs
}

struct Usage {
    cpu_percent: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
}

/// CPU time (user + system) consumed over `span`, as % of one core, and memory.
fn measure(pid: u32, span: Duration) -> Usage {
    let ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Fields after the parenthesised command name; utime and stime are 14 and 15.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let (t0, c0) = (Instant::now(), ticks());
    std::thread::sleep(span);
    let (c1, wall) = (ticks(), t0.elapsed().as_secs_f64());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Usage {
        cpu_percent: (c1 - c0) as f64 / hz / wall * 100.0,
        rss_mb: kb("VmRSS:") / 1024.0,
        peak_rss_mb: kb("VmHWM:") / 1024.0,
    }
}
