//! The command line's longer commands, each in a file of its own; `main.rs`
//! parses arguments and dispatches.

pub(crate) mod daemon;
pub(crate) mod status;

use anyhow::Result;
use stint::config::Config;
use stint::queue::{Queue, Role};

/// The queue as a reader: the CLI never sweeps or repairs.
pub(crate) fn open_reader(cfg: &Config) -> Result<Queue> {
    Ok(Queue::open(&cfg.storage.data_dir, Role::Reader)?.0)
}
