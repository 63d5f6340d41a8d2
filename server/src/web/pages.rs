//! The pages: login and logout, a person's day, the images in it, and who
//! looked at my data. Each handler asks `access::allowed` before reading.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::diary::{clock, day_bounds, day_of, segments};
use super::reports::hm;
use super::{cookie, csrf_ok, set_cookie, viewer, Refusal, CSRF_COOKIE, SESSION_COOKIE};
use crate::access::{allowed, Action, Subject};
use crate::api::AppState;
use crate::store::{Login, Person, Store, View};

pub(super) async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Refusal> {
    let store = state.store.clone();
    Ok(tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| Refusal::Failed(e.to_string()))??)
}

pub(super) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    status: u16,
    text: &'a str,
}

pub(super) fn message_page(status: u16, text: &str) -> Html<String> {
    Html(
        MessagePage { status, text }
            .render()
            .unwrap_or_else(|_| text.to_string()),
    )
}

/// The CSRF token of this browser (from its cookie), or a new one to set.
pub(super) fn csrf_token(headers: &HeaderMap) -> (String, Option<(header::HeaderName, String)>) {
    match cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 64) {
        Some(t) => (t, None),
        None => {
            let t = crate::store::new_secret("").to_string();
            let set = set_cookie(CSRF_COOKIE, &t, 7 * 86_400);
            (t, Some(set))
        }
    }
}

pub async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match viewer(&state, &headers).await {
        Ok(me) => {
            let today = day_of(crate::store::now_ms(), me.tz());
            Redirect::to(&format!("/diary/{}/{today}", me.id)).into_response()
        }
        Err(r) => r.into_response(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    /// Offer "Log in with your organisation" (OIDC is set up).
    oidc: bool,
}

pub async fn login_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let page = render(&LoginPage {
        csrf: &csrf,
        email: "",
        error: None,
        oidc: state.oidc.get().is_some(),
    });
    with_cookie(page, set)
}

pub(super) fn with_cookie(
    mut resp: Response,
    set: Option<(header::HeaderName, String)>,
) -> Response {
    if let Some((name, value)) = set {
        if let Ok(v) = value.parse() {
            resp.headers_mut().append(name, v);
        }
    }
    resp
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !csrf_ok(&headers, &form.csrf) {
        return Refusal::Forged.into_response();
    }
    let (email, password, ip) = (form.email.clone(), form.password, addr.ip().to_string());
    let outcome = match blocking(&state, move |s| s.login(&email, &password, &ip)).await {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    let again = |status: StatusCode, error: &str| {
        let page = render(&LoginPage {
            csrf: &form.csrf,
            email: &form.email,
            error: Some(error),
            oidc: state.oidc.get().is_some(),
        });
        (status, page).into_response()
    };
    match outcome {
        Login::Ok { token, person } => {
            tracing::info!(person = %person.id, role = person.role.name(), "logged in");
            let max_age = crate::store::SESSION_MAX_MS / 1000;
            (
                [set_cookie(SESSION_COOKIE, &token, max_age)],
                Redirect::to("/"),
            )
                .into_response()
        }
        Login::Refused => again(
            StatusCode::UNAUTHORIZED,
            "The email or the password is wrong.",
        ),
        Login::Throttled { retry_after_secs } => {
            let mut resp = again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed attempts: try again in {retry_after_secs} s."),
            );
            if let Ok(v) = retry_after_secs.to_string().parse() {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
    /// Set by "Log out everywhere": every session of the person ends.
    #[serde(default)]
    everywhere: Option<String>,
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    if !csrf_ok(&headers, &form.csrf) {
        return Refusal::Forged.into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let everywhere = form.everywhere.is_some();
        let done = blocking(&state, move |s| match s.session(&token)? {
            Some(me) if everywhere => s.logout_everywhere(&me.id),
            _ => s.logout(&token),
        });
        if let Err(r) = done.await {
            return r.into_response();
        }
    }
    ([set_cookie(SESSION_COOKIE, "", 0)], Redirect::to("/login")).into_response()
}

/// A segment as the diary page prints it.
struct SegmentView {
    from: String,
    to: String,
    activity: u32,
    keys: u32,
    clicks: u32,
    /// Minutes of recorded time in the segment.
    minutes: u64,
    /// Bar heights 0-10 (CSS classes: the CSP allows no inline style).
    bars: Vec<u32>,
    captures: Vec<(String, String, String)>,
    apps: String,
    title: Option<String>,
    /// [from, to) in epoch ms when the viewer may delete the segment.
    delete: Option<(i64, i64)>,
}

#[derive(Template)]
#[template(path = "diary.html")]
struct DiaryPage {
    nav: super::Nav,
    person_id: String,
    person_name: String,
    time_zone: String,
    /// `?tz=…` when the viewer chose a zone, for the day links to keep it.
    zone_query: String,
    day: NaiveDate,
    prev_day: NaiveDate,
    next_day: NaiveDate,
    people: Vec<(String, String)>,
    tracked: String,
    active: String,
    idle: String,
    segments: Vec<SegmentView>,
    /// The day's [from, to) when the viewer may delete all of it.
    day_delete: Option<(i64, i64)>,
    /// Whether the viewer may delete everything of this person.
    delete_all: bool,
}

/// The subject of `person`'s data, seen from `me`, after the permission check.
pub(super) fn check(
    store: &Store,
    me: &Person,
    person: Option<&str>,
    action: Action,
) -> Result<Subject, Refusal> {
    let subject = store.subject(me, person)?;
    if allowed(me.role, action, subject) {
        Ok(subject)
    } else {
        tracing::info!(viewer = %me.id, ?action, ?subject, "refused");
        Err(Refusal::Denied)
    }
}

#[derive(Deserialize)]
pub struct ZoneQuery {
    /// Show the day in this IANA zone instead of the person's own.
    tz: Option<String>,
}

pub async fn diary(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((person_id, day)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<ZoneQuery>,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let zone: Option<Tz> = match q.tz.as_deref().filter(|z| !z.is_empty()) {
        None => None,
        Some(z) => Some(z.parse().map_err(|_| {
            Refusal::BadRequest(format!(
                "{z:?} is not a time zone such as Europe/Berlin or UTC"
            ))
        })?),
    };
    // "today" is the person's today, in their time zone.
    let asked: Option<NaiveDate> = match day.as_str() {
        "today" => None,
        d => Some(d.parse().map_err(|_| Refusal::NotFound)?),
    };
    let (csrf, set) = csrf_token(&headers);
    let page = blocking(&state, move |store| {
        let Some(person) = store.person(&person_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let subject = match check(store, &me, Some(&person.id), Action::ViewDiary) {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let now = crate::store::now_ms();
        let day = asked.unwrap_or_else(|| day_of(now, person.tz()));
        store.record_view(&me, &person.id, &format!("diary of {day}"))?;
        let policy = store.effective_policy(Some(&person.id))?;
        let review_ms = policy.review_ms();
        let tz = zone.unwrap_or_else(|| person.tz());
        let (from, to) = day_bounds(day, tz);
        let (minutes, captures) = store.day(&person.id, from, to)?;
        let segs = segments(&minutes, &captures, policy.segment_ms());
        let totals = super::reports::row(&person, day, &minutes);
        let people = store
            .people()?
            .into_iter()
            .filter(|p| {
                store
                    .subject(&me, Some(&p.id))
                    .is_ok_and(|s| allowed(me.role, Action::ViewDiary, s))
            })
            .map(|p| (p.id, p.name))
            .collect();
        let peak = segs
            .iter()
            .flat_map(|s| s.per_minute.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        Ok(Ok(DiaryPage {
            nav: super::Nav::of(&me, &csrf),
            person_id: person.id.clone(),
            person_name: person.name.clone(),
            time_zone: tz.name().to_string(),
            zone_query: zone.map_or_else(String::new, |z| format!("?tz={}", z.name())),
            day,
            prev_day: day.pred_opt().unwrap_or(day),
            next_day: day.succ_opt().unwrap_or(day),
            people,
            day_delete: super::delete::may_delete(&me, subject, to, now, review_ms)
                .then_some((from, to)),
            delete_all: super::delete::may_delete_all(&me, subject),
            tracked: hm(totals.tracked_secs),
            active: hm(totals.active_secs),
            idle: hm(totals.idle_secs),
            segments: segs
                .iter()
                .map(|s| SegmentView {
                    from: clock(s.start_ms, tz),
                    to: clock(s.end_ms, tz),
                    activity: s.activity_percent(),
                    keys: s.keystrokes,
                    clicks: s.clicks,
                    minutes: s.seconds / 60,
                    bars: s.per_minute.iter().map(|n| n * 10 / peak).collect(),
                    captures: s.captures.clone(),
                    apps: s
                        .top_apps
                        .iter()
                        .map(|(a, n)| format!("{a} ({n} min)"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    title: s.top_title.clone(),
                    delete: super::delete::may_delete(&me, subject, s.end_ms, now, review_ms)
                        .then_some((s.start_ms, s.end_ms)),
                })
                .collect(),
        }))
    })
    .await??;
    Ok(with_cookie(render(&page), set))
}

enum Served {
    Whole(Vec<u8>),
    Stream(crate::store::objects::Chunks),
}

#[derive(Deserialize)]
pub struct ImageQuery {
    size: Option<String>,
}

/// An image: `?size=thumb` for the diary's thumbnail (falling back to the
/// image when there is none), else the full image, whose every fetch by
/// someone else is audited.
pub async fn image(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(capture): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ImageQuery>,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let thumb = q.size.as_deref() == Some("thumb");
    let found = blocking(&state, move |store| {
        let Some(c) = store.stored_capture(&capture)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if let Err(r) = check(store, &me, c.person.as_deref(), Action::ViewImage) {
            return Ok(Err(r));
        }
        if let (Some(owner), false) = (&c.person, thumb) {
            store.record_view(&me, owner, &format!("screenshot {capture}"))?;
        }
        Ok(Ok(c))
    })
    .await??;
    let full_mime = match found.format.as_str() {
        "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => "image/webp",
    };
    let key = found.key;
    let shown = key.clone();
    // A thumbnail is small and read whole; a full image is streamed.
    let read = blocking(&state, move |store| {
        if thumb {
            if let Some(small) = store.object(&crate::store::thumbs::thumb_key(&key))? {
                return Ok(Some(Served::Whole(small)));
            }
        }
        Ok(store.object_stream(&key)?.map(Served::Stream))
    })
    .await?;
    match read {
        Some(Served::Whole(bytes)) => {
            Ok(([(header::CONTENT_TYPE, "image/webp")], bytes).into_response())
        }
        Some(Served::Stream(mut rx)) => {
            let body = axum::body::Body::from_stream(futures_util::stream::poll_fn(move |cx| {
                rx.poll_recv(cx)
            }));
            Ok(([(header::CONTENT_TYPE, full_mime)], body).into_response())
        }
        None => {
            tracing::error!(key = %shown, "image missing from the object store");
            Err(Refusal::NotFound)
        }
    }
}

#[derive(Template)]
#[template(path = "views.html")]
struct ViewsPage {
    deletions: Vec<crate::store::Deletion>,
    nav: super::Nav,
    views: Vec<View>,
}

pub async fn my_views(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    let (csrf, _) = csrf_token(&headers);
    let page = blocking(&state, move |store| {
        if let Err(r) = check(store, &me, Some(&me.id), Action::ViewAudit) {
            return Ok(Err(r));
        }
        Ok(Ok(ViewsPage {
            views: store.views_of(&me.id)?,
            deletions: store.deletions_of(&me.id)?,
            nav: super::Nav::of(&me, &csrf),
        }))
    })
    .await??;
    Ok(render(&page))
}
