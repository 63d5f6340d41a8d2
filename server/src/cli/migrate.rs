//! `stint-server migrate`: copy this deployment into another (e.g.
//! PostgreSQL + S3), resumable, verified by counts and checksums.

use anyhow::Context;
use stint_server::store::{objects::Objects, Database, Store};

#[derive(clap::Args)]
pub struct Migrate {
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or sqlite:PATH).
    #[arg(long)]
    to_database: Database,
    /// s3://BUCKET[/PREFIX][?endpoint=URL&...] (or file:DIR).
    #[arg(long)]
    to_objects: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch: u64,
}

pub fn run(
    from: &Store,
    Migrate {
        to_database,
        to_objects,
        batch,
    }: Migrate,
) -> anyhow::Result<()> {
    let to = Store::connect(&to_database, Objects::open(&to_objects)?)
        .context("the migration's target")?;
    let checked = from.copy_into(&to, batch as usize, |table, rows| {
        eprintln!("migrate: {table}: {rows} rows copied");
    })?;
    println!(
        "{:<16} {:>10}  SHA-256 (identical on both sides)",
        "WHAT", "COUNT"
    );
    for c in checked {
        println!("{:<16} {:>10}  {}", c.what, c.count, c.sha256);
    }
    println!("migrated and verified");
    Ok(())
}
