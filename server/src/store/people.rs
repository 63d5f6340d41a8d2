//! People, teams and their accounts: who a device belongs to, who manages
//! whom, logging in with a password, and browser sessions.

use super::sql::{params, Conn, OptionalExtension, Row, SqlError};
use serde::Serialize;

use super::{new_secret, now_ms, passwords, sha256_hex, Store, StoreError};
use crate::access::Role;

/// A session ends after this long without a request...
pub const SESSION_IDLE_MS: i64 = 12 * 3_600_000;
/// ...and after this long in any case.
pub const SESSION_MAX_MS: i64 = 7 * 86_400_000;

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

/// Inserts a browser session on `conn` (inside a caller's transaction, or
/// alone): its cookie's token.
pub(super) fn insert_session(
    conn: &mut Conn,
    person_id: &str,
    now: i64,
) -> Result<String, StoreError> {
    let token = new_secret("stn_web_");
    conn.execute(
        "INSERT INTO web_sessions (token_hash, person_id, created_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?3)",
        params![sha256_hex(token.as_bytes()), person_id, now],
    )?;
    Ok(token)
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
            email: super::names::email(email)?,
            name: super::names::name("name", name)?,
            time_zone: super::names::time_zone(time_zone)?,
            role,
            archived: false,
        };
        self.conn().execute(
            "INSERT INTO people (id, email, name, time_zone, role, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![person.id, person.email, person.name, person.time_zone, role.name(), now_ms()],
        ).map_err(|e| match e {
            e if e.is_constraint() => {
                StoreError::Invalid(format!("a person with the email {:?} exists already", person.email))
            }
            e => e.into(),
        })?;
        self.announce(
            "person.created",
            serde_json::json!({"id": person.id, "email": person.email, "name": person.name,
                "role": role.name()}),
        );
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

    /// Sets a password (refusing one nobody should use) and ends every
    /// session of the old one.
    pub fn set_password(&self, person_id: &str, password: &str) -> Result<(), StoreError> {
        passwords::check(password)?;
        let hash = passwords::hash(password)?;
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

    /// Checks a password. Each attempt is counted before the check, first
    /// for the address it came from, then for the account (throttle.rs): a
    /// throttled address cannot add to an account's count. A wait is owed
    /// after five attempts in a row under either, doubling with each more.
    pub fn login(&self, email: &str, password: &str, ip: &str) -> Result<Login, StoreError> {
        let email = email.trim().to_lowercase();
        // Nobody's address or password is that long: nothing to count or check.
        if email.len() > super::names::MAX_EMAIL || password.len() > passwords::MAX_BYTES {
            return Ok(Login::Refused);
        }
        let now = now_ms();
        let keys = [format!("address:{ip}"), format!("account:{email}")];
        for k in &keys {
            if let Some(until) = self.reserve_attempt(k, now)? {
                return Ok(Login::Throttled {
                    retry_after_secs: (until.saturating_sub(now).max(1) as u64).div_ceil(1000),
                });
            }
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
            .unwrap_or_else(|| passwords::dummy_hash().to_string());
        let matches = passwords::matches(password, &hash);
        match found {
            Some((person, Some(_))) if matches && !person.archived => {
                // The account starts over; the address only takes back this
                // attempt: one good password must not wipe out the failures
                // others made from the same address.
                let [address, account] = &keys;
                self.clear_attempts(account)?;
                self.forgive_attempt(address)?;
                let token = insert_session(&mut self.conn(), &person.id, now)?;
                Ok(Login::Ok { token, person })
            }
            _ => Ok(Login::Refused),
        }
    }

    /// A new browser session for `person_id`: its cookie's token.
    pub fn start_session(&self, person_id: &str, now: i64) -> Result<String, StoreError> {
        insert_session(&mut self.conn(), person_id, now)
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

    /// A new team; its name is checked and must be free.
    pub fn add_team(&self, name: &str) -> Result<String, StoreError> {
        let name = super::names::name("team name", name)?;
        let id = uuid::Uuid::now_v7().to_string();
        self.conn()
            .execute(
                "INSERT INTO teams (id, name) VALUES (?1, ?2)",
                params![id, name],
            )
            .map_err(|e| match e {
                e if e.is_constraint() => {
                    StoreError::Invalid(format!("there is a team {name:?} already"))
                }
                e => e.into(),
            })?;
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
            .query_row(
                "SELECT id FROM teams WHERE name = ?1",
                params![name.trim()],
                |r| r.get(0),
            )
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
}

#[cfg(test)]
#[path = "people_tests.rs"]
mod tests;
