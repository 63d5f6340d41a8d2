//! The tray's work menus: "Project ▸" (the projects and tasks with today's
//! time on each, and "No project") and, while an idle span waits for a
//! decision, "Away 10:42-11:17 ▸" (Discard, Keep, Keep as a project),
//! announced once per span by a desktop notification.
//!
//! The entries are computed from the daemon's status by pure functions;
//! the menus are rebuilt only when the entries themselves change, and
//! otherwise only their texts are updated, so an open menu stays usable.

use std::collections::BTreeSet;

use stint::ipc::Request;
use stint::status::hours_minutes;
use stint::work::WorkStatus;
use stint_proto::{Decision, Work};
use tray_icon::menu::{Menu, MenuId, MenuItem, Submenu};

/// Projects shown in the menu at most: the ones with time today first.
const MAX_PROJECTS: usize = 15;

/// What a click on an entry asks the daemon for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Work(Work),
    Idle {
        id: String,
        decision: Decision,
        work: Option<Work>,
    },
}

impl Pick {
    fn request(&self) -> Request {
        match self {
            Pick::Work(w) => Request::Switch {
                project: w.project_id.clone(),
                task: w.task_id.clone(),
            },
            Pick::Idle { id, decision, work } => Request::DecideIdle {
                id: Some(id.clone()),
                decision: *decision,
                project: work.as_ref().and_then(|w| w.project_id.clone()),
                task: work.as_ref().and_then(|w| w.task_id.clone()),
            },
        }
    }
}

/// The "Project ▸" title and entries.
pub fn project_entries(s: &WorkStatus) -> (String, Vec<(String, Pick)>) {
    let mark = |w: &Work| if *w == s.current { "● " } else { "   " };
    let mut projects: Vec<_> = s.projects.projects.iter().collect();
    projects.sort_by_key(|p| {
        (
            std::cmp::Reverse(s.today_on(Some(&p.id), None)),
            p.name.to_lowercase(),
        )
    });
    let mut out = Vec::new();
    for p in projects.into_iter().take(MAX_PROJECTS) {
        let w = Work {
            project_id: Some(p.id.clone()),
            task_id: None,
        };
        let name = match &p.client {
            Some(c) => format!("{} ({c})", p.name),
            None => p.name.clone(),
        };
        out.push((
            format!(
                "{}{name}  {}",
                mark(&w),
                hours_minutes(s.today_on(Some(&p.id), None))
            ),
            Pick::Work(w),
        ));
        for t in &p.tasks {
            let w = Work {
                project_id: Some(p.id.clone()),
                task_id: Some(t.id.clone()),
            };
            out.push((
                format!(
                    "{}    {} / {}  {}",
                    mark(&w),
                    p.name,
                    t.name,
                    hours_minutes(s.today_on(Some(&p.id), Some(&t.id)))
                ),
                Pick::Work(w),
            ));
        }
    }
    let none = Work::default();
    let label = if s.required {
        "No project (your organisation requires one)"
    } else {
        "No project"
    };
    out.push((
        format!(
            "{}{label}  {}",
            mark(&none),
            hours_minutes(s.today_on(None, None))
        ),
        Pick::Work(none),
    ));
    let title = match &s.allowance {
        Some(a) if a.hard_stop && a.remaining_secs == 0 => {
            format!("Project: {} ({} used up)", s.label, a.what)
        }
        Some(a) if a.warn => format!(
            "Project: {} ({} left of {})",
            s.label,
            hours_minutes(a.remaining_secs),
            a.what
        ),
        _ => format!("Project: {}", s.label),
    };
    (title, out)
}

/// The "Away ▸" title and entries for the oldest span waiting; `None`
/// when nothing waits.
pub fn away_entries(s: &WorkStatus) -> Option<(String, Vec<(String, Pick)>)> {
    let span = s.pending_idle.first()?;
    let more = s.pending_idle.len() - 1;
    let title = if more > 0 {
        format!("Away {} (and {more} more)", span.span_text())
    } else {
        format!("Away {}", span.span_text())
    };
    let pick = |decision, work: Option<Work>| Pick::Idle {
        id: span.id.clone(),
        decision,
        work,
    };
    let mut out = vec![
        ("Discard".to_string(), pick(Decision::Discard, None)),
        (
            format!("Keep ({})", s.projects.label(&span.work)),
            pick(Decision::Keep, None),
        ),
    ];
    for p in s.projects.projects.iter().take(MAX_PROJECTS) {
        let w = Work {
            project_id: Some(p.id.clone()),
            task_id: None,
        };
        if w != span.work {
            out.push((format!("Keep as {}", p.name), pick(Decision::Keep, Some(w))));
        }
    }
    Some((title, out))
}

/// What the desktop notification of a waiting span says.
const ANNOUNCE_BODY: &str = "Was it work? Choose Discard, Keep or Keep as another project under \"Away\" in the stint menu, or run stint idle. Nothing is lost meanwhile; after 24 hours the policy decides.";

/// The notifications (summary, body) for spans waiting that were not
/// announced yet; `announced` keeps the ids of those still waiting.
pub fn announce(announced: &mut BTreeSet<String>, s: &WorkStatus) -> Vec<(String, String)> {
    announced.retain(|id| s.pending_idle.iter().any(|p| &p.id == id));
    s.pending_idle
        .iter()
        .filter(|p| announced.insert(p.id.clone()))
        .map(|p| (format!("Away {}", p.span_text()), ANNOUNCE_BODY.to_string()))
        .collect()
}

/// One submenu and the picks behind its items.
struct Picks {
    menu: Submenu,
    items: Vec<(MenuItem, Pick)>,
}

impl Picks {
    fn new(title: &str) -> Picks {
        Picks {
            menu: Submenu::new(title, true),
            items: Vec::new(),
        }
    }

    /// Shows `entries`: texts updated in place when the picks are the same
    /// ones, the items replaced otherwise.
    fn show(&mut self, title: &str, entries: Vec<(String, Pick)>) {
        self.menu.set_text(title);
        let same = self.items.len() == entries.len()
            && self
                .items
                .iter()
                .zip(&entries)
                .all(|((_, a), (_, b))| a == b);
        if same {
            for ((item, _), (text, _)) in self.items.iter().zip(&entries) {
                if item.text() != *text {
                    item.set_text(text);
                }
            }
            return;
        }
        for (item, _) in self.items.drain(..) {
            let _ = self.menu.remove(&item);
        }
        for (text, pick) in entries {
            let item = MenuItem::new(&text, true, None);
            if self.menu.append(&item).is_ok() {
                self.items.push((item, pick));
            }
        }
    }

    fn request(&self, id: &MenuId) -> Option<Request> {
        self.items
            .iter()
            .find(|(item, _)| item.id() == id)
            .map(|(_, p)| p.request())
    }
}

pub struct WorkMenu {
    project: Picks,
    away: Picks,
    away_shown: bool,
}

impl WorkMenu {
    pub fn new() -> WorkMenu {
        WorkMenu {
            project: Picks::new("Project: Unassigned"),
            away: Picks::new("Away"),
            away_shown: false,
        }
    }

    /// The project submenu, for the menu's first build.
    pub fn project_menu(&self) -> &Submenu {
        &self.project.menu
    }

    /// Entries the menu holds above the separator besides the toggle.
    pub fn extra_items(&self) -> usize {
        1 + usize::from(self.away_shown)
    }

    /// Follows the daemon's status; `menu` holds the project submenu at
    /// position 1, and the away submenu goes right after it.
    pub fn show(&mut self, menu: &Menu, s: &WorkStatus) {
        let (title, entries) = project_entries(s);
        self.project.show(&title, entries);
        match (away_entries(s), self.away_shown) {
            (Some((title, entries)), shown) => {
                if !shown {
                    tracing::info!(span = %title, "idle span waits for a decision");
                }
                self.away.show(&title, entries);
                if shown || menu.insert(&self.away.menu, 2).is_ok() {
                    self.away_shown = true;
                }
            }
            (None, true) => {
                if menu.remove(&self.away.menu).is_ok() {
                    self.away_shown = false;
                }
            }
            (None, false) => {}
        }
    }

    /// The request behind a clicked item of either submenu.
    pub fn request(&self, id: &MenuId) -> Option<Request> {
        self.project
            .request(id)
            .or_else(|| self.away.request(id).filter(|_| self.away_shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stint::model::IdleSpan;
    use stint_proto::{ProjectChoice, TaskChoice, WorkList};

    fn status() -> WorkStatus {
        let p = |id: &str, name: &str, tasks: &[(&str, &str)]| ProjectChoice {
            id: id.into(),
            name: name.into(),
            client: None,
            tasks: tasks
                .iter()
                .map(|(id, name)| TaskChoice {
                    id: (*id).into(),
                    name: (*name).into(),
                })
                .collect(),
            policy: Default::default(),
            allowance: None,
        };
        let w = |p: &str, t: Option<&str>| Work {
            project_id: Some(p.into()),
            task_id: t.map(str::to_string),
        };
        WorkStatus {
            current: w("p2", Some("t1")),
            label: "Shop / Build".into(),
            required: false,
            projects: WorkList {
                projects: vec![p("p1", "Admin", &[]), p("p2", "Shop", &[("t1", "Build")])],
            },
            today: vec![(w("p2", Some("t1")), 3600), (Work::default(), 60)],
            pending_idle: vec![],
            ..WorkStatus::default()
        }
    }

    #[test]
    fn projects_with_time_today_come_first_and_the_choice_is_marked() {
        let (title, entries) = project_entries(&status());
        assert_eq!(title, "Project: Shop / Build");
        let texts: Vec<_> = entries.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "   Shop  1h 00m",
                "●     Shop / Build  1h 00m",
                "   Admin  0h 00m",
                "   No project  0h 01m"
            ]
        );
        assert_eq!(
            entries[0].1.request(),
            Request::Switch {
                project: Some("p2".into()),
                task: None
            }
        );
        let mut warned = status();
        warned.allowance = Some(stint::work::AllowanceNow {
            project: "Shop".into(),
            remaining_secs: 600,
            warn: true,
            hard_stop: true,
            what: "the project's budget of 10 h".into(),
        });
        assert_eq!(
            project_entries(&warned).0,
            "Project: Shop / Build (0h 10m left of the project's budget of 10 h)"
        );
    }

    #[test]
    fn a_waiting_span_offers_discard_keep_and_keep_as_each_other_project() {
        let mut s = status();
        assert!(away_entries(&s).is_none());
        s.pending_idle.push(IdleSpan {
            id: "i1".into(),
            start: "2026-12-03T10:42:00Z".into(),
            end: "2026-12-03T11:17:00Z".into(),
            utc_offset: 0,
            decision: None,
            auto: false,
            work: s.current.clone(),
            decided_at: None,
        });
        let (title, entries) = away_entries(&s).unwrap();
        assert!(title.ends_with("(35 min)"), "{title}");
        let texts: Vec<_> = entries.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Discard",
                "Keep (Shop / Build)",
                "Keep as Admin",
                "Keep as Shop"
            ]
        );
        assert_eq!(
            entries[2].1.request(),
            Request::DecideIdle {
                id: Some("i1".into()),
                decision: Decision::Keep,
                project: Some("p1".into()),
                task: None
            }
        );
    }

    /// Each waiting span is announced once, and one decided and gone
    /// leaves room for a later span with the same texts.
    #[test]
    fn each_waiting_span_is_announced_once() {
        let span = |id: &str| IdleSpan {
            id: id.into(),
            start: "2026-12-03T10:42:00Z".into(),
            end: "2026-12-03T11:17:00Z".into(),
            utc_offset: 0,
            decision: None,
            auto: false,
            work: Work::default(),
            decided_at: None,
        };
        let mut announced = BTreeSet::new();
        let mut s = status();
        assert!(announce(&mut announced, &s).is_empty());
        s.pending_idle.push(span("i1"));
        let first = announce(&mut announced, &s);
        assert_eq!(first.len(), 1);
        assert!(
            first[0].0.starts_with("Away ") && first[0].0.ends_with("(35 min)"),
            "{first:?}"
        );
        assert!(first[0].1.contains("stint idle"));
        assert!(announce(&mut announced, &s).is_empty(), "once");
        s.pending_idle.push(span("i2"));
        assert_eq!(announce(&mut announced, &s).len(), 1, "the new one only");
        s.pending_idle.clear();
        assert!(announce(&mut announced, &s).is_empty());
        assert!(announced.is_empty(), "decided spans are forgotten");
    }
}
