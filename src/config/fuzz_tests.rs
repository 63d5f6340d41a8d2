//! Seeded garbage through the config loader: whatever a file holds, loading
//! it never panics, and a refusal names the file.

use super::*;

/// Every table and key the loader knows, with some it does not.
const TABLES: [&str; 8] = [
    "schedule", "storage", "capture", "tracking", "privacy", "server", "bogus", "",
];
const KEYS: [&str; 27] = [
    "idle_decision",
    "minute",
    "segment",
    "idle_after",
    "data_dir",
    "keep_logs",
    "screenshots",
    "webcam",
    "format",
    "quality",
    "max_width",
    "timeout",
    "initial",
    "truncate_ip",
    "blur",
    "review_delay",
    "url",
    "enroll_token",
    "ca_file",
    "pin_sha256",
    "proxy",
    "heartbeat",
    "batch",
    "0",
    "ünï",
    "a.b",
    "",
];

fn value(rng: &mut fastrand::Rng) -> String {
    let text = |rng: &mut fastrand::Rng| -> String {
        let len = rng.usize(0..40);
        (0..len)
            .map(|_| match rng.u8(0..6) {
                0 => char::from_u32(rng.u32(0..0x11_0000)).unwrap_or('?'),
                1 => ['s', 'm', 'h', 'd', ' ', '-'][rng.usize(0..6)],
                _ => char::from(rng.u8(b'0'..=b'9')),
            })
            .collect()
    };
    match rng.u8(0..10) {
        0 => rng.bool().to_string(),
        1 => rng.i64(..).to_string(),
        2 => format!("{}", rng.f64() * 1e300),
        3 => format!("{:?}", text(rng)),
        4 => format!(
            "\"{}{}\"",
            rng.u64(..),
            ["s", "ms", "m", "h", "d", "x", ""][rng.usize(0..7)]
        ),
        5 => "\"https://[::1]:99999/\"".into(),
        6 => "[1, \"a\", true]".into(),
        7 => "{ x = 1 }".into(),
        8 => "\"\"".into(),
        _ => format!("\"{}\"", "9".repeat(rng.usize(1..400))),
    }
}

fn document(rng: &mut fastrand::Rng) -> String {
    let mut doc = String::new();
    for _ in 0..rng.usize(0..6) {
        let table = TABLES[rng.usize(0..TABLES.len())];
        if !table.is_empty() {
            doc.push_str(&format!("[{table}]\n"));
        }
        for _ in 0..rng.usize(0..5) {
            let key = KEYS[rng.usize(0..KEYS.len())];
            doc.push_str(&format!("{key:?} = {}\n", value(rng)));
        }
    }
    if rng.u8(0..10) == 0 {
        // Not even TOML: random bytes, read as the loader reads a file.
        let bytes: Vec<u8> = (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect();
        doc = String::from_utf8_lossy(&bytes).into_owned();
    }
    doc
}

#[test]
fn no_config_file_panics_the_loader_and_refusals_name_the_file() {
    let path = PathBuf::from("/etc/stint/fuzzed.toml");
    for seed in crate::fuzz::seeds("config", 0x5717_c0f1) {
        let mut rng = fastrand::Rng::with_seed(seed);
        for _ in 0..3_000 {
            let doc = document(&mut rng);
            let mut c = Config::defaults().unwrap();
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                c.apply_str(&doc, Source::File(path.clone()))
            }));
            match got {
                Err(_) => panic!("seed {seed}: the loader panicked on:\n{doc}"),
                Ok(Err(e)) => {
                    let text = e.to_string();
                    assert!(
                        text.contains("fuzzed.toml"),
                        "seed {seed}: {text:?} names no file, for:\n{doc}"
                    );
                }
                Ok(Ok(())) => {}
            }
        }
    }
}
