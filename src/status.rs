//! What `stint status` reports, gathered in one place so the daemon (answering
//! over IPC) and the CLI (reading the queue when no daemon runs) agree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::QueueStats;
use crate::queue::{local_day_start_ms, QueueError, Store};
use crate::sync::SyncStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub tracking: bool,
    pub queue: QueueStats,
    pub samplers: BTreeMap<String, String>,
    pub sync: Option<SyncStatus>,
    /// The keys the server's policy sets (empty: the config files decide).
    pub policy: stint_proto::Policy,
    pub data_dir: PathBuf,
    /// The daemon that answered; `None` when none is running.
    pub daemon: Option<Daemon>,
    /// The newest segment still in its review window, which the employee may delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletable: Option<crate::review::Deletable>,
    /// What the daemon did with a queue it found corrupt, and where that went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<String>,
    /// The project choice, the projects known and idle spans to decide.
    #[serde(default)]
    pub work: crate::work::WorkStatus,
    /// The privacy rules in force (the config files' and the policy's), one
    /// line each.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Private time: under way or not, and the day's allowance.
    #[serde(default)]
    pub private: crate::private::PrivateStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Daemon {
    pub pid: u32,
    pub version: String,
    /// Where it listens for `stint start/stop/status`.
    pub endpoint: String,
}

/// Reads everything but `daemon` from the queue, with `cfg` (the config files)
/// for what the user never chose and what the policy leaves to it.
pub fn gather(store: &Store, cfg: &Config) -> Result<Report, QueueError> {
    let now = stint_common::time::now_ms();
    let mut samplers = BTreeMap::new();
    for sampler in crate::queue::Sampler::ALL {
        if let Some(v) = store.sampler_state(sampler)? {
            samplers.insert(sampler.name().to_string(), v);
        }
    }
    let sync = store.sync_status()?;
    let policy = store.policy()?;
    let window = crate::policy::review_window(cfg, &policy);
    let deletable = store
        .newest_capture_before(window.ended_before(now))?
        .and_then(|(id, taken)| window.describe(id, taken, now));
    Ok(Report {
        tracking: store.tracking()?.unwrap_or(cfg.tracking.initial),
        queue: store.stats(local_day_start_ms(now))?,
        samplers,
        sync,
        policy: policy.clone(),
        data_dir: cfg.storage.data_dir.clone(),
        daemon: None,
        deletable,
        recovery: store.recovery()?,
        work: crate::work::WorkStatus::gather(store, &policy, local_day_start_ms(now))?,
        private: crate::private::PrivateStatus::gather(store, &policy, now)?,
        rules: crate::policy::apply(cfg, &policy)
            .privacy
            .rules
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

pub use crate::model::local_hm;

/// "1h 05m": how `stint status` and the tray show durations.
pub fn hours_minutes(secs: u64) -> String {
    format!("{}h {:02}m", secs / 3600, secs % 3600 / 60)
}
