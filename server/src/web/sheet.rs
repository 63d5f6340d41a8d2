//! Timesheet arithmetic, no HTTP and no database: a person's day summed
//! (tracked, active and idle seconds), the timesheet as CSV, and time per
//! application with its main window.

use chrono::NaiveDate;

use super::format::{field, hm};
use crate::store::worktime::{by_work, Spent};
use crate::store::{DiaryIdle, DiaryMinute, Names, Person};

/// One person's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub email: String,
    pub day: NaiveDate,
    pub time_zone: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
    /// Idle time counted as worked: undecided and kept.
    pub idle_secs: u64,
    /// Of `idle_secs`, what someone decided to keep.
    pub idle_kept_secs: u64,
    /// "Website 1:05; Unassigned 0:10": tracked time per project.
    pub projects: String,
    /// Approved offline time: not tracked, never active.
    pub offline_secs: u64,
    /// Private time: nothing recorded, shown as a total.
    pub private_secs: u64,
}

impl Row {
    pub fn active_percent(&self) -> u64 {
        (self.active_secs * 100)
            .checked_div(self.tracked_secs)
            .unwrap_or(0)
    }
}

/// Sums one day's minutes with the idle spans decided in it.
pub fn row(
    person: &Person,
    day: NaiveDate,
    minutes: &[DiaryMinute],
    spans: &[DiaryIdle],
    names: &Names,
) -> Row {
    let by = by_work(minutes, spans);
    let mut projects: Vec<(String, u64)> = Vec::new();
    for (work, spent) in &by {
        let name = names.project(work.project_id.as_deref());
        match projects.iter_mut().find(|(n, _)| *n == name) {
            Some(p) => p.1 += spent.tracked,
            None => projects.push((name, spent.tracked)),
        }
    }
    projects.retain(|(_, secs)| *secs > 0);
    let sum = |f: fn(&crate::store::Spent) -> u64| by.values().map(f).sum::<u64>();
    Row {
        name: person.name.clone(),
        email: person.email.clone(),
        day,
        time_zone: person.time_zone.clone(),
        tracked_secs: sum(|s| s.tracked),
        active_secs: sum(|s| s.active),
        idle_secs: sum(|s| s.idle + s.idle_kept),
        idle_kept_secs: sum(|s| s.idle_kept),
        projects: projects
            .into_iter()
            .map(|(n, secs)| format!("{n} {}", hm(secs)))
            .collect::<Vec<_>>()
            .join("; "),
        offline_secs: 0,
        private_secs: 0,
    }
}

/// The timesheet as RFC 4180 CSV.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "name,email,day,time_zone,tracked,active,idle,active_percent,tracked_seconds,active_seconds,idle_seconds,idle_kept_seconds,projects,offline,offline_seconds,private,private_seconds\r\n",
    );
    for r in rows {
        out.push_str(
            &[
                field(&r.name),
                field(&r.email),
                r.day.to_string(),
                field(&r.time_zone),
                hm(r.tracked_secs),
                hm(r.active_secs),
                hm(r.idle_secs),
                r.active_percent().to_string(),
                r.tracked_secs.to_string(),
                r.active_secs.to_string(),
                r.idle_secs.to_string(),
                r.idle_kept_secs.to_string(),
                field(&r.projects),
                hm(r.offline_secs),
                r.offline_secs.to_string(),
                hm(r.private_secs),
                r.private_secs.to_string(),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// One person's time on one project and task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    pub project_id: Option<String>,
    pub client: String,
    pub project: String,
    pub task: String,
    pub name: String,
    pub email: String,
    pub spent: Spent,
}

/// A person's rows of the project report, from their time per project
/// choice.
pub fn project_rows(
    person: &Person,
    spent: std::collections::BTreeMap<stint_proto::Work, Spent>,
    names: &Names,
) -> Vec<ProjectRow> {
    spent
        .into_iter()
        .filter(|(_, s)| s.tracked + s.offline > 0)
        .map(|(w, spent)| ProjectRow {
            project_id: w.project_id.clone(),
            client: names.client(w.project_id.as_deref()),
            project: names.project(w.project_id.as_deref()),
            task: names.task(w.task_id.as_deref()),
            name: person.name.clone(),
            email: person.email.clone(),
            spent,
        })
        .collect()
}

/// The project report as RFC 4180 CSV: one row per project, task and person.
pub fn project_csv(rows: &[ProjectRow]) -> String {
    let mut out = String::from(
        "client,project,task,name,email,tracked,active,idle_kept,tracked_seconds,active_seconds,idle_kept_seconds,offline,offline_seconds\r\n",
    );
    for r in rows {
        out.push_str(
            &[
                field(&r.client),
                field(&r.project),
                field(&r.task),
                field(&r.name),
                field(&r.email),
                hm(r.spent.tracked),
                hm(r.spent.active),
                hm(r.spent.idle_kept),
                r.spent.tracked.to_string(),
                r.spent.active.to_string(),
                r.spent.idle_kept.to_string(),
                hm(r.spent.offline),
                r.spent.offline.to_string(),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// Time per application over minutes: (application, seconds, the window
/// title seen most in it), most time first.
pub fn applications(minutes: &[DiaryMinute]) -> Vec<(String, u64, String)> {
    use std::collections::HashMap;
    let mut by: HashMap<&str, (u64, HashMap<&str, u64>)> = HashMap::new();
    for m in minutes.iter().filter(|m| !m.idle) {
        let app = m.app.as_deref().unwrap_or("(unknown)");
        let entry = by.entry(app).or_default();
        entry.0 += u64::from(m.seconds);
        *entry.1.entry(m.title.as_deref().unwrap_or("")).or_default() += u64::from(m.seconds);
    }
    let mut out: Vec<(String, u64, String)> = by
        .into_iter()
        .map(|(app, (secs, titles))| {
            let title = titles
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(t, _)| t.to_string())
                .unwrap_or_default();
            (app.to_string(), secs, title)
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The payroll CSV: approved time only, one row per person, day and
/// project choice, with seconds beside h:mm.
pub fn payroll_csv(rows: &[(Person, crate::store::PayrollDay)], names: &Names) -> String {
    let mut out = String::from(
        "name,email,day,client,project,task,approved,approved_seconds,tracked_seconds,offline_seconds\r\n",
    );
    for (p, d) in rows {
        let project = d.work.project_id.as_deref();
        out.push_str(
            &[
                field(&p.name),
                field(&p.email),
                d.day.to_string(),
                field(&names.client(project)),
                field(&names.project(project)),
                field(&names.task(d.work.task_id.as_deref())),
                hm(d.tracked + d.offline),
                (d.tracked + d.offline).to_string(),
                d.tracked.to_string(),
                d.offline.to_string(),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::store::DiaryMinute;

    #[test]
    fn applications_add_up_active_time_with_their_main_window() {
        let m = |app: &str, title: &str, seconds, idle| DiaryMinute {
            start_ms: 0,
            seconds,
            from_secs: 0,
            keystrokes: 1,
            clicks: 0,
            scrolls: 0,
            idle,
            app: Some(app.into()),
            title: Some(title.into()),
            project_id: None,
            task_id: None,
            privacy_rule: None,
            screenshot_skipped: None,
        };
        let got = applications(&[
            m("code", "main.rs", 60, false),
            m("code", "lib.rs", 60, false),
            m("code", "main.rs", 60, false),
            m("firefox", "docs", 60, false),
            m("firefox", "docs", 60, true),
        ]);
        assert_eq!(
            got,
            [
                ("code".to_string(), 180, "main.rs".to_string()),
                ("firefox".to_string(), 60, "docs".to_string())
            ]
        );
    }

    #[test]
    fn rows_sum_seconds_and_csv_quotes_what_needs_it() {
        let person = Person {
            id: "p".into(),
            email: "max@example.com".into(),
            name: "=Max, \"the\" tester".into(),
            time_zone: "Pacific/Auckland".into(),
            role: Role::Member,
            archived: false,
        };
        let minute = |seconds, keys, idle| DiaryMinute {
            start_ms: 0,
            seconds,
            from_secs: 0,
            keystrokes: keys,
            clicks: 0,
            scrolls: 0,
            idle,
            app: None,
            title: None,
            project_id: None,
            task_id: None,
            privacy_rule: None,
            screenshot_skipped: None,
        };
        let day: NaiveDate = "2026-11-29".parse().unwrap();
        let r = row(
            &person,
            day,
            &[
                minute(60, 5, false),
                minute(60, 0, true),
                minute(30, 0, false),
            ],
            &[],
            &Names::default(),
        );
        assert_eq!(
            (
                r.tracked_secs,
                r.active_secs,
                r.idle_secs,
                r.active_percent()
            ),
            (150, 60, 60, 40)
        );
        let text = csv(&[Row {
            offline_secs: 5400,
            private_secs: 930,
            ..r
        }]);
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "\"'=Max, \"\"the\"\" tester\",max@example.com,2026-11-29,Pacific/Auckland,0:02,0:01,0:01,40,150,60,60,0,Unassigned 0:02,1:30,5400,0:15,930"
        );
    }
}
