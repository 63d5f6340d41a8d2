//! Screenshot keys: each person's X25519 key pairs, made in their browser.
//! The server keeps the public key, which agents seal captures to, and the
//! private key only as their browser wrapped it with a key from their
//! passphrase: nothing here can open a sealed image. Recipients of a
//! person's captures are decided by the same permission function as every
//! look at them.

use super::sql::params;
use super::{now_ms, Person, Store, StoreError};
use crate::access::{allowed, Action, Subject};

/// One key pair as the browser needs it to unlock its private key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PersonKey {
    pub key_id: String,
    pub public_key: String,
    pub wrapped: String,
    pub salt: String,
    pub iv: String,
    pub iterations: u32,
    pub created_ms: i64,
    /// `None`: the current key, which new captures are sealed to.
    pub retired_ms: Option<i64>,
}

/// The least PBKDF2 work a wrapped key may claim, and the most.
pub const MIN_ITERATIONS: u32 = 100_000;
const MAX_ITERATIONS: u32 = 10_000_000;

fn b64_len(text: &str, what: &str, lo: usize, hi: usize) -> Result<(), StoreError> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(b) if (lo..=hi).contains(&b.len()) => Ok(()),
        _ => Err(StoreError::Invalid(format!(
            "{what}: expected {lo} to {hi} bytes of standard base64"
        ))),
    }
}

impl Store {
    /// Makes `key` the person's current key; the one before is retired and
    /// kept, so what was sealed to it stays readable with its passphrase.
    pub fn add_key(&self, person: &str, key: &PersonKey) -> Result<String, StoreError> {
        let public = stint_common::seal::public_keys(std::slice::from_ref(&key.public_key))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        // PKCS#8 of an X25519 key is 48 bytes, and AES-GCM adds 16.
        b64_len(&key.wrapped, "wrapped", 48, 256)?;
        b64_len(&key.salt, "salt", 16, 64)?;
        b64_len(&key.iv, "iv", 12, 12)?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&key.iterations) {
            return Err(StoreError::Invalid(format!(
                "iterations: expected {MIN_ITERATIONS} to {MAX_ITERATIONS}"
            )));
        }
        let id = stint_common::seal::key_id_hex(&public[0]);
        let now = now_ms();
        let mut conn = self.conn();
        let mut tx = conn.transaction()?;
        tx.execute(
            "UPDATE person_keys SET retired_ms = ?2 WHERE person_id = ?1 AND retired_ms IS NULL",
            params![person, now],
        )?;
        let n = tx.execute(
            "INSERT INTO person_keys (key_id, person_id, public_key, wrapped, salt, iv, iterations, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (key_id) DO NOTHING",
            params![id, person, key.public_key, key.wrapped, key.salt, key.iv, key.iterations, now],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid("this key is already on file".into()));
        }
        tx.commit()?;
        Ok(id)
    }

    /// The person's keys, the current one first, then the retired, newest
    /// first.
    pub fn keys_of(&self, person: &str) -> Result<Vec<PersonKey>, StoreError> {
        let mut keys: Vec<PersonKey> = self.conn().query_map(
            "SELECT key_id, public_key, wrapped, salt, iv, iterations, created_ms, retired_ms
             FROM person_keys WHERE person_id = ?1",
            params![person],
            |r| {
                Ok(PersonKey {
                    key_id: r.get(0)?,
                    public_key: r.get(1)?,
                    wrapped: r.get(2)?,
                    salt: r.get(3)?,
                    iv: r.get(4)?,
                    iterations: r.get(5)?,
                    created_ms: r.get(6)?,
                    retired_ms: r.get(7)?,
                })
            },
        )?;
        keys.sort_by_key(|k| (k.retired_ms.is_some(), std::cmp::Reverse(k.created_ms)));
        Ok(keys)
    }

    /// The current public keys of everyone who may see `person`'s images
    /// (`None`: an unbound device's), at most the seal's limit: what that
    /// person's agent seals each capture to.
    pub fn sealed_to(&self, person: Option<&str>) -> Result<Vec<String>, StoreError> {
        let current: Vec<(String, String)> = self.conn().query_map(
            "SELECT person_id, public_key FROM person_keys WHERE retired_ms IS NULL ORDER BY created_ms",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = Vec::new();
        for (viewer, public) in current {
            let Some(v): Option<Person> = self.person(&viewer)? else {
                continue;
            };
            if v.archived {
                continue;
            }
            let subject = match person {
                Some(p) => self.subject(&v, p)?,
                None => Subject::Unbound,
            };
            if allowed(v.role, Action::ViewImage, subject) {
                out.push(public);
            }
        }
        out.truncate(stint_common::seal::MAX_RECIPIENTS);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn key(seed: u8) -> PersonKey {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let public = stint_common::seal::public_key(&[seed; 32]);
        PersonKey {
            key_id: String::new(),
            public_key: b64(&public),
            wrapped: b64(&[seed; 64]),
            salt: b64(&[1; 16]),
            iv: b64(&[2; 12]),
            iterations: 600_000,
            created_ms: 0,
            retired_ms: None,
        }
    }

    /// A key is refused in words when it is no key; a new one retires the
    /// one before, which is kept; a person's captures are sealed to the
    /// current keys of those the permission function lets see them.
    #[test]
    fn keys_rotate_and_seal_to_whoever_may_see_the_images() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        let add = |email: &str, role| store.add_person(email, email, "UTC", role).unwrap();
        let (mia, max, eve, ada) = (
            add("mia@x", Role::Manager),
            add("max@x", Role::Member),
            add("eve@x", Role::Member),
            add("ada@x", Role::Admin),
        );
        let team = store.add_team("Support").unwrap();
        store.join_team(&team, &mia.id, true).unwrap();
        store.join_team(&team, &max.id, false).unwrap();
        for (bad, want) in [
            (
                PersonKey {
                    public_key: "AAAA".into(),
                    ..key(1)
                },
                "public key",
            ),
            (
                PersonKey {
                    wrapped: "AAAA".into(),
                    ..key(1)
                },
                "wrapped",
            ),
            (
                PersonKey {
                    iv: "AAAA".into(),
                    ..key(1)
                },
                "iv",
            ),
            (
                PersonKey {
                    iterations: 1000,
                    ..key(1)
                },
                "iterations",
            ),
        ] {
            let err = store.add_key(&mia.id, &bad).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        let first = store.add_key(&mia.id, &key(1)).unwrap();
        assert!(
            store.add_key(&eve.id, &key(1)).is_err(),
            "one key, one person"
        );
        store.add_key(&eve.id, &key(2)).unwrap();
        store.add_key(&ada.id, &key(3)).unwrap();
        let to_max = store.sealed_to(Some(&max.id)).unwrap();
        assert_eq!(
            to_max,
            [key(1).public_key, key(3).public_key],
            "Mia and Ada, not Eve"
        );
        assert_eq!(
            store.sealed_to(None).unwrap(),
            [key(3).public_key],
            "unbound: admins"
        );
        // Mia's new key: hers from now on; the first one kept, retired.
        let second = store.add_key(&mia.id, &key(4)).unwrap();
        let mias = store.keys_of(&mia.id).unwrap();
        assert_eq!(
            mias.iter()
                .map(|k| (k.key_id.clone(), k.retired_ms.is_some()))
                .collect::<Vec<_>>(),
            [(second, false), (first, true)]
        );
        assert_eq!(
            store.sealed_to(Some(&max.id)).unwrap(),
            [key(3).public_key, key(4).public_key]
        );
    }
}
