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
    "credential_source",
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
    #[error("{variable}={name}: no such profile in {credentials} or {config}")]
    Missing {
        variable: &'static str,
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

/// The profile the environment names and the variable naming it:
/// `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`; an empty one names none.
pub fn named(env: &dyn Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
    let (variable, name) = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
        .into_iter()
        .find_map(|v| env(v).map(|n| (v, n)))?;
    (!name.is_empty()).then_some((variable, name))
}

/// Reads the profile the environment names (`named`), else `default`,
/// through `env`, the process environment in production. `Ok(None)` when
/// there is no profile and none was asked for.
pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Profile>, ProfileError> {
    let asked = named(env);
    let name = asked
        .as_ref()
        .map_or_else(|| "default".to_string(), |(_, n)| n.clone());
    // Without a home and without the variables there are no files to read.
    let home = env("HOME")
        .or_else(|| env("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let file = |var: &str, leaf: &str| {
        env(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(leaf)))
    };
    let (credentials, config) = (
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        file("AWS_CONFIG_FILE", "config"),
    );
    // The config file names non-default profiles "profile NAME"; the
    // default one may be either.
    let mut from_config = None;
    if let Some(config) = &config {
        from_config = section(config, &format!("profile {name}"))?;
        if from_config.is_none() && name == "default" {
            from_config = section(config, "default")?;
        }
    }
    let from_credentials = match &credentials {
        Some(c) => section(c, &name)?,
        None => None,
    };
    if from_config.is_none() && from_credentials.is_none() {
        let shown = |p: Option<PathBuf>| p.unwrap_or_else(|| "(no HOME)".into());
        return match asked {
            Some((variable, name)) => Err(ProfileError::Missing {
                variable,
                name,
                credentials: shown(credentials),
                config: shown(config),
            }),
            None => Ok(None),
        };
    }
    let config = from_config.unwrap_or_default();
    let creds = from_credentials.unwrap_or_default();
    let unusable = |message: String| ProfileError::Unusable {
        name: name.clone(),
        message,
    };
    // The AWS tools act on these even beside static keys (assume the role,
    // run the program); signing with the static keys instead would be a
    // different identity than the admin configured.
    if let Some(k) = INDIRECT
        .iter()
        .find(|k| creds.contains_key(**k) || config.contains_key(**k))
    {
        return Err(unusable(format!(
            "gets its credentials through {k}, which stint-server does not run; \
             give it only aws_access_key_id and aws_secret_access_key, or set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )));
    }
    let get = |m: &BTreeMap<String, String>, k: &str| m.get(k).filter(|v| !v.is_empty()).cloned();
    // The key set comes whole from one file: the credentials file if it
    // holds any of it, else the config file.
    const KEYS: [&str; 3] = [
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    ];
    let from = if KEYS.iter().any(|k| get(&creds, k).is_some()) {
        &creds
    } else {
        &config
    };
    let keys = match (
        get(from, "aws_access_key_id"),
        get(from, "aws_secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Some((id, secret, get(from, "aws_session_token"))),
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
        (None, None) => None,
    };
    let either = |k: &str| get(&creds, k).or_else(|| get(&config, k));
    Ok(Some(Profile {
        keys,
        region: either("region"),
        endpoint_url: either("endpoint_url"),
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
            // The AWS tools speak plain HTTP to an http:// endpoint (a MinIO
            // on the LAN); object_store needs telling.
            if endpoint.starts_with("http://") {
                builder = builder
                    .with_config(K::Client(object_store::ClientConfigKey::AllowHttp), "true");
            }
            builder = builder.with_config(K::Endpoint, endpoint);
        }
    }
    builder
}

/// The `key = value` pairs of `[wanted]` in an INI-style AWS file; `None`
/// when the file or the section is absent.
fn section(
    path: &std::path::Path,
    wanted: &str,
) -> Result<Option<BTreeMap<String, String>>, ProfileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ProfileError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
        }
    };
    let mut current: Option<String> = None;
    let mut found: Option<BTreeMap<String, String>> = None;
    // As Python's configparser reads them (the AWS CLI's parser): a line
    // indented deeper than the key above it continues that key (a nested
    // `s3 =` block, a multi-line value), which nothing here reads.
    let mut key_indent: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if key_indent.is_some_and(|k| indent > k) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            if name == wanted {
                found.get_or_insert_with(BTreeMap::new);
            }
            current = Some(name);
            key_indent = None;
            continue;
        }
        let Some(at) = line.find(['=', ':']) else {
            return Err(ProfileError::Syntax {
                path: path.to_path_buf(),
                line: i + 1,
                found: line.chars().take(60).collect(),
            });
        };
        let (k, v) = (&line[..at], &line[at + 1..]);
        key_indent = Some(indent);
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

[mixed]
aws_access_key_id = AKIDMIXED

[images]
aws_access_key_id=AKIDIMAGES
aws_secret_access_key=secret-images
aws_session_token = token-images
";
    const CONFIG: &str = "\
  [profile indented]
  aws_access_key_id: AKIDINDENTED
  aws_secret_access_key: secret-indented

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

[profile both]
aws_access_key_id = AKIDBOTH
aws_secret_access_key = secret-both
role_arn = arn:aws:iam::1:role/images

[profile mixed]
aws_secret_access_key = secret-from-config
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
        assert_eq!(
            profile(Some("indented")),
            ok(
                "indented",
                keys("AKIDINDENTED", "secret-indented", None),
                None,
                None
            )
        );
        unusable(
            "assumed",
            "through role_arn, which stint-server does not run",
        );
        unusable("both", "through role_arn, which stint-server does not run");
        unusable("half", "has aws_access_key_id but no aws_secret_access_key");
        // The key set is never stitched together from both files.
        unusable(
            "mixed",
            "has aws_access_key_id but no aws_secret_access_key",
        );
        let e = profile(Some("nobody")).unwrap_err().to_string();
        assert!(
            e.contains("AWS_PROFILE=nobody: no such profile in")
                && e.contains(".aws/credentials")
                && e.contains(".aws/config"),
            "{e}"
        );
    }

    #[test]
    fn the_default_profile_may_be_named_either_way_and_by_aws_default_profile() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "[profile default]\nregion = eu-north-1\n[profile ops]\nregion = us-west-2\n",
        )
        .unwrap();
        let c = config.display().to_string();
        let region = |default_profile: Option<&str>| {
            let (c, d) = (c.clone(), default_profile.map(str::to_string));
            load(&move |k| match k {
                "AWS_CONFIG_FILE" => Some(c.clone()),
                "AWS_DEFAULT_PROFILE" => d.clone(),
                _ => None,
            })
            .unwrap()
            .and_then(|p| p.region)
        };
        assert_eq!(region(None).as_deref(), Some("eu-north-1"));
        assert_eq!(region(Some("ops")).as_deref(), Some("us-west-2"));
        let e = load(&|k| (k == "AWS_DEFAULT_PROFILE").then(|| "nobody".to_string()));
        assert!(
            e.unwrap_err()
                .to_string()
                .starts_with("AWS_DEFAULT_PROFILE=nobody: no such profile"),
            "the variable that named it"
        );
        // No HOME and no file variables: nothing to read, no error.
        assert_eq!(load(&|_| None), Ok(None));
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
