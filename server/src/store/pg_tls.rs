//! TLS to PostgreSQL, with rustls, as libpq's `sslmode` says: `disable`
//! (none), `prefer` (the default: TLS when the server offers it, the
//! certificate not checked), `require` (TLS, the certificate not checked
//! unless `sslrootcert` names a CA, which makes it `verify-ca`),
//! `verify-ca` (the chain, to `sslrootcert` or the system's roots) and
//! `verify-full` (the chain and the host name). The postgres crate knows
//! only the first three; the others and `sslrootcert` are read here and
//! taken out of the connection string before it sees it.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection string split into what the postgres crate reads and what
/// this module does.
#[derive(Debug)]
pub struct Target {
    pub config: postgres::Config,
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
}

fn bad(text: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, text.into())
}

/// Reads `url` (a `postgres://` URL, or libpq's `key=value` words).
pub fn parse(url: &str) -> io::Result<Target> {
    let mut mode = None;
    let mut root_cert = None;
    let mut take = |key: &str, value: &str| -> io::Result<bool> {
        match key {
            "sslmode" => {
                mode = Some(match value {
                    "disable" => SslMode::Disable,
                    "prefer" | "allow" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(bad(format!(
                            "sslmode={other:?}: expected disable, prefer, require, verify-ca or verify-full"
                        )))
                    }
                });
                Ok(true)
            }
            "sslrootcert" => {
                root_cert = Some(PathBuf::from(value));
                Ok(true)
            }
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => Err(bad(format!(
                "{key}: client certificates are not supported; log in with a password"
            ))),
            _ => Ok(false),
        }
    };
    let rest = if let Some((base, query)) = url
        .split_once('?')
        .filter(|_| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        let mut kept = Vec::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if !take(&k, &v)? {
                kept.push((k.into_owned(), v.into_owned()));
            }
        }
        if kept.is_empty() {
            base.to_string()
        } else {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&kept)
                .finish();
            format!("{base}?{q}")
        }
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url.to_string()
    } else {
        let mut kept = Vec::new();
        for word in url.split_whitespace() {
            match word.split_once('=') {
                Some((k, v)) if take(k, v.trim_matches('\''))? => {}
                _ => kept.push(word),
            }
        }
        kept.join(" ")
    };
    let mut config: postgres::Config = rest
        .parse()
        .map_err(|e| bad(format!("the database address: {e}")))?;
    // A mode spelled so that it was not taken out here (`sslmode = require`)
    // was read by the postgres crate, which knows the first three: keep it.
    let mode = mode.unwrap_or(match config.get_ssl_mode() {
        postgres::config::SslMode::Disable => SslMode::Disable,
        postgres::config::SslMode::Require => SslMode::Require,
        _ => SslMode::Prefer,
    });
    let mode = match (mode, &root_cert) {
        // libpq: require with a root certificate checks the chain.
        (SslMode::Require, Some(_)) => SslMode::VerifyCa,
        // A chain without a name is worth something only to a CA of one's
        // own: any certificate the public roots vouch for would pass.
        (SslMode::VerifyCa, None) => {
            return Err(bad(
                "sslmode=verify-ca needs sslrootcert=CA.pem (the CA that signed the database's certificate); with the system's roots use verify-full",
            ))
        }
        (m, _) => m,
    };
    config.ssl_mode(match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        _ => postgres::config::SslMode::Require,
    });
    Ok(Target {
        config,
        mode,
        root_cert,
    })
}

/// Checks nothing: `prefer` and `require` encrypt without knowing whom to.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain as the inner verifier checks it, whatever name
/// the certificate is for.
#[derive(Debug)]
struct ChainOnly(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        match self
            .0
            .verify_server_cert(end, intermediates, name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The rustls client configuration `target` asks for.
pub fn client_config(target: &Target) -> io::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let checked: Arc<dyn ServerCertVerifier> = match &target.root_cert {
        Some(path) => {
            use rustls::pki_types::pem::PemObject;
            let pem = std::fs::read(path)
                .map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?;
            }
            if roots.is_empty() {
                return Err(bad(format!(
                    "sslrootcert {}: no PEM certificate in it",
                    path.display()
                )));
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| bad(format!("the system's certificate roots: {e}")))?,
        ),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match target.mode {
        SslMode::VerifyFull => checked,
        SslMode::VerifyCa => Arc::new(ChainOnly(checked)),
        _ => Arc::new(Unchecked(provider.clone())),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The postgres crate's TLS hook, made of rustls.
#[derive(Clone)]
pub struct MakeRustls(pub Arc<rustls::ClientConfig>);

pub struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| bad(format!("{domain:?} as a TLS server name: {e}")))?;
        Ok(RustlsConnect {
            config: self.0.clone(),
            name,
        })
    }
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await?;
            Ok(RustlsStream(tls))
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

/// Connects as `url` says, TLS included.
pub fn connect(url: &str) -> Result<postgres::Client, super::SqlError> {
    let target = parse(url)?;
    let tls = MakeRustls(Arc::new(client_config(&target)?));
    Ok(target.config.connect(tls)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_words_are_read_and_taken_out() {
        for (url, mode, root) in [
            ("postgres://u@h/db", SslMode::Prefer, None),
            ("postgres://u@h/db?sslmode=disable", SslMode::Disable, None),
            (
                "postgres://u@h/db?sslmode=require&application_name=x",
                SslMode::Require,
                None,
            ),
            (
                "postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem",
                SslMode::VerifyCa,
                Some("/ca.pem"),
            ),
            (
                "postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fca.pem",
                SslMode::VerifyFull,
                Some("/ca.pem"),
            ),
            (
                "host=h user=u sslmode=verify-ca sslrootcert=/ca.pem",
                SslMode::VerifyCa,
                Some("/ca.pem"),
            ),
            ("host=h user=u sslmode = require", SslMode::Require, None),
        ] {
            let t = parse(url).unwrap();
            assert_eq!(
                (t.mode, t.root_cert.as_deref()),
                (mode, root.map(std::path::Path::new)),
                "{url}"
            );
        }
        for (url, said) in [
            (
                "postgres://u@h/db?sslmode=paranoid",
                "expected disable, prefer",
            ),
            (
                "postgres://u@h/db?sslcert=/c.pem",
                "client certificates are not supported",
            ),
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(e.contains(said), "{url}: {e}");
        }
    }

    /// Against the test cluster (scripts/postgres.sh), whose certificate is
    /// for "localhost" from the CA `STINT_TEST_POSTGRES_CA` names: each
    /// sslmode connects, encrypted or not, or refuses, as libpq's would.
    #[test]
    fn sslmodes_against_the_test_cluster() {
        let (Ok(url), Ok(ca)) = (
            std::env::var("STINT_TEST_POSTGRES"),
            std::env::var("STINT_TEST_POSTGRES_CA"),
        ) else {
            crate::store::not_run(
                "pg_tls::sslmodes_against_the_test_cluster",
                "needs STINT_TEST_POSTGRES and STINT_TEST_POSTGRES_CA (scripts/test.sh starts PostgreSQL with TLS)",
            );
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other-ca.pem");
        let stranger = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(&other, stranger.cert.pem()).unwrap();
        let by_name = url.replace("127.0.0.1", "localhost");
        let encrypted = |url: &str| -> Result<bool, String> {
            let mut c = super::super::Conn::connect_postgres(url).map_err(|e| e.to_string())?;
            c.query_row(
                "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                crate::store::sql::params![],
                |r| r.get::<String>(0),
            )
            .map(|t| t == "true")
            .map_err(|e| e.to_string())
        };
        let other = other.display().to_string();
        for (base, query, want) in [
            (&url, "sslmode=disable".to_string(), Ok(false)),
            (&url, String::new(), Ok(true)),
            (&url, "sslmode=require".to_string(), Ok(true)),
            (
                &by_name,
                format!("sslmode=verify-full&sslrootcert={ca}"),
                Ok(true),
            ),
            (
                &url,
                format!("sslmode=verify-ca&sslrootcert={ca}"),
                Ok(true),
            ),
            (&url, format!("sslmode=require&sslrootcert={ca}"), Ok(true)),
            (
                &url,
                format!("sslmode=verify-full&sslrootcert={ca}"),
                Err("certificate"),
            ),
            (
                &by_name,
                format!("sslmode=verify-full&sslrootcert={other}"),
                Err("certificate"),
            ),
            (
                &by_name,
                "sslmode=verify-full&sslrootcert=/nonexistent.pem".to_string(),
                Err("sslrootcert /nonexistent.pem"),
            ),
        ] {
            let full = if query.is_empty() {
                base.clone()
            } else {
                format!("{base}?{query}")
            };
            match (encrypted(&full), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{full}"),
                (Err(e), Err(said)) => assert!(e.contains(said), "{full}: {e}"),
                (got, want) => panic!("{full}: got {got:?}, want {want:?}"),
            }
        }
    }
}
