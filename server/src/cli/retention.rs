//! `stint-server retention`: how long each kind of data is kept.

use anyhow::{bail, Context};
use stint_server::store::Store;

use super::print_json;

#[derive(clap::Args)]
pub struct Retention {
    #[arg(long = "set", value_name = "KEY=DAYS")]
    set: Vec<String>,
}

pub fn run(store: &Store, Retention { set }: Retention) -> anyhow::Result<()> {
    let mut r = store.retention()?;
    for kv in &set {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--set {kv:?}: expected KEY=DAYS (KEY= keeps for ever)"))?;
        let days = match v {
            "" => None,
            v => Some(v.parse::<u32>().ok().filter(|d| *d >= 1).with_context(|| {
                format!("--set {kv:?}: expected a whole number of days from 1, or nothing")
            })?),
        };
        match k {
            "screenshots_days" => r.screenshots_days = days,
            "webcam_days" => r.webcam_days = days,
            "minutes_days" => r.minutes_days = days,
            "audit_days" => r.audit_days = days,
            _ => bail!(
                "--set {kv:?}: keys are screenshots_days, webcam_days, minutes_days, audit_days"
            ),
        }
    }
    if !set.is_empty() {
        store.set_retention(&r)?;
    }
    print_json(&r);
    Ok(())
}
