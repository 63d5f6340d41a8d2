//! The server's own work on a clock: retention, the sums of recorded hours
//! (`store/work_hours.rs`), approving periods by the policy and the orphan
//! sweep, each
//! hourly and, across replicas, run by whichever replica holds its lease.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{Store, StoreError};

const EVERY: Duration = Duration::from_secs(3600);
/// Shorter than the period, so a replica that died hands the job on within
/// the hour; longer than any run should take.
const LEASE_MS: i64 = 50 * 60 * 1000;

/// Starts the hourly loop (the first run at once) on the current runtime.
pub fn spawn(store: Arc<Store>) {
    let holder = uuid::Uuid::now_v7().to_string();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            let (store, holder) = (store.clone(), holder.clone());
            match tokio::task::spawn_blocking(move || run_due(&store, &holder)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "scheduled job failed"),
                Err(e) => tracing::error!(error = %e, "scheduled job panicked"),
            }
        }
    });
}

fn run_due(store: &Store, holder: &str) -> Result<(), StoreError> {
    let now = stint_common::time::now_ms();
    if store.take_lease("retention", holder, now, LEASE_MS)? {
        let d = store.apply_retention(now)?;
        if d != Default::default() {
            tracing::info!(
                minutes = d.minutes,
                captures = d.captures,
                audit = d.audit,
                "retention deleted what was kept long enough"
            );
        }
    }
    if store.take_lease("work-hours", holder, now, LEASE_MS)? {
        // Hours before this one: the present hour changes by the minute.
        let summed = store.sum_stale_hours(now - now % 3_600_000)?;
        if summed > 0 {
            tracing::info!(hours = summed, "summed the hours reports read");
        }
    }
    if store.take_lease("auto-approve", holder, now, LEASE_MS)? {
        let approved = store.auto_approve_periods(now)?;
        if approved > 0 {
            tracing::info!(
                periods = approved,
                "approved submitted periods, as the policy says, once due"
            );
        }
    }
    if store.take_lease("orphan-sweep", holder, now, LEASE_MS)? {
        let removed = store.sweep_orphans(now)?;
        if removed > 0 {
            tracing::info!(removed, "orphan sweep removed images no record names");
        }
    }
    Ok(())
}
