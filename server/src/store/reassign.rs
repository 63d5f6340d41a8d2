//! Reassigning recorded time to another project or task, with a reason:
//! the person themself within the deletion window, their manager or an
//! admin at any time, and a project's lead into their own project. The
//! minutes stay as the agent sent them; each reassignment is a row that
//! the diary and the reports apply over them, newest last, and that the
//! person's "who looked / what changed" page lists.

use stint_proto::Work;

use super::sql::params;
use super::{rfc3339, Grant, Person, Store, StoreError};
use crate::access::{deletion, Action, Role};

/// The longest range one reassignment covers.
pub const MAX_REASSIGN_MS: i64 = 31 * 86_400_000;

/// One reassignment as the diary, the reports and the person see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub from_ms: i64,
    pub to_ms: i64,
    pub work: Work,
    pub reason: String,
    /// "Mia <mia@example.com>".
    pub by: String,
    pub at: String,
}

/// Whether the deletion window lets `viewer` reassign `person`'s time that
/// ended at `to_ms`: it binds one's own time only, and not an owner's or
/// admin's.
pub fn window_allows(
    viewer: &Person,
    person: &Person,
    to_ms: i64,
    now_ms: i64,
    review_ms: i64,
) -> bool {
    let admin = matches!(viewer.role, Role::Owner | Role::Admin);
    viewer.id != person.id || admin || deletion(to_ms, now_ms, review_ms) == Action::DeleteRecent
}

/// Lays `rs` (oldest first) over a day's minutes and kept spans: a minute
/// whose seconds begin inside a reassigned range, and a span that begins
/// inside one, are for its project and task.
pub(super) fn apply(
    rs: &[Reassignment],
    minutes: &mut [super::DiaryMinute],
    spans: &mut [super::DiaryIdle],
) {
    for r in rs {
        let inside = |ms: i64| (r.from_ms..r.to_ms).contains(&ms);
        for m in minutes.iter_mut() {
            if inside(m.start_ms + i64::from(m.from_secs) * 1000) {
                m.project_id = r.work.project_id.clone();
                m.task_id = r.work.task_id.clone();
            }
        }
        for s in spans.iter_mut() {
            if inside(s.start_ms) {
                s.project_id = r.work.project_id.clone();
                s.task_id = r.work.task_id.clone();
            }
        }
    }
}

impl Store {
    /// Records that [from_ms, to_ms) of `person`'s time was for `work`.
    pub fn reassign(
        &self,
        viewer: &Person,
        person: &Person,
        (from_ms, to_ms): (i64, i64),
        work: &Work,
        reason: &str,
    ) -> Result<(), StoreError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control)
        {
            return Err(StoreError::Invalid(
                "a reassignment needs a reason of 1 to 500 characters".into(),
            ));
        }
        if !(1..=MAX_REASSIGN_MS).contains(&(to_ms - from_ms)) {
            return Err(StoreError::Invalid(format!(
                "from {} to {}: the range must run forward, at most 31 days",
                rfc3339(from_ms),
                rfc3339(to_ms)
            )));
        }
        self.open_work_for(person, work)?;
        self.check_unlocked(viewer, person, (from_ms, to_ms))?;
        let grant = self.grant(
            viewer,
            super::Whose::Person(&person.id),
            Action::Reassign,
            "",
        )?;
        // A lead moves time into the projects they lead, and only there.
        if !grant.opens(work.project_id.as_deref()) {
            return Err(StoreError::Denied(
                "a project's lead may move time into the projects they lead only".into(),
            ));
        }
        let review = self.effective_policy(Some(&person.id))?.review_ms();
        if !window_allows(viewer, person, to_ms, super::now_ms(), review) {
            return Err(StoreError::Denied(
                        "your own time can be reassigned only within a day after it (or the review window, if longer); ask your manager".into(),
                    ));
        }
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO reassignments (id, person_id, from_ms, to_ms, project_id, task_id, reason, by_id, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                uuid::Uuid::now_v7().to_string(),
                person.id,
                from_ms,
                to_ms,
                work.project_id,
                work.task_id,
                reason,
                viewer.id,
                super::now_ms()
            ],
        )?;
        // The minutes in the range, and those under idle spans that start
        // in it (a span's project follows the reassignment).
        let week = stint_proto::MAX_IDLE_SPAN_SECS * 1000;
        super::stale::mark(
            &mut tx,
            &person.id,
            super::stale::hours_touching(from_ms, to_ms + week),
        )?;
        tx.commit()?;
        drop(conn);
        tracing::info!(by = %viewer.id, person = %person.id, from_ms, to_ms, project = ?work.project_id, "time reassigned");
        Ok(())
    }

    pub(super) fn reassignments_where(
        &self,
        person: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Reassignment>, StoreError> {
        let mut conn = self.conn();
        Ok(conn.query_map(
            "SELECT r.from_ms, r.to_ms, r.project_id, r.task_id, r.reason,
                    coalesce(p.name || ' <' || p.email || '>', r.by_id), r.at_ms
             FROM reassignments r LEFT JOIN people p ON p.id = r.by_id
             WHERE r.person_id = ?1 AND r.to_ms > ?2 AND r.from_ms < ?3
             ORDER BY r.at_ms, r.id",
            params![person, from_ms, to_ms],
            |r| {
                Ok(Reassignment {
                    from_ms: r.get(0)?,
                    to_ms: r.get(1)?,
                    work: Work {
                        project_id: r.get(2)?,
                        task_id: r.get(3)?,
                    },
                    reason: r.get(4)?,
                    by: r.get(5)?,
                    at: rfc3339(r.get(6)?),
                })
            },
        )?)
    }

    /// Every reassignment of the person's time, newest first: what changed.
    pub fn reassignments_of(&self, grant: &Grant) -> Result<Vec<Reassignment>, StoreError> {
        let person = grant.person_for(&[Action::ViewAudit])?;
        let mut all = self.reassignments_where(person, i64::MIN, i64::MAX)?;
        all.reverse();
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ProjectRole;
    use crate::store::Whose;

    /// Who may reassign whose time, table-driven: the person within the
    /// window, their manager, an admin, a project's lead into the project;
    /// not another member, not an auditor, not after the window.
    #[test]
    fn reassignment_follows_the_access_table_and_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let add = |e: &str, n: &str, r| store.add_person(e, n, "UTC", r).unwrap();
        let max = add("max@x", "Max", Role::Member);
        let eve = add("eve@x", "Eve", Role::Member);
        let mia = add("mia@x", "Mia", Role::Manager);
        let ada = add("ada@x", "Ada", Role::Admin);
        let aud = add("aud@x", "Aud", Role::Auditor);
        let lee = add("lee@x", "Lee", Role::Member);
        let team = store.add_team("T").unwrap();
        store.join_team(&team, &mia.id, true).unwrap();
        store.join_team(&team, &max.id, false).unwrap();
        let web = store.add_project("Website", None, None, None).unwrap();
        store
            .set_member(&web, &max.id, Some(ProjectRole::Member))
            .unwrap();
        store
            .set_member(&web, &lee.id, Some(ProjectRole::Lead))
            .unwrap();
        let now = crate::store::now_ms();
        let recent = (now - 3_600_000, now - 1_800_000);
        let old = (now - 10 * 86_400_000, now - 9 * 86_400_000);
        let to_web = Work {
            project_id: Some(web.clone()),
            task_id: None,
        };
        for (who, range, work, ok) in [
            (&max, recent, &to_web, true),
            (&max, old, &to_web, false),
            (&mia, old, &to_web, true),
            (&ada, old, &Work::default(), true),
            (&lee, old, &to_web, true),
            (&lee, recent, &Work::default(), false),
            (&eve, recent, &to_web, false),
            (&aud, recent, &to_web, false),
        ] {
            let got = store.reassign(who, &max, range, work, "was for the website");
            assert_eq!(got.is_ok(), ok, "{} {range:?}: {got:?}", who.name);
        }
        let e = store
            .reassign(&ada, &eve, recent, &to_web, "why")
            .unwrap_err();
        assert!(e.to_string().contains("does not track time"), "{e}");
        let e = store
            .reassign(&ada, &max, recent, &to_web, " ")
            .unwrap_err();
        assert!(e.to_string().contains("reason"), "{e}");
        let seen = store
            .reassignments_of(&store.host_grant(Whose::Person(&max.id), Action::ViewAudit))
            .unwrap();
        assert_eq!(seen.len(), 4, "one per allowed reassignment");
        assert!(seen.iter().any(|r| r.by.starts_with("Lee <")), "{seen:?}");
    }
}
