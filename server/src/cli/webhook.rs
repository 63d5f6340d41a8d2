//! `stint-server webhook`: the URLs events are POSTed to, signed with a
//! secret printed once, and the newest deliveries with how they went.

use clap::Subcommand;
use stint_server::store::Store;

use super::print_json;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register a URL (https://, or http:// to this machine) and print the
    /// secret its deliveries are signed with, once.
    Add { url: String },
    /// The registered URLs.
    List,
    /// Stop sending to a hook (by id); deliveries not sent yet are dropped.
    Remove { id: String },
    /// The newest deliveries: event, state, tries and the last outcome.
    Deliveries {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

pub fn run(store: &Store, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { url } => {
            let (id, secret) = store.add_webhook(&url)?;
            print_json(&serde_json::json!({"id": id, "url": url, "secret": secret}));
        }
        WebhookCommand::List => print_json(&store.webhooks()?),
        WebhookCommand::Remove { id } => store.remove_webhook(&id)?,
        WebhookCommand::Deliveries { limit } => print_json(&store.deliveries(limit)?),
    }
    Ok(())
}
