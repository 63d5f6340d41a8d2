//! Personal access tokens for integrations (payroll, invoicing): made by a
//! person in the web UI, shown once, stored as a SHA-256 hash, read-only,
//! expiring, revocable. A token acts as its person: what it reads is
//! decided and audited by `Store::grant` like a look in the browser.

use super::sql::{params, OptionalExtension};
use super::{new_secret, sha256_hex, Person, Store, StoreError};

/// The longest a token may live.
pub const MAX_TOKEN_DAYS: u32 = 366;

/// A token as its owner sees it listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    /// The hash's first 12 characters: what the list and revoking name.
    pub id: String,
    pub label: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked: bool,
}

impl Store {
    /// A new read-only token for `person`, valid `days` days from `now`:
    /// the token (to show once) and how it is listed.
    pub fn create_api_token(
        &self,
        person: &Person,
        label: &str,
        days: u32,
        now: i64,
    ) -> Result<(String, ApiToken), StoreError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "a token needs a label of 1 to 100 characters, saying what uses it".into(),
            ));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(StoreError::Invalid(format!(
                "a token lives 1 to {MAX_TOKEN_DAYS} days, not {days}"
            )));
        }
        let token = new_secret("stn_pat_");
        let hash = sha256_hex(token.as_bytes());
        let expires = now + i64::from(days) * 86_400_000;
        self.conn().execute(
            "INSERT INTO api_tokens (hash, person_id, label, created_ms, expires_ms, revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![hash, person.id, label, now, expires],
        )?;
        tracing::info!(person = %person.id, label = ?label, "API token created");
        let info = ApiToken {
            id: hash[..12].to_string(),
            label: label.to_string(),
            created_ms: now,
            expires_ms: expires,
            last_used_ms: None,
            revoked: false,
        };
        Ok((token, info))
    }

    /// `person`'s tokens, newest first.
    pub fn api_tokens(&self, person: &Person) -> Result<Vec<ApiToken>, StoreError> {
        Ok(self.conn().query_map(
            "SELECT hash, label, created_ms, expires_ms, last_used_ms, revoked FROM api_tokens
             WHERE person_id = ?1 ORDER BY created_ms DESC",
            params![person.id],
            |r| {
                let hash: String = r.get(0)?;
                Ok(ApiToken {
                    id: hash.get(..12).unwrap_or_default().to_string(),
                    label: r.get(1)?,
                    created_ms: r.get(2)?,
                    expires_ms: r.get(3)?,
                    last_used_ms: r.get(4)?,
                    revoked: r.get(5)?,
                })
            },
        )?)
    }

    /// Revokes `person`'s token `id`; it stops working at once.
    pub fn revoke_api_token(&self, person: &Person, id: &str) -> Result<(), StoreError> {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound(format!("no token {id:?}")));
        }
        let n = self.conn().execute(
            "UPDATE api_tokens SET revoked = 1 WHERE person_id = ?1 AND substr(hash, 1, 12) = ?2",
            params![person.id, id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no token {id:?} of yours")));
        }
        tracing::info!(person = %person.id, token = %id, "API token revoked");
        Ok(())
    }

    /// The person a token acts as at `now`; `None` for an unknown, revoked
    /// or expired token, or an archived person.
    pub fn api_token_person(&self, token: &str, now: i64) -> Result<Option<Person>, StoreError> {
        if !token.starts_with("stn_pat_") {
            return Ok(None);
        }
        let hash = sha256_hex(token.as_bytes());
        let owner: Option<String> = self
            .conn()
            .query_row(
                "SELECT person_id FROM api_tokens WHERE hash = ?1 AND revoked = 0 AND expires_ms > ?2",
                params![hash, now],
                |r| r.get(0),
            )
            .optional()?;
        let Some(person) = owner.map(|p| self.person(&p)).transpose()?.flatten() else {
            return Ok(None);
        };
        if person.archived {
            return Ok(None);
        }
        self.conn().execute(
            "UPDATE api_tokens SET last_used_ms = ?2 WHERE hash = ?1",
            params![hash, now],
        )?;
        Ok(Some(person))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    /// A token works until it expires or is revoked, only as its person,
    /// and is stored only as its hash.
    #[test]
    fn tokens_act_as_their_person_until_expiry_or_revocation() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let max = store
            .add_person("max@x", "Max", "UTC", Role::Member)
            .unwrap();
        let eve = store
            .add_person("eve@x", "Eve", "UTC", Role::Member)
            .unwrap();
        let now = 1_764_763_200_000;
        let (token, info) = store.create_api_token(&max, "payroll", 30, now).unwrap();
        let (other, _) = store.create_api_token(&max, "invoicing", 1, now).unwrap();
        let who = |t: &str, at: i64| store.api_token_person(t, at).unwrap().map(|p| p.email);
        for (t, at, want) in [
            (token.as_str(), now, Some("max@x")),
            (token.as_str(), now + 29 * 86_400_000, Some("max@x")),
            (token.as_str(), now + 30 * 86_400_000, None),
            (other.as_str(), now + 86_400_000 + 1, None),
            ("stn_pat_nope", now, None),
            ("stn_dev_x", now, None),
        ] {
            assert_eq!(who(t, at).as_deref(), want, "{t} at {at}");
        }
        for (label, days, words) in [
            (" ", 30, "needs a label"),
            ("x", 0, "1 to 366 days"),
            ("x", 400, "1 to 366"),
        ] {
            let e = store
                .create_api_token(&max, label, days, now)
                .unwrap_err()
                .to_string();
            assert!(e.contains(words), "{e}");
        }
        assert!(
            store.revoke_api_token(&eve, &info.id).is_err(),
            "only the owner revokes"
        );
        store.revoke_api_token(&max, &info.id).unwrap();
        assert_eq!(who(&token, now), None, "revoked");
        let listed = store.api_tokens(&max).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().any(|t| t.id == info.id && t.revoked));
        let stored: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM api_tokens WHERE hash = ?1",
                params![token.clone()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 0, "the token itself is never stored");
    }
}
