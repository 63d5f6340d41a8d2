//! `/images/ID`: a screenshot or webcam frame, `?size=thumb` for the
//! diary's thumbnail. Whoever may see the capture's owner's images gets it,
//! and the look is audited as what was sent: thumbnails as the day's, an
//! image at full size (also when it stands in for a missing thumbnail) as
//! that image's.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::diary::day_of;
use super::extract::Viewer;
use super::refusal::{blocking, Refusal};
use crate::access::Action;
use crate::state::AppState;
use crate::store::{Image, Size, Whose};

#[derive(Deserialize)]
pub struct ImageQuery {
    size: Option<String>,
}

pub async fn image(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    Path(capture): Path<String>,
    Query(q): Query<ImageQuery>,
) -> Result<Response, Refusal> {
    let size = match q.size.as_deref() {
        Some("thumb") => Size::Thumbnail,
        _ => Size::Full,
    };
    let me = viewer.person;
    let shown = capture.clone();
    let image = blocking(&state, move |store| {
        let owner = store.capture_owner(&capture)?.ok_or(Refusal::NotFound)?;
        let what = match (size, &owner.person) {
            (Size::Thumbnail, Some(p)) => format!(
                "screenshot thumbnails of {}",
                day_of(owner.taken_ms, p.tz())
            ),
            _ => format!("screenshot {capture}"),
        };
        let person = owner.person.as_ref().map(|p| p.id.as_str());
        let grant = store.grant(&me, Whose::of(person), Action::ViewImage, &what)?;
        Ok(store.image(&grant, &capture, size)?)
    })
    .await?;
    match image {
        Some(Image::Whole { bytes, mime }) => {
            Ok(([(header::CONTENT_TYPE, mime)], bytes).into_response())
        }
        Some(Image::Stream { mut chunks, mime }) => {
            let body = axum::body::Body::from_stream(futures_util::stream::poll_fn(move |cx| {
                chunks.poll_recv(cx)
            }));
            Ok(([(header::CONTENT_TYPE, mime)], body).into_response())
        }
        None => {
            tracing::warn!(capture = ?shown, "image missing from the object store");
            Err(Refusal::NotFound)
        }
    }
}
