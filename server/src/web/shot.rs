//! One screenshot at full size (the diary's lightbox, without JavaScript):
//! the image, the previous and next of that person's day, and the minutes of
//! its segment.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::diary::{clock, day_bounds, day_of};
use super::pages::{blocking, check, render, with_cookie};
use super::{viewer, Refusal};
use crate::access::Action;
use crate::api::AppState;

/// One minute of the segment, as printed.
struct MinuteLine {
    at: String,
    keys: u32,
    clicks: u32,
    idle: bool,
    app: String,
    title: String,
}

#[derive(Template)]
#[template(path = "shot.html")]
struct ShotPage {
    nav: super::Nav,
    id: String,
    person_id: String,
    person_name: String,
    day: chrono::NaiveDate,
    at: String,
    prev: Option<String>,
    next: Option<String>,
    minutes: Vec<MinuteLine>,
}

pub async fn shot(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let (csrf, set) = super::pages::csrf_token(&headers);
    let page = blocking(&state, move |store| {
        let Some(c) = store.stored_capture(&id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        // Unbound devices have no diary to page through: their images are
        // opened directly by the admins who may see them.
        let Some(person) = c
            .person
            .as_deref()
            .map(|p| store.person(p))
            .transpose()?
            .flatten()
        else {
            return Ok(Err(Refusal::NotFound));
        };
        if let Err(r) = check(store, &me, Some(&person.id), Action::ViewImage) {
            return Ok(Err(r));
        }
        let tz = person.tz();
        let day = day_of(c.taken_ms, tz);
        let (from, to) = day_bounds(day, tz);
        let (minutes, captures) = store.day(&person.id, from, to)?;
        let at = captures.iter().position(|x| x.id == id);
        let neighbour = |i: Option<usize>| i.and_then(|i| captures.get(i)).map(|x| x.id.clone());
        let seg_ms = store.effective_policy(Some(&person.id))?.segment_ms();
        let seg = c.taken_ms.div_euclid(seg_ms);
        Ok(Ok(ShotPage {
            nav: super::Nav::of(&me, &csrf),
            id: id.clone(),
            person_id: person.id.clone(),
            person_name: person.name.clone(),
            day,
            at: clock(c.taken_ms, tz),
            prev: neighbour(at.and_then(|i| i.checked_sub(1))),
            next: neighbour(at.map(|i| i + 1)),
            minutes: minutes
                .iter()
                .filter(|m| m.start_ms.div_euclid(seg_ms) == seg)
                .map(|m| MinuteLine {
                    at: clock(m.start_ms, tz),
                    keys: m.keystrokes,
                    clicks: m.clicks,
                    idle: m.idle,
                    app: m.app.clone().unwrap_or_default(),
                    title: m.title.clone().unwrap_or_default(),
                })
                .collect(),
        }))
    })
    .await??;
    Ok(with_cookie(render(&page), set))
}
