//! `stint run`: the daemon's wiring. Claims the data dir, binds the control
//! channel (one daemon per session), opens the queue, starts sync, the
//! control server, the tray process and the recorder, and waits for a signal
//! or a Quit.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use stint::config::Config;
use stint::exit::Exit;
use stint::queue::{Queue, Role};

/// `tray`: start `stint-tray` (with this `--config`, if any).
pub(crate) async fn run(cfg: Config, tray: Option<Option<PathBuf>>) -> Result<Exit> {
    let signal = stint::platform::shutdown_signal();
    let quit = std::sync::Arc::new(tokio::sync::Notify::new());
    let shutdown = {
        let quit = quit.clone();
        async move {
            tokio::select! {
                _ = signal => {}
                _ = quit.notified() => {}
            }
        }
    };
    // Before anything is written there: never into someone else's folder.
    stint::datadir::claim(&cfg.storage.data_dir)?;
    // Then, so a second daemon stops before it touches the queue or the log.
    let listener = stint::ipc::Listener::bind(&cfg)?;
    stint::platform::detach_own_console();
    stint::platform::create_private_dir(&cfg.log_dir())
        .with_context(|| format!("cannot create log directory {}", cfg.log_dir().display()))?;
    let _guard = stint::logging::init("info", Some(&cfg.log_dir()), "stint", cfg.storage.keep_logs);
    let (queue, report) = Queue::open(&cfg.storage.data_dir, Role::Owner)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %cfg.storage.data_dir.display(),
        minute = ?cfg.schedule.minute,
        segment = ?cfg.schedule.segment,
        moved_corrupt = ?report.moved_corrupt_to,
        swept = report.swept_files,
        "stint starting"
    );
    let sync = match &cfg.server.url {
        Some(url) => match stint::sync::build_client(&cfg.server) {
            Ok(http) => {
                tracing::info!(%url, "uploading to server");
                Some(tokio::spawn(stint::sync::supervise(
                    cfg.clone(),
                    queue.clone(),
                    http,
                )))
            }
            // Recording goes on; the queue keeps everything for when this is fixed.
            Err(e) => {
                tracing::error!(error = %e, "cannot set up uploads; recording locally only");
                stint::sync::blocked_at_start(&queue, url, format!("[server] settings: {e}")).await;
                None
            }
        },
        None => {
            tracing::info!("no [server] url: records stay on this machine");
            None
        }
    };
    let control = tokio::spawn(stint::ipc::serve(
        listener,
        cfg.clone(),
        queue.clone(),
        quit.clone(),
    ));
    tracing::info!(endpoint = %stint::ipc::endpoint(&cfg), "control channel listening");
    let tray = tray.and_then(|config| start_tray(config.as_deref()));
    let policy = stint::policy::load(&queue).await;
    let samplers =
        stint::daemon::Samplers::probe(&stint::policy::apply(&cfg, &policy), &queue).await;
    let result = stint::daemon::run(cfg, queue, samplers, shutdown).await;
    // Uploads are idempotent: stopping one mid-request only means it is sent again.
    if let Some(s) = sync {
        s.abort();
    }
    control.abort();
    if let Some(mut child) = tray {
        let _ = child.kill();
        let _ = child.wait();
    }
    result?;
    Ok(Exit::Ok)
}

/// Starts `stint-tray`, which sits next to this executable. Without it, or
/// without a tray host, the daemon runs on; the log says why.
fn start_tray(config: Option<&Path>) -> Option<std::process::Child> {
    let exe = std::env::current_exe()
        .ok()?
        .with_file_name(format!("stint-tray{}", std::env::consts::EXE_SUFFIX));
    let mut cmd = std::process::Command::new(&exe);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    // The tray must not hold the pipes of whoever started the daemon: a
    // script waiting for them to close would wait for a tray that outlived
    // its daemon too. Its stderr comes to the daemon, which passes the
    // lines on to its own; and where the OS can, it ends with the daemon.
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    stint::platform::end_with_parent(&mut cmd);
    match cmd.spawn() {
        Ok(mut child) => {
            tracing::info!(pid = child.id(), "tray started");
            if let Some(err) = child.stderr.take() {
                relay(err);
            }
            Some(child)
        }
        Err(e) => {
            tracing::warn!(error = %e, exe = %exe.display(), "running without a tray icon");
            None
        }
    }
}

/// Copies the tray's stderr to the daemon's, line by line, until the tray
/// closes it.
fn relay(from: std::process::ChildStderr) {
    use std::io::{BufRead, Write};
    let spawned = std::thread::Builder::new()
        .name("stint-tray-log".into())
        .spawn(move || {
            for line in std::io::BufReader::new(from).lines().map_while(Result::ok) {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "the tray's messages go to its own log only");
    }
}
