//! `stint log`: exactly what was recorded, as text or JSON, since a moment.

use anyhow::{anyhow, Result};
use stint::config::Config;
use stint::exit::Exit;
use stint::queue::local_day_start_ms;

use super::open_reader;

/// `--since`: RFC 3339, a duration ago, or "today".
fn parse_since(s: &str, now_ms: i64) -> Result<i64> {
    if s == "today" {
        return Ok(local_day_start_ms(now_ms));
    }
    if let Some(d) = stint::config::parse_duration(s) {
        return Ok(now_ms - d.as_millis() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            anyhow!("--since {s:?} is invalid; expected an RFC 3339 time (2026-11-22T09:00:00Z), a duration ago (2h) or \"today\"")
        })
}

pub(crate) fn log(cfg: &Config, json: bool, since: Option<&str>) -> Result<Exit> {
    let now = stint_common::time::now_ms();
    let since_ms = since
        .map(|s| parse_since(s, now))
        .transpose()?
        .unwrap_or(i64::MIN);
    let out = open_reader(cfg)?.call_blocking(move |s| s.log(since_ms))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Exit::Ok);
    }
    for s in &out.sessions {
        println!(
            "session  {}  {} {} on {} as {} (agent {}) ips {:?}",
            s.started_at,
            s.os_type,
            s.os_version,
            s.hostname,
            s.os_user,
            s.agent_version,
            s.ip_addresses
        );
    }
    for m in &out.minutes {
        let mut rules = String::new();
        if let Some(r) = &m.privacy_rule {
            rules.push_str(&format!("  (rule: {r})"));
        }
        if let Some(r) = &m.screenshot_skipped {
            rules.push_str(&format!("  (screenshot skipped: {r})"));
        }
        println!(
            "minute   {}  {:>2}s  {}  {}  {} [{}]{rules}",
            m.start,
            m.seconds,
            stint::model::counts_text(m),
            if m.idle { "idle  " } else { "active" },
            m.title.as_deref().unwrap_or("-"),
            m.app.as_deref().unwrap_or("-"),
        );
    }
    for c in &out.captures {
        println!(
            "capture  {}  {} {}  {}x{}  {} bytes {}  id {}",
            c.taken_at,
            c.kind.as_str(),
            c.monitor,
            c.width,
            c.height,
            c.bytes,
            c.format,
            c.id
        );
    }
    if out.minutes.is_empty() && out.captures.is_empty() {
        println!(
            "nothing recorded{}",
            since.map(|s| format!(" since {s}")).unwrap_or_default()
        );
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_table() {
        let now = 10_000_000;
        assert_eq!(parse_since("2s", now).unwrap(), now - 2_000);
        assert_eq!(parse_since("1970-01-01T00:00:01Z", now).unwrap(), 1_000);
        assert!(parse_since("yesterday-ish", now)
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
    }
}
