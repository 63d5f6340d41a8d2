//! `stint-server policy`: the policy agents receive, in layers
//! (organisation, team, person, and a project's over them while tracking
//! on it), shown, changed, or in effect for a person.

use anyhow::Context;
use stint_server::store::Store;

use super::{person_id, print_json};

#[derive(clap::Args)]
pub struct Policy {
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// A team's layer instead of the organisation's.
    #[arg(long, conflicts_with = "person")]
    team: Option<String>,
    /// A person's layer (by email) instead of the organisation's; with
    /// --effective, the project whose layer to lay over it.
    #[arg(long, conflicts_with = "team")]
    person: Option<String>,
    /// A project's layer: laid over the person's while they track on it.
    #[arg(long, conflicts_with_all = ["team", "person"])]
    project: Option<String>,
    /// Print the person's effective policy and where each value comes from.
    #[arg(long, value_name = "EMAIL", conflicts_with_all = ["set", "team", "person"])]
    effective: Option<String>,
    /// With --effective: while tracking on this project.
    #[arg(long = "on", value_name = "PROJECT", requires = "effective")]
    on: Option<String>,
}

pub fn run(
    store: &Store,
    Policy {
        set,
        team,
        person,
        project,
        effective,
        on,
    }: Policy,
) -> anyhow::Result<()> {
    use stint_server::store::Scope;
    if let Some(email) = effective {
        let id = person_id(store, &email)?;
        let on = on.map(|p| store.project_named(&p)).transpose()?;
        let e = store.effective_policy_on(
            Some(&id),
            on.as_ref().map(|p| (p.id.as_str(), p.name.as_str())),
        )?;
        let sources: serde_json::Map<String, serde_json::Value> = e
            .sources
            .into_iter()
            .map(|(k, s)| (k.to_string(), s.into()))
            .collect();
        print_json(&serde_json::json!({ "policy": e.policy, "sources": sources }));
        return Ok(());
    }
    let scope = match (team, person, project) {
        (_, _, Some(name)) => Scope::Project(store.project_named(&name)?.id),
        (Some(name), _, _) => Scope::Team(
            store
                .team_by_name(&name)?
                .with_context(|| format!("--team {name:?}: no such team"))?,
        ),
        (_, Some(email), _) => Scope::Person(person_id(store, &email)?),
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
