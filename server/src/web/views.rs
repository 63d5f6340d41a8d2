//! "Who looked at my data": every look at the person's data by someone
//! else, and every deletion of their records, with who, when and why.

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

#[derive(Template)]
#[template(path = "views.html")]
struct ViewsPage {
    deletions: Vec<Deletion>,
    changes: Vec<Change>,
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
            nav,
        })
    })
    .await?;
    Ok(render(&page))
}
