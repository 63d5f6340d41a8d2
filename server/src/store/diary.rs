//! A person's day as the web diary shows it: their devices' minutes and
//! captures between two instants, who a capture belongs to, and its image
//! (thumbnail or full size) for whoever holds a grant to see it.

use super::sql::{params, OptionalExtension};

use super::{Grant, Person, Store, StoreError};
use crate::access::Action;

/// One minute as the diary needs it.
#[derive(Debug, Clone)]
pub struct DiaryMinute {
    pub start_ms: i64,
    pub seconds: u32,
    /// Where in the slot the seconds begin.
    pub from_secs: u32,
    pub keystrokes: u32,
    pub clicks: u32,
    pub scrolls: u32,
    pub idle: bool,
    pub app: Option<String>,
    pub title: Option<String>,
    pub project_id: Option<String>,
    pub task_id: Option<String>,
    /// The device's privacy rule that redacted or dropped the window.
    pub privacy_rule: Option<String>,
    /// The rule that kept the segment's screenshot from being taken.
    pub screenshot_skipped: Option<String>,
}

/// A decided idle span as the diary and the reports need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiaryIdle {
    pub start_ms: i64,
    pub end_ms: i64,
    pub decision: stint_proto::Decision,
    /// Decided by the policy's default, not by the person.
    pub auto: bool,
    pub project_id: Option<String>,
    pub task_id: Option<String>,
}

impl DiaryMinute {
    /// A minute with input that is not idle: what "active" means in the
    /// diary, the timesheet and the reports alike.
    pub fn is_active(&self) -> bool {
        !self.idle && self.keystrokes + self.clicks + self.scrolls > 0
    }
}

/// One capture as the diary lists it (the image is fetched separately).
#[derive(Debug, Clone)]
pub struct DiaryCapture {
    pub id: String,
    pub taken_ms: i64,
    pub kind: String,
    pub monitor: String,
    /// Sealed on the device: only the viewer's browser can open it.
    pub sealed: bool,
}

/// Whose a capture is and when it was taken: what the image routes need to
/// ask for a grant, and nothing of the image.
#[derive(Debug, Clone)]
pub struct CaptureOwner {
    /// `None`: its device is bound to nobody.
    pub person: Option<Person>,
    pub taken_ms: i64,
}

/// Which image of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Thumbnail,
    Full,
}

/// An image read for a request: a thumbnail whole, a full image streamed.
pub enum Image {
    Whole {
        bytes: Vec<u8>,
        mime: &'static str,
    },
    Stream {
        chunks: super::objects::Chunks,
        mime: &'static str,
    },
}

/// Whether `at_ms` falls in the slot of one of `minutes`.
pub(super) fn during(minutes: &[DiaryMinute], at_ms: i64) -> bool {
    minutes
        .iter()
        .any(|m| (m.start_ms..m.start_ms + 60_000).contains(&at_ms))
}

pub(super) fn ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Text bounds a little wider than [from, to): stored timestamps are UTC
/// strings, compared exactly after parsing.
pub(super) fn text_bounds(from_ms: i64, to_ms: i64) -> (String, String) {
    (
        super::rfc3339(from_ms.saturating_sub(1000)),
        super::rfc3339(to_ms.saturating_add(1000)),
    )
}

/// Whether a read of minutes includes their windows (application and
/// title): the diary shows them, sums need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Windows {
    Read,
    Left,
}

impl Store {
    /// The minutes and captures of every device bound to the grant's person
    /// in [from_ms, to_ms), oldest first.
    pub fn day(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Vec<DiaryMinute>, Vec<DiaryCapture>), StoreError> {
        let person = grant.person_for(&[Action::ViewDiary, Action::ViewReport])?;
        let (lo, hi) = text_bounds(from_ms, to_ms);
        let mut minutes = self.minutes_of(person, from_ms, to_ms, Windows::Read, i64::MAX)?;
        let mut conn = self.conn();
        let mut captures: Vec<DiaryCapture> = conn
            .query_map(
                "SELECT c.id, c.taken_at, c.kind, c.monitor, c.sealed
             FROM captures c JOIN devices d ON d.id = c.device_id
             WHERE d.person_id = ?1 AND c.taken_at >= ?2 AND c.taken_at <= ?3",
                params![person, lo, hi],
                |r| {
                    let taken: String = r.get(1)?;
                    Ok((taken, r.get::<String>(0)?, r.get(2)?, r.get(3)?, r.get(4)?))
                },
            )?
            .into_iter()
            .filter_map(|(taken, id, kind, monitor, sealed)| {
                let taken_ms = ms(&taken)?;
                (from_ms..to_ms)
                    .contains(&taken_ms)
                    .then_some(DiaryCapture {
                        id,
                        taken_ms,
                        kind,
                        monitor,
                        sealed,
                    })
            })
            .collect();
        captures.sort_by(|a, b| (a.taken_ms, &a.monitor).cmp(&(b.taken_ms, &b.monitor)));
        // One connection at a time: a pool of one would wait for itself.
        drop(conn);
        // Every reader sees the time as reassigned, never as first sent.
        let rs = self.reassignments_where(person, from_ms, to_ms)?;
        super::reassign::apply(&rs, &mut minutes, &mut []);
        // A lead's grant: the minutes on the lead's projects, and what was
        // captured while they ran.
        if grant.projects().is_some() {
            minutes.retain(|m| grant.opens(m.project_id.as_deref()));
            captures.retain(|c| during(&minutes, c.taken_ms));
        }
        Ok((minutes, captures))
    }

    /// `person`'s minutes that start in [from_ms, to_ms), oldest first, as
    /// sent (not reassigned); only those the server had by `received_by`
    /// (`i64::MAX`: all), which is what an approved period counts.
    pub(super) fn minutes_of(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
        windows: Windows,
        received_by: i64,
    ) -> Result<Vec<DiaryMinute>, StoreError> {
        let (lo, hi) = text_bounds(from_ms, to_ms);
        let sql = format!(
            "SELECT m.start, m.seconds, m.keystrokes, m.clicks, m.scrolls, m.idle,
                    m.project_id, m.task_id, m.from_secs, {}
             FROM minutes m JOIN devices d ON d.id = m.device_id
             WHERE d.person_id = ?1 AND m.start >= ?2 AND m.start <= ?3 AND m.received_ms <= ?4",
            match windows {
                Windows::Read => "m.app, m.title, m.privacy_rule, m.screenshot_skipped",
                Windows::Left => "NULL, NULL, NULL, NULL",
            }
        );
        let rows = self
            .conn()
            .query_map(&sql, params![person, lo, hi, received_by], |r| {
                Ok((
                    r.get::<String>(0)?,
                    DiaryMinute {
                        start_ms: 0,
                        seconds: r.get(1)?,
                        keystrokes: r.get(2)?,
                        clicks: r.get(3)?,
                        scrolls: r.get(4)?,
                        idle: r.get(5)?,
                        project_id: r.get(6)?,
                        task_id: r.get(7)?,
                        from_secs: r.get(8)?,
                        app: r.get(9)?,
                        title: r.get(10)?,
                        privacy_rule: r.get(11)?,
                        screenshot_skipped: r.get(12)?,
                    },
                ))
            })?;
        let mut minutes: Vec<DiaryMinute> = rows
            .into_iter()
            .filter_map(|(start, m)| {
                let start_ms = ms(&start)?;
                (from_ms..to_ms)
                    .contains(&start_ms)
                    .then_some(DiaryMinute { start_ms, ..m })
            })
            .collect();
        minutes.sort_by_key(|m| m.start_ms);
        Ok(minutes)
    }

    /// The decided idle spans of the grant's person that overlap
    /// [from_ms, to_ms), oldest first.
    pub fn day_idle(
        &self,
        grant: &Grant,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<DiaryIdle>, StoreError> {
        let person = grant.person_for(&[Action::ViewDiary, Action::ViewReport])?;
        let mut spans = self.idle_of(person, from_ms, to_ms, i64::MAX)?;
        let rs = self.reassignments_where(person, from_ms, to_ms)?;
        super::reassign::apply(&rs, &mut [], &mut spans);
        if grant.projects().is_some() {
            // A span without a project of its own is the time of the
            // minutes under it: shown where those are the lead's.
            let (minutes, _) = self.day(grant, from_ms - 3_600_000, to_ms)?;
            spans.retain(|s| match &s.project_id {
                Some(p) => grant.opens(Some(p)),
                None => minutes
                    .iter()
                    .any(|m| m.start_ms + 60_000 > s.start_ms && m.start_ms < s.end_ms),
            });
        }
        Ok(spans)
    }

    /// `person`'s decided idle spans that overlap [from_ms, to_ms), oldest
    /// first, as sent (not reassigned), of those the server had by
    /// `received_by`.
    pub(super) fn idle_of(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
        received_by: i64,
    ) -> Result<Vec<DiaryIdle>, StoreError> {
        // A span is at most a week long (stint-proto refuses longer ones).
        let (lo, hi) = text_bounds(from_ms - stint_proto::MAX_IDLE_SPAN_SECS * 1000, to_ms);
        let rows = self.conn().query_map(
            "SELECT s.start, s.end_at, s.decision, s.auto, s.project_id, s.task_id
             FROM idle_spans s JOIN devices d ON d.id = s.device_id
             WHERE d.person_id = ?1 AND s.start >= ?2 AND s.start <= ?3 AND s.received_ms <= ?4",
            params![person, lo, hi, received_by],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<bool>(3)?,
                    r.get::<Option<String>>(4)?,
                    r.get::<Option<String>>(5)?,
                ))
            },
        )?;
        let mut spans: Vec<DiaryIdle> = rows
            .into_iter()
            .filter_map(|(start, end, decision, auto, project_id, task_id)| {
                Some(DiaryIdle {
                    start_ms: ms(&start)?,
                    end_ms: ms(&end)?,
                    decision: stint_proto::Decision::parse(&decision)?,
                    auto,
                    project_id,
                    task_id,
                })
            })
            .filter(|s| s.start_ms < to_ms && s.end_ms > from_ms)
            .collect();
        spans.sort_by_key(|s| s.start_ms);
        Ok(spans)
    }

    /// Whose a capture is, and when it was taken; `None` when there is no
    /// such capture.
    pub fn capture_owner(&self, id: &str) -> Result<Option<CaptureOwner>, StoreError> {
        let row: Option<(Option<String>, String)> = self
            .conn()
            .query_row(
                "SELECT d.person_id, c.taken_at FROM captures c JOIN devices d ON d.id = c.device_id
                 WHERE c.id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((person, taken)) = row else {
            return Ok(None);
        };
        let person = match person {
            Some(p) => self.person(&p)?,
            None => None,
        };
        Ok(Some(CaptureOwner {
            person,
            taken_ms: ms(&taken).unwrap_or(0),
        }))
    }

    /// Capture `id`'s image at `size`, for a grant to see its owner's images;
    /// `None` when the capture or its object is gone. A capture without a
    /// thumbnail (PNG, an image the decoder refused, an older upload) is
    /// served at full size, and that look is audited as one at the image
    /// itself: the audit follows what was sent.
    pub fn image(&self, grant: &Grant, id: &str, size: Size) -> Result<Option<Image>, StoreError> {
        let owner = grant.owner_for(&[Action::ViewImage])?;
        let row: Option<(Option<String>, String, String, bool)> = self
            .conn()
            .query_row(
                "SELECT d.person_id, c.file, c.format, c.sealed FROM captures c JOIN devices d ON d.id = c.device_id
                 WHERE c.id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((person, key, format, sealed)) = row else {
            return Ok(None);
        };
        if person.as_deref() != owner {
            return Err(StoreError::WrongGrant(grant.action()));
        }
        if let (Some(_), Some(p)) = (grant.projects(), owner) {
            let taken = self.capture_owner(id)?.map_or(0, |c| c.taken_ms);
            let (mut minutes, _) = self.minutes_for_work(p, taken - 3_600_000, taken + 1)?;
            minutes.retain(|m| grant.opens(m.project_id.as_deref()));
            if !during(&minutes, taken) {
                return Err(StoreError::Denied(
                    "this screenshot was taken outside the time on your projects".into(),
                ));
            }
        }
        // A sealed image is bytes only the viewer's browser can open.
        let mime = |plain| {
            if sealed {
                "application/octet-stream"
            } else {
                plain
            }
        };
        if size == Size::Thumbnail {
            if let Some(bytes) = self.objects.get(&super::thumbs::thumb_key(&key))? {
                return Ok(Some(Image::Whole {
                    bytes,
                    mime: mime("image/webp"),
                }));
            }
            if let (super::Actor::Person(viewer), Some(subject)) = (grant.actor(), owner) {
                self.record_view(viewer, subject, &format!("screenshot {id}"))?;
            }
        }
        let mime = mime(match format.as_str() {
            "jpeg" => "image/jpeg",
            "png" => "image/png",
            _ => "image/webp",
        });
        Ok(self
            .objects
            .stream(&key)?
            .map(|chunks| Image::Stream { chunks, mime }))
    }
}
