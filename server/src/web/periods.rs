//! Timesheet periods in the browser: one's own periods with the checklist
//! and "Submit", and the decisions on someone else's (approve, reject with
//! a reason, an admin's reopen). Which periods exist, what each state locks
//! and who decides is the store's (store/periods.rs); the waiting ones are
//! listed in the inbox.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::diary::day_of;
use super::extract::{Signed, Viewer};
use super::format::{hm, visible};
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::access::Action;
use crate::state::AppState;
use crate::store::{PeriodState, Whose};

/// How many periods back the page shows.
const SHOWN: usize = 8;

/// One of the viewer's periods as the page shows it.
struct Row {
    first: NaiveDate,
    last: NaiveDate,
    state: &'static str,
    /// The checklist, when it may be submitted now.
    checklist: Option<Vec<String>>,
}

#[derive(Template)]
#[template(path = "periods.html")]
struct PeriodsPage {
    nav: Nav,
    rule: String,
    rows: Vec<Row>,
    /// (when, by, what, period, reason).
    history: Vec<(String, String, String, String, String)>,
}

pub async fn mine(State(state): State<Arc<AppState>>, viewer: Viewer) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let rule = store.period_settings()?.rule();
        let now = crate::store::now_ms();
        let today = day_of(now, me.tz());
        let mut rows = Vec::new();
        let mut on = today;
        for _ in 0..SHOWN {
            let p = store.period_at(&me, on)?;
            let ended = p.last < today;
            let checklist = match (ended, p.state) {
                (true, PeriodState::Open | PeriodState::Rejected) => {
                    let c = store.checklist(&me, p.first)?;
                    let mut items = Vec::new();
                    if c.unassigned_secs > 0 {
                        items.push(format!(
                            "{} of tracked time is on no project; assign it in the diary if it was for one",
                            hm(c.unassigned_secs)
                        ));
                    }
                    if c.undecided_idle_secs > 0 {
                        items.push(format!(
                            "{} of idle time nobody decided on; decide any the tray still asks about",
                            hm(c.undecided_idle_secs)
                        ));
                    }
                    if c.pending_offline > 0 {
                        items.push(format!(
                            "{} request(s) for offline time wait for a decision: submitting waits for them",
                            c.pending_offline
                        ));
                    }
                    Some(items)
                }
                _ => None,
            };
            rows.push(Row {
                first: p.first,
                last: p.last,
                state: p.state.name(),
                checklist,
            });
            match p.first.pred_opt() {
                Some(d) => on = d,
                None => break,
            }
        }
        let audit = store.grant(&me, Whose::Person(&me.id), Action::ViewAudit, "")?;
        let (_, events) = store.periods_of(&audit)?;
        let history = events
            .into_iter()
            .map(|e| {
                (
                    crate::store::rfc3339(e.at_ms),
                    e.by,
                    e.action,
                    e.first.to_string(),
                    e.reason.map(|r| visible(&r)).unwrap_or_default(),
                )
            })
            .collect();
        Ok(PeriodsPage {
            nav,
            rule: rule.name(),
            rows,
            history,
        })
    })
    .await?;
    Ok(render(&page))
}

#[derive(Deserialize)]
pub struct SubmitForm {
    /// Any day of the period.
    day: NaiveDate,
}

pub async fn submit(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<SubmitForm>,
) -> Result<Response, Refusal> {
    let me = viewer.person;
    blocking(&state, move |store| {
        store.submit_period(&me, form.day, crate::store::now_ms())?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/periods").into_response())
}

#[derive(Deserialize)]
pub struct DecideForm {
    person: String,
    day: NaiveDate,
    /// approve, reject or reopen.
    decision: String,
    #[serde(default)]
    reason: String,
    /// Where to go afterwards: the inbox, or the diary the form was on.
    #[serde(default)]
    back: String,
}

pub async fn decide(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<DecideForm>,
) -> Result<Response, Refusal> {
    let back = match form.back.as_str() {
        b if b.starts_with("/diary/") && !b.contains("//") => b.to_string(),
        _ => "/inbox".to_string(),
    };
    let me = viewer.person;
    blocking(&state, move |store| {
        let person = store.person(&form.person)?.ok_or(Refusal::NotFound)?;
        match form.decision.as_str() {
            "approve" => store.decide_period(&me, &person, form.day, true, "")?,
            "reject" => store.decide_period(&me, &person, form.day, false, &form.reason)?,
            "reopen" => store.reopen_period(&me, &person, form.day, &form.reason)?,
            other => {
                return Err(Refusal::BadRequest(format!(
                    "decision {other:?}: expected approve, reject or reopen"
                )))
            }
        };
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}
