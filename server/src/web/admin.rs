//! Administration in the browser, for owners and admins: invite people (a
//! one-time link), archive them, reset passwords, bind and revoke devices,
//! create and revoke enrollment tokens. Every form is CSRF-checked and every
//! action asks `access::allowed` with the organisation as subject.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::{blocking, render, with_cookie};
use super::{csrf_ok, viewer, Nav, Refusal};
use crate::access::{allowed, Action, Role, Subject};
use crate::api::AppState;
use crate::store::{DeviceInfo, Person, Scope, Team, TokenInfo, TokenLimits};

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
}

fn may(me: &Person, action: Action) -> Result<(), Refusal> {
    if allowed(me.role, action, Subject::Org) {
        Ok(())
    } else {
        Err(Refusal::Denied)
    }
}

async fn page(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    me: Person,
    shown: Option<(String, String)>,
) -> Result<Response, Refusal> {
    let (csrf, set) = super::pages::csrf_token(headers);
    let nav = Nav::of(&me, &csrf);
    let page = blocking(state, move |store| {
        let people = store.people()?;
        let name_of = |id: &Option<String>| {
            id.as_ref()
                .and_then(|id| people.iter().find(|p| &p.id == id))
                .map_or_else(|| "nobody".to_string(), |p| p.email.clone())
        };
        let devices = store.devices()?.into_iter().map(|d| {
            let owner = name_of(&d.person_id);
            (d, owner)
        });
        let tokens = store.tokens()?.into_iter().map(|t| {
            let owner = name_of(&t.person_id);
            (t, owner)
        });
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
            devices: devices.collect(),
            tokens: tokens.collect(),
            people,
            shown,
        })
    })
    .await?;
    Ok(with_cookie(render(&page), set))
}

pub async fn admin(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let me = viewer(&state, &headers).await?;
    may(&me, Action::ManagePeople)?;
    page(&state, &headers, me, None).await
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

#[derive(Deserialize)]
pub struct AdminForm {
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires_days: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    team: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    manager: Option<String>,
    /// "organisation", "team:NAME" or "person:EMAIL".
    #[serde(default)]
    scope: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

/// Every admin action, by the last part of its path.
pub async fn act(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(action): Path<String>,
    Form(f): Form<AdminForm>,
) -> Result<Response, Refusal> {
    if !csrf_ok(&headers, &f.csrf) {
        return Err(Refusal::Forged);
    }
    let me = viewer(&state, &headers).await?;
    let needs = match action.as_str() {
        "invite" | "archive" | "restore" | "reset" => Action::ManagePeople,
        "bind" | "revoke-device" => Action::ManageDevices,
        "token" | "revoke-token" => Action::ManageTokens,
        "team-add" | "team-join" | "team-leave" => Action::ManagePeople,
        "policy" => Action::ManagePolicy,
        _ => return Err(Refusal::NotFound),
    };
    may(&me, needs)?;
    let origin = origin(&headers, &uri);
    let actor = me.clone();
    let shown = blocking(&state, move |store| {
        let bad = |why: String| Ok(Err(Refusal::BadRequest(why)));
        let person = |email: &str| store.person_by_email(email);
        Ok(Ok(match action.as_str() {
            "invite" => {
                let Some(role) = Role::parse(&f.role) else {
                    return bad(format!("{:?} is not a role", f.role));
                };
                // Only an owner makes owners.
                if role == Role::Owner && actor.role != Role::Owner {
                    return Ok(Err(Refusal::Denied));
                }
                let tz = if f.time_zone.is_empty() {
                    "UTC"
                } else {
                    f.time_zone.as_str()
                };
                if !f.email.contains('@')
                    || f.name.trim().is_empty()
                    || tz.parse::<chrono_tz::Tz>().is_err()
                {
                    return bad("an invitation needs an email, a name and an IANA time zone".into());
                }
                let p = match store.add_person(&f.email, f.name.trim(), tz, role) {
                    Ok(p) => p,
                    Err(e) => return bad(e.to_string()),
                };
                let link = store.password_link(&p.id, crate::store::INVITE_MS)?;
                Some((
                    format!("Invitation for {} (valid 72 hours)", p.email),
                    format!("{origin}/set-password/{link}"),
                ))
            }
            "archive" | "restore" | "reset" => {
                let Some(p) = person(&f.email)? else {
                    return bad(format!("no person {:?}", f.email));
                };
                if p.role == Role::Owner && actor.role != Role::Owner {
                    return Ok(Err(Refusal::Denied));
                }
                if action == "reset" {
                    let link = store.password_link(&p.id, crate::store::RESET_MS)?;
                    Some((
                        format!("Password link for {} (valid 24 hours)", p.email),
                        format!("{origin}/set-password/{link}"),
                    ))
                } else {
                    store.set_archived(&p.id, action == "archive")?;
                    None
                }
            }
            "bind" => {
                let Some(p) = person(&f.email)? else {
                    return bad(format!("no person {:?}", f.email));
                };
                store.bind_device(&f.device, &p.id)?;
                None
            }
            "revoke-device" => {
                store.revoke_device(&f.device)?;
                None
            }
            "token" => {
                let owner = match f.person.as_str() {
                    "" => None,
                    email => match person(email)? {
                        Some(p) => Some(p.id),
                        None => return bad(format!("no person {email:?}")),
                    },
                };
                let days: Option<i64> = match f.expires_days.trim() {
                    "" => None,
                    d => match d.parse::<i64>() {
                        Ok(d) if (1..=3650).contains(&d) => Some(d),
                        _ => return bad(format!("{d:?}: expires in 1 to 3650 days, or never")),
                    },
                };
                let limits = TokenLimits {
                    expires_ms: days.map(|d| crate::store::now_ms() + d * 86_400_000),
                    max_uses: None,
                };
                let token = store.create_token(&f.label, limits, owner.as_deref())?;
                Some(("New enrollment token (shown once)".into(), token))
            }
            "revoke-token" => {
                store.revoke_token_by_hash(&f.token)?;
                None
            }
            "team-add" => {
                let name = f.team.trim();
                if name.is_empty() || name.len() > 100 {
                    return bad("a team needs a name of up to 100 characters".into());
                }
                if store.team_by_name(name)?.is_some() {
                    return bad(format!("there is a team {name:?} already"));
                }
                store.add_team(name)?;
                None
            }
            "team-join" | "team-leave" => {
                let Some(team) = store.team_by_name(f.team.trim())? else {
                    return bad(format!("no team {:?}", f.team));
                };
                let Some(p) = person(&f.email)? else {
                    return bad(format!("no person {:?}", f.email));
                };
                if action == "team-join" {
                    store.join_team(&team, &p.id, f.manager.is_some())?;
                } else {
                    store.leave_team(&team, &p.id)?;
                }
                None
            }
            "policy" => {
                let scope = match f.scope.trim().split_once(':') {
                    None if f.scope.trim() == "organisation" => Scope::Org,
                    Some(("team", name)) => match store.team_by_name(name.trim())? {
                        Some(id) => Scope::Team(id),
                        None => return bad(format!("no team {name:?}")),
                    },
                    Some(("person", email)) => match person(email)? {
                        Some(p) => Scope::Person(p.id),
                        None => return bad(format!("no person {email:?}")),
                    },
                    _ => {
                        return bad(format!(
                            "{:?}: the layer is organisation, team:NAME or person:EMAIL",
                            f.scope
                        ))
                    }
                };
                let mut policy = store.scoped_policy(&scope)?;
                if let Err(why) = policy.set(f.key.trim(), f.value.trim()) {
                    return bad(why);
                }
                store.set_scoped_policy(&scope, &policy)?;
                None
            }
            _ => unreachable!("matched above"),
        }))
    })
    .await??;
    tracing::info!(admin = %me.id, action = ?needs, "admin action");
    match shown {
        Some(shown) => Ok((
            StatusCode::OK,
            page(&state, &headers, me, Some(shown)).await?,
        )
            .into_response()),
        None => Ok(Redirect::to("/admin").into_response()),
    }
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    csrf: &'a str,
    error: Option<&'a str>,
}

pub async fn set_password_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Refusal> {
    let valid = blocking(&state, move |s| s.link_person(&token))
        .await?
        .is_some();
    if !valid {
        return Err(Refusal::Gone);
    }
    let (csrf, set) = super::pages::csrf_token(&headers);
    Ok(with_cookie(
        render(&SetPasswordPage {
            csrf: &csrf,
            error: None,
        }),
        set,
    ))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    password: String,
    again: String,
}

pub async fn set_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, Refusal> {
    if !csrf_ok(&headers, &f.csrf) {
        return Err(Refusal::Forged);
    }
    let again = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            render(&SetPasswordPage {
                csrf: &f.csrf,
                error: Some(why),
            }),
        )
            .into_response()
    };
    if f.password != f.again {
        return Ok(again("The two passwords differ."));
    }
    if f.password.chars().count() < 10 {
        return Ok(again("A password needs at least 10 characters."));
    }
    let password = f.password.clone();
    let used = blocking(&state, move |s| s.use_link(&token, &password)).await?;
    if !used {
        return Err(Refusal::Gone);
    }
    Ok(Redirect::to("/login").into_response())
}
