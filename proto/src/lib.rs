//! The records stint keeps and the `/api/v1` wire types, shared by the agent and
//! stint-server so both sides agree by construction (docs/protocol.md).
//!
//! Field names here are an interface: `stint log --json`, the upload bodies and
//! `stint-server export --json` all use them, so rename nothing without a note in
//! docs/protocol.md.

use std::net::IpAddr;

mod policy;
mod private;
mod rules;
mod validate;
mod work;
pub use policy::{
    policy_keys, policy_keys_markdown, IdleDecision, Kind, ManualTime, Policy, PolicyKey, RuleList,
    Value,
};
pub use private::{PrivateSpanRecord, MAX_PRIVATE_SPAN_SECS};
pub use rules::{validate_rules, PrivacyRule, RuleAction, Rules, Verdict, MAX_PATTERN, MAX_RULES};
pub use validate::{
    is_wire_time, validate_id, Invalid, MAX_COUNT_PER_MINUTE, MAX_OFFSET_SECS, MAX_TEXT,
};
pub use work::{
    Allowance, Decision, IdleSpanRecord, ProjectChoice, TaskChoice, Work, WorkList,
    MAX_IDLE_SPAN_SECS,
};

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Activity of one wall-clock minute. Only counts: never which keys, never text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteRecord {
    /// Client-generated UUIDv7, the idempotency key for upload.
    pub id: String,
    /// Start of the minute, RFC 3339 UTC.
    pub start: String,
    /// Local offset from UTC in seconds at that minute (east positive).
    pub utc_offset: i32,
    /// Seconds of the minute that were actually tracked (a minute in which tracking
    /// started or stopped is partial).
    pub seconds: u32,
    /// Where in the slot those seconds begin, in seconds from `start`: a
    /// minute in which tracking started, or the second part of a split
    /// one, begins later. Absent (older agents): 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from_secs: u32,
    pub keystrokes: u32,
    pub clicks: u32,
    pub scrolls: u32,
    /// Of `keystrokes`, those the OS marked as injected by software rather than
    /// typed on a device (XTEST on X11, `LLKHF_INJECTED` on Windows, a process
    /// as the event source on macOS). Absent (older agents): 0.
    #[serde(default)]
    pub synthetic_keystrokes: u32,
    /// Of `clicks`, those injected by software, as for `synthetic_keystrokes`.
    #[serde(default)]
    pub synthetic_clicks: u32,
    /// The agent could not count input for all or part of this minute (e.g.
    /// macOS without the Input Monitoring permission): the counts hold only
    /// what was counted and are no evidence of inactivity. Absent: false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub counts_unknown: bool,
    pub idle: bool,
    pub title: Option<String>,
    pub exe_path: Option<String>,
    pub app: Option<String>,
    pub session_id: String,
    /// The project the person chose for these seconds (`stint switch`, the
    /// tray); absent: unassigned. A minute in which the choice changed is
    /// split: one record per choice, their `seconds` adding up to the
    /// minute's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The task of `project_id`; absent: the project as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The label of the privacy rule that changed what this minute records
    /// (its title redacted, or no window at all); absent: none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_rule: Option<String>,
    /// The segment's screenshot was due in this minute and not taken: the
    /// label of the rule that said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot_skipped: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureKind {
    Screenshot,
    Webcam,
}

impl CaptureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureKind::Screenshot => "screenshot",
            CaptureKind::Webcam => "webcam",
        }
    }

    pub fn parse(s: &str) -> Option<CaptureKind> {
        match s {
            "screenshot" => Some(CaptureKind::Screenshot),
            "webcam" => Some(CaptureKind::Webcam),
            _ => None,
        }
    }
}

/// One image: a monitor's screenshot or a webcam frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRecord {
    pub id: String,
    pub kind: CaptureKind,
    /// RFC 3339 UTC with milliseconds.
    pub taken_at: String,
    pub utc_offset: i32,
    /// Monitor (or camera) name as the OS reports it.
    pub monitor: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Image encoding, e.g. "jpeg".
    pub format: String,
    pub session_id: String,
    /// Sealed on the device (`stint_common::seal`): the body is a bundle of
    /// the sealed thumbnail and the sealed image, which only the keys the
    /// heartbeat named can open. Absent: a plain image.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sealed: bool,
}

/// Facts recorded once each time tracking starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub started_at: String,
    pub utc_offset: i32,
    pub os_type: String,
    pub os_version: String,
    pub kernel: String,
    pub hostname: String,
    pub os_user: String,
    pub agent_version: String,
    /// Local addresses, truncated to networks when privacy.truncate_ip is on.
    pub ip_addresses: Vec<String>,
}

/// `POST /api/v1/enroll` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub enroll_token: String,
    pub hostname: String,
    pub os_type: String,
    pub os_version: String,
    pub os_user: String,
    pub agent_version: String,
    /// The device id this agent had before its token was refused. A server
    /// refuses to enroll again an agent whose device the admin revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_device_id: Option<String>,
}

/// `POST /api/v1/enroll` answer. The device token is a bearer secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub device_token: String,
}

/// `POST /api/v1/minutes` body: minutes plus the sessions they refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteBatch {
    #[serde(default)]
    pub sessions: Vec<SessionRecord>,
    #[serde(default)]
    pub minutes: Vec<MinuteRecord>,
    /// Idle spans the person (or the policy's default) decided on. Absent
    /// from older agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idle_spans: Vec<IdleSpanRecord>,
    /// Private time that ended. Absent from older agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_spans: Vec<PrivateSpanRecord>,
}

/// Answer to an accepted batch or capture: how many records were new and how
/// many were repeats of records already stored (a retried upload).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub stored: u64,
    pub duplicates: u64,
}

/// Every 4xx/5xx body. `record_id` names the record a 400 refers to, so a client
/// can set that one record aside and send the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
}

/// `POST /api/v1/heartbeat` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub agent_version: String,
    pub pending_minutes: u64,
    pub pending_captures: u64,
}

/// `POST /api/v1/heartbeat` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    pub policy: Policy,
    pub server_time: String,
    /// The projects the device's person may track time on. Absent (older
    /// servers, or a device bound to nobody): the agent keeps what it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<WorkList>,
    /// With `e2e_screenshots` on: the X25519 public keys (base64) of
    /// everyone who may see this device's person's screenshots, which the
    /// agent seals each capture to. Absent: sealing is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_to: Option<Vec<String>>,
}

/// Query parameters of `PUT /api/v1/captures/{id}`: the capture's metadata; the
/// body is the image itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureMeta {
    pub kind: CaptureKind,
    pub taken_at: String,
    pub utc_offset: i32,
    pub monitor: String,
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub session_id: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sealed: bool,
}

impl CaptureRecord {
    pub fn meta(&self) -> CaptureMeta {
        CaptureMeta {
            kind: self.kind,
            taken_at: self.taken_at.clone(),
            utc_offset: self.utc_offset,
            monitor: self.monitor.clone(),
            width: self.width,
            height: self.height,
            format: self.format.clone(),
            session_id: self.session_id.clone(),
            sealed: self.sealed,
        }
    }
}

/// Stores an address as its network: IPv4 as /24, IPv6 as /48, so a record says
/// where roughly, never which machine.
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

/// File extension for an image format name.
pub fn extension(format: &str) -> &str {
    match format {
        "jpeg" => "jpg",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_keys_set_unset_and_refuse_with_the_allowed_values() {
        let mut p = Policy::default();
        for (key, value, ok) in [
            ("screenshots", "false", true),
            ("segment_secs", "120", true),
            ("review_delay_mins", "0", true),
            ("webcam", "yes", false),
            ("segment_secs", "0", false),
            ("idle_after_secs", "-5", false),
            ("colour", "red", false),
        ] {
            assert_eq!(p.set(key, value).is_ok(), ok, "{key}={value}");
        }
        assert_eq!(p.screenshots, Some(false));
        assert_eq!(p.segment_secs, Some(120));
        let wire = serde_json::to_string(&p).unwrap();
        assert_eq!(
            wire,
            r#"{"screenshots":false,"segment_secs":120,"review_delay_mins":0}"#
        );
        p.set("screenshots", "").unwrap();
        assert_eq!(p.screenshots, None);
        assert_eq!(
            serde_json::from_str::<Policy>("{}").unwrap(),
            Policy::default()
        );
        let err = p.set("segment_secs", "0").unwrap_err();
        assert!(err.contains("1 to 86400"), "{err}");
    }

    #[test]
    fn received_policies_outside_the_ranges_are_refused_naming_the_key() {
        let bad = [
            (r#"{"segment_secs":0}"#, "segment_secs"),
            (r#"{"segment_secs":86401}"#, "segment_secs"),
            (r#"{"idle_after_secs":0}"#, "idle_after_secs"),
            (
                r#"{"review_delay_mins":18446744073709551615}"#,
                "review_delay_mins",
            ),
        ];
        for (wire, field) in bad {
            let p: Policy = serde_json::from_str(wire).unwrap();
            assert_eq!(p.validate().unwrap_err().field, field, "{wire}");
        }
        let ok: Policy =
            serde_json::from_str(r#"{"segment_secs":1,"review_delay_mins":0,"blur":true}"#)
                .unwrap();
        assert_eq!(ok.validate(), Ok(()));
    }

    fn minute() -> MinuteRecord {
        MinuteRecord {
            id: "0190-abc".into(),
            start: "2026-11-22T10:00:00Z".into(),
            utc_offset: 3600,
            seconds: 60,
            from_secs: 0,
            keystrokes: 10,
            clicks: 2,
            scrolls: 0,
            synthetic_keystrokes: 4,
            synthetic_clicks: 2,
            counts_unknown: false,
            idle: false,
            title: Some("t".into()),
            exe_path: None,
            app: None,
            session_id: "s1".into(),
            project_id: Some("p1".into()),
            task_id: None,
            privacy_rule: None,
            screenshot_skipped: None,
        }
    }

    #[test]
    fn invalid_minutes_name_the_field() {
        type Edit = fn(&mut MinuteRecord);
        let cases: &[(Edit, &str)] = &[
            (|m| m.id = String::new(), "id"),
            (|m| m.id = "a/b".into(), "id"),
            (|m| m.start = "yesterday".into(), "start"),
            (|m| m.start = "2026-11-29T11:00:00+01:00".into(), "start"),
            (|m| m.start = "2026-11-29t10:00:00z".into(), "start"),
            (|m| m.start = "2026-11-29 10:00:00Z".into(), "start"),
            (|m| m.utc_offset = 90_000, "utc_offset"),
            (|m| m.seconds = 4000, "seconds"),
            (|m| m.from_secs = 3590, "from_secs"),
            (|m| m.keystrokes = 1_000_000, "keystrokes"),
            (|m| m.synthetic_keystrokes = 11, "synthetic_keystrokes"),
            (|m| m.synthetic_clicks = 3, "synthetic_clicks"),
            (|m| m.title = Some("x".repeat(5000)), "title"),
            (|m| m.project_id = Some("../x".into()), "project_id"),
            (|m| m.task_id = Some(String::new()), "task_id"),
            (
                |m| {
                    m.project_id = None;
                    m.task_id = Some("t1".into());
                },
                "task_id",
            ),
        ];
        assert_eq!(minute().validate(), Ok(()));
        for (edit, field) in cases {
            let mut m = minute();
            edit(&mut m);
            assert_eq!(m.validate().unwrap_err().field, *field);
        }
    }

    /// An agent from before synthetic counts sends neither field: still valid,
    /// read as none injected and counts known.
    #[test]
    fn minutes_without_the_newer_fields_stay_valid() {
        let mut old = serde_json::to_value(minute()).unwrap();
        let obj = old.as_object_mut().unwrap();
        for key in [
            "synthetic_keystrokes",
            "synthetic_clicks",
            "counts_unknown",
            "project_id",
        ] {
            obj.remove(key);
        }
        let m: MinuteRecord = serde_json::from_value(old).unwrap();
        assert_eq!(
            (m.synthetic_keystrokes, m.synthetic_clicks, m.counts_unknown),
            (0, 0, false)
        );
        assert_eq!((&m.project_id, &m.task_id), (&None, &None), "unassigned");
        assert_eq!(m.validate(), Ok(()));
        let wire = serde_json::to_value(minute()).unwrap();
        assert_eq!(wire["synthetic_keystrokes"], 4);
        assert!(wire.get("counts_unknown").is_none(), "false is left out");
    }

    #[test]
    fn wire_times_are_utc_in_one_spelling() {
        for (t, ok) in [
            ("2026-11-29T10:00:00Z", true),
            ("2026-11-29T10:00:00.123Z", true),
            ("2026-11-29T10:00:00+00:00", false),
            ("2026-11-29T11:00:00+01:00", false),
            ("2026-11-29t10:00:00z", false),
            ("2026-11-29T10:00:00z", false),
            ("2026-11-29T25:00:00Z", false),
            ("", false),
        ] {
            assert_eq!(validate::is_wire_time(t), ok, "{t}");
        }
    }

    #[test]
    fn kind_round_trips() {
        for k in [CaptureKind::Screenshot, CaptureKind::Webcam] {
            assert_eq!(CaptureKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(CaptureKind::parse("video"), None);
    }

    #[test]
    fn truncate_table() {
        let cases = [
            ("192.168.1.77", "192.168.1.0/24"),
            ("10.0.0.1", "10.0.0.0/24"),
            ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ];
        for (ip, want) in cases {
            assert_eq!(truncate_ip(ip.parse().unwrap()), want);
        }
    }
}
