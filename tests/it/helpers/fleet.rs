//! The fleet back end for tests: a real PostgreSQL cluster and a real S3
//! store (SeaweedFS), both started by scripts/test.sh through
//! scripts/postgres.sh and scripts/s3.sh and named in the environment, plus a
//! loopback TCP balancer that spreads agents over replicas.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

/// Tests that use the bucket read-lock it; the outage test write-locks it
/// while SeaweedFS is down, so no other test sees that outage.
static S3_IN_USE: RwLock<()> = RwLock::new(());

/// Where the shared engines are, from scripts/test.sh.
#[derive(Clone)]
pub struct Engines {
    /// postgres://stint@127.0.0.1:PORT/stint: the cluster's admin database.
    pub postgres: String,
    /// s3://stint?endpoint=...: the bucket spec.
    pub s3: String,
    /// scripts/s3.sh's directory for this SeaweedFS, to stop and start it.
    pub s3_dir: String,
}

impl Engines {
    /// The engines, or `None` after saying on stderr why the caller's test
    /// cannot run here.
    pub fn from_env(test: &str) -> Option<Engines> {
        match (
            std::env::var("STINT_TEST_POSTGRES"),
            std::env::var("STINT_TEST_S3"),
            std::env::var("STINT_TEST_S3_DIR"),
        ) {
            (Ok(postgres), Ok(s3), Ok(s3_dir)) => Some(Engines {
                postgres,
                s3,
                s3_dir,
            }),
            _ => {
                super::not_run(
                    test,
                    "needs PostgreSQL and S3 (STINT_TEST_POSTGRES, STINT_TEST_S3, \
                     STINT_TEST_S3_DIR); scripts/test.sh starts both with scripts/postgres.sh and scripts/s3.sh",
                );
                None
            }
        }
    }

    /// A fresh database and bucket prefix, as the environment of every
    /// stint-server process that should use them.
    pub fn fresh(&self) -> Vec<(String, String)> {
        let name = format!("it_{}", uuid::Uuid::now_v7().simple());
        psql(&self.postgres, &format!("CREATE DATABASE {name}"));
        let (base, _) = self.postgres.rsplit_once('/').unwrap();
        let objects = self
            .s3
            .replacen("s3://stint", &format!("s3://stint/{name}"), 1);
        vec![
            ("STINT_SERVER_DATABASE".into(), format!("{base}/{name}")),
            ("STINT_SERVER_OBJECTS".into(), objects),
            // SeaweedFS runs without authentication; object_store still signs.
            ("AWS_ACCESS_KEY_ID".into(), "stint-test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "stint-test-secret".into()),
        ]
    }

    pub fn share_s3() -> RwLockReadGuard<'static, ()> {
        S3_IN_USE.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn own_s3() -> RwLockWriteGuard<'static, ()> {
        S3_IN_USE.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops SeaweedFS until the returned guard drops, failing test or not.
    pub fn s3_down(&self) -> S3Down<'_> {
        script("s3.sh", &["stop", &self.s3_dir]);
        S3Down(self)
    }
}

pub struct S3Down<'a>(&'a Engines);

impl Drop for S3Down<'_> {
    fn drop(&mut self) {
        script("s3.sh", &["start", &self.0.s3_dir]);
    }
}

/// Runs scripts/NAME with `args`: its output, or its error output.
fn try_script(name: &str, args: &[&str]) -> Result<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name);
    let out = Command::new("bash").arg(path).args(args).output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap().trim().to_string())
    } else {
        Err(format!(
            "{name} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn script(name: &str, args: &[&str]) -> String {
    try_script(name, args).unwrap_or_else(|e| panic!("{e}"))
}

/// One SQL statement's output, `|`-separated, through psql.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-tAq", "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql {sql}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A TCP balancer on loopback: each connection goes to the next backend
/// that accepts it, as a load balancer's health check would arrange.
pub struct Balancer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Balancer {
    pub fn start(backends: Vec<u16>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        let backends = Arc::new(Mutex::new(backends));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let ports = backends.lock().unwrap().clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                let upstream = (0..ports.len()).find_map(|i| {
                    let port = ports[(first + i) % ports.len()];
                    TcpStream::connect_timeout(
                        &([127, 0, 0, 1], port).into(),
                        Duration::from_millis(500),
                    )
                    .ok()
                });
                if let Some(upstream) = upstream {
                    pipe(client, upstream);
                }
            }
        });
        Balancer { port, stop }
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    for (mut from, mut to) in [(a.try_clone().unwrap(), b.try_clone().unwrap()), (b, a)] {
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if std::io::Write::write_all(&mut to, &buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Both);
            let _ = from.shutdown(std::net::Shutdown::Both);
        });
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// PostgreSQL and SeaweedFS of one's own, for the benchmarks (tests share
/// the ones scripts/test.sh starts); stopped on drop.
#[allow(dead_code)] // used by benches/sync, which shares these helpers
pub struct OwnEngines {
    pub engines: Engines,
    dir: tempfile::TempDir,
}

#[allow(dead_code)]
impl OwnEngines {
    /// Both engines, or `None` after saying why not.
    pub fn start() -> Option<OwnEngines> {
        let dir = tempfile::tempdir().unwrap();
        // The cluster's unprivileged owner (as root) must reach its directory.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = dir.path().join("pg");
        let s3 = dir.path().join("s3");
        let run =
            |name: &str, args: &[&str]| try_script(name, args).map_err(|e| eprintln!("{e}")).ok();
        let postgres = run("postgres.sh", &["start", pg.to_str()?, &port.to_string()])?;
        let Some(s3_spec) = run("s3.sh", &["start", s3.to_str()?]) else {
            run("postgres.sh", &["stop", pg.to_str()?]);
            return None;
        };
        Some(OwnEngines {
            engines: Engines {
                postgres,
                s3: s3_spec,
                s3_dir: s3.to_str()?.to_string(),
            },
            dir,
        })
    }
}

impl Drop for OwnEngines {
    fn drop(&mut self) {
        let pg = self.dir.path().join("pg");
        let _ = try_script("s3.sh", &["stop", &self.engines.s3_dir]);
        let _ = try_script("postgres.sh", &["stop", &pg.to_string_lossy()]);
    }
}
