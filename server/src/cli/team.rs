//! `stint-server team …`: teams and their managers.

use anyhow::bail;
use clap::Subcommand;
use stint_server::store::Store;

use super::person_id;

#[derive(Subcommand)]
pub enum TeamCommand {
    /// Create a team.
    Add { name: String },
    /// List teams with their managers and members.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Put a person in a team; --manager makes them one of its managers.
    Join {
        team: String,
        email: String,
        #[arg(long)]
        manager: bool,
    },
}

pub fn run(store: &Store, command: TeamCommand) -> anyhow::Result<()> {
    match command {
        TeamCommand::Add { name } => println!("{}", store.add_team(&name)?),
        TeamCommand::List { json } => {
            let teams = store.teams()?;
            if json {
                super::print_json(&teams);
            }
            for t in teams.iter().filter(|_| !json) {
                let names = |manager: bool| {
                    let who: Vec<&str> = t
                        .people
                        .iter()
                        .filter(|p| p.1 == manager)
                        .map(|p| p.0.as_str())
                        .collect();
                    who.join(", ")
                };
                println!(
                    "{}: managers {}; members {}",
                    t.name,
                    names(true),
                    names(false)
                );
            }
        }
        TeamCommand::Join {
            team,
            email,
            manager,
        } => {
            let Some(team_id) = store.team_by_name(&team)? else {
                bail!("no team {team:?} (add one with `stint-server team add`)");
            };
            store.join_team(&team_id, &person_id(store, &email)?, manager)?;
            println!(
                "{email} joined {team}{}",
                if manager { " as a manager" } else { "" }
            );
        }
    }
    Ok(())
}
