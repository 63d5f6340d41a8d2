//! Layered TOML configuration: built-in defaults < managed system file < user file < command line.
//!
//! Each layer is parsed and validated on its own, so an error always names the file
//! it came from, the key, the offending value and what would have been accepted.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::encode::{EncodeOptions, Format};

mod duration;
mod raw;
mod rules;

pub use duration::{
    format_duration, parse_duration, CAPTURE_TIMEOUT, DURATION_HELP, IDLE_AFTER, MINUTE,
    REVIEW_DELAY, SEGMENT,
};
use raw::RawLayer;
pub use rules::{add_rules, builtin_rules};

/// Where a setting came from; printed in errors and by `stint doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Defaults,
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Defaults => f.write_str("built-in defaults"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML for stint: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: `{key}` = {value:?} is invalid; expected {expected}")]
    Invalid {
        origin: Source,
        key: &'static str,
        value: String,
        expected: String,
    },
    #[error("{origin}: `privacy.rules`: {problem}")]
    Rule { origin: Source, problem: String },
    #[error("no data directory: set `storage.data_dir`, or HOME so the OS default can be found")]
    NoDataDir,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub schedule: Schedule,
    pub storage: Storage,
    pub capture: Capture,
    pub tracking: Tracking,
    pub privacy: Privacy,
    pub server: Server,
    /// The files that were found and applied, lowest precedence first.
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Length of one activity record; wall-clock aligned.
    pub minute: Duration,
    /// One screenshot per monitor per segment; wall-clock aligned.
    pub segment: Duration,
    /// No input for this long makes a minute idle.
    pub idle_after: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub data_dir: PathBuf,
    /// Rotated daily log files kept.
    pub keep_logs: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    pub screenshots: bool,
    pub webcam: bool,
    pub format: Format,
    /// 1-100 in the encoder's own scale; `None` takes the format's default.
    pub quality: Option<u8>,
    /// Downscale wider images to this width; 0 keeps the native size.
    pub max_width: u32,
    /// Upper bound for one capture (all monitors) before it is abandoned.
    pub timeout: Duration,
}

impl Capture {
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions {
            format: self.format,
            quality: self.quality.unwrap_or(self.format.default_quality()),
            max_width: self.max_width,
            blur: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tracking {
    /// Whether tracking is on the very first time, before the user ever chose.
    pub initial: bool,
    /// What becomes of idle time once input returns (the policy may decide).
    pub idle_decision: stint_proto::IdleDecision,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Privacy {
    /// Store IPv4 addresses as /24 and IPv6 as /48 networks.
    pub truncate_ip: bool,
    /// Blur screenshots on the device, before they are encoded or stored.
    pub blur: bool,
    /// How long each segment's records wait on the device after the segment
    /// ends, during which the employee may delete the segment; 0 sends at once.
    pub review_delay: Duration,
    /// The privacy rules in force, applied before anything is written: the
    /// built-in ones (unless a layer says `builtin_rules = false`), each
    /// layer's own, and the server's policy's (`crate::policy::apply`).
    pub rules: Vec<stint_proto::PrivacyRule>,
}

/// Where and how to upload. With no `url`, nothing leaves the machine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Server {
    pub url: Option<String>,
    /// One-time secret from `stint-server token create`; exchanged for a device token.
    pub enroll_token: Option<String>,
    /// Extra CA certificate(s), PEM, trusted on top of the OS trust store.
    pub ca_file: Option<PathBuf>,
    /// Hex SHA-256 of the server's SubjectPublicKeyInfo; when set, any other key is refused.
    pub pin_sha256: Option<String>,
    /// Proxy URL; without it the standard HTTPS_PROXY/ALL_PROXY/NO_PROXY variables apply.
    pub proxy: Option<String>,
}

/// The values an installer puts in the managed config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    pub server_url: Option<String>,
    pub enroll_token: Option<String>,
    pub ca_file: Option<String>,
    pub pin_sha256: Option<String>,
    pub proxy: Option<String>,
    pub tracking_initial: Option<bool>,
}

/// The managed config file for `m`: only the keys given, correctly quoted.
pub fn managed_toml(m: &Managed) -> String {
    let mut server = toml::Table::new();
    for (key, value) in [
        ("url", &m.server_url),
        ("enroll_token", &m.enroll_token),
        ("ca_file", &m.ca_file),
        ("pin_sha256", &m.pin_sha256),
        ("proxy", &m.proxy),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            server.insert(key.into(), toml::Value::String(v.clone()));
        }
    }
    let mut doc = toml::Table::new();
    if !server.is_empty() {
        doc.insert("server".into(), toml::Value::Table(server));
    }
    if let Some(on) = m.tracking_initial {
        let mut t = toml::Table::new();
        t.insert("initial".into(), toml::Value::Boolean(on));
        doc.insert("tracking".into(), toml::Value::Table(t));
    }
    format!(
        "# Managed by IT: written by the stint installer. Every key: stint.example.toml.\n{}",
        toml::to_string(&doc).expect("a table of strings serialises")
    )
}

impl Config {
    /// Built-in defaults; `data_dir` is the OS per-user data directory.
    pub fn defaults() -> Result<Config, ConfigError> {
        let dirs = directories::ProjectDirs::from("", "", "stint").ok_or(ConfigError::NoDataDir)?;
        Ok(Config {
            schedule: Schedule {
                minute: Duration::from_secs(60),
                segment: Duration::from_secs(600),
                idle_after: Duration::from_secs(300),
            },
            storage: Storage {
                data_dir: dirs.data_local_dir().to_path_buf(),
                keep_logs: 7,
            },
            capture: Capture {
                screenshots: true,
                webcam: false,
                format: Format::Webp,
                quality: None,
                max_width: 0,
                timeout: Duration::from_secs(20),
            },
            tracking: Tracking {
                initial: false,
                idle_decision: stint_proto::IdleDecision::Prompt,
            },
            privacy: Privacy {
                truncate_ip: true,
                blur: false,
                review_delay: Duration::ZERO,
                rules: builtin_rules(),
            },
            server: Server::default(),
            sources: vec![Source::Defaults],
        })
    }

    /// Loads every layer: defaults, the managed system file, the user's file, then
    /// `cli_file` (from `--config`). Missing system/user files are skipped; a
    /// missing `--config` file is an error because the user asked for it.
    pub fn load(cli_file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut cfg = Config::defaults()?;
        let system = std::env::var_os("STINT_SYSTEM_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(crate::platform::system_config_path);
        let user = directories::ProjectDirs::from("", "", "stint")
            .map(|d| d.config_dir().join("stint.toml"));
        for path in [Some(system), user].into_iter().flatten() {
            if path.is_file() {
                cfg.apply_file(&path)?;
            }
        }
        if let Some(path) = cli_file {
            cfg.apply_file(path)?;
        }
        Ok(cfg)
    }

    /// Applies one TOML file on top of the current values.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.apply_str(&text, Source::File(path.to_path_buf()))
    }

    /// Applies one layer given as TOML text; `source` names it in errors.
    pub fn apply_str(&mut self, text: &str, source: Source) -> Result<(), ConfigError> {
        let raw: RawLayer = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: match &source {
                Source::File(p) => p.clone(),
                Source::Defaults => PathBuf::from("<defaults>"),
            },
            message: e.to_string().trim_end().to_string(),
        })?;
        let v = Validator { source: &source };
        if let Some(s) = raw.schedule {
            set(
                &mut self.schedule.minute,
                v.duration("schedule.minute", s.minute, &MINUTE)?,
            );
            set(
                &mut self.schedule.segment,
                v.duration("schedule.segment", s.segment, &SEGMENT)?,
            );
            set(
                &mut self.schedule.idle_after,
                v.duration("schedule.idle_after", s.idle_after, &IDLE_AFTER)?,
            );
        }
        if let Some(s) = raw.storage {
            if let Some(d) = s.data_dir {
                if d.as_os_str().is_empty() {
                    return Err(v.invalid("storage.data_dir", "", "a directory path"));
                }
                self.storage.data_dir = d;
            }
            if let Some(n) = s.keep_logs {
                self.storage.keep_logs = v.range("storage.keep_logs", n, 1, 365)? as usize;
            }
        }
        if let Some(c) = raw.capture {
            set(&mut self.capture.screenshots, c.screenshots);
            set(&mut self.capture.webcam, c.webcam);
            if let Some(f) = c.format {
                self.capture.format = match f.as_str() {
                    "webp" => Format::Webp,
                    "jpeg" => Format::Jpeg,
                    _ => return Err(v.invalid("capture.format", &f, "\"webp\" or \"jpeg\"")),
                };
            }
            if let Some(q) = c.quality {
                self.capture.quality = Some(v.range("capture.quality", q, 1, 100)? as u8);
            }
            if let Some(w) = c.max_width {
                self.capture.max_width = v.range("capture.max_width", w, 0, 16384)? as u32;
            }
            set(
                &mut self.capture.timeout,
                v.duration("capture.timeout", c.timeout, &CAPTURE_TIMEOUT)?,
            );
        }
        if let Some(t) = raw.tracking {
            set(&mut self.tracking.initial, t.initial);
            if let Some(d) = t.idle_decision {
                self.tracking.idle_decision =
                    stint_proto::IdleDecision::parse(&d).ok_or_else(|| {
                        v.invalid(
                            "tracking.idle_decision",
                            &d,
                            &format!("one of {}", stint_proto::IdleDecision::NAMES.join(", ")),
                        )
                    })?;
            }
        }
        if let Some(p) = raw.privacy {
            set(&mut self.privacy.truncate_ip, p.truncate_ip);
            set(&mut self.privacy.blur, p.blur);
            set(
                &mut self.privacy.review_delay,
                v.duration("privacy.review_delay", p.review_delay, &REVIEW_DELAY)?,
            );
            let add: Vec<stint_proto::PrivacyRule> = p
                .rules
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect();
            stint_proto::validate_rules(&add).map_err(|e| ConfigError::Rule {
                origin: source.clone(),
                problem: e.problem,
            })?;
            rules::layer(&mut self.privacy.rules, p.builtin_rules, add);
        }
        if let Some(r) = raw.server {
            if let Some(url) = r.url {
                self.server.url = Some(v.server_url(&url)?);
            }
            if let Some(t) = r.enroll_token {
                if t.trim().is_empty() {
                    return Err(v.invalid(
                        "server.enroll_token",
                        "",
                        "the token printed by `stint-server token create`",
                    ));
                }
                self.server.enroll_token = Some(t.trim().to_string());
            }
            if let Some(f) = r.ca_file {
                if !f.is_file() {
                    return Err(v.invalid(
                        "server.ca_file",
                        &f.display().to_string(),
                        "an existing PEM file",
                    ));
                }
                self.server.ca_file = Some(f);
            }
            if let Some(pin) = r.pin_sha256 {
                let hex: String = pin
                    .chars()
                    .filter(|c| *c != ':')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(v.invalid("server.pin_sha256", &pin, "64 hex digits (the SHA-256 of the server's public key, as `stint-server serve` prints it)"));
                }
                self.server.pin_sha256 = Some(hex);
            }
            if let Some(p) = r.proxy {
                if reqwest::Url::parse(&p).is_err() {
                    return Err(v.invalid(
                        "server.proxy",
                        &p,
                        "a proxy URL such as http://proxy.example:3128",
                    ));
                }
                self.server.proxy = Some(p);
            }
        }
        self.sources.push(source.clone());
        self.check_relations(&source)
    }

    /// Cross-field rules, checked after each layer so the error names the layer that broke them.
    fn check_relations(&self, source: &Source) -> Result<(), ConfigError> {
        let s = &self.schedule;
        if s.segment < s.minute {
            return Err(ConfigError::Invalid {
                origin: source.clone(),
                key: "schedule.segment",
                value: format_duration(s.segment),
                expected: format!("at least schedule.minute ({})", format_duration(s.minute)),
            });
        }
        Ok(())
    }

    pub fn queue_path(&self) -> PathBuf {
        self.storage.data_dir.join("queue.db")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.storage.data_dir.join("logs")
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

struct Validator<'a> {
    source: &'a Source,
}

impl Validator<'_> {
    /// https:// anywhere; plain http:// only to this machine, where there is no
    /// network to protect the device token from.
    fn server_url(&self, url: &str) -> Result<String, ConfigError> {
        let expected = "an https:// URL (http:// only to localhost/127.0.0.1/::1)";
        let parsed =
            reqwest::Url::parse(url).map_err(|_| self.invalid("server.url", url, expected))?;
        let loopback = match parsed.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match parsed.scheme() {
            "https" if parsed.host().is_some() => {}
            "http" if loopback => {}
            _ => return Err(self.invalid("server.url", url, expected)),
        }
        Ok(url.trim_end_matches('/').to_string())
    }

    fn invalid(&self, key: &'static str, value: &str, expected: &str) -> ConfigError {
        ConfigError::Invalid {
            origin: self.source.clone(),
            key,
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    fn duration(
        &self,
        key: &'static str,
        value: Option<String>,
        allowed: &RangeInclusive<Duration>,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(text) = value else { return Ok(None) };
        match parse_duration(&text) {
            Some(d) if allowed.contains(&d) => Ok(Some(d)),
            Some(_) => Err(self.invalid(
                key,
                &text,
                &format!(
                    "{DURATION_HELP}, from {} to {}",
                    format_duration(*allowed.start()),
                    format_duration(*allowed.end())
                ),
            )),
            None => Err(self.invalid(key, &text, DURATION_HELP)),
        }
    }

    fn range(&self, key: &'static str, value: i64, lo: i64, hi: i64) -> Result<i64, ConfigError> {
        if (lo..=hi).contains(&value) {
            Ok(value)
        } else {
            Err(self.invalid(
                key,
                &value.to_string(),
                &format!("a whole number from {lo} to {hi}"),
            ))
        }
    }
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
