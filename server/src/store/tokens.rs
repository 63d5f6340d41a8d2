//! Enrollment tokens: created by the admin, stored only as their hash, and
//! good until revoked, past their expiry, or used up.

use super::sql::{params, Conn, OptionalExtension};
use serde::Serialize;

use super::{new_secret, now_ms, rfc3339, sha256_hex, Store, StoreError};

/// How long and how often a new token may enroll devices; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenLimits {
    pub expires_ms: Option<i64>,
    pub max_uses: Option<u32>,
}

/// What a token is for: a device of this person, or of nobody yet (an admin
/// binds it later; until then only owners and admins see its records).
pub type TokenPerson<'a> = Option<&'a str>;

/// One token as `token list` prints it: never the secret, only its hash's start.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub hash_prefix: String,
    /// The person its devices belong to, if any (their id).
    pub person_id: Option<String>,
    pub label: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub uses: u32,
    pub max_uses: Option<u32>,
    pub revoked: bool,
}

impl Store {
    pub fn create_token(
        &self,
        label: &str,
        limits: TokenLimits,
        person: TokenPerson<'_>,
    ) -> Result<String, StoreError> {
        let token = new_secret("stn_enr_");
        self.conn().execute(
            "INSERT INTO enroll_tokens (hash, label, created_ms, expires_ms, max_uses, person_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                sha256_hex(token.as_bytes()),
                label,
                now_ms(),
                limits.expires_ms,
                limits.max_uses,
                person
            ],
        )?;
        Ok(token)
    }

    /// Revokes an enrollment token; devices already enrolled with it keep working.
    pub fn revoke_token(&self, token: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE enroll_tokens SET revoked = 1 WHERE hash = ?1",
            params![sha256_hex(token.as_bytes())],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("no such enrollment token".into()));
        }
        Ok(())
    }

    /// Revokes the one token whose hash starts with `prefix` (as `tokens`
    /// lists it), for the web UI, which never sees the secret again.
    pub fn revoke_token_by_hash(&self, prefix: &str) -> Result<(), StoreError> {
        if prefix.len() < 12 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound(format!(
                "{prefix:?} is not a token's hash"
            )));
        }
        let n = self.conn().execute(
            "UPDATE enroll_tokens SET revoked = 1 WHERE hash LIKE ?1 || '%'
             AND (SELECT count(*) FROM enroll_tokens WHERE hash LIKE ?1 || '%') = 1",
            params![prefix],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "no single token with the hash {prefix}"
            )));
        }
        Ok(())
    }

    /// Enrolls a device of `person` (or of nobody) on the host, the way an
    /// agent does through the API with a token made for it: for tests and
    /// benchmarks, which need devices without running an agent.
    pub fn enroll_device(
        &self,
        person: TokenPerson<'_>,
        hostname: &str,
    ) -> Result<String, StoreError> {
        let limits = TokenLimits {
            expires_ms: None,
            max_uses: Some(1),
        };
        let req = stint_proto::EnrollRequest {
            enroll_token: self.create_token("device enrolled on the host", limits, person)?,
            hostname: hostname.into(),
            os_type: "Linux".into(),
            os_version: "12".into(),
            os_user: "user".into(),
            agent_version: env!("CARGO_PKG_VERSION").into(),
            previous_device_id: None,
        };
        match self.enroll(&req, "127.0.0.0")? {
            super::Enrolled::Device { id, .. } => Ok(id),
            other => Err(StoreError::NotFound(format!(
                "enrollment refused: {other:?}"
            ))),
        }
    }

    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map("SELECT hash, label, created_ms, expires_ms, uses, max_uses, revoked, person_id FROM enroll_tokens ORDER BY created_ms", params![], |r| {
            let hash: String = r.get(0)?;
            Ok(TokenInfo {
                hash_prefix: hash.chars().take(12).collect(),
                person_id: r.get(7)?,
                label: r.get(1)?,
                created_at: rfc3339(r.get(2)?),
                expires_at: r.get::<Option<i64>>(3)?.map(rfc3339),
                uses: r.get(4)?,
                max_uses: r.get(5)?,
                revoked: r.get(6)?,
            })
        })?;
        Ok(rows)
    }
}

/// A token's row: revoked, expiry, uses, use limit.
type TokenRow = (bool, Option<i64>, u32, Option<u32>);

/// Counts one enrollment against `token` inside the enrollment's
/// transaction and says whose device it enrolls, or why the token cannot
/// enroll. The count and the check are one statement: two enrollments at
/// the same moment cannot both take a token's last use.
pub(super) fn claim(
    tx: &mut Conn,
    token: &str,
) -> Result<Result<Option<String>, String>, StoreError> {
    let hash = sha256_hex(token.as_bytes());
    let now = now_ms();
    let claimed: Option<Option<String>> = tx
        .query_row(
            "UPDATE enroll_tokens SET uses = uses + 1
             WHERE hash = ?1 AND revoked = 0 AND (expires_ms IS NULL OR expires_ms > ?2)
               AND (max_uses IS NULL OR uses < max_uses)
             RETURNING person_id",
            params![&hash, now],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(person) = claimed {
        return Ok(Ok(person));
    }
    // Refused: read the row only to say why.
    let row: Option<TokenRow> = tx
        .query_row(
            "SELECT revoked, expires_ms, uses, max_uses FROM enroll_tokens WHERE hash = ?1",
            params![&hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(Err(match row {
        None => "unknown enrollment token".to_string(),
        Some((true, ..)) => "the enrollment token was revoked".to_string(),
        Some((_, Some(expires), ..)) if expires <= now => format!(
            "the enrollment token expired at {}; ask the admin for a new one",
            rfc3339(expires)
        ),
        Some((_, _, uses, max)) => format!(
            "the enrollment token is used up ({uses} of {} enrollments); ask the admin for a new one",
            max.unwrap_or(uses)
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Enrolled;

    fn request(token: &str) -> stint_proto::EnrollRequest {
        stint_proto::EnrollRequest {
            enroll_token: token.into(),
            hostname: "h".into(),
            os_type: "Linux".into(),
            os_version: "12".into(),
            os_user: "u".into(),
            agent_version: "0.1".into(),
            previous_device_id: None,
        }
    }

    #[test]
    fn tokens_enroll_until_revoked_expired_or_used_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let limited = |expires_ms, max_uses| TokenLimits {
            expires_ms,
            max_uses,
        };
        let revoked = store
            .create_token("r", TokenLimits::default(), None)
            .unwrap();
        store.revoke_token(&revoked).unwrap();
        let cases: &[(&str, TokenLimits, &[&str])] = &[
            // (label, limits, what each enrollment in turn should come to)
            ("open", TokenLimits::default(), &["ok", "ok", "ok"]),
            (
                "twice",
                limited(None, Some(2)),
                &["ok", "ok", "used up (2 of 2"],
            ),
            (
                "expired",
                limited(Some(now_ms() - 1), None),
                &["expired at"],
            ),
            (
                "later",
                limited(Some(now_ms() + 3_600_000), Some(1)),
                &["ok", "used up"],
            ),
        ];
        for (label, limits, want) in cases {
            let token = store.create_token(label, *limits, None).unwrap();
            for (i, want) in want.iter().enumerate() {
                let got = match store.enroll(&request(&token), "127.0.0.0").unwrap() {
                    Enrolled::Device { .. } => "ok".to_string(),
                    Enrolled::BadToken(why) => why,
                    other => format!("{other:?}"),
                };
                assert!(got.contains(want), "{label} #{i}: {got:?}, want {want:?}");
            }
        }
        for (token, want) in [(revoked.as_str(), "revoked"), ("stn_enr_nope", "unknown")] {
            match store.enroll(&request(token), "127.0.0.0").unwrap() {
                Enrolled::BadToken(why) => assert!(why.contains(want), "{why}"),
                other => panic!("{other:?}"),
            }
        }
        let listed = store.tokens().unwrap();
        let twice = listed.iter().find(|t| t.label == "twice").unwrap();
        assert_eq!((twice.uses, twice.max_uses), (2, Some(2)));
        assert!(listed.iter().all(|t| t.hash_prefix.len() == 12));
    }

    /// Twelve devices enroll at once with a token good for three: exactly
    /// three are enrolled.
    #[test]
    fn a_tokens_last_uses_go_to_exactly_as_many_devices() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(crate::store::test_store(dir.path()));
        let limits = TokenLimits {
            expires_ms: None,
            max_uses: Some(3),
        };
        let token = store.create_token("three", limits, None).unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let enrolled: usize = (0..12)
            .map(|_| {
                let (store, barrier, token) = (store.clone(), barrier.clone(), token.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    matches!(
                        store.enroll(&request(&token), "127.0.0.0").unwrap(),
                        Enrolled::Device { .. }
                    )
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(enrolled, 3);
        let listed = store.tokens().unwrap();
        assert_eq!(listed[0].uses, 3);
    }

    /// Naming a colleague's device when enrolling with the fleet token
    /// binds the new device to nobody, not to the colleague; naming a
    /// revoked device is refused.
    #[test]
    fn a_previous_device_id_binds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let max = store
            .add_person("max@x", "Max", "UTC", crate::access::Role::Member)
            .unwrap();
        let fleet = store
            .create_token("fleet", TokenLimits::default(), None)
            .unwrap();
        let Enrolled::Device { id: maxs, .. } = store.enroll(&request(&fleet), "ip").unwrap()
        else {
            panic!("enrolls")
        };
        store.bind_device(&maxs, &max.id).unwrap();
        let mut forged = request(&fleet);
        forged.previous_device_id = Some(maxs.clone());
        let Enrolled::Device { id: planted, .. } = store.enroll(&forged, "ip").unwrap() else {
            panic!("enrolls")
        };
        let owner = |id: &str| {
            store
                .devices()
                .unwrap()
                .into_iter()
                .find(|d| d.device_id == id)
                .unwrap()
                .person_id
        };
        assert_eq!(owner(&maxs), Some(max.id.clone()));
        assert_eq!(owner(&planted), None, "not Max's");
        store.revoke_device(&maxs).unwrap();
        assert_eq!(
            store.enroll(&forged, "ip").unwrap(),
            Enrolled::Revoked(maxs.clone())
        );
    }
}
