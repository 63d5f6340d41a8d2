//! Reports: the timesheet (tracked, active and idle time per person per day,
//! each in the person's own time zone) as a page and as CSV, the
//! applications report, and the team's today. Each covers the people the
//! viewer may report on, and each person's part is a grant, so audited.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::diary::{clock, day_bounds, day_of};
use super::extract::Viewer;
use super::format::{hm, hms, visible};
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use super::sheet::{applications, csv, payroll_csv, project_csv, project_rows, row, Row};
use crate::access::Action;
use crate::store::Spent;
use crate::store::{Grant, Person, Store};

/// Everyone (not archived, and `only` if given) `viewer` may report on,
/// each with a grant that recorded the look as `what`.
fn reported(
    store: &Store,
    viewer: &Person,
    only: Option<&str>,
    what: &str,
) -> Result<Vec<(Person, Grant)>, Refusal> {
    Ok(store.grant_each(viewer, Action::ViewReport, what, |p| {
        !p.archived && only.is_none_or(|id| id == p.id)
    })?)
}

/// A report as a CSV file named `name`.csv.
fn csv_download(name: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}.csv\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The longest range one timesheet covers.
const MAX_DAYS: i64 = 92;

/// A report's days: `from` and `to` as given (today, in the viewer's zone,
/// where one is absent), running forward and at most [`MAX_DAYS`] apart.
fn days(
    me: &Person,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), Refusal> {
    let today = day_of(crate::store::now_ms(), me.tz());
    let parse = |t: Option<&str>| -> Result<NaiveDate, Refusal> {
        match t {
            None => Ok(today),
            Some(t) => t
                .parse()
                .map_err(|_| Refusal::BadRequest(format!("{t:?} is not a day like 2026-11-29"))),
        }
    };
    let (from, to) = (parse(from)?, parse(to)?);
    if !(0..MAX_DAYS).contains(&(to - from).num_days()) {
        return Err(Refusal::BadRequest(format!(
            "from {from} to {to}: the range must run forward and span at most {MAX_DAYS} days"
        )));
    }
    Ok((from, to))
}

#[derive(Deserialize)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "timesheet.html")]
struct TimesheetPage {
    nav: Nav,
    from: NaiveDate,
    to: NaiveDate,
    rows: Vec<(Row, String, String, String, String, String)>,
}

pub async fn timesheet(
    State(state): State<Arc<crate::state::AppState>>,
    viewer: Viewer,
    Query(range): Query<Range>,
) -> Result<Response, Refusal> {
    let (from, to) = days(&viewer.person, range.from.as_deref(), range.to.as_deref())?;
    let me = viewer.person.clone();
    let rows = blocking(&state, move |store| {
        let mut rows = Vec::new();
        let names = store.work_names()?;
        for (person, grant) in reported(store, &me, None, &format!("timesheet {from} to {to}"))? {
            let tz = person.tz();
            let mut day = from;
            while day <= to {
                let (start, end) = day_bounds(day, tz);
                let (minutes, _) = store.day(&grant, start, end)?;
                let spans = store.day_idle(&grant, start, end)?;
                let mut r = row(&person, day, &minutes, &spans, &names);
                r.offline_secs = store.offline_spent(&grant, start, end)?.values().sum();
                r.private_secs = store.day_private(&grant, start, end)?.secs();
                rows.push(r);
                day = day.succ_opt().unwrap_or(day);
                if day == NaiveDate::MAX {
                    break;
                }
            }
        }
        Ok(rows)
    })
    .await?;
    if range.format.as_deref() == Some("csv") {
        return Ok(csv_download(&format!("timesheet-{from}-{to}"), csv(&rows)));
    }
    let page = TimesheetPage {
        nav: viewer.nav(),
        from,
        to,
        rows: rows
            .into_iter()
            .map(|r| {
                let (t, a, i) = (hm(r.tracked_secs), hm(r.active_secs), hm(r.idle_secs));
                let (o, p) = (hm(r.offline_secs), hm(r.private_secs));
                (r, t, a, i, o, p)
            })
            .collect(),
    };
    Ok(render(&page))
}

/// Approved time only, as CSV: what payroll reads. Each person's days in
/// their own zone, for everyone the viewer may report on (each an entry in
/// their "Who looked at my data").
pub async fn payroll(
    State(state): State<Arc<crate::state::AppState>>,
    viewer: Viewer,
    Query(range): Query<Range>,
) -> Result<Response, Refusal> {
    let (from, to) = days(&viewer.person, range.from.as_deref(), range.to.as_deref())?;
    let me = viewer.person.clone();
    let body = blocking(&state, move |store| {
        let names = store.work_names()?;
        let mut rows = Vec::new();
        let what = format!("payroll {from} to {to}");
        for (person, grant) in reported(store, &me, None, &what)? {
            for d in store.payroll(&grant, &person, (from, to))? {
                rows.push((person.clone(), d));
            }
        }
        Ok(payroll_csv(&rows, &names))
    })
    .await?;
    Ok(csv_download(&format!("payroll-{from}-{to}"), body))
}

#[derive(Template)]
#[template(path = "projects_report.html")]
struct ProjectsPage {
    nav: Nav,
    from: NaiveDate,
    to: NaiveDate,
    /// Per project: its name, its client, its rows and its total, as text.
    projects: Vec<ProjectBlock>,
    total: (String, String, String, String),
}

struct ProjectBlock {
    /// The project as stored, which the rows are grouped by.
    key: String,
    spent: Spent,
    name: String,
    client: String,
    /// "92 % of the project's budget of 100 h this month (92:00 used)".
    burn: String,
    rows: Vec<(String, String, String, String, String, String)>,
    total: (String, String, String, String),
}

/// Time per project, task and person over a range of days (each person's
/// days in their own time zone), as a page or as CSV.
pub async fn projects(
    State(state): State<Arc<crate::state::AppState>>,
    viewer: Viewer,
    Query(range): Query<Range>,
) -> Result<Response, Refusal> {
    let (from, to) = days(&viewer.person, range.from.as_deref(), range.to.as_deref())?;
    let me = viewer.person.clone();
    let (rows, burns) = blocking(&state, move |store| {
        let names = store.work_names()?;
        let mut rows = Vec::new();
        let what = format!("project report {from} to {to}");
        for (person, grant) in reported(store, &me, None, &what)? {
            let tz = person.tz();
            let (start, _) = day_bounds(from, tz);
            let (_, end) = day_bounds(to, tz);
            rows.extend(project_rows(
                &person,
                store.work_spent(&grant, start, end)?,
                &names,
            ));
        }
        rows.sort_by(|a, b| (&a.project, &a.task, &a.name).cmp(&(&b.project, &b.task, &b.name)));
        // Budget burn is the project's: everyone's time in its period.
        let mut burns = std::collections::HashMap::new();
        for id in rows.iter().filter_map(|r| r.project_id.clone()) {
            if burns.contains_key(&id) {
                continue;
            }
            if let Some((b, used)) = store.budget_used(&id, crate::store::now_ms())? {
                let percent = used * 100 / b.secs.max(1);
                burns.insert(
                    id,
                    format!("{percent} % of {} ({} used)", b.describe(), hm(used)),
                );
            }
        }
        Ok((rows, burns))
    })
    .await?;
    if range.format.as_deref() == Some("csv") {
        return Ok(csv_download(
            &format!("projects-{from}-{to}"),
            project_csv(&rows),
        ));
    }
    let four = |t: &Spent| {
        (
            hms(t.tracked),
            hms(t.active),
            hms(t.idle_kept),
            hms(t.offline),
        )
    };
    let mut blocks: Vec<ProjectBlock> = Vec::new();
    let mut grand = Spent::default();
    for r in &rows {
        grand += r.spent;
        if blocks.last().is_none_or(|b| b.key != r.project) {
            blocks.push(ProjectBlock {
                key: r.project.clone(),
                spent: Spent::default(),
                name: visible(&r.project),
                client: visible(&r.client),
                burn: r
                    .project_id
                    .as_ref()
                    .and_then(|id| burns.get(id))
                    .cloned()
                    .unwrap_or_default(),
                rows: Vec::new(),
                total: Default::default(),
            });
        }
        let b = blocks.last_mut().expect("pushed above");
        b.spent += r.spent;
        b.rows.push((
            if r.task.is_empty() {
                "(no task)".to_string()
            } else {
                visible(&r.task)
            },
            visible(&r.name),
            hms(r.spent.tracked),
            hms(r.spent.active),
            hms(r.spent.idle_kept),
            hms(r.spent.offline),
        ));
    }
    for b in &mut blocks {
        b.total = four(&b.spent);
    }
    Ok(render(&ProjectsPage {
        nav: viewer.nav(),
        from,
        to,
        projects: blocks,
        total: four(&grand),
    }))
}

#[derive(Deserialize)]
pub struct AppsQuery {
    from: Option<String>,
    to: Option<String>,
    /// One person's applications; everyone the viewer may report on without.
    person: Option<String>,
}

#[derive(Template)]
#[template(path = "apps.html")]
struct AppsPage {
    nav: Nav,
    from: NaiveDate,
    to: NaiveDate,
    whose: String,
    rows: Vec<(String, String, u64, String)>,
}

pub async fn apps(
    State(state): State<Arc<crate::state::AppState>>,
    viewer: Viewer,
    Query(q): Query<AppsQuery>,
) -> Result<Response, Refusal> {
    // The applications form may leave a day empty: today then.
    let (from, to) = days(
        &viewer.person,
        q.from.as_deref().filter(|t| !t.is_empty()),
        q.to.as_deref().filter(|t| !t.is_empty()),
    )?;
    let me = viewer.person.clone();
    let only = q.person.filter(|p| !p.is_empty());
    let (whose, minutes) = blocking(&state, move |store| {
        let mut minutes = Vec::new();
        let mut names = Vec::new();
        let what = format!("applications {from} to {to}");
        for (person, grant) in reported(store, &me, only.as_deref(), &what)? {
            let tz = person.tz();
            let (start, _) = day_bounds(from, tz);
            let (_, end) = day_bounds(to, tz);
            minutes.extend(store.day(&grant, start, end)?.0);
            names.push(person.name);
        }
        Ok((names.join(", "), minutes))
    })
    .await?;
    let page = AppsPage {
        nav: viewer.nav(),
        from,
        to,
        whose,
        rows: applications(&minutes)
            .into_iter()
            .map(|(app, secs, title)| (visible(&app), hm(secs), secs, visible(&title)))
            .collect(),
    };
    Ok(render(&page))
}

/// One person's today on the team overview.
pub struct TodayRow {
    pub id: String,
    pub name: String,
    pub day: NaiveDate,
    pub tracked: String,
    pub active_percent: u64,
    /// "14:05 in code" for the newest minute, or nothing today.
    pub last: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    nav: Nav,
    rows: Vec<TodayRow>,
}

/// Today (each person's own) for everyone the viewer may report on: the
/// manager's overview of their team.
pub async fn team(
    State(state): State<Arc<crate::state::AppState>>,
    viewer: Viewer,
) -> Result<Response, Refusal> {
    let me = viewer.person.clone();
    let rows = blocking(&state, move |store| {
        let now = crate::store::now_ms();
        let mut rows = Vec::new();
        let names = store.work_names()?;
        for (person, grant) in reported(store, &me, None, "the team overview of today")? {
            let tz = person.tz();
            let day = day_of(now, tz);
            let (start, end) = day_bounds(day, tz);
            let (minutes, _) = store.day(&grant, start, end)?;
            let spans = store.day_idle(&grant, start, end)?;
            let r = row(&person, day, &minutes, &spans, &names);
            let last = minutes.last().map_or_else(String::new, |m| {
                format!(
                    "{} in {}",
                    clock(m.start_ms, tz),
                    visible(m.app.as_deref().unwrap_or("(unknown)"))
                )
            });
            rows.push(TodayRow {
                id: person.id,
                name: person.name,
                day,
                tracked: hm(r.tracked_secs),
                active_percent: r.active_percent(),
                last,
            });
        }
        Ok(rows)
    })
    .await?;
    Ok(render(&TeamPage {
        nav: viewer.nav(),
        rows,
    }))
}
