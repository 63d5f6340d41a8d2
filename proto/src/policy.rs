//! The policy IT sets centrally, defined once: each key's name, type, range,
//! the agent config key it overrides and its description come from the one
//! table in `policy_keys!` below. The struct, the key list, `set` (the
//! server's `policy --set`), `validate` (what an agent refuses) and the docs'
//! key table are all derived from it.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::rules::PrivacyRule;
use crate::validate::Invalid;

/// What a key holds: an on/off switch, or a whole number in a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Flag,
    Number {
        range: RangeInclusive<u64>,
        unit: &'static str,
    },
    /// One of a few words.
    Choice(&'static [&'static str]),
    /// A list of privacy rules, as JSON (`rules.rs`).
    Rules,
}

/// One policy key as the table defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyKey {
    /// As spelled on the wire and by `stint-server policy --set`.
    pub name: &'static str,
    pub kind: Kind,
    /// The agent config key it overrides (`table.key`), or `None` when the
    /// agent has no local setting for it.
    pub config: Option<&'static str>,
    pub doc: &'static str,
}

/// A key's value, for code that goes through keys by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Flag(Option<bool>),
    Number(Option<u64>),
    Choice(Option<&'static str>),
    /// How many rules, when set.
    Rules(Option<usize>),
}

impl Value {
    pub fn is_set(self) -> bool {
        match self {
            Value::Flag(v) => v.is_some(),
            Value::Number(v) => v.is_some(),
            Value::Choice(v) => v.is_some(),
            Value::Rules(v) => v.is_some(),
        }
    }
}

/// A policy value that is one of a few words: the enum, its words, and how
/// the policy table reads and shows it.
macro_rules! choice {
    ($(#[doc = $doc:literal])+ $name:ident, default $def:ident {
        $( $(#[doc = $vdoc:literal])+ $variant:ident = $text:literal, )+
    }) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[doc = $vdoc])+ #[serde(rename = $text)] $variant, )+
        }

        impl Default for $name {
            fn default() -> $name {
                $name::$def
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|d| d.name() == text)
            }
        }

        impl Field for $name {
            fn wrap(v: Option<&$name>) -> Value {
                Value::Choice(v.map(|v| v.name()))
            }
            fn parse(key: &PolicyKey, v: &str) -> Result<Option<$name>, String> {
                if v.is_empty() {
                    return Ok(None);
                }
                $name::parse(v).map(Some).ok_or_else(|| {
                    format!(
                        "{} = {v:?}: expected one of {} or nothing (to unset)",
                        key.name,
                        $name::NAMES.join(", ")
                    )
                })
            }
        }
    };
}

choice! {
    /// What happens to a span of idle time once input returns.
    IdleDecision, default Prompt {
        /// Ask the person; unanswered after 24 hours, the span is discarded.
        Prompt = "prompt",
        /// Keep it as worked time without asking.
        Keep = "keep",
        /// Leave it out of worked time without asking.
        Discard = "discard",
    }
}

choice! {
    /// Whether people may claim time the agent did not record (a meeting
    /// away from the computer), and who says yes.
    ManualTime, default Approval {
        /// No offline time.
        Off = "off",
        /// Requests count at once, flagged as approved by the policy.
        Auto = "auto",
        /// A request counts once the project's lead or the person's manager
        /// (or an admin) approves it; nobody approves their own.
        Approval = "approval",
    }
}

trait Field: Clone + Sized {
    fn wrap(v: Option<&Self>) -> Value;
    fn parse(key: &PolicyKey, text: &str) -> Result<Option<Self>, String>;
}

impl Field for bool {
    fn wrap(v: Option<&bool>) -> Value {
        Value::Flag(v.copied())
    }
    fn parse(key: &PolicyKey, v: &str) -> Result<Option<bool>, String> {
        match v {
            "" => Ok(None),
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(format!(
                "{} = {v:?}: expected true, false or nothing (to unset)",
                key.name
            )),
        }
    }
}

impl Field for u64 {
    fn wrap(v: Option<&u64>) -> Value {
        Value::Number(v.copied())
    }
    fn parse(key: &PolicyKey, v: &str) -> Result<Option<u64>, String> {
        if v.is_empty() {
            return Ok(None);
        }
        let Kind::Number { range, unit } = &key.kind else {
            unreachable!("u64 keys are numbers")
        };
        match v.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "{} = {v:?}: expected a whole number of {unit} from {} to {}, or nothing (to unset)",
                key.name,
                range.start(),
                range.end()
            )),
        }
    }
}

/// The policy's privacy rules: a JSON list on the wire and in `policy --set`.
pub type RuleList = Vec<PrivacyRule>;

impl Field for RuleList {
    fn wrap(v: Option<&RuleList>) -> Value {
        Value::Rules(v.map(Vec::len))
    }
    fn parse(key: &PolicyKey, v: &str) -> Result<Option<RuleList>, String> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        let rules: RuleList = serde_json::from_str(v).map_err(|e| {
            format!(
                "{} = {v:?}: expected a JSON list of rules such as \
                 [{{\"label\":\"Vault\",\"app\":[\"keepassxc\"],\"actions\":[\"redact_title\"]}}] \
                 or nothing (to unset): {e}",
                key.name
            )
        })?;
        crate::rules::validate_rules(&rules).map_err(|e| e.problem)?;
        Ok(Some(rules))
    }
}

macro_rules! policy_keys {
    ($( $(#[doc = $doc:literal])+ $name:ident: $ty:ident = $kind:expr, config $config:expr; )+) => {
        /// What IT decides centrally; returned by every heartbeat. A key left
        /// unset (absent on the wire) leaves the agent's own configuration in
        /// charge; a key that is set overrides it on every device.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Policy {
            $(
                $(#[doc = $doc])+
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $name: Option<$ty>,
            )+
        }

        /// Every policy key, in the table's order.
        pub fn policy_keys() -> Vec<PolicyKey> {
            vec![$(PolicyKey {
                name: stringify!($name),
                kind: $kind,
                config: $config,
                doc: concat!($($doc),+).trim_ascii(),
            }),+]
        }

        impl Policy {
            /// This policy with every key `over` sets taken from `over`: how
            /// a team's or a person's policy lies over the organisation's.
            pub fn overlay(&self, over: &Policy) -> Policy {
                Policy {
                    $($name: over.$name.clone().or_else(|| self.$name.clone()),)+
                }
            }

            /// The value of the key called `name`.
            pub fn get(&self, name: &str) -> Option<Value> {
                match name {
                    $(stringify!($name) => Some(<$ty as Field>::wrap(self.$name.as_ref())),)+
                    _ => None,
                }
            }

            fn set_parsed(&mut self, key: &PolicyKey, text: &str) -> Result<(), String> {
                match key.name {
                    $(stringify!($name) => self.$name = <$ty as Field>::parse(key, text)?,)+
                    _ => unreachable!("keys come from the table"),
                }
                Ok(())
            }
        }
    };
}

const fn secs(range: RangeInclusive<u64>) -> Kind {
    Kind::Number {
        range,
        unit: "seconds",
    }
}

policy_keys! {
    /// Take a screenshot of every monitor once per segment.
    screenshots: bool = Kind::Flag, config Some("capture.screenshots");
    /// Take one webcam frame per segment.
    webcam: bool = Kind::Flag, config Some("capture.webcam");
    /// Seconds per screenshot segment.
    segment_secs: u64 = secs(1..=86_400), config Some("schedule.segment");
    /// Seconds without input before a minute is idle.
    idle_after_secs: u64 = secs(1..=86_400), config Some("schedule.idle_after");
    /// Blur screenshots on the device before they are stored.
    blur: bool = Kind::Flag, config Some("privacy.blur");
    /// Minutes a record waits on the device, for the employee to review and
    /// delete, before it is uploaded.
    review_delay_mins: u64 = Kind::Number { range: 0..=10_080, unit: "minutes" }, config Some("privacy.review_delay");
    /// Store and show IP addresses as /24 (IPv4) or /48 (IPv6) networks.
    truncate_ip: bool = Kind::Flag, config Some("privacy.truncate_ip");
    /// Whether the tray may offer Quit.
    allow_quit: bool = Kind::Flag, config None;
    /// Tracking needs a project: `stint start` and the tray refuse to track
    /// without one chosen.
    project_required: bool = Kind::Flag, config None;
    /// What becomes of idle time once input returns: prompt (ask; after 24
    /// hours unanswered, discard), keep or discard.
    idle_decision: IdleDecision = Kind::Choice(IdleDecision::NAMES), config Some("tracking.idle_decision");
    /// Time on a project needs one of its tasks: choosing the project alone
    /// is refused (set on a project's layer, or for everyone).
    task_required: bool = Kind::Flag, config None;
    /// Offline time the agent did not record: off, auto (counted at once,
    /// flagged) or approval (by the project's lead or the person's manager;
    /// the default).
    manual_time: ManualTime = Kind::Choice(ManualTime::NAMES), config None;
    /// Privacy rules the device applies before anything is written, added to
    /// the agent's own `privacy.rules`: a JSON list (docs/security.md).
    privacy_rules: RuleList = Kind::Rules, config None;
    /// Minutes of private time (`stint private`, the tray) a person may
    /// take a day, in which nothing is recorded; 0 turns it off; unset: no
    /// limit.
    private_time_max_mins_per_day: u64 = Kind::Number { range: 0..=1440, unit: "minutes" }, config None;
    /// Seal screenshots on the device to the keys of the people who may see
    /// them, so the server stores what it cannot open (docs/security.md).
    e2e_screenshots: bool = Kind::Flag, config None;
}

impl Policy {
    /// Sets `key` from its text form; an empty `value` unsets it. The error
    /// says what the key accepts.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let keys = policy_keys();
        match keys.iter().find(|k| k.name == key) {
            Some(k) => self.set_parsed(k, value),
            None => Err(format!(
                "unknown policy key {key:?}; known keys: {}",
                keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// What an agent must refuse, as a whole, in a policy a server sent: a
    /// value outside its key's range (a segment of 0 s divides by zero).
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(rules) = &self.privacy_rules {
            crate::rules::validate_rules(rules)?;
        }
        for key in policy_keys() {
            if let (Kind::Number { range, .. }, Some(Value::Number(Some(v)))) =
                (&key.kind, self.get(key.name))
            {
                if !range.contains(&v) {
                    return Err(Invalid {
                        field: key.name,
                        problem: format!("{v} is outside {}..={}", range.start(), range.end()),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The Markdown table of keys that docs/protocol.md carries (a test keeps
/// the two equal).
pub fn policy_keys_markdown() -> String {
    let mut out =
        String::from("| key | accepts | overrides agent config | meaning |\n|---|---|---|---|\n");
    for k in policy_keys() {
        let accepts = match &k.kind {
            Kind::Flag => "true / false".to_string(),
            Kind::Number { range, unit } => format!("{}–{} {unit}", range.start(), range.end()),
            Kind::Choice(words) => words.join(" / "),
            Kind::Rules => "a JSON list of rules".to_string(),
        };
        let config = k.config.map_or("—".to_string(), |c| format!("`{c}`"));
        out.push_str(&format!(
            "| `{}` | {accepts} | {config} | {} |\n",
            k.name,
            k.doc.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_validate_follow_each_keys_kind() {
        let mut p = Policy::default();
        for (key, value, ok) in [
            ("screenshots", "false", true),
            ("screenshots", "no", false),
            ("segment_secs", "600", true),
            ("segment_secs", "0", false),
            ("review_delay_mins", "0", true),
            ("review_delay_mins", "10081", false),
            ("allow_quit", "", true),
            ("nope", "1", false),
        ] {
            assert_eq!(p.set(key, value).is_ok(), ok, "{key} = {value}");
        }
        assert_eq!(p.screenshots, Some(false));
        assert_eq!(p.segment_secs, Some(600));
        assert_eq!(p.validate(), Ok(()));
        p.segment_secs = Some(0);
        assert_eq!(p.validate().unwrap_err().field, "segment_secs");
        let err = Policy::default().set("nope", "1").unwrap_err();
        assert!(err.contains("allow_quit"), "{err}");
    }

    /// docs/protocol.md carries the generated table between its markers;
    /// `STINT_BLESS=1 cargo test -p stint-proto` rewrites it.
    #[test]
    fn the_protocol_doc_lists_every_key_as_the_table_defines_it() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let (begin, end) = ("<!-- policy-keys:begin -->\n", "<!-- policy-keys:end -->");
        let start = doc.find(begin).expect("begin marker") + begin.len();
        let stop = doc.find(end).expect("end marker");
        let want = policy_keys_markdown();
        if std::env::var_os("STINT_BLESS").is_some() {
            let blessed = format!("{}{want}{}", &doc[..start], &doc[stop..]);
            std::fs::write(path, blessed).unwrap();
            return;
        }
        assert_eq!(
            &doc[start..stop],
            want,
            "docs/protocol.md's policy table is stale: run STINT_BLESS=1 cargo test -p stint-proto"
        );
    }

    #[test]
    fn an_overlay_takes_the_keys_it_sets_and_keeps_the_rest() {
        let org = Policy {
            screenshots: Some(true),
            segment_secs: Some(600),
            ..Policy::default()
        };
        let team = Policy {
            segment_secs: Some(300),
            blur: Some(true),
            ..Policy::default()
        };
        let both = org.overlay(&team);
        assert_eq!(
            (both.screenshots, both.segment_secs, both.blur, both.webcam),
            (Some(true), Some(300), Some(true), None)
        );
        assert_eq!(org.overlay(&Policy::default()), org);
    }

    #[test]
    fn every_key_round_trips_through_its_text_form() {
        for k in policy_keys() {
            let mut p = Policy::default();
            let text = match &k.kind {
                Kind::Flag => "true".to_string(),
                Kind::Number { range, .. } => range.end().to_string(),
                Kind::Choice(words) => words[words.len() - 1].to_string(),
                Kind::Rules => r#"[{"label":"x","title":"x","actions":["untracked"]}]"#.into(),
            };
            p.set(k.name, &text).unwrap();
            assert_ne!(p, Policy::default(), "{}", k.name);
            let wire = serde_json::to_value(&p).unwrap();
            assert_eq!(wire.as_object().unwrap().len(), 1, "{}", k.name);
            assert!(wire.get(k.name).is_some(), "{} is its wire name", k.name);
            p.set(k.name, "").unwrap();
            assert_eq!(p, Policy::default(), "{} unsets", k.name);
        }
    }
}
