//! Deleting from the diary: a segment or a day, and everything of a person.
//! Owners and admins delete any time; a person their own records while the
//! deletion window is open (access.rs), which the store checks against every
//! record found. Rows and images go, tombstones stay (store/deletion.rs).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::Signed;
use super::refusal::{blocking, Refusal};
use crate::access::Action;
use crate::state::AppState;
use crate::store::Whose;

/// The longest range one form deletes: a day (25 hours, for the day a
/// clock goes back).
const MAX_RANGE_MS: i64 = 25 * 3_600_000;
const MAX_REASON: usize = 500;

fn reason(text: &str, what: &str) -> Result<String, Refusal> {
    let reason = text.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(Refusal::BadRequest(format!(
            "{what} needs a reason (up to {MAX_REASON} characters)"
        )));
    }
    Ok(reason.to_string())
}

#[derive(Deserialize)]
pub struct DeleteForm {
    from: i64,
    to: i64,
    reason: String,
}

pub async fn delete_segment(
    State(state): State<Arc<AppState>>,
    Path((person_id, day)): Path<(String, String)>,
    Signed { viewer, form }: Signed<DeleteForm>,
) -> Result<Response, Refusal> {
    let reason = reason(&form.reason, "a deletion")?;
    if form.to <= form.from || form.to.saturating_sub(form.from) > MAX_RANGE_MS {
        return Err(Refusal::BadRequest(
            "a deletion covers one segment or one day".into(),
        ));
    }
    let back = format!("/diary/{person_id}/{day}");
    let me = viewer.person;
    blocking(&state, move |store| {
        let person = store.person(&person_id)?.ok_or(Refusal::NotFound)?;
        // The weakest deletion: the store asks for more per record found.
        let grant = store.grant(&me, Whose::Person(&person.id), Action::DeleteRecent, "")?;
        let gone = store.delete_range(&grant, form.from, form.to, &reason)?;
        tracing::info!(viewer = %me.id, person = %person.id, minutes = gone.minutes, captures = gone.captures, "records deleted");
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct DeleteAllForm {
    reason: String,
}

/// Everything recorded about a person.
pub async fn delete_all(
    State(state): State<Arc<AppState>>,
    Path(person_id): Path<String>,
    Signed { viewer, form }: Signed<DeleteAllForm>,
) -> Result<Response, Refusal> {
    let reason = reason(&form.reason, "deleting everything")?;
    let back = format!("/diary/{person_id}/today");
    let me = viewer.person;
    blocking(&state, move |store| {
        let person = store.person(&person_id)?.ok_or(Refusal::NotFound)?;
        let grant = store.grant(&me, Whose::Person(&person.id), Action::DeleteAll, "")?;
        let gone = store.delete_all(&grant, &reason)?;
        tracing::info!(viewer = %me.id, person = %person.id, minutes = gone.minutes, captures = gone.captures, "all of a person's data deleted");
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}
