//! People, teams and their accounts: who a device belongs to, who manages
//! whom, passwords (argon2id), login throttling, browser sessions, and the
//! audit of who looked at whose data.

use super::sql::{params, OptionalExtension, Row, SqlError};
use serde::Serialize;

use super::{new_secret, now_ms, rfc3339, sha256_hex, Store, StoreError};
use crate::access::{Role, Subject};

/// A session ends after this long without a request...
pub const SESSION_IDLE_MS: i64 = 12 * 3_600_000;
/// ...and after this long in any case.
pub const SESSION_MAX_MS: i64 = 7 * 86_400_000;
/// Failed logins (per account, and per address) before waiting is required.
const FREE_FAILURES: i64 = 5;
/// The longest wait a run of failures earns.
const MAX_LOCK_MS: i64 = 15 * 60_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub name: String,
    /// IANA zone name, e.g. "Europe/Berlin"; the diary's days are this zone's.
    pub time_zone: String,
    pub role: Role,
    pub archived: bool,
}

/// A team and its people: (email, is a manager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub people: Vec<(String, bool)>,
}

impl Person {
    /// The person's time zone; UTC if what is stored does not parse (it is
    /// checked when set, so only a hand-edited database gets here).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// What a login attempt came to. `Refused` is the same for an unknown email
/// and a wrong password, so the answer tells nobody which accounts exist.
#[derive(Debug, PartialEq, Eq)]
pub enum Login {
    Ok { token: String, person: Person },
    Refused,
    Throttled { retry_after_secs: u64 },
}

/// One look at someone's data, for "Who looked at my data".
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub at: String,
    pub viewer: String,
    pub viewer_role: Role,
    pub what: String,
}

fn person_row(r: &Row) -> Result<Person, SqlError> {
    let role: String = r.get(4)?;
    Ok(Person {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        time_zone: r.get(3)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        archived: r.get(5)?,
    })
}

const PERSON_COLUMNS: &str = "id, email, name, time_zone, role, archived";

/// A hash for the password nobody has, so an unknown email costs the same
/// argon2 work as a known one.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not anybody's password").expect("hashing works"))
}

pub fn hash_password(password: &str) -> Result<String, StoreError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::NotFound(format!("cannot hash the password: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

impl Store {
    pub fn add_person(
        &self,
        email: &str,
        name: &str,
        time_zone: &str,
        role: Role,
    ) -> Result<Person, StoreError> {
        let person = Person {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.trim().to_lowercase(),
            name: name.to_string(),
            time_zone: time_zone.to_string(),
            role,
            archived: false,
        };
        self.conn().execute(
            "INSERT INTO people (id, email, name, time_zone, role, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![person.id, person.email, person.name, person.time_zone, role.name(), now_ms()],
        ).map_err(|e| match e {
            e if e.is_constraint() => {
                StoreError::NotFound(format!("a person with the email {:?} exists already", person.email))
            }
            e => e.into(),
        })?;
        Ok(person)
    }

    pub fn person(&self, id: &str) -> Result<Option<Person>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {PERSON_COLUMNS} FROM people WHERE id = ?1"),
                params![id],
                person_row,
            )
            .optional()?)
    }

    pub fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {PERSON_COLUMNS} FROM people WHERE email = ?1"),
                params![email.trim().to_lowercase()],
                person_row,
            )
            .optional()?)
    }

    pub fn people(&self) -> Result<Vec<Person>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map(
            &format!("SELECT {PERSON_COLUMNS} FROM people ORDER BY name, email"),
            params![],
            person_row,
        )?;
        Ok(rows)
    }

    pub fn set_password(&self, person_id: &str, password: &str) -> Result<(), StoreError> {
        if password.chars().count() < 10 {
            return Err(StoreError::NotFound(
                "a password needs at least 10 characters".into(),
            ));
        }
        let hash = hash_password(password)?;
        let n = self.conn().execute(
            "UPDATE people SET password_hash = ?2 WHERE id = ?1",
            params![person_id, hash],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no person {person_id}")));
        }
        // A new password ends every session of the old one.
        self.logout_everywhere(person_id)
    }

    /// Checks a password, with a wait that doubles after five failures in a
    /// row for the account and, separately, for the address it came from.
    pub fn login(&self, email: &str, password: &str, ip: &str) -> Result<Login, StoreError> {
        let email = email.trim().to_lowercase();
        let now = now_ms();
        let keys = [format!("account:{email}"), format!("address:{ip}")];
        let wait = keys
            .iter()
            .map(|k| self.locked_until(k))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .max()
            .unwrap_or(0);
        if wait > now {
            return Ok(Login::Throttled {
                retry_after_secs: ((wait - now) as u64).div_ceil(1000),
            });
        }
        let found: Option<(Person, Option<String>)> = self
            .conn()
            .query_row(
                &format!("SELECT {PERSON_COLUMNS}, password_hash FROM people WHERE email = ?1"),
                params![&email],
                |r| Ok((person_row(r)?, r.get(6)?)),
            )
            .optional()?;
        let hash = found
            .as_ref()
            .and_then(|(_, h)| h.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let matches = password_matches(password, &hash);
        match found {
            Some((person, Some(_))) if matches && !person.archived => {
                for k in &keys {
                    self.conn()
                        .execute("DELETE FROM login_failures WHERE key = ?1", params![k])?;
                }
                let token = self.start_session(&person.id, now)?;
                Ok(Login::Ok { token, person })
            }
            _ => {
                for k in &keys {
                    self.note_failure(k, now)?;
                }
                Ok(Login::Refused)
            }
        }
    }

    /// A new browser session for `person_id`: its cookie's token.
    pub fn start_session(&self, person_id: &str, now: i64) -> Result<String, StoreError> {
        let token = new_secret("stn_web_");
        self.conn().execute(
            "INSERT INTO web_sessions (token_hash, person_id, created_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?3)",
            params![sha256_hex(token.as_bytes()), person_id, now],
        )?;
        Ok(token)
    }

    fn locked_until(&self, key: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT locked_until_ms FROM login_failures WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    fn note_failure(&self, key: &str, now: i64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let count: i64 = conn.query_row(
            "INSERT INTO login_failures (key, failures, locked_until_ms) VALUES (?1, 1, 0)
                 ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1
                 RETURNING failures",
            params![key],
            |r| r.get(0),
        )?;
        if count >= FREE_FAILURES {
            let lock = (1000i64 << (count - FREE_FAILURES).min(20)).min(MAX_LOCK_MS);
            conn.execute(
                "UPDATE login_failures SET locked_until_ms = ?2 WHERE key = ?1",
                params![key, now + lock],
            )?;
        }
        Ok(())
    }

    /// The person a session cookie belongs to, if the session is still alive;
    /// notes the request, which keeps it alive.
    pub fn session(&self, token: &str) -> Result<Option<Person>, StoreError> {
        let now = now_ms();
        let hash = sha256_hex(token.as_bytes());
        let mut conn = self.conn();
        let found: Option<(String, i64, i64)> = conn
            .query_row(
                "SELECT person_id, created_ms, last_seen_ms FROM web_sessions WHERE token_hash = ?1",
                params![&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((person_id, created, seen)) = found else {
            return Ok(None);
        };
        if now - seen > SESSION_IDLE_MS || now - created > SESSION_MAX_MS {
            conn.execute(
                "DELETE FROM web_sessions WHERE token_hash = ?1",
                params![&hash],
            )?;
            return Ok(None);
        }
        conn.execute(
            "UPDATE web_sessions SET last_seen_ms = ?2 WHERE token_hash = ?1",
            params![hash, now],
        )?;
        drop(conn);
        Ok(self.person(&person_id)?.filter(|p| !p.archived))
    }

    pub fn logout(&self, token: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM web_sessions WHERE token_hash = ?1",
            params![sha256_hex(token.as_bytes())],
        )?;
        Ok(())
    }

    pub fn logout_everywhere(&self, person_id: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM web_sessions WHERE person_id = ?1",
            params![person_id],
        )?;
        Ok(())
    }

    pub fn add_team(&self, name: &str) -> Result<String, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.conn().execute(
            "INSERT INTO teams (id, name) VALUES (?1, ?2)",
            params![id, name],
        )?;
        Ok(id)
    }

    /// The devices bound to a person.
    pub fn person_devices(&self, person: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map(
            "SELECT id FROM devices WHERE person_id = ?1 ORDER BY enrolled_ms",
            params![person],
            |r| r.get(0),
        )?;
        Ok(rows)
    }

    pub fn team_by_name(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM teams WHERE name = ?1", params![name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Every team with its people (email, manager?), by name.
    pub fn teams(&self) -> Result<Vec<Team>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map(
            "SELECT t.id, t.name, p.email, tp.manager FROM teams t
             LEFT JOIN team_people tp ON tp.team_id = t.id
             LEFT JOIN people p ON p.id = tp.person_id
             ORDER BY t.name, tp.manager DESC, p.email",
            params![],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<Option<String>>(2)?,
                    r.get::<Option<bool>>(3)?,
                ))
            },
        )?;
        let mut teams: Vec<Team> = Vec::new();
        for row in rows {
            let (id, name, email, manager) = row;
            if teams.last().is_none_or(|t| t.id != id) {
                teams.push(Team {
                    id,
                    name,
                    people: Vec::new(),
                });
            }
            if let (Some(email), Some(t)) = (email, teams.last_mut()) {
                t.people.push((email, manager.unwrap_or(false)));
            }
        }
        Ok(teams)
    }

    pub fn leave_team(&self, team: &str, person: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM team_people WHERE team_id = ?1 AND person_id = ?2",
            params![team, person],
        )?;
        Ok(())
    }

    /// Puts a person in a team, as one of its managers or as a member.
    pub fn join_team(&self, team: &str, person: &str, manager: bool) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO team_people (team_id, person_id, manager) VALUES (?1, ?2, ?3)
             ON CONFLICT (team_id, person_id) DO UPDATE SET manager = excluded.manager",
            params![team, person, manager],
        )?;
        Ok(())
    }

    /// Whose data `subject` (a person id, or `None` for an unbound device) is,
    /// seen from `viewer`: the input `access::allowed` decides on.
    pub fn subject(&self, viewer: &Person, subject: Option<&str>) -> Result<Subject, StoreError> {
        let Some(subject) = subject else {
            return Ok(Subject::Unbound);
        };
        if subject == viewer.id {
            return Ok(Subject::Own);
        }
        let managed: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM team_people m JOIN team_people s ON m.team_id = s.team_id
                            WHERE m.person_id = ?1 AND m.manager = 1 AND s.person_id = ?2)",
            params![viewer.id, subject],
            |r| r.get(0),
        )?;
        Ok(if managed {
            Subject::Managed
        } else {
            Subject::Other
        })
    }

    /// Notes that `viewer` looked at `subject`'s data, unless it is their own.
    pub fn record_view(
        &self,
        viewer: &Person,
        subject: &str,
        what: &str,
    ) -> Result<(), StoreError> {
        if viewer.id == subject {
            return Ok(());
        }
        self.conn().execute(
            "INSERT INTO view_audit (at_ms, viewer_id, subject_id, what) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms(), viewer.id, subject, what],
        )?;
        Ok(())
    }

    /// Who looked at `subject`'s data, newest first.
    pub fn views_of(&self, subject: &str) -> Result<Vec<View>, StoreError> {
        let mut conn = self.conn();
        let rows = conn.query_map(
            "SELECT a.at_ms, p.name || ' <' || p.email || '>', p.role, a.what
             FROM view_audit a JOIN people p ON p.id = a.viewer_id
             WHERE a.subject_id = ?1 ORDER BY a.at_ms DESC, a.rowid DESC",
            params![subject],
            |r| {
                let role: String = r.get(2)?;
                Ok(View {
                    at: rfc3339(r.get(0)?),
                    viewer: r.get(1)?,
                    viewer_role: Role::parse(&role).unwrap_or(Role::Member),
                    what: r.get(3)?,
                })
            },
        )?;
        Ok(rows)
    }
}

#[cfg(test)]
#[path = "people_tests.rs"]
mod tests;
