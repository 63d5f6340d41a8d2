//! `stint-server migrate`: copies a deployment (the embedded one, usually)
//! into another store, PostgreSQL and S3 for a fleet. Every row is inserted
//! with `ON CONFLICT DO NOTHING` and every object only when missing, so a run
//! killed halfway is simply run again; images go before the rows that name
//! them; the end compares counts and checksums of both sides.

use std::collections::HashSet;

use super::sql::{params, SqlError, ToValue, Value};
use super::{Store, StoreError};

/// Every table, parents first, each with the columns that order and
/// identify its rows. `view_audit` is keyed on the rowid SQLite gives it
/// and PostgreSQL stores as a column.
const TABLES: &[(&str, &str)] = &[
    ("settings", "key"),
    ("policies", "scope"),
    ("leases", "name"),
    ("people", "id"),
    ("teams", "id"),
    ("team_people", "team_id, person_id"),
    ("enroll_tokens", "hash"),
    ("devices", "id"),
    ("sessions", "id"),
    ("minutes", "id"),
    ("captures", "id"),
    ("tombstones", "id"),
    ("password_links", "token_hash"),
    ("web_sessions", "token_hash"),
    ("login_failures", "key"),
    ("view_audit", "rowid"),
];

/// What a table or the object store came to on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub what: String,
    pub count: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what} differs after the copy: {from} rows or objects here, {to} there (checksums {from_sum} / {to_sum})")]
    Mismatch {
        what: String,
        from: u64,
        to: u64,
        from_sum: String,
        to_sum: String,
    },
}

impl From<SqlError> for CopyError {
    fn from(e: SqlError) -> CopyError {
        CopyError::Store(e.into())
    }
}

impl Store {
    /// Copies everything in `self` into `to`, `batch` rows per transaction,
    /// calling `progress(table, rows_so_far)` after each; then verifies.
    pub fn copy_into(
        &self,
        to: &Store,
        batch: usize,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<Vec<Checked>, CopyError> {
        let mut present: HashSet<String> = to
            .objects
            .list()
            .map_err(StoreError::from)?
            .into_iter()
            .map(|l| l.key)
            .collect();
        let mut tables = Vec::new();
        for (table, key) in TABLES {
            let columns = self.columns(table)?;
            tables.push((*table, columns.clone()));
            let list = columns.join(", ");
            let insert = format!(
                "INSERT INTO {table} ({list}) VALUES ({}) ON CONFLICT ({key}) DO NOTHING",
                super::records::marks(1, columns.len())
            );
            let rows = self.conn().query_map(
                &format!("SELECT {list} FROM {table} ORDER BY {key}"),
                params![],
                |r| {
                    (0..columns.len())
                        .map(|i| r.get::<Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                },
            )?;
            let file_at = columns.iter().position(|c| c == "file");
            let mut done = 0u64;
            for chunk in rows.chunks(batch.max(1)) {
                // The images first: a row never names an object not there.
                if let (true, Some(at)) = (*table == "captures", file_at) {
                    for row in chunk {
                        if let Value::Text(file) = &row[at] {
                            for key in [file.clone(), super::thumbs::thumb_key(file)] {
                                if present.contains(&key) {
                                    continue;
                                }
                                if let Some(data) =
                                    self.objects.get(&key).map_err(StoreError::from)?
                                {
                                    to.objects.put(&key, &data).map_err(StoreError::from)?;
                                }
                                present.insert(key);
                            }
                        }
                    }
                }
                let mut conn = to.conn();
                let mut tx = conn.transaction()?;
                for row in chunk {
                    let args: Vec<&dyn ToValue> = row.iter().map(|v| v as &dyn ToValue).collect();
                    tx.execute(&insert, &args)?;
                }
                tx.commit()?;
                done += chunk.len() as u64;
                progress(table, done);
            }
        }
        to.after_copy()?;
        let (ours, theirs) = (self.checksums(&tables)?, to.checksums(&tables)?);
        for (a, b) in ours.iter().zip(&theirs) {
            if a != b {
                return Err(CopyError::Mismatch {
                    what: a.what.clone(),
                    from: a.count,
                    to: b.count,
                    from_sum: a.sha256.clone(),
                    to_sum: b.sha256.clone(),
                });
            }
        }
        Ok(ours)
    }

    fn columns(&self, table: &str) -> Result<Vec<String>, SqlError> {
        let mut cols: Vec<String> = self.conn().query_map(
            "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
            params![table],
            |r| r.get(0),
        )?;
        if table == "view_audit" {
            cols.insert(0, "rowid".into());
        }
        Ok(cols)
    }

    /// PostgreSQL hands out audit row numbers from a sequence, which must
    /// start past the copied ones.
    fn after_copy(&self) -> Result<(), SqlError> {
        let mut conn = self.conn();
        if conn.is_postgres() {
            conn.query_row(
                "SELECT setval(pg_get_serial_sequence('view_audit', 'rowid'), COALESCE(max(rowid), 0) + 1, false)::text FROM view_audit",
                params![],
                |_| Ok(()),
            )?;
        }
        Ok(())
    }

    /// Per table: rows and a SHA-256 over them (as sorted lines, so row
    /// order does not matter); then the objects the captures name, over
    /// their bytes. Rows are hashed as values, so SQLite and PostgreSQL
    /// agree on equal data.
    fn checksums(&self, tables: &[(&str, Vec<String>)]) -> Result<Vec<Checked>, CopyError> {
        let mut out = Vec::new();
        for (table, columns) in tables {
            let mut lines: Vec<String> = self.conn().query_map(
                &format!("SELECT {} FROM {table}", columns.join(", ")),
                params![],
                |r| {
                    let text: Vec<String> = r.values().iter().map(canonical).collect();
                    Ok(text.join("\u{1e}"))
                },
            )?;
            lines.sort();
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            for line in &lines {
                ctx.update(line.as_bytes());
                ctx.update(b"\n");
            }
            out.push(Checked {
                what: (*table).to_string(),
                count: lines.len() as u64,
                sha256: super::hex(ctx.finish().as_ref()),
            });
        }
        let mut files: Vec<String> =
            self.conn()
                .query_map("SELECT file FROM captures", params![], |r| r.get(0))?;
        files.sort();
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut count = 0;
        for f in &files {
            if let Some(data) = self.objects.get(f).map_err(StoreError::from)? {
                ctx.update(f.as_bytes());
                ctx.update(ring::digest::digest(&ring::digest::SHA256, &data).as_ref());
                count += 1;
            }
        }
        out.push(Checked {
            what: "images".into(),
            count,
            sha256: super::hex(ctx.finish().as_ref()),
        });
        Ok(out)
    }
}

/// A value as text both engines produce alike (PostgreSQL returns what
/// SQLite stored as 0/1 the same way, since both columns are integers).
fn canonical(v: &Value) -> String {
    match v {
        Value::Null => "\u{0}".into(),
        Value::Int(i) => i.to_string(),
        Value::Real(f) => format!("{f:?}"),
        Value::Text(s) => s.clone(),
        Value::Blob(b) => super::hex(b),
    }
}
