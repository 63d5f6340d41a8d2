//! Who may do what to whose data: one function, `allowed`, decides every
//! (role, action, subject) for the web UI and the CLI alike, and a test walks
//! every cell of the table.

use serde::{Deserialize, Serialize};

/// What an account is in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including handing over ownership.
    Owner,
    /// Everything but ownership.
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
    /// Delete records (a segment, a day, everything), leaving a tombstone.
    Delete,
    /// Who looked at a person's data.
    ViewAudit,
    /// People, teams, invitations, archiving.
    ManagePeople,
    /// Devices: bind, re-bind, revoke.
    ManageDevices,
    /// Enrollment tokens.
    ManageTokens,
    /// Policy, retention.
    ManagePolicy,
    /// Make someone else the owner.
    TransferOwnership,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::ViewDiary,
        Action::ViewImage,
        Action::ViewReport,
        Action::Export,
        Action::Delete,
        Action::ViewAudit,
        Action::ManagePeople,
        Action::ManageDevices,
        Action::ManageTokens,
        Action::ManagePolicy,
        Action::TransferOwnership,
    ];
}

/// Whose data, seen from the account acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The account's own person.
    Own,
    /// A person in a team the account manages.
    Managed,
    /// Any other person.
    Other,
    /// Records of a device bound to nobody yet.
    Unbound,
    /// Not a person's data: the organisation's settings.
    Org,
}

impl Subject {
    pub const ALL: [Subject; 5] = [
        Subject::Own,
        Subject::Managed,
        Subject::Other,
        Subject::Unbound,
        Subject::Org,
    ];
}

/// The one permission decision. Time limits (the review window for an
/// employee's own deletions) are checked on top by the caller.
pub fn allowed(role: Role, action: Action, subject: Subject) -> bool {
    use Action::*;
    use Subject::*;
    let person = matches!(subject, Own | Managed | Other | Unbound);
    match role {
        Role::Owner => true,
        Role::Admin => action != TransferOwnership,
        Role::Manager => match action {
            ViewDiary | ViewImage | ViewReport => matches!(subject, Own | Managed),
            Export | Delete | ViewAudit => subject == Own,
            _ => false,
        },
        Role::Member => {
            matches!(
                action,
                ViewDiary | ViewImage | ViewReport | Export | Delete | ViewAudit
            ) && subject == Own
        }
        Role::Auditor => match action {
            // Read-only over everyone; unbound devices stay with the admins.
            ViewDiary | ViewImage | ViewReport | ViewAudit => person && subject != Unbound,
            Export | Delete => subject == Own,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cell: for each action, each role's answer for the subjects in
    /// the order own, managed, other, unbound, org ('y' allowed, '.' not).
    #[test]
    fn every_role_action_and_subject() {
        use Action::*;
        let table: [(Action, [&str; 5]); 11] = [
            //                owner    admin    manager  member   auditor
            (ViewDiary, ["yyyyy", "yyyyy", "yy...", "y....", "yyy.."]),
            (ViewImage, ["yyyyy", "yyyyy", "yy...", "y....", "yyy.."]),
            (ViewReport, ["yyyyy", "yyyyy", "yy...", "y....", "yyy.."]),
            (Export, ["yyyyy", "yyyyy", "y....", "y....", "y...."]),
            (Delete, ["yyyyy", "yyyyy", "y....", "y....", "y...."]),
            (ViewAudit, ["yyyyy", "yyyyy", "y....", "y....", "yyy.."]),
            (ManagePeople, ["yyyyy", "yyyyy", ".....", ".....", "....."]),
            (ManageDevices, ["yyyyy", "yyyyy", ".....", ".....", "....."]),
            (ManageTokens, ["yyyyy", "yyyyy", ".....", ".....", "....."]),
            (ManagePolicy, ["yyyyy", "yyyyy", ".....", ".....", "....."]),
            (
                TransferOwnership,
                ["yyyyy", ".....", ".....", ".....", "....."],
            ),
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
        assert_eq!(cells, 5 * 11 * 5);
    }
}
