//! The administration page's forms as one typed value each, parsed from the
//! path's last part and the form's fields, with the permission each needs.

use serde::Deserialize;

use super::refusal::Refusal;
use crate::access::{Action, Role};
use crate::store::{Person, Scope, Store};

/// Every field any admin form posts; each action reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdminForm {
    email: String,
    name: String,
    role: String,
    time_zone: String,
    person: String,
    device: String,
    label: String,
    expires_days: String,
    token: String,
    team: String,
    /// A checkbox: present when ticked.
    manager: Option<String>,
    /// "organisation", "team:NAME" or "person:EMAIL".
    scope: String,
    key: String,
    value: String,
}

/// What an admin form asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminAction {
    Invite {
        email: String,
        name: String,
        role: Role,
        time_zone: String,
    },
    Archive {
        email: String,
    },
    Restore {
        email: String,
    },
    /// A one-time password link for someone.
    Reset {
        email: String,
    },
    Bind {
        device: String,
        email: String,
    },
    RevokeDevice {
        device: String,
    },
    Token {
        label: String,
        /// The owner's email; empty for a fleet token.
        person: String,
        expires_days: Option<i64>,
    },
    RevokeToken {
        hash_prefix: String,
    },
    TeamAdd {
        team: String,
    },
    TeamJoin {
        team: String,
        email: String,
        manager: bool,
    },
    TeamLeave {
        team: String,
        email: String,
    },
    Policy {
        scope: String,
        key: String,
        value: String,
    },
}

impl AdminAction {
    /// The action named by the path's last part, from its form; an unknown
    /// name is not found, a bad field a request to fix in words.
    pub fn parse(name: &str, f: AdminForm) -> Result<AdminAction, Refusal> {
        let bad = |why: String| Refusal::BadRequest(why);
        Ok(match name {
            "invite" => AdminAction::Invite {
                role: Role::parse(&f.role)
                    .ok_or_else(|| bad(format!("{:?} is not a role", f.role)))?,
                email: f.email,
                name: f.name,
                time_zone: f.time_zone,
            },
            "archive" => AdminAction::Archive { email: f.email },
            "restore" => AdminAction::Restore { email: f.email },
            "reset" => AdminAction::Reset { email: f.email },
            "bind" => AdminAction::Bind {
                device: f.device,
                email: f.email,
            },
            "revoke-device" => AdminAction::RevokeDevice { device: f.device },
            "token" => AdminAction::Token {
                expires_days: match f.expires_days.trim() {
                    "" => None,
                    d => match d.parse::<i64>() {
                        Ok(d) if (1..=3650).contains(&d) => Some(d),
                        _ => {
                            return Err(bad(format!("{d:?}: expires in 1 to 3650 days, or never")))
                        }
                    },
                },
                label: f.label,
                person: f.person,
            },
            "revoke-token" => AdminAction::RevokeToken {
                hash_prefix: f.token,
            },
            "team-add" => AdminAction::TeamAdd { team: f.team },
            "team-join" => AdminAction::TeamJoin {
                team: f.team,
                email: f.email,
                manager: f.manager.is_some(),
            },
            "team-leave" => AdminAction::TeamLeave {
                team: f.team,
                email: f.email,
            },
            "policy" => AdminAction::Policy {
                scope: f.scope,
                key: f.key,
                value: f.value,
            },
            _ => return Err(Refusal::NotFound),
        })
    }

    /// The email of the account it changes, if it changes one.
    pub fn account(&self) -> Option<&str> {
        match self {
            AdminAction::Archive { email }
            | AdminAction::Restore { email }
            | AdminAction::Reset { email } => Some(email),
            _ => None,
        }
    }

    /// The permission it needs; `target` is the account it changes (an
    /// owner's asks for more, as access.rs says).
    pub fn needs(&self, target: Option<&Person>) -> Action {
        match self {
            AdminAction::Invite { role, .. } => crate::access::account(*role),
            AdminAction::Archive { .. }
            | AdminAction::Restore { .. }
            | AdminAction::Reset { .. } => {
                target.map_or(Action::ManagePeople, |p| crate::access::account(p.role))
            }
            AdminAction::TeamAdd { .. }
            | AdminAction::TeamJoin { .. }
            | AdminAction::TeamLeave { .. } => Action::ManagePeople,
            AdminAction::Bind { .. } | AdminAction::RevokeDevice { .. } => Action::ManageDevices,
            AdminAction::Token { .. } | AdminAction::RevokeToken { .. } => Action::ManageTokens,
            AdminAction::Policy { .. } => Action::ManagePolicy,
        }
    }
}

/// The policy layer a form names: organisation, team:NAME or person:EMAIL.
pub fn scope(store: &Store, text: &str) -> Result<Scope, Refusal> {
    let bad = |why: String| Err(Refusal::BadRequest(why));
    match text.trim().split_once(':') {
        None if text.trim() == "organisation" => Ok(Scope::Org),
        Some(("team", name)) => match store.team_by_name(name)? {
            Some(id) => Ok(Scope::Team(id)),
            None => bad(format!("no team {name:?}")),
        },
        Some(("person", email)) => match store.person_by_email(email)? {
            Some(p) => Ok(Scope::Person(p.id)),
            None => bad(format!("no person {email:?}")),
        },
        Some(("project", name)) => Ok(Scope::Project(store.project_named(name)?.id)),
        _ => bad(format!(
            "{text:?}: the layer is organisation, team:NAME, person:EMAIL or project:NAME"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> AdminForm {
        let text = serde_urlencoded::to_string(fields).unwrap();
        serde_urlencoded::from_str(&text).unwrap()
    }

    #[test]
    fn each_form_is_one_action_with_the_permission_it_needs() {
        let owner = Person {
            id: "o".into(),
            email: "o@x".into(),
            name: "O".into(),
            time_zone: "UTC".into(),
            role: Role::Owner,
            archived: false,
        };
        let member = Person {
            role: Role::Member,
            ..owner.clone()
        };
        for (name, fields, target, want) in [
            (
                "invite",
                vec![("role", "member"), ("email", "a@x")],
                None,
                Action::ManagePeople,
            ),
            (
                "invite",
                vec![("role", "owner")],
                None,
                Action::ManageOwners,
            ),
            (
                "archive",
                vec![("email", "o@x")],
                Some(&owner),
                Action::ManageOwners,
            ),
            (
                "reset",
                vec![("email", "m@x")],
                Some(&member),
                Action::ManagePeople,
            ),
            ("bind", vec![("device", "d")], None, Action::ManageDevices),
            (
                "token",
                vec![("expires_days", "30")],
                None,
                Action::ManageTokens,
            ),
            (
                "revoke-token",
                vec![("token", "abc")],
                None,
                Action::ManageTokens,
            ),
            (
                "team-join",
                vec![("team", "T"), ("manager", "on")],
                None,
                Action::ManagePeople,
            ),
            (
                "policy",
                vec![("scope", "organisation")],
                None,
                Action::ManagePolicy,
            ),
        ] {
            let a = AdminAction::parse(name, form(&fields)).unwrap();
            assert_eq!(a.needs(target), want, "{name}");
        }
        assert_eq!(
            AdminAction::parse("team-join", form(&[("manager", "on")])).unwrap(),
            AdminAction::TeamJoin {
                team: String::new(),
                email: String::new(),
                manager: true
            }
        );
        for (name, fields) in [
            ("invite", vec![("role", "king")]),
            ("token", vec![("expires_days", "0")]),
            ("token", vec![("expires_days", "x")]),
        ] {
            assert!(matches!(
                AdminAction::parse(name, form(&fields)),
                Err(Refusal::BadRequest(_))
            ));
        }
        assert!(matches!(
            AdminAction::parse("explode", form(&[])),
            Err(Refusal::NotFound)
        ));
    }
}
