//! Administration in the browser, for owners and admins: invite people (a
//! one-time link), archive them, reset passwords, teams, policy, bind and
//! revoke devices, create and revoke enrollment tokens. Every form is a
//! `Checked` one and every action an `AdminAction`, whose permission the
//! store grants or refuses.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::admin_action::{scope, AdminAction, AdminForm};
use super::extract::{Signed, Viewer};
use super::format::visible;
use super::refusal::{blocking, Refusal};
use super::render::{render, Nav};
use crate::access::Action;
use crate::state::AppState;
use crate::store::{DeviceInfo, Person, Store, Team, TokenInfo, TokenLimits, Whose};

/// A policy key, its effective value and the layer that set it.
type PolicyLine = (&'static str, String, String);

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    people: Vec<Person>,
    devices: Vec<(DeviceInfo, String)>,
    tokens: Vec<(TokenInfo, String)>,
    /// Per person: each policy key set for them, its value and its layer.
    policies: Vec<(String, Vec<PolicyLine>)>,
    teams: Vec<Team>,
    /// Every policy key's name, for the policy form.
    keys: Vec<&'static str>,
    /// Shown once: a new link or token, with what it is for.
    shown: Option<(String, String)>,
    hooks: Vec<crate::store::Hook>,
    /// The newest webhook deliveries and how each went.
    deliveries: Vec<crate::store::Delivery>,
}

/// The page's data; the caller holds the grant that lets it be read.
fn page_data(
    store: &Store,
    nav: Nav,
    shown: Option<(String, String)>,
) -> Result<AdminPage, Refusal> {
    let people = store.people()?;
    let name_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| people.iter().find(|p| &p.id == id))
            .map_or_else(|| "nobody".to_string(), |p| p.email.clone())
    };
    // What agents report about themselves is anyone's text.
    let devices = store
        .devices()?
        .into_iter()
        .map(|d| {
            let owner = name_of(&d.person_id);
            let d = DeviceInfo {
                hostname: visible(&d.hostname),
                os_user: visible(&d.os_user),
                os_type: visible(&d.os_type),
                os_version: visible(&d.os_version),
                agent_version: visible(&d.agent_version),
                ..d
            };
            (d, owner)
        })
        .collect();
    let tokens = store
        .tokens()?
        .into_iter()
        .map(|t| {
            let owner = name_of(&t.person_id);
            (t, owner)
        })
        .collect();
    let mut policies = Vec::new();
    for p in people.iter().filter(|p| !p.archived) {
        let e = store.effective_policy(Some(&p.id))?;
        let wire = serde_json::to_value(&e.policy).unwrap_or_default();
        let keys = e
            .sources
            .into_iter()
            .map(|(k, from)| {
                (
                    k,
                    wire.get(k).map_or_else(String::new, |v| v.to_string()),
                    from,
                )
            })
            .collect();
        policies.push((p.email.clone(), keys));
    }
    Ok(AdminPage {
        nav,
        policies,
        teams: store.teams()?,
        keys: stint_proto::policy_keys().iter().map(|k| k.name).collect(),
        devices,
        tokens,
        people,
        shown,
        hooks: store.webhooks()?,
        deliveries: store.deliveries(30)?,
    })
}

pub async fn admin(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
) -> Result<Response, Refusal> {
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        store.grant(&me, Whose::Org, Action::ManagePeople, "")?;
        page_data(store, nav, None)
    })
    .await?;
    Ok(render(&page))
}

/// The server's own address as the browser used it, for links to hand out:
/// the Host header (HTTP/1.1) or the request's authority (HTTP/2).
fn origin(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("https://{host}")
}

/// The person with `email`, or a request to fix it.
fn person(store: &Store, email: &str) -> Result<Person, Refusal> {
    store
        .person_by_email(email)?
        .ok_or_else(|| Refusal::BadRequest(format!("no person {email:?}")))
}

/// The team named `name`, or a request to fix it.
fn team_id(store: &Store, name: &str) -> Result<String, Refusal> {
    store
        .team_by_name(name)?
        .ok_or_else(|| Refusal::BadRequest(format!("no team {name:?}")))
}

/// Does what `action` asks; a link or token to show once, if it makes one.
fn perform(
    store: &Store,
    action: AdminAction,
    origin: &str,
) -> Result<Option<(String, String)>, Refusal> {
    Ok(match action {
        AdminAction::Invite {
            email,
            name,
            role,
            time_zone,
        } => {
            let p = store.add_person(&email, &name, &time_zone, role)?;
            let link = store.password_link(&p.id, crate::store::INVITE_MS)?;
            Some((
                format!("Invitation for {} (valid 72 hours)", p.email),
                format!("{origin}/set-password/{link}"),
            ))
        }
        AdminAction::Reset { email } => {
            let p = person(store, &email)?;
            let link = store.password_link(&p.id, crate::store::RESET_MS)?;
            Some((
                format!("Password link for {} (valid 24 hours)", p.email),
                format!("{origin}/set-password/{link}"),
            ))
        }
        AdminAction::Archive { email } => {
            store.set_archived(&person(store, &email)?.id, true)?;
            None
        }
        AdminAction::Restore { email } => {
            store.set_archived(&person(store, &email)?.id, false)?;
            None
        }
        AdminAction::Bind { device, email } => {
            store.bind_device(&device, &person(store, &email)?.id)?;
            None
        }
        AdminAction::RevokeDevice { device } => {
            store.revoke_device(&device)?;
            None
        }
        AdminAction::Token {
            label,
            person: owner,
            expires_days,
        } => {
            let owner = match owner.trim() {
                "" => None,
                email => Some(person(store, email)?.id),
            };
            let limits = TokenLimits {
                expires_ms: expires_days.map(|d| crate::store::now_ms() + d * 86_400_000),
                max_uses: None,
            };
            let token = store.create_token(&label, limits, owner.as_deref())?;
            Some(("New enrollment token (shown once)".into(), token))
        }
        AdminAction::RevokeToken { hash_prefix } => {
            store.revoke_token_by_hash(&hash_prefix)?;
            None
        }
        AdminAction::TeamAdd { team } => {
            store.add_team(&team)?;
            None
        }
        AdminAction::TeamJoin {
            team,
            email,
            manager,
        } => {
            let t = team_id(store, &team)?;
            store.join_team(&t, &person(store, &email)?.id, manager)?;
            None
        }
        AdminAction::TeamLeave { team, email } => {
            let t = team_id(store, &team)?;
            store.leave_team(&t, &person(store, &email)?.id)?;
            None
        }
        AdminAction::Policy {
            scope: layer,
            key,
            value,
        } => {
            let layer = scope(store, &layer)?;
            let mut policy = store.scoped_policy(&layer)?;
            policy
                .set(key.trim(), value.trim())
                .map_err(Refusal::BadRequest)?;
            store.set_scoped_policy(&layer, &policy)?;
            None
        }
    })
}

/// Every admin action, by the last part of its path.
pub async fn act(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(name): Path<String>,
    Signed { viewer, form }: Signed<AdminForm>,
) -> Result<Response, Refusal> {
    let action = AdminAction::parse(&name, form)?;
    let origin = origin(&headers, &uri);
    let nav = viewer.nav();
    let me = viewer.person;
    let page = blocking(&state, move |store| {
        let target = match action.account() {
            Some(email) => store.person_by_email(email)?,
            None => None,
        };
        let needs = action.needs(target.as_ref());
        store.grant(&me, Whose::Org, needs, "")?;
        let shown = perform(store, action, &origin)?;
        tracing::info!(admin = %me.id, action = ?needs, "admin action");
        // A link or token is shown once, on the page itself.
        shown.map(|s| page_data(store, nav, Some(s))).transpose()
    })
    .await?;
    Ok(match page {
        Some(page) => (StatusCode::OK, render(&page)).into_response(),
        None => Redirect::to("/admin").into_response(),
    })
}
