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

#[derive(Template)]
#[template(path = "views.html")]
struct ViewsPage {
    deletions: Vec<Deletion>,
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
            nav,
        })
    })
    .await?;
    Ok(render(&page))
}
