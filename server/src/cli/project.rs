//! `stint-server project …`: projects, their tasks and members.

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use clap::Subcommand;
use stint_server::access::ProjectRole;
use stint_server::store::Store;

use super::person_id;

#[derive(Subcommand)]
pub enum ProjectCommand {
    /// Create a project; prints its id.
    Add {
        name: String,
        /// The client it is for (created if new).
        #[arg(long)]
        client: Option<String>,
        /// First day it is offered to agents (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        starts: Option<NaiveDate>,
        /// Last day it is offered to agents (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        ends: Option<NaiveDate>,
    },
    /// List projects with their tasks and members.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Archive a project: no longer offered, its time still reported.
    Archive { project: String },
    /// Offer an archived project again.
    Restore { project: String },
    /// Add a task to a project; prints its id.
    Task { project: String, name: String },
    /// Set a project's budget in hours (in all, or --monthly), warned at
    /// --warn percent, and with --hard-stop stopping tracking when used up.
    Budget {
        project: String,
        #[arg(long, required_unless_present = "none", conflicts_with = "none", value_parser = parse_hours)]
        hours: Option<u64>,
        #[arg(long)]
        monthly: bool,
        #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
        warn: u8,
        #[arg(long)]
        hard_stop: bool,
        /// Remove the budget.
        #[arg(long)]
        none: bool,
    },
    /// Limit a member's hours on a project per week (weeks from Monday in
    /// their time zone); tracking on it stops at the limit.
    Limit {
        project: String,
        email: String,
        #[arg(long, required_unless_present = "none", conflicts_with = "none", value_parser = parse_hours)]
        weekly_hours: Option<u64>,
        #[arg(long)]
        none: bool,
    },
    /// Make a person a lead, member or viewer of a project, or "none".
    Member {
        project: String,
        email: String,
        #[arg(long, value_parser = ["lead", "member", "viewer", "none"])]
        role: String,
    },
}

/// Hours, whole or decimal ("40", "0.5"), as seconds.
fn parse_hours(text: &str) -> Result<u64, String> {
    match text.parse::<f64>() {
        Ok(h) if h.is_finite() && (0.0..=100_000.0).contains(&h) => Ok((h * 3600.0).round() as u64),
        _ => Err(format!(
            "{text:?}: expected hours from 0 to 100000, e.g. 40 or 0.5"
        )),
    }
}

#[derive(serde::Serialize)]
struct Listed {
    id: String,
    name: String,
    client: Option<String>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    archived: bool,
    tasks: Vec<(String, String, bool)>,
    members: Vec<(String, &'static str)>,
}

pub fn run(store: &Store, command: ProjectCommand) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Add {
            name,
            client,
            starts,
            ends,
        } => println!(
            "{}",
            store.add_project(&name, client.as_deref(), starts, ends)?
        ),
        ProjectCommand::List { json } => {
            let listed: Vec<Listed> = store
                .projects()?
                .into_iter()
                .map(|p| Listed {
                    id: p.id,
                    name: p.name,
                    client: p.client,
                    starts_on: p.starts_on,
                    ends_on: p.ends_on,
                    archived: p.archived,
                    tasks: p
                        .tasks
                        .into_iter()
                        .map(|t| (t.id, t.name, t.archived))
                        .collect(),
                    members: p
                        .members
                        .into_iter()
                        .map(|m| (m.email, m.role.name()))
                        .collect(),
                })
                .collect();
            if json {
                super::print_json(&listed);
                return Ok(());
            }
            for p in listed {
                let members: Vec<String> = p
                    .members
                    .iter()
                    .map(|(e, r)| format!("{e} ({r})"))
                    .collect();
                let tasks: Vec<&str> = p.tasks.iter().map(|t| t.1.as_str()).collect();
                println!(
                    "{}{}{}: tasks {}; members {}",
                    p.name,
                    p.client.map_or(String::new(), |c| format!(" for {c}")),
                    if p.archived { " (archived)" } else { "" },
                    tasks.join(", "),
                    members.join(", ")
                );
            }
        }
        ProjectCommand::Archive { project } => {
            store.set_project_archived(&store.project_named(&project)?.id, true)?;
            println!("archived {project}");
        }
        ProjectCommand::Restore { project } => {
            store.set_project_archived(&store.project_named(&project)?.id, false)?;
            println!("restored {project}");
        }
        ProjectCommand::Task { project, name } => {
            let p = store.project_named(&project)?;
            println!("{}", store.add_task(&p.id, &name)?);
        }
        ProjectCommand::Budget {
            project,
            hours,
            monthly,
            warn,
            hard_stop,
            none: _,
        } => {
            let p = store.project_named(&project)?;
            let budget = hours.map(|secs| stint_server::store::Budget {
                secs,
                monthly,
                warn_percent: warn,
                hard_stop,
            });
            store.set_budget(&p.id, budget)?;
            match budget {
                Some(b) => println!("{}: {}", p.name, b.describe()),
                None => println!("{}: no budget", p.name),
            }
        }
        ProjectCommand::Limit {
            project,
            email,
            weekly_hours,
            none: _,
        } => {
            let p = store.project_named(&project)?;
            let person = person_id(store, &email)?;
            store.set_weekly_limit(&p.id, &person, weekly_hours)?;
            match weekly_hours {
                Some(s) => println!(
                    "{email}: at most {} a week on {}",
                    stint_server::store::hours(s),
                    p.name
                ),
                None => println!("{email}: no weekly limit on {}", p.name),
            }
        }
        ProjectCommand::Member {
            project,
            email,
            role,
        } => {
            let p = store.project_named(&project)?;
            let role = match role.as_str() {
                "none" => None,
                r => Some(
                    ProjectRole::parse(r)
                        .ok_or_else(|| anyhow!("{r:?} is not lead, member, viewer or none"))?,
                ),
            };
            let person = person_id(store, &email)?;
            store
                .set_member(&p.id, &person, role)
                .with_context(|| format!("project {}", p.name))?;
            println!(
                "{email}: {} of {}",
                role.map_or("no longer a member", ProjectRole::name),
                p.name
            );
        }
    }
    Ok(())
}
