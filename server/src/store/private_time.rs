//! Private time as the server keeps it: spans in which the device recorded
//! nothing, by the person's own choice. The person sees their spans; anyone
//! else with a grant to their diary or reports sees a day's total only.

use super::sql::params;
use super::{Grant, Store, StoreError};
use crate::access::Action;

/// What a viewer is shown of a day's private time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateView {
    /// The person's own: each span, [from, to) in epoch ms.
    Spans(Vec<(i64, i64)>),
    /// Someone else's: seconds in all.
    Total(u64),
}

impl PrivateView {
    pub fn secs(&self) -> u64 {
        match self {
            PrivateView::Spans(s) => total_secs(s),
            PrivateView::Total(t) => *t,
        }
    }
}

fn total_secs(spans: &[(i64, i64)]) -> u64 {
    spans.iter().map(|(a, b)| ((b - a) / 1000) as u64).sum()
}

impl Store {
    /// The grant's person's private time in [from_ms, to_ms), each span cut
    /// to the range.
    pub fn day_private(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<PrivateView, StoreError> {
        let person = grant.person_for(&[Action::ViewDiary, Action::ViewReport])?;
        let spans = self.private_of(person, from_ms, to_ms)?;
        Ok(if grant.is_own() {
            PrivateView::Spans(spans)
        } else {
            PrivateView::Total(total_secs(&spans))
        })
    }

    fn private_of(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let (lo, hi) =
            super::diary::text_bounds(from_ms - stint_proto::MAX_PRIVATE_SPAN_SECS * 1000, to_ms);
        let rows: Vec<(String, String)> = self.conn().query_map(
            "SELECT s.start, s.end_at FROM private_spans s JOIN devices d ON d.id = s.device_id
             WHERE d.person_id = ?1 AND s.start >= ?2 AND s.start <= ?3",
            params![person, lo, hi],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut spans: Vec<(i64, i64)> = rows
            .into_iter()
            .filter_map(|(a, b)| Some((super::diary::ms(&a)?, super::diary::ms(&b)?)))
            .map(|(a, b)| (a.max(from_ms), b.min(to_ms)))
            .filter(|(a, b)| a < b)
            .collect();
        spans.sort();
        Ok(spans)
    }
}
