//! `stint-server`: serve the agents' API and the web UI over HTTPS, and the
//! host's commands that read and manage what it stores. This file parses
//! and dispatches; each command lives in a module of its own under `cli/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stint_server::store::Database;

mod cli;

#[derive(Parser)]
#[command(
    name = "stint-server",
    version,
    about = "Ingest server and web UI for stint agents"
)]
struct Cli {
    /// Where records, images, certificates and keys live
    /// (default: stint-server-data).
    #[arg(long, global = true, env = "STINT_SERVER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML file with data_dir, database and objects; the command line and
    /// the environment override it.
    #[arg(long, global = true, env = "STINT_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Records: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
    /// (?sslmode=disable|prefer|require|verify-ca|verify-full&sslrootcert=CA.pem)
    /// (default: sqlite:DATA_DIR/server.db).
    #[arg(long, global = true, env = "STINT_SERVER_DATABASE")]
    database: Option<Database>,
    /// Images: file:DIR or s3://BUCKET[/PREFIX][?endpoint=URL&region=R&allow_http=true]
    /// with credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
    /// (default: file:DATA_DIR/captures).
    #[arg(long, global = true, env = "STINT_SERVER_OBJECTS")]
    objects: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTPS. On first start without --cert/--key, generates a CA and a
    /// server certificate in the data dir and prints the CA's path and fingerprint.
    Serve(cli::serve::Serve),
    /// People who log in to the web UI, their roles and passwords.
    User {
        #[command(subcommand)]
        command: cli::user::UserCommand,
    },
    /// Projects (with their clients and dates), their tasks and members.
    Project {
        #[command(subcommand)]
        command: cli::project::ProjectCommand,
    },
    /// Teams and their managers.
    Team {
        #[command(subcommand)]
        command: cli::team::TeamCommand,
    },
    /// Delete a person's records for good (rows and images; tombstones stay
    /// so agents do not upload them again): one day, or everything.
    Delete(cli::records::Delete),
    /// Show how long data is kept, or change it: --set screenshots_days=45
    /// (keys screenshots_days, webcam_days, minutes_days, audit_days; KEY= keeps for ever).
    Retention(cli::retention::Retention),
    /// Timesheet periods: how time is cut into them (--rule weekly:monday, biweekly:2026-11-30, semi-monthly, monthly) and after how many days a submitted one is approved by the policy (--auto-approve-days N, 0 for never)
    Periods(cli::periods::Periods),
    /// Bind (or re-bind) a device to a person: its records become theirs.
    BindDevice(cli::devices::BindDevice),
    /// Enrollment tokens.
    Token {
        #[command(subcommand)]
        command: cli::token::TokenCommand,
    },
    /// Webhooks: URLs that events (offline time, periods, people) are POSTed
    /// to, signed; and their deliveries.
    Webhook {
        #[command(subcommand)]
        command: cli::webhook::WebhookCommand,
    },
    /// List devices and their last contact.
    Devices(cli::devices::Devices),
    /// Revoke a device: its token stops working at once.
    RevokeDevice(cli::devices::RevokeDevice),
    /// One device's minutes and captures, as JSON, optionally for one UTC day.
    Show(cli::records::Show),
    /// Every device with its sessions, minutes and capture metadata, as JSON.
    Export(cli::records::Export),
    /// Who looked at a person's data, newest first, as "Who looked at my
    /// data" shows it to them.
    Audit(cli::records::Audit),
    /// Show the policy agents receive, or change keys of it: --set screenshots=false;
    /// --set KEY= unsets a key, leaving it to each agent's own config.
    Policy(cli::policy::Policy),
    /// Print the path of a stored image.
    CapturePath(cli::records::CapturePath),
    /// Copy this deployment (--data-dir, or --database/--objects) into
    /// another, e.g. PostgreSQL + S3: rows are inserted unless present and
    /// images put unless present, so a killed run is simply started again;
    /// at the end both sides' counts and checksums are compared.
    Migrate(cli::migrate::Migrate),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stint-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let place = cli::Place::resolve(
        cli.config.as_deref(),
        cli.data_dir,
        cli.database,
        cli.objects,
    )?;
    match cli.command {
        Command::Serve(args) => cli::serve::run(&place, args),
        Command::User { command } => cli::user::run(&place.open()?, command),
        Command::Team { command } => cli::team::run(&place.open()?, command),
        Command::Project { command } => cli::project::run(&place.open()?, command),
        Command::Delete(args) => cli::records::delete(&place.open()?, args),
        Command::Retention(args) => cli::retention::run(&place.open()?, args),
        Command::Periods(args) => cli::periods::run(&place.open()?, args),
        Command::BindDevice(args) => cli::devices::bind(&place.open()?, args),
        Command::Token { command } => cli::token::run(&place.open()?, command),
        Command::Webhook { command } => cli::webhook::run(&place.open()?, command),
        Command::Devices(args) => cli::devices::list(&place.open()?, args),
        Command::RevokeDevice(args) => cli::devices::revoke(&place.open()?, args),
        Command::Show(args) => cli::records::show(&place.open()?, args),
        Command::Export(args) => cli::records::export(&place.open()?, args),
        Command::Audit(args) => cli::records::audit(&place.open()?, args),
        Command::Policy(args) => cli::policy::run(&place.open()?, args),
        Command::CapturePath(args) => cli::records::capture_path(&place.open()?, args),
        Command::Migrate(args) => cli::migrate::run(&place.open()?, args),
    }
}
