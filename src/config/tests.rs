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
        let err = Config::defaults()
            .unwrap()
            .apply_str(text, file())
            .unwrap_err()
            .to_string();
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
        let err = Config::defaults()
            .unwrap()
            .apply_str(text, file())
            .unwrap_err()
            .to_string();
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
