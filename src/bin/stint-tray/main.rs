//! `stint-tray`: the tray icon, as its own process. `stint run` starts it; it
//! reaches the daemon over the control channel and exits when the daemon does.
//! Keeping it apart means the recording daemon never maps a GUI toolkit.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

mod tray;

use stint::config::Config;
use stint::exit::Exit;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let mut config: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--config") => config = args.next().map(PathBuf::from),
            _ => {
                eprintln!(
                    "stint-tray: unexpected argument {a:?}; usage: stint-tray [--config FILE]"
                );
                return Exit::Usage.into();
            }
        }
    }
    let cfg = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stint-tray: {e}");
            return Exit::Config.into();
        }
    };
    // Started at login, the tray has no terminal: its own daily file beside the
    // daemon's is where "no tray host" and the like can be read.
    let _ = stint::platform::create_private_dir(&cfg.log_dir());
    let _guard = stint::logging::init(
        "info",
        Some(&cfg.log_dir()),
        // Not "stint-…": the daemon prunes every file whose name starts with "stint".
        "tray",
        cfg.storage.keep_logs,
    );
    match stint::platform::tray_host() {
        Ok(host) => tracing::info!(%host, "tray host found"),
        Err(why) => tracing::warn!(%why, "the tray icon will not be visible"),
    }
    match tray::run(cfg) {
        Ok(()) => Exit::Ok.into(),
        Err(e) => {
            tracing::warn!(error = %e, "running without a tray icon");
            Exit::Unavailable.into()
        }
    }
}
