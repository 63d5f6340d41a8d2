//! Privacy rules: which windows keep their title, their screen or their
//! whole minute to themselves. Defined once here: the agent's config and the
//! server's policy carry the same rules, both validate them with the same
//! code, and the agent applies them on the device before anything is written.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::Invalid;

/// More rules than this is a mistake, not a policy.
pub const MAX_RULES: usize = 64;
/// The longest label, pattern or app name, in bytes.
pub const MAX_PATTERN: usize = 512;
/// What one compiled title regex may take, so a hostile policy cannot make
/// the agent build a huge automaton.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One rule as configured and sent: what it matches (every matcher given
/// must match) and what it does. Matchers a newer server adds and this
/// agent does not know are ignored, which makes the rule broader, never
/// narrower; an unknown action is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyRule {
    /// Said instead of the title (`redact_title`) and in `stint log`.
    pub label: String,
    /// Application names: the executable's file name with or without its
    /// extension, or the app's own name (the app_id on Wayland, the bundle
    /// name on macOS), compared without regard to case. Any one matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app: Vec<String>,
    /// The start of the executable's path, without regard to case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe_path: Option<String>,
    /// Part of the window title, without regard to case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A regular expression (Rust `regex` syntax) the title must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_regex: Option<String>,
    /// Any of `redact_title`, `skip_screenshot`, `untracked`.
    pub actions: Vec<String>,
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// The minute's title is the rule's label.
    RedactTitle,
    /// No screenshot of any monitor while such a window has focus.
    SkipScreenshot,
    /// The minute keeps no title, executable or app.
    Untracked,
}

impl RuleAction {
    pub const ALL: [RuleAction; 3] = [
        RuleAction::RedactTitle,
        RuleAction::SkipScreenshot,
        RuleAction::Untracked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RuleAction::RedactTitle => "redact_title",
            RuleAction::SkipScreenshot => "skip_screenshot",
            RuleAction::Untracked => "untracked",
        }
    }

    pub fn parse(text: &str) -> Option<RuleAction> {
        RuleAction::ALL.into_iter().find(|a| a.name() == text)
    }
}

impl fmt::Display for PrivacyRule {
    /// "Password manager: app keepassxc|1password → redact_title, skip_screenshot".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut when = Vec::new();
        if !self.app.is_empty() {
            when.push(format!("app {}", self.app.join("|")));
        }
        if let Some(p) = &self.exe_path {
            when.push(format!("path {p}*"));
        }
        if let Some(t) = &self.title {
            when.push(format!("title contains {t:?}"));
        }
        if let Some(r) = &self.title_regex {
            when.push(format!("title matches /{r}/"));
        }
        write!(
            f,
            "{}: {} → {}",
            self.label,
            when.join(" and "),
            self.actions.join(", ")
        )
    }
}

/// Checks every rule, as an agent refuses a policy and a config file is
/// refused: the first problem, naming the rule by its place and label.
pub fn validate_rules(rules: &[PrivacyRule]) -> Result<(), Invalid> {
    Rules::compile(rules).map(drop)
}

/// The rules in force, compiled once: regexes built, names lowered.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    label: String,
    apps: Vec<String>,
    exe_path: Option<String>,
    title: Option<String>,
    title_regex: Option<regex::Regex>,
    actions: Vec<RuleAction>,
}

/// What the rules decide about one window: the label of the first rule
/// that asks for each action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub redact_title: Option<String>,
    pub skip_screenshot: Option<String>,
    pub untracked: Option<String>,
}

impl Verdict {
    /// The rule that changed what the minute records, if one did.
    pub fn changed_by(&self) -> Option<&str> {
        self.untracked.as_deref().or(self.redact_title.as_deref())
    }
}

fn invalid(at: usize, label: &str, problem: String) -> Invalid {
    Invalid {
        field: "privacy_rules",
        problem: format!("rule {} ({label:?}): {problem}", at + 1),
    }
}

impl Rules {
    pub fn compile(rules: &[PrivacyRule]) -> Result<Rules, Invalid> {
        if rules.len() > MAX_RULES {
            return Err(Invalid {
                field: "privacy_rules",
                problem: format!("{} rules; at most {MAX_RULES}", rules.len()),
            });
        }
        let mut out = Vec::with_capacity(rules.len());
        for (at, r) in rules.iter().enumerate() {
            out.push(compile_one(at, r)?);
        }
        Ok(Rules { rules: out })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// What the rules say about the window with this title, executable path
    /// and app name (empty when unknown).
    pub fn judge(&self, title: &str, exe_path: &str, app: &str) -> Verdict {
        let title_lower = title.to_lowercase();
        let exe_lower = exe_path.to_lowercase();
        let file = exe_lower.rsplit(['/', '\\']).next().unwrap_or(&exe_lower);
        let stem = file
            .rsplit_once('.')
            .map_or(file, |(s, _)| if s.is_empty() { file } else { s });
        let app_lower = app.to_lowercase();
        let mut v = Verdict::default();
        for r in &self.rules {
            let app_ok = r.apps.is_empty()
                || r.apps.iter().any(|a| {
                    (!file.is_empty() && (a == file || a == stem))
                        || (!app_lower.is_empty() && *a == app_lower)
                });
            let path_ok = r
                .exe_path
                .as_ref()
                .is_none_or(|p| !exe_lower.is_empty() && exe_lower.starts_with(p.as_str()));
            let title_ok = r
                .title
                .as_ref()
                .is_none_or(|t| title_lower.contains(t.as_str()));
            let regex_ok = r.title_regex.as_ref().is_none_or(|re| re.is_match(title));
            if !(app_ok && path_ok && title_ok && regex_ok) {
                continue;
            }
            for a in &r.actions {
                let slot = match a {
                    RuleAction::RedactTitle => &mut v.redact_title,
                    RuleAction::SkipScreenshot => &mut v.skip_screenshot,
                    RuleAction::Untracked => &mut v.untracked,
                };
                slot.get_or_insert_with(|| r.label.clone());
            }
        }
        v
    }
}

fn compile_one(at: usize, r: &PrivacyRule) -> Result<Compiled, Invalid> {
    let label = r.label.trim();
    if label.is_empty() || label.len() > 80 || label.chars().any(char::is_control) {
        return Err(invalid(
            at,
            &r.label,
            "label: expected 1 to 80 characters, no control characters".into(),
        ));
    }
    let text = |what: &str, v: &str| -> Result<String, Invalid> {
        if v.trim().is_empty() || v.len() > MAX_PATTERN {
            return Err(invalid(
                at,
                label,
                format!("{what} = {v:?}: expected 1 to {MAX_PATTERN} bytes"),
            ));
        }
        Ok(v.to_lowercase())
    };
    let apps = r
        .app
        .iter()
        .map(|a| text("app", a.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let exe_path = r
        .exe_path
        .as_deref()
        .map(|p| text("exe_path", p))
        .transpose()?;
    let title = r.title.as_deref().map(|t| text("title", t)).transpose()?;
    let title_regex = match &r.title_regex {
        None => None,
        Some(p) => {
            text("title_regex", p)?;
            let re = regex::RegexBuilder::new(p)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    let why = e.to_string();
                    let last = why.lines().last().unwrap_or(&why).trim().to_string();
                    invalid(at, label, format!("title_regex = {p:?}: {last}"))
                })?;
            Some(re)
        }
    };
    if apps.is_empty() && exe_path.is_none() && title.is_none() && title_regex.is_none() {
        return Err(invalid(
            at,
            label,
            "matches every window: give at least one of app, exe_path, title, title_regex".into(),
        ));
    }
    if r.actions.is_empty() {
        return Err(invalid(
            at,
            label,
            "actions: expected at least one of redact_title, skip_screenshot, untracked".into(),
        ));
    }
    let actions = r
        .actions
        .iter()
        .map(|a| {
            RuleAction::parse(a).ok_or_else(|| {
                invalid(
                    at,
                    label,
                    format!(
                        "actions: unknown action {a:?}; expected redact_title, skip_screenshot or untracked"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Compiled {
        label: label.to_string(),
        apps,
        exe_path,
        title,
        title_regex,
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(label: &str, f: impl FnOnce(&mut PrivacyRule)) -> PrivacyRule {
        let mut r = PrivacyRule {
            label: label.into(),
            actions: vec!["redact_title".into()],
            ..PrivacyRule::default()
        };
        f(&mut r);
        r
    }

    #[test]
    fn each_matcher_matches_what_it_says_and_all_must_match() {
        let rules = Rules::compile(&[
            rule("Vault", |r| r.app = vec!["KeePassXC".into()]),
            rule("Bank", |r| r.title = Some("my bank".into())),
            rule("Secret", |r| {
                r.title_regex = Some(r"^Secret \d+$".into());
                r.actions = vec!["skip_screenshot".into(), "untracked".into()];
            }),
            rule("Tools", |r| {
                r.exe_path = Some("/opt/private/".into());
                r.title = Some("ledger".into());
            }),
            rule("Win", |r| r.app = vec!["signal".into()]),
        ])
        .unwrap();
        let redact = |v: Verdict| v.redact_title;
        for (title, exe, app, want) in [
            ("db.kdbx", "/usr/bin/keepassxc", "", Some("Vault")),
            ("db.kdbx", "", "keepassxc", Some("Vault")),
            ("db.kdbx", "/usr/bin/keepassxc-cli2", "", None),
            (
                "Welcome to My Bank",
                "/usr/bin/firefox",
                "firefox",
                Some("Bank"),
            ),
            ("The Ledger", "/opt/private/app", "app", Some("Tools")),
            ("The Ledger", "/usr/bin/app", "app", None),
            ("notes", "/opt/private/app", "app", None),
            (
                "chat",
                r"C:\Program Files\Signal\Signal.exe",
                "Signal",
                Some("Win"),
            ),
            ("chat", "", "", None),
        ] {
            assert_eq!(
                redact(rules.judge(title, exe, app)).as_deref(),
                want,
                "{title} {exe} {app}"
            );
        }
        let v = rules.judge("Secret 42", "/bin/x", "x");
        assert_eq!(v.skip_screenshot.as_deref(), Some("Secret"));
        assert_eq!(v.changed_by(), Some("Secret"));
        assert_eq!(
            rules.judge("Secret 42 more", "/bin/x", "x"),
            Verdict::default()
        );
    }

    #[test]
    fn bad_rules_are_refused_naming_the_rule_and_the_problem() {
        for (r, want) in [
            (rule("", |r| r.title = Some("x".into())), "label"),
            (rule("All", |_| {}), "matches every window"),
            (
                rule("Re", |r| r.title_regex = Some("(".into())),
                "title_regex",
            ),
            (
                rule("Big", |r| r.title_regex = Some(r"\w{1000}\w{1000}".into())),
                "title_regex",
            ),
            (
                rule("Act", |r| {
                    r.title = Some("x".into());
                    r.actions = vec!["hide".into()];
                }),
                "unknown action \"hide\"",
            ),
            (
                rule("None", |r| {
                    r.title = Some("x".into());
                    r.actions = vec![];
                }),
                "at least one",
            ),
            (
                rule("Long", |r| r.title = Some("x".repeat(MAX_PATTERN + 1))),
                "bytes",
            ),
        ] {
            let err = validate_rules(&[rule("ok", |r| r.title = Some("y".into())), r])
                .unwrap_err()
                .to_string();
            assert!(err.contains("rule 2") && err.contains(want), "{err}");
        }
        let many = vec![rule("x", |r| r.title = Some("x".into())); MAX_RULES + 1];
        assert!(validate_rules(&many).is_err());
    }

    /// Seeded mutations of a valid rule list through the policy's text form
    /// (regex metacharacters, huge repetitions, broken JSON): nothing
    /// panics, and whatever is accepted compiles and judges a window.
    #[test]
    fn mangled_rules_never_panic() {
        let base = r#"[{"label":"Vault","app":["keepassxc"],"title_regex":"(?i)^x[a-z]{2,9}$","actions":["redact_title","skip_screenshot"]}]"#;
        let pieces = [
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "*",
            "+",
            "?",
            "\\",
            "{99999}",
            "(?i)",
            "\\p{L}",
            "\"",
            ",",
            "untracked",
            "title",
            "",
            "\\w{500}",
        ];
        let mut x: u64 = 0x5eed_0022;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut accepted = 0;
        for _ in 0..3_000 {
            let mut text = base.to_string();
            for _ in 0..next() % 4 + 1 {
                let at = next() as usize % (text.len() + 1);
                let piece = pieces[next() as usize % pieces.len()];
                if next() % 2 == 0 {
                    text.insert_str(at, piece);
                } else {
                    text.replace_range(at..(at + 1).min(text.len()), piece);
                }
            }
            let mut p = crate::Policy::default();
            if p.set("privacy_rules", &text).is_ok() {
                accepted += 1;
                let rules = Rules::compile(p.privacy_rules.as_deref().unwrap_or(&[]))
                    .expect("what set accepted compiles");
                let _ = rules.judge("xabc", "/usr/bin/keepassxc", "x");
            }
        }
        assert!(
            accepted > 100,
            "the mutations still reach the compiler: {accepted}"
        );
    }

    #[test]
    fn a_rule_reads_as_one_line() {
        let r = rule("Vault", |r| {
            r.app = vec!["keepassxc".into(), "1password".into()];
            r.actions.push("skip_screenshot".into());
        });
        assert_eq!(
            r.to_string(),
            "Vault: app keepassxc|1password → redact_title, skip_screenshot"
        );
    }
}
