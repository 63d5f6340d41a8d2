//! The one call that decides and records: `Store::grant` asks
//! `access::allowed` whether someone may do an action to a person's data
//! and, when the action shows someone else's data, writes the look to
//! `view_audit` before it returns. Every read that returns a person's
//! records takes the [`Grant`] it returns, so an unaudited read does not
//! compile, and a grant for one action does not open another's read.

use super::sql::params;
use super::{now_ms, rfc3339, Person, Store, StoreError};
use crate::access::{allowed, scoped, Action, Role, Subject};

/// Whose data an action is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose<'a> {
    /// A person, by id.
    Person(&'a str),
    /// A device bound to nobody yet.
    Unbound,
    /// The organisation's settings, nobody's records.
    Org,
}

impl<'a> Whose<'a> {
    /// A person's, or an unbound device's when there is no person.
    pub fn of(person: Option<&'a str>) -> Whose<'a> {
        person.map_or(Whose::Unbound, Whose::Person)
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Someone logged in to the web UI.
    Person(Person),
    /// The server's host, through the command line: its operator can read
    /// the database anyway, so nothing is decided or audited for it.
    Host,
}

/// Permission for one action on one person's data (or an unbound device's,
/// or the organisation's), already audited where it shows data. Only
/// [`Store::grant`] and [`Store::host_grant`] make one.
#[derive(Debug)]
pub struct Grant {
    actor: Actor,
    subject: Subject,
    person: Option<String>,
    action: Action,
    /// Only the time on these projects (those the viewer leads): the
    /// grant of a lead who may see nothing else of the person's.
    projects: Option<Vec<String>>,
}

/// Two looks at the same thing by the same person within this long are one
/// entry in the audit: a diary and its thumbnails, or a page reloaded.
pub const SAME_VIEW_MS: i64 = 10 * 60_000;

impl Grant {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// Whose records: `None` for an unbound device or the organisation.
    pub fn person(&self) -> Option<&str> {
        self.person.as_deref()
    }

    /// The projects whose time alone this grant opens; `None`: all of it.
    /// Whether the grant is the person's look at their own data.
    pub fn is_own(&self) -> bool {
        self.subject == Subject::Own
    }

    pub fn projects(&self) -> Option<&[String]> {
        self.projects.as_deref()
    }

    /// Whether the grant opens time on `project`.
    pub fn opens(&self, project: Option<&str>) -> bool {
        match &self.projects {
            None => true,
            Some(ps) => project.is_some_and(|p| ps.iter().any(|x| x == p)),
        }
    }

    /// Who acted, as a tombstone and the employee's "what was deleted" say.
    pub fn by(&self) -> String {
        match &self.actor {
            Actor::Person(p) => format!("{} <{}>", p.name, p.email),
            Actor::Host => "the server's admin (CLI)".to_string(),
        }
    }

    /// Whether the same actor may also do `action` to the same data: for
    /// choices that show nothing more (which deletions to offer, whether a
    /// record is past the window). A look at data always takes a grant of
    /// its own, so it is audited.
    pub fn allows(&self, action: Action) -> bool {
        debug_assert!(!action.shows_data(), "{action:?} needs its own grant");
        match &self.actor {
            Actor::Host => true,
            Actor::Person(p) => !action.shows_data() && allowed(p.role, action, self.subject),
        }
    }

    /// The person whose records this grant opens for one of `actions`;
    /// anything else is a mistake in the caller, refused rather than read.
    pub(super) fn person_for(&self, actions: &[Action]) -> Result<&str, StoreError> {
        match (&self.person, actions.contains(&self.action)) {
            (Some(p), true) => Ok(p),
            _ => Err(StoreError::WrongGrant(self.action)),
        }
    }

    /// The records' owner (`None`: an unbound device's) for one of `actions`.
    pub(super) fn owner_for(&self, actions: &[Action]) -> Result<Option<&str>, StoreError> {
        if actions.contains(&self.action) {
            Ok(self.person.as_deref())
        } else {
            Err(StoreError::WrongGrant(self.action))
        }
    }
}

/// One look at someone's data, for "Who looked at my data".
#[derive(Debug, Clone, serde::Serialize)]
pub struct View {
    pub at: String,
    pub viewer: String,
    pub viewer_role: Role,
    pub what: String,
}

impl Store {
    /// May `viewer` do `action` to `whose` data? If so, and the action shows
    /// someone else's data, the look (`what`, in words for the person) is
    /// recorded before the grant is returned; if not, nothing is recorded
    /// and the answer is [`StoreError::Denied`].
    pub fn grant(
        &self,
        viewer: &Person,
        whose: Whose<'_>,
        action: Action,
        what: &str,
    ) -> Result<Grant, StoreError> {
        let (subject, person) = match whose {
            Whose::Person(id) => (self.subject(viewer, id)?, Some(id.to_string())),
            Whose::Unbound => (Subject::Unbound, None),
            Whose::Org => (Subject::Org, None),
        };
        match self.decide(viewer, subject, person, action, what)? {
            Some(grant) => Ok(grant),
            None => {
                tracing::info!(viewer = %viewer.id, ?action, ?subject, "refused");
                Err(StoreError::Denied("You may not see this.".to_string()))
            }
        }
    }

    /// The decision both `grant` and `grant_each` make: `None` when not
    /// allowed; else the grant, the look recorded when the action shows
    /// someone's data.
    fn decide(
        &self,
        viewer: &Person,
        subject: Subject,
        person: Option<String>,
        action: Action,
        what: &str,
    ) -> Result<Option<Grant>, StoreError> {
        if !allowed(viewer.role, action, subject) {
            return Ok(None);
        }
        let projects = match (&person, scoped(viewer.role, action, subject)) {
            (Some(id), true) => Some(self.led_projects(&viewer.id, id)?),
            _ => None,
        };
        if let (Some(id), true) = (&person, action.shows_data()) {
            // The person reads what the lead could see, not only that they looked.
            let what = match &projects {
                None => what.to_string(),
                Some(ps) => {
                    let names = self.work_names()?;
                    let on: Vec<String> = ps.iter().map(|p| names.project(Some(p))).collect();
                    format!("{what} (time on {})", on.join(", "))
                }
            };
            self.record_view(viewer, id, &what)?;
        }
        Ok(Some(Grant {
            actor: Actor::Person(viewer.clone()),
            subject,
            person,
            action,
            projects,
        }))
    }

    /// A grant for the server's host (the command line), which decides
    /// nothing and records nothing.
    pub fn host_grant(&self, whose: Whose<'_>, action: Action) -> Grant {
        let (subject, person) = match whose {
            Whose::Person(id) => (Subject::Other, Some(id.to_string())),
            Whose::Unbound => (Subject::Unbound, None),
            Whose::Org => (Subject::Org, None),
        };
        Grant {
            actor: Actor::Host,
            subject,
            person,
            action,
            projects: None,
        }
    }

    /// The people `viewer` may do `action` to (names and addresses, none of
    /// their records): whose diary to offer, whom a report covers.
    pub fn reachable(&self, viewer: &Person, action: Action) -> Result<Vec<Person>, StoreError> {
        let mut out = Vec::new();
        for p in self.people()? {
            if allowed(viewer.role, action, self.subject(viewer, &p.id)?) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// A grant for `action` on each person `viewer` may do it to and `wanted`
    /// keeps, each look recorded as `what`: the people a report covers. One
    /// decision per person, and nobody the viewer may not see is refused
    /// (and logged) on the way.
    pub fn grant_each(
        &self,
        viewer: &Person,
        action: Action,
        what: &str,
        wanted: impl Fn(&Person) -> bool,
    ) -> Result<Vec<(Person, Grant)>, StoreError> {
        let mut out = Vec::new();
        for p in self.people()?.into_iter().filter(|p| wanted(p)) {
            let subject = self.subject(viewer, &p.id)?;
            if let Some(grant) = self.decide(viewer, subject, Some(p.id.clone()), action, what)? {
                out.push((p, grant));
            }
        }
        Ok(out)
    }

    /// Whose data `subject` is, seen from `viewer`.
    pub(super) fn subject(&self, viewer: &Person, subject: &str) -> Result<Subject, StoreError> {
        if subject == viewer.id {
            return Ok(Subject::Own);
        }
        let managed: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM team_people m JOIN team_people s ON m.team_id = s.team_id
                            WHERE m.person_id = ?1 AND m.manager = 1 AND s.person_id = ?2)",
            params![viewer.id, subject],
            |r| r.get(0),
        )?;
        if managed {
            return Ok(Subject::Managed);
        }
        Ok(if self.led_projects(&viewer.id, subject)?.is_empty() {
            Subject::Other
        } else {
            Subject::Led
        })
    }

    /// The projects `lead` leads that `person` is a member of (any role).
    pub(super) fn led_projects(&self, lead: &str, person: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.conn().query_map(
            "SELECT l.project_id FROM project_members l JOIN project_members m ON m.project_id = l.project_id
             WHERE l.person_id = ?1 AND l.role = 'lead' AND m.person_id = ?2 ORDER BY l.project_id",
            params![lead, person],
            |r| r.get(0),
        )?)
    }

    /// Notes that `viewer` looked at `subject`'s data, unless it is their
    /// own or the same look is already noted within [`SAME_VIEW_MS`].
    pub(super) fn record_view(
        &self,
        viewer: &Person,
        subject: &str,
        what: &str,
    ) -> Result<(), StoreError> {
        if viewer.id == subject {
            return Ok(());
        }
        let now = now_ms();
        self.conn().execute(
            "INSERT INTO view_audit (at_ms, viewer_id, subject_id, what)
             SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (
                 SELECT 1 FROM view_audit WHERE subject_id = ?3 AND viewer_id = ?2 AND what = ?4 AND at_ms > ?5)",
            params![now, viewer.id, subject, what, now - SAME_VIEW_MS],
        )?;
        Ok(())
    }

    /// Who looked at the grant's person's data, newest first.
    pub fn views_of(&self, grant: &Grant) -> Result<Vec<View>, StoreError> {
        let subject = grant.person_for(&[Action::ViewAudit])?;
        let mut conn = self.conn();
        let rows = conn.query_map(
            "SELECT a.at_ms, p.name || ' <' || p.email || '>', p.role, a.what
             FROM view_audit a JOIN people p ON p.id = a.viewer_id
             WHERE a.subject_id = ?1 ORDER BY a.at_ms DESC, a.rowid DESC",
            params![subject],
            |r| {
                let role: String = r.get(2)?;
                Ok(View {
                    at: rfc3339(r.get(0)?),
                    viewer: r.get(1)?,
                    viewer_role: Role::parse(&role).unwrap_or(Role::Member),
                    what: r.get(3)?,
                })
            },
        )?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grant opens only the reads of its own action, a refusal records
    /// nothing, a look at someone else's data is recorded once however often
    /// it is repeated, and a look at one's own is not recorded at all.
    #[test]
    fn grants_decide_record_and_open_only_their_own_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let add = |email: &str, role| store.add_person(email, "N", "UTC", role).unwrap();
        let (mia, max, eve) = (
            add("mia@x", Role::Manager),
            add("max@x", Role::Member),
            add("eve@x", Role::Member),
        );
        let team = store.add_team("Support").unwrap();
        store.join_team(&team, &mia.id, true).unwrap();
        store.join_team(&team, &max.id, false).unwrap();
        for (viewer, subject, want) in [
            (&mia, &mia, Subject::Own),
            (&mia, &max, Subject::Managed),
            (&mia, &eve, Subject::Other),
            (&max, &mia, Subject::Other),
        ] {
            let got = store.subject(viewer, &subject.id).unwrap();
            assert_eq!(got, want, "{} -> {}", viewer.email, subject.email);
        }

        let refused = store.grant(&eve, Whose::Person(&max.id), Action::ViewDiary, "diary");
        assert!(matches!(refused, Err(StoreError::Denied(_))), "{refused:?}");
        for _ in 0..3 {
            let g = store
                .grant(
                    &mia,
                    Whose::Person(&max.id),
                    Action::ViewDiary,
                    "diary of a day",
                )
                .unwrap();
            assert_eq!(g.person(), Some(max.id.as_str()));
            assert!(store.day(&g, 0, 1).is_ok(), "a diary grant reads the day");
            assert!(
                matches!(store.views_of(&g), Err(StoreError::WrongGrant(_))),
                "but not the audit"
            );
        }
        store
            .grant(&max, Whose::Person(&max.id), Action::ViewDiary, "own diary")
            .unwrap();
        let own = store
            .grant(&max, Whose::Person(&max.id), Action::ViewAudit, "")
            .unwrap();
        let views = store.views_of(&own).unwrap();
        assert_eq!(views.len(), 1, "{views:?}");
        assert_eq!(views[0].what, "diary of a day");
        assert!(views[0].viewer.contains("mia@x"));
        // Choices that show nothing take no grant of their own.
        assert!(own.allows(Action::DeleteRecent) && !own.allows(Action::DeleteOld));
        let host = store.host_grant(Whose::Person(&max.id), Action::DeleteAll);
        assert!(host.allows(Action::DeleteOld));
        assert_eq!(host.by(), "the server's admin (CLI)");
    }

    /// A capture without a thumbnail (a PNG) asked for as a thumbnail is
    /// sent at full size, and the audit says the image itself was seen; a
    /// thumbnail that exists is audited as the thumbnails it is.
    #[test]
    fn the_audit_follows_the_image_that_was_sent() {
        use crate::store::{Image, Size};
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let mia = store
            .add_person("mia@x", "Mia", "UTC", Role::Admin)
            .unwrap();
        let max = store
            .add_person("max@x", "Max", "UTC", Role::Member)
            .unwrap();
        let device = store.enroll_device(Some(&max.id), "pc").unwrap();
        let meta = |format: &str| -> stint_proto::CaptureMeta {
            serde_json::from_value(serde_json::json!({
                "kind": "screenshot", "taken_at": "2026-11-29T10:00:00Z", "utc_offset": 0,
                "monitor": "M", "width": 2, "height": 1, "format": format, "session_id": "s"
            }))
            .unwrap()
        };
        let png = "0190c0de-0000-7000-8000-000000000001";
        store
            .upsert_capture(&device, png, &meta("png"), b"not really a png", "ip")
            .unwrap();
        let grant = store
            .grant(
                &mia,
                Whose::Person(&max.id),
                Action::ViewImage,
                "screenshot thumbnails of 2026-11-29",
            )
            .unwrap();
        let sent = store.image(&grant, png, Size::Thumbnail).unwrap();
        assert!(matches!(
            sent,
            Some(Image::Stream {
                mime: "image/png",
                ..
            })
        ));
        let own = store
            .grant(&max, Whose::Person(&max.id), Action::ViewAudit, "")
            .unwrap();
        let seen: Vec<String> = store
            .views_of(&own)
            .unwrap()
            .into_iter()
            .map(|v| v.what)
            .collect();
        assert_eq!(
            seen,
            [
                format!("screenshot {png}"),
                "screenshot thumbnails of 2026-11-29".to_string()
            ]
        );
        // A grant for someone else's images does not open this one.
        let mias = store.enroll_device(Some(&mia.id), "mia-pc").unwrap();
        let hers = "0190c0de-0000-7000-8000-000000000002";
        store
            .upsert_capture(&mias, hers, &meta("png"), b"x", "ip")
            .unwrap();
        assert!(matches!(
            store.image(&grant, hers, Size::Full),
            Err(StoreError::WrongGrant(_))
        ));
    }
}
