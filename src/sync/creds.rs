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

/// Where "Open my activity" leads when this device is enrolled: the server's
/// web diary (its root opens the logged-in person's own day). `None` without
/// a server or before enrollment: the local view is the only one then.
pub fn diary_url(cfg: &Config) -> Option<String> {
    let url = cfg.server.url.as_deref()?;
    load_creds(cfg, url)?;
    Some(format!("{}/", url.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diary_is_the_enrolled_servers_root() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::defaults().unwrap();
        cfg.storage.data_dir = dir.path().to_path_buf();
        assert_eq!(diary_url(&cfg), None, "no server");
        cfg.server.url = Some("https://stint.example.com:8443".into());
        assert_eq!(diary_url(&cfg), None, "not enrolled yet");
        let creds = serde_json::json!({"server": "https://stint.example.com:8443", "device_id": "d", "device_token": "stn_dev_x"});
        std::fs::write(creds_path(&cfg), creds.to_string()).unwrap();
        assert_eq!(
            diary_url(&cfg).as_deref(),
            Some("https://stint.example.com:8443/")
        );
        cfg.server.url = Some("https://elsewhere.example.com".into());
        assert_eq!(diary_url(&cfg), None, "enrolled with another server");
    }
}
