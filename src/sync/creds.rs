//! The device's credentials: `device.json` (0600) in the data dir, written at
//! enrollment, good only for the server that issued them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Config;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Credentials {
    pub(super) server: String,
    pub(super) device_id: String,
    pub(super) device_token: String,
}

pub(super) fn creds_path(cfg: &Config) -> PathBuf {
    cfg.storage.data_dir.join("device.json")
}

/// A token that can be sent as a bearer header: printable ASCII, no spaces.
pub(super) fn usable_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 512 && token.bytes().all(|b| b.is_ascii_graphic())
}

pub(super) fn load_creds(cfg: &Config, url: &str) -> Option<Credentials> {
    let text = std::fs::read_to_string(creds_path(cfg)).ok()?;
    let c: Credentials = serde_json::from_str(&text).ok()?;
    if !usable_token(&c.device_token) {
        // It could never go into a header: enrolling again is the way out.
        tracing::warn!(path = %creds_path(cfg).display(), "device token unusable (not printable ASCII); enrolling again");
        return None;
    }
    // A device token is only good for the server that issued it.
    (c.server == url).then_some(c)
}
