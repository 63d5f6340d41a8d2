//! One-time links for setting a password: an invitation (72 hours) or a
//! reset an admin or the host made (24 hours). Stored only hashed, spent in
//! the same statement that finds them (so a link works once, however many
//! use it at the same moment), and they log the person in: a link from the
//! host is the way in that no address or account throttle can block.

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

    /// Sets the password through a link, spends the link, ends the
    /// person's other sessions, clears their account's login throttle and
    /// logs them in: the new session's token. `None` when the link is
    /// unknown, used, expired, or its person archived. A password nobody
    /// should use is refused before the link is touched.
    pub fn use_link(&self, token: &str, password: &str) -> Result<Option<String>, StoreError> {
        super::passwords::check(password)?;
        let hash = super::passwords::hash(password)?;
        let now = now_ms();
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        let person: Option<String> = tx
            .query_row(
                "DELETE FROM password_links WHERE token_hash = ?1 AND expires_ms > ?2
                   AND person_id IN (SELECT id FROM people WHERE archived = 0)
                 RETURNING person_id",
                params![sha256_hex(token.as_bytes()), now],
                |r| r.get(0),
            )
            .optional()?;
        let Some(person) = person else {
            return Ok(None);
        };
        let email: String = tx.query_row(
            "SELECT email FROM people WHERE id = ?1",
            params![person],
            |r| r.get(0),
        )?;
        tx.execute(
            "UPDATE people SET password_hash = ?2 WHERE id = ?1",
            params![person, hash],
        )?;
        tx.execute(
            "DELETE FROM web_sessions WHERE person_id = ?1",
            params![person],
        )?;
        tx.execute(
            "DELETE FROM login_failures WHERE key = ?1",
            params![format!("account:{email}")],
        )?;
        let session = super::people::insert_session(&mut tx, &person, now)?;
        tx.commit()?;
        Ok(Some(session))
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
        self.announce(
            if archived {
                "person.archived"
            } else {
                "person.restored"
            },
            serde_json::json!({"id": person}),
        );
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
        let session = store.use_link(&link, "kim's own long password").unwrap();
        assert_eq!(
            store.session(&session.unwrap()).unwrap().map(|p| p.id),
            Some(kim.id.clone()),
            "the link logs Kim in"
        );
        assert_eq!(
            store.use_link(&link, "someone else's password").unwrap(),
            None,
            "used once"
        );
        assert!(matches!(
            store
                .login("kim@x", "kim's own long password", "10.2.0.1")
                .unwrap(),
            Login::Ok { .. }
        ));
        let expired = store.password_link(&kim.id, -1).unwrap();
        assert_eq!(
            store.use_link(&expired, "too late for this one").unwrap(),
            None
        );
        let fresh = store.password_link(&kim.id, RESET_MS).unwrap();
        assert!(
            matches!(
                store.use_link(&fresh, "password123"),
                Err(StoreError::Invalid(_))
            ),
            "a common password is refused"
        );
        assert!(
            store.link_person(&fresh).unwrap().is_some(),
            "and the link kept"
        );
        store.set_archived(&kim.id, true).unwrap();
        assert_eq!(
            store
                .login("kim@x", "kim's own long password", "10.2.0.2")
                .unwrap(),
            Login::Refused
        );
    }

    /// Eight browsers post the same link at the same moment: one sets the
    /// password and is logged in, the others find the link spent.
    #[test]
    fn a_link_posted_at_once_from_many_browsers_works_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(crate::store::test_store(dir.path()));
        let kim = store
            .add_person("kim@x", "Kim", "UTC", Role::Member)
            .unwrap();
        let link = store.password_link(&kim.id, INVITE_MS).unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let used: usize = (0..8)
            .map(|i| {
                let (store, barrier, link) = (store.clone(), barrier.clone(), link.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    store
                        .use_link(&link, &format!("browser number {i} was here"))
                        .unwrap()
                        .is_some()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(used, 1);
    }
}
