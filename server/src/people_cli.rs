//! `stint-server user …` and `team …`: people, their roles and passwords, and
//! teams, from the server host (the first owner is made here).

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::Subcommand;
use stint_server::access::Role;
use stint_server::store::Store;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a person who can log in to the web UI. The password is read from
    /// standard input (one line) with --password-stdin.
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// owner, admin, manager, member or auditor.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// IANA time zone of the person's diary days, e.g. Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a person's password from standard input (one line); ends their sessions.
    Password { email: String },
    /// List people.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum TeamCommand {
    /// Create a team.
    Add { name: String },
    /// Put a person in a team; --manager makes them one of its managers.
    Join {
        team: String,
        email: String,
        #[arg(long)]
        manager: bool,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text)
        .ok_or_else(|| format!("{text:?}: expected one of owner, admin, manager, member, auditor"))
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The person with `email`, or an error naming it.
pub fn person_id(store: &Store, email: &str) -> anyhow::Result<String> {
    match store.person_by_email(email)? {
        Some(p) => Ok(p.id),
        None => bail!("no person with the email {email:?} (add one with `stint-server user add`)"),
    }
}

pub fn user(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            name,
            role,
            time_zone,
            password_stdin,
        } => {
            if !email.contains('@') {
                bail!("{email:?} is not an email address");
            }
            if time_zone.parse::<chrono_tz::Tz>().is_err() {
                bail!(
                    "--time-zone {time_zone:?}: expected an IANA zone such as Europe/Berlin or UTC"
                );
            }
            let person = store.add_person(&email, &name, &time_zone, role)?;
            if password_stdin {
                store.set_password(&person.id, &read_password()?)?;
                println!("added {} ({}) with a password", person.email, role.name());
            } else {
                println!(
                    "added {} ({}); set a password with `stint-server user password {}`",
                    person.email,
                    role.name(),
                    person.email
                );
            }
        }
        UserCommand::Password { email } => {
            let id = person_id(store, &email)?;
            store.set_password(&id, &read_password()?)?;
            println!("password set; every session of {email} has ended");
        }
        UserCommand::List { json } => {
            let people = store.people()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&people)?);
            } else {
                println!(
                    "{:<32} {:<24} {:<9} {:<20} STATE",
                    "EMAIL", "NAME", "ROLE", "TIME ZONE"
                );
                for p in people {
                    println!(
                        "{:<32} {:<24} {:<9} {:<20} {}",
                        p.email,
                        p.name,
                        p.role.name(),
                        p.time_zone,
                        if p.archived { "archived" } else { "active" }
                    );
                }
            }
        }
    }
    Ok(())
}

pub fn team(store: &Store, command: TeamCommand) -> anyhow::Result<()> {
    match command {
        TeamCommand::Add { name } => println!("{}", store.add_team(&name)?),
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
