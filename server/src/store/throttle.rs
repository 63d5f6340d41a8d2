//! Login throttling, per account and per address. An attempt is counted
//! before its password is checked, in the one statement that also decides
//! whether it may go ahead, so a burst of parallel attempts cannot all pass
//! a check made before any of them was counted. Failures decay (one is
//! forgiven every [`DECAY_MS`]), so a slow trickle does not add up to a
//! lock for ever; a successful login clears both counts.

use super::sql::params;
use super::{new_secret, Store, StoreError};

/// Attempts (per account, and per address) before waiting is required.
pub const FREE_ATTEMPTS: i64 = 5;
/// The longest wait a run of failures earns.
pub const MAX_LOCK_MS: i64 = 15 * 60_000;
/// One failure is forgiven per this long without one.
pub const DECAY_MS: i64 = 10 * 60_000;
/// Rows quiet this long (and not locked) are deleted by the hourly job.
const KEEP_MS: i64 = 86_400_000;

/// The wait after the `n`th counted attempt: none below [`FREE_ATTEMPTS`],
/// then one second doubling up to [`MAX_LOCK_MS`].
pub fn lock_ms(n: i64) -> i64 {
    if n < FREE_ATTEMPTS {
        0
    } else {
        (1000i64 << (n - FREE_ATTEMPTS).min(20)).min(MAX_LOCK_MS)
    }
}

/// The reservation statement: the count decays, grows by this attempt and
/// sets the lock the new count earns, unless a lock is in force, in which
/// case nothing changes. Which of the two happened is told by `attempt`:
/// only a reservation writes the caller's own random value there.
fn reserve_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let locked = "login_failures.locked_until_ms > ?2";
        let since = format!("(?2 - login_failures.last_ms) / {DECAY_MS}");
        let decayed = format!(
            "CASE WHEN login_failures.failures - {since} > 0 THEN login_failures.failures - {since} ELSE 0 END"
        );
        let n = format!("({decayed} + 1)");
        // The doubling as a table: both engines read a CASE alike.
        let mut lock = format!("CASE {n}");
        for k in 1..=FREE_ATTEMPTS + 10 {
            lock.push_str(&format!(" WHEN {k} THEN {}", lock_ms(k)));
        }
        lock.push_str(&format!(" ELSE {MAX_LOCK_MS} END"));
        let until = format!("CASE WHEN {lock} = 0 THEN 0 ELSE ?2 + {lock} END");
        // The first attempt's lock, by the same rule as the rest.
        let first = match lock_ms(1) {
            0 => "0".to_string(),
            ms => format!("?2 + {ms}"),
        };
        format!(
            "INSERT INTO login_failures (key, failures, locked_until_ms, last_ms, attempt)
             VALUES (?1, 1, {first}, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN {locked} THEN login_failures.failures ELSE {n} END,
               locked_until_ms = CASE WHEN {locked} THEN login_failures.locked_until_ms ELSE {until} END,
               last_ms = CASE WHEN {locked} THEN login_failures.last_ms ELSE ?2 END,
               attempt = CASE WHEN {locked} THEN login_failures.attempt ELSE ?3 END
             RETURNING locked_until_ms, attempt",
        )
    })
}

impl Store {
    /// Counts an attempt under `key` at `now`: `None` when it may go ahead,
    /// or the instant the lock in force ends.
    pub(super) fn reserve_attempt(&self, key: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let mine = new_secret("");
        let (until, attempt): (i64, String) =
            self.conn()
                .query_row(reserve_sql(), params![key, now, mine], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok((attempt != mine).then_some(until))
    }

    /// A successful login: the count under `key` starts over.
    pub(super) fn clear_attempts(&self, key: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM login_failures WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// Takes back one counted attempt under `key` (one that succeeded).
    pub(super) fn forgive_attempt(&self, key: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE login_failures SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE key = ?1",
            params![key],
        )?;
        Ok(())
    }

    /// Forgets counts nobody added to for a day and that lock nothing: the
    /// table would otherwise keep every address and email ever tried.
    pub fn prune_login_failures(&self, now: i64) -> Result<u64, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM login_failures WHERE locked_until_ms < ?1 AND last_ms < ?2",
            params![now, now - KEEP_MS],
        )? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn the_wait_doubles_from_the_fifth_attempt_up_to_its_cap() {
        for (n, want) in [
            (1, 0),
            (4, 0),
            (5, 1000),
            (6, 2000),
            (9, 16_000),
            (15, 900_000),
            (60, 900_000),
        ] {
            assert_eq!(lock_ms(n), want, "attempt {n}");
        }
    }

    /// Reservations on a fake clock: five pass, the sixth waits for the
    /// lock, one more passes after it and doubles it; failures decay.
    #[test]
    fn attempts_are_counted_before_they_run_and_decay() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let t = 1_000_000_000;
        for i in 0..5 {
            assert_eq!(store.reserve_attempt("k", t).unwrap(), None, "attempt {i}");
        }
        assert_eq!(store.reserve_attempt("k", t + 10).unwrap(), Some(t + 1000));
        assert_eq!(store.reserve_attempt("k", t + 1000).unwrap(), None);
        assert_eq!(
            store.reserve_attempt("k", t + 1500).unwrap(),
            Some(t + 3000)
        );
        // Two quiet decay periods later, two failures are forgiven: the
        // count is 4, so one more attempt locks again, for a second.
        let later = t + 1000 + 2 * DECAY_MS;
        assert_eq!(store.reserve_attempt("k", later).unwrap(), None);
        assert_eq!(
            store.reserve_attempt("k", later + 1).unwrap(),
            Some(later + 1000)
        );
        store.clear_attempts("k").unwrap();
        assert_eq!(store.reserve_attempt("k", later + 2).unwrap(), None);
        assert_eq!(store.prune_login_failures(later + KEEP_MS + 10).unwrap(), 1);
    }

    /// Forty attempts at once, from forty threads: exactly five pass.
    #[test]
    fn a_parallel_burst_passes_only_the_free_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::store::test_store(dir.path()));
        let barrier = Arc::new(Barrier::new(40));
        let now = super::super::now_ms();
        let passed: usize = (0..40)
            .map(|_| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    store.reserve_attempt("account:x", now).unwrap().is_none()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(passed, FREE_ATTEMPTS as usize);
    }
}
