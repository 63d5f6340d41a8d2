//! Where stint-server keeps its data, from the command line, the environment
//! or a config file (`--config FILE` / `STINT_SERVER_CONFIG`), in that order
//! of precedence; the file suits a service unit that should not carry a
//! database password in its command line.
//!
//! ```toml
//! data_dir = "/var/lib/stint-server"
//! database = "postgres://stint:SECRET@db/stint"
//! objects = "s3://stint-images/prod?region=eu-central-1"
//! ```

use std::path::{Path, PathBuf};

use stint_server::store::Database;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    data_dir: Option<PathBuf>,
    database: Option<String>,
    objects: Option<String>,
}

/// The storage settings after every source had its say.
#[derive(Debug, PartialEq, Eq)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub database: Option<Database>,
    pub objects: Option<String>,
}

pub const DEFAULT_DATA_DIR: &str = "stint-server-data";

/// `given` holds what the command line or environment set (clap merges those).
pub fn resolve(
    config: Option<&Path>,
    data_dir: Option<PathBuf>,
    database: Option<Database>,
    objects: Option<String>,
) -> Result<Storage, String> {
    let file = match config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("config file {}: {e}", path.display()))?;
            toml::from_str::<File>(&text).map_err(|e| {
                format!(
                    "config file {}: {} (expected the keys data_dir, database and objects)",
                    path.display(),
                    e.message()
                )
            })?
        }
        None => File::default(),
    };
    let database = match (database, file.database) {
        (Some(d), _) => Some(d),
        (None, Some(text)) => Some(text.parse().map_err(|e: String| {
            format!(
                "config file {}: database: {e}",
                config.unwrap_or(Path::new("")).display()
            )
        })?),
        (None, None) => None,
    };
    Ok(Storage {
        data_dir: data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        database,
        objects: objects.or(file.objects),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_then_the_file_then_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let good = write(
            "good.toml",
            "data_dir = \"/srv/stint\"\ndatabase = \"postgres://db/stint\"\nobjects = \"s3://b\"\n",
        );
        let pg = |u: &str| Some(Database::Postgres(u.into()));
        for (config, cli_dir, cli_db, want) in [
            (
                None,
                None,
                None,
                Ok((PathBuf::from(DEFAULT_DATA_DIR), None, None)),
            ),
            (
                Some(good.clone()),
                None,
                None,
                Ok((
                    PathBuf::from("/srv/stint"),
                    pg("postgres://db/stint"),
                    Some("s3://b"),
                )),
            ),
            (
                Some(good.clone()),
                Some(PathBuf::from("/x")),
                pg("postgres://other/stint"),
                Ok((
                    PathBuf::from("/x"),
                    pg("postgres://other/stint"),
                    Some("s3://b"),
                )),
            ),
            (
                Some(write("typo.toml", "databse = \"x\"\n")),
                None,
                None,
                Err("unknown field `databse`"),
            ),
            (
                Some(write("bad.toml", "database = \"mysql://x\"\n")),
                None,
                None,
                Err("database: \"mysql://x\": expected sqlite:PATH or postgres://"),
            ),
            (
                Some(dir.path().join("missing.toml")),
                None,
                None,
                Err("missing.toml"),
            ),
        ] {
            let got = resolve(config.as_deref(), cli_dir, cli_db, None);
            match (got, want) {
                (Ok(s), Ok((d, db, o))) => {
                    assert_eq!(
                        s,
                        Storage {
                            data_dir: d,
                            database: db,
                            objects: o.map(String::from)
                        }
                    )
                }
                (Err(e), Err(w)) => assert!(e.contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{config:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
