//! `stint switch`, `stint projects`, `stint idle`, `stint private` and
//! `stint start --project`: told to the running daemon, or, with none running, made in
//! the queue the daemon reads when it starts.

use anyhow::{anyhow, Result};
use stint::config::Config;
use stint::exit::Exit;
use stint::ipc::{IpcError, Request, Response};
use stint::queue::Store;
use stint::status::{hours_minutes, Report};
use stint::work::Refused;
use stint_proto::{Decision, Work};

use super::open_reader;

/// Sends `req` to the daemon; with none running, does `offline` in the
/// queue instead. Either way, returns the status after it.
async fn ask<T: Send + 'static>(
    cfg: &Config,
    req: Request,
    offline: impl FnOnce(&mut Store) -> Result<Result<T, Refused>, stint::queue::QueueError>
        + Send
        + 'static,
) -> Result<Report> {
    match stint::ipc::request(cfg, &req).await {
        Ok(Response::Status(r)) => Ok(*r),
        Ok(other) => Err(anyhow!("the daemon answered {req:?} with {other:?}")),
        Err(IpcError::NotRunning(_)) => {
            let base = cfg.clone();
            open_reader(cfg)?
                .call(move |s| {
                    Ok(match offline(s)? {
                        Ok(_) => Ok(stint::status::gather(s, &base)?),
                        Err(refused) => Err(refused),
                    })
                })
                .await?
                .map_err(anyhow::Error::new)
        }
        Err(e) => Err(e.into()),
    }
}

/// The status without changing anything.
async fn report(cfg: &Config) -> Result<Report> {
    ask(cfg, Request::Status, |_| Ok(Ok(()))).await
}

pub(crate) async fn switch(
    cfg: &Config,
    project: Option<String>,
    task: Option<String>,
) -> Result<Exit> {
    let req = Request::Switch {
        project: project.clone(),
        task: task.clone(),
    };
    let initial = cfg.tracking.initial;
    let r = ask(cfg, req, move |s| {
        let tracking = s.tracking()?.unwrap_or(initial);
        stint::work::switch(s, tracking, project.as_deref(), task.as_deref())
    })
    .await?;
    println!("project: {}", r.work.label);
    Ok(Exit::Ok)
}

pub(crate) async fn projects(cfg: &Config, json: bool) -> Result<Exit> {
    let w = report(cfg).await?.work;
    if json {
        println!("{}", serde_json::to_string_pretty(&w)?);
        return Ok(Exit::Ok);
    }
    if w.projects.projects.is_empty() {
        println!("no projects yet: the server sends the list with its next heartbeat");
    }
    let mark = |work: &Work| if *work == w.current { "*" } else { " " };
    for p in &w.projects.projects {
        let work = Work {
            project_id: Some(p.id.clone()),
            task_id: None,
        };
        let client = p
            .client
            .as_deref()
            .map_or(String::new(), |c| format!(" ({c})"));
        println!(
            "{} {:<40} {:>8}  id {}",
            mark(&work),
            format!("{}{client}", p.name),
            hours_minutes(w.today_on(Some(&p.id), None)),
            p.id
        );
        for t in &p.tasks {
            let work = Work {
                project_id: Some(p.id.clone()),
                task_id: Some(t.id.clone()),
            };
            println!(
                "{}   {:<38} {:>8}  id {}",
                mark(&work),
                t.name,
                hours_minutes(w.today_on(Some(&p.id), Some(&t.id))),
                t.id
            );
        }
    }
    println!(
        "{} {:<40} {:>8}",
        mark(&Work::default()),
        "No project (unassigned)",
        hours_minutes(w.today_on(None, None))
    );
    if w.required {
        println!("your organisation requires a project for tracked time");
    }
    Ok(Exit::Ok)
}

type Decide = (Option<String>, Decision, Option<String>, Option<String>);

/// Lists the spans waiting, or decides with `decide`.
pub(crate) async fn idle(cfg: &Config, json: bool, decide: Option<Decide>) -> Result<Exit> {
    let r = match decide {
        None => report(cfg).await?,
        Some((id, decision, project, task)) => {
            let req = Request::DecideIdle {
                id: id.clone(),
                decision,
                project: project.clone(),
                task: task.clone(),
            };
            let now = stint_common::time::now_ms();
            let r = ask(cfg, req, move |s| {
                stint::work::decide(
                    s,
                    id.as_deref(),
                    decision,
                    project.as_deref(),
                    task.as_deref(),
                    now,
                )
            })
            .await?;
            println!("decided: {}", decision.as_str());
            r
        }
    };
    let w = &r.work;
    if json {
        println!("{}", serde_json::to_string_pretty(&w.pending_idle)?);
        return Ok(Exit::Ok);
    }
    if w.pending_idle.is_empty() {
        println!("no idle time waits for a decision");
    }
    for s in &w.pending_idle {
        println!(
            "Away {}: discard, keep or keep as a project?  id {} (on {})",
            s.span_text(),
            s.id,
            w.projects.label(&s.work)
        );
    }
    if !w.pending_idle.is_empty() {
        println!(
            "decide with `stint idle discard [ID]`, `stint idle keep [ID] [--project NAME]`; \
             unanswered for 24 hours, the policy's default applies"
        );
    }
    Ok(Exit::Ok)
}

/// Begins, moves or ends private time and says what is in force.
pub(crate) async fn private(cfg: &Config, length: stint::private::Length) -> Result<Exit> {
    let initial = cfg.tracking.initial;
    let now = stint_common::time::now_ms();
    let r = ask(cfg, Request::Private { length }, move |s| {
        stint::private::ask_stored(s, initial, length, now)
    })
    .await?;
    let p = &r.private;
    match p.text() {
        Some(text) => println!("{text}: nothing is recorded"),
        None => println!("no private time: recording as usual"),
    }
    if let Some(max) = p.max_mins_per_day {
        println!(
            "private time today: {} of {max} minutes",
            p.used_today_secs / 60
        );
    }
    Ok(Exit::Ok)
}
