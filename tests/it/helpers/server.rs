//! A real stint-server process on loopback, and a real HTTP CONNECT proxy in
//! front of it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Proc, STINT};

/// A real stint-server process on a loopback port with its own data dir.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub args: Vec<String>,
    /// The open-file limit (soft and hard) the server process starts with.
    pub nofile: Option<u64>,
    /// Environment of every stint-server command: a fleet back end's
    /// database and bucket, when there is one.
    pub env: Vec<(String, String)>,
    /// Held while this server uses the shared bucket.
    _s3: Option<std::sync::RwLockReadGuard<'static, ()>>,
    proc: Option<Proc>,
}

pub fn stint_server_bin() -> PathBuf {
    let bin = Path::new(STINT).with_file_name("stint-server");
    assert!(
        bin.exists(),
        "{} missing: build it first with `cargo build --workspace --bins` (add --release for benches; scripts/test.sh does the debug build)",
        bin.display()
    );
    bin
}

impl Server {
    /// Starts `stint-server serve` on `listen_ip` and a free port; `args` are extra
    /// serve flags (limits, injected faults, --cert/--key).
    pub fn start(listen_ip: &str, args: &[&str]) -> Server {
        Server::start_with_nofile(listen_ip, args, None)
    }

    /// Like `start`, with the open-file limit a default `ulimit -n` gives.
    ///
    /// With `STINT_TEST_SERVER_BACKEND=fleet` (scripts/test.sh's second
    /// pass), every server gets a fresh PostgreSQL database and bucket
    /// prefix instead of its data dir's SQLite file and image directory.
    pub fn start_with_nofile(listen_ip: &str, args: &[&str], nofile: Option<u64>) -> Server {
        let fleet = std::env::var("STINT_TEST_SERVER_BACKEND").as_deref() == Ok("fleet");
        let engines = fleet
            .then(|| super::fleet::Engines::from_env("a fleet-backed server"))
            .flatten();
        assert!(
            fleet == engines.is_some(),
            "STINT_TEST_SERVER_BACKEND=fleet needs the engines"
        );
        Server::start_env(
            listen_ip,
            args,
            nofile,
            engines.map(|e| e.fresh()).unwrap_or_default(),
        )
    }

    /// Like `start_with_nofile`, with `env` for every command.
    pub fn start_env(
        listen_ip: &str,
        args: &[&str],
        nofile: Option<u64>,
        env: Vec<(String, String)>,
    ) -> Server {
        // A test that owns the bucket (stopping it) holds the lock already.
        let owned = env.iter().any(|(k, _)| k == "STINT_TEST_OWNS_S3");
        let s3 = env
            .iter()
            .any(|(k, v)| k == "STINT_SERVER_OBJECTS" && v.starts_with("s3://") && !owned)
            .then(super::fleet::Engines::share_s3);
        let mut s = Server {
            dir: tempfile::tempdir().unwrap(),
            port: 0,
            args: args.iter().map(|a| a.to_string()).collect(),
            nofile,
            env,
            _s3: s3,
            proc: None,
        };
        s.restart(listen_ip);
        s
    }

    pub fn restart(&mut self, listen_ip: &str) {
        let mut command = self.admin_command();
        command
            .args(["serve", "--listen", &format!("{listen_ip}:{}", self.port)])
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.stderr_path()).unwrap());
        if let Some(n) = self.nofile {
            use std::os::unix::process::CommandExt;
            let lim = libc::rlimit {
                rlim_cur: n as libc::rlim_t,
                rlim_max: n as libc::rlim_t,
            };
            // SAFETY: setrlimit is async-signal-safe and touches only `lim`.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command.spawn().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let proc = Proc(child);
        for line in out.lines() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("listening on https://") {
                self.port = addr.rsplit(':').next().unwrap().parse().unwrap();
                break;
            }
        }
        assert_ne!(self.port, 0, "stint-server did not start");
        self.proc = Some(proc);
    }

    pub fn stop(&mut self) {
        self.proc = None;
    }

    #[allow(dead_code)] // for benches/sync, which shares these helpers
    pub fn pid(&self) -> u32 {
        self.proc.as_ref().expect("server running").0.id()
    }

    pub fn admin_command(&self) -> Command {
        let mut c = Command::new(stint_server_bin());
        c.arg("--data-dir").arg(self.dir.path());
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    pub fn admin(&self, args: &[&str]) -> String {
        let out = self.admin_command().args(args).output().unwrap();
        assert!(out.status.success(), "stint-server {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// Where the serving process's log goes (the server ignores the file).
    pub fn stderr_path(&self) -> PathBuf {
        self.dir.path().join("stderr.log")
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A raw TLS connection to the server, trusting its CA, for tests that
    /// speak HTTP byte by byte (stalled heads, broken bodies).
    #[allow(dead_code)] // benches/sync shares these helpers
    pub fn tls(&self) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(self.ca()).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = "localhost".try_into().unwrap();
        let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        rustls::StreamOwned::new(conn, tcp)
    }

    /// Agent config for this server over TLS with the generated CA.
    pub fn agent_toml(&self, host: &str) -> String {
        format!(
            "[server]\nurl = \"https://{host}:{}\"\nenroll_token = \"{}\"\nca_file = {:?}\n",
            self.port,
            self.admin(&["token", "create"]).trim(),
            self.ca().to_str().unwrap()
        )
    }

    /// Every minute stored, across devices, as (id, start).
    pub fn minutes(&self) -> Vec<(String, String)> {
        let v: serde_json::Value =
            serde_json::from_str(&self.admin(&["export", "--json"])).unwrap();
        v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["minutes"].as_array().unwrap().clone())
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_string(),
                    m["start"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// A real HTTP CONNECT proxy on a loopback port, as corporate networks put in
/// front of HTTPS. Records every CONNECT target it tunnelled.
pub struct ConnectProxy {
    pub port: u16,
    pub targets: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = targets.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, &seen));
            }
        });
        ConnectProxy { port, targets }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(client: std::net::TcpStream, seen: &std::sync::Mutex<Vec<String>>) {
    use std::io::Write;
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(n) if n > 0 && header != "\r\n" => continue,
            _ => break,
        }
    }
    let mut client = client;
    let target = match request.split_whitespace().collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] => target.to_string(),
        _ => {
            let _ =
                client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
            return;
        }
    };
    seen.lock().unwrap().push(target.clone());
    let Ok(upstream) = std::net::TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    // Bytes the client sent right after its CONNECT may already sit in `reader`.
    let buffered = reader.buffer().to_vec();
    let mut up_w = upstream.try_clone().unwrap();
    let mut down_w = client;
    let mut up_r = upstream;
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut down_w);
        let _ = down_w.shutdown(std::net::Shutdown::Write);
    });
    if up_w.write_all(&buffered).is_ok() {
        let mut rest = reader.into_inner();
        let _ = std::io::copy(&mut rest, &mut up_w);
    }
    let _ = up_w.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
}
