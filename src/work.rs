//! Choosing what the time is for, without a daemon or a GUI: names from the
//! command line or the tray resolved against the project list the server
//! sent last, the project-required rule, and the decision on idle spans.

use stint_proto::{Decision, Policy, Work, WorkList};

use serde::{Deserialize, Serialize};

use crate::model::IdleSpan;
use crate::queue::{QueueError, Store};

/// What `stint status`, `stint projects`, `stint idle` and the tray show of
/// the work side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkStatus {
    /// The choice the minutes are recorded against now.
    pub current: Work,
    /// "Website / Design", or "Unassigned".
    pub label: String,
    /// The policy requires a project to track.
    pub required: bool,
    /// The list the server sent last.
    pub projects: WorkList,
    /// The current project's layer of the policy (empty: none).
    #[serde(default)]
    pub project_policy: Policy,
    /// Seconds tracked today per choice.
    pub today: Vec<(Work, u64)>,
    /// Idle spans waiting for a decision, oldest first.
    pub pending_idle: Vec<IdleSpan>,
    /// The current project's budget or limit, if it has one.
    #[serde(default)]
    pub allowance: Option<AllowanceNow>,
    /// Why a budget or limit stopped tracking, until it starts again.
    #[serde(default)]
    pub stopped: Option<String>,
}

impl WorkStatus {
    pub fn gather(store: &Store, policy: &Policy, day_start_ms: i64) -> Result<Self, QueueError> {
        let current = store.work()?;
        let projects = store.projects()?;
        let project_policy = current
            .project_id
            .as_deref()
            .and_then(|id| projects.project(id))
            .map(|p| p.policy.clone())
            .unwrap_or_default();
        Ok(WorkStatus {
            allowance: allowance_now(store, &projects, &current, stint_common::time::now_ms())?,
            stopped: store.stopped()?,
            project_policy,
            label: projects.label(&current),
            current,
            required: effective(policy, &projects, &Work::default()).project_required == Some(true),
            today: store.today_by_work(day_start_ms)?,
            projects,
            pending_idle: store.pending_idle()?,
        })
    }

    /// Seconds tracked today on a project (all its tasks) or, with
    /// `task`, on that task; unassigned time with `None`.
    pub fn today_on(&self, project: Option<&str>, task: Option<&str>) -> u64 {
        self.today
            .iter()
            .filter(|(w, _)| {
                w.project_id.as_deref() == project
                    && task.is_none_or(|t| w.task_id.as_deref() == Some(t))
            })
            .map(|(_, s)| s)
            .sum()
    }
}

/// Why a choice was refused, in words for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no project {0:?} among the {1} this computer knows (`stint projects` lists them; the list comes from the server)")]
    NoProject(String, usize),
    #[error("project {project:?} has no task {task:?} (tasks: {known})")]
    NoTask {
        project: String,
        task: String,
        known: String,
    },
    #[error(
        "tracking is off, so nothing is recorded anyway: private time pauses tracking that is on"
    )]
    NotTracking,
    #[error("private time is turned off by your organisation's policy")]
    PrivateOff,
    #[error("today's {0} minutes of private time are used up")]
    PrivateUsedUp(u64),
    #[error("a task needs its project: give --project too")]
    TaskWithoutProject,
    #[error("your organisation requires a project for tracked time: choose one with `stint start --project NAME` or in the tray's Project menu")]
    ProjectRequired,
    #[error("project {0:?} requires a task: choose one with --task (`stint projects` lists them) or in the tray's Project menu")]
    TaskRequired(String),
    #[error("{what} is used up: tracking on {project:?} stops; choose another project or ask your manager")]
    LimitReached { project: String, what: String },
    #[error("no idle span {0} waits for a decision (`stint idle` lists them)")]
    NoSpan(String),
    #[error("no idle span waits for a decision")]
    NothingPending,
}

/// The project and task named `project` and `task` (names, ignoring case,
/// or ids); `None` for both is "no project".
pub fn resolve(
    list: &WorkList,
    project: Option<&str>,
    task: Option<&str>,
) -> Result<Work, Refused> {
    let Some(name) = project else {
        return match task {
            Some(_) => Err(Refused::TaskWithoutProject),
            None => Ok(Work::default()),
        };
    };
    let p = list
        .find(name)
        .ok_or_else(|| Refused::NoProject(name.to_string(), list.projects.len()))?;
    let task_id = match task {
        None => None,
        Some(t) => Some(
            p.task(t)
                .ok_or_else(|| Refused::NoTask {
                    project: p.name.clone(),
                    task: t.to_string(),
                    known: p
                        .tasks
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?
                .id
                .clone(),
        ),
    };
    Ok(Work {
        project_id: Some(p.id.clone()),
        task_id,
    })
}

/// The policy in force while tracking under `work`: the server's, with
/// the project's own layer over it.
pub fn effective(policy: &Policy, list: &WorkList, work: &Work) -> Policy {
    match work.project_id.as_deref().and_then(|id| list.project(id)) {
        Some(p) => policy.overlay(&p.policy),
        None => policy.clone(),
    }
}

/// Whether tracking may run under `work` with `policy`.
pub fn may_track(policy: &Policy, list: &WorkList, work: &Work) -> Result<(), Refused> {
    let policy = effective(policy, list, work);
    if policy.project_required == Some(true) && work.is_unassigned() {
        return Err(Refused::ProjectRequired);
    }
    if policy.task_required == Some(true) && work.task_id.is_none() {
        if let Some(id) = &work.project_id {
            let name = list.project(id).map_or(id.clone(), |p| p.name.clone());
            return Err(Refused::TaskRequired(name));
        }
    }
    Ok(())
}

/// The same, for what the queue holds, and the project's allowance.
pub fn may_track_now(store: &Store, work: &Work) -> Result<Result<(), Refused>, QueueError> {
    let list = store.projects()?;
    if let Some(a) = allowance_now(store, &list, work, stint_common::time::now_ms())? {
        if a.hard_stop && a.remaining_secs == 0 {
            return Ok(Err(Refused::LimitReached {
                project: a.project,
                what: a.what,
            }));
        }
    }
    Ok(may_track(&store.policy()?, &list, work))
}

/// A project's allowance as of now: what the server said was left, less
/// what was tracked on the project since (the rest of the day offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceNow {
    pub project: String,
    pub remaining_secs: u64,
    /// Below the warning level.
    pub warn: bool,
    pub hard_stop: bool,
    pub what: String,
}

/// `list` is the project list the queue holds.
pub fn allowance_now(
    store: &Store,
    list: &WorkList,
    work: &Work,
    now_ms: i64,
) -> Result<Option<AllowanceNow>, QueueError> {
    let Some(pid) = &work.project_id else {
        return Ok(None);
    };
    let Some((p, a)) = list
        .project(pid)
        .and_then(|p| p.allowance.as_ref().map(|a| (p, a)))
    else {
        return Ok(None);
    };
    let day_ms = crate::queue::local_day_start_ms(now_ms);
    let today = store
        .today_by_project(day_ms)?
        .get(pid)
        .copied()
        .unwrap_or(0);
    let base = store.projects_baseline()?;
    let since = if base.day_ms == day_ms {
        today.saturating_sub(base.secs.get(pid).copied().unwrap_or(0))
    } else {
        today
    };
    let remaining_secs = a.remaining_secs.saturating_sub(since);
    Ok(Some(AllowanceNow {
        project: p.name.clone(),
        remaining_secs,
        warn: remaining_secs <= a.warn_below_secs,
        hard_stop: a.hard_stop,
        what: a.what.clone(),
    }))
}

/// The choice, made in one turn of the queue thread: resolved against the
/// stored list, checked against the policy while tracking, then stored.
pub fn switch(
    store: &mut Store,
    tracking: bool,
    project: Option<&str>,
    task: Option<&str>,
) -> Result<Result<Work, Refused>, QueueError> {
    let work = match resolve(&store.projects()?, project, task) {
        Ok(w) => w,
        Err(e) => return Ok(Err(e)),
    };
    if tracking {
        if let Err(e) = may_track_now(store, &work)? {
            return Ok(Err(e));
        }
    }
    store.set_work(&work)?;
    Ok(Ok(work))
}

/// Decides the pending span `id`, or every pending span without one;
/// keeping it may name the project it was for.
pub fn decide(
    store: &mut Store,
    id: Option<&str>,
    decision: Decision,
    project: Option<&str>,
    task: Option<&str>,
    now_ms: i64,
) -> Result<Result<usize, Refused>, QueueError> {
    let pending = store.pending_idle()?;
    let chosen: Vec<_> = pending
        .into_iter()
        .filter(|s| id.is_none_or(|id| s.id == id))
        .collect();
    if chosen.is_empty() {
        return Ok(Err(match id {
            Some(id) => Refused::NoSpan(id.to_string()),
            None => Refused::NothingPending,
        }));
    }
    let assigned = match project {
        None => None,
        Some(_) => match resolve(&store.projects()?, project, task) {
            Ok(w) => Some(w),
            Err(e) => return Ok(Err(e)),
        },
    };
    let mut n = 0;
    for span in chosen {
        let work = assigned.clone().unwrap_or(span.work.clone());
        if store
            .decide_idle(&span.id, decision, &work, false, now_ms)?
            .is_some()
        {
            n += 1;
        }
    }
    Ok(Ok(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stint_proto::{ProjectChoice, TaskChoice};

    fn list() -> WorkList {
        WorkList {
            projects: vec![ProjectChoice {
                id: "p1".into(),
                name: "Website".into(),
                client: None,
                tasks: vec![TaskChoice {
                    id: "t1".into(),
                    name: "Design".into(),
                }],
                policy: Policy::default(),
                allowance: None,
            }],
        }
    }

    #[test]
    fn names_resolve_or_are_refused_in_words() {
        let w = |p: &str, t: Option<&str>| Work {
            project_id: Some(p.into()),
            task_id: t.map(str::to_string),
        };
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Result<Work, &'a str>);
        let cases: &[Case] = &[
            (None, None, Ok(Work::default())),
            (Some("website"), None, Ok(w("p1", None))),
            (Some("p1"), Some("DESIGN"), Ok(w("p1", Some("t1")))),
            (Some("Shop"), None, Err("no project \"Shop\"")),
            (Some("Website"), Some("Build"), Err("tasks: Design")),
            (None, Some("Design"), Err("needs its project")),
        ];
        for (p, t, want) in cases {
            let got = resolve(&list(), *p, *t);
            match want {
                Ok(work) => assert_eq!(got.as_ref(), Ok(work), "{p:?} {t:?}"),
                Err(text) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(text), "{p:?} {t:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn a_required_project_refuses_unassigned_tracking_only() {
        let required = Policy {
            project_required: Some(true),
            ..Policy::default()
        };
        let some = resolve(&list(), Some("Website"), None).unwrap();
        let task = resolve(&list(), Some("Website"), Some("Design")).unwrap();
        let mut tasks = list();
        tasks.projects[0].policy.task_required = Some(true);
        let none = Policy::default();
        for (policy, list, work, ok) in [
            (&required, &list(), &Work::default(), false),
            (&required, &list(), &some, true),
            (&none, &list(), &Work::default(), true),
            (&none, &tasks, &some, false),
            (&none, &tasks, &task, true),
            (&none, &tasks, &Work::default(), true),
        ] {
            assert_eq!(
                may_track(policy, list, work).is_ok(),
                ok,
                "{policy:?} {work:?}"
            );
        }
        let e = may_track(&none, &tasks, &some).unwrap_err().to_string();
        assert!(e.contains("\"Website\" requires a task"), "{e}");
    }
}
