//! What OIDC login keeps in the database: each started login's state (by
//! hash), PKCE verifier and nonce until the provider sends the person back,
//! and which provider subject is which person.

use super::sql::{params, OptionalExtension};
use super::{sha256_hex, Person, Store, StoreError};

/// A started login is good for this long.
pub const OIDC_LOGIN_MS: i64 = 10 * 60 * 1000;

/// Why a provider's identity gets no session.
#[derive(Debug, PartialEq, Eq)]
pub enum OidcRefusal {
    /// Neither the subject nor a verified email matches an active person.
    NoAccount,
    /// The email matches a person already bound to another subject.
    OtherSubject,
}

impl Store {
    pub fn oidc_begin(
        &self,
        state: &str,
        verifier: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        conn.execute(
            "DELETE FROM oidc_logins WHERE expires_ms < ?1",
            params![now_ms],
        )?;
        conn.execute(
            "INSERT INTO oidc_logins (state_hash, verifier, nonce, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![sha256_hex(state.as_bytes()), verifier, nonce, now_ms + OIDC_LOGIN_MS],
        )?;
        Ok(())
    }

    /// The verifier and nonce of the login `state` started, once: a state
    /// cannot be replayed.
    pub fn oidc_take(
        &self,
        state: &str,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        // Found and spent in one statement: two callbacks with one state
        // cannot both get its verifier.
        let found: Option<(String, String, i64)> = self
            .conn()
            .query_row(
                "DELETE FROM oidc_logins WHERE state_hash = ?1 RETURNING verifier, nonce, expires_ms",
                params![sha256_hex(state.as_bytes())],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(found
            .filter(|(_, _, expires)| *expires >= now_ms)
            .map(|(v, nonce, _)| (v, nonce)))
    }

    /// The person a verified provider identity logs in as: by subject, or on
    /// the first login by a verified email, which then binds the subject.
    pub fn oidc_person(
        &self,
        subject: &str,
        email: Option<&str>,
    ) -> Result<Result<Person, OidcRefusal>, StoreError> {
        let by_subject: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM people WHERE oidc_subject = ?1",
                params![subject],
                |r| r.get(0),
            )
            .optional()?;
        let person = match by_subject {
            Some(id) => self.person(&id)?,
            None => {
                let Some(email) = email else {
                    return Ok(Err(OidcRefusal::NoAccount));
                };
                let Some(p) = self.person_by_email(email)? else {
                    return Ok(Err(OidcRefusal::NoAccount));
                };
                let bound = self.conn().execute(
                    "UPDATE people SET oidc_subject = ?2 WHERE id = ?1 AND oidc_subject IS NULL",
                    params![p.id, subject],
                )?;
                if bound == 0 {
                    return Ok(Err(OidcRefusal::OtherSubject));
                }
                Some(p)
            }
        };
        Ok(person.filter(|p| !p.archived).ok_or(OidcRefusal::NoAccount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    #[test]
    fn states_are_single_use_and_subjects_bind_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        store.oidc_begin("s1", "v1", "n1", 1_000).unwrap();
        store.oidc_begin("s2", "v2", "n2", 1_000).unwrap();
        assert_eq!(
            store.oidc_take("s1", 2_000).unwrap(),
            Some(("v1".into(), "n1".into()))
        );
        assert_eq!(store.oidc_take("s1", 2_000).unwrap(), None, "replayed");
        assert_eq!(
            store.oidc_take("s2", 1_000 + OIDC_LOGIN_MS + 1).unwrap(),
            None,
            "expired"
        );
        assert_eq!(store.oidc_take("never", 2_000).unwrap(), None);

        let max = store
            .add_person("max@x", "Max", "UTC", Role::Member)
            .unwrap();
        for (subject, email, want) in [
            ("sub-a", None, Err(OidcRefusal::NoAccount)),
            ("sub-a", Some("nobody@x"), Err(OidcRefusal::NoAccount)),
            ("sub-a", Some("MAX@x"), Ok(max.id.clone())),
            ("sub-a", None, Ok(max.id.clone())), // the subject now suffices
            ("sub-b", Some("max@x"), Err(OidcRefusal::OtherSubject)),
        ] {
            let got = store.oidc_person(subject, email).unwrap().map(|p| p.id);
            assert_eq!(got, want, "{subject} {email:?}");
        }
        store.set_archived(&max.id, true).unwrap();
        assert_eq!(
            store.oidc_person("sub-a", None).unwrap().map(|p| p.id),
            Err(OidcRefusal::NoAccount),
            "archived"
        );
    }
}
