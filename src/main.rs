//! The `stint` command line: the only place that uses `anyhow` and maps errors to
//! exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};

use stint::config::{Config, ConfigError};
use stint::exit::Exit;
use stint::ipc::{IpcError, Request};
use stint::queue::{local_day_start_ms, Queue, QueueError, Role};

#[derive(Parser)]
#[command(
    name = "stint",
    version,
    about = "Privacy-minded desktop time tracking agent"
)]
struct Cli {
    /// Extra config file, applied over the managed and user files.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the recorder in the foreground (with a tray icon unless --no-tray).
    Run {
        /// No tray icon: for servers, scripts and tests.
        #[arg(long)]
        no_tray: bool,
    },
    /// Turn tracking on (tells the running daemon; remembered for the next start).
    Start,
    /// Turn tracking off (tells the running daemon; remembered for the next start).
    Stop,
    /// Tracking state, today's time and the local queue.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Everything recorded locally: minutes, captures and sessions.
    Log {
        #[arg(long)]
        json: bool,
        /// RFC 3339 time, a duration ago (e.g. 2h), or "today".
        #[arg(long)]
        since: Option<String>,
    },
    /// Check which capabilities work on this machine and how to fix the rest.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Work with stored captures.
    Capture {
        #[command(subcommand)]
        command: CaptureCommand,
    },
    #[command(hide = true)]
    ManagedConfig {
        #[command(subcommand)]
        command: ManagedCommand,
    },
}

/// Installer helpers (MSI custom actions, the macOS postinstall): write or
/// remove the machine-wide managed config, validated like any config file.
#[derive(Subcommand)]
enum ManagedCommand {
    /// Write the managed config from these values (only the ones given).
    Write {
        #[arg(long)]
        server_url: Option<String>,
        #[arg(long)]
        enroll_token: Option<String>,
        #[arg(long)]
        ca_file: Option<String>,
        #[arg(long)]
        pin_sha256: Option<String>,
        #[arg(long)]
        proxy: Option<String>,
        #[arg(long)]
        tracking_initial: Option<bool>,
        /// Default: the OS's managed config path.
        #[arg(long)]
        path: Option<PathBuf>,
    },
    /// Delete the managed config (uninstall).
    Remove {
        #[arg(long)]
        path: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CaptureCommand {
    /// Write a capture's image to FILE.
    Export { id: String, file: PathBuf },
    /// Delete a capture's whole segment (every screenshot and minute in it)
    /// while its review window is open; nothing of it is uploaded.
    Delete { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("stint: {e:#}");
            exit_for(&e).into()
        }
    }
}

/// Maps an error chain to the exit code of its most specific cause.
fn exit_for(e: &anyhow::Error) -> Exit {
    for cause in e.chain() {
        if cause.is::<ConfigError>() {
            return Exit::Config;
        }
        if cause.is::<QueueError>() || cause.is::<stint::datadir::DataDirError>() {
            return Exit::Storage;
        }
        match cause.downcast_ref::<IpcError>() {
            Some(IpcError::AlreadyRunning { .. }) => return Exit::AlreadyRunning,
            Some(IpcError::Denied(_)) => return Exit::Denied,
            Some(IpcError::NoAnswer(..)) => return Exit::NoAnswer,
            _ => {}
        }
    }
    Exit::Failure
}

fn dispatch(cli: Cli) -> Result<Exit> {
    // Before loading any config: this is how an installer replaces a bad one.
    if let Command::ManagedConfig { command } = cli.command {
        return managed_config(command);
    }
    let cfg = Config::load(cli.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Run { no_tray } => rt.block_on(run(cfg, (!no_tray).then_some(cli.config))),
        Command::Start => rt.block_on(set_tracking(&cfg, true)),
        Command::Stop => rt.block_on(set_tracking(&cfg, false)),
        Command::Status { json } => rt.block_on(status(&cfg, json)),
        Command::Log { json, since } => log(&cfg, json, since.as_deref()),
        Command::Doctor { json } => {
            let _g = stint::logging::init("error", None, "stint", 0);
            let checks = stint::doctor::run(&cfg);
            if json {
                println!("{}", serde_json::to_string_pretty(&checks)?);
            } else {
                print!("{}", stint::doctor::render(&checks));
            }
            Ok(if stint::doctor::healthy(&checks) {
                Exit::Ok
            } else {
                Exit::Unavailable
            })
        }
        Command::Capture {
            command: CaptureCommand::Export { id, file },
        } => export(&cfg, &id, &file),
        Command::Capture {
            command: CaptureCommand::Delete { id },
        } => rt.block_on(delete_capture(&cfg, id)),
        Command::ManagedConfig { .. } => unreachable!("handled before the config is loaded"),
    }
}

/// `tray`: start `stint-tray` (with this `--config`, if any).
async fn run(cfg: Config, tray: Option<Option<PathBuf>>) -> Result<Exit> {
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
                Some(tokio::spawn(stint::sync::run(
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
    match cmd.stdin(std::process::Stdio::null()).spawn() {
        Ok(child) => {
            tracing::info!(pid = child.id(), "tray started");
            Some(child)
        }
        Err(e) => {
            tracing::warn!(error = %e, exe = %exe.display(), "running without a tray icon");
            None
        }
    }
}

fn open_reader(cfg: &Config) -> Result<Queue> {
    Ok(Queue::open(&cfg.storage.data_dir, Role::Reader)?.0)
}

async fn set_tracking(cfg: &Config, on: bool) -> Result<Exit> {
    let word = if on { "on" } else { "off" };
    let req = if on { Request::Start } else { Request::Stop };
    match stint::ipc::request(cfg, &req).await {
        Ok(_) => println!("tracking {word}"),
        Err(IpcError::NotRunning(at)) => {
            // Remembered in the queue, which is what the daemon reads when it starts.
            open_reader(cfg)?.call(move |s| s.set_tracking(on)).await?;
            println!("tracking {word}");
            eprintln!(
                "stint: no stint daemon is running (nothing listens at {at}); tracking will be {word} when it starts"
            );
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Exit::Ok)
}

async fn delete_capture(cfg: &Config, id: String) -> Result<Exit> {
    match stint::ipc::request(cfg, &Request::DeleteCapture { id }).await {
        Ok(stint::ipc::Response {
            deleted: Some(d), ..
        }) => {
            println!(
                "deleted the segment {} to {}: {} capture(s) and {} minute(s); none of it will be uploaded",
                d.from, d.to, d.captures, d.minutes
            );
            Ok(Exit::Ok)
        }
        Ok(_) => Err(anyhow!("the daemon answered without saying what it deleted")),
        Err(IpcError::NotRunning(at)) => Err(anyhow!(
            "no stint daemon is running (nothing listens at {at}); deleting goes through it, so start it with `stint run`"
        )),
        Err(e) => Err(e.into()),
    }
}

async fn status(cfg: &Config, json: bool) -> Result<Exit> {
    let report = match stint::ipc::request(cfg, &Request::Status).await {
        Ok(resp) => resp
            .status
            .ok_or_else(|| anyhow!("the daemon answered without a status"))?,
        Err(IpcError::NotRunning(_)) => {
            let base = cfg.clone();
            open_reader(cfg)?
                .call(move |s| stint::status::gather(s, &base))
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let stint::status::Report {
        tracking,
        queue: stats,
        samplers,
        sync,
        policy,
        daemon,
        deletable,
        recovery,
        ..
    } = &report;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(Exit::Ok);
    }
    match &daemon {
        Some(d) => println!("daemon:    running (pid {}, {})", d.pid, d.endpoint),
        None => println!(
            "daemon:    not running (nothing listens at {})",
            stint::ipc::endpoint(cfg)
        ),
    }
    println!("tracking:  {}", if *tracking { "on" } else { "off" });
    println!(
        "today:     {} tracked, {} active",
        stint::status::hours_minutes(stats.tracked_seconds_today),
        stint::status::hours_minutes(stats.active_seconds_today)
    );
    println!(
        "queue:     {} minutes, {} captures pending ({:.1} MB)",
        stats.pending_minutes,
        stats.pending_captures,
        stats.queue_bytes as f64 / 1e6
    );
    println!(
        "last:      {}",
        stats
            .last_minute
            .as_deref()
            .unwrap_or("nothing recorded yet")
    );
    for (name, state) in samplers {
        println!("{name:<10} {state}");
    }
    match (&cfg.server.url, sync) {
        (None, _) => println!("sync:      off (no [server] url; records stay on this machine)"),
        (Some(url), None) => println!("sync:      {url}: not started yet"),
        (Some(url), Some(s)) => {
            let state = serde_json::to_value(&s.state).unwrap_or_default();
            println!(
                "sync:      {} to {url}{}",
                state["state"].as_str().unwrap_or("?"),
                state["detail"]
                    .as_str()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
            println!(
                "uploaded:  {}",
                s.last_success.as_deref().unwrap_or("nothing yet")
            );
            if let Some(e) = &s.last_error {
                println!("error:     {e}");
            }
        }
    }
    println!("refused:   {} records (dead letters)", stats.dead_letters);
    if let Some(r) = recovery {
        println!("recovered: {r}");
    }
    let review = stint::policy::apply(cfg, policy).privacy.review_delay;
    if !review.is_zero() {
        println!(
            "review:    each segment waits {} after it ends before upload; until then `stint capture delete ID` removes it",
            stint::config::format_duration(review)
        );
    }
    if let Some(d) = deletable {
        println!(
            "deletable: {}-{} until {}: `stint capture delete {}`",
            stint::status::local_hm(&d.from),
            stint::status::local_hm(&d.to),
            stint::status::local_hm(&d.until),
            d.capture_id
        );
    }
    let set = serde_json::to_string(&policy)?;
    if set != "{}" {
        println!("policy:    {set} (set by the server; overrides the config files)");
    }
    Ok(Exit::Ok)
}

/// `--since`: RFC 3339, a duration ago, or "today".
fn parse_since(s: &str, now_ms: i64) -> Result<i64> {
    if s == "today" {
        return Ok(local_day_start_ms(now_ms));
    }
    if let Some(d) = stint::config::parse_duration(s) {
        return Ok(now_ms - d.as_millis() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            anyhow!("--since {s:?} is invalid; expected an RFC 3339 time (2026-11-22T09:00:00Z), a duration ago (2h) or \"today\"")
        })
}

fn log(cfg: &Config, json: bool, since: Option<&str>) -> Result<Exit> {
    let now = chrono::Utc::now().timestamp_millis();
    let since_ms = since
        .map(|s| parse_since(s, now))
        .transpose()?
        .unwrap_or(i64::MIN);
    let out = open_reader(cfg)?.call_blocking(move |s| s.log(since_ms))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Exit::Ok);
    }
    for s in &out.sessions {
        println!(
            "session  {}  {} {} on {} as {} (agent {}) ips {:?}",
            s.started_at,
            s.os_type,
            s.os_version,
            s.hostname,
            s.os_user,
            s.agent_version,
            s.ip_addresses
        );
    }
    for m in &out.minutes {
        println!(
            "minute   {}  {:>2}s  {}  {}  {} [{}]",
            m.start,
            m.seconds,
            stint::model::counts_text(m),
            if m.idle { "idle  " } else { "active" },
            m.title.as_deref().unwrap_or("-"),
            m.app.as_deref().unwrap_or("-"),
        );
    }
    for c in &out.captures {
        println!(
            "capture  {}  {} {}  {}x{}  {} bytes {}  id {}",
            c.taken_at,
            c.kind.as_str(),
            c.monitor,
            c.width,
            c.height,
            c.bytes,
            c.format,
            c.id
        );
    }
    if out.minutes.is_empty() && out.captures.is_empty() {
        println!(
            "nothing recorded{}",
            since.map(|s| format!(" since {s}")).unwrap_or_default()
        );
    }
    Ok(Exit::Ok)
}

fn managed_config(cmd: ManagedCommand) -> Result<Exit> {
    match cmd {
        ManagedCommand::Write {
            server_url,
            enroll_token,
            ca_file,
            pin_sha256,
            proxy,
            tracking_initial,
            path,
        } => {
            let path = path.unwrap_or_else(stint::platform::system_config_path);
            let text = stint::config::managed_toml(&stint::config::Managed {
                server_url,
                enroll_token,
                ca_file,
                pin_sha256,
                proxy,
                tracking_initial,
            });
            // Refuse what `stint run` would refuse, naming the key, before writing.
            Config::defaults()?.apply_str(&text, stint::config::Source::File(path.clone()))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let tmp = path.with_extension("toml.new");
            std::fs::write(&tmp, text)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("{}", path.display());
            Ok(Exit::Ok)
        }
        ManagedCommand::Remove { path } => {
            let path = path.unwrap_or_else(stint::platform::system_config_path);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
            }
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir); // only if empty
            }
            Ok(Exit::Ok)
        }
    }
}

fn export(cfg: &Config, id: &str, file: &Path) -> Result<Exit> {
    let owned = id.to_string();
    let Some((rec, path)) = open_reader(cfg)?.call_blocking(move |s| s.capture(&owned))? else {
        eprintln!("stint: no capture with id {id:?}; `stint log` lists them");
        return Ok(Exit::NotFound);
    };
    std::fs::copy(&path, file).with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "wrote {} ({} {}x{}, {} bytes, taken {})",
        file.display(),
        rec.kind.as_str(),
        rec.width,
        rec.height,
        rec.bytes,
        rec.taken_at
    );
    if rec.bytes == 0 {
        bail!("capture {id} is empty");
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_table() {
        let now = 10_000_000;
        assert_eq!(parse_since("2s", now).unwrap(), now - 2_000);
        assert_eq!(parse_since("1970-01-01T00:00:01Z", now).unwrap(), 1_000);
        assert!(parse_since("yesterday-ish", now)
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
    }
}
