//! `/api/people/v1`: the read API integrations (payroll, invoicing) use,
//! with a person's access token (`ApiCaller`). It reads what the token's
//! person may see, through the same `Store::grant` as the browser, each look
//! at someone's data audited as theirs; lists are paginated by person id.
//! `openapi.json` describes every route of this file, and a test holds the
//! two together.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::extract::ApiCaller;
use super::fail::Fail;
use crate::access::Action;
use crate::days::day_bounds;
use crate::state::AppState;
use crate::store::{StoreError, Whose};

/// The longest range one request covers.
const MAX_DAYS: i64 = 92;
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 500;

/// A refusal in the API's words: what the caller may fix, or the storage's.
fn refused(e: StoreError) -> Fail {
    match e {
        StoreError::Denied(why) => Fail::new(StatusCode::FORBIDDEN, "forbidden", why),
        StoreError::Invalid(why) => Fail::new(StatusCode::BAD_REQUEST, "bad_request", why),
        StoreError::NotFound(why) => Fail::new(StatusCode::NOT_FOUND, "not_found", why),
        e => e.into(),
    }
}

fn bad(why: String) -> Fail {
    Fail::new(StatusCode::BAD_REQUEST, "bad_request", why)
}

#[derive(Deserialize)]
pub struct Page {
    limit: Option<usize>,
    /// The last person id of the previous page.
    after: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Page {
    fn limit(&self) -> Result<usize, Fail> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(n),
            n => Err(bad(format!("limit {n}: expected 1 to {MAX_LIMIT}"))),
        }
    }

    fn days(&self) -> Result<(NaiveDate, NaiveDate), Fail> {
        let day = |name: &str, t: &Option<String>| -> Result<NaiveDate, Fail> {
            let t = t
                .as_deref()
                .ok_or_else(|| bad(format!("{name} is missing: a day like 2026-11-30")))?;
            t.parse()
                .map_err(|_| bad(format!("{name} {t:?}: expected a day like 2026-11-30")))
        };
        let (from, to) = (day("from", &self.from)?, day("to", &self.to)?);
        if !(0..MAX_DAYS).contains(&(to - from).num_days()) {
            return Err(bad(format!(
                "from {from} to {to}: the range runs forward and spans at most {MAX_DAYS} days"
            )));
        }
        Ok((from, to))
    }
}

/// One page of a list, and where the next begins.
#[derive(Serialize)]
pub struct Listed<T> {
    items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Serialize)]
pub struct PersonItem {
    id: String,
    name: String,
    email: String,
    time_zone: String,
}

/// The people the token's person may report on.
pub async fn people(
    State(state): State<Arc<AppState>>,
    ApiCaller(me): ApiCaller,
    Query(page): Query<Page>,
) -> Result<Json<Listed<PersonItem>>, Fail> {
    let limit = page.limit()?;
    let mut people = state
        .blocking(move |s| s.reachable(&me, Action::ViewReport))
        .await?
        .map_err(refused)?;
    people.retain(|p| !p.archived && page.after.as_ref().is_none_or(|a| p.id > *a));
    people.sort_by(|a, b| a.id.cmp(&b.id));
    let next = (people.len() > limit).then(|| people[limit - 1].id.clone());
    people.truncate(limit);
    Ok(Json(Listed {
        items: people
            .into_iter()
            .map(|p| PersonItem {
                id: p.id,
                name: p.name,
                email: p.email,
                time_zone: p.time_zone,
            })
            .collect(),
        next,
    }))
}

#[derive(Serialize, Default)]
pub struct WorkItem {
    project_id: Option<String>,
    task_id: Option<String>,
    tracked_seconds: u64,
    active_seconds: u64,
    idle_kept_seconds: u64,
    offline_seconds: u64,
}

#[derive(Serialize)]
pub struct DayItem {
    day: NaiveDate,
    tracked_seconds: u64,
    active_seconds: u64,
    offline_seconds: u64,
    work: Vec<WorkItem>,
}

/// One person's days (in their zone): recorded and offline time, per
/// project and task.
pub async fn days(
    State(state): State<Arc<AppState>>,
    ApiCaller(me): ApiCaller,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Listed<DayItem>>, Fail> {
    let (from, to) = page.days()?;
    let items = state
        .blocking(move |s| {
            let person = s
                .person(&id)?
                .ok_or_else(|| StoreError::NotFound(format!("no person {id}")))?;
            let what = format!("days {from} to {to}, through the API");
            let grant = s.grant(&me, Whose::Person(&person.id), Action::ViewReport, &what)?;
            let mut out = Vec::new();
            let mut d = from;
            while d <= to {
                let (a, b) = day_bounds(d, person.tz());
                let spent = s.work_spent(&grant, a, b)?;
                let sum = |f: fn(&crate::store::Spent) -> u64| spent.values().map(f).sum();
                out.push(DayItem {
                    day: d,
                    tracked_seconds: sum(|s| s.tracked),
                    active_seconds: sum(|s| s.active),
                    offline_seconds: sum(|s| s.offline),
                    work: spent
                        .into_iter()
                        .filter(|(_, s)| s.tracked + s.offline > 0)
                        .map(|(w, s)| WorkItem {
                            project_id: w.project_id,
                            task_id: w.task_id,
                            tracked_seconds: s.tracked,
                            active_seconds: s.active,
                            idle_kept_seconds: s.idle_kept,
                            offline_seconds: s.offline,
                        })
                        .collect(),
                });
                d = match d.succ_opt() {
                    Some(n) => n,
                    None => break,
                };
            }
            Ok::<_, StoreError>(out)
        })
        .await?
        .map_err(refused)?;
    Ok(Json(Listed { items, next: None }))
}

#[derive(Serialize)]
pub struct ApprovedItem {
    person_id: String,
    day: NaiveDate,
    project_id: Option<String>,
    task_id: Option<String>,
    approved_seconds: u64,
    tracked_seconds: u64,
    offline_seconds: u64,
}

/// Approved time only, as payroll reads it: per person, day and project or
/// task; a page holds up to `limit` people.
pub async fn approved(
    State(state): State<Arc<AppState>>,
    ApiCaller(me): ApiCaller,
    Query(page): Query<Page>,
) -> Result<Json<Listed<ApprovedItem>>, Fail> {
    let (from, to) = page.days()?;
    let limit = page.limit()?;
    let after = page.after.clone();
    let (items, next) = state
        .blocking(move |s| {
            let what = format!("approved time {from} to {to}, through the API");
            let mut reached = s.grant_each(&me, Action::ViewReport, &what, |p| {
                !p.archived && after.as_ref().is_none_or(|a| p.id > *a)
            })?;
            reached.sort_by(|a, b| a.0.id.cmp(&b.0.id));
            let next = (reached.len() > limit).then(|| reached[limit - 1].0.id.clone());
            let mut items = Vec::new();
            for (person, grant) in reached.into_iter().take(limit) {
                for d in s.payroll(&grant, &person, (from, to))? {
                    items.push(ApprovedItem {
                        person_id: person.id.clone(),
                        day: d.day,
                        project_id: d.work.project_id,
                        task_id: d.work.task_id,
                        approved_seconds: d.tracked + d.offline,
                        tracked_seconds: d.tracked,
                        offline_seconds: d.offline,
                    });
                }
            }
            Ok::<_, StoreError>((items, next))
        })
        .await?
        .map_err(refused)?;
    Ok(Json(Listed { items, next }))
}

/// The routes of this API: (path, summary, whether it takes a person id,
/// whether it needs from/to, whether it pages). One table, from which the
/// OpenAPI document is made.
pub const ROUTES: [(&str, &str, bool, bool, bool); 4] = [
    (
        "/api/people/v1/people",
        "The people the token's person may report on",
        false,
        false,
        true,
    ),
    (
        "/api/people/v1/people/{id}/days",
        "One person's days in their time zone: recorded and offline seconds per project and task",
        true,
        true,
        false,
    ),
    (
        "/api/people/v1/approved",
        "Approved time only, per person, day and project or task, as payroll reads it",
        false,
        true,
        true,
    ),
    (
        "/api/people/v1/openapi.json",
        "This document",
        false,
        false,
        false,
    ),
];

/// The OpenAPI 3.1 document of [`ROUTES`].
pub fn openapi() -> Value {
    let q = |name: &str, what: &str, schema: Value| json!({"name": name, "in": "query", "description": what, "schema": schema});
    let mut paths = BTreeMap::new();
    for (path, summary, id, range, pages) in ROUTES {
        let mut params = Vec::new();
        if id {
            params.push(
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
        if range {
            for n in ["from", "to"] {
                let mut p = q(
                    n,
                    "a day, YYYY-MM-DD; at most 92 days in all",
                    json!({"type": "string", "format": "date"}),
                );
                p["required"] = json!(true);
                params.push(p);
            }
        }
        if pages {
            params.push(q(
                "limit",
                "items (people) per page, 1 to 500; 100 unless given",
                json!({"type": "integer"}),
            ));
            params.push(q(
                "after",
                "the `next` of the previous page",
                json!({"type": "string"}),
            ));
        }
        let auth = path != "/api/people/v1/openapi.json";
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "`{\"items\": [...], \"next\": \"...\"}`"},
            },
        });
        if auth {
            op["security"] = json!([{"token": []}]);
            let r = &mut op["responses"];
            r["400"] = json!({"description": "a parameter is wrong; `message` says which and why"});
            r["401"] = json!({"description": "unknown, revoked or expired token"});
            r["403"] = json!({"description": "the token's person may not see this"});
        }
        paths.insert(path.to_string(), json!({"get": op}));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "stint people API",
            "version": "1",
            "description": "Read-only access for integrations, as the person whose token is used: what they may see in the web UI, audited the same way. Errors are {\"code\", \"message\"}.",
        },
        "components": {"securitySchemes": {"token": {
            "type": "http", "scheme": "bearer",
            "description": "A personal access token (stn_pat_…) made under \"API tokens\" in the web UI",
        }}},
        "paths": paths,
    })
}

pub async fn openapi_json() -> Json<Value> {
    Json(openapi())
}
