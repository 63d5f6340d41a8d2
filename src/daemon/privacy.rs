//! The privacy rules at the moment of sampling: a window a rule covers is
//! changed in memory, before the minute holding it can reach the queue, so
//! the original title never touches the disk.

use stint_proto::{PrivacyRule, Rules, Verdict};

use crate::config::Config;
use crate::sampler::window::WindowInfo;

/// The rules `cfg` puts in force, compiled once per configuration. Both
/// sources were validated on arrival, so a failure here is a bug; it fails
/// closed, as a rule that keeps every window and screen to itself.
pub(super) fn compile(cfg: &Config) -> Rules {
    Rules::compile(&cfg.privacy.rules).unwrap_or_else(|e| {
        tracing::error!(error = %e, "privacy rules did not compile; recording no window and no screen");
        let all = PrivacyRule {
            label: "Privacy rules could not be read".into(),
            title_regex: Some("(?s).*".into()),
            actions: vec!["untracked".into(), "skip_screenshot".into()],
            ..PrivacyRule::default()
        };
        Rules::compile(&[all]).expect("the fail-closed rule compiles")
    })
}

/// What the rules say about `w`.
pub(super) fn judge(rules: &Rules, w: &WindowInfo) -> Verdict {
    rules.judge(&w.title, &w.exe_path, &w.app)
}

/// `w` as the minute may keep it, and the label of the rule that changed it.
pub(super) fn screen(rules: &Rules, w: WindowInfo) -> (Option<WindowInfo>, Option<String>) {
    let v = judge(rules, &w);
    if let Some(label) = v.untracked {
        return (None, Some(label));
    }
    match v.redact_title {
        Some(label) => (
            Some(WindowInfo {
                title: label.clone(),
                ..w
            }),
            Some(label),
        ),
        None => (Some(w), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_covered_window_leaves_only_what_its_rule_allows() {
        let mut cfg = Config::defaults().unwrap();
        cfg.privacy.rules.push(PrivacyRule {
            label: "Bank".into(),
            title: Some("bank".into()),
            actions: vec!["untracked".into()],
            ..PrivacyRule::default()
        });
        let rules = compile(&cfg);
        let w = |title: &str, exe: &str| WindowInfo {
            title: title.into(),
            exe_path: exe.into(),
            app: String::new(),
        };
        let (kept, rule) = screen(&rules, w("secret.kdbx - KeePassXC", "/usr/bin/keepassxc"));
        let kept = kept.unwrap();
        assert_eq!(
            (kept.title.as_str(), kept.exe_path.as_str()),
            ("Password manager", "/usr/bin/keepassxc")
        );
        assert_eq!(rule.as_deref(), Some("Password manager"));
        assert_eq!(
            screen(&rules, w("My Bank", "/usr/bin/firefox")),
            (None, Some("Bank".into()))
        );
        assert_eq!(
            screen(&rules, w("notes", "/usr/bin/gedit")),
            (Some(w("notes", "/usr/bin/gedit")), None)
        );
        let private = w("Mozilla Firefox Private Browsing", "/usr/bin/firefox");
        assert_eq!(
            judge(&rules, &private).skip_screenshot.as_deref(),
            Some("Private browsing")
        );
    }
}
