//! Files that survive a crash or power loss the moment the call returns:
//! written beside their final name, fsynced, renamed, and the directory
//! fsynced so the rename itself is on disk.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The sibling a file is written to before its rename: `NAME.part`. Readers
/// and sweeps treat a `.part` file as incomplete.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

/// Writes `data` to `path` durably, replacing what was there. On unix the
/// file has `mode` from its creation (no window with wider permissions). On
/// failure the partial file is removed and `path` is as it was.
pub fn write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let part = part_path(path);
    let attempt = || -> io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(&part)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&part, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    };
    attempt().inspect_err(|_| {
        let _ = std::fs::remove_file(&part);
    })
}

/// Makes renames and creations in `dir` durable: the directory entry itself
/// must reach the disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // NTFS journals metadata, and a directory cannot be opened for
        // flushing without backup semantics: the rename is durable enough.
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_and_leave_no_part() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        for data in [&b"first"[..], b"second, longer", b"3"] {
            write(&path, data, 0o600).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data);
        }
        assert!(!part_path(&path).exists());
        assert_eq!(part_path(&path), dir.path().join("creds.json.part"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("f");
        assert!(write(&path, b"x", 0o600).is_err());
        assert!(!dir.path().join("missing").exists());
    }
}
