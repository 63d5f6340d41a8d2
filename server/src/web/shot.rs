//! One screenshot at full size (the diary's lightbox, without JavaScript):
//! the image, the previous and next of that person's day, and the minutes of
//! its segment.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::diary::{clock, day_bounds, day_of};
use super::extract::Viewer;
use super::format::visible;
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::access::Action;
use crate::state::AppState;
use crate::store::Whose;

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
    nav: Nav,
    id: String,
    person_id: String,
    person_name: String,
    day: chrono::NaiveDate,
    at: String,
    prev: Option<String>,
    next: Option<String>,
    minutes: Vec<MinuteLine>,
    /// Sealed on the device: opened in the browser with the viewer's key.
    sealed: bool,
    mime: &'static str,
    e2e_keys: String,
}

/// The page shows the segment's minutes (titles and applications), so it
/// takes a diary grant of its own; the image on it is fetched, and audited,
/// through `/images/ID`.
pub async fn shot(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let c = store.capture_owner(&id)?.ok_or(Refusal::NotFound)?;
        // Unbound devices have no diary to page through: their images are
        // opened directly by the admins who may see them.
        let person = c.person.ok_or(Refusal::NotFound)?;
        let grant = store.grant(
            &me,
            Whose::Person(&person.id),
            Action::ViewDiary,
            &format!("screenshot {id} with its segment's minutes"),
        )?;
        let tz = person.tz();
        let day = day_of(c.taken_ms, tz);
        let (from, to) = day_bounds(day, tz);
        let (minutes, captures) = store.day(&grant, from, to)?;
        let at = captures.iter().position(|x| x.id == id);
        let neighbour = |i: Option<usize>| i.and_then(|i| captures.get(i)).map(|x| x.id.clone());
        let seg_ms = store.effective_policy(Some(&person.id))?.segment_ms();
        let seg = c.taken_ms.div_euclid(seg_ms);
        let sealed = at.and_then(|i| captures.get(i)).is_some_and(|x| x.sealed);
        Ok(ShotPage {
            sealed,
            mime: "image/webp",
            e2e_keys: if sealed {
                serde_json::to_string(&store.keys_of(&me.id)?).unwrap_or_default()
            } else {
                String::new()
            },
            nav,
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
                    app: visible(m.app.as_deref().unwrap_or_default()),
                    title: visible(m.title.as_deref().unwrap_or_default()),
                })
                .collect(),
        })
    })
    .await?;
    Ok(render(&page))
}
