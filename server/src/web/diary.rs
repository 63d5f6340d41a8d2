//! The work diary as arithmetic: minutes and captures grouped into segments
//! with their activity, counts and top applications (a day's bounds in a
//! person's zone are `crate::days`). No HTTP and no database here.

use chrono_tz::Tz;

use crate::store::{DiaryCapture, DiaryMinute};

pub use crate::days::{clock, day_bounds, day_of};

/// One segment of the diary.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start_ms: i64,
    pub end_ms: i64,
    /// (id, kind, monitor, sealed).
    pub captures: Vec<(String, String, String, bool)>,
    /// Minute records in it, and those with input (not idle).
    pub minutes: usize,
    /// The time those records cover.
    pub seconds: u64,
    pub active: usize,
    pub keystrokes: u32,
    pub clicks: u32,
    /// Keys + clicks of each minute, in order, for the bar strip.
    pub per_minute: Vec<u32>,
    /// Applications by minutes, most first, at most three.
    pub top_apps: Vec<(String, usize)>,
    pub top_title: Option<String>,
    /// The device's privacy rules that changed minutes here, with how many.
    pub rules: Vec<(String, usize)>,
    /// The rule that kept the segment's screenshot from being taken.
    pub shot_skipped: Option<String>,
}

impl Segment {
    pub fn activity_percent(&self) -> u32 {
        (self.active * 100).checked_div(self.minutes).unwrap_or(0) as u32
    }
}

/// Groups a day's records into segments of `seg_ms` (aligned to the epoch,
/// as the agent aligns them); a segment with neither minutes nor captures
/// is left out.
pub fn segments(minutes: &[DiaryMinute], captures: &[DiaryCapture], seg_ms: i64) -> Vec<Segment> {
    use std::collections::BTreeMap;
    let seg_ms = seg_ms.max(60_000);
    let mut by: BTreeMap<i64, (Vec<&DiaryMinute>, Vec<&DiaryCapture>)> = BTreeMap::new();
    for m in minutes {
        by.entry(m.start_ms.div_euclid(seg_ms))
            .or_default()
            .0
            .push(m);
    }
    for c in captures {
        by.entry(c.taken_ms.div_euclid(seg_ms))
            .or_default()
            .1
            .push(c);
    }
    by.into_iter()
        .map(|(slot, (ms, cs))| {
            let mut apps: BTreeMap<&str, usize> = BTreeMap::new();
            let mut titles: BTreeMap<&str, usize> = BTreeMap::new();
            let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
            for m in &ms {
                if let Some(r) = m.privacy_rule.as_deref() {
                    *rules.entry(r).or_default() += 1;
                }
                if let Some(a) = m.app.as_deref() {
                    *apps.entry(a).or_default() += 1;
                }
                if let Some(t) = m.title.as_deref() {
                    *titles.entry(t).or_default() += 1;
                }
            }
            let mut top_apps: Vec<(String, usize)> =
                apps.into_iter().map(|(a, n)| (a.to_string(), n)).collect();
            top_apps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top_apps.truncate(3);
            let top_title = titles
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(t, _)| t.to_string());
            Segment {
                start_ms: slot * seg_ms,
                end_ms: (slot + 1) * seg_ms,
                captures: cs
                    .iter()
                    .map(|c| (c.id.clone(), c.kind.clone(), c.monitor.clone(), c.sealed))
                    .collect(),
                minutes: ms.len(),
                seconds: ms.iter().map(|m| u64::from(m.seconds)).sum(),
                active: ms.iter().filter(|m| m.is_active()).count(),
                keystrokes: ms.iter().map(|m| m.keystrokes).sum(),
                clicks: ms.iter().map(|m| m.clicks).sum(),
                per_minute: ms.iter().map(|m| m.keystrokes + m.clicks).collect(),
                top_apps,
                top_title,
                rules: rules.into_iter().map(|(r, n)| (r.to_string(), n)).collect(),
                shot_skipped: ms.iter().find_map(|m| m.screenshot_skipped.clone()),
            }
        })
        .collect()
}

/// A day's offline time as the diary lists it, each line with its state
/// (a CSS class), and the approved seconds within [from_ms, to_ms).
pub fn offline_lines(
    entries: &[crate::store::Offline],
    names: &crate::store::Names,
    tz: Tz,
    (from_ms, to_ms): (i64, i64),
) -> (Vec<(&'static str, String)>, u64) {
    use crate::store::OfflineState;
    let mut approved = 0;
    let lines = entries
        .iter()
        .map(|o| {
            let state = match (o.state, o.auto) {
                (OfflineState::Pending, _) => "waiting for a decision".to_string(),
                (OfflineState::Approved, true) => "approved by the policy".to_string(),
                (s, _) => format!(
                    "{} by {}{}",
                    s.name(),
                    o.decided_by.as_deref().unwrap_or("?"),
                    o.decision_reason
                        .as_deref()
                        .map(|r| format!(": {}", super::format::visible(r)))
                        .unwrap_or_default()
                ),
            };
            if o.state == OfflineState::Approved {
                approved += ((o.to_ms.min(to_ms) - o.from_ms.max(from_ms)).max(0) / 1000) as u64;
            }
            (
                o.state.name(),
                format!(
                    "{}–{} ({}) {} — “{}” · {state}",
                    clock(o.from_ms, tz),
                    clock(o.to_ms, tz),
                    super::format::hm(o.seconds()),
                    super::format::visible(&names.label(&o.work)),
                    super::format::visible(&o.reason),
                ),
            )
        })
        .collect();
    (lines, approved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn minutes_and_captures_fall_into_their_segments() {
        let t0 = utc("2026-11-29T10:00:00Z");
        let minute = |i: i64, keys: u32, idle: bool, app: &str| DiaryMinute {
            start_ms: t0 + i * 60_000,
            seconds: 60,
            from_secs: 0,
            keystrokes: keys,
            clicks: 1,
            scrolls: 0,
            idle,
            app: Some(app.into()),
            title: Some(format!("{app} window")),
            project_id: None,
            task_id: None,
            privacy_rule: None,
            screenshot_skipped: None,
        };
        let minutes = [
            minute(0, 10, false, "xterm"),
            minute(1, 0, true, "xterm"),
            minute(2, 5, false, "firefox"),
            minute(3, 7, false, "xterm"),
            minute(12, 1, false, "firefox"),
        ];
        let captures = [DiaryCapture {
            id: "c1".into(),
            taken_ms: t0 + 4 * 60_000 + 5_000,
            kind: "screenshot".into(),
            monitor: "M".into(),
            sealed: false,
        }];
        let segs = segments(&minutes, &captures, 600_000);
        assert_eq!(segs.len(), 2);
        let s = &segs[0];
        assert_eq!((s.start_ms, s.end_ms), (t0, t0 + 600_000));
        assert_eq!((s.minutes, s.active, s.activity_percent()), (4, 3, 75));
        assert_eq!(s.seconds, 240);
        assert_eq!((s.keystrokes, s.clicks), (22, 4));
        assert_eq!(s.per_minute, [11, 1, 6, 8]);
        assert_eq!(s.top_apps[0], ("xterm".to_string(), 3));
        assert_eq!(s.top_title.as_deref(), Some("xterm window"));
        assert_eq!(s.captures[0].0, "c1");
        assert_eq!(segs[1].captures.len(), 0);
    }
}
