//! Server ingest on each back end, one after the other with the same client:
//! (a) embedded SQLite + directory, (b) PostgreSQL + SeaweedFS S3 with one
//! replica, (c) the same with two replicas; then `stint-server migrate` from
//! (a)'s deployment into a fresh PostgreSQL + S3.

use std::time::Instant;

use crate::helpers::fleet::{psql, Engines, OwnEngines};
use crate::helpers::Server;
use crate::linux::{minute, usage, T0};

const NO_LIMIT: [&str; 2] = ["--rate-limit", "1000000"];

pub fn run(shot: &[u8]) {
    let embedded = Server::start_env("127.0.0.1", &NO_LIMIT, None, Vec::new());
    let a = ingest("(a) SQLite + directory", &[&embedded], shot);
    let Some(own) = OwnEngines::start() else {
        println!("PostgreSQL + S3 rows NOT RUN: scripts/postgres.sh or scripts/s3.sh could not start (see above)");
        return;
    };
    let b = {
        let one = Server::start_env("127.0.0.1", &NO_LIMIT, None, own.engines.fresh());
        ingest("(b) PostgreSQL + S3, one replica", &[&one], shot)
    };
    let c = {
        let env = own.engines.fresh();
        let first = Server::start_env("127.0.0.1", &NO_LIMIT, None, env.clone());
        let (cert, key) = (
            first.dir.path().join("server.pem"),
            first.dir.path().join("server.key"),
        );
        let args = [
            NO_LIMIT[0],
            NO_LIMIT[1],
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ];
        let second = Server::start_env("127.0.0.1", &args, None, env);
        ingest(
            "(c) PostgreSQL + S3, two replicas",
            &[&first, &second],
            shot,
        )
    };
    println!("== side by side (records/s, captures/s)");
    println!("| back end | minute records/s | captures/s |");
    println!("|---|---|---|");
    for (label, (m, c)) in [
        ("(a) SQLite + directory", a),
        ("(b) PostgreSQL + S3, 1 replica", b),
        ("(c) PostgreSQL + S3, 2 replicas", c),
    ] {
        println!("| {label} | {m:.0} | {c:.0} |");
    }
    println!(
        "two replicas / one: {:.2}x on minutes, {:.2}x on captures",
        c.0 / b.0,
        c.1 / b.1
    );
    migrate(&embedded, &own.engines);
}

/// Copies (a)'s deployment (its 50,000 minutes and 1,000 captures) into a
/// fresh PostgreSQL database and bucket prefix, verification included.
fn migrate(from: &Server, engines: &Engines) {
    let env = engines.fresh();
    let value = |k: &str| env.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let t = Instant::now();
    let out = from
        .admin_command()
        .args(["migrate", "--to-database", &value("STINT_SERVER_DATABASE")])
        .args(["--to-objects", &value("STINT_SERVER_OBJECTS")])
        .envs(env.iter().filter(|(k, _)| k.starts_with("AWS_")).cloned())
        .output()
        .unwrap();
    let took = t.elapsed().as_secs_f64();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "migrate: {out:?}");
    let count = |what: &str| -> u64 {
        said.lines()
            .find(|l| l.starts_with(what))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    let (minutes, images) = (count("minutes"), count("images"));
    println!(
        "== stint-server migrate, (a)'s deployment into PostgreSQL + S3, verification included"
    );
    println!(
        "{minutes} minutes and {images} images in {took:.2} s = {:.0} minutes/s, {:.0} images/s overall",
        minutes as f64 / took,
        images as f64 / took
    );
    // What a row costs on disk, tables and indexes together, for sizing.
    let db = value("STINT_SERVER_DATABASE");
    for table in ["minutes", "captures"] {
        let per_row = psql(
            &db,
            &format!(
                "SELECT pg_total_relation_size('{table}') / greatest(count(*), 1) FROM {table}"
            ),
        );
        println!("PostgreSQL bytes per {table} row (table + indexes): {per_row}");
    }
}

const DEVICES: usize = 4;
const BATCHES_PER_DEVICE: usize = 25;
const BATCH: usize = 500;
const INGEST_CAPTURES: usize = 1_000;
const IN_FLIGHT: usize = 8;

/// Several devices uploading at once straight over HTTPS, as a server sees a
/// fleet, spread over `servers` (replicas of one deployment); returns
/// (minute records/s, captures/s).
fn ingest(label: &str, servers: &[&Server], shot: &[u8]) -> (f64, f64) {
    let server = servers[0];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = stint::sync::build_client(&stint::config::Server {
        ca_file: Some(server.ca()),
        ..Default::default()
    })
    .unwrap();
    let bases: Vec<String> = servers
        .iter()
        .map(|s| format!("https://localhost:{}/api/v1", s.port))
        .collect();
    let base = bases[0].clone();
    let tokens: Vec<String> = (0..DEVICES)
        .map(|_| server.admin(&["token", "create"]).trim().to_string())
        .collect();
    let pids: Vec<u32> = servers.iter().map(|s| s.pid()).collect();
    let cpu = move || {
        (
            pids.iter().map(|p| usage(*p).0).sum::<f64>(),
            postgres_cpu(),
        )
    };
    let cpu_before = cpu();
    let cpu_inside = cpu.clone();
    let shot = shot.to_vec();
    let label = label.to_string();
    let rates = rt.block_on(async move {
        let mut devices = Vec::new();
        for (d, token) in tokens.iter().enumerate() {
            let req = stint_proto::EnrollRequest {
                enroll_token: token.clone(),
                hostname: format!("bench-{d}"),
                os_type: "Linux".into(),
                os_version: "Debian 13".into(),
                os_user: "bench".into(),
                agent_version: "0.1.0".into(),
                previous_device_id: None,
            };
            let r: stint_proto::EnrollResponse = http
                .post(format!("{base}/enroll"))
                .json(&req)
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .json()
                .await
                .unwrap();
            devices.push(r.device_token);
        }

        let t = Instant::now();
        let cpu_at_start = cpu_inside();
        let mut set = tokio::task::JoinSet::new();
        for (d, token) in devices.iter().enumerate() {
            let (http, base, token) = (http.clone(), bases[d % bases.len()].clone(), token.clone());
            set.spawn(async move {
                for b in 0..BATCHES_PER_DEVICE {
                    let minutes = (0..BATCH)
                        .map(|i| minute(d, b * BATCH + i))
                        .collect::<Vec<_>>();
                    let body = stint_proto::MinuteBatch {
                        sessions: Vec::new(),
                        minutes,
                        idle_spans: Vec::new(),
                        private_spans: Vec::new(),
                    };
                    let a: stint_proto::Accepted = http
                        .post(format!("{base}/minutes"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .error_for_status()
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(a.stored, BATCH as u64);
                }
            });
        }
        set.join_all().await;
        let records = DEVICES * BATCHES_PER_DEVICE * BATCH;
        let took = t.elapsed().as_secs_f64();
        println!("== stint-server ingest, {label}: {DEVICES} devices at once over HTTPS, client on the same machine");
        let minutes_rate = records as f64 / took;
        let cpu_now = cpu_inside();
        println!(
            "CPU during the minutes: stint-server {:.2} s, PostgreSQL {:.2} s, of {:.2} s x 2 cores",
            cpu_now.0 - cpu_at_start.0,
            cpu_now.1 - cpu_at_start.1,
            took
        );
        println!(
            "minute records: {records} in {took:.2} s = {minutes_rate:.0} records/s (batches of {BATCH})"
        );

        let t = Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for w in 0..IN_FLIGHT {
            let (http, base, token, next, shot) = (
                http.clone(),
                bases[w % DEVICES % bases.len()].clone(),
                devices[w % DEVICES].clone(),
                next.clone(),
                shot.clone(),
            );
            set.spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= INGEST_CAPTURES {
                        break;
                    }
                    let meta = stint_proto::CaptureMeta {
                        kind: stint_proto::CaptureKind::Screenshot,
                        taken_at: stint::model::rfc3339(T0 + i as i64 * 600_000),
                        utc_offset: 0,
                        monitor: "DP-1".into(),
                        width: 1920,
                        height: 1080,
                        format: "webp".into(),
                        session_id: "bench-session".into(),
                        sealed: false,
                    };
                    http.put(format!("{base}/captures/0192f0aa-cap-{w}-{i:08}"))
                        .bearer_auth(&token)
                        .query(&meta)
                        .body(shot.clone())
                        .send()
                        .await
                        .unwrap()
                        .error_for_status()
                        .unwrap();
                }
            });
        }
        set.join_all().await;
        let took = t.elapsed().as_secs_f64();
        let captures_rate = INGEST_CAPTURES as f64 / took;
        println!(
            "captures: {INGEST_CAPTURES} of {:.0} KB in {took:.2} s = {captures_rate:.0} captures/s ({IN_FLIGHT} in flight)",
            shot.len() as f64 / 1000.0,
        );
        (minutes_rate, captures_rate)
    });
    let after = cpu();
    println!(
        "CPU during the whole ingest: stint-server (all replicas) {:.2} s, PostgreSQL {:.2} s",
        after.0 - cpu_before.0,
        after.1 - cpu_before.1
    );
    rates
}

/// CPU seconds used so far by every PostgreSQL process on the machine (the
/// benchmark's own cluster is the only one running).
fn postgres_cpu() -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| stat.contains("(postgres)"))
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / tick)
        })
        .sum()
}
