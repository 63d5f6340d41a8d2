//! Deleting a segment from the diary: owners and admins any time; a person
//! their own segment during the day after it ended (or their review window,
//! if that is longer). Rows and images go, tombstones stay (store/deletion.rs).

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::blocking;
use super::{csrf_ok, viewer, Refusal};
use crate::access::{allowed, Action, Subject};
use crate::api::AppState;
use crate::store::Person;

const DAY_MS: i64 = 86_400_000;

/// Whether `me` may delete the segment [_, end_ms) of someone whose data is
/// `subject` to them, at `now_ms`, under a review window of `review_ms`.
pub fn may_delete(me: &Person, subject: Subject, end_ms: i64, now_ms: i64, review_ms: i64) -> bool {
    allowed(me.role, Action::Delete, subject)
        && (subject != Subject::Own
            || matches!(
                me.role,
                crate::access::Role::Owner | crate::access::Role::Admin
            )
            || now_ms < end_ms + review_ms.max(DAY_MS))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    from: i64,
    to: i64,
    reason: String,
}

pub async fn delete_segment(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((person_id, day)): Path<(String, String)>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, Refusal> {
    if !csrf_ok(&headers, &form.csrf) {
        return Err(Refusal::Forged);
    }
    let me = viewer(&state, &headers).await?;
    let reason = form.reason.trim().to_string();
    if reason.is_empty()
        || reason.len() > 500
        || form.to <= form.from
        || form.to - form.from > DAY_MS
    {
        return Err(Refusal::BadRequest(
            "a deletion needs a reason (up to 500 characters) and one segment".into(),
        ));
    }
    let back = format!("/diary/{person_id}/{day}");
    blocking(&state, move |store| {
        let Some(person) = store.person(&person_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let subject = store.subject(&me, Some(&person.id))?;
        let review_ms = store.effective_policy(Some(&person.id))?.review_ms();
        if !may_delete(&me, subject, form.to, crate::store::now_ms(), review_ms) {
            return Ok(Err(Refusal::Denied));
        }
        let by = format!("{} <{}>", me.name, me.email);
        let gone = store.delete_range(&person.id, form.from, form.to, &by, &reason)?;
        tracing::info!(viewer = %me.id, person = %person.id, minutes = gone.minutes, captures = gone.captures, "segment deleted");
        Ok(Ok(()))
    })
    .await??;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct DeleteAllForm {
    csrf: String,
    reason: String,
}

/// Everything recorded about a person: owners and admins only.
pub async fn delete_all(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(person_id): Path<String>,
    Form(form): Form<DeleteAllForm>,
) -> Result<Response, Refusal> {
    if !csrf_ok(&headers, &form.csrf) {
        return Err(Refusal::Forged);
    }
    let me = viewer(&state, &headers).await?;
    let reason = form.reason.trim().to_string();
    if reason.is_empty() || reason.len() > 500 {
        return Err(Refusal::BadRequest(
            "deleting everything needs a reason (up to 500 characters)".into(),
        ));
    }
    let back = format!("/diary/{person_id}/today");
    blocking(&state, move |store| {
        let Some(person) = store.person(&person_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let subject = store.subject(&me, Some(&person.id))?;
        if !may_delete_all(&me, subject) {
            return Ok(Err(Refusal::Denied));
        }
        let by = format!("{} <{}>", me.name, me.email);
        let gone = store.delete_all(&person.id, &by, &reason)?;
        tracing::info!(viewer = %me.id, person = %person.id, minutes = gone.minutes, captures = gone.captures, "all of a person's data deleted");
        Ok(Ok(()))
    })
    .await??;
    Ok(Redirect::to(&back).into_response())
}

/// Only owners and admins delete everything of a person at once.
pub fn may_delete_all(me: &Person, subject: Subject) -> bool {
    allowed(me.role, Action::Delete, subject)
        && matches!(
            me.role,
            crate::access::Role::Owner | crate::access::Role::Admin
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    #[test]
    fn who_may_delete_a_segment_and_until_when() {
        let person = |role| Person {
            id: "p".into(),
            email: "p@x".into(),
            name: "P".into(),
            time_zone: "UTC".into(),
            role,
            archived: false,
        };
        let end = 1_000 * DAY_MS;
        let hour = 3_600_000;
        for (role, subject, now, review, want) in [
            (Role::Member, Subject::Own, end + hour, 0, true),
            (Role::Member, Subject::Own, end + DAY_MS + 1, 0, false),
            (
                Role::Member,
                Subject::Own,
                end + DAY_MS + 1,
                2 * DAY_MS,
                true,
            ),
            (Role::Member, Subject::Other, end, 0, false),
            (Role::Manager, Subject::Managed, end, 0, false),
            (Role::Manager, Subject::Own, end, 0, true),
            (Role::Auditor, Subject::Other, end, 0, false),
            (Role::Admin, Subject::Other, end + 400 * DAY_MS, 0, true),
            (Role::Owner, Subject::Own, end + 400 * DAY_MS, 0, true),
        ] {
            assert_eq!(
                may_delete(&person(role), subject, end, now, review),
                want,
                "{role:?} {subject:?} {}h after the end",
                (now - end) / hour
            );
        }
    }
}
