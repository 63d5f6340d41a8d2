//! The project report at fleet scale: 200 people, 20 projects, a month of
//! 8-hour days (2.88 million minutes), asked for over TLS by an admin (see
//! main.rs): on the embedded default, and on PostgreSQL when
//! `STINT_BENCH_POSTGRES` names a cluster (as `scripts/postgres.sh start`
//! prints it). Cold (every hour stale, as right after upload) and with the
//! hours summed (as the hourly job leaves them).

use std::time::Instant;

use crate::helpers::{Curl, Server};
use stint_server::access::{ProjectRole, Role};
use stint_server::store::Store;

const PEOPLE: usize = 200;
const PROJECTS: usize = 20;
const DAYS: i64 = 30;
const MINUTES_A_DAY: i64 = 480;

pub fn run() {
    report(None);
    match std::env::var("STINT_BENCH_POSTGRES") {
        Ok(cluster) => report(Some(&cluster)),
        Err(_) => println!(
            "== project report on PostgreSQL: not run (set STINT_BENCH_POSTGRES to a cluster URL, as scripts/postgres.sh start prints it)"
        ),
    }
}

/// Loads the month and asks for its report, on SQLite or in a fresh
/// database of the PostgreSQL `cluster`.
fn report(cluster: Option<&str>) {
    let env = match cluster {
        None => Vec::new(),
        Some(url) => {
            let name = format!("bench_{}", uuid::Uuid::now_v7().simple());
            crate::helpers::fleet::psql(url, &format!("CREATE DATABASE {name}"));
            let (base, _) = url.rsplit_once('/').expect("a URL ending in /DATABASE");
            vec![(
                "STINT_SERVER_DATABASE".to_string(),
                format!("{base}/{name}"),
            )]
        }
    };
    let engine = if cluster.is_some() {
        "PostgreSQL"
    } else {
        "embedded SQLite"
    };
    let mut server = Server::start_env("127.0.0.1", &[], None, env.clone());
    server.stop();
    let store = match env.first() {
        None => Store::open(server.dir.path()).unwrap(),
        Some((_, url)) => {
            let captures = server.dir.path().join("captures").display().to_string();
            let objects = stint_server::store::objects::Objects::open(&captures).unwrap();
            Store::open_postgres(url, 4, objects).unwrap()
        }
    };
    let ada = store
        .add_person("ada@example.com", "Ada", "UTC", Role::Admin)
        .unwrap();
    store
        .set_password(&ada.id, "Ada has a long password")
        .unwrap();
    let projects: Vec<String> = (0..PROJECTS)
        .map(|i| {
            store
                .add_project(&format!("Project {i:02}"), Some("ACME"), None, None)
                .unwrap()
        })
        .collect();
    let first = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let t0 = first
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let loading = Instant::now();
    for p in 0..PEOPLE {
        let person = store
            .add_person(
                &format!("p{p}@example.com"),
                &format!("Person {p}"),
                "UTC",
                Role::Member,
            )
            .unwrap();
        for id in &projects {
            store
                .set_member(id, &person.id, Some(ProjectRole::Member))
                .unwrap();
        }
        let device = store.enroll_device(Some(&person.id), "pc").unwrap();
        for d in 0..DAYS {
            let minutes: Vec<stint_proto::MinuteRecord> = (0..MINUTES_A_DAY)
                .map(|i| {
                    serde_json::from_value(serde_json::json!({
                        "id": format!("p{p:03}-d{d:02}-m{i:03}"),
                        "start": stint::model::rfc3339(t0 + d * 86_400_000 + i * 60_000),
                        "utc_offset": 0, "seconds": 60, "keystrokes": (i * 37) % 120, "clicks": 3,
                        "scrolls": 0, "idle": i % 17 == 0, "session_id": "s",
                        "app": "code", "title": "main.rs",
                        "project_id": projects[(p + i as usize / 60) % PROJECTS],
                    }))
                    .unwrap()
                })
                .collect();
            let batch = stint_proto::MinuteBatch {
                sessions: vec![],
                minutes,
                idle_spans: vec![],
                private_spans: vec![],
            };
            store.upsert_batch(&device, &batch, "127.0.0.0").unwrap();
        }
    }
    let load_s = loading.elapsed().as_secs_f64();
    drop(store);
    server.restart("127.0.0.1");
    let browser = Curl::new(&server);
    assert_eq!(
        browser
            .login("ada@example.com", "Ada has a long password")
            .status,
        303
    );
    let last = first + chrono::Duration::days(DAYS - 1);
    let path = format!("/reports/projects?from={first}&to={last}&format=csv");
    let cold = Instant::now();
    let rows = browser.get(&path).body.lines().count() - 1;
    let cold_s = cold.elapsed().as_secs_f64();
    let times = crate::linux::server_times(&server, &browser, &path, 5);
    println!(
        "== project report: {PEOPLE} people x {PROJECTS} projects x {DAYS} days of {MINUTES_A_DAY} minutes ({} minutes), {engine}",
        PEOPLE as i64 * DAYS * MINUTES_A_DAY
    );
    println!("loading through the ingest upsert: {load_s:.1} s");
    println!(
        "first report, every hour stale (summing {} hours), over curl: {cold_s:.1} s; {rows} rows",
        PEOPLE as i64 * DAYS * MINUTES_A_DAY / 60
    );
    println!(
        "project report CSV with the hours summed, server time, 5 requests: median {:.0} ms, max {:.0} ms",
        times[2], times[4]
    );
}
