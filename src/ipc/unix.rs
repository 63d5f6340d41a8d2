//! Unix control endpoint: a socket in the user's runtime directory (0700),
//! itself 0600, and every peer's uid checked against ours.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use tokio::net::{UnixListener, UnixStream};

use super::{IpcError, Peer};
use crate::config::Config;

pub type Stream = UnixStream;
pub type ClientStream = UnixStream;

/// `$XDG_RUNTIME_DIR/stint` (per user, cleared at logout); without a runtime
/// directory, the data directory, which is owner-only too.
fn dir(cfg: &Config) -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("stint"),
        None => cfg.storage.data_dir.clone(),
    }
}

fn socket(cfg: &Config) -> PathBuf {
    dir(cfg).join("stint.sock")
}

pub fn endpoint(cfg: &Config) -> String {
    socket(cfg).display().to_string()
}

pub struct Listener {
    inner: UnixListener,
    uid: u32,
    path: PathBuf,
    _lock: std::fs::File,
}

impl Listener {
    /// Takes the per-session lock and listens; a second daemon gets `AlreadyRunning`.
    pub fn bind(cfg: &Config) -> Result<Listener, IpcError> {
        let path = socket(cfg);
        let lock = super::take_lock(&dir(cfg), &endpoint(cfg))?;
        // We hold the lock, so a socket file here was left by a daemon that died.
        let _ = std::fs::remove_file(&path);
        let io = |source| IpcError::Io {
            what: "cannot listen at",
            path: path.display().to_string(),
            source,
        };
        let inner = UnixListener::bind(&path).map_err(io)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        Ok(Listener {
            inner,
            // SAFETY: geteuid has no preconditions and cannot fail.
            uid: unsafe { libc::geteuid() },
            path,
            _lock: lock,
        })
    }

    /// The next connection, sorted by whether its peer is our own user.
    pub async fn accept(&self) -> std::io::Result<Peer<Stream>> {
        let (s, _) = self.inner.accept().await?;
        Ok(match s.peer_cred() {
            Ok(c) if c.uid() == self.uid => Peer::Owner(s),
            Ok(c) => Peer::Other(s, format!("uid {} (pid {:?})", c.uid(), c.pid())),
            Err(e) => Peer::Other(s, format!("unknown peer ({e})")),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub async fn connect(cfg: &Config) -> Result<ClientStream, IpcError> {
    let path = socket(cfg);
    UnixStream::connect(&path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                IpcError::NotRunning(endpoint(cfg))
            }
            std::io::ErrorKind::PermissionDenied => IpcError::Denied(endpoint(cfg)),
            _ => IpcError::Io {
                what: "cannot connect to",
                path: endpoint(cfg),
                source: e,
            },
        })
}
