//! Schema migrations for every stint database, the agent's queue and the
//! server's SQLite or PostgreSQL database alike: step N upgrades version N
//! to N+1, each in its own transaction with the version it reaches, and a
//! database written by a newer program is refused rather than misread. The
//! runner is one; each engine says, through [`Engine`], where it keeps the
//! version (SQLite's `user_version`, a PostgreSQL table) and how to run a
//! step. [`Engine`] is implemented here for SQLite.

use rusqlite::Connection;

/// One database's schema history and how to talk about it in errors.
pub struct Schema {
    /// What the database is, in words: "stint queue", "stint-server database".
    pub what: &'static str,
    /// Append-only steps; never edit a shipped one.
    pub steps: &'static [&'static str],
    /// What to do about a database from a newer program.
    pub newer_hint: &'static str,
    /// What to do about a database a step cannot upgrade (foreign or damaged).
    pub foreign_hint: &'static str,
}

impl Schema {
    pub fn latest(&self) -> i64 {
        self.steps.len() as i64
    }
}

pub type EngineError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A database the runner can migrate.
pub trait Engine {
    /// The version the database records, or `None` when it holds tables but
    /// no version of ours: another program's database.
    fn schema_version(&mut self) -> Result<Option<i64>, EngineError>;
    /// Runs `sql` and records `version`, in one transaction.
    fn apply_step(&mut self, sql: &str, version: i64) -> Result<(), EngineError>;
    /// The engine's own words for a failed step, without the statement.
    fn words(&self, e: &EngineError) -> String {
        e.to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "{what} schema version {found} is newer than this program understands ({latest}); {hint}"
    )]
    TooNew {
        what: &'static str,
        found: i64,
        latest: i64,
        hint: &'static str,
    },
    /// Tables but no version: another program's database.
    #[error("it holds tables but is not a {what}; {hint}")]
    Foreign {
        what: &'static str,
        hint: &'static str,
    },
    /// A step failed on a database this program did not write (another
    /// program's, or a damaged one): said in a sentence, not as the SQL.
    #[error("it is not a {what} this program can upgrade (schema step {from} to {} failed: {message}); {hint}", from + 1)]
    Step {
        what: &'static str,
        from: i64,
        message: String,
        hint: &'static str,
        source: EngineError,
    },
    #[error("{0}")]
    Engine(EngineError),
}

impl MigrationError {
    /// The SQLite error underneath, if there is one (callers tell corruption
    /// apart from a foreign schema with it).
    pub fn sqlite(&self) -> Option<&rusqlite::Error> {
        match self {
            MigrationError::Step { source, .. } | MigrationError::Engine(source) => {
                source.downcast_ref()
            }
            MigrationError::TooNew { .. } | MigrationError::Foreign { .. } => None,
        }
    }
}

/// Brings the database to the schema's latest version one committed step at
/// a time, so a crash mid-upgrade resumes from the last completed step.
/// Returns the version it found.
pub fn migrate(db: &mut impl Engine, schema: &Schema) -> Result<i64, MigrationError> {
    let found =
        db.schema_version()
            .map_err(MigrationError::Engine)?
            .ok_or(MigrationError::Foreign {
                what: schema.what,
                hint: schema.foreign_hint,
            })?;
    if found > schema.latest() {
        return Err(MigrationError::TooNew {
            what: schema.what,
            found,
            latest: schema.latest(),
            hint: schema.newer_hint,
        });
    }
    for (i, sql) in schema.steps.iter().enumerate().skip(found as usize) {
        db.apply_step(sql, i as i64 + 1)
            .map_err(|source| MigrationError::Step {
                what: schema.what,
                from: i as i64,
                message: db.words(&source),
                hint: schema.foreign_hint,
                source,
            })?;
    }
    Ok(found)
}

pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// SQLite keeps the version in `user_version`. A database at version 0
/// with tables of its own is still tried: the first step then fails on
/// them, in SQLite's words.
impl Engine for Connection {
    fn schema_version(&mut self) -> Result<Option<i64>, EngineError> {
        Ok(Some(version(self)?))
    }

    fn apply_step(&mut self, sql: &str, version: i64) -> Result<(), EngineError> {
        let tx = self.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        Ok(())
    }

    fn words(&self, e: &EngineError) -> String {
        match e.downcast_ref::<rusqlite::Error>() {
            Some(e) => sqlite_words(e),
            None => e.to_string(),
        }
    }
}

/// SQLite's own words for what went wrong, without the statement.
pub fn sqlite_words(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(f, Some(msg)) => format!("{msg} ({:?})", f.code),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: Schema = Schema {
        what: "test database",
        steps: &[
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y INTEGER NOT NULL DEFAULT 7;",
        ],
        newer_hint: "upgrade",
        foreign_hint: "move it away",
    };

    #[test]
    fn steps_run_once_each_and_resume_where_they_stopped() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA.steps[0]).unwrap();
        conn.execute_batch("INSERT INTO a (x) VALUES (1); PRAGMA user_version = 1;")
            .unwrap();
        assert_eq!(migrate(&mut conn, &SCHEMA).unwrap(), 1);
        assert_eq!(migrate(&mut conn, &SCHEMA).unwrap(), 2, "idempotent");
        let y: i64 = conn.query_row("SELECT y FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(y, 7);
    }

    #[test]
    fn newer_and_foreign_databases_are_refused_in_words() {
        let mut newer = Connection::open_in_memory().unwrap();
        newer.pragma_update(None, "user_version", 9).unwrap();
        let e = migrate(&mut newer, &SCHEMA).unwrap_err();
        assert_eq!(
            e.to_string(),
            "test database schema version 9 is newer than this program understands (2); upgrade"
        );

        let mut foreign = Connection::open_in_memory().unwrap();
        foreign.execute_batch("CREATE TABLE a (z TEXT);").unwrap();
        let e = migrate(&mut foreign, &SCHEMA).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("schema step 0 to 1 failed: table a already exists"),
            "{text}"
        );
        assert!(!text.contains("CREATE"), "no SQL in the message: {text}");
        assert!(e.sqlite().is_some(), "SQLite's error is kept");
        assert_eq!(version(&foreign).unwrap(), 0, "nothing half applied");
    }

    /// An engine that keeps its version elsewhere and says so when the
    /// database is another program's.
    #[test]
    fn an_engine_without_a_version_is_foreign() {
        struct Other;
        impl Engine for Other {
            fn schema_version(&mut self) -> Result<Option<i64>, EngineError> {
                Ok(None)
            }
            fn apply_step(&mut self, _: &str, _: i64) -> Result<(), EngineError> {
                unreachable!("nothing is applied to a foreign database")
            }
        }
        let e = migrate(&mut Other, &SCHEMA).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it holds tables but is not a test database; move it away"
        );
    }
}
