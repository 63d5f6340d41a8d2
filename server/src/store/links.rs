//! One-time links for setting a password: an invitation (72 hours) or a
//! reset an admin made (24 hours). Stored only hashed; used once.

use super::sql::{params, OptionalExtension};

use super::{new_secret, now_ms, sha256_hex, Store, StoreError};

pub const INVITE_MS: i64 = 72 * 3_600_000;
pub const RESET_MS: i64 = 24 * 3_600_000;

impl Store {
    /// A new link token for `person`, valid for `valid_ms`. Earlier unused
    /// links of the person stop working.
    pub fn password_link(&self, person: &str, valid_ms: i64) -> Result<String, StoreError> {
        let token = new_secret("");
        let mut conn = self.conn();
        conn.execute(
            "DELETE FROM password_links WHERE person_id = ?1",
            params![person],
        )?;
        conn.execute(
            "INSERT INTO password_links (token_hash, person_id, expires_ms) VALUES (?1, ?2, ?3)",
            params![sha256_hex(token.as_bytes()), person, now_ms() + valid_ms],
        )?;
        Ok(token)
    }

    /// The person a link is for, while it is unused and unexpired.
    pub fn link_person(&self, token: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT person_id FROM password_links WHERE token_hash = ?1 AND expires_ms > ?2",
                params![sha256_hex(token.as_bytes()), now_ms()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets the password through a link and spends the link; `false` when
    /// the link is unknown, used or expired.
    pub fn use_link(&self, token: &str, password: &str) -> Result<bool, StoreError> {
        let Some(person) = self.link_person(token)? else {
            return Ok(false);
        };
        self.set_password(&person, password)?;
        self.conn().execute(
            "DELETE FROM password_links WHERE token_hash = ?1",
            params![sha256_hex(token.as_bytes())],
        )?;
        Ok(true)
    }

    /// Archives or restores a person: an archived person cannot log in, and
    /// their sessions end; their records stay.
    pub fn set_archived(&self, person: &str, archived: bool) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE people SET archived = ?2 WHERE id = ?1",
            params![person, archived],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no person {person}")));
        }
        if archived {
            self.logout_everywhere(person)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::store::Login;

    #[test]
    fn a_link_sets_a_password_once_and_archived_people_cannot_log_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let kim = store
            .add_person("kim@x", "Kim", "UTC", Role::Member)
            .unwrap();
        let first = store.password_link(&kim.id, INVITE_MS).unwrap();
        let link = store.password_link(&kim.id, INVITE_MS).unwrap();
        assert_eq!(
            store.link_person(&first).unwrap(),
            None,
            "a newer link replaces it"
        );
        assert!(store.use_link(&link, "kim's own long password").unwrap());
        assert!(
            !store.use_link(&link, "someone else's password").unwrap(),
            "used once"
        );
        assert!(matches!(
            store
                .login("kim@x", "kim's own long password", "10.2.0.1")
                .unwrap(),
            Login::Ok { .. }
        ));
        let expired = store.password_link(&kim.id, -1).unwrap();
        assert!(!store.use_link(&expired, "too late for this one").unwrap());
        store.set_archived(&kim.id, true).unwrap();
        assert_eq!(
            store
                .login("kim@x", "kim's own long password", "10.2.0.2")
                .unwrap(),
            Login::Refused
        );
    }
}
