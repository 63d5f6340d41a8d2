//! Who may do what to whose data: one function, `allowed`, decides every
//! (role, action, subject) for the web UI and the command line alike, and a
//! test walks every cell of the table. Time enters only through
//! [`deletion`], which says which deletion action a record of a given age
//! needs, so the review window is a cell of the table too.
//!
//! Nothing outside the store calls `allowed` to protect data: handlers ask
//! `Store::grant`, which decides with it and records the look in the same
//! call (store/grants.rs).

use serde::{Deserialize, Serialize};

/// What an account is in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including making owners.
    Owner,
    /// Everything but owners' accounts.
    Admin,
    /// The people of the teams they manage, and themself.
    Manager,
    /// Only themself.
    Member,
    /// Reads everyone's records, changes and deletes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Manager,
        Role::Member,
        Role::Auditor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// What is being done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Minutes, segments, applications, totals.
    ViewDiary,
    /// A screenshot or webcam image, thumbnail or full size.
    ViewImage,
    /// Timesheets and application reports.
    ViewReport,
    /// Everything recorded about a person, as one archive.
    Export,
    /// Delete records that ended inside the deletion window: the day after
    /// they ended, or the review window if that is longer.
    DeleteRecent,
    /// Delete records older than that window.
    DeleteOld,
    /// Delete everything recorded about a person at once.
    DeleteAll,
    /// Who looked at a person's data, and what was deleted of it.
    ViewAudit,
    /// People, teams, invitations, archiving.
    ManagePeople,
    /// Devices: bind, re-bind, revoke.
    ManageDevices,
    /// Enrollment tokens.
    ManageTokens,
    /// Policy, retention.
    ManagePolicy,
    /// Make someone an owner, or archive, restore or reset an owner's account.
    ManageOwners,
    /// Say which project and task a span of recorded time was for. One's
    /// own only within the deletion window; a project's lead may move
    /// time into their project through the project table instead.
    Reassign,
    /// Ask for offline time: time the agent did not record. One's own only.
    RequestTime,
    /// Approve or deny someone's offline time. Never one's own: a request
    /// needs a second person, whoever the first is.
    DecideTime,
    /// Hand in one's own timesheet period for approval.
    SubmitPeriod,
    /// Approve or reject someone's submitted period: their manager or an
    /// admin, never they themself and never as a project's lead (a period
    /// is all of a person's time).
    ApprovePeriod,
    /// Reopen someone's approved period: admins only, never their own.
    ReopenPeriod,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::ViewDiary,
        Action::ViewImage,
        Action::ViewReport,
        Action::Export,
        Action::DeleteRecent,
        Action::DeleteOld,
        Action::DeleteAll,
        Action::ViewAudit,
        Action::ManagePeople,
        Action::ManageDevices,
        Action::ManageTokens,
        Action::ManagePolicy,
        Action::ManageOwners,
        Action::Reassign,
        Action::RequestTime,
        Action::DecideTime,
        Action::SubmitPeriod,
        Action::ApprovePeriod,
        Action::ReopenPeriod,
    ];

    /// Whether doing it shows the subject's data (and so is audited when the
    /// subject is someone else).
    pub fn shows_data(self) -> bool {
        matches!(
            self,
            Action::ViewDiary
                | Action::ViewImage
                | Action::ViewReport
                | Action::Export
                | Action::ViewAudit
        )
    }
}

/// Whose data, seen from the account acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The account's own person.
    Own,
    /// A person in a team the account manages.
    Managed,
    /// A member of a project the account leads: only their time on it.
    Led,
    /// Any other person.
    Other,
    /// Records of a device bound to nobody yet.
    Unbound,
    /// Not a person's data: the organisation's settings.
    Org,
}

impl Subject {
    pub const ALL: [Subject; 6] = [
        Subject::Own,
        Subject::Managed,
        Subject::Led,
        Subject::Other,
        Subject::Unbound,
        Subject::Org,
    ];
}

/// The shortest deletion window: a person may delete their own records
/// for a day after they ended, whatever the review window.
pub const DELETION_WINDOW_MIN_MS: i64 = 86_400_000;

/// The deletion action a record that ended at `end_ms` needs at `now_ms`,
/// under a review window of `review_ms`.
pub fn deletion(end_ms: i64, now_ms: i64, review_ms: i64) -> Action {
    if now_ms < end_ms.saturating_add(review_ms.max(DELETION_WINDOW_MIN_MS)) {
        Action::DeleteRecent
    } else {
        Action::DeleteOld
    }
}

/// What changing an account of `role` needs (inviting one, archiving,
/// restoring, resetting its password): an owner's account is the owners'.
pub fn account(role: Role) -> Action {
    if role == Role::Owner {
        Action::ManageOwners
    } else {
        Action::ManagePeople
    }
}

/// The one permission decision.
pub fn allowed(role: Role, action: Action, subject: Subject) -> bool {
    use Action::*;
    use Subject::*;
    let person = matches!(subject, Own | Managed | Led | Other | Unbound);
    // A project's lead sees (and moves) the time on it, whatever their role.
    let lead = subject == Led
        && matches!(
            action,
            ViewDiary | ViewImage | ViewReport | Reassign | DecideTime
        );
    match action {
        RequestTime | SubmitPeriod => return subject == Own,
        DecideTime | ApprovePeriod | ReopenPeriod if subject == Own => return false,
        // Leading a project opens nothing of a whole period.
        ApprovePeriod | ReopenPeriod if subject == Led => return allowed(role, action, Other),
        _ => {}
    }
    match role {
        Role::Owner => true,
        Role::Admin => action != ManageOwners,
        Role::Manager => match action {
            ViewDiary | ViewImage | ViewReport | Reassign | DecideTime => {
                matches!(subject, Own | Managed | Led)
            }
            ApprovePeriod => subject == Managed,
            Export | DeleteRecent | ViewAudit => subject == Own,
            _ => false,
        },
        Role::Member => {
            lead || matches!(
                action,
                ViewDiary | ViewImage | ViewReport | Export | DeleteRecent | ViewAudit | Reassign
            ) && subject == Own
        }
        Role::Auditor => match action {
            // Read-only over everyone; unbound devices stay with the admins.
            ViewDiary | ViewImage | ViewReport | ViewAudit => person && subject != Unbound,
            Export | DeleteRecent => subject == Own,
            Reassign | DecideTime => lead,
            _ => false,
        },
    }
}

/// Whether a grant [`allowed`] gives opens only the time on the projects the
/// account leads: it does when being their lead is all that allows it.
pub fn scoped(role: Role, action: Action, subject: Subject) -> bool {
    subject == Subject::Led && !allowed(role, action, Subject::Other)
}

/// What a person is in one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectRole {
    /// Manages the project's members and tasks, and tracks on it.
    Lead,
    /// Tracks time on it.
    Member,
    /// Sees it, never tracks on it.
    Viewer,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 3] = [ProjectRole::Lead, ProjectRole::Member, ProjectRole::Viewer];

    pub fn name(self) -> &'static str {
        match self {
            ProjectRole::Lead => "lead",
            ProjectRole::Member => "member",
            ProjectRole::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<ProjectRole> {
        ProjectRole::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// What is being done with a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    /// Record time on it (the agent offers it).
    Track,
    /// See that it exists, its tasks and members.
    See,
    /// Its tasks and members.
    Manage,
    /// Create projects, archive them, change their names, clients and dates.
    Administer,
}

impl ProjectAction {
    pub const ALL: [ProjectAction; 4] = [
        ProjectAction::Track,
        ProjectAction::See,
        ProjectAction::Manage,
        ProjectAction::Administer,
    ];
}

/// The one decision on projects: an account's role in the organisation
/// and its role in the project (`None`: not a member).
pub fn project_allowed(role: Role, member: Option<ProjectRole>, action: ProjectAction) -> bool {
    use ProjectAction::*;
    let admin = matches!(role, Role::Owner | Role::Admin);
    match action {
        // Tracking is for members, whatever else the account may do;
        // viewers see, never track.
        Track => matches!(member, Some(ProjectRole::Lead | ProjectRole::Member)),
        See => admin || role == Role::Auditor || member.is_some(),
        Manage => admin || member == Some(ProjectRole::Lead),
        Administer => admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cell of the project table: for each action, each role's
    /// answer as a lead, member, viewer and non-member ('y' allowed).
    #[test]
    fn every_role_project_role_and_project_action() {
        use ProjectAction::*;
        let table: [(ProjectAction, [&str; 5]); 4] = [
            //            owner   admin   manager member  auditor
            (Track, ["yy..", "yy..", "yy..", "yy..", "yy.."]),
            (See, ["yyyy", "yyyy", "yyy.", "yyy.", "yyyy"]),
            (Manage, ["yyyy", "yyyy", "y...", "y...", "y..."]),
            (Administer, ["yyyy", "yyyy", "....", "....", "...."]),
        ];
        assert_eq!(table.len(), ProjectAction::ALL.len());
        let members = [
            Some(ProjectRole::Lead),
            Some(ProjectRole::Member),
            Some(ProjectRole::Viewer),
            None,
        ];
        let mut cells = 0;
        for (action, rows) in table {
            for (role, row) in Role::ALL.into_iter().zip(rows) {
                for (member, want) in members.into_iter().zip(row.chars()) {
                    assert_eq!(
                        project_allowed(role, member, action),
                        want == 'y',
                        "{role:?} {member:?} {action:?}"
                    );
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 4 * 5 * 4);
    }

    /// Every cell: for each action, each role's answer for the subjects in
    /// the order own, managed, led, other, unbound, org ('y' allowed, '.'
    /// not); and which of the allowed ones open a project's time only.
    #[test]
    fn every_role_action_and_subject() {
        use Action::*;
        #[rustfmt::skip]
        let table: [(Action, [&str; 5]); 19] = [
            //                owner     admin     manager   member    auditor
            (ViewDiary,     ["yyyyyy", "yyyyyy", "yyy...", "y.y...", "yyyy.."]),
            (ViewImage,     ["yyyyyy", "yyyyyy", "yyy...", "y.y...", "yyyy.."]),
            (ViewReport,    ["yyyyyy", "yyyyyy", "yyy...", "y.y...", "yyyy.."]),
            (Export,        ["yyyyyy", "yyyyyy", "y.....", "y.....", "y....."]),
            (DeleteRecent,  ["yyyyyy", "yyyyyy", "y.....", "y.....", "y....."]),
            (DeleteOld,     ["yyyyyy", "yyyyyy", "......", "......", "......"]),
            (DeleteAll,     ["yyyyyy", "yyyyyy", "......", "......", "......"]),
            (ViewAudit,     ["yyyyyy", "yyyyyy", "y.....", "y.....", "yyyy.."]),
            (ManagePeople,  ["yyyyyy", "yyyyyy", "......", "......", "......"]),
            (ManageDevices, ["yyyyyy", "yyyyyy", "......", "......", "......"]),
            (ManageTokens,  ["yyyyyy", "yyyyyy", "......", "......", "......"]),
            (ManagePolicy,  ["yyyyyy", "yyyyyy", "......", "......", "......"]),
            (ManageOwners,  ["yyyyyy", "......", "......", "......", "......"]),
            (Reassign,      ["yyyyyy", "yyyyyy", "yyy...", "y.y...", "..y..."]),
            (RequestTime,   ["y.....", "y.....", "y.....", "y.....", "y....."]),
            (DecideTime,    [".yyyyy", ".yyyyy", ".yy...", "..y...", "..y..."]),
            (SubmitPeriod,  ["y.....", "y.....", "y.....", "y.....", "y....."]),
            (ApprovePeriod, [".yyyyy", ".yyyyy", ".y....", "......", "......"]),
            (ReopenPeriod,  [".yyyyy", ".yyyyy", "......", "......", "......"]),
        ];
        assert_eq!(table.len(), Action::ALL.len(), "every action has a row");
        let mut cells = 0;
        for (action, rows) in table {
            for (role, row) in Role::ALL.into_iter().zip(rows) {
                for (subject, want) in Subject::ALL.into_iter().zip(row.chars()) {
                    assert_eq!(
                        allowed(role, action, subject),
                        want == 'y',
                        "{role:?} {action:?} {subject:?}"
                    );
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 5 * 19 * 6);
        for role in Role::ALL {
            for action in Action::ALL {
                for subject in Subject::ALL {
                    // A lead's grant is scoped unless the role sees everyone anyway
                    // (an auditor sees all, but moves and decides only as a lead).
                    let want = subject == Subject::Led
                        && match role {
                            Role::Manager | Role::Member => true,
                            Role::Auditor => matches!(action, Reassign | DecideTime),
                            Role::Owner | Role::Admin => false,
                        };
                    assert_eq!(
                        scoped(role, action, subject) && allowed(role, action, subject),
                        want && allowed(role, action, subject),
                        "{role:?} {action:?} {subject:?}"
                    );
                }
            }
        }
    }

    /// The window is the day after a record ended, or the review window if
    /// longer; the instant it closes belongs to the old side.
    #[test]
    fn the_deletion_window_by_age() {
        use Action::{DeleteOld, DeleteRecent};
        let end = 1_000 * DELETION_WINDOW_MIN_MS;
        let (hour, day) = (3_600_000, DELETION_WINDOW_MIN_MS);
        for (now, review, want) in [
            (end + hour, 0, DeleteRecent),
            (end + day - 1, 0, DeleteRecent),
            (end + day, 0, DeleteOld),
            (end + day + 1, 2 * day, DeleteRecent),
            (end + 2 * day, 2 * day, DeleteOld),
            (end + 400 * day, 0, DeleteOld),
            (end - hour, 0, DeleteRecent),
        ] {
            assert_eq!(
                deletion(end, now, review),
                want,
                "{}h after",
                (now - end) / hour
            );
        }
    }
}
