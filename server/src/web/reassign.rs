//! Reassigning a segment of the diary to another project or task, with a
//! reason. Who may is the store's decision (store/reassign.rs); the change
//! is listed on the person's "who looked / what changed" page.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::Signed;
use super::format::parse_work;
use super::refusal::{blocking, Refusal};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ReassignForm {
    from: i64,
    to: i64,
    /// "PROJECT" or "PROJECT/TASK" (ids); empty for unassigned.
    #[serde(default)]
    work: String,
    #[serde(default)]
    reason: String,
}

pub async fn reassign(
    State(state): State<Arc<AppState>>,
    Path((person_id, day)): Path<(String, String)>,
    Signed { viewer, form }: Signed<ReassignForm>,
) -> Result<Response, Refusal> {
    let back = format!("/diary/{person_id}/{day}");
    let work = parse_work(&form.work);
    blocking(&state, move |store| {
        let person = store.person(&person_id)?.ok_or(Refusal::NotFound)?;
        store.reassign(
            &viewer.person,
            &person,
            (form.from, form.to),
            &work,
            &form.reason,
        )?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}
