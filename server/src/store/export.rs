//! Reading what arrived: every device's records for `stint-server export`,
//! and the file of a stored image.

use super::sql::{params, OptionalExtension};
use serde::Serialize;
use stint_proto::{CaptureKind, CaptureRecord, MinuteRecord, SessionRecord};

use super::{rfc3339, DeviceInfo, Grant, Store, StoreError};
use crate::access::Action;

/// A stored record plus what the server adds to it.
#[derive(Debug, Clone, Serialize)]
pub struct Received<T> {
    #[serde(flatten)]
    pub record: T,
    pub device_id: String,
    pub received_at: String,
    pub public_ip: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceRecords {
    #[serde(flatten)]
    pub device: DeviceInfo,
    pub sessions: Vec<Received<SessionRecord>>,
    pub minutes: Vec<Received<MinuteRecord>>,
    pub captures: Vec<Received<CaptureRecord>>,
}

impl Store {
    /// Every device with its records; `day` ("YYYY-MM-DD", UTC) narrows the
    /// records to that day, `device` to that device.
    pub fn export(
        &self,
        device: Option<&str>,
        day: Option<&str>,
    ) -> Result<Vec<DeviceRecords>, StoreError> {
        let (from, to) = match day {
            Some(d) => (format!("{d}T00:00:00"), format!("{d}T99")),
            None => (String::new(), "~".to_string()),
        };
        let mut out = Vec::new();
        for d in self.devices()? {
            if device.is_some_and(|want| want != d.device_id) {
                continue;
            }
            let mut conn = self.conn();
            let id = d.device_id.clone();
            let sessions = conn.query_map("SELECT body, received_ms, public_ip FROM sessions WHERE device_id = ?1 ORDER BY id", params![&id], |r| {
                    let body: String = r.get(0)?;
                    Ok((body, r.get::<i64>(1)?, r.get::<String>(2)?))
                })?
                .into_iter()
                .filter_map(|(body, ms, ip)| {
                    let record: SessionRecord = serde_json::from_str(&body).ok()?;
                    Some(Received {
                        record,
                        device_id: id.clone(),
                        received_at: rfc3339(ms),
                        public_ip: ip,
                    })
                })
                .collect();
            let minutes = conn.query_map("SELECT id, start, utc_offset, seconds, keystrokes, clicks, scrolls, idle, title, exe_path, app, session_id, received_ms, public_ip,
                        synthetic_keystrokes, synthetic_clicks, counts_unknown, project_id, task_id, from_secs, privacy_rule, screenshot_skipped
                 FROM minutes WHERE device_id = ?1 AND start >= ?2 AND start < ?3 ORDER BY start, id", params![id, from, to], |r| {
                    Ok(Received {
                        record: MinuteRecord {
                            id: r.get(0)?,
                            start: r.get(1)?,
                            utc_offset: r.get(2)?,
                            seconds: r.get(3)?,
                            keystrokes: r.get(4)?,
                            clicks: r.get(5)?,
                            scrolls: r.get(6)?,
                            synthetic_keystrokes: r.get(14)?,
                            synthetic_clicks: r.get(15)?,
                            counts_unknown: r.get(16)?,
                            project_id: r.get(17)?,
                            task_id: r.get(18)?,
                            privacy_rule: r.get(20)?,
                            screenshot_skipped: r.get(21)?,
                            from_secs: r.get(19)?,
                            idle: r.get(7)?,
                            title: r.get(8)?,
                            exe_path: r.get(9)?,
                            app: r.get(10)?,
                            session_id: r.get(11)?,
                        },
                        device_id: id.clone(),
                        received_at: rfc3339(r.get(12)?),
                        public_ip: r.get(13)?,
                    })
                })?;
            let captures = conn.query_map("SELECT id, kind, taken_at, utc_offset, monitor, width, height, bytes, format, session_id, received_ms, public_ip, sealed
                 FROM captures WHERE device_id = ?1 AND taken_at >= ?2 AND taken_at < ?3 ORDER BY taken_at, id", params![id, from, to], |r| {
                    let kind: String = r.get(1)?;
                    Ok(Received {
                        record: CaptureRecord {
                            id: r.get(0)?,
                            kind: CaptureKind::parse(&kind).unwrap_or(CaptureKind::Screenshot),
                            taken_at: r.get(2)?,
                            utc_offset: r.get(3)?,
                            monitor: r.get(4)?,
                            width: r.get(5)?,
                            height: r.get(6)?,
                            bytes: r.get::<i64>(7)? as u64,
                            format: r.get(8)?,
                            session_id: r.get(9)?,
                            sealed: r.get(12)?,
                        },
                        device_id: id.clone(),
                        received_at: rfc3339(r.get(10)?),
                        public_ip: r.get(11)?,
                    })
                })?;
            out.push(DeviceRecords {
                device: d,
                sessions,
                minutes,
                captures,
            });
        }
        Ok(out)
    }

    /// Where a stored image is (a path or an s3:// URL), for admins
    /// reading what arrived.
    pub fn capture_location(&self, id: &str) -> Result<String, StoreError> {
        Ok(self.objects.describe(&self.capture_key(id)?))
    }

    /// Everything recorded about the grant's person, device by device, for
    /// "Download my data".
    pub fn person_records(&self, grant: &Grant) -> Result<Vec<DeviceRecords>, StoreError> {
        let person = grant.person_for(&[Action::Export])?;
        let mut out = Vec::new();
        for device in self.person_devices(person)? {
            out.extend(self.export(Some(&device), None)?);
        }
        Ok(out)
    }

    /// A capture's image bytes, for the export of its owner's data.
    pub fn export_image(&self, grant: &Grant, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let person = grant.person_for(&[Action::Export])?;
        let key: Option<String> = self
            .conn()
            .query_row(
                "SELECT c.file FROM captures c JOIN devices d ON d.id = c.device_id
                 WHERE c.id = ?1 AND d.person_id = ?2",
                params![id, person],
                |r| r.get(0),
            )
            .optional()?;
        match key {
            Some(key) => Ok(self.objects.get(&key)?),
            None => Ok(None),
        }
    }

    fn capture_key(&self, id: &str) -> Result<String, StoreError> {
        let file: Option<String> = self
            .conn()
            .query_row(
                "SELECT file FROM captures WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        file.ok_or_else(|| StoreError::NotFound(format!("no capture {id}")))
    }
}
