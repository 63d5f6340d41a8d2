//! `stint-server user …`: people, their roles and passwords, from the
//! server host (the first owner is made here), and the one-time link that
//! lets anyone in whom login throttling has locked out.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;
use stint_server::access::Role;
use stint_server::store::Store;

use super::person_id;

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
    /// Print a one-time link (valid 24 hours) that sets the person's
    /// password and logs them in, whatever login throttling says: the way
    /// back in for an owner whose account a stream of wrong passwords keeps
    /// locked. Append it to the server's address.
    Link {
        email: String,
        /// The server's address, e.g. https://stint.example.com, to print
        /// the whole link.
        #[arg(long, env = "STINT_SERVER_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// List people.
    List {
        #[arg(long)]
        json: bool,
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

pub fn run(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            name,
            role,
            time_zone,
            password_stdin,
        } => {
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
        UserCommand::Link { email, public_url } => {
            let id = person_id(store, &email)?;
            let token = store.password_link(&id, stint_server::store::RESET_MS)?;
            let base = public_url.as_deref().unwrap_or("").trim_end_matches('/');
            println!("{base}/set-password/{token}");
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
