//! Files only the server's user may read: its data directory, database,
//! images and private key are created owner-only from the first byte (no
//! window in which another user could open them), and a private key others
//! can read is made private before it is used.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `dir` (and its parents) owner-only; an existing one is left as is.
pub fn dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

fn options(mode: u32) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, mode);
    let _ = mode;
    o
}

/// Creates or truncates `path` owner-only (0600 from its creation).
pub fn create(path: &Path) -> io::Result<File> {
    options(0o600).create(true).truncate(true).open(path)
}

/// Creates `path` with `mode`, refusing to overwrite anything there.
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    options(mode).create_new(true).open(path)
}

/// Creates an empty owner-only file unless one exists (before SQLite opens a
/// database, whose journal files then take its mode).
pub fn touch(path: &Path) -> io::Result<()> {
    match options(0o600).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes a private key readable by its owner alone if it is not; returns
/// what was wrong, for the admin to hear.
pub fn tighten_key(path: &Path) -> io::Result<Option<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            return Ok(Some(format!(
                "{} was readable by other users (mode {mode:o}); it is 0600 now",
                path.display()
            )));
        }
    }
    let _ = path;
    Ok(None)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_owner_only_and_loose_keys_tightened() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        dir(&d).unwrap();
        assert_eq!(mode(&d), 0o700);
        create(&d.join("img")).unwrap();
        assert_eq!(mode(&d.join("img")), 0o600);
        touch(&d.join("db")).unwrap();
        assert_eq!(mode(&d.join("db")), 0o600);
        assert!(
            create_new(&d.join("img"), 0o600).is_err(),
            "never overwrites"
        );
        let key = d.join("server.key");
        std::fs::write(&key, "k").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let said = tighten_key(&key).unwrap().unwrap();
        assert!(said.contains("644") && said.contains("0600"), "{said}");
        assert_eq!(mode(&key), 0o600);
        assert_eq!(tighten_key(&key).unwrap(), None);
    }
}
