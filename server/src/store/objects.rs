//! Where images live: a local directory (the embedded default) or an
//! S3-compatible bucket, behind put/get/delete/list on keys like
//! `DEVICE/ID.ATTEMPT.jpg`. Calls block; the store runs them on blocking threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::{path::Path as Key, ObjectStore};

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{what}: {message}")]
    Config { what: String, message: String },
    #[error("image store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("object store {what}: {source}")]
    Remote {
        what: String,
        source: object_store::Error,
    },
}

impl ObjectsError {
    /// Worth a 503 and a retry: the bucket or the disk may come back.
    pub fn is_transient(&self) -> bool {
        !matches!(self, ObjectsError::Config { .. })
    }
}

pub enum Objects {
    Dir(PathBuf),
    S3 {
        store: Arc<dyn ObjectStore>,
        /// The bucket's HTTP client runs here; `None` only while dropping.
        rt: Option<tokio::runtime::Runtime>,
        what: String,
    },
}

/// An object's bytes as they arrive.
pub type Chunks = tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>;

/// One object as `list` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub modified_ms: i64,
}

impl Objects {
    /// `file:DIR` (or a plain path) or `s3://BUCKET[/PREFIX][?KEY=VALUE&...]`,
    /// where the keys are object_store's S3 settings (`endpoint`, `region`,
    /// `allow_http`, `virtual_hosted_style_request`, ...); credentials and
    /// the rest come from the standard `AWS_*` environment variables, then
    /// from the AWS profile files (`AWS_PROFILE`, else `default`).
    pub fn open(spec: &str) -> Result<Objects, ObjectsError> {
        Self::open_with(spec, &|k| std::env::var(k).ok())
    }

    /// `open`, with the variables that locate the AWS profile read through
    /// `env`, so tests need not touch the process environment.
    fn open_with(
        spec: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Objects, ObjectsError> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            return Self::s3(spec, rest, env);
        }
        let dir = PathBuf::from(spec.strip_prefix("file:").unwrap_or(spec));
        crate::private::dir(&dir).map_err(|source| ObjectsError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Objects::Dir(dir))
    }

    fn s3(
        spec: &str,
        rest: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Objects, ObjectsError> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let what = spec.split('?').next().unwrap_or(spec).to_string();
        let bad = |message: String| ObjectsError::Config {
            what: format!("--objects {what}"),
            message,
        };
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        if bucket.is_empty() {
            return Err(bad("expected s3://BUCKET[/PREFIX]".into()));
        }
        // Fail fast rather than hold an upload for minutes: the agent
        // retries on its own, and a 503 tells it to.
        let retry = object_store::RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
            backoff: Default::default(),
        };
        let options = object_store::ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout(Duration::from_secs(30));
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry)
            .with_client_options(options);
        // Keys in the environment and no profile named: the profile files
        // are not read at all, so a stray broken ~/.aws/config cannot stop
        // a server that does not need it.
        if super::aws_profile::named(env).is_some() || env("AWS_ACCESS_KEY_ID").is_none() {
            if let Some(profile) = super::aws_profile::load(env).map_err(|e| bad(e.to_string()))? {
                builder = super::aws_profile::apply(builder, profile);
            }
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("{pair:?}: expected KEY=VALUE")))?;
            let key: AmazonS3ConfigKey = k.parse().map_err(|_| {
                bad(format!(
                    "{k:?} is not an S3 setting (e.g. endpoint, region, allow_http)"
                ))
            })?;
            builder = builder.with_config(key, v);
        }
        let s3 = builder.build().map_err(|e| bad(e.to_string()))?;
        let store: Arc<dyn ObjectStore> = match prefix.trim_matches('/') {
            "" => Arc::new(s3),
            p => Arc::new(object_store::prefix::PrefixStore::new(s3, p)),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stint-objects")
            .enable_all()
            .build()
            .map_err(|source| ObjectsError::Io {
                path: PathBuf::from("(runtime)"),
                source,
            })?;
        Ok(Objects::S3 {
            store,
            rt: Some(rt),
            what,
        })
    }

    /// Where this store is, for logs and `capture-path`.
    pub fn describe(&self, key: &str) -> String {
        match self {
            Objects::Dir(dir) => dir.join(key).display().to_string(),
            Objects::S3 { what, .. } => format!("{}/{key}", what.trim_end_matches('/')),
        }
    }

    fn run<T>(
        &self,
        f: impl FnOnce(
            &Arc<dyn ObjectStore>,
        ) -> futures_util::future::BoxFuture<'_, object_store::Result<T>>,
    ) -> Result<T, ObjectsError> {
        let Objects::S3 { store, rt, what } = self else {
            unreachable!("only the bucket runs futures")
        };
        let rt = rt.as_ref().expect("the runtime lives until drop");
        rt.block_on(f(store))
            .map_err(|source| ObjectsError::Remote {
                what: what.clone(),
                source,
            })
    }

    /// Durable on return: fsynced (file) or acknowledged (bucket).
    pub fn put(&self, key: &str, data: &[u8]) -> Result<(), ObjectsError> {
        match self {
            Objects::Dir(dir) => {
                let path = dir.join(key);
                let io = |source| ObjectsError::Io {
                    path: path.clone(),
                    source,
                };
                if let Some(parent) = path.parent() {
                    if !parent.exists() {
                        crate::private::dir(parent).map_err(io)?;
                        // The new directory's own entry must reach the disk too.
                        stint_common::durable::sync_dir(dir).map_err(io)?;
                    }
                }
                stint_common::durable::write(&path, data, 0o600).map_err(io)
            }
            Objects::S3 { .. } => {
                let payload = object_store::PutPayload::from(data.to_vec());
                self.run(|s| {
                    let key = Key::from(key);
                    Box::pin(async move { s.put(&key, payload).await.map(drop) })
                })
            }
        }
    }

    /// The object's bytes, or `None` when there is no such object.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectsError> {
        match self {
            Objects::Dir(dir) => {
                let path = dir.join(key);
                match std::fs::read(&path) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(ObjectsError::Io { path, source }),
                }
            }
            Objects::S3 { .. } => self.run(|s| {
                let key = Key::from(key);
                Box::pin(async move {
                    match s.get(&key).await {
                        Ok(r) => Ok(Some(r.bytes().await?.to_vec())),
                        Err(object_store::Error::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    }
                })
            }),
        }
    }

    /// The object's bytes as they arrive (64 KiB reads from a file, the
    /// bucket's own chunks), or `None` when there is no such object: an
    /// image goes out without ever being whole in memory.
    pub fn stream(&self, key: &str) -> Result<Option<Chunks>, ObjectsError> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        match self {
            Objects::Dir(dir) => {
                let path = dir.join(key);
                let mut file = match std::fs::File::open(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(source) => return Err(ObjectsError::Io { path, source }),
                };
                std::thread::Builder::new()
                    .name("stint-object-read".into())
                    .spawn(move || {
                        use std::io::Read;
                        let mut buf = vec![0u8; 64 << 10];
                        loop {
                            let chunk = match file.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => Ok(bytes::Bytes::copy_from_slice(&buf[..n])),
                                Err(e) => Err(e),
                            };
                            let failed = chunk.is_err();
                            // The reader went away (the client hung up): stop.
                            if tx.blocking_send(chunk).is_err() || failed {
                                break;
                            }
                        }
                    })
                    .map_err(|source| ObjectsError::Io { path, source })?;
            }
            Objects::S3 { store, rt, what } => {
                let rt = rt.as_ref().expect("the runtime lives until drop");
                let path = Key::from(key);
                let got = match rt.block_on(store.get(&path)) {
                    Ok(r) => r,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(source) => {
                        return Err(ObjectsError::Remote {
                            what: what.clone(),
                            source,
                        })
                    }
                };
                rt.spawn(async move {
                    let mut chunks = got.into_stream();
                    while let Some(c) = chunks.next().await {
                        if tx.send(c.map_err(std::io::Error::other)).await.is_err() {
                            break;
                        }
                    }
                });
            }
        }
        Ok(Some(rx))
    }

    /// Gone on return; a missing object is not an error.
    pub fn delete(&self, key: &str) -> Result<(), ObjectsError> {
        match self {
            Objects::Dir(dir) => {
                let path = dir.join(key);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        Err(ObjectsError::Io { path, source: e })
                    }
                    _ => Ok(()),
                }
            }
            Objects::S3 { .. } => self.run(|s| {
                let key = Key::from(key);
                Box::pin(async move {
                    match s.delete(&key).await {
                        Err(object_store::Error::NotFound { .. }) => Ok(()),
                        r => r,
                    }
                })
            }),
        }
    }

    /// Every object, for the orphan sweep and the migration's check.
    pub fn list(&self) -> Result<Vec<Listed>, ObjectsError> {
        match self {
            Objects::Dir(dir) => {
                let mut out = Vec::new();
                walk(dir, dir, &mut out).map_err(|source| ObjectsError::Io {
                    path: dir.clone(),
                    source,
                })?;
                Ok(out)
            }
            Objects::S3 { .. } => self.run(|s| {
                Box::pin(async move {
                    let mut out = Vec::new();
                    let mut stream = s.list(None);
                    while let Some(meta) = stream.next().await {
                        let meta = meta?;
                        out.push(Listed {
                            key: meta.location.to_string(),
                            modified_ms: meta.last_modified.timestamp_millis(),
                        });
                    }
                    Ok(out)
                })
            }),
        }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Listed>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let modified_ms = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as i64);
            out.push(Listed {
                key: rel.to_string_lossy().replace('\\', "/"),
                modified_ms,
            });
        }
    }
    Ok(())
}

impl Drop for Objects {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which async code may not do; the
        // server's own runtime may be the one dropping the store.
        if let Objects::S3 { rt, .. } = self {
            if let Some(rt) = rt.take() {
                rt.shutdown_background();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_specs_say_what_was_expected() {
        for (spec, said) in [
            ("s3://", "expected s3://BUCKET"),
            ("s3://b?color=red", "\"color\" is not an S3 setting"),
            ("s3://b?endpoint", "expected KEY=VALUE"),
        ] {
            let e = Objects::open(spec).err().expect(spec).to_string();
            assert!(e.contains(said), "{spec}: {e}");
        }
    }

    /// A profile's keys, token and region reach the wire: the request a
    /// loopback listener receives is signed with them.
    #[test]
    fn s3_requests_are_signed_with_the_named_profile() {
        use std::io::{Read, Write};
        if let Some((k, _)) = std::env::vars().find(|(k, _)| k.starts_with("AWS_")) {
            println!("{k} is set here and beats the profile: not run");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        std::fs::write(
            &credentials,
            "[images]\naws_access_key_id = AKIDIMAGES\naws_secret_access_key = s\naws_session_token = tok-images\n",
        )
        .unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[profile images]\nregion = eu-west-3\n").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "closed before the headers ended");
                seen.extend_from_slice(&buf[..n]);
            }
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .unwrap();
            String::from_utf8_lossy(&seen).to_ascii_lowercase()
        });
        let (c, f) = (
            credentials.display().to_string(),
            config.display().to_string(),
        );
        let env = move |k: &str| match k {
            "AWS_PROFILE" => Some("images".to_string()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some(c.clone()),
            "AWS_CONFIG_FILE" => Some(f.clone()),
            _ => None,
        };
        let spec = format!("s3://b?endpoint=http://127.0.0.1:{port}&allow_http=true");
        Objects::open_with(&spec, &env)
            .unwrap()
            .put("dev/a.jpg", b"one")
            .unwrap();
        let request = server.join().unwrap();
        for said in [
            "credential=akidimages/",
            "/eu-west-3/s3/aws4_request",
            "x-amz-security-token: tok-images",
        ] {
            assert!(request.contains(said), "{said} not in:\n{request}");
        }
    }

    /// The same walk on a directory and, when `STINT_TEST_S3` names a
    /// bucket spec (scripts/test.sh starts SeaweedFS), on that bucket.
    #[test]
    fn each_store_puts_gets_lists_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let mut specs = vec![format!("file:{}", dir.path().display())];
        match std::env::var("STINT_TEST_S3") {
            // SeaweedFS here takes any signature; credentials in the spec
            // keep object_store from asking instance metadata for some.
            Ok(s3) => specs.push(
                s3.replacen("s3://stint", "s3://stint/unit-objects", 1)
                    + "&access_key_id=stint-test&secret_access_key=stint-test-secret",
            ),
            Err(_) => println!("STINT_TEST_S3 unset: the bucket half of this test did not run"),
        }
        for spec in specs {
            let o = Objects::open(&spec).unwrap();
            for l in o.list().unwrap() {
                o.delete(&l.key).unwrap();
            }
            o.put("dev/a.jpg", b"one").unwrap();
            assert_eq!(
                o.get("dev/a.jpg").unwrap().as_deref(),
                Some(&b"one"[..]),
                "{spec}"
            );
            assert_eq!(o.get("dev/missing.jpg").unwrap(), None, "{spec}");
            let mut rx = o.stream("dev/a.jpg").unwrap().expect("there");
            let mut streamed = Vec::new();
            while let Some(chunk) = rx.blocking_recv() {
                streamed.extend_from_slice(&chunk.unwrap());
            }
            assert_eq!(streamed, b"one", "{spec}");
            assert!(o.stream("dev/missing.jpg").unwrap().is_none(), "{spec}");
            let keys: Vec<String> = o.list().unwrap().into_iter().map(|l| l.key).collect();
            assert_eq!(keys, ["dev/a.jpg"], "{spec}");
            o.delete("dev/a.jpg").unwrap();
            o.delete("dev/a.jpg").unwrap();
            assert!(o.list().unwrap().is_empty(), "{spec}");
        }
    }
}
