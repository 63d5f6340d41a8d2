//! Policy in layers: the organisation's, then each team's the person is in
//! (by team name), then the person's own. A key a layer leaves unset falls
//! through to the one below; the heartbeat delivers the result for the
//! device's person, and the admin page shows where each value came from.

use super::sql::{params, OptionalExtension};
use stint_proto::Policy;

use super::{Store, StoreError};

/// Whose policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Org,
    Team(String),
    Person(String),
    /// Laid over the person's policy while they track time on it.
    Project(String),
}

impl Scope {
    fn key(&self) -> Option<String> {
        match self {
            Scope::Org => None,
            Scope::Team(id) => Some(format!("team:{id}")),
            Scope::Person(id) => Some(format!("person:{id}")),
            Scope::Project(id) => Some(format!("project:{id}")),
        }
    }
}

/// An effective policy and, per key it sets, the layer that set it
/// ("organisation", "team Support", "person").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub policy: Policy,
    pub sources: Vec<(&'static str, String)>,
}

/// A segment when no layer sets one: the agent's default of 10 minutes.
const DEFAULT_SEGMENT_SECS: u64 = 600;

impl Effective {
    /// The segment length the diary groups by.
    pub fn segment_ms(&self) -> i64 {
        self.policy.segment_secs.unwrap_or(DEFAULT_SEGMENT_SECS) as i64 * 1000
    }

    /// The review window; none when no layer sets one.
    pub fn review_ms(&self) -> i64 {
        self.policy.review_delay_mins.unwrap_or(0) as i64 * 60_000
    }
}

impl Store {
    pub fn scoped_policy(&self, scope: &Scope) -> Result<Policy, StoreError> {
        let Some(key) = scope.key() else {
            return self.policy();
        };
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM policies WHERE scope = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    pub fn set_scoped_policy(&self, scope: &Scope, policy: &Policy) -> Result<(), StoreError> {
        let Some(key) = scope.key() else {
            return self.set_policy(policy);
        };
        self.conn().execute(
            "INSERT INTO policies (scope, value) VALUES (?1, ?2)
             ON CONFLICT (scope) DO UPDATE SET value = excluded.value",
            params![
                key,
                serde_json::to_string(policy).expect("a policy serialises")
            ],
        )?;
        Ok(())
    }

    /// The policy `person` works under (`None`: a device bound to nobody,
    /// which gets the organisation's).
    pub fn effective_policy(&self, person: Option<&str>) -> Result<Effective, StoreError> {
        self.effective_policy_on(person, None)
    }

    /// The policy `person` works under while tracking time on `project`:
    /// the project's layer over everything else.
    pub fn effective_policy_on(
        &self,
        person: Option<&str>,
        project: Option<(&str, &str)>,
    ) -> Result<Effective, StoreError> {
        let mut layers = vec![("organisation".to_string(), self.policy()?)];
        if let Some(person) = person {
            let teams: Vec<(String, String)> = self.conn().query_map(
                "SELECT t.id, t.name FROM teams t JOIN team_people tp ON tp.team_id = t.id
                 WHERE tp.person_id = ?1 ORDER BY t.name",
                params![person],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            for (id, name) in teams {
                layers.push((
                    format!("team {name}"),
                    self.scoped_policy(&Scope::Team(id))?,
                ));
            }
            layers.push((
                "person".to_string(),
                self.scoped_policy(&Scope::Person(person.to_string()))?,
            ));
        }
        if let Some((id, name)) = project {
            layers.push((
                format!("project {name}"),
                self.scoped_policy(&Scope::Project(id.to_string()))?,
            ));
        }
        let mut policy = Policy::default();
        let mut sources: Vec<(&'static str, String)> = Vec::new();
        for (name, layer) in layers {
            for key in stint_proto::policy_keys() {
                let set = layer.get(key.name).is_some_and(|v| v.is_set());
                if set {
                    sources.retain(|(k, _)| *k != key.name);
                    sources.push((key.name, name.clone()));
                }
            }
            policy = policy.overlay(&layer);
        }
        Ok(Effective { policy, sources })
    }

    /// The effective policy of a device's person, for its heartbeat.
    pub fn device_policy(&self, device: &str) -> Result<Policy, StoreError> {
        let person = self.device_person(device)?;
        Ok(self.effective_policy(person.as_deref())?.policy)
    }

    /// The id of the person a device is bound to, if any.
    pub fn device_person(&self, device: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT person_id FROM devices WHERE id = ?1",
                params![device],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    #[test]
    fn layers_fall_through_and_say_where_each_value_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let max = store
            .add_person("max@x", "Max", "UTC", Role::Member)
            .unwrap();
        let (a, b) = (
            store.add_team("A-team").unwrap(),
            store.add_team("B-team").unwrap(),
        );
        store.join_team(&a, &max.id, false).unwrap();
        store.join_team(&b, &max.id, false).unwrap();
        let set = |scope: Scope, kv: &[(&str, &str)]| {
            let mut p = store.scoped_policy(&scope).unwrap();
            for (k, v) in kv {
                p.set(k, v).unwrap();
            }
            store.set_scoped_policy(&scope, &p).unwrap();
        };
        set(
            Scope::Org,
            &[("screenshots", "true"), ("segment_secs", "600")],
        );
        set(
            Scope::Team(a),
            &[("segment_secs", "300"), ("blur", "false")],
        );
        set(Scope::Team(b), &[("blur", "true")]);
        set(
            Scope::Person(max.id.clone()),
            &[("review_delay_mins", "15")],
        );
        let e = store.effective_policy(Some(&max.id)).unwrap();
        let p = &e.policy;
        assert_eq!(
            (
                p.screenshots,
                p.segment_secs,
                p.blur,
                p.review_delay_mins,
                p.webcam
            ),
            (Some(true), Some(300), Some(true), Some(15), None)
        );
        let source = |k: &str| {
            e.sources
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, s)| s.as_str())
        };
        assert_eq!(source("screenshots"), Some("organisation"));
        assert_eq!(source("segment_secs"), Some("team A-team"));
        assert_eq!(
            source("blur"),
            Some("team B-team"),
            "later teams by name win"
        );
        assert_eq!(source("review_delay_mins"), Some("person"));
        assert_eq!(source("webcam"), None);
        assert_eq!(
            store.effective_policy(None).unwrap().policy.segment_secs,
            Some(600)
        );

        // A device's heartbeat gets its person's policy; an unbound one the
        // organisation's.
        let maxs = store.enroll_device(Some(&max.id), "pc").unwrap();
        let nobodys = store.enroll_device(None, "pc").unwrap();
        assert_eq!(store.device_policy(&maxs).unwrap(), e.policy);
        let org = store.device_policy(&nobodys).unwrap();
        assert_eq!((org.segment_secs, org.review_delay_mins), (Some(600), None));
    }
}
