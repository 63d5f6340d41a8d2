//! The shared AWS profile files (`~/.aws/credentials`, `~/.aws/config`) for
//! the S3 image store: object_store reads only `AWS_*` variables, and IT often
//! keeps a server's keys in a named profile instead.
//!
//! Precedence is the AWS tools' own: a variable beats the profile, and the
//! credentials file beats the config file for the same key.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Keys that make a profile get its credentials by running something
/// (a role, SSO, a helper program). stint-server does none of that, so a
/// profile that relies on one is refused rather than silently ignored.
const INDIRECT: &[&str] = &[
    "role_arn",
    "credential_process",
    "sso_start_url",
    "sso_session",
    "web_identity_token_file",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path} line {line}: expected \"[section]\" or \"key = value\", found {found:?}")]
    Syntax {
        path: PathBuf,
        line: usize,
        found: String,
    },
    #[error("AWS_PROFILE={name}: no such profile in {credentials} or {config}")]
    Missing {
        name: String,
        credentials: PathBuf,
        config: PathBuf,
    },
    #[error("AWS profile {name:?}: {message}")]
    Unusable { name: String, message: String },
}

/// What a profile gives the S3 client, each value only if the profile has it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    /// Access key id, secret and optional session token, always together.
    pub keys: Option<(String, String, Option<String>)>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Reads the profile that `AWS_PROFILE` names (or `default`) through `env`,
/// the process environment in production. `Ok(None)` when there is no
/// profile and none was asked for.
pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Profile>, ProfileError> {
    let asked = env("AWS_PROFILE").filter(|n| !n.is_empty());
    let name = asked.clone().unwrap_or_else(|| "default".into());
    let home = env("HOME")
        .or_else(|| env("USERPROFILE"))
        .map(PathBuf::from)
        .unwrap_or_default();
    let file = |var: &str, leaf: &str| {
        env(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(leaf))
    };
    let (credentials, config) = (
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        file("AWS_CONFIG_FILE", "config"),
    );
    // The config file names non-default profiles "profile NAME".
    let config_section = match name.as_str() {
        "default" => "default".to_string(),
        other => format!("profile {other}"),
    };
    let from_config = section(&config, &config_section)?;
    let from_credentials = section(&credentials, &name)?;
    if from_config.is_none() && from_credentials.is_none() {
        return match asked {
            Some(name) => Err(ProfileError::Missing {
                name,
                credentials,
                config,
            }),
            None => Ok(None),
        };
    }
    let mut values = from_config.unwrap_or_default();
    values.extend(from_credentials.unwrap_or_default());
    let unusable = |message: String| ProfileError::Unusable {
        name: name.clone(),
        message,
    };
    let get = |k: &str| values.get(k).filter(|v| !v.is_empty()).cloned();
    let keys = match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Some((id, secret, get("aws_session_token"))),
        (Some(_), None) => {
            return Err(unusable(
                "has aws_access_key_id but no aws_secret_access_key".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(unusable(
                "has aws_secret_access_key but no aws_access_key_id".into(),
            ))
        }
        (None, None) => match INDIRECT.iter().find(|k| values.contains_key(**k)) {
            Some(k) => {
                return Err(unusable(format!(
                    "gets its credentials through {k}, which stint-server does not run; \
                     give the profile aws_access_key_id and aws_secret_access_key, or set \
                     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                )))
            }
            None => None,
        },
    };
    Ok(Some(Profile {
        keys,
        region: get("region"),
        endpoint_url: get("endpoint_url"),
        name,
    }))
}

/// What the environment left unset, from the profile. The key pair is taken
/// whole or not at all: an id from one place and a secret from another
/// would sign with a mismatched pair.
pub fn apply(
    mut builder: object_store::aws::AmazonS3Builder,
    profile: Profile,
) -> object_store::aws::AmazonS3Builder {
    use object_store::aws::AmazonS3ConfigKey as K;
    let unset = |b: &object_store::aws::AmazonS3Builder, keys: &[K]| {
        keys.iter().all(|k| b.get_config_value(k).is_none())
    };
    if let Some((id, secret, token)) = profile.keys {
        if unset(&builder, &[K::AccessKeyId, K::SecretAccessKey]) {
            builder = builder
                .with_config(K::AccessKeyId, id)
                .with_config(K::SecretAccessKey, secret);
            if let Some(token) = token {
                builder = builder.with_config(K::Token, token);
            }
        }
    }
    if let Some(region) = profile.region {
        if unset(&builder, &[K::Region, K::DefaultRegion]) {
            builder = builder.with_config(K::Region, region);
        }
    }
    if let Some(endpoint) = profile.endpoint_url {
        if unset(&builder, &[K::Endpoint]) {
            builder = builder.with_config(K::Endpoint, endpoint);
        }
    }
    builder
}

/// The `key = value` pairs of `[wanted]` in an INI-style AWS file; `None`
/// when the file or the section is absent.
fn section(path: &PathBuf, wanted: &str) -> Result<Option<BTreeMap<String, String>>, ProfileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ProfileError::Read {
                path: path.clone(),
                message: e.to_string(),
            })
        }
    };
    let mut current: Option<String> = None;
    let mut found: Option<BTreeMap<String, String>> = None;
    for (i, raw) in text.lines().enumerate() {
        // Indented lines are a nested setting's sub-keys (`s3 =` and its
        // `addressing_style = path`); nothing here reads those.
        if raw.starts_with([' ', '\t']) {
            continue;
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            if name == wanted {
                found.get_or_insert_with(BTreeMap::new);
            }
            current = Some(name);
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(ProfileError::Syntax {
                path: path.clone(),
                line: i + 1,
                found: line.chars().take(60).collect(),
            });
        };
        if current.as_deref() == Some(wanted) {
            if let Some(map) = found.as_mut() {
                map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDENTIALS: &str = "\
# keys for the image bucket
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[images]
aws_access_key_id=AKIDIMAGES
aws_secret_access_key=secret-images
aws_session_token = token-images
";
    const CONFIG: &str = "\
[default]
region = eu-central-1

[profile images]
region = eu-west-3
endpoint_url = https://s3.example.net
s3 =
  addressing_style = path
aws_access_key_id = AKIDFROMCONFIG

[profile config-only]
aws_access_key_id = AKIDCONFIG
aws_secret_access_key = secret-config

[profile assumed]
role_arn = arn:aws:iam::1:role/images
source_profile = default

[profile half]
aws_access_key_id = AKIDHALF
";

    fn keys(
        id: &str,
        secret: &str,
        token: Option<&str>,
    ) -> Option<(String, String, Option<String>)> {
        Some((id.into(), secret.into(), token.map(Into::into)))
    }

    #[test]
    fn profiles_are_read_as_the_aws_tools_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(aws.join("credentials"), CREDENTIALS).unwrap();
        std::fs::write(aws.join("config"), CONFIG).unwrap();
        let home = dir.path().display().to_string();
        let profile = |name: Option<&str>| {
            let home = home.clone();
            let name = name.map(str::to_string);
            load(&move |k| match k {
                "HOME" => Some(home.clone()),
                "AWS_PROFILE" => name.clone(),
                _ => None,
            })
        };
        let ok = |name: &str, keys, region: Option<&str>, endpoint: Option<&str>| {
            Ok(Some(Profile {
                name: name.into(),
                keys,
                region: region.map(Into::into),
                endpoint_url: endpoint.map(Into::into),
            }))
        };
        let unusable = |name: &str, said: &str| {
            let e = profile(Some(name)).unwrap_err().to_string();
            assert!(e.contains(said), "{name}: {e}");
        };
        assert_eq!(
            profile(None),
            ok(
                "default",
                keys("AKIDDEFAULT", "secret-default", None),
                Some("eu-central-1"),
                None
            )
        );
        // The credentials file wins over the config's key for the same profile.
        assert_eq!(
            profile(Some("images")),
            ok(
                "images",
                keys("AKIDIMAGES", "secret-images", Some("token-images")),
                Some("eu-west-3"),
                Some("https://s3.example.net")
            )
        );
        assert_eq!(
            profile(Some("config-only")),
            ok(
                "config-only",
                keys("AKIDCONFIG", "secret-config", None),
                None,
                None
            )
        );
        unusable(
            "assumed",
            "through role_arn, which stint-server does not run",
        );
        unusable("half", "has aws_access_key_id but no aws_secret_access_key");
        let e = profile(Some("nobody")).unwrap_err().to_string();
        assert!(
            e.contains("AWS_PROFILE=nobody: no such profile in")
                && e.contains(".aws/credentials")
                && e.contains(".aws/config"),
            "{e}"
        );
    }

    #[test]
    fn no_files_is_no_profile_unless_one_was_named() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        let env = |named: bool| {
            let home = home.clone();
            move |k: &str| match k {
                "HOME" => Some(home.clone()),
                "AWS_PROFILE" if named => Some("images".to_string()),
                _ => None,
            }
        };
        assert_eq!(load(&env(false)), Ok(None));
        assert!(matches!(
            load(&env(true)),
            Err(ProfileError::Missing { .. })
        ));
    }

    #[test]
    fn a_broken_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(
            &path,
            "[default]\naws_access_key_id = A\nthis is not a setting\n",
        )
        .unwrap();
        let p = path.display().to_string();
        let e = load(&|k| (k == "AWS_SHARED_CREDENTIALS_FILE").then(|| p.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("{p} line 3: expected")) && e.contains("this is not a setting"),
            "{e}"
        );
    }
}
