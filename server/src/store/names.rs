//! What the store accepts as an email, a person's or team's name and a time
//! zone, checked here once for the command line and the web UI alike; each
//! refusal names the value and the form expected.

use super::StoreError;

/// RFC 5321's longest address.
pub const MAX_EMAIL: usize = 254;
/// Names of people and teams.
pub const MAX_NAME: usize = 100;

fn invalid(field: &str, value: &str, expected: &str) -> StoreError {
    let shown: String = value.chars().take(60).collect();
    StoreError::Invalid(format!("{field} {shown:?}: expected {expected}"))
}

/// An email as stored: trimmed and lower-case, one `@` between a local part
/// and a domain, no spaces or control characters, at most [`MAX_EMAIL`].
pub fn email(text: &str) -> Result<String, StoreError> {
    let e = text.trim().to_lowercase();
    let expected = "an address like name@example.com (at most 254 characters)";
    let well_formed = e.len() <= MAX_EMAIL
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if well_formed {
        Ok(e)
    } else {
        Err(invalid("email", text, expected))
    }
}

/// A person's or team's name: trimmed, 1 to [`MAX_NAME`] characters, no
/// control characters.
pub fn name(field: &str, text: &str) -> Result<String, StoreError> {
    let n = text.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(invalid(
            field,
            text,
            "1 to 100 characters without control characters",
        ));
    }
    Ok(n.to_string())
}

/// An IANA time zone such as Europe/Berlin; empty means UTC.
pub fn time_zone(text: &str) -> Result<String, StoreError> {
    let z = text.trim();
    if z.is_empty() {
        return Ok("UTC".to_string());
    }
    z.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| {
            invalid(
                "time zone",
                text,
                "an IANA zone such as Europe/Berlin or UTC",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_names_and_zones_table() {
        let long = format!("{}@example.com", "a".repeat(250));
        for (text, want) in [
            (" Max@Example.COM ", Some("max@example.com")),
            ("max", None),
            ("@example.com", None),
            ("max@", None),
            ("ma x@example.com", None),
            ("max@a@b", None),
            ("max\u{7}@example.com", None),
            (long.as_str(), None),
        ] {
            assert_eq!(email(text).ok().as_deref(), want, "{text:?}");
        }
        assert!(email("max")
            .unwrap_err()
            .to_string()
            .contains("name@example.com"));
        for (text, want) in [
            (" Support ", Some("Support")),
            ("", None),
            ("   ", None),
            ("a\nb", None),
        ] {
            assert_eq!(name("team", text).ok().as_deref(), want, "{text:?}");
        }
        assert!(name("team", &"x".repeat(101)).is_err());
        for (text, want) in [
            ("Europe/Berlin", Some("Europe/Berlin")),
            ("", Some("UTC")),
            ("Mars/Olympus", None),
        ] {
            assert_eq!(time_zone(text).ok().as_deref(), want, "{text:?}");
        }
    }
}
