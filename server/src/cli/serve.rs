//! `stint-server serve`: its flags, the TLS files (generated on first
//! start), the state the handlers share, and the listener: TLS, connection
//! admission, timeouts, the routers of the API, the web UI and the
//! operations endpoints, the hourly jobs, and a graceful stop on SIGTERM or
//! Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use stint_server::certs;
use stint_server::state::{AppState, Limits};

#[derive(clap::Args)]
pub struct Serve {
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Extra DNS name or IP for the generated certificate (repeatable).
    #[arg(long = "hostname")]
    hostnames: Vec<String>,
    /// PEM certificate chain to serve instead of the generated one.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key for --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Requests per second per device before 429 (0 = unlimited).
    #[arg(long, default_value_t = 200.0)]
    rate_limit: f64,
    /// Requests per second per client address (an IPv6 client's /64)
    /// before 429, counted before the device token is checked (0 = unlimited).
    #[arg(long, default_value_t = 2000.0)]
    address_rate_limit: f64,
    /// Largest minute batch body in bytes (larger gets 413).
    #[arg(long, default_value_t = 4 << 20)]
    max_batch_bytes: usize,
    /// Largest capture body in bytes (larger gets 413).
    #[arg(long, default_value_t = 32 << 20)]
    max_capture_bytes: usize,
    /// Most simultaneous connections; always kept below the open-file limit.
    /// When reached, the connection that has been quiet longest is closed.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Seconds a client may take for the TLS handshake, to send a request's
    /// headers, between two chunks of a body, and idle between requests.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    idle_timeout: u64,
    /// The address people open the web UI at, e.g. https://stint.example.com
    /// (the OIDC redirect goes back to it).
    #[arg(long, env = "STINT_SERVER_PUBLIC_URL")]
    public_url: Option<String>,
    /// Log people in through this OpenID Connect provider too, e.g.
    /// https://login.example.com/realms/staff (needs --public-url and the client).
    #[arg(long, env = "STINT_SERVER_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret", "public_url"])]
    oidc_issuer: Option<String>,
    /// This server's client id at the provider.
    #[arg(long, env = "STINT_SERVER_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// This server's client secret at the provider (better from the environment).
    #[arg(long, env = "STINT_SERVER_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// Testing aid: force answers on the next requests, e.g. "minutes=500,429;captures=503".
    #[cfg(feature = "faults")]
    #[arg(long, hide = true, env = "STINT_SERVER_FAULTS", default_value = "")]
    inject_faults: String,
}

pub fn run(place: &super::Place, args: Serve) -> anyhow::Result<()> {
    let store = Arc::new(place.open()?);
    let dir = &place.data_dir;
    let tls = match (args.cert, args.key) {
        (Some(cert), Some(key)) => certs::TlsFiles {
            cert,
            key,
            ca: None,
        },
        _ => {
            let mut names = certs::default_names(&args.hostnames);
            if !args.listen.ip().is_unspecified() {
                names.push(args.listen.ip().to_string());
            }
            let (files, created) = certs::ensure(dir, &names)?;
            let ca = files.ca.clone().expect("generated files include a CA");
            if created {
                println!("generated a CA and server certificate for {names:?}");
            }
            println!("CA certificate: {}", ca.display());
            println!("CA SHA-256 fingerprint: {}", certs::fingerprint(&ca)?);
            let key_pem = std::fs::read_to_string(&files.key)
                .with_context(|| format!("{}", files.key.display()))?;
            println!(
                "server key pin (pin_sha256): {}",
                certs::spki_pin(&key_pem)?
            );
            files
        }
    };
    if let Some(said) = stint_server::private::tighten_key(&tls.key)
        .with_context(|| format!("{}", tls.key.display()))?
    {
        eprintln!("stint-server: warning: {said}");
    }
    let limits = Limits {
        max_batch_bytes: args.max_batch_bytes,
        max_capture_bytes: args.max_capture_bytes,
        rate_per_sec: args.rate_limit,
        address_rate_per_sec: args.address_rate_limit,
        idle_timeout: Duration::from_secs(args.idle_timeout),
    };
    let fd_limit = stint_server::conns::raise_fd_limit();
    let max_connections = stint_server::conns::ceiling(args.max_connections, fd_limit);
    println!(
        "accepting at most {max_connections} connections (open-file limit {})",
        fd_limit.map_or("none".to_string(), |n| n.to_string())
    );
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    #[cfg(feature = "faults")]
    let state = AppState::with_faults(
        store,
        limits,
        stint_server::faults::Faults::parse(&args.inject_faults)
            .map_err(|e| anyhow::anyhow!("--inject-faults: {e}"))?,
    );
    #[cfg(not(feature = "faults"))]
    let state = AppState::new(store, limits);
    if let (Some(issuer), Some(id), Some(secret), Some(url)) = (
        args.oidc_issuer,
        args.oidc_client_id,
        args.oidc_client_secret,
        args.public_url,
    ) {
        let oidc = stint_server::oidc::Oidc::new(&issuer, &id, &secret, &url)?;
        println!(
            "OIDC login through {issuer}; redirect URI {}",
            oidc.redirect_uri
        );
        let _ = state.oidc.set(oidc);
    }
    rt.block_on(serve(args.listen, tls, max_connections, state))
}

/// Resolves on Ctrl-C, or SIGTERM where there is one (service managers send it).
/// Registered before it is awaited, so an early stop request is not lost.
#[cfg_attr(not(unix), allow(clippy::manual_async_fn))] // the same shape on every OS
fn stop_requested() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn serve(
    listen: SocketAddr,
    tls: certs::TlsFiles,
    max_connections: usize,
    state: Arc<AppState>,
) -> anyhow::Result<()> {
    let idle = state.limits.idle_timeout;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .with_context(|| format!("TLS files {} / {}", tls.cert.display(), tls.key.display()))?;
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    let stop = stop_requested();
    tokio::spawn(async move {
        stop.await;
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    stint_server::jobs::spawn(state.store.clone());
    stint_server::hooks::spawn(state.store.clone());
    let announce = handle.clone();
    tokio::spawn(async move {
        if let Some(addr) = announce.listening().await {
            println!("listening on https://{addr}");
        }
    });
    let app = stint_server::api::router(state.clone())
        .merge(stint_server::web::router(state.clone()))
        .merge(stint_server::ops::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state,
            stint_server::ops::track,
        ))
        .into_make_service_with_connect_info::<SocketAddr>();
    // Quiet connections give way when the table is full; only one quiet for
    // a second or more, so a request in flight is never the one cut.
    let table = stint_server::conns::ConnTable::new(max_connections, Duration::from_secs(1));
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
        .handshake_timeout(idle)
        .acceptor(stint_server::conns::Admit { table });
    let mut server = axum_server::bind(listen).acceptor(acceptor).handle(handle);
    // The header timeout also bounds how long a kept-alive connection may sit
    // between requests (hyper starts it whenever it waits for a request head).
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(idle)
        .max_headers(64);
    server
        .serve(app)
        .await
        .with_context(|| format!("serving on {listen}"))
}
