//! The sync benchmark itself (see main.rs); Linux-only like the test helpers it uses.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::{Agent, Server};
use stint::encode::{encode, EncodeOptions, Format, Pixels};

const MINUTES: i64 = 7 * 24 * 60; // 10,080
const CAPTURES: i64 = 7 * 24 * 6; // 1,008: one per 10-minute segment
pub(crate) const T0: i64 = 1_700_000_000_000;

const TITLES: [(&str, &str, &str); 6] = [
    (
        "Quarterly report 2026 - final draft.docx - LibreOffice Writer",
        "/usr/lib/libreoffice/program/soffice.bin",
        "soffice.bin",
    ),
    (
        "Inbox (3) - jane.doe@example.com - Mozilla Thunderbird",
        "/usr/lib/thunderbird/thunderbird",
        "thunderbird",
    ),
    (
        "stint/src/sync/mod.rs at main - Visual Studio Code",
        "/usr/share/code/code",
        "code",
    ),
    (
        "Pull request #412: Retry uploads with jittered backoff - Mozilla Firefox",
        "/usr/lib/firefox/firefox",
        "firefox",
    ),
    (
        "jane@build-01: ~/work/stint",
        "/usr/bin/gnome-terminal",
        "gnome-terminal",
    ),
    (
        "Slack | #engineering | Example Corp",
        "/usr/lib/slack/slack",
        "slack",
    ),
];

pub fn run() {
    let shot = screenshot();
    println!(
        "== backlog: {MINUTES} minutes + {CAPTURES} screenshots of {:.0} KB (1920x1080 WebP q25 of a text-filled screen)",
        shot.len() as f64 / 1000.0
    );
    drain(&shot);
    crate::ingest::run(&shot);
}

/// A text-heavy 1920x1080 frame (rows of glyph-like dots in 6x13 cells, the
/// worst case measured in docs/performance.md) encoded as the agent does.
fn screenshot() -> Vec<u8> {
    let (w, h) = (1920usize, 1080usize);
    let mut px = vec![0u8; w * h * 4];
    let mut rng = fastrand::Rng::with_seed(7);
    for row in 0..h / 13 {
        let len = rng.usize(w / 12..w / 6);
        for col in 0..len {
            for y in 2..11 {
                for x in 0..5 {
                    if rng.u8(..) < 110 {
                        let i = ((row * 13 + y) * w + col * 6 + x) * 4;
                        px[i..i + 4].copy_from_slice(&[220, 220, 220, 255]);
                    }
                }
            }
        }
    }
    let opts = EncodeOptions {
        format: Format::Webp,
        quality: 25,
        max_width: 0,
        blur: false,
    };
    encode(&px, Pixels::Rgba, w as u32, h as u32, opts)
        .unwrap()
        .data
}

/// Writes the backlog into the agent's queue as a week offline would leave it.
fn fill_backlog(agent: &Agent, shot: &[u8]) {
    let data = agent.data_dir();
    let db = rusqlite::Connection::open(data.join("queue.db")).unwrap();
    let tx = db.unchecked_transaction().unwrap();
    tx.execute(
        "INSERT INTO sessions (id, started_ms, utc_offset, os_type, os_version, kernel, hostname, os_user, agent_version, ip_addresses)
         VALUES ('bench-session', ?1, 3600, 'Linux', 'Debian 13', '6.1.0', 'build-01', 'jane', '0.1.0', '[\"192.168.1.23\"]')",
        [T0],
    )
    .unwrap();
    let mut rng = fastrand::Rng::with_seed(1);
    for i in 0..MINUTES {
        let (title, exe, app) = TITLES[(i / 17) as usize % TITLES.len()];
        let idle = rng.u8(..) < 40;
        tx.execute(
            "INSERT INTO minutes (id, start_ms, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id)
             VALUES (?1, ?2, 3600, 60, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'bench-session')",
            rusqlite::params![
                format!("0192f0aa-bench-7000-8000-{i:012}"),
                T0 + i * 60_000,
                if idle { 0 } else { rng.u32(0..400) },
                if idle { 0 } else { rng.u32(0..40) },
                rng.u32(0..20),
                idle,
                title,
                exe,
                app
            ],
        )
        .unwrap();
    }
    for i in 0..CAPTURES {
        let id = format!("0192f0aa-shot-7000-8000-{i:012}");
        let file = format!("{id}.webp");
        std::fs::write(data.join("captures").join(&file), shot).unwrap();
        tx.execute(
            "INSERT INTO captures (id, kind, taken_ms, utc_offset, monitor, width, height, bytes, format, file, session_id)
             VALUES (?1, 'screenshot', ?2, 3600, 'DP-1', 1920, 1080, ?3, 'webp', ?4, 'bench-session')",
            rusqlite::params![id, T0 + i * 600_000 + 123_456, shot.len() as i64, file],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

fn pending(db: &rusqlite::Connection) -> (i64, i64) {
    db.query_row(
        "SELECT (SELECT count(*) FROM minutes), (SELECT count(*) FROM captures)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// (user+system CPU seconds, peak RSS in MB) of a live process.
pub(crate) fn usage(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, hwm / 1024.0)
}

fn drain(shot: &[u8]) {
    let limit = std::env::var("BENCH_RATE_LIMIT").unwrap_or_else(|_| "200".into());
    let server = Server::start("127.0.0.1", &["--rate-limit", &limit]);
    let mut agent = Agent::new(
        None,
        &format!(
            "[tracking]\ninitial = false\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    agent.wait_for_log("enrolled", Duration::from_secs(20));
    agent.stop_daemon();
    fill_backlog(&agent, shot);
    let db = rusqlite::Connection::open(agent.data_dir().join("queue.db")).unwrap();

    let t = Instant::now();
    agent.start_daemon();
    let pid = agent.daemon_pid();
    let mut minutes_done = None;
    let mut last = (0.0, 0.0);
    loop {
        let (m, c) = pending(&db);
        last = match usage(pid) {
            (0.0, _) => last,
            u => u,
        };
        if m == 0 && minutes_done.is_none() {
            minutes_done = Some(t.elapsed());
        }
        if m == 0 && c == 0 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(900),
            "backlog did not drain: {m} minutes and {c} captures left\n{}",
            agent.stderr()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = t.elapsed();
    agent.stop_daemon();
    let stored = server.minutes().len();
    let images = count_files(&server.dir.path().join("captures"));
    println!("== drain of the 7-day backlog by `stint run` (process start to empty queue)");
    println!(
        "total {:.2} s (minutes empty after {:.2} s); {:.0} minutes/s, {:.0} screenshots/s, {:.1} MB/s",
        took.as_secs_f64(),
        minutes_done.unwrap_or(took).as_secs_f64(),
        MINUTES as f64 / took.as_secs_f64(),
        CAPTURES as f64 / took.as_secs_f64(),
        (CAPTURES as usize * shot.len()) as f64 / 1e6 / took.as_secs_f64()
    );
    println!(
        "agent CPU {:.2} s, peak RSS {:.1} MB, {} backoffs; server holds {stored} minutes and {images} images",
        last.0,
        last.1,
        agent.stderr().matches("sync backing off").count()
    );
}

fn count_files(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            if e.path().is_dir() {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

pub(crate) fn minute(device: usize, i: usize) -> stint_proto::MinuteRecord {
    let (title, exe, app) = TITLES[i / 17 % TITLES.len()];
    stint_proto::MinuteRecord {
        id: format!("0192f0aa-ingest-{device}-{i:012}"),
        start: stint::model::rfc3339(T0 + i as i64 * 60_000),
        utc_offset: 3600,
        seconds: 60,
        keystrokes: (i % 300) as u32,
        clicks: (i % 30) as u32,
        scrolls: (i % 7) as u32,
        synthetic_keystrokes: 0,
        synthetic_clicks: 0,
        counts_unknown: false,
        idle: i.is_multiple_of(11),
        title: Some(title.into()),
        exe_path: Some(exe.into()),
        app: Some(app.into()),
        session_id: "bench-session".into(),
        from_secs: 0,
        project_id: None,
        task_id: None,
        privacy_rule: None,
        screenshot_skipped: None,
    }
}
