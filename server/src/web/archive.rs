//! "Download my data": everything recorded about a person as one tar archive
//! (records as JSON and CSV, every image), streamed as it is written so a
//! long history never sits in memory.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::extract::Viewer;
use super::format::field;
use super::refusal::{blocking, Refusal};
use super::tar::Tar;
use crate::access::Action;
use crate::state::AppState;
use crate::store::{DeviceRecords, Grant, Person, Store, Whose};

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

/// Writes the archive of `person`, whose export `grant` allows.
pub fn write_archive(
    store: &Store,
    grant: &Grant,
    person: &Person,
    out: impl Write,
) -> std::io::Result<()> {
    let fail = |e: crate::store::StoreError| std::io::Error::other(e.to_string());
    let now = (crate::store::now_ms() / 1000) as u64;
    let mut tar = Tar::new(out);
    let devices: Vec<DeviceRecords> = store.person_records(grant).map_err(fail)?;
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
                field(m.app.as_deref().unwrap_or("")),
                field(m.title.as_deref().unwrap_or(""))
            ));
        }
    }
    tar.file("stint-export/minutes.csv", csv.as_bytes(), now)?;
    for d in &devices {
        for c in &d.captures {
            let c = &c.record;
            let Ok(Some(data)) = store.export_image(grant, &c.id) else {
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
    viewer: Viewer,
    Path(person_id): Path<String>,
) -> Result<Response, Refusal> {
    let me = viewer.person;
    let (person, grant) = blocking(&state, move |store| {
        let person = store.person(&person_id)?.ok_or(Refusal::NotFound)?;
        let grant = store.grant(
            &me,
            Whose::Person(&person.id),
            Action::Export,
            "the export of all their data",
        )?;
        Ok((person, grant))
    })
    .await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let store = state.store.clone();
    let name = format!(
        "attachment; filename=\"stint-export-{}.tar\"",
        person.email.replace('"', "")
    );
    tokio::task::spawn_blocking(move || {
        let chunks = Chunks(tx.clone(), Vec::new());
        if let Err(e) = write_archive(&store, &grant, &person, chunks) {
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
