//! Jobs that must run once across replicas (retention, the orphan sweep)
//! take a lease row first, and the orphan sweep itself: objects that no
//! capture row names, left by a crash between the object and its row.

use std::collections::HashSet;

use super::sql::params;
use super::{Store, StoreError};

/// An upload writes its object before its row; an object younger than this
/// may still be about to get one.
pub const ORPHAN_GRACE_MS: i64 = 3_600_000;

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

    /// Removes objects no capture row names (image or thumbnail) that are
    /// older than the grace period; returns how many went.
    pub fn sweep_orphans(&self, now_ms: i64) -> Result<u64, StoreError> {
        let files: Vec<String> =
            self.conn()
                .query_map("SELECT file FROM captures", params![], |r| r.get(0))?;
        let mut named: HashSet<String> =
            files.iter().map(|f| super::thumbs::thumb_key(f)).collect();
        named.extend(files);
        let mut removed = 0;
        for o in self.objects.list()? {
            if named.contains(&o.key) || o.modified_ms > now_ms - ORPHAN_GRACE_MS {
                continue;
            }
            // A row may have arrived since the listing: look once more.
            let image = o.key.replace(".thumb.webp", "");
            let found: i64 = self.conn().query_row(
                "SELECT count(*) FROM captures WHERE file = ?1 OR file LIKE ?2 || '.%'",
                params![o.key, image],
                |r| r.get(0),
            )?;
            if found == 0 {
                self.objects.delete(&o.key)?;
                tracing::info!(key = %o.key, "removed an image no record names");
                removed += 1;
            }
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
    fn the_sweep_removes_only_old_objects_no_row_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let device = store.enroll_device(None, "pc").unwrap();
        let meta: stint_proto::CaptureMeta = serde_json::from_value(serde_json::json!({
            "kind": "screenshot", "taken_at": "2026-11-29T10:00:00Z", "utc_offset": 0,
            "monitor": "M", "width": 1, "height": 1, "format": "jpeg", "session_id": "s"
        }))
        .unwrap();
        let id = "0190c0de-0000-7000-8000-000000000001";
        assert!(store
            .upsert_capture(&device, id, &meta, b"image", "127.0.0.0")
            .unwrap());
        store
            .objects
            .put(&format!("{device}/orphan.jpg"), b"x")
            .unwrap();
        let now = stint_common::time::now_ms();
        assert_eq!(store.sweep_orphans(now).unwrap(), 0, "too young to judge");
        assert_eq!(
            store.sweep_orphans(now + ORPHAN_GRACE_MS + 60_000).unwrap(),
            1
        );
        let keys: Vec<String> = store
            .objects
            .list()
            .unwrap()
            .into_iter()
            .map(|l| l.key)
            .collect();
        assert_eq!(keys, [format!("{device}/{id}.jpg")]);
        assert_eq!(
            store.capture_bytes(id).unwrap().as_deref(),
            Some(&b"image"[..])
        );
    }
}
