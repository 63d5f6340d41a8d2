//! "Download my data": everything recorded about a person as one tar archive
//! (records as JSON and CSV, every image), streamed as it is written so a
//! long history never sits in memory.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::{viewer, Refusal};
use crate::access::Action;
use crate::api::AppState;
use crate::store::{DeviceRecords, Person, Store};

/// A ustar archive written entry by entry.
pub struct Tar<W: Write> {
    out: W,
}

impl<W: Write> Tar<W> {
    pub fn new(out: W) -> Tar<W> {
        Tar { out }
    }

    /// Appends a file. Names longer than ustar's 100 bytes are cut (ours are
    /// short and ASCII by construction).
    pub fn file(&mut self, name: &str, data: &[u8], mtime_secs: u64) -> std::io::Result<()> {
        let mut h = [0u8; 512];
        let name = name.as_bytes();
        h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
            let text = format!("{v:0width$o}\0", width = len - 1);
            h[at..at + len].copy_from_slice(text.as_bytes());
        };
        octal(&mut h, 100, 8, 0o600);
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, data.len() as u64);
        octal(&mut h, 136, 12, mtime_secs);
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(text.as_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)?;
        let pad = (512 - data.len() % 512) % 512;
        self.out.write_all(&vec![0u8; pad])
    }

    /// Two zero blocks end the archive.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(&[0u8; 1024])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Sends what is written as body chunks; fails once the client is gone.
struct Chunks(
    tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    Vec<u8>,
);

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(data);
        if self.1.len() >= 256 << 10 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.1.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.1));
        self.0.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled")
        })
    }
}

/// Writes `person`'s archive.
pub fn write_archive(store: &Store, person: &Person, out: impl Write) -> std::io::Result<()> {
    let fail = |e: crate::store::StoreError| std::io::Error::other(e.to_string());
    let now = (crate::store::now_ms() / 1000) as u64;
    let mut tar = Tar::new(out);
    let devices: Vec<DeviceRecords> = store
        .person_devices(&person.id)
        .map_err(fail)?
        .iter()
        .map(|d| store.export(Some(d), None).map(|mut v| v.remove(0)))
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    let records = serde_json::json!({ "person": person, "devices": devices });
    tar.file(
        "stint-export/records.json",
        serde_json::to_string_pretty(&records)
            .expect("records serialise")
            .as_bytes(),
        now,
    )?;
    let mut csv =
        String::from("start,utc_offset,seconds,keystrokes,clicks,scrolls,idle,app,title\r\n");
    for d in &devices {
        for m in &d.minutes {
            let m = &m.record;
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\r\n",
                m.start,
                m.utc_offset,
                m.seconds,
                m.keystrokes,
                m.clicks,
                m.scrolls,
                m.idle,
                super::reports::field(m.app.as_deref().unwrap_or("")),
                super::reports::field(m.title.as_deref().unwrap_or(""))
            ));
        }
    }
    tar.file("stint-export/minutes.csv", csv.as_bytes(), now)?;
    for d in &devices {
        for c in &d.captures {
            let c = &c.record;
            let Ok(Some(data)) = store.capture_bytes(&c.id) else {
                continue;
            };
            let name = format!(
                "stint-export/images/{}_{}.{}",
                c.taken_at.replace(':', "-"),
                c.id,
                stint_proto::extension(&c.format)
            );
            tar.file(&name, &data, now)?;
        }
    }
    tar.finish().map(drop)
}

pub async fn download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(person_id): Path<String>,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let person = super::pages::blocking(&state, move |store| {
        let Some(person) = store.person(&person_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if let Err(r) = super::pages::check(store, &me, Some(&person.id), Action::Export) {
            return Ok(Err(r));
        }
        store.record_view(&me, &person.id, "the export of all their data")?;
        Ok(Ok(person))
    })
    .await??;
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let store = state.store.clone();
    let name = format!(
        "attachment; filename=\"stint-export-{}.tar\"",
        person.email.replace('"', "")
    );
    tokio::task::spawn_blocking(move || {
        let chunks = Chunks(tx.clone(), Vec::new());
        if let Err(e) = write_archive(&store, &person, chunks) {
            tracing::warn!(person = %person.id, error = %e, "export stopped");
            let _ = tx.blocking_send(Err(e));
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(stream),
    )
        .into_response())
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
}
