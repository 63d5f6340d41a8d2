//! What time is for: the projects and tasks a server offers a person, the
//! choice an agent records minutes against, and the decision on a span of
//! idle time (docs/protocol.md, "Projects, tasks and idle spans").

use serde::{Deserialize, Serialize};

use crate::validate::{check, check_id, check_offset, check_time, check_work, Invalid};

/// The project (and task) time is recorded against; both `None`: unassigned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Work {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
}

impl Work {
    pub fn is_unassigned(&self) -> bool {
        self.project_id.is_none()
    }
}

/// A task a person may track time on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskChoice {
    pub id: String,
    pub name: String,
}

/// A project a person may track time on, with its open tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectChoice {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default)]
    pub tasks: Vec<TaskChoice>,
    /// The project's layer of the policy, laid over the person's while
    /// time is tracked on it (screenshots, blur, idle threshold and
    /// decision, task required). Empty: the person's policy alone.
    #[serde(default, skip_serializing_if = "is_empty_policy")]
    pub policy: crate::Policy,
    /// The tightest budget or limit on the person's time on it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<Allowance>,
}

/// What is left of a budget or limit, as of the heartbeat: the agent
/// subtracts what it tracks on the project afterwards, so it holds
/// offline for the rest of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowance {
    /// Seconds left, as of the heartbeat's `server_time`.
    pub remaining_secs: u64,
    /// Below this many seconds left the person is warned.
    pub warn_below_secs: u64,
    /// At none left tracking on the project stops; without, a warning only.
    pub hard_stop: bool,
    /// The limit in words: "the project's budget of 100 h this month".
    pub what: String,
}

fn is_empty_policy(p: &crate::Policy) -> bool {
    *p == crate::Policy::default()
}

/// The heartbeat's list of projects for the device's person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkList {
    pub projects: Vec<ProjectChoice>,
}

/// The longest list a server may send, and the longest name in it: a
/// hostile server must not grow the agent's state without bound.
pub const MAX_PROJECTS: usize = 2_000;
pub const MAX_TASKS: usize = 500;
pub const MAX_NAME: usize = 200;

impl WorkList {
    /// What an agent refuses in a list a server sent.
    pub fn validate(&self) -> Result<(), Invalid> {
        check(self.projects.len() <= MAX_PROJECTS, "projects", || {
            format!("{} projects, at most {MAX_PROJECTS}", self.projects.len())
        })?;
        let name = |field, n: &str| {
            check(!n.is_empty() && n.len() <= MAX_NAME, field, || {
                format!("a name of {} bytes, expected 1 to {MAX_NAME}", n.len())
            })
        };
        for p in &self.projects {
            check_id("projects.id", &p.id)?;
            name("projects.name", &p.name)?;
            if let Some(c) = &p.client {
                name("projects.client", c)?;
            }
            check(p.tasks.len() <= MAX_TASKS, "projects.tasks", || {
                format!("{} tasks, at most {MAX_TASKS}", p.tasks.len())
            })?;
            for t in &p.tasks {
                check_id("tasks.id", &t.id)?;
                name("tasks.name", &t.name)?;
            }
            p.policy.validate()?;
            if let Some(a) = &p.allowance {
                name("allowance.what", &a.what)?;
            }
        }
        Ok(())
    }

    pub fn project(&self, id: &str) -> Option<&ProjectChoice> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The project called `name` (or with that id), ignoring case.
    pub fn find(&self, name: &str) -> Option<&ProjectChoice> {
        self.projects
            .iter()
            .find(|p| p.id == name || p.name.eq_ignore_ascii_case(name))
    }

    /// "Project ▸ Task" for a choice; "Unassigned" for none, and the id
    /// where the list no longer has it.
    pub fn label(&self, work: &Work) -> String {
        let Some(pid) = &work.project_id else {
            return "Unassigned".into();
        };
        let Some(p) = self.project(pid) else {
            return format!("project {pid}");
        };
        match &work.task_id {
            None => p.name.clone(),
            Some(tid) => match p.tasks.iter().find(|t| &t.id == tid) {
                Some(t) => format!("{} / {}", p.name, t.name),
                None => format!("{} / task {tid}", p.name),
            },
        }
    }
}

impl ProjectChoice {
    pub fn task(&self, name: &str) -> Option<&TaskChoice> {
        self.tasks
            .iter()
            .find(|t| t.id == name || t.name.eq_ignore_ascii_case(name))
    }
}

/// What became of a span of idle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Counted as worked time (on the span's project, if any).
    Keep,
    /// Not worked: left out of tracked time.
    Discard,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Discard => "discard",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "keep" => Some(Decision::Keep),
            "discard" => Some(Decision::Discard),
            _ => None,
        }
    }
}

/// A span without input longer than the idle threshold, dated from the
/// last input to the input that ended it, and what was decided about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdleSpanRecord {
    pub id: String,
    /// The last input before the span, RFC 3339 UTC.
    pub start: String,
    /// The input that ended it (or tracking stopping), RFC 3339 UTC.
    pub end: String,
    pub utc_offset: i32,
    pub decision: Decision,
    /// The policy's default decided, after nobody answered for 24 hours.
    #[serde(default)]
    pub auto: bool,
    /// When kept: the project and task the time is for; absent, the ones
    /// the minutes carry.
    #[serde(default, flatten)]
    pub work: Work,
    /// When it was decided, RFC 3339 UTC.
    pub decided_at: String,
}

/// The longest idle span a record may name.
pub const MAX_IDLE_SPAN_SECS: i64 = 7 * 86_400;

impl IdleSpanRecord {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_id("id", &self.id)?;
        check_time("start", &self.start)?;
        check_time("end", &self.end)?;
        check_time("decided_at", &self.decided_at)?;
        check_offset(self.utc_offset)?;
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).map(|t| t.timestamp());
        let (start, end) = (at(&self.start), at(&self.end));
        if let (Ok(s), Ok(e)) = (start, end) {
            check(s < e && e - s <= MAX_IDLE_SPAN_SECS, "end", || {
                format!(
                    "{} is not after {} by at most {MAX_IDLE_SPAN_SECS} s",
                    self.end, self.start
                )
            })?;
        }
        check_work(
            self.work.project_id.as_deref(),
            self.work.task_id.as_deref(),
        )
    }

    pub fn start_ms(&self) -> i64 {
        ms(&self.start)
    }

    pub fn end_ms(&self) -> i64 {
        ms(&self.end)
    }
}

fn ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> IdleSpanRecord {
        IdleSpanRecord {
            id: "i1".into(),
            start: "2026-12-03T10:42:00Z".into(),
            end: "2026-12-03T11:17:00Z".into(),
            utc_offset: 0,
            decision: Decision::Keep,
            auto: false,
            work: Work {
                project_id: Some("p1".into()),
                task_id: None,
            },
            decided_at: "2026-12-03T11:17:05Z".into(),
        }
    }

    #[test]
    fn idle_spans_are_checked_field_by_field() {
        type Edit = fn(&mut IdleSpanRecord);
        let cases: &[(Edit, &str)] = &[
            (|s| s.id = "a b".into(), "id"),
            (|s| s.end = s.start.clone(), "end"),
            (|s| s.end = "2026-12-20T10:00:00Z".into(), "end"),
            (|s| s.start = "10:42".into(), "start"),
            (|s| s.work.task_id = Some("t/1".into()), "task_id"),
        ];
        assert_eq!(span().validate(), Ok(()));
        for (edit, field) in cases {
            let mut s = span();
            edit(&mut s);
            assert_eq!(s.validate().unwrap_err().field, *field, "{s:?}");
        }
        let wire = serde_json::to_value(span()).unwrap();
        assert_eq!(wire["project_id"], "p1", "the choice is flat on the wire");
        assert_eq!(wire["decision"], "keep");
    }

    #[test]
    fn a_hostile_project_list_is_refused_and_labels_read_back() {
        let list = WorkList {
            projects: vec![ProjectChoice {
                id: "p1".into(),
                name: "Website".into(),
                client: Some("ACME".into()),
                tasks: vec![TaskChoice {
                    id: "t1".into(),
                    name: "Design".into(),
                }],
                policy: crate::Policy::default(),
                allowance: None,
            }],
        };
        assert_eq!(list.validate(), Ok(()));
        let work = |p: Option<&str>, t: Option<&str>| Work {
            project_id: p.map(str::to_string),
            task_id: t.map(str::to_string),
        };
        for (w, want) in [
            (work(None, None), "Unassigned"),
            (work(Some("p1"), None), "Website"),
            (work(Some("p1"), Some("t1")), "Website / Design"),
            (work(Some("p9"), None), "project p9"),
        ] {
            assert_eq!(list.label(&w), want);
        }
        assert_eq!(list.find("website").map(|p| p.id.as_str()), Some("p1"));
        let mut bad = list.clone();
        bad.projects[0].name = "x".repeat(MAX_NAME + 1);
        assert_eq!(bad.validate().unwrap_err().field, "projects.name");
        let mut bad = list.clone();
        bad.projects[0].tasks[0].id = "../".into();
        assert_eq!(bad.validate().unwrap_err().field, "tasks.id");
        let mut bad = list;
        bad.projects[0].policy.segment_secs = Some(0);
        assert_eq!(bad.validate().unwrap_err().field, "segment_secs");
    }
}
