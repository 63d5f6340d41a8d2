//! The Linux half of the diary benchmark (see main.rs).

use std::process::Command;
use std::time::Instant;

use crate::helpers::{Curl, Server};
use stint::encode::{encode, EncodeOptions, Format, Pixels};
use stint_server::access::Role;
use stint_server::store::Store;

/// A 1920x1080 screen of text-like stripes, as the agent would send it.
fn screenshot(seed: u32) -> Vec<u8> {
    let (w, h) = (1920u32, 1080u32);
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let ink = (y % 16 < 9) && !(x / 7 + y / 16 + seed).is_multiple_of(5) && x % 960 < 900;
            if ink {
                [25, 25, 25]
            } else {
                [248, 248, 248]
            }
        })
        .collect();
    let opts = EncodeOptions {
        format: Format::Webp,
        quality: 25,
        max_width: 0,
        blur: false,
    };
    encode(&rgb, Pixels::Rgb, w, h, opts).unwrap().data
}

pub fn run() {
    let mut server = Server::start("127.0.0.1", &[]);
    server.stop();
    let store = Store::open(server.dir.path()).unwrap();
    let max = store
        .add_person("max@example.com", "Max", "UTC", Role::Member)
        .unwrap();
    store
        .set_password(&max.id, "Max has a long password")
        .unwrap();
    let device = store.enroll_device(Some(&max.id), "pc").unwrap();
    let day = "2026-11-27";
    let start = chrono::DateTime::parse_from_rfc3339(&format!("{day}T09:00:00Z"))
        .unwrap()
        .timestamp_millis();
    let apps = ["xterm", "firefox", "code", "slack"];
    let minutes: Vec<stint_proto::MinuteRecord> = (0..480)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "id": format!("0190c0de-0000-7000-8000-{i:012}"),
                "start": stint::model::rfc3339(start + i * 60_000),
                "utc_offset": 0, "seconds": 60, "keystrokes": (i * 37) % 120, "clicks": (i * 11) % 30,
                "scrolls": 2, "idle": i % 17 == 0, "session_id": "s",
                "app": apps[(i / 7) as usize % 4], "title": format!("{} window {}", apps[(i / 7) as usize % 4], i / 30)
            }))
            .unwrap()
        })
        .collect();
    for chunk in minutes.chunks(100) {
        let batch = stint_proto::MinuteBatch {
            sessions: vec![],
            minutes: chunk.to_vec(),
            idle_spans: vec![],
            private_spans: vec![],
        };
        store.upsert_batch(&device, &batch, "127.0.0.0").unwrap();
    }
    let t = Instant::now();
    let mut image_bytes = 0;
    for seg in 0..48 {
        let data = screenshot(seg);
        image_bytes += data.len();
        let meta: stint_proto::CaptureMeta = serde_json::from_value(serde_json::json!({
            "kind": "screenshot", "taken_at": stint::model::rfc3339(start + seg as i64 * 600_000 + 123_000),
            "utc_offset": 0, "monitor": "M", "width": 1920, "height": 1080, "format": "webp", "session_id": "s"
        }))
        .unwrap();
        let id = format!("0190c0de-0000-7000-9000-{seg:012}");
        store
            .upsert_capture(&device, &id, &meta, &data, "127.0.0.0")
            .unwrap();
    }
    let per_upload = t.elapsed().as_secs_f64() * 1000.0 / 48.0;
    drop(store);
    let thumbs: Vec<u64> = walk(&server.dir.path().join("captures"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".thumb.webp"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    server.restart("127.0.0.1");

    let browser = Curl::new(&server);
    assert_eq!(
        browser
            .login("max@example.com", "Max has a long password")
            .status,
        303
    );
    let path = format!("/diary/{}/{day}", max.id);
    let times = server_times(&server, &browser, &path, 30);
    let body = browser.get(&path).body;
    println!(
        "== web diary, one person's 8-hour day: 480 minutes, 48 segments of 1920x1080 screenshots"
    );
    println!(
        "diary page, server time (request sent to first byte), 30 requests: median {:.1} ms, p90 {:.1} ms, max {:.1} ms; page {} KB",
        times[15],
        times[27],
        times[29],
        body.len() / 1024
    );
    println!(
        "upload with thumbnail (in-process store): {per_upload:.1} ms per screenshot of {} KB on average",
        image_bytes / 48 / 1024
    );
    println!(
        "thumbnails: {} of them, {:.1} KB average, {:.1} KB largest",
        thumbs.len(),
        thumbs.iter().sum::<u64>() as f64 / thumbs.len().max(1) as f64 / 1024.0,
        *thumbs.iter().max().unwrap_or(&0) as f64 / 1024.0
    );
}

/// The server's time for `n` GETs of `path` (request sent to first byte
/// back, curl over TLS on loopback with `browser`'s cookies), in ms, sorted.
pub(crate) fn server_times(server: &Server, browser: &Curl, path: &str, n: usize) -> Vec<f64> {
    let mut times = Vec::new();
    for _ in 0..n {
        let out = Command::new("curl")
            .args([
                "--silent",
                "--output",
                "/dev/null",
                "--write-out",
                "%{time_starttransfer} %{time_pretransfer}",
                "--cacert",
            ])
            .arg(server.ca())
            .arg("-b")
            .arg(browser.jar.path())
            .arg(format!("https://localhost:{}{path}", server.port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut f = text.split_whitespace().map(|v| v.parse::<f64>().unwrap());
        let (ttfb, pre) = (f.next().unwrap(), f.next().unwrap());
        times.push((ttfb - pre) * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .flat_map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        vec![e.path()]
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}
