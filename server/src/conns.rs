//! Connection admission for the HTTPS listener: a ceiling below the
//! open-file limit, and when it is reached the longest-idle connection makes
//! room, so sockets that say nothing cannot lock agents out.
//!
//! nginx does the same when it runs out of connections (it closes reusable
//! keep-alive ones first). Timeouts alone are not enough: an attacker who
//! reopens what a timeout closed holds every slot forever.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum_server::accept::Accept;
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// File descriptors kept back from connections: the database, image files
/// being written, the listener, logs.
pub const FD_RESERVE: u64 = 64;

/// Every live connection, and the rule for who gives way when they are too many.
pub struct ConnTable {
    max: usize,
    /// A connection quiet for less than this is never evicted (it is most
    /// likely in the middle of a request).
    evict_after: Duration,
    epoch: Instant,
    live: Mutex<Live>,
    /// Evictions and refusals since the last warning, which goes out at most
    /// every ten seconds.
    evicted: AtomicU64,
    refused: AtomicU64,
    warned_ms: AtomicU64,
}

#[derive(Default)]
struct Live {
    next_id: u64,
    conns: HashMap<u64, Arc<Conn>>,
}

/// What a connection's stream and its table share.
struct Conn {
    last_active_ms: AtomicU64,
    killed: AtomicBool,
    waker: AtomicWaker,
}

impl Conn {
    fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.waker.wake();
    }
}

impl ConnTable {
    pub fn new(max: usize, evict_after: Duration) -> Arc<ConnTable> {
        Arc::new(ConnTable {
            max: max.max(1),
            evict_after,
            epoch: Instant::now(),
            live: Mutex::new(Live::default()),
            evicted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            warned_ms: AtomicU64::new(0),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn live(&self) -> usize {
        self.lock().conns.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A slot for a new connection: free, or taken from the connection that
    /// has been quiet longest; `None` when every connection is busy.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let now = self.now_ms();
        let mut live = self.lock();
        if live.conns.len() >= self.max {
            let quiet_ms = self.evict_after.as_millis() as u64;
            let victim = live
                .conns
                .iter()
                .map(|(id, c)| (*id, c.last_active_ms.load(Ordering::Relaxed)))
                .min_by_key(|(_, at)| *at)
                .filter(|(_, at)| now.saturating_sub(*at) >= quiet_ms);
            match victim.and_then(|(id, _)| live.conns.remove(&id)) {
                Some(old) => {
                    old.kill();
                    self.evicted.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    drop(live);
                    self.warn_now_and_then(now);
                    return None;
                }
            }
            self.warn_now_and_then(now);
        }
        let id = live.next_id;
        live.next_id += 1;
        let conn = Arc::new(Conn {
            last_active_ms: AtomicU64::new(now),
            killed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        live.conns.insert(id, conn.clone());
        Some(Slot {
            id,
            conn,
            table: self.clone(),
        })
    }

    fn warn_now_and_then(&self, now: u64) {
        let last = self.warned_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 10_000 && last != 0 {
            return;
        }
        if self
            .warned_ms
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        tracing::warn!(
            max_connections = self.max,
            evicted_idle = self.evicted.swap(0, Ordering::Relaxed),
            refused = self.refused.swap(0, Ordering::Relaxed),
            "connection limit reached: the longest-idle connections were closed to make room"
        );
    }
}

/// A connection's place in the table, given back when its stream is dropped.
struct Slot {
    id: u64,
    conn: Arc<Conn>,
    table: Arc<ConnTable>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.lock().conns.remove(&self.id);
    }
}

/// The innermost acceptor: takes a slot for each accepted socket (or drops
/// the socket at once when there is none) and wraps it so its activity is
/// seen and it can be closed from outside.
#[derive(Clone)]
pub struct Admit {
    pub table: Arc<ConnTable>,
}

impl<I, S> Accept<I, S> for Admit {
    type Stream = Tracked<I>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Tracked<I>, S)>>;

    fn accept(&self, io: I, service: S) -> Self::Future {
        std::future::ready(match self.table.admit() {
            Some(slot) => Ok((Tracked { io, slot }, service)),
            None => Err(io::Error::other("connection limit reached")),
        })
    }
}

/// A socket whose reads and writes mark it active, and which fails every
/// call once it has been evicted (the pending one included, through the waker).
pub struct Tracked<I> {
    io: I,
    slot: Slot,
}

impl<I> Tracked<I> {
    fn check(&self, cx: &Context<'_>) -> io::Result<()> {
        let conn = &self.slot.conn;
        conn.waker.register(cx.waker());
        if conn.killed.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed to make room for a new connection",
            ));
        }
        Ok(())
    }

    fn touch(&self) {
        let now = self.slot.table.now_ms();
        self.slot.conn.last_active_ms.store(now, Ordering::Relaxed);
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.touch();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        let r = Pin::new(&mut this.io).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Raises the soft open-file limit to the hard one and returns the soft
/// limit now in force (`None` where the OS has no such limit).
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every unix
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// The connection ceiling: what the admin asked for, but always below the
/// open-file limit so accepting can never fail for want of descriptors.
pub fn ceiling(asked: usize, fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(fds) => asked.min(fds.saturating_sub(FD_RESERVE).max(8) as usize),
        None => asked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quietest_connection_gives_way_and_busy_ones_do_not() {
        let table = ConnTable::new(2, Duration::from_millis(0));
        let a = table.admit().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let b = table.admit().unwrap();
        let c = table.admit().unwrap();
        assert!(a.conn.killed.load(Ordering::Acquire), "oldest went");
        assert!(!b.conn.killed.load(Ordering::Acquire));
        assert_eq!(table.live(), 2);
        drop((a, b, c));
        assert_eq!(table.live(), 0);

        let busy = ConnTable::new(1, Duration::from_secs(60));
        let _held = busy.admit().unwrap();
        assert!(busy.admit().is_none(), "nobody quiet long enough to evict");
    }

    #[test]
    fn the_ceiling_stays_below_the_fd_limit() {
        for (asked, fds, want) in [
            (4096, Some(1024), 960),
            (100, Some(1024), 100),
            (4096, Some(20), 8),
            (4096, None, 4096),
        ] {
            assert_eq!(ceiling(asked, fds), want, "{asked} {fds:?}");
        }
    }
}
