//! The privacy rules of the config files: the built-in ones for password
//! managers and private browser windows, and how each layer's
//! `[[privacy.rules]]` adds to them. The rules themselves (matching,
//! validation) are stint-proto's, shared with the server's policy.

use serde::Deserialize;
use stint_proto::PrivacyRule;

/// One `[[privacy.rules]]` table: unlike the wire form, a misspelt key is an
/// error here, since a rule missing a matcher would hide more than meant.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    label: String,
    #[serde(default)]
    app: Vec<String>,
    exe_path: Option<String>,
    title: Option<String>,
    title_regex: Option<String>,
    actions: Vec<String>,
}

impl From<RawRule> for PrivacyRule {
    fn from(r: RawRule) -> PrivacyRule {
        PrivacyRule {
            label: r.label,
            app: r.app,
            exe_path: r.exe_path,
            title: r.title,
            title_regex: r.title_regex,
            actions: r.actions,
        }
    }
}

/// What stint hides without being told: assets/stint.example.toml lists
/// the same rules (a test keeps the two equal).
pub fn builtin_rules() -> Vec<PrivacyRule> {
    let both = || vec!["redact_title".to_string(), "skip_screenshot".to_string()];
    vec![
        PrivacyRule {
            label: "Password manager".into(),
            app: [
                "keepassxc",
                "keepass",
                "1password",
                "bitwarden",
                "enpass",
                "lastpass",
                "dashlane",
                "keychain access",
                "seahorse",
                "kwalletmanager5",
            ]
            .map(String::from)
            .to_vec(),
            actions: both(),
            ..PrivacyRule::default()
        },
        PrivacyRule {
            label: "Private browsing".into(),
            title_regex: Some(r"(?i)\b(private browsing|incognito|inprivate)\b".into()),
            actions: both(),
            ..PrivacyRule::default()
        },
    ]
}

/// Lays one layer's rules over those in force: each new rule is added once;
/// `builtin = Some(false)` takes the built-in ones away.
pub(super) fn layer(rules: &mut Vec<PrivacyRule>, builtin: Option<bool>, add: Vec<PrivacyRule>) {
    match builtin {
        Some(false) => {
            let builtins = builtin_rules();
            rules.retain(|r| !builtins.contains(r));
        }
        Some(true) => {
            for r in builtin_rules().into_iter().rev() {
                if !rules.contains(&r) {
                    rules.insert(0, r);
                }
            }
        }
        None => {}
    }
    add_rules(rules, add);
}

/// Adds each of `add` not in force yet: how a config layer and the
/// server's policy both add theirs.
pub fn add_rules(rules: &mut Vec<PrivacyRule>, add: impl IntoIterator<Item = PrivacyRule>) {
    for r in add {
        if !rules.contains(&r) {
            rules.push(r);
        }
    }
}
