//! The Linux/X11 half of the agent benchmark (see main.rs).

use std::time::{Duration, Instant};

use crate::helpers::{Agent, Desktop, Proc};
use stint::encode::{encode, EncodeOptions, Format, Pixels};

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

    let monitor = xcap::Monitor::all().unwrap().remove(0);
    let _ = monitor.capture_image(); // warm-up: the first XGetImage sets up buffers
    let mut cap = Vec::new();
    let mut text = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        text = monitor.capture_image().unwrap().into_raw();
        cap.push(t.elapsed());
    }
    println!(
        "== screenshot capture, 1920x1080: {:.1} ms median of 20",
        median_ms(&mut cap)
    );
    let mut mixed = text.clone();
    paint_photo(&mut mixed, 1920, 960);
    println!("== encode, median of 10 runs (text: four terminals full of text; mixed: the right half replaced by a photo-like image)");
    println!(
        "{:<16} {:>12} {:>10} {:>12} {:>10}",
        "format", "text ms", "text KB", "mixed ms", "mixed KB"
    );
    let cases = [
        (Format::Webp, 20u8, false),
        (Format::Webp, 25, false),
        (Format::Webp, 35, false),
        (Format::Webp, 50, false),
        (Format::Jpeg, 40, false),
        (Format::Jpeg, 60, false),
        (Format::Jpeg, 80, false),
        (Format::Webp, 25, true),
    ];
    for (format, quality, blur) in cases {
        let opts = EncodeOptions {
            format,
            quality,
            max_width: 0,
            blur,
        };
        let mut row = Vec::new();
        for frame in [&text, &mixed] {
            let (mut times, mut bytes) = (Vec::new(), 0);
            for _ in 0..10 {
                let t = Instant::now();
                bytes = encode(frame, Pixels::Rgba, 1920, 1080, opts)
                    .unwrap()
                    .data
                    .len();
                times.push(t.elapsed());
            }
            row.push((median_ms(&mut times), bytes / 1024));
        }
        let default = match (blur, quality == format.default_quality()) {
            (true, _) => " blur",
            (false, true) => " *",
            (false, false) => "",
        };
        println!(
            "{:<16} {:>12.1} {:>10} {:>12.1} {:>10}",
            format!("{} q{quality}{default}", format.name()),
            row[0].0,
            row[0].1,
            row[1].0,
            row[1].1
        );
    }
    println!("(* = default quality of that format)");
    // Sealing (`e2e_screenshots`): the device makes the thumbnail and seals
    // both, once per screenshot.
    let webp = encode(
        &text,
        Pixels::Rgba,
        1920,
        1080,
        EncodeOptions {
            format: Format::Webp,
            quality: 25,
            max_width: 0,
            blur: false,
        },
    )
    .unwrap()
    .data;
    let keys: Vec<[u8; 32]> = (1..=3u8)
        .map(|i| stint_common::seal::public_key(&[i; 32]))
        .collect();
    let (mut times, mut sealed) = (Vec::new(), 0);
    for _ in 0..10 {
        let t = Instant::now();
        sealed = stint_common::seal::seal_capture(&webp, "webp", &keys)
            .unwrap()
            .len();
        times.push(t.elapsed());
    }
    println!(
        "== sealing the WebP q25 text frame to 3 keys (thumbnail, then both sealed): {:.1} ms median of 10, {} KB sealed of {} KB",
        median_ms(&mut times),
        sealed / 1024,
        webp.len() / 1024
    );

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
    // Screenshots: 15 s segments (of 5 s minutes), so the phase holds several 1920x1080
    // captures; peak RSS is the daemon's high-water mark over its whole life.
    let mut agent = Agent::new(
        Some(&desk),
        "[tracking]\ninitial = true\n[schedule]\nminute = \"5s\"\nsegment = \"15s\"",
    );
    agent.start_daemon();
    std::thread::sleep(Duration::from_secs(3));
    let shots = measure(agent.daemon_pid(), Duration::from_secs(secs));
    let taken = agent.log().captures.len();
    agent.stop_daemon();
    println!(
        "{:<22} {:>10} {:>10} {:>12}",
        "phase", "CPU %", "RSS MB", "peak RSS MB"
    );
    let shots_phase = format!("{taken} screenshots");
    for (name, m) in [
        ("idle desktop", idle),
        ("typing ~10 keys/s", busy),
        (shots_phase.as_str(), shots),
    ] {
        println!(
            "{name:<22} {:>10.3} {:>10.1} {:>12.1}",
            m.cpu_percent, m.rss_mb, m.peak_rss_mb
        );
    }
    crate::wine::run(secs);
}

/// Overwrites columns from `x0` on with smooth colour fields plus sensor-like
/// noise: a stand-in for a photo or video on screen, deterministic so runs compare.
fn paint_photo(rgba: &mut [u8], width: usize, x0: usize) {
    let mut rng = fastrand::Rng::with_seed(7);
    for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
        let (x, y) = (i % width, i / width);
        if x < x0 {
            continue;
        }
        let (fx, fy) = (x as f32 / 97.0, y as f32 / 61.0);
        let v = (fx.sin() * fy.cos()
            + (fx * 0.31 + fy * 0.7).sin() * 0.5
            + (fx * 3.1).sin() * (fy * 2.3).sin() * 0.25)
            * 50.0
            + 128.0;
        let n = f32::from(rng.u8(0..16)) - 8.0;
        px[0] = (v + n).clamp(0.0, 255.0) as u8;
        px[1] = (v * 0.8 + 30.0 + n).clamp(0.0, 255.0) as u8;
        px[2] = (255.0 - v + n).clamp(0.0, 255.0) as u8;
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

pub struct Usage {
    pub cpu_percent: f64,
    pub rss_mb: f64,
    pub peak_rss_mb: f64,
}

/// CPU time (user + system) consumed over `span`, as % of one core, and memory.
pub fn measure(pid: u32, span: Duration) -> Usage {
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
