//! Reassigning a segment of the diary to another project or task, with a
//! reason. Who may is the store's decision (store/reassign.rs); the change
//! is listed on the person's "who looked / what changed" page.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use stint_proto::Work;

use super::extract::Signed;
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

/// The choice a form's `work` field names.
pub fn parse_work(text: &str) -> Work {
    let mut parts = text.trim().splitn(2, '/');
    let project = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
    let task = parts.next().filter(|t| !t.is_empty()).map(str::to_string);
    Work {
        task_id: task.filter(|_| project.is_some()),
        project_id: project,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_field_names_a_project_and_maybe_a_task() {
        let w = |p: Option<&str>, t: Option<&str>| Work {
            project_id: p.map(str::to_string),
            task_id: t.map(str::to_string),
        };
        for (text, want) in [
            ("", w(None, None)),
            ("p1", w(Some("p1"), None)),
            ("p1/t1", w(Some("p1"), Some("t1"))),
            ("/t1", w(None, None)),
        ] {
            assert_eq!(parse_work(text), want, "{text:?}");
        }
    }
}
