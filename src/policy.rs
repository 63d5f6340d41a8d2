//! The server's policy laid over the local configuration: what IT set centrally
//! wins, what it left unset stays as the config files say.

use std::time::Duration;

use stint_proto::Policy;

use crate::config::Config;
use crate::queue::Queue;

/// The configuration the recorder runs with under `policy`.
pub fn apply(base: &Config, policy: &Policy) -> Config {
    let mut c = base.clone();
    let secs = |s: u64| Duration::from_secs(s);
    if let Some(v) = policy.screenshots {
        c.capture.screenshots = v;
    }
    if let Some(v) = policy.webcam {
        c.capture.webcam = v;
    }
    if let Some(v) = policy.segment_secs {
        c.schedule.segment = secs(v);
    }
    if let Some(v) = policy.idle_after_secs {
        c.schedule.idle_after = secs(v);
    }
    if let Some(v) = policy.truncate_ip {
        c.privacy.truncate_ip = v;
    }
    if let Some(v) = policy.blur {
        c.privacy.blur = v;
    }
    if let Some(v) = policy.review_delay_mins {
        c.privacy.review_delay = secs(v * 60);
    }
    if let Some(v) = policy.idle_decision {
        c.tracking.idle_decision = v;
    }
    // The server's rules add to the device's own: a rule only ever records
    // less, so neither side can take the other's away.
    crate::config::add_rules(
        &mut c.privacy.rules,
        policy.privacy_rules.iter().flatten().cloned(),
    );
    c
}

/// The review window the local config and `policy` give together.
pub fn review_window(base: &Config, policy: &Policy) -> crate::review::Window {
    let c = apply(base, policy);
    crate::review::Window::new(c.schedule.segment, c.privacy.review_delay)
}

/// The policy sync stored last (the queue refuses an unreadable or invalid
/// one); the default, nothing set, when it cannot be read.
pub async fn load(queue: &Queue) -> Policy {
    queue.call(|q| q.policy()).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read the stored policy");
        Policy::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keys_override_the_config_and_unset_keys_leave_it() {
        let base = crate::config::Config::defaults().unwrap();
        assert_eq!(apply(&base, &Policy::default()), base);
        let p = Policy {
            screenshots: Some(false),
            webcam: Some(true),
            segment_secs: Some(120),
            idle_after_secs: Some(30),
            truncate_ip: Some(false),
            blur: Some(true),
            review_delay_mins: Some(15),
            ..Policy::default()
        };
        let c = apply(&base, &p);
        assert!(!c.capture.screenshots);
        assert!(c.capture.webcam);
        assert_eq!(c.schedule.segment, Duration::from_secs(120));
        assert_eq!(c.schedule.idle_after, Duration::from_secs(30));
        assert!(!c.privacy.truncate_ip);
        assert!(c.privacy.blur && !base.privacy.blur);
        assert_eq!(c.privacy.review_delay, Duration::from_secs(900));
        assert_eq!(c.schedule.minute, base.schedule.minute);
        assert_eq!(c.storage, base.storage);
    }

    /// The table in stint-proto names the config key each policy key
    /// overrides: that key exists in the shipped example, and setting the
    /// policy key to a value its config differs in changes the config.
    #[test]
    fn every_policy_key_overrides_the_config_key_the_table_names() {
        let example = include_str!("../assets/stint.example.toml");
        let base = crate::config::Config::defaults().unwrap();
        for key in stint_proto::policy_keys() {
            let Some(config) = key.config else { continue };
            let (table, name) = config.split_once('.').unwrap();
            let section = example
                .split(&format!("[{table}]\n"))
                .nth(1)
                .unwrap_or_else(|| panic!("{}: no [{table}] in the example", key.name));
            let section = section.split("\n[").next().unwrap();
            assert!(
                section.lines().any(|l| l.starts_with(&format!("{name} ="))),
                "{}: no {config} in assets/stint.example.toml",
                key.name
            );
            // Both ends of the range, or both switch positions: one of them
            // differs from whatever the default is.
            let values: Vec<String> = match &key.kind {
                stint_proto::Kind::Flag => vec!["true".into(), "false".into()],
                stint_proto::Kind::Number { range, .. } => {
                    vec![range.start().to_string(), range.end().to_string()]
                }
                stint_proto::Kind::Choice(words) => words.iter().map(|w| w.to_string()).collect(),
                stint_proto::Kind::Rules => {
                    unreachable!("rules add to the config, not override it")
                }
            };
            let changed = values.iter().any(|v| {
                let mut p = Policy::default();
                p.set(key.name, v).unwrap();
                apply(&base, &p) != base
            });
            assert!(changed, "{}: apply() ignores it", key.name);
        }
    }
}
