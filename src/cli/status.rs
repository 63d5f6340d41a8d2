//! `stint status`: the daemon's report when one answers, else what the queue
//! says, as text or JSON.

use anyhow::{anyhow, Result};
use stint::config::Config;
use stint::exit::Exit;
use stint::ipc::{IpcError, Request};

use super::open_reader;

pub(crate) async fn status(cfg: &Config, json: bool) -> Result<Exit> {
    let report = match stint::ipc::request(cfg, &Request::Status).await {
        Ok(stint::ipc::Response::Status(report)) => *report,
        Ok(other) => {
            return Err(anyhow!(
                "the daemon answered a status request with {other:?}"
            ))
        }
        Err(IpcError::NotRunning(_)) => {
            let base = cfg.clone();
            open_reader(cfg)?
                .call(move |s| stint::status::gather(s, &base))
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let stint::status::Report {
        tracking,
        queue: stats,
        samplers,
        sync,
        policy,
        daemon,
        deletable,
        recovery,
        work,
        ..
    } = &report;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(Exit::Ok);
    }
    match &daemon {
        Some(d) => println!("daemon:    running (pid {}, {})", d.pid, d.endpoint),
        None => println!(
            "daemon:    not running (nothing listens at {})",
            stint::ipc::endpoint(cfg)
        ),
    }
    println!("tracking:  {}", if *tracking { "on" } else { "off" });
    let layer = serde_json::to_value(&work.project_policy).unwrap_or_default();
    let layer: Vec<String> = layer
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!(
        "project:   {}{}{}",
        work.label,
        if layer.is_empty() {
            String::new()
        } else {
            format!(" (the project's policy: {})", layer.join(", "))
        },
        if work.required {
            "; a project is required"
        } else {
            ""
        }
    );
    if let Some(a) = &work.allowance {
        println!(
            "limit:     {} left of {}{}",
            stint::status::hours_minutes(a.remaining_secs),
            a.what,
            if a.hard_stop {
                " (tracking stops there)"
            } else {
                ""
            }
        );
    }
    if let (Some(why), false) = (&work.stopped, tracking) {
        println!("stopped:   {why}");
    }
    if !work.pending_idle.is_empty() {
        println!(
            "idle:      {} span(s) wait for a decision (`stint idle`)",
            work.pending_idle.len()
        );
    }
    println!(
        "today:     {} tracked, {} active",
        stint::status::hours_minutes(stats.tracked_seconds_today),
        stint::status::hours_minutes(stats.active_seconds_today)
    );
    println!(
        "queue:     {} minutes, {} captures pending ({:.1} MB)",
        stats.pending_minutes,
        stats.pending_captures,
        stats.queue_bytes as f64 / 1e6
    );
    println!(
        "last:      {}",
        stats
            .last_minute
            .as_deref()
            .unwrap_or("nothing recorded yet")
    );
    for (name, state) in samplers {
        println!("{name:<10} {state}");
    }
    match (&cfg.server.url, sync) {
        (None, _) => println!("sync:      off (no [server] url; records stay on this machine)"),
        (Some(url), None) => println!("sync:      {url}: not started yet"),
        (Some(url), Some(s)) => {
            let state = serde_json::to_value(&s.state).unwrap_or_default();
            println!(
                "sync:      {} to {url}{}",
                state["state"].as_str().unwrap_or("?"),
                state["detail"]
                    .as_str()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
            println!(
                "uploaded:  {}",
                s.last_success.as_deref().unwrap_or("nothing yet")
            );
            if let Some(e) = &s.last_error {
                println!("error:     {e}");
            }
            if let Some(e) = &s.policy_error {
                println!("policy:    {e}");
            }
        }
    }
    println!("refused:   {} records (dead letters)", stats.dead_letters);
    if let Some(r) = recovery {
        println!("recovered: {r}");
    }
    let review = stint::policy::apply(cfg, policy).privacy.review_delay;
    if !review.is_zero() {
        println!(
            "review:    each segment waits {} after it ends before upload; until then `stint capture delete ID` removes it",
            stint::config::format_duration(review)
        );
    }
    if let Some(d) = deletable {
        println!(
            "deletable: {}-{} until {}: `stint capture delete {}`",
            stint::status::local_hm(&d.from),
            stint::status::local_hm(&d.to),
            stint::status::local_hm(&d.until),
            d.capture_id
        );
    }
    if let Some(text) = report.private.text() {
        println!("private:   {text}; nothing is recorded (`stint private off` ends it)");
    }
    for (i, rule) in report.rules.iter().enumerate() {
        let head = if i == 0 { "rules:" } else { "" };
        println!("{head:<10} {rule}");
    }
    let set = serde_json::to_string(&policy)?;
    if set != "{}" {
        println!("policy:    {set} (set by the server; overrides the config files)");
    }
    Ok(Exit::Ok)
}
