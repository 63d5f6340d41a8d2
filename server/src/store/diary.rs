//! A person's day as the web diary shows it: their devices' minutes and
//! captures between two instants, and who a capture belongs to.

use super::sql::{params, OptionalExtension};

use super::{Store, StoreError};

/// One minute as the diary needs it.
#[derive(Debug, Clone)]
pub struct DiaryMinute {
    pub start_ms: i64,
    pub seconds: u32,
    pub keystrokes: u32,
    pub clicks: u32,
    pub scrolls: u32,
    pub idle: bool,
    pub app: Option<String>,
    pub title: Option<String>,
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
}

/// A capture as the image routes need it.
#[derive(Debug, Clone)]
pub struct StoredCapture {
    /// `None`: its device is bound to nobody.
    pub person: Option<String>,
    /// The image's object key; its thumbnail's is `thumbs::thumb_key(key)`.
    pub key: String,
    pub format: String,
    pub taken_ms: i64,
}

pub(super) fn ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Text bounds a little wider than [from, to): stored timestamps are UTC
/// strings, compared exactly after parsing.
pub(super) fn text_bounds(from_ms: i64, to_ms: i64) -> (String, String) {
    (super::rfc3339(from_ms - 1000), super::rfc3339(to_ms + 1000))
}

impl Store {
    /// The minutes and captures of every device bound to `person` in
    /// [from_ms, to_ms), oldest first.
    pub fn day(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Vec<DiaryMinute>, Vec<DiaryCapture>), StoreError> {
        let (lo, hi) = text_bounds(from_ms, to_ms);
        let mut conn = self.conn();
        let mut minutes: Vec<DiaryMinute> = conn.query_map("SELECT m.start, m.seconds, m.keystrokes, m.clicks, m.scrolls, m.idle, m.app, m.title
             FROM minutes m JOIN devices d ON d.id = m.device_id
             WHERE d.person_id = ?1 AND m.start >= ?2 AND m.start <= ?3", params![person, lo, hi], |r| {
                let start: String = r.get(0)?;
                Ok((
                    start,
                    DiaryMinute {
                        start_ms: 0,
                        seconds: r.get(1)?,
                        keystrokes: r.get(2)?,
                        clicks: r.get(3)?,
                        scrolls: r.get(4)?,
                        idle: r.get(5)?,
                        app: r.get(6)?,
                        title: r.get(7)?,
                    },
                ))
            })?
            .into_iter()
            .filter_map(|(start, m)| {
                let start_ms = ms(&start)?;
                (from_ms..to_ms)
                    .contains(&start_ms)
                    .then_some(DiaryMinute { start_ms, ..m })
            })
            .collect();
        minutes.sort_by_key(|m| m.start_ms);
        let mut captures: Vec<DiaryCapture> = conn
            .query_map(
                "SELECT c.id, c.taken_at, c.kind, c.monitor
             FROM captures c JOIN devices d ON d.id = c.device_id
             WHERE d.person_id = ?1 AND c.taken_at >= ?2 AND c.taken_at <= ?3",
                params![person, lo, hi],
                |r| {
                    let taken: String = r.get(1)?;
                    Ok((taken, r.get::<String>(0)?, r.get(2)?, r.get(3)?))
                },
            )?
            .into_iter()
            .filter_map(|(taken, id, kind, monitor)| {
                let taken_ms = ms(&taken)?;
                (from_ms..to_ms)
                    .contains(&taken_ms)
                    .then_some(DiaryCapture {
                        id,
                        taken_ms,
                        kind,
                        monitor,
                    })
            })
            .collect();
        captures.sort_by(|a, b| (a.taken_ms, &a.monitor).cmp(&(b.taken_ms, &b.monitor)));
        Ok((minutes, captures))
    }

    /// Whose a capture is, where its image is, and when it was taken;
    /// `None` when there is no such capture.
    pub fn stored_capture(&self, id: &str) -> Result<Option<StoredCapture>, StoreError> {
        let row: Option<(Option<String>, String, String, String)> = self
            .conn()
            .query_row(
                "SELECT d.person_id, c.file, c.format, c.taken_at FROM captures c JOIN devices d ON d.id = c.device_id
                 WHERE c.id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(row.map(|(person, file, format, taken)| StoredCapture {
            person,
            key: file,
            format,
            taken_ms: ms(&taken).unwrap_or(0),
        }))
    }
}
