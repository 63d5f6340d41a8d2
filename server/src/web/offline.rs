//! Offline time in the browser: the request form on one's own diary, the
//! inbox of requests waiting for the viewer's decision (each shown within
//! the person's day, the gap it fills), and the decisions, one or many at
//! once. What may be asked and who decides is the store's
//! (store/offline.rs).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;

use super::diary::{clock, day_of};
use super::extract::{Signed, Viewer};
use super::format::{hm, parse_work, visible};
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::access::Action;
use crate::state::AppState;
use crate::store::{Offline, Whose};

#[derive(Deserialize)]
pub struct OfflineForm {
    /// "14:00", on the diary's day in the person's zone.
    from: String,
    to: String,
    #[serde(default)]
    work: String,
    #[serde(default)]
    reason: String,
}

/// The instant a wall-clock time on `day` in `tz` names; the earlier one
/// when a clock change makes it twice, none when it skips it.
fn local_ms(day: NaiveDate, text: &str, tz: Tz) -> Result<i64, Refusal> {
    let t = NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| Refusal::BadRequest(format!("{text:?} is not a time like 14:30")))?;
    tz.from_local_datetime(&day.and_time(t))
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| {
            Refusal::BadRequest(format!(
                "{day} {text} does not exist in {} (the clocks skip it)",
                tz.name()
            ))
        })
}

/// Asks for offline time on the viewer's own day.
pub async fn request(
    State(state): State<Arc<AppState>>,
    Path((person_id, day)): Path<(String, String)>,
    Signed { viewer, form }: Signed<OfflineForm>,
) -> Result<Response, Refusal> {
    if person_id != viewer.person.id {
        return Err(Refusal::Denied(
            "Offline time is asked for on one's own diary only.".into(),
        ));
    }
    let date: NaiveDate = day.parse().map_err(|_| Refusal::NotFound)?;
    let tz = viewer.person.tz();
    let from = local_ms(date, &form.from, tz)?;
    let mut to = local_ms(date, &form.to, tz)?;
    // "22:00 to 01:00" runs past midnight.
    if to <= from {
        to = local_ms(date.succ_opt().unwrap_or(date), &form.to, tz)?;
    }
    let work = parse_work(&form.work);
    let me = viewer.person;
    blocking(&state, move |store| {
        store.request_offline(&me, (from, to), &work, &form.reason, crate::store::now_ms())?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/diary/{person_id}/{day}#offline")).into_response())
}

/// "Add offline time…" from the tray: today's own diary, at the form.
pub async fn mine(viewer: Viewer) -> Response {
    let today = day_of(crate::store::now_ms(), viewer.person.tz());
    Redirect::to(&format!("/diary/{}/{today}#offline", viewer.person.id)).into_response()
}

/// One request in the inbox, shown within its person's day.
struct Waiting {
    id: String,
    person: String,
    person_id: String,
    day: NaiveDate,
    span: String,
    length: String,
    work: String,
    reason: String,
    /// "recorded 09:00-10:00 · asked 10:00-11:00 · recorded 11:00-12:30".
    context: String,
}

/// A submitted period in the inbox.
struct PeriodWaiting {
    person: String,
    person_id: String,
    first: NaiveDate,
    last: NaiveDate,
    tracked: String,
    offline: String,
    /// "3 minutes arrived after it was submitted", or empty.
    late: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    nav: Nav,
    waiting: Vec<Waiting>,
    periods: Vec<PeriodWaiting>,
}

/// The stretches of recorded time around a request and the request
/// itself, in order, as words: what the approver needs to see the gap.
fn context(recorded: &[(i64, i64)], o: &Offline, tz: Tz) -> String {
    let mut parts: Vec<(i64, String)> = recorded
        .iter()
        .map(|(a, b)| (*a, format!("recorded {}-{}", clock(*a, tz), clock(*b, tz))))
        .collect();
    parts.push((
        o.from_ms,
        format!("asked {}-{}", clock(o.from_ms, tz), clock(o.to_ms, tz)),
    ));
    parts.sort_by_key(|(at, _)| *at);
    if recorded.is_empty() {
        parts.push((i64::MAX, "nothing recorded within 3 hours of it".into()));
    }
    parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Minutes as stretches: consecutive slots joined.
fn stretches(starts: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &s in starts {
        match out.last_mut() {
            Some((_, end)) if s <= *end => *end = (*end).max(s + 60_000),
            _ => out.push((s, s + 60_000)),
        }
    }
    out
}

pub async fn inbox(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let names = store.work_names()?;
        let mut waiting = Vec::new();
        for (person, o) in store.offline_inbox(&me)? {
            let tz = person.tz();
            let day = day_of(o.from_ms, tz);
            // The day around the gap is the person's data: a look of its own.
            let grant = store.grant(
                &me,
                Whose::Person(&person.id),
                Action::ViewDiary,
                &format!("offline time asked for on {day}, with the time around it"),
            )?;
            let (minutes, _) =
                store.day(&grant, o.from_ms - 3 * 3_600_000, o.to_ms + 3 * 3_600_000)?;
            let starts: Vec<i64> = minutes.iter().map(|m| m.start_ms).collect();
            waiting.push(Waiting {
                context: context(&stretches(&starts), &o, tz),
                id: o.id.clone(),
                person: visible(&person.name),
                person_id: person.id.clone(),
                day,
                span: format!("{} {}-{}", day, clock(o.from_ms, tz), clock(o.to_ms, tz)),
                length: hm(o.seconds()),
                work: visible(&names.label(&o.work)),
                reason: visible(&o.reason),
            });
        }
        let mut periods = Vec::new();
        for (person, p) in store.periods_waiting(&me)? {
            // Its totals are the person's data: a look of its own.
            let grant = store.grant(
                &me,
                Whose::Person(&person.id),
                Action::ViewReport,
                &format!("timesheet period {} to {}, submitted", p.first, p.last),
            )?;
            let bounds = store.period_bounds(&person, &p);
            let spent = store.work_spent(&grant, bounds.0, bounds.1)?;
            let late = store.late_minutes(&grant, bounds, p.changed_ms)?;
            periods.push(PeriodWaiting {
                person: visible(&person.name),
                person_id: person.id.clone(),
                first: p.first,
                last: p.last,
                tracked: hm(spent.values().map(|s| s.tracked).sum()),
                offline: hm(spent.values().map(|s| s.offline).sum()),
                late: match late {
                    0 => String::new(),
                    n => format!("{n} minute(s) arrived after it was submitted"),
                },
            });
        }
        Ok(InboxPage {
            nav,
            waiting,
            periods,
        })
    })
    .await?;
    Ok(render(&page))
}

/// Approves or denies the requests the form names (`id`, once or many
/// times): each is decided on its own, and the first refusal is shown.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let field = |k: &str| {
        form.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let approve = match field("decision").as_str() {
        "approve" => true,
        "deny" => false,
        other => {
            return Err(Refusal::BadRequest(format!(
                "decision {other:?}: expected approve or deny"
            )))
        }
    };
    let reason = field("reason");
    let ids: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .collect();
    if ids.is_empty() {
        return Err(Refusal::BadRequest(
            "choose at least one request to decide".into(),
        ));
    }
    let me = viewer.person;
    blocking(&state, move |store| {
        for id in &ids {
            store.decide_offline(&me, id, approve, &reason)?;
        }
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/inbox").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_times_name_instants_in_the_persons_zone() {
        let day: NaiveDate = "2026-03-29".parse().unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let utc = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_millis()
        };
        // The clocks go from 02:00 to 03:00 that night in Berlin.
        assert_eq!(
            local_ms(day, "01:30", berlin).unwrap(),
            utc("2026-03-29T00:30:00Z")
        );
        assert_eq!(
            local_ms(day, "03:30", berlin).unwrap(),
            utc("2026-03-29T01:30:00Z")
        );
        assert!(local_ms(day, "02:30", berlin).is_err());
        assert!(local_ms(day, "25:00", berlin).is_err());
        assert!(local_ms(day, "noon", berlin).is_err());
    }

    #[test]
    fn minutes_join_into_stretches_around_the_request() {
        let m = 60_000;
        assert_eq!(
            stretches(&[0, m, 2 * m, 10 * m, 11 * m]),
            [(0, 3 * m), (10 * m, 12 * m)]
        );
    }
}
