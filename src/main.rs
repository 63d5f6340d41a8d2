//! The `stint` command line: the only place that uses `anyhow` and maps errors to
//! exit codes.

mod cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};

use cli::open_reader;
use stint::config::{Config, ConfigError};
use stint::exit::Exit;
use stint::ipc::{IpcError, Request};
use stint::queue::{local_day_start_ms, QueueError};

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
    /// The screenshot helper the daemon runs for each capture: encoded images
    /// of every monitor on stdout, so capture buffers never grow the daemon.
    #[command(hide = true)]
    CaptureScreens {
        #[arg(long, value_parser = ["webp", "jpeg"])]
        format: String,
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
        quality: u8,
        #[arg(long, default_value_t = 0)]
        max_width: u32,
        #[arg(long)]
        blur: bool,
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
            eprintln!("stint: {}", one_line(&e));
            exit_for(&e).into()
        }
    }
}

/// The error and its causes in one line, each said once: many errors already
/// quote their cause, which the chain would then repeat.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Maps an error chain to the exit code of its most specific cause.
fn exit_for(e: &anyhow::Error) -> Exit {
    for cause in e.chain() {
        if cause.is::<ConfigError>() {
            return Exit::Config;
        }
        if cause.is::<QueueError>()
            || cause.is::<stint::datadir::DataDirError>()
            || cause.is::<stint::daemon::DaemonError>()
        {
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

/// `stint capture-screens`: no config, no logging; the frames on stdout, a
/// failure as one line on stderr.
fn capture_screens(format: String, quality: u8, max_width: u32, blur: bool) -> Exit {
    use stint::encode::{EncodeOptions, Format};
    use stint::sampler::{screen, screen_helper};
    let opts = EncodeOptions {
        format: if format == "jpeg" {
            Format::Jpeg
        } else {
            Format::Webp
        },
        quality,
        max_width,
        blur,
    };
    let result = screen::create_in_process()
        .and_then(|source| screen_helper::serve(&*source, opts, &mut std::io::stdout().lock()));
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("{}", screen_helper::error_line(&e));
            Exit::Unavailable
        }
    }
}

fn dispatch(cli: Cli) -> Result<Exit> {
    // Before loading any config: this is how an installer replaces a bad one.
    if let Command::ManagedConfig { command } = cli.command {
        return managed_config(command);
    }
    if let Command::CaptureScreens {
        format,
        quality,
        max_width,
        blur,
    } = cli.command
    {
        return Ok(capture_screens(format, quality, max_width, blur));
    }
    if let Ok(exe) = std::env::current_exe() {
        stint::sampler::screen::use_helper(exe);
    }
    let cfg = Config::load(cli.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Run { no_tray } => {
            rt.block_on(cli::daemon::run(cfg, (!no_tray).then_some(cli.config)))
        }
        Command::Start => rt.block_on(set_tracking(&cfg, true)),
        Command::Stop => rt.block_on(set_tracking(&cfg, false)),
        Command::Status { json } => rt.block_on(cli::status::status(&cfg, json)),
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
        Command::ManagedConfig { .. } | Command::CaptureScreens { .. } => {
            unreachable!("handled before the config is loaded")
        }
    }
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
    let now = stint_common::time::now_ms();
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
            // Read by every user's agent; written whole or not at all.
            stint_common::durable::write(&path, text.as_bytes(), 0o644)
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
    fn an_error_and_its_causes_are_said_once_each() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "Connection reset by peer",
        );
        let e = anyhow::Error::new(IpcError::Io {
            what: "talking to the daemon at",
            path: "/run/stint.sock".into(),
            source: io,
        });
        assert_eq!(
            one_line(&e),
            "talking to the daemon at /run/stint.sock: Connection reset by peer"
        );
        let e = anyhow!("inner").context("outer");
        assert_eq!(one_line(&e), "outer: inner");
    }

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
