//! `stint-server serve`'s listener: TLS, connection admission, timeouts, the
//! routers of the API, the web UI and the operations endpoints, the hourly
//! jobs, and a graceful stop on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use stint_server::api;
use stint_server::certs;

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

pub async fn serve(
    listen: SocketAddr,
    tls: certs::TlsFiles,
    max_connections: usize,
    state: Arc<api::AppState>,
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
    let announce = handle.clone();
    tokio::spawn(async move {
        if let Some(addr) = announce.listening().await {
            println!("listening on https://{addr}");
        }
    });
    let app = api::router(state.clone())
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
