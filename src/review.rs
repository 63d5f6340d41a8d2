//! The review window: with one set, each segment's records wait on the device
//! until the segment has ended and the window has passed, and until then the
//! employee may delete the whole segment (its screenshots and its minutes).
//! Pure arithmetic on wall-clock milliseconds; `queue` and `sync` apply it.

use std::time::Duration;

use crate::clock::align_down;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    segment_ms: i64,
    review_ms: i64,
}

/// Why a segment cannot be deleted (now).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDeletable {
    #[error("there is no review window: your organisation's policy or the config (`[privacy] review_delay`) sends records as soon as they are made")]
    NoWindow,
    #[error("its segment is still being recorded; it can be deleted from {0} on")]
    SegmentOpen(String),
    #[error("its review window ended at {0}; it is being uploaded")]
    WindowOver(String),
}

/// The newest segment the employee may delete right now, named by one of its
/// captures (what `stint capture delete` and the tray ask for).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deletable {
    pub capture_id: String,
    /// RFC 3339, UTC: the segment, and when its window closes.
    pub from: String,
    pub to: String,
    pub until: String,
}

/// The segment a deletion removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deleted {
    /// RFC 3339, UTC.
    pub from: String,
    pub to: String,
    pub captures: usize,
    pub minutes: usize,
}

impl Window {
    pub fn new(segment: Duration, review: Duration) -> Window {
        Window {
            segment_ms: (segment.as_millis() as i64).max(1),
            review_ms: review.as_millis() as i64,
        }
    }

    /// Records made before this instant may be uploaded at `now_ms`: those whose
    /// segment ended at least the review window ago. Everything, without a window.
    pub fn upload_before(&self, now_ms: i64) -> i64 {
        if self.review_ms == 0 {
            return i64::MAX;
        }
        // seg_end(t) + review <= now  <=>  t < align_down(now - review)
        align_down(now_ms - self.review_ms, self.segment_ms)
    }

    /// Records made before this instant belong to segments that have ended.
    pub fn ended_before(&self, now_ms: i64) -> i64 {
        align_down(now_ms, self.segment_ms)
    }

    /// `deletable` as a report for the newest capture of an ended segment.
    pub fn describe(&self, capture_id: String, taken_ms: i64, now_ms: i64) -> Option<Deletable> {
        let (from, to) = self.deletable(taken_ms, now_ms).ok()?;
        Some(Deletable {
            capture_id,
            from: crate::model::rfc3339(from),
            to: crate::model::rfc3339(to),
            until: crate::model::rfc3339(to + self.review_ms),
        })
    }

    /// The segment `[start, end)` holding a record made at `taken_ms`, if the
    /// employee may still delete it at `now_ms`: after the segment ended (so no
    /// later minute of it slips through) and before its window ends (after
    /// which it may already be on the server).
    pub fn deletable(&self, taken_ms: i64, now_ms: i64) -> Result<(i64, i64), NotDeletable> {
        if self.review_ms == 0 {
            return Err(NotDeletable::NoWindow);
        }
        let start = align_down(taken_ms, self.segment_ms);
        let end = start + self.segment_ms;
        if now_ms < end {
            return Err(NotDeletable::SegmentOpen(crate::model::rfc3339(end)));
        }
        if now_ms >= end + self.review_ms {
            return Err(NotDeletable::WindowOver(crate::model::rfc3339(
                end + self.review_ms,
            )));
        }
        Ok((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn window(segment_min: u64, review_min: u64) -> Window {
        Window::new(
            Duration::from_secs(segment_min * 60),
            Duration::from_secs(review_min * 60),
        )
    }

    #[test]
    fn upload_cutoff_table() {
        // (segment, review, now) -> records before this are sent
        let cases = [
            ((10, 0, 95 * MIN), i64::MAX),
            ((10, 30, 95 * MIN), 60 * MIN),
            ((10, 30, 100 * MIN), 70 * MIN),
            ((10, 30, 100 * MIN - 1), 60 * MIN),
            ((10, 5, 15 * MIN), 10 * MIN),
        ];
        for ((seg, review, now), want) in cases {
            assert_eq!(
                window(seg, review).upload_before(now),
                want,
                "segment {seg} review {review} now {now}"
            );
        }
    }

    #[test]
    fn deletable_table() {
        let w = window(10, 30);
        let taken = 63 * MIN; // segment [60, 70)
        let cases = [
            (
                65 * MIN,
                Err(NotDeletable::SegmentOpen(crate::model::rfc3339(70 * MIN))),
            ),
            (70 * MIN, Ok((60 * MIN, 70 * MIN))),
            (99 * MIN, Ok((60 * MIN, 70 * MIN))),
            (
                100 * MIN,
                Err(NotDeletable::WindowOver(crate::model::rfc3339(100 * MIN))),
            ),
        ];
        for (now, want) in cases {
            assert_eq!(w.deletable(taken, now), want, "now {now}");
        }
        assert_eq!(
            window(10, 0).deletable(taken, 75 * MIN),
            Err(NotDeletable::NoWindow)
        );
        assert_eq!(w.ended_before(65 * MIN), 60 * MIN);
        let d = w.describe("c".into(), taken, 75 * MIN).unwrap();
        assert_eq!(
            (d.from.as_str(), d.until.as_str()),
            ("1970-01-01T01:00:00Z", "1970-01-01T01:40:00Z")
        );
    }

    #[test]
    fn what_may_be_deleted_has_not_been_sent() {
        // For every instant, a segment is either deletable or uploadable, never both.
        let w = window(10, 30);
        let taken = 63 * MIN;
        for now in (60 * MIN..130 * MIN).step_by(7_000) {
            let sent = taken < w.upload_before(now);
            assert!(!(sent && w.deletable(taken, now).is_ok()), "now {now}");
        }
    }
}
