//! First-start TLS material: a private CA and a server certificate it signs, so a
//! newcomer can point an agent at the server with one file (or one fingerprint).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};

/// Where the server's TLS files live and what to tell an admin about them.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Only set when the server generated its own CA.
    pub ca: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: no PEM certificate in the file")]
    NoCert { path: PathBuf },
    #[error("{dir} holds {present} but not {missing}: refusing to make a new CA, which would lock out every enrolled agent; restore {missing}, or move the TLS files away to start over (agents then need the new ca.pem)")]
    Partial {
        dir: PathBuf,
        present: String,
        missing: String,
    },
}

/// Writes new key material, never over a file that exists: the key 0600 from
/// its creation, certificates 0644.
fn write(path: &Path, data: &str, private: bool) -> Result<(), CertError> {
    use std::io::Write;
    let err = |source| CertError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f =
        crate::private::create_new(path, if private { 0o600 } else { 0o644 }).map_err(err)?;
    f.write_all(data.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

/// Names the generated server certificate answers to: loopback, this host, and
/// whatever the admin adds with `--hostname`.
pub fn default_names(extra: &[String]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        names.push(h.trim().to_string());
    }
    names.extend(extra.iter().cloned());
    names.retain(|n| !n.is_empty());
    names.dedup();
    names
}

/// A CA and a leaf certificate for `names`, as PEM strings (ca, cert, key).
/// `validity` overrides the leaf's (not_before, not_after) as (year, month, day);
/// tests use it to make an expired certificate.
pub type Ymd = (i32, u8, u8);

pub fn generate(
    names: &[String],
    validity: Option<(Ymd, Ymd)>,
) -> Result<(String, String, String), CertError> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut dn = DistinguishedName::new();
    // A unique name per CA: two servers' CAs must never be mistaken for each other.
    let tag = &crate::store::new_secret("")[..8];
    dn.push(DnType::CommonName, format!("stint-server local CA {tag}"));
    ca.distinguished_name = dn;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "stint-server");
    leaf.distinguished_name = dn;
    if let Some(((y0, m0, d0), (y1, m1, d1))) = validity {
        leaf.not_before = rcgen::date_time_ymd(y0, m0, d0);
        leaf.not_after = rcgen::date_time_ymd(y1, m1, d1);
    }
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok((ca_cert.pem(), cert.pem(), key.serialize_pem()))
}

/// Returns the TLS files in `data_dir`, generating a CA and server certificate
/// on first start, and only then: existing key material is never replaced.
pub fn ensure(data_dir: &Path, names: &[String]) -> Result<(TlsFiles, bool), CertError> {
    let files = TlsFiles {
        cert: data_dir.join("server.pem"),
        key: data_dir.join("server.key"),
        ca: Some(data_dir.join("ca.pem")),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok((files, false));
    }
    let all = [
        files.ca.as_deref().expect("set above"),
        &files.cert,
        &files.key,
    ];
    let name = |p: &&Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let (present, missing): (Vec<&Path>, Vec<&Path>) = all.iter().partition(|p| p.exists());
    if !present.is_empty() {
        return Err(CertError::Partial {
            dir: data_dir.to_path_buf(),
            present: present.iter().map(name).collect::<Vec<_>>().join(", "),
            missing: missing.iter().map(name).collect::<Vec<_>>().join(", "),
        });
    }
    let (ca, cert, key) = generate(names, None)?;
    write(files.ca.as_ref().expect("set above"), &ca, false)?;
    write(&files.key, &key, true)?;
    write(&files.cert, &cert, false)?;
    Ok((files, true))
}

/// SHA-256 of the first certificate in a PEM file, as colon-separated hex (the
/// form browsers and `openssl x509 -fingerprint -sha256` show).
pub fn fingerprint(pem_path: &Path) -> Result<String, CertError> {
    let der = first_cert_der(pem_path)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    Ok(digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// Hex SHA-256 of the server key's SubjectPublicKeyInfo: the agent's
/// `[server] pin_sha256` value.
pub fn spki_pin(key_pem: &str) -> Result<String, CertError> {
    let key = KeyPair::from_pem(key_pem)?;
    Ok(crate::store::sha256_hex(&key.subject_public_key_info()))
}

fn first_cert_der(path: &Path) -> Result<Vec<u8>, CertError> {
    use rustls::pki_types::pem::PemObject;
    let data = std::fs::read(path).map_err(|source| CertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    rustls::pki_types::CertificateDer::pem_slice_iter(&data)
        .next()
        .and_then(Result::ok)
        .map(|c| c.to_vec())
        .ok_or_else(|| CertError::NoCert {
            path: path.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_key_material_is_never_replaced() {
        let dir =
            std::env::temp_dir().join(format!("stint-certs-{}", crate::store::new_secret("")));
        std::fs::create_dir_all(&dir).unwrap();
        let names = vec!["localhost".to_string()];
        let (files, created) = ensure(&dir, &names).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let ca = std::fs::read(dir.join("ca.pem")).unwrap();
        assert!(
            !ensure(&dir, &names).unwrap().1,
            "second start: the same files"
        );
        std::fs::remove_file(&files.key).unwrap();
        let err = ensure(&dir, &names).unwrap_err().to_string();
        assert!(
            err.contains("server.key") && err.contains("refusing"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(dir.join("ca.pem")).unwrap(),
            ca,
            "CA untouched"
        );
        assert!(!files.key.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
