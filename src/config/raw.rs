//! The config file's shape as TOML: every key optional (a layer sets only what
//! it names), unknown keys refused; `mod.rs` validates each value.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLayer {
    pub(super) schedule: Option<RawSchedule>,
    pub(super) storage: Option<RawStorage>,
    pub(super) capture: Option<RawCapture>,
    pub(super) tracking: Option<RawTracking>,
    pub(super) privacy: Option<RawPrivacy>,
    pub(super) server: Option<RawServer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) url: Option<String>,
    pub(super) enroll_token: Option<String>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) pin_sha256: Option<String>,
    pub(super) proxy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub(super) minute: Option<String>,
    pub(super) segment: Option<String>,
    pub(super) idle_after: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    pub(super) data_dir: Option<PathBuf>,
    pub(super) keep_logs: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCapture {
    pub(super) screenshots: Option<bool>,
    pub(super) webcam: Option<bool>,
    pub(super) format: Option<String>,
    pub(super) quality: Option<i64>,
    pub(super) max_width: Option<i64>,
    pub(super) timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTracking {
    pub(super) initial: Option<bool>,
    pub(super) idle_decision: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivacy {
    pub(super) truncate_ip: Option<bool>,
    pub(super) blur: Option<bool>,
    pub(super) review_delay: Option<String>,
    pub(super) builtin_rules: Option<bool>,
    pub(super) rules: Option<Vec<super::rules::RawRule>>,
}
