//! The web UI: server-rendered pages for people (login, the work diary,
//! reports, who looked at my data, administration) and the images behind
//! them, on the same listener as the agents' API. This file is the routes;
//! the handlers are in the modules below it and share only the leaf modules
//! `extract`, `refusal`, `render`, `format` and `diary`, never each other.
//!
//! Who is asking comes from the `Viewer` extractor, forms through
//! `Checked`, and every decision about someone's data from `Store::grant`,
//! which records a look at another person's data in the same call.

mod admin;
mod admin_action;
mod api_tokens;
mod archive;
mod assets;
mod day;
mod delete;
pub mod diary;
mod extract;
mod format;
mod images;
mod keys;
mod offline;
mod oidc;
mod password;
mod periods;
mod projects;
mod reassign;
mod refusal;
mod render;
mod reports;
mod session;
mod sheet;
mod shot;
mod tar;
mod views;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The web routes, to merge with the agents' API on one listener. Every one
/// appears in the route walk of tests/it/web.rs, which a test keeps so.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(session::home))
        .route("/login", get(session::login_form).post(session::login))
        .route("/login/oidc", get(oidc::start))
        .route("/login/oidc/callback", get(oidc::callback))
        .route("/logout", post(session::logout))
        .route("/diary/{person}/{day}", get(day::diary))
        .route("/diary/{person}/{day}/delete", post(delete::delete_segment))
        .route("/diary/{person}/{day}/reassign", post(reassign::reassign))
        .route("/diary/{person}/{day}/offline", post(offline::request))
        .route("/me/offline", get(offline::mine))
        .route("/inbox", get(offline::inbox))
        .route("/inbox/decide", post(offline::decide))
        .route("/periods", get(periods::mine))
        .route("/me/tokens", get(api_tokens::list).post(api_tokens::make))
        .route("/me/tokens/revoke", post(api_tokens::revoke))
        .route("/me/keys", get(keys::mine).post(keys::add))
        .route("/periods/submit", post(periods::submit))
        .route("/periods/decide", post(periods::decide))
        .route("/reports/payroll", get(reports::payroll))
        .route("/people/{person}/delete-all", post(delete::delete_all))
        .route("/images/{capture}", get(images::image))
        .route("/shots/{capture}", get(shot::shot))
        .route("/me/views", get(views::my_views))
        .route("/export/{person}", get(archive::download))
        .route("/reports/timesheet", get(reports::timesheet))
        .route("/reports/projects", get(reports::projects))
        .route("/projects", get(projects::list))
        .route("/projects/add", post(projects::add))
        .route("/projects/{id}/{change}", post(projects::change))
        .route("/reports/apps", get(reports::apps))
        .route("/team", get(reports::team))
        .route("/admin", get(admin::admin))
        .route("/admin/{action}", post(admin::act))
        .route(
            "/set-password/{token}",
            get(password::form).post(password::set),
        )
        .route("/static/stint.css", get(assets::stylesheet))
        .route("/static/stint.js", get(assets::script))
        .route("/static/e2e.js", get(assets::e2e_script))
        .layer(axum::middleware::from_fn(assets::secure_headers))
        .with_state(state)
}
