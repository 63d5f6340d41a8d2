//! Which directory stint may write into: one it created (marked with a small
//! file), an empty one, or one an earlier stint filled before the mark existed
//! (it holds a `queue.db`). Anything else is someone's folder: stint refuses
//! it and touches nothing in it, not even its mode, so a `data_dir` pointed at
//! the wrong place can never cost a file.

use std::path::{Path, PathBuf};

/// The mark of a directory stint owns.
pub const MARKER: &str = ".stint-data-dir";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("storage.data_dir {path} is a folder stint did not create and it is not empty (it holds {found}); stint writes only into a new or empty directory: set storage.data_dir to one")]
    Foreign { path: PathBuf, found: String },
    #[error("storage.data_dir {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a directory is to stint, from the names in it.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Missing,
    Ours,
    Empty,
    /// Filled by a stint from before the marker.
    Earlier,
    /// Someone else's; some of the names in it.
    Foreign(Vec<String>),
}

/// Sorts a directory by the names in it (`None`: it does not exist).
pub fn kind(names: Option<&[String]>) -> Kind {
    let Some(names) = names else {
        return Kind::Missing;
    };
    if names.iter().any(|n| n == MARKER) {
        Kind::Ours
    } else if names.is_empty() {
        Kind::Empty
    } else if names.iter().any(|n| n == "queue.db") {
        Kind::Earlier
    } else {
        let mut some: Vec<String> = names.iter().take(5).cloned().collect();
        some.sort();
        Kind::Foreign(some)
    }
}

/// Reads what `dir` is, changing nothing.
pub fn inspect(dir: &Path) -> Result<Kind, DataDirError> {
    let io = |source| DataDirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(kind(None)),
        Err(e) => return Err(io(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        names.push(
            entry
                .map_err(io)?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    Ok(kind(Some(&names)))
}

/// Makes `dir` stint's (creating it owner-only, or marking an empty or earlier
/// one), or refuses a foreign one without touching it.
pub fn claim(dir: &Path) -> Result<(), DataDirError> {
    let io = |source| DataDirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match inspect(dir)? {
        Kind::Ours => Ok(()),
        Kind::Foreign(names) => Err(DataDirError::Foreign {
            path: dir.to_path_buf(),
            found: names.join(", "),
        }),
        Kind::Missing | Kind::Empty | Kind::Earlier => {
            crate::platform::create_private_dir(dir).map_err(io)?;
            stint_common::durable::write(
                &dir.join(MARKER),
                b"stint keeps its queue, captures and logs here\n",
                0o600,
            )
            .map_err(io)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_table() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (None, Kind::Missing),
            (Some(names(&[])), Kind::Empty),
            (Some(names(&[MARKER, "queue.db", "logs"])), Kind::Ours),
            (
                Some(names(&["queue.db", "captures", "logs"])),
                Kind::Earlier,
            ),
            (
                Some(names(&["thesis.tex", "captures"])),
                Kind::Foreign(names(&["captures", "thesis.tex"])),
            ),
        ];
        for (n, want) in cases {
            assert_eq!(kind(n.as_deref()), want, "{n:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_foreign_folder_is_refused_and_left_as_it_was() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("shared");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::write(folder.join("notes.txt"), "mine").unwrap();
        let err = claim(&folder).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("did not create"),
            "{err}"
        );
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o1777, "mode untouched");
        assert!(!folder.join(MARKER).exists());

        let fresh = dir.path().join("new/data");
        claim(&fresh).unwrap();
        assert!(fresh.join(MARKER).exists());
        claim(&fresh).unwrap(); // ours now: claiming again changes nothing
    }
}
