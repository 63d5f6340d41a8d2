//! Clients, projects, their tasks and members: what time is for. Projects
//! are dated (offered to agents only between their days) and archived
//! rather than deleted, so reports of past time keep their names.

use std::collections::HashMap;

use chrono::NaiveDate;
use stint_proto::{ProjectChoice, TaskChoice, WorkList};

use super::sql::{params, OptionalExtension};
use super::{Person, Store, StoreError};
use crate::access::{project_allowed, ProjectAction, ProjectRole};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub name: String,
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person_id: String,
    pub name: String,
    pub email: String,
    pub role: ProjectRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub client: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub archived: bool,
    pub tasks: Vec<Task>,
    pub members: Vec<Member>,
}

impl Project {
    /// Whether `day` lies within the project's dates.
    pub fn open_on(&self, day: NaiveDate) -> bool {
        self.starts_on.is_none_or(|s| s <= day) && self.ends_on.is_none_or(|e| day <= e)
    }

    pub fn role_of(&self, person: &str) -> Option<ProjectRole> {
        self.members
            .iter()
            .find(|m| m.person_id == person)
            .map(|m| m.role)
    }
}

/// Names of projects and tasks by id, for reports: an id no project has
/// any more reads as itself.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub projects: HashMap<String, (String, Option<String>)>,
    pub tasks: HashMap<String, String>,
}

impl Names {
    /// "Website / Design", "Website" or "Unassigned".
    pub fn label(&self, w: &stint_proto::Work) -> String {
        let project = self.project(w.project_id.as_deref());
        match w.task_id.as_deref() {
            None => project,
            Some(t) => format!("{project} / {}", self.task(Some(t))),
        }
    }

    pub fn project(&self, id: Option<&str>) -> String {
        match id {
            None => "Unassigned".into(),
            Some(id) => self
                .projects
                .get(id)
                .map_or_else(|| format!("(project {id})"), |(n, _)| n.clone()),
        }
    }

    pub fn client(&self, id: Option<&str>) -> String {
        id.and_then(|id| self.projects.get(id))
            .and_then(|(_, c)| c.clone())
            .unwrap_or_default()
    }

    pub fn task(&self, id: Option<&str>) -> String {
        match id {
            None => String::new(),
            Some(id) => self
                .tasks
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("(task {id})")),
        }
    }
}

fn day(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| t.parse().ok())
}

fn name_taken(what: &str, name: &str) -> impl FnOnce(super::sql::SqlError) -> StoreError {
    let msg = format!("there is a {what} {name:?} already");
    move |e| {
        if e.is_constraint() {
            StoreError::Invalid(msg)
        } else {
            e.into()
        }
    }
}

impl Store {
    /// A new project; `client` is found by name or created.
    pub fn add_project(
        &self,
        name: &str,
        client: Option<&str>,
        starts_on: Option<NaiveDate>,
        ends_on: Option<NaiveDate>,
    ) -> Result<String, StoreError> {
        let name = super::names::name("project name", name)?;
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            if e < s {
                return Err(StoreError::Invalid(format!(
                    "project {name:?}: it ends on {e}, before it starts on {s}"
                )));
            }
        }
        let client_id = match client.filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(c) => Some(self.client_id(c)?),
        };
        let id = uuid::Uuid::now_v7().to_string();
        self.conn()
            .execute(
                "INSERT INTO projects (id, name, client_id, starts_on, ends_on, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    name,
                    client_id,
                    starts_on.map(|d| d.to_string()),
                    ends_on.map(|d| d.to_string()),
                    super::now_ms()
                ],
            )
            .map_err(name_taken("project", &name))?;
        Ok(id)
    }

    fn client_id(&self, name: &str) -> Result<String, StoreError> {
        let name = super::names::name("client name", name)?;
        let mut conn = self.conn();
        let found: Option<String> = conn
            .query_row(
                "SELECT id FROM clients WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = found {
            return Ok(id);
        }
        let id = uuid::Uuid::now_v7().to_string();
        conn.execute(
            "INSERT INTO clients (id, name) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![id, name],
        )?;
        Ok(conn.query_row(
            "SELECT id FROM clients WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?)
    }

    /// Every project, archived ones too, by name, with tasks and members.
    pub fn projects(&self) -> Result<Vec<Project>, StoreError> {
        let mut conn = self.conn();
        let mut projects: Vec<Project> = conn.query_map(
            "SELECT p.id, p.name, c.name, p.starts_on, p.ends_on, p.archived
             FROM projects p LEFT JOIN clients c ON c.id = p.client_id ORDER BY p.name",
            params![],
            |r| {
                Ok(Project {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    client: r.get(2)?,
                    starts_on: day(r.get(3)?),
                    ends_on: day(r.get(4)?),
                    archived: r.get::<i64>(5)? != 0,
                    tasks: Vec::new(),
                    members: Vec::new(),
                })
            },
        )?;
        let tasks: Vec<(String, Task)> = conn.query_map(
            "SELECT project_id, id, name, archived FROM tasks ORDER BY name",
            params![],
            |r| {
                Ok((
                    r.get(0)?,
                    Task {
                        id: r.get(1)?,
                        name: r.get(2)?,
                        archived: r.get::<i64>(3)? != 0,
                    },
                ))
            },
        )?;
        let members: Vec<(String, Member, String)> = conn.query_map(
            "SELECT m.project_id, m.person_id, p.name, p.email, m.role
             FROM project_members m JOIN people p ON p.id = m.person_id ORDER BY p.name",
            params![],
            |r| {
                Ok((
                    r.get(0)?,
                    Member {
                        person_id: r.get(1)?,
                        name: r.get(2)?,
                        email: r.get(3)?,
                        role: ProjectRole::Member,
                    },
                    r.get(4)?,
                ))
            },
        )?;
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for (i, p) in projects.iter().enumerate() {
            by_id.insert(p.id.clone(), i);
        }
        for (pid, t) in tasks {
            if let Some(&i) = by_id.get(&pid) {
                projects[i].tasks.push(t);
            }
        }
        for (pid, mut m, role) in members {
            if let (Some(&i), Some(role)) = (by_id.get(&pid), ProjectRole::parse(&role)) {
                m.role = role;
                projects[i].members.push(m);
            }
        }
        Ok(projects)
    }

    pub fn project(&self, id: &str) -> Result<Option<Project>, StoreError> {
        Ok(self.projects()?.into_iter().find(|p| p.id == id))
    }

    /// The project called `name` (or with id `name`), ignoring case.
    /// The project of `work`, when it is an open one (with an open task, if
    /// it names one) that `person` tracks time on: where recorded or
    /// offline time may go. `None`: unassigned.
    pub(super) fn open_work_for(
        &self,
        person: &Person,
        work: &stint_proto::Work,
    ) -> Result<Option<Project>, StoreError> {
        let Some(id) = &work.project_id else {
            return Ok(None);
        };
        let p = self
            .project(id)?
            .filter(|p| !p.archived)
            .ok_or_else(|| StoreError::Invalid(format!("no open project {id}")))?;
        if let Some(t) = &work.task_id {
            if !p.tasks.iter().any(|x| &x.id == t && !x.archived) {
                return Err(StoreError::Invalid(format!(
                    "project {:?} has no open task {t}",
                    p.name
                )));
            }
        }
        if !matches!(
            p.role_of(&person.id),
            Some(ProjectRole::Lead | ProjectRole::Member)
        ) {
            return Err(StoreError::Invalid(format!(
                "{} does not track time on project {:?}",
                person.name, p.name
            )));
        }
        Ok(Some(p))
    }

    pub fn project_named(&self, name: &str) -> Result<Project, StoreError> {
        let name = name.trim();
        self.projects()?
            .into_iter()
            .find(|p| p.id == name || p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| StoreError::NotFound(format!("no project {name:?}")))
    }

    pub fn set_project_archived(&self, id: &str, archived: bool) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE projects SET archived = ?2 WHERE id = ?1",
            params![id, i64::from(archived)],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no project {id}")));
        }
        Ok(())
    }

    /// A new task of `project`; its name must be free within the project.
    pub fn add_task(&self, project: &str, name: &str) -> Result<String, StoreError> {
        let name = super::names::name("task name", name)?;
        if self.project(project)?.is_none() {
            return Err(StoreError::NotFound(format!("no project {project}")));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.conn()
            .execute(
                "INSERT INTO tasks (id, project_id, name) VALUES (?1, ?2, ?3)",
                params![id, project, name],
            )
            .map_err(name_taken("task", &name))?;
        Ok(id)
    }

    pub fn set_task_archived(
        &self,
        project: &str,
        task: &str,
        archived: bool,
    ) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE tasks SET archived = ?3 WHERE id = ?2 AND project_id = ?1",
            params![project, task, i64::from(archived)],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "no task {task} in project {project}"
            )));
        }
        Ok(())
    }

    /// Makes `person` a member of `project` in `role`; `None` removes them.
    pub fn set_member(
        &self,
        project: &str,
        person: &str,
        role: Option<ProjectRole>,
    ) -> Result<(), StoreError> {
        if self.project(project)?.is_none() {
            return Err(StoreError::NotFound(format!("no project {project}")));
        }
        if self.person(person)?.is_none() {
            return Err(StoreError::NotFound(format!("no person {person}")));
        }
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM project_members WHERE project_id = ?1 AND person_id = ?2",
            params![project, person],
        )?;
        if let Some(role) = role {
            tx.execute(
                "INSERT INTO project_members (project_id, person_id, role) VALUES (?1, ?2, ?3)",
                params![project, person, role.name()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Refused in words unless `viewer` may do `action` with `project`
    /// (`None`: with projects at large, as creating one).
    pub fn project_grant(
        &self,
        viewer: &Person,
        project: Option<&Project>,
        action: ProjectAction,
    ) -> Result<(), StoreError> {
        let member = project.and_then(|p| p.role_of(&viewer.id));
        if project_allowed(viewer.role, member, action) {
            Ok(())
        } else {
            Err(StoreError::Denied(format!(
                "you may not {} {}",
                match action {
                    ProjectAction::Track => "track time on",
                    ProjectAction::See => "see",
                    ProjectAction::Manage => "manage the tasks and members of",
                    ProjectAction::Administer => "create, archive or change",
                },
                project.map_or("projects".to_string(), |p| format!("project {:?}", p.name))
            )))
        }
    }

    /// The projects `person` may track time on today (in their time zone):
    /// not archived, within their dates, with their open tasks.
    pub fn work_list(&self, person: &Person) -> Result<WorkList, StoreError> {
        let today = chrono::Utc::now().with_timezone(&person.tz()).date_naive();
        let mut projects = Vec::new();
        for p in self
            .projects()?
            .into_iter()
            .filter(|p| !p.archived && p.open_on(today))
            .filter(|p| project_allowed(person.role, p.role_of(&person.id), ProjectAction::Track))
        {
            let policy = self.scoped_policy(&super::Scope::Project(p.id.clone()))?;
            let allowance = self.allowance(person, &p, super::now_ms())?;
            projects.push(ProjectChoice {
                id: p.id,
                name: p.name,
                client: p.client,
                tasks: p
                    .tasks
                    .into_iter()
                    .filter(|t| !t.archived)
                    .map(|t| TaskChoice {
                        id: t.id,
                        name: t.name,
                    })
                    .collect(),
                policy,
                allowance,
            });
        }
        Ok(WorkList { projects })
    }

    /// The heartbeat's project list: `None` for a device bound to nobody.
    pub fn device_work(&self, device: &str) -> Result<Option<WorkList>, StoreError> {
        let person = self.device_person(device)?;
        let Some(person) = person.map(|p| self.person(&p)).transpose()?.flatten() else {
            return Ok(None);
        };
        if person.archived {
            return Ok(Some(WorkList::default()));
        }
        self.work_list(&person).map(Some)
    }

    /// Every project's and task's name by id.
    pub fn work_names(&self) -> Result<Names, StoreError> {
        let mut names = Names::default();
        for p in self.projects()? {
            for t in p.tasks {
                names.tasks.insert(t.id, t.name);
            }
            names.projects.insert(p.id, (p.name, p.client));
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use crate::access::{ProjectAction, ProjectRole, Role};

    #[test]
    fn projects_offer_what_a_member_may_track_within_their_dates() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let max = store
            .add_person("max@x", "Max", "UTC", Role::Member)
            .unwrap();
        let today = chrono::Utc::now().date_naive();
        let web = store
            .add_project("Website", Some("ACME"), None, None)
            .unwrap();
        let old = store
            .add_project("Old", None, None, Some(today.pred_opt().unwrap()))
            .unwrap();
        let seen = store.add_project("Seen", None, None, None).unwrap();
        let gone = store.add_project("Gone", None, None, None).unwrap();
        let design = store.add_task(&web, "Design").unwrap();
        let build = store.add_task(&web, "Build").unwrap();
        store.set_task_archived(&web, &build, true).unwrap();
        for (p, role) in [
            (&web, ProjectRole::Member),
            (&old, ProjectRole::Member),
            (&seen, ProjectRole::Viewer),
            (&gone, ProjectRole::Lead),
        ] {
            store.set_member(p, &max.id, Some(role)).unwrap();
        }
        store.set_project_archived(&gone, true).unwrap();
        let list = store.work_list(&max).unwrap();
        let names: Vec<_> = list.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["Website"],
            "ended, viewed and archived are not offered"
        );
        assert_eq!(list.projects[0].client.as_deref(), Some("ACME"));
        let tasks: Vec<_> = list.projects[0].tasks.iter().map(|t| &t.id).collect();
        assert_eq!(tasks, [&design]);

        let e = store.add_project("website", None, None, None);
        assert!(
            e.is_ok(),
            "names are unique as spelled; lookups ignore case"
        );
        let e = store.add_task(&web, "Design").unwrap_err().to_string();
        assert!(e.contains("already"), "{e}");
        let e = store
            .add_project("Backwards", None, Some(today), today.pred_opt())
            .unwrap_err()
            .to_string();
        assert!(e.contains("before it starts"), "{e}");

        let project = store.project(&seen).unwrap().unwrap();
        let e = store
            .project_grant(&max, Some(&project), ProjectAction::Manage)
            .unwrap_err();
        assert!(e.to_string().contains("Seen"), "{e}");
        store
            .set_member(&seen, &max.id, Some(ProjectRole::Lead))
            .unwrap();
        let project = store.project(&seen).unwrap().unwrap();
        store
            .project_grant(&max, Some(&project), ProjectAction::Manage)
            .unwrap();
        let e = store
            .project_grant(&max, None, ProjectAction::Administer)
            .unwrap_err();
        assert!(e.to_string().contains("create"), "{e}");
    }
}
