//! Jobs that must run once across replicas (retention, the orphan sweep)
//! take a lease row first, and the orphan sweep itself: objects that no
//! capture row names, left by a crash between the object and its row or by
//! a delete that failed, found through the in-doubt notes written first.

use super::sql::params;
use super::{Store, StoreError};

/// An upload writes its object before its row; an object younger than this
/// may still be about to get one.
pub const ORPHAN_GRACE_MS: i64 = 3_600_000;

/// Notes an object in doubt (`?1` key, `?2` capture id, `?3` now): one text
/// for the upload, which notes on its own, and the deletion, which notes
/// inside its transaction.
pub(super) const NOTE_IN_DOUBT: &str =
    "INSERT INTO object_writes (key, capture_id, since_ms) VALUES (?1, ?2, ?3)
     ON CONFLICT (key) DO UPDATE SET capture_id = excluded.capture_id, since_ms = excluded.since_ms";

/// Ends the note on the object `?1`.
pub(super) const CLEAR_NOTE: &str = "DELETE FROM object_writes WHERE key = ?1";

impl Store {
    /// Takes the lease `name` for `holder` until `now_ms + ttl_ms`, or renews
    /// it if `holder` has it already; `false` while someone else holds it.
    /// One statement, so two replicas asking at once cannot both win.
    pub fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "INSERT INTO leases (name, holder, until_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
             WHERE leases.until_ms < ?4 OR leases.holder = excluded.holder",
            params![name, holder, now_ms + ttl_ms, now_ms],
        )?;
        Ok(n == 1)
    }

    /// Notes that the object `key` (and its thumbnail) may exist without a
    /// row of capture `capture_id` naming it: before an upload writes it,
    /// or before a deletion removes it.
    pub(super) fn in_doubt(
        &self,
        key: &str,
        capture_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(NOTE_IN_DOUBT, params![key, capture_id, now_ms])?;
        Ok(())
    }

    /// The object `key` is settled: its row committed, or it is gone. A
    /// failure only leaves the note for the sweep, which finds it settled.
    pub(super) fn settled(&self, key: &str) {
        if let Err(e) = self.conn().execute(CLEAR_NOTE, params![key]) {
            tracing::warn!(key = %key, error = %e, "could not clear an object's in-doubt note");
        }
    }

    /// Removes an image and its thumbnail, trying both; the first failure,
    /// if any. The image's in-doubt note is the caller's to settle.
    pub(super) fn remove_image(&self, key: &str) -> Result<(), super::objects::ObjectsError> {
        let thumb = self.objects.delete(&super::thumbs::thumb_key(key));
        let image = self.objects.delete(key);
        thumb.and(image)
    }

    /// Removes the objects in doubt for longer than the grace period that
    /// no capture row names (image and thumbnail); returns how many images
    /// went. It reads only the in-doubt notes, never the whole bucket, so it
    /// costs what crashes and failed deletes left, and an object no note
    /// names (a bucket shared with a database that never knew it) is never
    /// touched.
    pub fn sweep_orphans(&self, now_ms: i64) -> Result<u64, StoreError> {
        let before = now_ms - ORPHAN_GRACE_MS;
        let doubtful: Vec<(String, String)> = self.conn().query_map(
            "SELECT key, capture_id FROM object_writes WHERE since_ms < ?1 ORDER BY since_ms LIMIT 10000",
            params![before],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut removed = 0;
        for (key, id) in doubtful {
            let named: i64 = self.conn().query_row(
                "SELECT count(*) FROM captures WHERE id = ?1 AND file = ?2",
                params![id, key],
                |r| r.get(0),
            )?;
            if named == 0 {
                // One key the store refuses (object lock, a permission) must
                // not hold up the notes after it: it keeps its note.
                if let Err(e) = self.remove_image(&key) {
                    tracing::warn!(key = %key, error = %e, "could not remove an image no record names; trying again next sweep");
                    continue;
                }
                tracing::info!(key = %key, "removed an image no record names");
                removed += 1;
            }
            // Only the old note: an upload may have noted the key afresh.
            self.conn().execute(
                "DELETE FROM object_writes WHERE key = ?1 AND since_ms < ?2",
                params![key, before],
            )?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_until_the_lease_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        for (holder, now, want) in [
            ("a", 1_000, true),  // free
            ("b", 2_000, false), // a holds it until 61_000
            ("a", 30_000, true), // a renews, now until 90_000
            ("b", 89_999, false),
            ("b", 90_001, true), // ran out: b takes it
            ("a", 90_002, false),
        ] {
            assert_eq!(
                store.take_lease("retention", holder, now, 60_000).unwrap(),
                want,
                "{holder} at {now}"
            );
        }
    }

    #[test]
    fn the_sweep_removes_only_old_objects_in_doubt_that_no_row_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let device = store.enroll_device(None, "pc").unwrap();
        let meta: stint_proto::CaptureMeta = serde_json::from_value(serde_json::json!({
            "kind": "screenshot", "taken_at": "2026-11-29T10:00:00Z", "utc_offset": 0,
            "monitor": "M", "width": 1, "height": 1, "format": "jpeg", "session_id": "s"
        }))
        .unwrap();
        let now = stint_common::time::now_ms();
        let notes = |store: &Store| -> i64 {
            store
                .conn()
                .query_row("SELECT count(*) FROM object_writes", params![], |r| {
                    r.get(0)
                })
                .unwrap()
        };
        // An upload that committed leaves no note.
        let id = "0190c0de-0000-7000-8000-000000000001";
        assert!(store
            .upsert_capture(&device, id, &meta, b"image", "127.0.0.0")
            .unwrap());
        assert_eq!(notes(&store), 0);
        // An earlier attempt at the same capture that crashed between its
        // object and its row: noted, written, and no row names it (the
        // retry's row names the retry's own key).
        let crashed = format!("{device}/{id}.0000dead.jpg");
        store.in_doubt(&crashed, id, now).unwrap();
        store.objects.put(&crashed, b"x").unwrap();
        // A crash between the row and clearing its note: the row stays.
        let kept: String = store
            .conn()
            .query_row(
                "SELECT file FROM captures WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .unwrap();
        store.in_doubt(&kept, id, now).unwrap();
        // An object nobody noted (a bucket this database never knew).
        let stranger = format!("{device}/stranger.jpg");
        store.objects.put(&stranger, b"y").unwrap();

        assert_eq!(store.sweep_orphans(now).unwrap(), 0, "too young to judge");
        assert_eq!(notes(&store), 2);
        let later = now + ORPHAN_GRACE_MS + 60_000;
        assert_eq!(store.sweep_orphans(later).unwrap(), 1);
        assert_eq!(notes(&store), 0);
        let mut keys: Vec<String> = store
            .objects
            .list()
            .unwrap()
            .into_iter()
            .map(|l| l.key)
            .filter(|k| !k.ends_with(".thumb.webp"))
            .collect();
        keys.sort();
        assert_eq!(keys, [kept.clone(), stranger]);
        assert_eq!(
            store.objects.get(&kept).unwrap().as_deref(),
            Some(&b"image"[..])
        );
    }
}
