//! Reading and deleting what arrived, from the host: `show` one device's
//! records, `export` everything, `capture-path` where an image is, `audit`
//! who looked at a person's data, `delete` a person's day or everything.

use anyhow::{bail, Context};
use stint_server::access::Action;
use stint_server::store::{Store, Whose};

use super::{print_json, valid_day};

#[derive(clap::Args)]
pub struct Show {
    device_id: String,
    /// YYYY-MM-DD (UTC).
    #[arg(long)]
    day: Option<String>,
}

#[derive(clap::Args)]
pub struct Export {
    /// JSON is the only format; the flag is accepted for clarity in scripts.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    day: Option<String>,
}

#[derive(clap::Args)]
pub struct CapturePath {
    id: String,
}

#[derive(clap::Args)]
pub struct Audit {
    /// Whose data (by email).
    email: String,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct Delete {
    email: String,
    /// YYYY-MM-DD in the person's time zone.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    day: Option<String>,
    #[arg(long)]
    all: bool,
    #[arg(long)]
    reason: String,
}

pub fn show(store: &Store, Show { device_id, day }: Show) -> anyhow::Result<()> {
    valid_day(&day)?;
    let found = store.export(Some(&device_id), day.as_deref())?;
    match found.into_iter().next() {
        Some(d) => print_json(&d),
        None => bail!("no device {device_id}"),
    }
    Ok(())
}

pub fn export(store: &Store, Export { json: _, day }: Export) -> anyhow::Result<()> {
    valid_day(&day)?;
    let devices = store.export(None, day.as_deref())?;
    print_json(&serde_json::json!({ "devices": devices }));
    Ok(())
}

pub fn capture_path(store: &Store, CapturePath { id }: CapturePath) -> anyhow::Result<()> {
    println!("{}", store.capture_location(&id)?);
    Ok(())
}

pub fn audit(store: &Store, Audit { email, json }: Audit) -> anyhow::Result<()> {
    let id = super::person_id(store, &email)?;
    let views = store.views_of(&store.host_grant(Whose::Person(&id), Action::ViewAudit))?;
    if json {
        print_json(&views);
        return Ok(());
    }
    println!("{:<26} {:<40} {:<9} WHAT", "AT", "WHO", "ROLE");
    for v in views {
        println!(
            "{:<26} {:<40} {:<9} {}",
            v.at,
            v.viewer,
            v.viewer_role.name(),
            v.what
        );
    }
    Ok(())
}

pub fn delete(store: &Store, args: Delete) -> anyhow::Result<()> {
    let email = &args.email;
    let person = store
        .person_by_email(email)?
        .with_context(|| format!("no person with the email {email:?}"))?;
    let whose = Whose::Person(&person.id);
    let gone = match (args.day, args.all) {
        (_, true) => store.delete_all(&store.host_grant(whose, Action::DeleteAll), &args.reason)?,
        (Some(day), _) => {
            let date: chrono::NaiveDate = day
                .parse()
                .with_context(|| format!("--day {day:?}: expected YYYY-MM-DD"))?;
            let (from, to) = stint_server::web::diary::day_bounds(date, person.tz());
            let grant = store.host_grant(whose, Action::DeleteOld);
            store.delete_range(&grant, from, to, &args.reason)?
        }
        (None, false) => bail!("say --day YYYY-MM-DD or --all"),
    };
    println!(
        "deleted {} minutes and {} captures",
        gone.minutes, gone.captures
    );
    Ok(())
}
