//! What a server may answer, including garbage: fixed cases, then seeded
//! random answers to every endpoint pushed through everything the agent does
//! with them, which must never panic.

use super::*;
use stint_proto::{EnrollResponse, HeartbeatResponse, Policy};

fn answer(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> reqwest::Response {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    reqwest::Response::from(b.body(body).unwrap())
}

async fn sort<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Outcome<T> {
    classify::<T>(Ok(r)).await
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn answers_sort_into_outcomes() {
    rt().block_on(async {
        let ok = sort::<Accepted>(answer(200, &[], br#"{"stored":1,"duplicates":0}"#.to_vec()));
        assert!(matches!(ok.await, Outcome::Ok(a) if a.stored == 1));
        let redirect = sort::<Accepted>(answer(
            307,
            &[("location", "http://evil.example/\tforged")],
            Vec::new(),
        ))
        .await;
        match redirect {
            Outcome::Retry { why, .. } => {
                assert!(why.contains("follows no redirects"), "{why}");
                assert!(why.contains("evil.example/\\tforged"), "escaped: {why}");
            }
            other => panic!("a redirect is not followed but retried: {other:?}"),
        }
        let huge = sort::<Accepted>(answer(200, &[], vec![b' '; MAX_REPLY_BYTES + 1])).await;
        assert!(matches!(huge, Outcome::Retry { ref why, .. } if why.contains("longer than")));
        let rejected = sort::<Accepted>(answer(
            400,
            &[],
            br#"{"code":"invalid","message":"bad","record_id":"m1"}"#.to_vec(),
        ))
        .await;
        assert!(
            matches!(rejected, Outcome::Rejected { record_id: Some(ref id), .. } if id == "m1")
        );
        let busy = sort::<Accepted>(answer(429, &[("retry-after", "0")], Vec::new())).await;
        assert!(matches!(busy, Outcome::Retry { after: Some(d), .. } if d.is_zero()));
    });
}

#[test]
fn escape_cuts_at_characters_and_neutralises_control_characters() {
    assert_eq!(escape("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
    let long = "é".repeat(500);
    let cut = escape(&long);
    assert_eq!(cut.chars().count(), MAX_QUOTED_CHARS + 1);
    assert!(cut.ends_with('…'));
    let controls = escape(&"\u{1}".repeat(100)); // `\u{1}`: 5 characters each
    assert_eq!(controls.chars().count(), MAX_QUOTED_CHARS / 5 * 5 + 1);
    assert_eq!(escape("Тест ✓"), "Тест ✓");
}

/// A random JSON value: objects with the protocol's own keys among random
/// ones, wrong types, huge numbers and long strings.
fn garbage(rng: &mut fastrand::Rng, depth: u32) -> serde_json::Value {
    use serde_json::Value;
    const KEYS: [&str; 26] = [
        "policy",
        "privacy_rules",
        "label",
        "title",
        "title_regex",
        "app",
        "actions",
        "private_time_max_mins_per_day",
        "e2e_screenshots",
        "sealed_to",
        "redact_title",
        "server_time",
        "device_id",
        "device_token",
        "stored",
        "duplicates",
        "code",
        "message",
        "record_id",
        "segment_secs",
        "idle_after_secs",
        "review_delay_mins",
        "screenshots",
        "blur",
        "allow_quit",
        "x",
    ];
    match rng.u8(0..10) {
        0 => Value::Null,
        1 => Value::Bool(rng.bool()),
        2 => Value::from(rng.u64(..)),
        3 => Value::from(rng.i64(..)),
        4 => Value::from(f64::from_bits(rng.u64(..))),
        5 => Value::from([0u64, 1, 59, 86_400, 86_401, u64::MAX][rng.usize(0..6)]),
        6 => {
            let max = [4, 300, 70_000][rng.usize(0..3)];
            let len = rng.usize(0..max);
            Value::String((0..len).map(|_| rng.char(..)).collect())
        }
        7 if depth < 3 => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| garbage(rng, depth + 1))
                .collect(),
        ),
        _ if depth < 4 => Value::Object(
            (0..rng.usize(0..6))
                .map(|_| {
                    (
                        KEYS[rng.usize(0..KEYS.len())].to_string(),
                        garbage(rng, depth + 1),
                    )
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// What the agent does with a heartbeat it accepted: validate the policy and,
/// only if valid, lay it over the config and take the review window and the
/// recorder's grid from it. A division by zero here once crash-looped agents.
fn follow(policy: &Policy) {
    if policy.validate().is_err() {
        return;
    }
    let base = crate::config::Config::defaults().unwrap();
    let cfg = crate::policy::apply(&base, policy);
    let window = crate::policy::review_window(&base, policy);
    let now = 1_800_000_000_000;
    let _ = window.upload_before(now);
    let _ = window.deletable(now - 5_000, now);
    let seg = cfg.schedule.segment.as_millis() as i64;
    let _ = crate::clock::align_down(now, seg);
    let _ = serde_json::to_string(policy).unwrap();
    // The rules it carries compile (it was valid) and judge a window.
    let rules = stint_proto::Rules::compile(&cfg.privacy.rules).expect("validated rules compile");
    let _ = rules.judge("Private Browsing - secret", "/usr/bin/keepassxc", "firefox");
}

#[test]
fn no_server_answer_panics_the_agent() {
    let rt = rt();
    for seed in crate::fuzz::seeds("reply", 0x5717_0001) {
        let mut rng = fastrand::Rng::with_seed(seed);
        for _ in 0..1_500 {
            const STATUSES: [u16; 18] = [
                200, 200, 200, 201, 204, 301, 307, 400, 401, 403, 404, 413, 429, 431, 500, 503,
                599, 102,
            ];
            let status = STATUSES[rng.usize(0..STATUSES.len())];
            let body = if rng.u8(0..8) == 0 {
                // Not even JSON.
                let len = rng.usize(0..2_000);
                (0..len).map(|_| rng.u8(..)).collect()
            } else {
                serde_json::to_vec(&garbage(&mut rng, 0)).unwrap()
            };
            let retry_after = rng.u64(..).to_string();
            let headers = [
                ("retry-after", retry_after.as_str()),
                ("location", "http://x/"),
            ];
            let h = &headers[..rng.usize(0..3)];
            let (attempt, unit) = (rng.u32(..), rng.f64());
            rt.block_on(async {
                if let Outcome::Ok(r) =
                    sort::<HeartbeatResponse>(answer(status, h, body.clone())).await
                {
                    follow(&r.policy);
                    if let Some(keys) = &r.sealed_to {
                        let _ = stint_common::seal::public_keys(keys);
                    }
                }
                if let Outcome::Ok(r) =
                    sort::<EnrollResponse>(answer(status, h, body.clone())).await
                {
                    let _ = (r.device_id.len(), r.device_token.len());
                }
                match sort::<Accepted>(answer(status, h, body)).await {
                    Outcome::Retry { why, after } => {
                        let _ = super::super::backoff::delay(attempt, after, unit);
                        assert!(why.chars().count() < 400, "{why}");
                    }
                    Outcome::Rejected { why, .. }
                    | Outcome::Unauthorized(why)
                    | Outcome::TooLarge(why) => assert!(!why.contains('\n'), "{why}"),
                    Outcome::Ok(_) => {}
                }
            });
        }
    }
}

#[test]
fn tokens_that_cannot_be_a_header_are_not_used() {
    for (token, usable) in [
        ("stn_dev_0123abcd", true),
        ("stn_dev_01\r\nX-Evil: 1", false),
        ("with space", false),
        ("", false),
        ("ünicode", false),
    ] {
        assert_eq!(
            super::super::creds::usable_token(token),
            usable,
            "{token:?}"
        );
    }
}
