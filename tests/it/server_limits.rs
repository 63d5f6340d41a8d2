//! The server under connections that say nothing, stall, or break off:
//! bounded by timeouts and a connection ceiling, and still serving agents;
//! and what clients send never reaches the log raw.

use std::io::{Read, Write};
use std::process::Command;

use crate::helpers::*;

/// An answer from the server to a request made with curl, or curl's failure.
fn curl_heartbeat(server: &Server, max_secs: u32) -> Result<String, String> {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            &max_secs.to_string(),
        ])
        .arg("--cacert")
        .arg(server.ca())
        .args(["-X", "POST", "--data", "{}"])
        .arg(format!(
            "https://localhost:{}/api/v1/heartbeat",
            server.port
        ))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// 1,009 idle connections under `ulimit -n 1024` once made the server refuse
/// everyone. 1,100 that complete the TLS handshake and then say nothing (so
/// the handshake timeout does not free them, and the request timeout is set
/// far away) must not keep a real request from being answered.
#[test]
fn idle_connections_do_not_lock_out_agents() {
    let server = Server::start_with_nofile("127.0.0.1", &["--idle-timeout", "120"], Some(1024));
    let idle: Vec<_> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..275)
                        .filter_map(|_| {
                            let mut tls = server.tls();
                            let wait = std::time::Duration::from_secs(5);
                            tls.sock.set_read_timeout(Some(wait)).unwrap();
                            // A connection the server already closed to make
                            // room fails here; the attack goes on regardless.
                            tls.conn.complete_io(&mut tls.sock).ok()?;
                            Some(tls)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(idle.len() > 1000, "{} handshakes completed", idle.len());
    let answer = curl_heartbeat(&server, 15).unwrap_or_else(|e| {
        panic!(
            "with {} idle connections open the server did not answer: {e}",
            idle.len()
        )
    });
    assert!(answer.contains("unauthorized"), "{answer}");
    drop(idle);
}

/// A refusal sent while an HTTP/2 client still uploads ends in a stream
/// reset that curl 7.88 reports instead of the answer (3 % of unauthenticated
/// heartbeats under load once failed this way): a small body is read whole
/// before the server refuses the request.
#[test]
fn a_refusal_waits_for_a_small_body_to_arrive() {
    let server = Server::start("127.0.0.1", &[]);
    let mut tls = server.tls();
    tls.write_all(
        b"POST /api/v1/heartbeat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n",
    )
    .unwrap();
    tls.flush().unwrap();
    tls.sock
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .unwrap();
    let mut buf = [0u8; 4096];
    match tls.read(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!(
            "answered before the body arrived: {:?}",
            other.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
        ),
    }
    tls.write_all(b"{}").unwrap();
    tls.flush().unwrap();
    tls.sock
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let n = tls.read(&mut buf).unwrap();
    let got = String::from_utf8_lossy(&buf[..n]);
    assert!(got.starts_with("HTTP/1.1 401"), "{got}");
}

/// Reads what the server sends until it closes; `None` if it is still open
/// when the socket's 30 s read timeout expires.
fn read_to_close(stream: &mut impl Read) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            // A reset or an unclean TLS close is the server hanging up too.
            Err(_) => return Some(String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

#[test]
fn stalled_and_broken_requests_are_cut_off_and_answered_in_words() {
    let server = Server::start("127.0.0.1", &["--idle-timeout", "2"]);
    let head = "POST /api/v1/enroll HTTP/1.1\r\nHost: localhost\r\n";
    let cases: &[(&str, Option<&str>, &str)] = &[
        // (what the client does, what to send after the handshake, expected status)
        ("never finishes the TLS handshake", None, ""),
        ("stops halfway through the request head", Some(head), ""),
        (
            "sends 10 of 100 promised body bytes, then nothing",
            Some("POST /api/v1/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"a\": 1234"),
            "HTTP/1.1 408",
        ),
        (
            "sends a chunked body with a broken chunk size",
            Some("POST /api/v1/enroll HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nzz\r\n"),
            "HTTP/1.1 408",
        ),
        (
            "keeps a connection alive after a complete request",
            Some("POST /api/v1/heartbeat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"),
            "HTTP/1.1 401",
        ),
    ];
    for (what, send, want) in cases {
        let got = match send {
            None => {
                let mut tcp = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
                tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                    .unwrap();
                read_to_close(&mut tcp)
            }
            Some(bytes) => {
                let mut tls = server.tls();
                tls.write_all(bytes.as_bytes()).unwrap();
                tls.flush().unwrap();
                read_to_close(&mut tls)
            }
        };
        let got = got
            .unwrap_or_else(|| panic!("a client that {what}: the server kept the connection open"));
        assert!(
            got.starts_with(want),
            "a client that {what}: answered {got:?}, want {want:?}"
        );
        assert!(!got.contains(" 413 "), "a client that {what}: {got}");
    }
}

/// A hostname is the client's to choose: a newline in it must not start a
/// forged line in the server's log.
#[test]
fn client_strings_cannot_forge_log_lines() {
    let server = Server::start("127.0.0.1", &[]);
    let token = server.admin(&["token", "create"]);
    let forged = "FORGED INFO stint_server: admin logged in";
    let body = serde_json::json!({
        "enroll_token": token.trim(), "hostname": format!("pc\n{forged}"),
        "os_type": "Linux", "os_version": "12", "os_user": "u", "agent_version": "0.1",
    });
    let answer = enroll(&server, &body);
    assert!(answer.contains("device_token"), "{answer}");
    let log = wait_for(
        "the enrollment in the log",
        std::time::Duration::from_secs(10),
        || {
            let log = std::fs::read_to_string(server.stderr_path()).ok()?;
            log.contains("device enrolled").then_some(log)
        },
    );
    assert!(
        log.lines().all(|l| !l.starts_with("FORGED")),
        "a client wrote a line of its own into the log:\n{log}"
    );
    assert!(
        log.contains("pc\\nFORGED"),
        "the hostname is logged escaped:\n{log}"
    );
}

/// POSTs an enrollment request and returns the answer's body.
fn enroll(server: &Server, body: &serde_json::Value) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "15", "--cacert"])
        .arg(server.ca())
        .args(["-H", "content-type: application/json", "--data"])
        .arg(body.to_string())
        .arg(format!("https://localhost:{}/api/v1/enroll", server.port))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Enrollment tokens an admin limits from the command line: a use count that
/// runs out, an expiry, and a bad value named in the error.
#[test]
fn enrollment_tokens_run_out_and_expire() {
    let server = Server::start("127.0.0.1", &[]);
    let once = server.admin(&["token", "create", "--label", "once", "--max-uses", "1"]);
    let week = server.admin(&["token", "create", "--label", "week", "--expires-in", "7d"]);
    let request = |token: &str| {
        serde_json::json!({
            "enroll_token": token.trim(), "hostname": "pc", "os_type": "Linux",
            "os_version": "12", "os_user": "u", "agent_version": "0.1",
        })
    };
    for (token, want) in [
        (&once, "device_token"),
        (&once, "used up (1 of 1 enrollments)"),
        (&week, "device_token"),
        (&week, "device_token"),
    ] {
        let answer = enroll(&server, &request(token));
        assert!(answer.contains(want), "{answer}, want {want}");
    }
    let listed: serde_json::Value =
        serde_json::from_str(&server.admin(&["token", "list", "--json"])).unwrap();
    let by_label = |l: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["label"] == l)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            by_label("once")["uses"].as_u64(),
            by_label("once")["max_uses"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(by_label("week")["expires_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    let out = server
        .admin_command()
        .args(["token", "create", "--expires-in", "7 days"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("\"7 days\"") && err.contains("7d"),
        "{err}"
    );
}

/// Requests with tokens nobody issued are limited by their address before
/// any token is looked up: a flood of guesses gets 429s, not answers.
#[test]
fn bad_tokens_are_rate_limited_by_address() {
    let server = Server::start("127.0.0.1", &["--address-rate-limit", "2"]);
    // (status, body) of a dozen guesses as fast as curl goes.
    let answers: Vec<(String, String)> = (0..12)
        .map(|_| {
            let out = Command::new("curl")
                .args(["--silent", "--max-time", "10", "-w", "\n%{http_code}"])
                .arg("--cacert")
                .arg(server.ca())
                .args([
                    "-H",
                    "Authorization: Bearer stn_dev_guess",
                    "-X",
                    "POST",
                    "--data",
                    "{}",
                ])
                .arg(format!(
                    "https://localhost:{}/api/v1/heartbeat",
                    server.port
                ))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
            (code.to_string(), body.to_string())
        })
        .collect();
    assert_eq!(answers[0].0, "401", "{answers:?}");
    let limited = answers
        .iter()
        .find(|(code, _)| code == "429")
        .unwrap_or_else(|| panic!("no 429 among {answers:?}"));
    assert!(
        limited.1.contains("rate_limited") && limited.1.contains("from this address"),
        "{limited:?}"
    );
}
