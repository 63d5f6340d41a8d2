//! One database connection, SQLite or PostgreSQL, behind the few calls the
//! store makes: execute, query, a transaction. The store writes its SQL once,
//! in the dialect both engines share (`?N` parameters, `ON CONFLICT`,
//! `RETURNING`), and reads columns as a handful of plain values.

use std::collections::HashMap;

#[cfg(test)]
use sql_pg::to_postgres;
use sql_pg::{pg_args, pg_refs, pg_row, pg_statement};

#[path = "pg_tls.rs"]
mod pg_tls;
#[path = "sql_pg.rs"]
mod sql_pg;

/// A column or parameter value, as both engines can hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_text(.0))]
    Pg(#[from] postgres::Error),
    #[error("the query returned no row")]
    NoRows,
    #[error("column {index}: expected {expected}, found {found:?}")]
    Type {
        index: usize,
        expected: &'static str,
        found: Value,
    },
    #[error("column {index}: PostgreSQL type {ty} is not one the store reads")]
    PgType { index: usize, ty: String },
    /// The TLS to PostgreSQL, or the connection string's TLS words.
    #[error("{0}")]
    Tls(#[from] std::io::Error),
}

/// PostgreSQL's own message (with its detail) rather than "db error"; any
/// other error with its causes ("error performing TLS handshake" says
/// nothing without the certificate's complaint under it).
fn pg_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{}: {} ({d})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        }
    }
}

impl SqlError {
    /// A UNIQUE, PRIMARY KEY or CHECK constraint refused the write.
    pub fn is_constraint(&self) -> bool {
        match self {
            SqlError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            SqlError::Pg(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }

    /// The connection itself is gone (server restarted, network cut): the
    /// pool replaces it rather than handing it out again.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, SqlError::Pg(e) if e.is_closed() || e.as_db_error().is_none() && e.code().is_none())
    }
}

/// Turns `Ok(row)` / `NoRows` into `Some` / `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>, SqlError>;
}

impl<T> OptionalExtension<T> for Result<T, SqlError> {
    fn optional(self) -> Result<Option<T>, SqlError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                // Every count and time the store writes fits an i64 many times over.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u64, usize, u16, u8);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(*self as i64)
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_value)
    }
}

/// `params![a, b]`: a statement's parameters, in `?1`, `?2` order.
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::sql::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::sql::ToValue),+] as &[&dyn $crate::store::sql::ToValue] };
}
pub(crate) use params;

pub trait FromValue: Sized {
    fn from_value(index: usize, v: &Value) -> Result<Self, SqlError>;
}

fn wrong(index: usize, expected: &'static str, v: &Value) -> SqlError {
    SqlError::Type {
        index,
        expected,
        found: v.clone(),
    }
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(index: usize, v: &Value) -> Result<Self, SqlError> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|_| wrong(index, stringify!($t), v)),
                    _ => Err(wrong(index, stringify!($t), v)),
                }
            }
        }
    )*};
}
int_from_value!(i64, i32, u32, u64, usize, u16, u8);

impl FromValue for bool {
    fn from_value(index: usize, v: &Value) -> Result<Self, SqlError> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            _ => Err(wrong(index, "a flag", v)),
        }
    }
}
impl FromValue for f64 {
    fn from_value(index: usize, v: &Value) -> Result<Self, SqlError> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            _ => Err(wrong(index, "a number", v)),
        }
    }
}
impl FromValue for String {
    fn from_value(index: usize, v: &Value) -> Result<Self, SqlError> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            _ => Err(wrong(index, "text", v)),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(index: usize, v: &Value) -> Result<Self, SqlError> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            _ => Err(wrong(index, "bytes", v)),
        }
    }
}
impl FromValue for Value {
    fn from_value(_: usize, v: &Value) -> Result<Self, SqlError> {
        Ok(v.clone())
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(index: usize, v: &Value) -> Result<Self, SqlError> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(index, v).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row(Vec<Value>);

impl Row {
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, SqlError> {
        T::from_value(index, self.0.get(index).unwrap_or(&Value::Null))
    }

    pub fn values(&self) -> &[Value] {
        &self.0
    }
}

/// A connection to either engine; what it is stays inside this file.
pub struct Conn(Engine);

enum Engine {
    Sqlite(rusqlite::Connection),
    Pg {
        client: Box<postgres::Client>,
        /// Prepared once per connection: a round trip saved on every call.
        statements: HashMap<String, postgres::Statement>,
    },
}

impl Conn {
    /// The SQLite file at `path`, written through a WAL and synced in full,
    /// waiting up to 10 s for a lock.
    pub fn open_sqlite(path: &std::path::Path) -> Result<Conn, SqlError> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Conn(Engine::Sqlite(conn)))
    }

    /// A SQLite database in memory, for tests of SQL alone.
    #[cfg(test)]
    pub fn sqlite_in_memory() -> Conn {
        Conn(Engine::Sqlite(
            rusqlite::Connection::open_in_memory().unwrap(),
        ))
    }

    /// PostgreSQL at `url`, with TLS as its `sslmode` says (pg_tls.rs).
    pub fn connect_postgres(url: &str) -> Result<Conn, SqlError> {
        Ok(Conn(Engine::Pg {
            client: Box::new(pg_tls::connect(url)?),
            statements: HashMap::new(),
        }))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Engine::Pg { .. })
    }

    /// PostgreSQL dropped the connection (the pool makes a new one).
    pub fn is_closed(&self) -> bool {
        matches!(&self.0, Engine::Pg { client, .. } if client.is_closed())
    }

    /// Rows changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> Result<usize, SqlError> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match &mut self.0 {
            Engine::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(values.iter().map(SqliteValue)))?)
            }
            Engine::Pg { client, statements } => {
                let stmt = pg_statement(client, statements, sql)?;
                let args = pg_args(&values);
                Ok(client.execute(&stmt, &pg_refs(&args))? as usize)
            }
        }
    }

    pub fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> Result<Vec<Row>, SqlError> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match &mut self.0 {
            Engine::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let mut rows =
                    stmt.query(rusqlite::params_from_iter(values.iter().map(SqliteValue)))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                            rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                            rusqlite::types::ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        });
                    }
                    out.push(Row(row));
                }
                Ok(out)
            }
            Engine::Pg { client, statements } => {
                let stmt = pg_statement(client, statements, sql)?;
                let args = pg_args(&values);
                client
                    .query(&stmt, &pg_refs(&args))?
                    .iter()
                    .map(pg_row)
                    .collect()
            }
        }
    }

    pub fn query_map<T>(
        &mut self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnMut(&Row) -> Result<T, SqlError>,
    ) -> Result<Vec<T>, SqlError> {
        self.query(sql, params)?.iter().map(f).collect()
    }

    /// The first row, or `NoRows`.
    pub fn query_row<T>(
        &mut self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        match self.query(sql, params)?.first() {
            Some(r) => f(r),
            None => Err(SqlError::NoRows),
        }
    }

    /// Statements without parameters, separated by semicolons.
    pub fn batch(&mut self, sql: &str) -> Result<(), SqlError> {
        match &mut self.0 {
            Engine::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Engine::Pg { client, .. } => Ok(client.batch_execute(sql)?),
        }
    }

    /// A transaction that rolls back unless committed.
    pub fn transaction(&mut self) -> Result<Tx<'_>, SqlError> {
        self.batch("BEGIN")?;
        Ok(Tx {
            conn: self,
            open: true,
        })
    }
}

pub struct Tx<'a> {
    conn: &'a mut Conn,
    open: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<(), SqlError> {
        self.open = false;
        self.conn.batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort: a connection that cannot even roll back is broken,
            // and the engine rolls back when it closes.
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// The one migration runner (stint-common) on either engine: SQLite keeps
/// the version in `user_version`, PostgreSQL in the table `stint_schema`,
/// which a database holding tables but not it lacks (another program's).
impl stint_common::migrate::Engine for Conn {
    fn schema_version(&mut self) -> Result<Option<i64>, stint_common::migrate::EngineError> {
        if let Engine::Sqlite(c) = &mut self.0 {
            return stint_common::migrate::Engine::schema_version(c);
        }
        let mut tx = self.transaction()?;
        // Quiet: "already exists, skipping" on every start is no news.
        tx.batch("SET LOCAL client_min_messages = warning")?;
        tx.batch("CREATE TABLE IF NOT EXISTS stint_schema (version BIGINT NOT NULL)")?;
        let found: Option<i64> = tx
            .query_row("SELECT version FROM stint_schema", params![], |r| r.get(0))
            .optional()?;
        let found = match found {
            Some(v) => Some(v),
            None => {
                let others: i64 = tx.query_row(
                    "SELECT count(*) FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_name <> 'stint_schema'",
                    params![],
                    |r| r.get(0),
                )?;
                if others > 0 {
                    return Ok(None);
                }
                tx.execute("INSERT INTO stint_schema (version) VALUES (0)", params![])?;
                Some(0)
            }
        };
        tx.commit()?;
        Ok(found)
    }

    fn apply_step(
        &mut self,
        sql: &str,
        version: i64,
    ) -> Result<(), stint_common::migrate::EngineError> {
        if let Engine::Sqlite(c) = &mut self.0 {
            return stint_common::migrate::Engine::apply_step(c, sql, version);
        }
        let mut tx = self.transaction()?;
        tx.batch(sql)?;
        tx.execute("UPDATE stint_schema SET version = ?1", params![version])?;
        tx.commit()?;
        Ok(())
    }

    fn words(&self, e: &stint_common::migrate::EngineError) -> String {
        match e.downcast_ref::<rusqlite::Error>() {
            Some(e) => stint_common::migrate::sqlite_words(e),
            None => e.to_string(),
        }
    }
}

struct SqliteValue<'a>(&'a Value);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_dollars_outside_quotes() {
        for (sqlite, pg) in [
            ("SELECT ?1", "SELECT $1"),
            ("a = ?1 AND b = ?12", "a = $1 AND b = $12"),
            ("x LIKE ?1 || '%?'", "x LIKE $1 || '%?'"),
            ("'it''s ?' = ?2", "'it''s ?' = $2"),
        ] {
            assert_eq!(to_postgres(sqlite), pg);
        }
    }

    #[test]
    fn values_come_back_as_the_types_asked_for() {
        let mut c = Conn::sqlite_in_memory();
        let row = c
            .query_row(
                "SELECT ?1, ?2, ?3, ?4, ?5",
                params![7i64, "text", true, None::<String>, 1.5f64],
                |r| {
                    Ok((
                        r.get::<u32>(0)?,
                        r.get::<String>(1)?,
                        r.get::<bool>(2)?,
                        r.get::<Option<String>>(3)?,
                        r.get::<f64>(4)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(row, (7, "text".into(), true, None, 1.5));
        let err = c
            .query_row("SELECT 'x'", params![], |r| r.get::<i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("expected i64"), "{err}");
        assert!(matches!(
            c.query_row("SELECT 1 WHERE 0", params![], |r| r.get::<i64>(0))
                .optional(),
            Ok(None)
        ));
    }

    #[test]
    fn a_dropped_transaction_rolls_back() {
        let mut c = Conn::sqlite_in_memory();
        c.batch("CREATE TABLE t (x INTEGER)").unwrap();
        {
            let mut tx = c.transaction().unwrap();
            tx.execute("INSERT INTO t VALUES (?1)", params![1]).unwrap();
        }
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
