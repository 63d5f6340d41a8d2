//! TLS for uploads: the OS trust store (so corporate CAs work), an optional extra
//! CA file, and an optional pin on the server's public key.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("server.ca_file {path}: {message}")]
    CaFile { path: String, message: String },
    #[error("TLS set-up: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Wraps the platform verifier; after it accepts a chain, also requires the
/// leaf's SubjectPublicKeyInfo to hash to the configured pin.
#[derive(Debug)]
struct Pinned {
    inner: Arc<dyn ServerCertVerifier>,
    pin: Option<String>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
        if let Some(pin) = &self.pin {
            let cert = webpki::EndEntityCert::try_from(end_entity)
                .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
            let spki = cert.subject_public_key_info();
            let digest = ring_sha256(spki.as_ref());
            if &digest != pin {
                return Err(rustls::Error::General(format!(
                    "the server's public key (sha256 {digest}) does not match server.pin_sha256"
                )));
            }
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Hex SHA-256, the form `stint-server serve` prints the pin in.
fn ring_sha256(data: &[u8]) -> String {
    use std::fmt::Write;
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn read_cas(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    let err = |message: String| TlsSetupError::CaFile {
        path: path.display().to_string(),
        message,
    };
    let data = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("not PEM certificates: {e:?}")))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// Chains to the certificates of `server.ca_file` alone, checked by webpki.
fn ca_file_verifier(
    cas: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        roots.add(ca)?;
    }
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map(|v| v as Arc<dyn ServerCertVerifier>)
        .map_err(|e| TlsSetupError::Rustls(rustls::Error::General(e.to_string())))
}

pub fn client_config(
    ca_file: Option<&Path>,
    pin: Option<&str>,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra = match ca_file {
        Some(p) => read_cas(p)?,
        None => Vec::new(),
    };
    let inner: Arc<dyn ServerCertVerifier> =
        match rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra.clone(),
            provider.clone(),
        ) {
            Ok(platform) => Arc::new(platform),
            // Windows before 8 (and Wine) cannot add roots to its chain engine
            // (hExclusiveRoot). The admin named the CA to trust: trust that one.
            Err(e) if !extra.is_empty() => {
                tracing::warn!(error = %e, "the OS trust store cannot take server.ca_file here; trusting only server.ca_file");
                ca_file_verifier(extra, provider.clone())?
            }
            Err(e) => return Err(e.into()),
        };
    let verifier = Pinned {
        inner,
        pin: pin.map(str::to_string),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// Turns a failed request into a sentence an admin can act on, naming the TLS
/// problem when there is one.
pub fn explain(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(t) = tls {
            return describe(t);
        }
        source = e.source();
    }
    let mut text = err.to_string();
    let mut s = std::error::Error::source(err);
    while let Some(e) = s {
        text.push_str(": ");
        text.push_str(&e.to_string());
        s = e.source();
    }
    // Some connectors hide the rustls error behind their own types; its text
    // still names the certificate problem.
    if let Some(rest) = text.split("invalid peer certificate: ").nth(1) {
        let kind = if rest.starts_with("certificate not valid for name") {
            "NotValidForName"
        } else if rest.starts_with("certificate expired") {
            "Expired"
        } else if rest.starts_with("certificate not valid yet") {
            "NotValidYet"
        } else {
            rest.split([':', ' ', ',']).next().unwrap_or("")
        };
        return format!("TLS refused: {}", certificate_problem(kind));
    }
    if let Some(pos) = text.find("does not match server.pin_sha256") {
        let start = text[..pos].rfind("the server's public key").unwrap_or(pos);
        return format!("TLS refused: {}", &text[start..]);
    }
    text
}

fn certificate_problem(kind: &str) -> String {
    match kind {
        "UnknownIssuer" | "BadSignature" => "the server's certificate is signed by a CA this machine does not trust (add it to the OS trust store or set server.ca_file)".into(),
        "NotValidForName" | "NotValidForNameContext" => "the server's certificate is not valid for the host name in server.url".into(),
        "Expired" | "ExpiredContext" => "the server's certificate has expired".into(),
        "NotValidYet" | "NotValidYetContext" => "the server's certificate is not valid yet (check this machine's clock)".into(),
        "Revoked" => "the server's certificate is revoked".into(),
        other => format!("the server's certificate is invalid ({other})"),
    }
}

fn describe(e: &rustls::Error) -> String {
    use CertificateError as C;
    let why = match e {
        rustls::Error::InvalidCertificate(c) => certificate_problem(match c {
            C::UnknownIssuer | C::BadSignature => "UnknownIssuer",
            C::NotValidForName | C::NotValidForNameContext { .. } => "NotValidForName",
            C::Expired | C::ExpiredContext { .. } => "Expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "NotValidYet",
            C::Revoked => "Revoked",
            other => {
                return format!("TLS refused: the server's certificate is invalid ({other:?})")
            }
        }),
        rustls::Error::General(m) => m.clone(),
        other => other.to_string(),
    };
    format!("TLS refused: {why}")
}
