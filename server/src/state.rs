//! What every request handler shares: the store, the limits, the rate
//! limiter, the metrics, the OIDC provider when there is one, and the
//! truncate-IP setting read at most every few seconds. A module of its own so
//! the agents' API, the web UI and the operations endpoints all depend on it
//! and none on another.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::oidc::Oidc;
use crate::store::Store;

/// Size and rate limits; see `stint-server serve --help`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_batch_bytes: usize,
    pub max_capture_bytes: usize,
    /// Requests per second per device; 0 turns it off.
    pub rate_per_sec: f64,
    /// Requests per second per client address, counted before the device is
    /// known (so requests with bad tokens count too); 0 turns it off.
    pub address_rate_per_sec: f64,
    /// Longest silence while a body arrives (and, in the listener, during the
    /// TLS handshake, the request head and between requests).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batch_bytes: 4 << 20,
            max_capture_bytes: 32 << 20,
            rate_per_sec: 200.0,
            address_rate_per_sec: 2000.0,
            idle_timeout: Duration::from_secs(20),
        }
    }
}

/// How long the organisation's truncate-IP setting is trusted before it is
/// read again: a change reaches every replica within this.
const POLICY_TTL: Duration = Duration::from_secs(10);

/// How long the navigation's inbox count is reused within one session.
pub const INBOX_TTL: Duration = Duration::from_secs(10);

pub struct AppState {
    pub store: Arc<Store>,
    pub limits: Limits,
    pub metrics: Metrics,
    /// Set once at start when OIDC login is configured.
    pub oidc: OnceLock<Oidc>,
    pub(crate) limiter: Limiter,
    truncate_ip: Mutex<Option<(Instant, bool)>>,
    /// What waits for each session's decision, for the navigation: counted
    /// at most every [`INBOX_TTL`] per session, so a page's thumbnails do
    /// not each count it again.
    inbox: Mutex<std::collections::HashMap<String, (Instant, usize)>>,
    /// Answers a test asked for (`--inject-faults`); only in builds with
    /// the `faults` feature, which release builds leave out.
    #[cfg(feature = "faults")]
    pub(crate) faults: Mutex<crate::faults::Faults>,
}

impl AppState {
    pub fn new(store: Arc<Store>, limits: Limits) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            limiter: Limiter::new(limits.rate_per_sec, limits.address_rate_per_sec),
            limits,
            metrics: Default::default(),
            oidc: Default::default(),
            truncate_ip: Mutex::new(None),
            inbox: Default::default(),
            #[cfg(feature = "faults")]
            faults: Default::default(),
        })
    }

    /// The navigation's count for session `key`, if counted within
    /// [`INBOX_TTL`].
    pub fn inbox_cached(&self, key: &str) -> Option<usize> {
        let map = self.inbox.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < INBOX_TTL)
            .map(|(_, n)| *n)
    }

    /// Remembers session `key`'s count; `None` forgets it (a form post: the
    /// page after a decision counts again).
    pub fn inbox_remember(&self, key: &str, n: Option<usize>) {
        let mut map = self.inbox.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < INBOX_TTL);
        }
        match n {
            Some(n) => map.insert(key.to_string(), (Instant::now(), n)),
            None => map.remove(key),
        };
    }

    /// Like `new`, answering the next requests of each route as `faults` says.
    #[cfg(feature = "faults")]
    pub fn with_faults(
        store: Arc<Store>,
        limits: Limits,
        faults: crate::faults::Faults,
    ) -> Arc<AppState> {
        let state = AppState::new(store, limits);
        *state.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
        state
    }

    /// Runs a store call off the async runtime (PostgreSQL's client and
    /// the bucket block, and would panic on it).
    pub async fn blocking<T: Send + 'static, E: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<Result<T, E>, tokio::task::JoinError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store)).await
    }

    /// Whether client addresses are stored truncated: the organisation's
    /// policy, read again at most every [`POLICY_TTL`]; when it cannot be
    /// read, truncated.
    pub async fn truncate_ip(&self) -> bool {
        if let Some((at, v)) = *self.truncate_ip.lock().unwrap_or_else(|p| p.into_inner()) {
            if at.elapsed() < POLICY_TTL {
                return v;
            }
        }
        let read = self.blocking(|s| s.policy()).await;
        let v = match read {
            Ok(Ok(p)) => p.truncate_ip.unwrap_or(true),
            _ => return true,
        };
        *self.truncate_ip.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), v));
        v
    }
}
