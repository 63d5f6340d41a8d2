//! The host's commands, one module each: `serve` the listener, `user` and
//! `team` people, `token` enrollment tokens, `devices` devices, `records`
//! reading and deleting what arrived (and who looked at it), `policy` and
//! `retention` what agents follow and how long data is kept, `migrate`
//! copying a deployment. `config` says where the data is; this file opens it.

pub mod config;
pub mod devices;
pub mod migrate;
pub mod periods;
pub mod policy;
pub mod project;
pub mod records;
pub mod retention;
pub mod serve;
pub mod team;
pub mod token;
pub mod user;
pub mod webhook;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use stint_server::store::{objects::Objects, Database, Store};

/// Where this deployment's data is, after the command line, the
/// environment and the config file had their say.
pub struct Place {
    pub data_dir: PathBuf,
    database: Option<Database>,
    objects: Option<String>,
}

impl Place {
    pub fn resolve(
        config: Option<&Path>,
        data_dir: Option<PathBuf>,
        database: Option<Database>,
        objects: Option<String>,
    ) -> anyhow::Result<Place> {
        let s = config::resolve(config, data_dir, database, objects).map_err(anyhow::Error::msg)?;
        Ok(Place {
            data_dir: s.data_dir,
            database: s.database,
            objects: s.objects,
        })
    }

    /// Opens the store: the embedded default in the data dir, or the
    /// database and object store named.
    pub fn open(&self) -> anyhow::Result<Store> {
        let dir = &self.data_dir;
        if self.database.is_none() && self.objects.is_none() {
            return Store::open(dir).with_context(|| format!("data dir {}", dir.display()));
        }
        stint_server::private::dir(dir).with_context(|| format!("data dir {}", dir.display()))?;
        let database = self
            .database
            .clone()
            .unwrap_or_else(|| Database::Sqlite(dir.join("server.db")));
        let objects = self
            .objects
            .clone()
            .unwrap_or_else(|| format!("file:{}", dir.join("captures").display()));
        Ok(Store::connect(&database, Objects::open(&objects)?)?)
    }
}

pub fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serialisable"));
}

/// The person with `email`, or an error naming it.
pub fn person_id(store: &Store, email: &str) -> anyhow::Result<String> {
    match store.person_by_email(email)? {
        Some(p) => Ok(p.id),
        None => bail!("no person with the email {email:?} (add one with `stint-server user add`)"),
    }
}

/// `--day`: YYYY-MM-DD when given.
pub fn valid_day(day: &Option<String>) -> anyhow::Result<()> {
    if let Some(d) = day {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--day {d:?}: expected YYYY-MM-DD"))?;
    }
    Ok(())
}
