//! "Who looked at my data": every look at the person's data by someone
//! else, every deletion of their records, every reassignment of their time
//! and every request for offline time with its decision: who, when and why.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::extract::Viewer;
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::access::Action;
use crate::state::AppState;
use crate::store::{Deletion, View, Whose};

/// A reassignment as the page prints it.
struct Change {
    at: String,
    by: String,
    range: String,
    to: String,
    reason: String,
}

/// A request for offline time as the page prints it.
struct Asked {
    at: String,
    range: String,
    to: String,
    reason: String,
    state: &'static str,
    /// "Mia <mia@example.com> at 2026-12-03T10:00:00Z: that was lunch".
    decided: String,
}

#[derive(Template)]
#[template(path = "views.html")]
struct ViewsPage {
    deletions: Vec<Deletion>,
    changes: Vec<Change>,
    offline: Vec<Asked>,
    nav: Nav,
    views: Vec<View>,
}

pub async fn my_views(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let grant = store.grant(&me, Whose::Person(&me.id), Action::ViewAudit, "")?;
        Ok(ViewsPage {
            views: store.views_of(&grant)?,
            deletions: store.deletions_of(&grant)?,
            changes: {
                let names = store.work_names()?;
                store
                    .reassignments_of(&grant)?
                    .into_iter()
                    .map(|r| Change {
                        at: r.at,
                        by: r.by,
                        range: format!(
                            "{} to {}",
                            crate::store::rfc3339(r.from_ms),
                            crate::store::rfc3339(r.to_ms)
                        ),
                        to: names.label(&r.work),
                        reason: r.reason,
                    })
                    .collect()
            },
            offline: {
                let names = store.work_names()?;
                let t = crate::store::rfc3339;
                store
                    .offline_of(&grant, i64::MIN / 2, i64::MAX / 2)?
                    .into_iter()
                    .rev()
                    .map(|o| Asked {
                        at: t(o.requested_ms),
                        range: format!("{} to {}", t(o.from_ms), t(o.to_ms)),
                        to: names.label(&o.work),
                        state: o.state.name(),
                        decided: match (&o.decided_by, o.decided_ms) {
                            (Some(by), Some(at)) => format!(
                                "{by} at {}{}",
                                t(at),
                                o.decision_reason
                                    .as_deref()
                                    .map(|r| format!(": {r}"))
                                    .unwrap_or_default()
                            ),
                            _ => String::new(),
                        },
                        reason: o.reason,
                    })
                    .collect()
            },
            nav,
        })
    })
    .await?;
    Ok(render(&page))
}
