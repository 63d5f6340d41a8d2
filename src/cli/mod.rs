//! The command line's commands, each in a file of its own; `main.rs`
//! parses arguments and dispatches.

pub(crate) mod capture;
pub(crate) mod daemon;
pub(crate) mod log;
pub(crate) mod managed;
pub(crate) mod status;
pub(crate) mod tracking;
pub(crate) mod work;

use anyhow::Result;
use stint::config::Config;
use stint::queue::{Queue, Role};

/// The queue as a reader: the CLI never sweeps or repairs.
pub(crate) fn open_reader(cfg: &Config) -> Result<Queue> {
    Ok(Queue::open(&cfg.storage.data_dir, Role::Reader)?.0)
}
