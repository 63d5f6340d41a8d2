//! Webhooks from a real server to a receiver on loopback: an event is
//! delivered signed, a 500 is tried again with the same delivery id, the
//! receiver checks each signature with the hook's secret and refuses a
//! replayed delivery, and the admin page lists how each try went.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::*;

/// One request as the receiver read it.
#[derive(Debug, Clone)]
struct Received {
    delivery: String,
    timestamp: i64,
    signature: String,
    body: String,
}

/// A receiver on loopback answering `answers` in turn (then 200), and the
/// requests it got.
fn receiver(answers: Vec<u16>) -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut answers = answers.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut len, mut r) = (
                0usize,
                Received {
                    delivery: String::new(),
                    timestamp: 0,
                    signature: String::new(),
                    body: String::new(),
                },
            );
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap_or((&line, ""));
                let v = v.trim().to_string();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.parse().unwrap_or(0),
                    "x-stint-delivery" => r.delivery = v,
                    "x-stint-timestamp" => r.timestamp = v.parse().unwrap_or(0),
                    "x-stint-signature" => r.signature = v,
                    _ => {}
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            r.body = String::from_utf8(body).unwrap();
            let code = answers.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = tx.send(r);
        }
    });
    (port, rx)
}

/// What a receiver does with a delivery: the signature must be the hook's,
/// the timestamp within five minutes of its clock, the delivery id new.
fn accept(
    secret: &str,
    r: &Received,
    now_s: i64,
    seen: &mut HashSet<String>,
) -> Result<(), &'static str> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let hex = r
        .signature
        .strip_prefix("sha256=")
        .ok_or("no sha256= signature")?;
    let sig: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    ring::hmac::verify(&key, format!("{}.{}", r.timestamp, r.body).as_bytes(), &sig)
        .map_err(|_| "bad signature")?;
    if (now_s - r.timestamp).abs() > 300 {
        return Err("too old");
    }
    if !seen.insert(r.delivery.clone()) {
        return Err("replayed");
    }
    Ok(())
}

#[test]
fn an_event_arrives_signed_a_500_is_retried_and_a_replay_refused() {
    let (port, got) = receiver(vec![500]);
    let server = Server::start("127.0.0.1", &[]);
    let hook: serde_json::Value = serde_json::from_str(&server.admin(&[
        "webhook",
        "add",
        &format!("http://127.0.0.1:{port}/stint"),
    ]))
    .unwrap();
    let secret = hook["secret"].as_str().unwrap().to_string();
    let refused = server
        .admin_command()
        .args(["webhook", "add", "http://hooks.example.com/x"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("expected https://"));

    add_user(&server, "max@example.com", "Max", "member");
    let first = got
        .recv_timeout(Duration::from_secs(20))
        .expect("a first try");
    let second = got
        .recv_timeout(Duration::from_secs(20))
        .expect("a try after the 500");
    let now = |_: ()| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let mut seen = HashSet::new();
    assert_eq!(
        first.delivery, second.delivery,
        "a retry keeps its delivery id"
    );
    assert_eq!(first.body, second.body);
    let event: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(event["event"], "person.created");
    assert_eq!(event["data"]["email"], "max@example.com");
    assert_eq!(
        accept(&secret, &first, now(()), &mut HashSet::new()),
        Ok(())
    );
    assert_eq!(accept(&secret, &second, now(()), &mut seen), Ok(()));
    assert_eq!(
        accept(&secret, &second, now(()), &mut seen),
        Err("replayed")
    );
    assert_eq!(
        accept("whsec_other", &second, now(()), &mut HashSet::new()),
        Err("bad signature")
    );
    let forged = Received {
        body: second.body.replace("max@", "eve@"),
        ..second.clone()
    };
    assert_eq!(
        accept(&secret, &forged, now(()), &mut HashSet::new()),
        Err("bad signature")
    );
    assert_eq!(
        accept(&secret, &second, now(()) + 3600, &mut HashSet::new()),
        Err("too old")
    );

    // The admin page and the CLI say how each delivery went.
    let listed = wait_for(
        "the delivery noted as delivered",
        Duration::from_secs(10),
        || {
            let d: serde_json::Value =
                serde_json::from_str(&server.admin(&["webhook", "deliveries"])).ok()?;
            (d[0]["state"] == "delivered").then_some(d)
        },
    );
    assert_eq!(listed[0]["attempts"], 2, "{listed}");
    add_user(&server, "ada@example.com", "Ada", "admin");
    let admin = Curl::new(&server);
    admin.login("ada@example.com", "Ada has a long password");
    let page = admin.get("/admin").body;
    assert!(
        page.contains("person.created") && page.contains("delivered"),
        "{page}"
    );
}
