//! What a server must refuse in a record and an agent in a policy: each check
//! names the field, the value and what was expected.

use crate::{CaptureMeta, MinuteRecord, SessionRecord};

/// Longest title, path or name a record may carry, in bytes.
pub const MAX_TEXT: usize = 4096;
/// A minute record's counts above this are not a human at a keyboard.
pub const MAX_COUNT_PER_MINUTE: u32 = 100_000;
pub const MAX_OFFSET_SECS: i32 = 18 * 3600;

/// Why a record is refused: the field, its value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub problem: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field {}: {}", self.field, self.problem)
    }
}

pub(crate) fn check(
    ok: bool,
    field: &'static str,
    problem: impl FnOnce() -> String,
) -> Result<(), Invalid> {
    if ok {
        Ok(())
    } else {
        Err(Invalid {
            field,
            problem: problem(),
        })
    }
}

pub(crate) fn check_id(field: &'static str, id: &str) -> Result<(), Invalid> {
    check(
        !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        field,
        || format!("{id:?} is not an id (1-64 characters of A-Z, a-z, 0-9, - and _)"),
    )
}

/// Wire timestamps are RFC 3339 in UTC, spelled one way only
/// (`2026-11-29T10:00:00Z`, optionally with a fraction), so that stored
/// strings sort and compare as the instants they name.
pub fn is_wire_time(t: &str) -> bool {
    let b = t.as_bytes();
    (20..=30).contains(&b.len())
        && b[10] == b'T'
        && b.ends_with(b"Z")
        && chrono::DateTime::parse_from_rfc3339(t).is_ok()
}

pub(crate) fn check_time(field: &'static str, t: &str) -> Result<(), Invalid> {
    check(is_wire_time(t), field, || {
        format!("{t:?} is not a UTC timestamp like 2026-11-29T10:00:00Z")
    })
}

pub(crate) fn check_text(field: &'static str, t: Option<&str>) -> Result<(), Invalid> {
    let len = t.map_or(0, str::len);
    check(len <= MAX_TEXT, field, || {
        format!("{len} bytes, at most {MAX_TEXT} allowed")
    })
}

pub(crate) fn check_offset(o: i32) -> Result<(), Invalid> {
    check(o.abs() <= MAX_OFFSET_SECS, "utc_offset", || {
        format!("{o} is outside -{MAX_OFFSET_SECS}..={MAX_OFFSET_SECS} seconds")
    })
}

impl MinuteRecord {
    /// What a server must refuse; the agent never produces such a record.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_id("id", &self.id)?;
        check_id("session_id", &self.session_id)?;
        check_time("start", &self.start)?;
        check_offset(self.utc_offset)?;
        check(self.seconds <= 3600, "seconds", || {
            format!("{} is more than an hour", self.seconds)
        })?;
        check(self.from_secs + self.seconds <= 3600, "from_secs", || {
            format!(
                "{} + {} seconds runs past an hour from the minute's start",
                self.from_secs, self.seconds
            )
        })?;
        for (field, n) in [
            ("keystrokes", self.keystrokes),
            ("clicks", self.clicks),
            ("scrolls", self.scrolls),
        ] {
            check(n <= MAX_COUNT_PER_MINUTE, field, || {
                format!("{n} is more than {MAX_COUNT_PER_MINUTE}")
            })?;
        }
        for (field, part, whole) in [
            (
                "synthetic_keystrokes",
                self.synthetic_keystrokes,
                self.keystrokes,
            ),
            ("synthetic_clicks", self.synthetic_clicks, self.clicks),
        ] {
            check(part <= whole, field, || {
                format!("{part} is more than the minute's {whole} in all")
            })?;
        }
        check_text("title", self.title.as_deref())?;
        check_text("exe_path", self.exe_path.as_deref())?;
        check_text("app", self.app.as_deref())?;
        check_text("privacy_rule", self.privacy_rule.as_deref())?;
        check_text("screenshot_skipped", self.screenshot_skipped.as_deref())?;
        check_work(self.project_id.as_deref(), self.task_id.as_deref())
    }
}

/// A project id and a task id as a record carries them: each an id, and a
/// task only within a project.
pub(crate) fn check_work(project: Option<&str>, task: Option<&str>) -> Result<(), Invalid> {
    if let Some(p) = project {
        check_id("project_id", p)?;
    }
    if let Some(t) = task {
        check_id("task_id", t)?;
        check(project.is_some(), "task_id", || {
            format!("{t:?} names a task but the record names no project")
        })?;
    }
    Ok(())
}

impl SessionRecord {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_id("id", &self.id)?;
        check_time("started_at", &self.started_at)?;
        check_offset(self.utc_offset)?;
        for (field, t) in [
            ("os_type", &self.os_type),
            ("os_version", &self.os_version),
            ("kernel", &self.kernel),
            ("hostname", &self.hostname),
            ("os_user", &self.os_user),
            ("agent_version", &self.agent_version),
        ] {
            check_text(field, Some(t))?;
        }
        check(self.ip_addresses.len() <= 64, "ip_addresses", || {
            format!("{} addresses, at most 64", self.ip_addresses.len())
        })?;
        for ip in &self.ip_addresses {
            check(ip.len() <= 64, "ip_addresses", || {
                format!("an address of {} bytes, at most 64", ip.len())
            })?;
        }
        Ok(())
    }
}

impl CaptureMeta {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_id("session_id", &self.session_id)?;
        check_time("taken_at", &self.taken_at)?;
        check_offset(self.utc_offset)?;
        check_text("monitor", Some(&self.monitor))?;
        check(
            (1..=65535).contains(&self.width) && (1..=65535).contains(&self.height),
            "width/height",
            || format!("{}x{} is not an image size", self.width, self.height),
        )?;
        check(
            matches!(self.format.as_str(), "webp" | "jpeg" | "png"),
            "format",
            || format!("{:?} is not one of webp, jpeg, png", self.format),
        )
    }
}

/// Checks a capture id the same way a record id is checked.
pub fn validate_id(id: &str) -> Result<(), Invalid> {
    check_id("id", id)
}
