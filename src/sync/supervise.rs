//! Keeps the upload loop alive: whenever it ends or panics it is started again
//! after a pause, logged and shown in `stint status`, so no answer from a
//! server can stop uploads for good.

use super::{backoff, http, run, State, SyncStatus};
use crate::config::Config;
use crate::queue::Queue;

/// Runs the upload loop, and starts it again whenever it ends or panics, so no
/// answer can stop uploads for good; each restart is logged and shown in
/// status. Runs until the task is dropped.
pub async fn supervise(cfg: Config, queue: Queue, http: reqwest::Client) {
    let q = queue.clone();
    restarting(
        move || run(cfg.clone(), queue.clone(), http.clone()),
        move |why| note_restart(q.clone(), why),
    )
    .await
}

/// Keeps `task` running: whenever it ends, `restarted` hears why, and after a
/// growing pause (never under a second) it starts again.
async fn restarting<T, TF, R, RF>(task: T, restarted: R)
where
    T: Fn() -> TF,
    TF: std::future::Future<Output = ()> + Send + 'static,
    R: Fn(String) -> RF,
    RF: std::future::Future<Output = ()>,
{
    for attempt in 0u32.. {
        let why = match tokio::spawn(task()).await {
            Ok(()) => "ended".to_string(),
            Err(e) => match e.try_into_panic() {
                Ok(p) => {
                    let text = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    format!("panicked: {}", http::escape(&text))
                }
                Err(e) => e.to_string(),
            },
        };
        tracing::error!(restarts = attempt + 1, %why, "the upload task stopped; starting it again");
        restarted(why).await;
        tokio::time::sleep(backoff::delay(attempt.min(8), None, fastrand::f64())).await;
    }
}

async fn note_restart(queue: Queue, why: String) {
    let saved = queue
        .call(move |q| {
            let mut status: SyncStatus = q.sync_status()?.unwrap_or(SyncStatus {
                state: State::Backoff,
                server: None,
                device_id: None,
                last_success: None,
                last_error: None,
                policy_error: None,
            });
            status.last_error = Some(format!("the upload task {why}; started again"));
            q.set_sync_status(&status)
        })
        .await;
    if let Err(e) = saved {
        tracing::warn!(error = %e, "could not save sync status");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    /// A loop that panics, then ends, is started again each time, and each
    /// stop is reported with its reason.
    #[test]
    fn a_panicking_or_ended_loop_is_restarted_and_reported() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let runs = Arc::new(AtomicU32::new(0));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let (r, h) = (runs.clone(), heard.clone());
        rt.block_on(async move {
            let task = move || {
                let n = r.fetch_add(1, Ordering::SeqCst);
                async move {
                    match n {
                        0 => panic!("bad answer"),
                        1 => {}
                        _ => std::future::pending().await,
                    }
                }
            };
            let report = move |why: String| {
                h.lock().unwrap().push(why);
                async {}
            };
            // Two pauses of a second each, then the third run waits forever.
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                super::restarting(task, report),
            )
            .await;
        });
        assert_eq!(runs.load(Ordering::SeqCst), 3, "started again twice");
        assert_eq!(*heard.lock().unwrap(), ["panicked: bad answer", "ended"]);
    }
}
