//! Time per project and task, no HTTP and no database: a person's minutes
//! with the idle spans they decided on, summed to the second per (project,
//! task). A discarded span's seconds leave tracked time; a kept span's
//! count as kept idle time, on the span's project when it names one.

use std::collections::BTreeMap;

use super::{DiaryIdle, DiaryMinute};
use stint_proto::{Decision, Work};

/// Seconds of one (project, task).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// Worked time: every recorded second but the discarded ones.
    pub tracked: u64,
    /// Of `tracked`, seconds of minutes with input that were not idle.
    pub active: u64,
    /// Of `tracked`, idle seconds nobody decided on (older agents, spans
    /// still waiting on the device).
    pub idle: u64,
    /// Of `tracked`, idle seconds someone (or the policy) decided to keep.
    pub idle_kept: u64,
    /// Not in `tracked`: idle seconds decided as not worked.
    pub discarded: u64,
    /// Not in `tracked` and never activity: approved offline time, which
    /// the agent did not record.
    pub offline: u64,
}

impl std::ops::AddAssign for Spent {
    fn add_assign(&mut self, o: Spent) {
        self.tracked += o.tracked;
        self.active += o.active;
        self.idle += o.idle;
        self.idle_kept += o.idle_kept;
        self.discarded += o.discarded;
        self.offline += o.offline;
    }
}

/// Seconds of [a, b) and [c, d) in common, from milliseconds.
fn overlap_secs(a: i64, b: i64, c: i64, d: i64) -> u64 {
    ((b.min(d) - a.max(c)).max(0) / 1000) as u64
}

fn work(project: &Option<String>, task: &Option<String>) -> Work {
    Work {
        project_id: project.clone(),
        task_id: task.clone(),
    }
}

/// The minutes' seconds per project choice, with the spans applied; a
/// minute's seconds lie `from_secs` into its slot.
pub fn by_work(minutes: &[DiaryMinute], spans: &[DiaryIdle]) -> BTreeMap<Work, Spent> {
    let mut out: BTreeMap<Work, Spent> = BTreeMap::new();
    for m in minutes {
        let own = work(&m.project_id, &m.task_id);
        let start = m.start_ms + i64::from(m.from_secs) * 1000;
        let end = start + i64::from(m.seconds) * 1000;
        let mut left = u64::from(m.seconds);
        for s in spans {
            let ov = overlap_secs(start, end, s.start_ms, s.end_ms).min(left);
            if ov == 0 {
                continue;
            }
            left -= ov;
            match s.decision {
                Decision::Discard => out.entry(own.clone()).or_default().discarded += ov,
                Decision::Keep => {
                    let to = match &s.project_id {
                        Some(_) => work(&s.project_id, &s.task_id),
                        None => own.clone(),
                    };
                    let e = out.entry(to).or_default();
                    e.tracked += ov;
                    e.idle_kept += ov;
                }
            }
        }
        let e = out.entry(own).or_default();
        e.tracked += left;
        if m.is_active() {
            e.active += left;
        } else if m.idle {
            e.idle += left;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_763_200_000; // 2025-12-03T12:00:00Z

    fn minute(i: i64, seconds: u32, keys: u32, idle: bool, project: Option<&str>) -> DiaryMinute {
        DiaryMinute {
            start_ms: T0 + i * 60_000,
            seconds,
            from_secs: 0,
            keystrokes: keys,
            clicks: 0,
            scrolls: 0,
            idle,
            app: None,
            title: None,
            project_id: project.map(str::to_string),
            task_id: None,
            privacy_rule: None,
            screenshot_skipped: None,
        }
    }

    fn span(from_s: i64, to_s: i64, decision: Decision, project: Option<&str>) -> DiaryIdle {
        DiaryIdle {
            start_ms: T0 + from_s * 1000,
            end_ms: T0 + to_s * 1000,
            decision,
            auto: false,
            project_id: project.map(str::to_string),
            task_id: None,
        }
    }

    fn on(p: Option<&str>) -> Work {
        Work {
            project_id: p.map(str::to_string),
            task_id: None,
        }
    }

    /// A minute split at 10:00:25 by a switch (25 s on A, 35 s on B), then
    /// an absence from 10:01:15 to 10:04:30 kept as project C, and one from
    /// 10:05:00 to 10:06:00 discarded.
    #[test]
    fn seconds_follow_switches_and_idle_decisions() {
        let minutes = [
            minute(0, 25, 5, false, Some("A")),
            DiaryMinute {
                from_secs: 25,
                ..minute(0, 35, 3, false, Some("B"))
            },
            minute(1, 60, 2, false, Some("B")),
            minute(2, 60, 0, true, Some("B")),
            minute(3, 60, 0, true, Some("B")),
            minute(4, 60, 4, false, Some("B")),
            minute(5, 60, 0, true, Some("B")),
            minute(6, 30, 1, false, None),
        ];
        let spans = [
            span(75, 270, Decision::Keep, Some("C")),
            span(300, 360, Decision::Discard, None),
        ];
        let got = by_work(&minutes, &spans);
        let spent = |tracked, active, idle_kept, discarded| Spent {
            tracked,
            active,
            idle: 0,
            idle_kept,
            discarded,
            offline: 0,
        };
        assert_eq!(got[&on(Some("A"))], spent(25, 25, 0, 0));
        // B: 35 + 15 (10:01:00-10:01:15) + 30 (10:04:30-10:05:00) active.
        assert_eq!(got[&on(Some("B"))], spent(80, 80, 0, 60));
        assert_eq!(got[&on(Some("C"))], spent(195, 0, 195, 0));
        assert_eq!(got[&on(None)], spent(30, 30, 0, 0));
        let mut t = Spent::default();
        for s in got.values() {
            t += *s;
        }
        assert_eq!(
            t.tracked + t.discarded,
            25 + 35 + 60 * 5 + 30,
            "no second lost"
        );
        assert_eq!(t.tracked, 330);
    }

    /// Without decisions idle minutes stay idle time, as before projects.
    #[test]
    fn undecided_idle_stays_idle() {
        let got = by_work(
            &[minute(0, 60, 0, true, None), minute(1, 60, 0, false, None)],
            &[],
        );
        assert_eq!(
            got[&on(None)],
            Spent {
                tracked: 120,
                active: 0,
                idle: 60,
                idle_kept: 0,
                discarded: 0,
                offline: 0,
            }
        );
    }
}
