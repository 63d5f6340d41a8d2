//! The projects page: the projects a person may see, with their tasks and
//! members; owners and admins create and archive projects, a project's
//! lead (and they) add tasks and members. Every change asks the store's
//! `project_grant`, which decides with `access::project_allowed`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::extract::{Signed, Viewer};
use super::format::visible;
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::access::{ProjectAction, ProjectRole};
use crate::state::AppState;
use crate::store::{Person, Project, Store};

/// A project as the page shows it, and what the viewer may do with it.
struct ProjectView {
    id: String,
    name: String,
    client: String,
    dates: String,
    archived: bool,
    tasks: Vec<(String, String, bool)>,
    members: Vec<(String, String, &'static str)>,
    manage: bool,
    administer: bool,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    nav: Nav,
    projects: Vec<ProjectView>,
    /// Whether the viewer may create projects.
    create: bool,
    roles: Vec<&'static str>,
}

fn view(store: &Store, me: &Person, p: Project) -> Option<ProjectView> {
    let may = |a| store.project_grant(me, Some(&p), a).is_ok();
    if !may(ProjectAction::See) {
        return None;
    }
    let dates = match (p.starts_on, p.ends_on) {
        (None, None) => String::new(),
        (s, e) => format!(
            "{} to {}",
            s.map_or("open".into(), |d| d.to_string()),
            e.map_or("open".into(), |d| d.to_string())
        ),
    };
    Some(ProjectView {
        manage: may(ProjectAction::Manage),
        administer: may(ProjectAction::Administer),
        id: p.id,
        name: visible(&p.name),
        client: p.client.as_deref().map(visible).unwrap_or_default(),
        dates,
        archived: p.archived,
        tasks: p
            .tasks
            .into_iter()
            .map(|t| (t.id, visible(&t.name), t.archived))
            .collect(),
        members: p
            .members
            .into_iter()
            .map(|m| (visible(&m.name), visible(&m.email), m.role.name()))
            .collect(),
    })
}

pub async fn list(State(state): State<Arc<AppState>>, viewer: Viewer) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let projects = store
            .projects()?
            .into_iter()
            .filter_map(|p| view(store, &me, p))
            .collect();
        Ok(ProjectsPage {
            nav,
            projects,
            create: store
                .project_grant(&me, None, ProjectAction::Administer)
                .is_ok(),
            roles: ProjectRole::ALL.iter().map(|r| r.name()).collect(),
        })
    })
    .await?;
    Ok(render(&page))
}

/// Every field any project form sends; each action reads its own.
#[derive(Deserialize, Default)]
pub struct ProjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    starts: String,
    #[serde(default)]
    ends: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

fn day(field: &str, text: &str) -> Result<Option<NaiveDate>, Refusal> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| {
            Refusal::BadRequest(format!("{field} {t:?} is not a day like 2026-12-31"))
        }),
    }
}

pub async fn add(
    State(state): State<Arc<AppState>>,
    Signed { viewer, form }: Signed<ProjectForm>,
) -> Result<Response, Refusal> {
    let (starts, ends) = (day("start", &form.starts)?, day("end", &form.ends)?);
    blocking(&state, move |store| {
        store.project_grant(&viewer.person, None, ProjectAction::Administer)?;
        let client = Some(form.client.as_str()).filter(|c| !c.trim().is_empty());
        store.add_project(&form.name, client, starts, ends)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/projects").into_response())
}

/// What a project's forms do, by the last part of their path, and the
/// permission each needs.
enum Change {
    Archive(bool),
    AddTask(String),
    ArchiveTask(String),
    Member(String, Option<ProjectRole>),
}

impl Change {
    fn parse(name: &str, form: ProjectForm) -> Result<Change, Refusal> {
        Ok(match name {
            "archive" => Change::Archive(true),
            "restore" => Change::Archive(false),
            "task" => Change::AddTask(form.task),
            "task-archive" => Change::ArchiveTask(form.task),
            "member" => {
                let role = match form.role.as_str() {
                    "none" => None,
                    r => Some(ProjectRole::parse(r).ok_or_else(|| {
                        Refusal::BadRequest(format!("{r:?} is not lead, member, viewer or none"))
                    })?),
                };
                Change::Member(form.email, role)
            }
            _ => return Err(Refusal::NotFound),
        })
    }

    fn needs(&self) -> ProjectAction {
        match self {
            Change::Archive(_) => ProjectAction::Administer,
            _ => ProjectAction::Manage,
        }
    }
}

pub async fn change(
    State(state): State<Arc<AppState>>,
    Path((id, name)): Path<(String, String)>,
    Signed { viewer, form }: Signed<ProjectForm>,
) -> Result<Response, Refusal> {
    let change = Change::parse(&name, form)?;
    blocking(&state, move |store| {
        let project = store.project(&id)?.ok_or(Refusal::NotFound)?;
        store.project_grant(&viewer.person, Some(&project), change.needs())?;
        match change {
            Change::Archive(on) => store.set_project_archived(&project.id, on)?,
            Change::AddTask(task) => {
                store.add_task(&project.id, &task)?;
            }
            Change::ArchiveTask(task) => store.set_task_archived(&project.id, &task, true)?,
            Change::Member(email, role) => {
                let person = store
                    .person_by_email(email.trim())?
                    .ok_or_else(|| Refusal::BadRequest(format!("no person {email:?}")))?;
                store.set_member(&project.id, &person.id, role)?;
            }
        }
        tracing::info!(by = %viewer.person.id, project = %project.id, "project changed");
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/projects").into_response())
}
