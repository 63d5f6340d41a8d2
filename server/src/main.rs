//! `stint-server`: serve the /api/v1 ingest API over HTTPS, and the admin
//! commands that read and manage what it stores.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use stint_server::api::{self, Faults, Limits};
use stint_server::certs;

mod people_cli;
mod records_cli;
mod serve_cli;
mod server_config;
use stint_server::store::{objects::Objects, Database, Store};

#[derive(Parser)]
#[command(
    name = "stint-server",
    version,
    about = "Reference ingest server for stint agents"
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
    Serve {
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Extra DNS name or IP for the generated certificate (repeatable).
        #[arg(long = "hostname")]
        hostnames: Vec<String>,
        /// PEM certificate chain to serve instead of the generated one.
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// PEM private key for --cert.
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
        /// Requests per second per device before 429 (0 = unlimited).
        #[arg(long, default_value_t = 200.0)]
        rate_limit: f64,
        /// Largest minute batch body in bytes (larger gets 413).
        #[arg(long, default_value_t = 4 << 20)]
        max_batch_bytes: usize,
        /// Largest capture body in bytes (larger gets 413).
        #[arg(long, default_value_t = 32 << 20)]
        max_capture_bytes: usize,
        /// Most simultaneous connections; always kept below the open-file limit.
        /// When reached, the connection that has been quiet longest is closed.
        #[arg(long, default_value_t = 4096)]
        max_connections: usize,
        /// Seconds a client may take for the TLS handshake, to send a request's
        /// headers, between two chunks of a body, and idle between requests.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
        idle_timeout: u64,
        /// The address people open the web UI at, e.g. https://stint.example.com
        /// (the OIDC redirect goes back to it).
        #[arg(long, env = "STINT_SERVER_PUBLIC_URL")]
        public_url: Option<String>,
        /// Log people in through this OpenID Connect provider too, e.g.
        /// https://login.example.com/realms/staff (needs --public-url and the client).
        #[arg(long, env = "STINT_SERVER_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret", "public_url"])]
        oidc_issuer: Option<String>,
        /// This server's client id at the provider.
        #[arg(long, env = "STINT_SERVER_OIDC_CLIENT_ID")]
        oidc_client_id: Option<String>,
        /// This server's client secret at the provider (better from the environment).
        #[arg(long, env = "STINT_SERVER_OIDC_CLIENT_SECRET", hide_env_values = true)]
        oidc_client_secret: Option<String>,
        /// Testing aid: force answers on the next requests, e.g. "minutes=500,429;captures=503".
        #[arg(long, hide = true, env = "STINT_SERVER_FAULTS", default_value = "")]
        inject_faults: String,
    },
    /// People who log in to the web UI, their roles and passwords.
    User {
        #[command(subcommand)]
        command: people_cli::UserCommand,
    },
    /// Teams and their managers.
    Team {
        #[command(subcommand)]
        command: people_cli::TeamCommand,
    },
    /// Delete a person's records for good (rows and images; tombstones stay
    /// so agents do not upload them again): one UTC day, or everything.
    Delete {
        email: String,
        /// YYYY-MM-DD in the person's time zone.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        day: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        reason: String,
    },
    /// Show how long data is kept, or change it: --set screenshots_days=45
    /// (keys screenshots_days, webcam_days, minutes_days, audit_days; KEY= keeps for ever).
    Retention {
        #[arg(long = "set", value_name = "KEY=DAYS")]
        set: Vec<String>,
    },
    /// Bind (or re-bind) a device to a person: its records become theirs.
    BindDevice { device_id: String, email: String },
    /// Enrollment tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// List devices and their last contact.
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device: its token stops working at once.
    RevokeDevice { device_id: String },
    /// One device's minutes and captures, as JSON, optionally for one UTC day.
    Show {
        device_id: String,
        /// YYYY-MM-DD (UTC).
        #[arg(long)]
        day: Option<String>,
    },
    /// Every device with its sessions, minutes and capture metadata, as JSON.
    Export {
        /// JSON is the only format; the flag is accepted for clarity in scripts.
        #[arg(long)]
        json: bool,
        #[arg(long)]
        day: Option<String>,
    },
    /// Show the policy agents receive, or change keys of it: --set screenshots=false;
    /// --set KEY= unsets a key, leaving it to each agent's own config.
    Policy {
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A team's layer instead of the organisation's.
        #[arg(long, conflicts_with = "person")]
        team: Option<String>,
        /// A person's layer (by email) instead of the organisation's.
        #[arg(long)]
        person: Option<String>,
        /// Print the person's effective policy and where each value comes from.
        #[arg(long, value_name = "EMAIL", conflicts_with_all = ["set", "team", "person"])]
        effective: Option<String>,
    },
    /// Print the path of a stored image.
    CapturePath { id: String },
    /// Copy this deployment (--data-dir, or --database/--objects) into
    /// another, e.g. PostgreSQL + S3: rows are inserted unless present and
    /// images put unless present, so a killed run is simply started again;
    /// at the end both sides' counts and checksums are compared.
    Migrate {
        /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or sqlite:PATH).
        #[arg(long)]
        to_database: Database,
        /// s3://BUCKET[/PREFIX][?endpoint=URL&...] (or file:DIR).
        #[arg(long)]
        to_objects: String,
        /// Rows per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        batch: u64,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new enrollment token.
    Create {
        #[arg(long, default_value = "")]
        label: String,
        /// The token stops enrolling after this long: e.g. 30m, 12h, 7d.
        #[arg(long, value_name = "DURATION", value_parser = parse_expiry)]
        expires_in: Option<i64>,
        /// The token stops enrolling after this many devices.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_uses: Option<u32>,
        /// Devices enrolled with it belong to this person (by email).
        #[arg(long, value_name = "EMAIL")]
        person: Option<String>,
    },
    /// List enrollment tokens (their hash's start, never the secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke an enrollment token (devices already enrolled keep working).
    Revoke { token: String },
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

/// `--expires-in`: a whole number and a unit, s/m/h/d, as milliseconds.
fn parse_expiry(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?}: expected a number and a unit, e.g. 30m, 12h or 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(unit_ms)
        .filter(|ms| (1..=3650 * 86_400_000).contains(ms))
        .ok_or_else(|| format!("{text:?}: between 1s and 3650d"))
}

fn valid_day(day: &Option<String>) -> anyhow::Result<()> {
    if let Some(d) = day {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--day {d:?}: expected YYYY-MM-DD"))?;
    }
    Ok(())
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serialisable"));
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let storage = server_config::resolve(
        cli.config.as_deref(),
        cli.data_dir,
        cli.database,
        cli.objects,
    )
    .map_err(anyhow::Error::msg)?;
    let dir = storage.data_dir;
    let (database, objects) = (storage.database, storage.objects);
    let open = || -> anyhow::Result<Store> {
        if database.is_none() && objects.is_none() {
            return Store::open(&dir).with_context(|| format!("data dir {}", dir.display()));
        }
        stint_server::private::dir(&dir).with_context(|| format!("data dir {}", dir.display()))?;
        let database = database
            .clone()
            .unwrap_or_else(|| Database::Sqlite(dir.join("server.db")));
        let objects = objects
            .clone()
            .unwrap_or_else(|| format!("file:{}", dir.join("captures").display()));
        let objects = Objects::open(&objects)?;
        Ok(Store::connect(&database, objects)?)
    };
    match cli.command {
        Command::Serve {
            listen,
            hostnames,
            cert,
            key,
            rate_limit,
            max_batch_bytes,
            max_capture_bytes,
            max_connections,
            idle_timeout,
            inject_faults,
            public_url,
            oidc_issuer,
            oidc_client_id,
            oidc_client_secret,
        } => {
            let faults = Faults::parse(&inject_faults)
                .map_err(|e| anyhow::anyhow!("--inject-faults: {e}"))?;
            let store = Arc::new(open()?);
            let tls = match (cert, key) {
                (Some(cert), Some(key)) => certs::TlsFiles {
                    cert,
                    key,
                    ca: None,
                },
                _ => {
                    let mut names = certs::default_names(&hostnames);
                    if !listen.ip().is_unspecified() {
                        names.push(listen.ip().to_string());
                    }
                    let (files, created) = certs::ensure(&dir, &names)?;
                    let ca = files.ca.clone().expect("generated files include a CA");
                    if created {
                        println!("generated a CA and server certificate for {names:?}");
                    }
                    println!("CA certificate: {}", ca.display());
                    println!("CA SHA-256 fingerprint: {}", certs::fingerprint(&ca)?);
                    let key_pem = std::fs::read_to_string(&files.key)
                        .with_context(|| format!("{}", files.key.display()))?;
                    println!(
                        "server key pin (pin_sha256): {}",
                        certs::spki_pin(&key_pem)?
                    );
                    files
                }
            };
            if let Some(said) = stint_server::private::tighten_key(&tls.key)
                .with_context(|| format!("{}", tls.key.display()))?
            {
                eprintln!("stint-server: warning: {said}");
            }
            let limits = Limits {
                max_batch_bytes,
                max_capture_bytes,
                rate_per_sec: rate_limit,
                idle_timeout: std::time::Duration::from_secs(idle_timeout),
            };
            let fd_limit = stint_server::conns::raise_fd_limit();
            let max_connections = stint_server::conns::ceiling(max_connections, fd_limit);
            println!(
                "accepting at most {max_connections} connections (open-file limit {})",
                fd_limit.map_or("none".to_string(), |n| n.to_string())
            );
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let state = api::AppState::new(store, limits, faults);
            if let (Some(issuer), Some(id), Some(secret), Some(url)) =
                (oidc_issuer, oidc_client_id, oidc_client_secret, public_url)
            {
                let oidc = stint_server::web::oidc::Oidc::new(&issuer, &id, &secret, &url)?;
                println!(
                    "OIDC login through {issuer}; redirect URI {}",
                    oidc.redirect_uri
                );
                let _ = state.oidc.set(oidc);
            }
            rt.block_on(serve_cli::serve(listen, tls, max_connections, state))
        }
        Command::Token { command } => {
            let store = open()?;
            match command {
                TokenCommand::Create {
                    label,
                    expires_in,
                    max_uses,
                    person,
                } => {
                    let limits = stint_server::store::TokenLimits {
                        expires_ms: expires_in.map(|ms| stint_common::time::now_ms() + ms),
                        max_uses,
                    };
                    let person = match person {
                        Some(email) => Some(people_cli::person_id(&store, &email)?),
                        None => None,
                    };
                    println!("{}", store.create_token(&label, limits, person.as_deref())?)
                }
                TokenCommand::List { json } => {
                    let tokens = store.tokens()?;
                    if json {
                        print_json(&tokens);
                    } else {
                        println!(
                            "{:<14} {:<20} {:<22} {:<22} {:<9} STATE",
                            "HASH", "LABEL", "CREATED", "EXPIRES", "USES"
                        );
                        for t in tokens {
                            let uses = match t.max_uses {
                                Some(max) => format!("{}/{max}", t.uses),
                                None => t.uses.to_string(),
                            };
                            println!(
                                "{:<14} {:<20} {:<22} {:<22} {:<9} {}",
                                t.hash_prefix,
                                t.label,
                                t.created_at,
                                t.expires_at.as_deref().unwrap_or("never"),
                                uses,
                                if t.revoked { "revoked" } else { "active" }
                            );
                        }
                    }
                }
                TokenCommand::Revoke { token } => {
                    store.revoke_token(&token)?;
                    println!("revoked");
                }
            }
            Ok(())
        }
        Command::Devices { json } => {
            let devices = open()?.devices()?;
            if json {
                print_json(&devices);
            } else {
                println!(
                    "{:<38} {:<20} {:<12} {:<26} LAST IP",
                    "DEVICE", "HOST", "USER", "LAST SEEN"
                );
                for d in devices {
                    println!(
                        "{:<38} {:<20} {:<12} {:<26} {}{}",
                        d.device_id,
                        d.hostname,
                        d.os_user,
                        d.last_seen,
                        d.last_ip,
                        if d.revoked { " (revoked)" } else { "" }
                    );
                }
            }
            Ok(())
        }
        Command::User { command } => people_cli::user(&open()?, command),
        Command::Team { command } => people_cli::team(&open()?, command),
        Command::BindDevice { device_id, email } => {
            let store = open()?;
            store.bind_device(&device_id, &people_cli::person_id(&store, &email)?)?;
            println!("bound");
            Ok(())
        }
        Command::RevokeDevice { device_id } => {
            open()?.revoke_device(&device_id)?;
            println!("revoked");
            Ok(())
        }
        Command::Show { device_id, day } => {
            valid_day(&day)?;
            let found = open()?.export(Some(&device_id), day.as_deref())?;
            match found.into_iter().next() {
                Some(d) => print_json(&d),
                None => bail!("no device {device_id}"),
            }
            Ok(())
        }
        Command::Export { json: _, day } => {
            valid_day(&day)?;
            let devices = open()?.export(None, day.as_deref())?;
            print_json(&serde_json::json!({ "devices": devices }));
            Ok(())
        }
        Command::Policy {
            set,
            team,
            person,
            effective,
        } => records_cli::policy(&open()?, set, team, person, effective),
        Command::Delete {
            email,
            day,
            all,
            reason,
        } => records_cli::delete(&open()?, &email, day, all, &reason),
        Command::Retention { set } => records_cli::retention(&open()?, set),
        Command::Migrate {
            to_database,
            to_objects,
            batch,
        } => {
            let from = open()?;
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
        Command::CapturePath { id } => {
            println!("{}", open()?.capture_location(&id)?);
            Ok(())
        }
    }
}
