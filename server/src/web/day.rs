//! A person's day: its totals, its segments with their thumbnails, counts,
//! applications and main window, the people the viewer may switch to, and
//! the deletions the viewer may make of it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::diary::{clock, day_bounds, day_of, offline_lines, segments};
use super::extract::Viewer;
use super::format::{hm, visible};
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use super::sheet::row;
use crate::access::{deletion, Action};
use crate::state::AppState;
use crate::store::worktime::by_work;
use crate::store::Whose;

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
    captures: Vec<(String, String, String, bool)>,
    apps: String,
    title: Option<String>,
    /// "Privacy rule Password manager (3 min)": what the device kept back.
    privacy: String,
    /// The device's rule that said no screenshot.
    shot_skipped: Option<String>,
    /// "Website / Design 7 min · Unassigned 3 min": what its time was for.
    work: String,
    /// [from, to) in epoch ms when the viewer may delete the segment.
    delete: Option<(i64, i64)>,
    /// [from, to) in epoch ms when the viewer may reassign the segment.
    reassign: Option<(i64, i64)>,
}

#[derive(Template)]
#[template(path = "diary.html")]
struct DiaryPage {
    nav: Nav,
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
    idle_kept: String,
    /// "Website 1:05 · Unassigned 0:10".
    projects: String,
    /// "10:42–11:17 kept as Website (decided by the policy)".
    idle_spans: Vec<String>,
    /// The viewer's screenshot keys as JSON, when the day holds sealed
    /// screenshots (empty otherwise): what the browser unlocks them with.
    e2e_keys: String,
    /// The day's private time, h:mm (nothing was recorded in it).
    private_total: String,
    /// Its spans, "10:00–10:30": shown to the person alone.
    private_spans: Vec<String>,
    segments: Vec<SegmentView>,
    /// The day's [from, to) when the viewer may delete all of it.
    day_delete: Option<(i64, i64)>,
    /// Whether the viewer may delete everything of this person.
    delete_all: bool,
    /// The projects and tasks the person tracks on: (value, label).
    choices: Vec<(String, String)>,
    /// For a lead's view: "only the time on Website, the project you lead".
    scope: Option<String>,
    /// The day's offline time: (state, line).
    offline: Vec<(&'static str, String)>,
    /// Approved offline time of the day, h:mm.
    offline_total: String,
    /// Whether the viewer may ask for offline time here (their own day,
    /// and the policy allows it).
    offline_form: bool,
    /// "In the period 2026-11-23 to 2026-11-29, approved; 3 minutes …".
    period: Option<String>,
    /// The period's first day, when the viewer may reopen it (an admin).
    reopen: Option<NaiveDate>,
}

#[derive(Deserialize)]
pub struct ZoneQuery {
    /// Show the day in this IANA zone instead of the person's own.
    tz: Option<String>,
}

pub async fn diary(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    Path((person_id, day)): Path<(String, String)>,
    Query(q): Query<ZoneQuery>,
) -> Result<Response, Refusal> {
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
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let person = store.person(&person_id)?.ok_or(Refusal::NotFound)?;
        let now = crate::store::now_ms();
        let day = asked.unwrap_or_else(|| day_of(now, person.tz()));
        let grant = store.grant(
            &me,
            Whose::Person(&person.id),
            Action::ViewDiary,
            &format!("diary of {day}"),
        )?;
        let policy = store.effective_policy(Some(&person.id))?;
        let review_ms = policy.review_ms();
        let tz = zone.unwrap_or_else(|| person.tz());
        let (from, to) = day_bounds(day, tz);
        let (minutes, captures) = store.day(&grant, from, to)?;
        let spans = store.day_idle(&grant, from, to)?;
        let private = store.day_private(&grant, from, to)?;
        let names = store.work_names()?;
        let segs = segments(&minutes, &captures, policy.segment_ms());
        let totals = row(&person, day, &minutes, &spans, &names);
        let (offline, offline_secs) =
            offline_lines(&store.offline_of(&grant, from, to)?, &names, tz, (from, to));
        let p = store.period_at(&person, day)?;
        let period = (p.state != crate::store::PeriodState::Open).then(|| {
            let late = if p.state.locked() {
                store
                    .late_minutes(&grant, (from, to), p.changed_ms)
                    .unwrap_or(0)
            } else {
                0
            };
            let mut text = format!("In {}, {}.", p.words(), p.state.name());
            if late > 0 {
                text.push_str(&format!(
                    " {late} minute(s) of this day arrived after it was {}: kept and shown here, not counted as approved.",
                    p.state.name()
                ));
            }
            text
        });
        let reopen = (p.state == crate::store::PeriodState::Approved
            && store
                .grant(&me, Whose::Person(&person.id), Action::ReopenPeriod, "")
                .is_ok())
        .then_some(p.first);
        let offline_form = me.id == person.id
            && !p.state.locked()
            && policy.policy.manual_time.unwrap_or_default() != stint_proto::ManualTime::Off;
        let work_of = |from_ms: i64, to_ms: i64| {
            let inside: Vec<_> = minutes
                .iter()
                .filter(|m| (from_ms..to_ms).contains(&m.start_ms))
                .cloned()
                .collect();
            by_work(&inside, &spans)
                .into_iter()
                .filter(|(_, t)| t.tracked > 0)
                .map(|(w, t)| format!("{} {} min", names.label(&w), t.tracked.div_ceil(60)))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        // As the store decides: an approved period changes for nobody, a
        // submitted one not for its person.
        let locked = p.state == crate::store::PeriodState::Approved
            || (p.state.locked() && me.id == person.id);
        let may_delete = |end_ms| !locked && grant.allows(deletion(end_ms, now, review_ms));
        // As the store decides: one's own only within the deletion window.
        let may_reassign = |end_ms| {
            !locked
                && grant.allows(Action::Reassign)
                && crate::store::window_allows(&me, &person, end_ms, now, review_ms)
        };
        // A lead moves time within the projects they lead only.
        let mut choices = Vec::new();
        if grant.opens(None) {
            choices.push((String::new(), "Unassigned".to_string()));
        }
        for p in store.work_list(&person)?.projects {
            if !grant.opens(Some(&p.id)) {
                continue;
            }
            choices.push((p.id.clone(), visible(&p.name)));
            for t in p.tasks {
                choices.push((
                    format!("{}/{}", p.id, t.id),
                    visible(&format!("{} / {}", p.name, t.name)),
                ));
            }
        }
        let people = store
            .reachable(&me, Action::ViewDiary)?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let peak = segs
            .iter()
            .flat_map(|s| s.per_minute.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let scope = grant.projects().map(|ps| {
            let on: Vec<String> = ps
                .iter()
                .map(|p| visible(&names.project(Some(p))))
                .collect();
            format!(
                "You see only the time on {}, the project you lead; {} sees that you looked.",
                on.join(", "),
                visible(&person.name)
            )
        });
        Ok(DiaryPage {
            period,
            reopen,
            offline,
            offline_total: hm(offline_secs),
            private_total: hm(private.secs()),
            e2e_keys: if captures.iter().any(|c| c.sealed) {
                serde_json::to_string(&store.keys_of(&me.id)?).unwrap_or_default()
            } else {
                String::new()
            },
            private_spans: match &private {
                crate::store::PrivateView::Spans(spans) => spans
                    .iter()
                    .map(|(a, b)| format!("{}–{}", clock(*a, tz), clock(*b, tz)))
                    .collect(),
                crate::store::PrivateView::Total(_) => Vec::new(),
            },
            offline_form,
            scope,
            nav,
            person_id: person.id.clone(),
            person_name: person.name.clone(),
            time_zone: tz.name().to_string(),
            zone_query: zone.map_or_else(String::new, |z| format!("?tz={}", z.name())),
            day,
            prev_day: day.pred_opt().unwrap_or(day),
            next_day: day.succ_opt().unwrap_or(day),
            people,
            // The whole day only if its oldest segment may still go.
            day_delete: segs
                .first()
                .is_some_and(|s| may_delete(s.end_ms))
                .then_some((from, to)),
            delete_all: grant.allows(Action::DeleteAll),
            choices,
            tracked: hm(totals.tracked_secs),
            active: hm(totals.active_secs),
            idle: hm(totals.idle_secs),
            idle_kept: hm(totals.idle_kept_secs),
            projects: totals.projects.replace("; ", " · "),
            idle_spans: spans
                .iter()
                .map(|s| {
                    let what = match s.decision {
                        stint_proto::Decision::Discard => "discarded".to_string(),
                        stint_proto::Decision::Keep if s.project_id.is_some() => format!(
                            "kept as {}",
                            names.label(&stint_proto::Work {
                                project_id: s.project_id.clone(),
                                task_id: s.task_id.clone(),
                            })
                        ),
                        stint_proto::Decision::Keep => "kept".to_string(),
                    };
                    let by = if s.auto {
                        " (decided by the policy)"
                    } else {
                        ""
                    };
                    format!(
                        "{}–{} {what}{by}",
                        clock(s.start_ms, tz),
                        clock(s.end_ms, tz)
                    )
                })
                .collect(),
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
                        .map(|(a, n)| format!("{} ({n} min)", visible(a)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    title: s.top_title.as_deref().map(visible),
                    privacy: s
                        .rules
                        .iter()
                        .map(|(r, n)| format!("Privacy rule {} ({n} min)", visible(r)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    shot_skipped: s.shot_skipped.as_deref().map(visible),
                    work: work_of(s.start_ms, s.end_ms),
                    delete: may_delete(s.end_ms).then_some((s.start_ms, s.end_ms)),
                    reassign: may_reassign(s.end_ms).then_some((s.start_ms, s.end_ms)),
                })
                .collect(),
        })
    })
    .await?;
    Ok(render(&page))
}
