//! A ustar archive written entry by entry, for "Download my data". A name
//! that does not fit ustar's 100-byte name field goes into its 155-byte
//! prefix where it splits at a slash, and otherwise into a PAX header, so no
//! two entries ever share a cut-off name.

use std::io::Write;

pub struct Tar<W: Write> {
    out: W,
}

/// ustar's fields for a name: (prefix, name), when it fits them.
fn ustar_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    // The prefix ends at a slash, which the reader puts back.
    name.match_indices('/')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .find(|(prefix, rest)| prefix.len() <= 155 && rest.len() <= 100 && !rest.is_empty())
}

/// A PAX record: its own length in decimal, then `key=value\n`, where the
/// length counts itself.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while (len.to_string().len() + body.len()) != len {
        len = len.to_string().len() + body.len();
    }
    format!("{len}{body}")
}

impl<W: Write> Tar<W> {
    pub fn new(out: W) -> Tar<W> {
        Tar { out }
    }

    fn header(
        &mut self,
        kind: u8,
        prefix: &str,
        name: &str,
        size: u64,
        mtime: u64,
    ) -> std::io::Result<()> {
        let mut h = [0u8; 512];
        h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
            let text = format!("{v:0width$o}\0", width = len - 1);
            h[at..at + len].copy_from_slice(text.as_bytes());
        };
        octal(&mut h, 100, 8, 0o600);
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, size);
        octal(&mut h, 136, 12, mtime);
        h[148..156].copy_from_slice(b"        ");
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let p = prefix.as_bytes();
        h[345..345 + p.len().min(155)].copy_from_slice(&p[..p.len().min(155)]);
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(text.as_bytes());
        self.out.write_all(&h)
    }

    fn data(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.out.write_all(data)?;
        let pad = (512 - data.len() % 512) % 512;
        self.out.write_all(&vec![0u8; pad])
    }

    /// Appends a file.
    pub fn file(&mut self, name: &str, data: &[u8], mtime_secs: u64) -> std::io::Result<()> {
        match ustar_name(name) {
            Some((prefix, short)) => {
                self.header(b'0', prefix, short, data.len() as u64, mtime_secs)?
            }
            None => {
                let pax = pax_record("path", name);
                self.header(b'x', "", "PaxHeader", pax.len() as u64, mtime_secs)?;
                self.data(pax.as_bytes())?;
                // Readers without PAX see the name cut; the PAX path wins.
                let cut: String = name
                    .chars()
                    .rev()
                    .take(90)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                self.header(b'0', "", &cut, data.len() as u64, mtime_secs)?;
            }
        }
        self.data(data)
    }

    /// Two zero blocks end the archive.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(&[0u8; 1024])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_ustar_blocks_with_valid_checksums() {
        let mut tar = Tar::new(Vec::new());
        tar.file("a/b.txt", b"hello", 1_700_000_000).unwrap();
        tar.file("a/empty", b"", 0).unwrap();
        let bytes = tar.finish().unwrap();
        assert_eq!(bytes.len(), 512 + 512 + 512 + 1024);
        let h = &bytes[..512];
        assert_eq!(&h[..7], b"a/b.txt");
        assert_eq!(&h[257..262], b"ustar");
        assert_eq!(&h[124..135], b"00000000005");
        let stored = u64::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
        let mut blank = h.to_vec();
        blank[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, blank.iter().map(|b| u64::from(*b)).sum::<u64>());
        assert_eq!(&bytes[512..517], b"hello");
    }

    #[test]
    fn long_names_split_at_a_slash_or_go_into_pax() {
        let long_file = format!("stint-export/images/{}.webp", "x".repeat(90));
        assert_eq!(
            ustar_name(&long_file),
            Some(("stint-export/images", &long_file[20..]))
        );
        assert_eq!(ustar_name(&format!("d/{}", "y".repeat(120))), None);
        for (key, value) in [("path", "a"), ("path", &"z".repeat(95))] {
            let r = pax_record(key, value);
            let (len, _) = r.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), r.len(), "{r:?}");
        }
    }

    /// GNU tar reads back two names that agree in their first 100 bytes, and
    /// one with no slash to split at, whole.
    #[test]
    fn tar_lists_long_names_whole() {
        let names = [
            format!("stint-export/images/{}_1.webp", "a".repeat(98)),
            format!("stint-export/images/{}_2.webp", "a".repeat(98)),
            format!("stint-export/{}", "b".repeat(150)),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tar");
        let mut tar = Tar::new(std::fs::File::create(&path).unwrap());
        for n in &names {
            tar.file(n, n.as_bytes(), 0).unwrap();
        }
        tar.finish().unwrap();
        let out = std::process::Command::new("tar")
            .arg("-tf")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let listed: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(listed, names);
    }
}
