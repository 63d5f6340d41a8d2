//! The `stint` command line: parsing and dispatch, and the one place that
//! maps errors to exit codes; the commands themselves live in `cli/`.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use stint::config::{Config, ConfigError};
use stint::exit::Exit;
use stint::ipc::IpcError;
use stint::queue::QueueError;

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
    Start {
        /// Track this project (its name or id) from now on.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// A task of that project.
        #[arg(long, value_name = "NAME", requires = "project")]
        task: Option<String>,
    },
    /// Record from now on against another project or task; the minute is
    /// split at this second.
    Switch {
        /// The project's name or id.
        #[arg(required_unless_present = "none", conflicts_with = "none")]
        project: Option<String>,
        #[arg(long, value_name = "NAME")]
        task: Option<String>,
        /// No project: the time is unassigned (and can be assigned later).
        #[arg(long)]
        none: bool,
    },
    /// The projects and tasks this computer knows, with today's time on each.
    Projects {
        #[arg(long)]
        json: bool,
    },
    /// Idle spans waiting for a decision; `stint idle keep|discard` decides.
    Idle {
        #[command(subcommand)]
        command: Option<IdleCommand>,
        #[arg(long)]
        json: bool,
    },
    /// Private time: nothing is recorded for a while (15m, 30m, 1h, any
    /// duration up to 24h, or until-stop); `off` ends it. The server learns
    /// only the span.
    Private {
        #[arg(value_parser = parse_private)]
        length: stint::private::Length,
    },
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
        command: cli::managed::ManagedCommand,
    },
}

fn parse_private(text: &str) -> Result<stint::private::Length, String> {
    stint::private::Length::parse(text).ok_or_else(|| {
        format!("{text:?}: expected a duration from 1s to 24h (15m, 30m, 1h), until-stop or off")
    })
}

#[derive(Subcommand)]
enum IdleCommand {
    /// Count the span(s) as worked time, on a project if given.
    Keep {
        /// One span (`stint idle` lists them); every waiting span without.
        id: Option<String>,
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        #[arg(long, value_name = "NAME", requires = "project")]
        task: Option<String>,
    },
    /// Leave the span(s) out of worked time.
    Discard { id: Option<String> },
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
        if cause.is::<stint::work::Refused>() {
            return Exit::Refused;
        }
        match cause.downcast_ref::<IpcError>() {
            Some(IpcError::Refused(_)) => return Exit::Refused,
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
        return cli::managed::managed_config(command);
    }
    if let Command::CaptureScreens {
        format,
        quality,
        max_width,
        blur,
    } = cli.command
    {
        return Ok(cli::capture::capture_screens(
            format, quality, max_width, blur,
        ));
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
        Command::Start { project, task } => rt.block_on(async {
            if project.is_some() {
                cli::work::switch(&cfg, project, task).await?;
            }
            cli::tracking::set_tracking(&cfg, true).await
        }),
        Command::Switch {
            project,
            task,
            none,
        } => rt.block_on(cli::work::switch(&cfg, project.filter(|_| !none), task)),
        Command::Stop => rt.block_on(cli::tracking::set_tracking(&cfg, false)),
        Command::Private { length } => rt.block_on(cli::work::private(&cfg, length)),
        Command::Projects { json } => rt.block_on(cli::work::projects(&cfg, json)),
        Command::Idle { command, json } => {
            let decide = command.map(|c| match c {
                IdleCommand::Keep { id, project, task } => {
                    (id, stint_proto::Decision::Keep, project, task)
                }
                IdleCommand::Discard { id } => (id, stint_proto::Decision::Discard, None, None),
            });
            rt.block_on(cli::work::idle(&cfg, json, decide))
        }
        Command::Status { json } => rt.block_on(cli::status::status(&cfg, json)),
        Command::Log { json, since } => cli::log::log(&cfg, json, since.as_deref()),
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
        } => cli::capture::export(&cfg, &id, &file),
        Command::Capture {
            command: CaptureCommand::Delete { id },
        } => rt.block_on(cli::capture::delete_capture(&cfg, id)),
        Command::ManagedConfig { .. } | Command::CaptureScreens { .. } => {
            unreachable!("handled before the config is loaded")
        }
    }
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
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(one_line(&e), "outer: inner");
    }
}
