//! `stint-server policy`, `retention` and `delete`: what agents follow, how
//! long data is kept, and deleting a person's records for good.

use anyhow::{bail, Context};
use stint_server::store::Store;

use crate::{people_cli, print_json};

pub fn policy(
    store: &Store,
    set: Vec<String>,
    team: Option<String>,
    person: Option<String>,
    effective: Option<String>,
) -> anyhow::Result<()> {
    use stint_server::store::Scope;
    if let Some(email) = effective {
        let id = people_cli::person_id(store, &email)?;
        let e = store.effective_policy(Some(&id))?;
        let sources: serde_json::Map<String, serde_json::Value> = e
            .sources
            .into_iter()
            .map(|(k, s)| (k.to_string(), s.into()))
            .collect();
        print_json(&serde_json::json!({ "policy": e.policy, "sources": sources }));
        return Ok(());
    }
    let scope = match (team, person) {
        (Some(name), _) => Scope::Team(
            store
                .team_by_name(&name)?
                .with_context(|| format!("--team {name:?}: no such team"))?,
        ),
        (_, Some(email)) => Scope::Person(people_cli::person_id(store, &email)?),
        _ => Scope::Org,
    };
    let mut policy = store.scoped_policy(&scope)?;
    for kv in &set {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--set {kv:?}: expected KEY=VALUE (KEY= unsets)"))?;
        policy
            .set(k, v)
            .map_err(|e| anyhow::anyhow!("--set {kv:?}: {e}"))?;
    }
    if !set.is_empty() {
        store.set_scoped_policy(&scope, &policy)?;
    }
    print_json(&policy);
    Ok(())
}

pub fn delete(
    store: &Store,
    email: &str,
    day: Option<String>,
    all: bool,
    reason: &str,
) -> anyhow::Result<()> {
    let person = store
        .person_by_email(email)?
        .with_context(|| format!("no person with the email {email:?}"))?;
    let by = "the server's admin (CLI)";
    let gone = match (day, all) {
        (_, true) => store.delete_all(&person.id, by, reason)?,
        (Some(day), _) => {
            let date: chrono::NaiveDate = day
                .parse()
                .with_context(|| format!("--day {day:?}: expected YYYY-MM-DD"))?;
            let tz = person.tz();
            let (from, to) = stint_server::web::day_bounds(date, tz);
            store.delete_range(&person.id, from, to, by, reason)?
        }
        (None, false) => bail!("say --day YYYY-MM-DD or --all"),
    };
    println!(
        "deleted {} minutes and {} captures",
        gone.minutes, gone.captures
    );
    Ok(())
}

pub fn retention(store: &Store, set: Vec<String>) -> anyhow::Result<()> {
    let mut r = store.retention()?;
    for kv in &set {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--set {kv:?}: expected KEY=DAYS (KEY= keeps for ever)"))?;
        let days = match v {
            "" => None,
            v => Some(v.parse::<u32>().ok().filter(|d| *d >= 1).with_context(|| {
                format!("--set {kv:?}: expected a whole number of days from 1, or nothing")
            })?),
        };
        match k {
            "screenshots_days" => r.screenshots_days = days,
            "webcam_days" => r.webcam_days = days,
            "minutes_days" => r.minutes_days = days,
            "audit_days" => r.audit_days = days,
            _ => bail!(
                "--set {kv:?}: keys are screenshots_days, webcam_days, minutes_days, audit_days"
            ),
        }
    }
    if !set.is_empty() {
        store.set_retention(&r)?;
    }
    print_json(&r);
    Ok(())
}
