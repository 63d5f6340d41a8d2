//! The config loader's tests: layers, every key's errors, and the shipped
//! example against the defaults.
use super::*;

#[test]
fn managed_toml_quotes_values_and_round_trips_through_the_loader() {
    let m = Managed {
        server_url: Some("https://stint.example.com:8443".into()),
        enroll_token: Some(r#"tok"en\with\quotes"#.into()),
        tracking_initial: Some(true),
        ..Managed::default()
    };
    let text = managed_toml(&m);
    let mut c = Config::defaults().unwrap();
    c.apply_str(&text, Source::Defaults).unwrap();
    assert_eq!(c.server.url.as_deref(), m.server_url.as_deref());
    assert_eq!(c.server.enroll_token, m.enroll_token);
    assert!(c.tracking.initial);
    assert!(!managed_toml(&Managed::default()).contains("[server]"));
}

fn file() -> Source {
    Source::File(PathBuf::from("/etc/stint/stint.toml"))
}

/// Why the defaults with `text` laid over them as that file are refused.
fn refusal(text: &str) -> String {
    Config::defaults()
        .unwrap()
        .apply_str(text, file())
        .unwrap_err()
        .to_string()
}

#[test]
fn later_layers_override_earlier_ones() {
    let mut c = Config::defaults().unwrap();
    c.apply_str("[schedule]\nminute = \"2s\"\nsegment = \"20s\"", file())
        .unwrap();
    c.apply_str("[capture]\nwebcam = true", Source::File("user.toml".into()))
        .unwrap();
    assert_eq!(c.schedule.minute, Duration::from_secs(2));
    assert_eq!(c.schedule.segment, Duration::from_secs(20));
    assert!(c.capture.webcam);
    assert!(c.capture.screenshots, "untouched keys keep their default");
    assert_eq!(c.sources.len(), 3);
}

#[test]
fn invalid_values_name_file_key_value_and_expectation() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[schedule]\nminute = \"2x\"",
            "schedule.minute",
            "500ms, 2s",
        ),
        (
            "[schedule]\nidle_after = \"0s\"",
            "schedule.idle_after",
            "from 1s to 24h",
        ),
        (
            "[schedule]\nminute = \"1ms\"",
            "schedule.minute",
            "from 1s to 1h",
        ),
        (
            "[schedule]\nminute = \"500ms\"",
            "schedule.minute",
            "from 1s to 1h",
        ),
        (
            "[schedule]\nminute = \"2h\"",
            "schedule.minute",
            "from 1s to 1h",
        ),
        ("[schedule]\nsegment = \"2d\"", "schedule.segment", "to 24h"),
        (
            "[capture]\ntimeout = \"100ms\"",
            "capture.timeout",
            "from 1s to 10m",
        ),
        (
            "[privacy]\nreview_delay = \"8d\"",
            "privacy.review_delay",
            "to 168h",
        ),
        ("[capture]\nquality = 0", "capture.quality", "1 to 100"),
        (
            "[server]\nurl = \"http://example.com\"",
            "server.url",
            "https://",
        ),
        ("[server]\nurl = \"ftp://x\"", "server.url", "https://"),
        (
            "[server]\npin_sha256 = \"abc\"",
            "server.pin_sha256",
            "64 hex digits",
        ),
        (
            "[server]\nca_file = \"/nonexistent.pem\"",
            "server.ca_file",
            "existing PEM",
        ),
        (
            "[capture]\nformat = \"png\"",
            "capture.format",
            "\"webp\" or \"jpeg\"",
        ),
        (
            "[capture]\nmax_width = -5",
            "capture.max_width",
            "0 to 16384",
        ),
        (
            "[schedule]\nminute = \"1m\"\nsegment = \"30s\"",
            "schedule.segment",
            "at least",
        ),
    ];
    for (text, key, expected) in cases {
        let err = refusal(text);
        assert!(err.contains("/etc/stint/stint.toml"), "{err}");
        assert!(err.contains(key), "{err}");
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_rejected_with_the_file_named() {
    for text in [
        "[schedule]\nminutes = \"2s\"",
        "[capture]\nscreenshots = \"yes\"",
        "oops",
    ] {
        let err = refusal(text);
        assert!(
            err.starts_with("config file /etc/stint/stint.toml"),
            "{err}"
        );
    }
}

#[test]
fn shipped_example_parses_and_matches_the_defaults() {
    let mut c = Config::defaults().unwrap();
    c.apply_str(include_str!("../../assets/stint.example.toml"), file())
        .unwrap();
    let mut d = Config::defaults().unwrap();
    d.sources = c.sources.clone();
    assert_eq!(
        c, d,
        "assets/stint.example.toml documents the real defaults"
    );
}

/// The shipped rules are in force without a file, a layer's rules add to
/// them once each, `builtin_rules = false` drops only the shipped ones, and
/// a bad rule is refused naming the file, the rule and the problem.
#[test]
fn privacy_rules_add_up_layer_by_layer() {
    let builtins = builtin_rules();
    let mine = "[[privacy.rules]]\nlabel = \"Bank\"\ntitle = \"bank\"\nactions = [\"untracked\"]\n";
    let labels = |c: &Config| {
        c.privacy
            .rules
            .iter()
            .map(|r| r.label.clone())
            .collect::<Vec<_>>()
    };
    let mut c = Config::defaults().unwrap();
    assert_eq!(c.privacy.rules, builtins);
    c.apply_str(mine, file()).unwrap();
    c.apply_str(mine, file()).unwrap();
    assert_eq!(labels(&c), ["Password manager", "Private browsing", "Bank"]);
    c.apply_str("[privacy]\nbuiltin_rules = false\n", file())
        .unwrap();
    assert_eq!(labels(&c), ["Bank"]);
    c.apply_str("[privacy]\nbuiltin_rules = true\n", file())
        .unwrap();
    assert_eq!(labels(&c), ["Password manager", "Private browsing", "Bank"]);
    for (text, want) in [
        (
            "[[privacy.rules]]\nlabel = \"X\"\ntitel = \"x\"\nactions = [\"untracked\"]\n",
            "unknown field `titel`",
        ),
        (
            "[[privacy.rules]]\nlabel = \"X\"\ntitle_regex = \"(\"\nactions = [\"untracked\"]\n",
            "`privacy.rules`: rule 1 (\"X\"): title_regex",
        ),
        (
            "[[privacy.rules]]\nlabel = \"X\"\nactions = [\"untracked\"]\n",
            "matches every window",
        ),
    ] {
        let err = refusal(text);
        assert!(
            err.contains(want) && err.contains("/etc/stint/stint.toml"),
            "{err}"
        );
    }
}
