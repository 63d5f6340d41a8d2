//! The project report at fleet scale: 200 people, 20 projects, a month of
//! 8-hour days (2.88 million minutes), on the embedded default, asked for
//! over TLS by an admin (see main.rs).

use std::time::Instant;

use crate::helpers::{Curl, Server};
use stint_server::access::{ProjectRole, Role};
use stint_server::store::Store;

const PEOPLE: usize = 200;
const PROJECTS: usize = 20;
const DAYS: i64 = 30;
const MINUTES_A_DAY: i64 = 480;

pub fn run() {
    let mut server = Server::start("127.0.0.1", &[]);
    server.stop();
    let store = Store::open(server.dir.path()).unwrap();
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
    let times = crate::linux::server_times(&server, &browser, &path, 5);
    let rows = browser.get(&path).body.lines().count() - 1;
    println!(
        "== project report: {PEOPLE} people x {PROJECTS} projects x {DAYS} days of {MINUTES_A_DAY} minutes ({} minutes), embedded SQLite",
        PEOPLE as i64 * DAYS * MINUTES_A_DAY
    );
    println!("loading through the ingest upsert: {load_s:.1} s");
    println!(
        "project report CSV, server time, 5 requests: median {:.0} ms, max {:.0} ms; {rows} rows",
        times[2], times[4]
    );
}
