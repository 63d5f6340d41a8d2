//! `stint-server token`: enrollment tokens, created, listed (their hash's
//! start, never the secret) and revoked.

use clap::Subcommand;
use stint_server::store::{Store, TokenLimits};

use super::{person_id, print_json};

#[derive(Subcommand)]
pub enum TokenCommand {
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

pub fn run(store: &Store, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            label,
            expires_in,
            max_uses,
            person,
        } => {
            let limits = TokenLimits {
                expires_ms: expires_in.map(|ms| stint_common::time::now_ms() + ms),
                max_uses,
            };
            let person = match person {
                Some(email) => Some(person_id(store, &email)?),
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
