//! Reports: the timesheet (tracked, active and idle time per person per day,
//! each in the person's own time zone) as a page and as CSV.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::diary::day_bounds;
use super::pages::{blocking, render, with_cookie};
use super::{viewer, Refusal};
use crate::access::{allowed, Action};
use crate::store::{DiaryMinute, Person};

/// The longest range one timesheet covers.
const MAX_DAYS: i64 = 92;

/// One person's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub email: String,
    pub day: NaiveDate,
    pub time_zone: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub idle_secs: u64,
}

impl Row {
    pub fn active_percent(&self) -> u64 {
        (self.active_secs * 100)
            .checked_div(self.tracked_secs)
            .unwrap_or(0)
    }
}

/// Sums one day's minutes.
pub fn row(person: &Person, day: NaiveDate, minutes: &[DiaryMinute]) -> Row {
    let sum = |keep: &dyn Fn(&DiaryMinute) -> bool| -> u64 {
        minutes
            .iter()
            .filter(|m| keep(m))
            .map(|m| u64::from(m.seconds))
            .sum()
    };
    Row {
        name: person.name.clone(),
        email: person.email.clone(),
        day,
        time_zone: person.time_zone.clone(),
        tracked_secs: sum(&|_| true),
        active_secs: sum(&|m| m.is_active()),
        idle_secs: sum(&|m| m.idle),
    }
}

/// "1:05" for an hour and five minutes.
pub fn hm(secs: u64) -> String {
    format!("{}:{:02}", secs / 3600, secs / 60 % 60)
}

/// One RFC 4180 CSV field; text a spreadsheet would run as a formula gets a
/// leading apostrophe (a window title is anyone's text).
pub(super) fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The timesheet as RFC 4180 CSV.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "name,email,day,time_zone,tracked,active,idle,active_percent,tracked_seconds,active_seconds,idle_seconds\r\n",
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
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// A report's days: `from` and `to` as given (today, in the viewer's zone,
/// where one is absent), running forward and at most [`MAX_DAYS`] apart.
fn days(
    me: &Person,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), Refusal> {
    let today = super::diary::day_of(crate::store::now_ms(), me.tz());
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
    nav: super::Nav,
    from: NaiveDate,
    to: NaiveDate,
    rows: Vec<(Row, String, String, String)>,
}

pub async fn timesheet(
    State(state): State<Arc<crate::api::AppState>>,
    headers: HeaderMap,
    Query(range): Query<Range>,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let (from, to) = days(&me, range.from.as_deref(), range.to.as_deref())?;
    let viewer_for_rows = me.clone();
    let rows = blocking(&state, move |store| {
        let mut rows = Vec::new();
        for person in store.people()? {
            let subject = store.subject(&viewer_for_rows, Some(&person.id))?;
            if person.archived || !allowed(viewer_for_rows.role, Action::ViewReport, subject) {
                continue;
            }
            store.record_view(
                &viewer_for_rows,
                &person.id,
                &format!("timesheet {from} to {to}"),
            )?;
            let tz = person.tz();
            let mut day = from;
            while day <= to {
                let (start, end) = day_bounds(day, tz);
                let (minutes, _) = store.day(&person.id, start, end)?;
                rows.push(row(&person, day, &minutes));
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
        let name = format!("attachment; filename=\"timesheet-{from}-{to}.csv\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, name),
            ],
            csv(&rows),
        )
            .into_response());
    }
    let (csrf, set) = super::pages::csrf_token(&headers);
    let page = TimesheetPage {
        nav: super::Nav::of(&me, &csrf),
        from,
        to,
        rows: rows
            .into_iter()
            .map(|r| {
                let (t, a, i) = (hm(r.tracked_secs), hm(r.active_secs), hm(r.idle_secs));
                (r, t, a, i)
            })
            .collect(),
    };
    Ok(with_cookie(render(&page), set))
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
    nav: super::Nav,
    from: NaiveDate,
    to: NaiveDate,
    whose: String,
    rows: Vec<(String, String, u64, String)>,
}

pub async fn apps(
    State(state): State<Arc<crate::api::AppState>>,
    headers: HeaderMap,
    Query(q): Query<AppsQuery>,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    // The applications form may leave a day empty: today then.
    let (from, to) = days(
        &me,
        q.from.as_deref().filter(|t| !t.is_empty()),
        q.to.as_deref().filter(|t| !t.is_empty()),
    )?;
    let (csrf, set) = super::pages::csrf_token(&headers);
    let viewer_for = me.clone();
    let only = q.person.filter(|p| !p.is_empty());
    let (whose, minutes) = blocking(&state, move |store| {
        let mut minutes = Vec::new();
        let mut names = Vec::new();
        for person in store.people()? {
            if only.as_deref().is_some_and(|id| id != person.id) || person.archived {
                continue;
            }
            let subject = store.subject(&viewer_for, Some(&person.id))?;
            if !allowed(viewer_for.role, Action::ViewReport, subject) {
                continue;
            }
            store.record_view(
                &viewer_for,
                &person.id,
                &format!("applications {from} to {to}"),
            )?;
            let tz = person.tz();
            let (start, _) = day_bounds(from, tz);
            let (_, end) = day_bounds(to, tz);
            minutes.extend(store.day(&person.id, start, end)?.0);
            names.push(person.name);
        }
        Ok((names.join(", "), minutes))
    })
    .await?;
    let page = AppsPage {
        nav: super::Nav::of(&me, &csrf),
        from,
        to,
        whose,
        rows: applications(&minutes)
            .into_iter()
            .map(|(app, secs, title)| (app, hm(secs), secs, title))
            .collect(),
    };
    Ok(with_cookie(render(&page), set))
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
    nav: super::Nav,
    rows: Vec<TodayRow>,
}

/// Today (each person's own) for everyone the viewer may report on: the
/// manager's overview of their team.
pub async fn team(
    State(state): State<Arc<crate::api::AppState>>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let (csrf, set) = super::pages::csrf_token(&headers);
    let viewer_for = me.clone();
    let rows = blocking(&state, move |store| {
        let now = crate::store::now_ms();
        let mut rows = Vec::new();
        for person in store.people()? {
            let subject = store.subject(&viewer_for, Some(&person.id))?;
            if person.archived || !allowed(viewer_for.role, Action::ViewReport, subject) {
                continue;
            }
            store.record_view(&viewer_for, &person.id, "the team overview of today")?;
            let tz = person.tz();
            let day = super::diary::day_of(now, tz);
            let (start, end) = day_bounds(day, tz);
            let (minutes, _) = store.day(&person.id, start, end)?;
            let r = row(&person, day, &minutes);
            let last = minutes.last().map_or_else(String::new, |m| {
                format!(
                    "{} in {}",
                    super::diary::clock(m.start_ms, tz),
                    m.app.as_deref().unwrap_or("(unknown)")
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
    Ok(with_cookie(
        render(&TeamPage {
            nav: super::Nav::of(&me, &csrf),
            rows,
        }),
        set,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    #[test]
    fn applications_add_up_active_time_with_their_main_window() {
        let m = |app: &str, title: &str, seconds, idle| DiaryMinute {
            start_ms: 0,
            seconds,
            keystrokes: 1,
            clicks: 0,
            scrolls: 0,
            idle,
            app: Some(app.into()),
            title: Some(title.into()),
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
            keystrokes: keys,
            clicks: 0,
            scrolls: 0,
            idle,
            app: None,
            title: None,
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
        assert_eq!(hm(3_900), "1:05");
        let text = csv(&[r]);
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "\"'=Max, \"\"the\"\" tester\",max@example.com,2026-11-29,Pacific/Auckland,0:02,0:01,0:01,40,150,60,60"
        );
    }
}
