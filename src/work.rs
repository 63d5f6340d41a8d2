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
    /// Seconds tracked today per choice.
    pub today: Vec<(Work, u64)>,
    /// Idle spans waiting for a decision, oldest first.
    pub pending_idle: Vec<IdleSpan>,
}

impl WorkStatus {
    pub fn gather(store: &Store, policy: &Policy, day_start_ms: i64) -> Result<Self, QueueError> {
        let current = store.work()?;
        let projects = store.projects()?;
        Ok(WorkStatus {
            label: projects.label(&current),
            current,
            required: policy.project_required == Some(true),
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
    #[error("a task needs its project: give --project too")]
    TaskWithoutProject,
    #[error("your organisation requires a project for tracked time: choose one with `stint start --project NAME` or in the tray's Project menu")]
    ProjectRequired,
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

/// Whether tracking may run under `work` with `policy`.
pub fn may_track(policy: &Policy, work: &Work) -> Result<(), Refused> {
    if policy.project_required == Some(true) && work.is_unassigned() {
        Err(Refused::ProjectRequired)
    } else {
        Ok(())
    }
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
        if let Err(e) = may_track(&store.policy()?, &work) {
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
        for (policy, work, ok) in [
            (&required, &Work::default(), false),
            (&required, &some, true),
            (&Policy::default(), &Work::default(), true),
        ] {
            assert_eq!(may_track(policy, work).is_ok(), ok, "{policy:?} {work:?}");
        }
    }
}
