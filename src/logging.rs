//! Log setup: structured `tracing` events to stderr and, for the daemon and the
//! tray, to daily-rotated files in the data directory so admins can collect them.

use std::io::IsTerminal;
use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Keeps the file writer flushing; drop it last.
pub type Guard = Option<tracing_appender::non_blocking::WorkerGuard>;

/// `default_level` applies unless `STINT_LOG` (or `RUST_LOG`) says otherwise.
/// Files are `<name>.<date>.log`; each process keeps `keep_files` of its own.
pub fn init(default_level: &str, file_dir: Option<&Path>, name: &str, keep_files: usize) -> Guard {
    let filter = || {
        std::env::var("STINT_LOG")
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .and_then(|s| EnvFilter::try_new(s).ok())
            .unwrap_or_else(|| EnvFilter::new(default_level))
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let mut guard = None;
    let file_layer = file_dir.and_then(|dir| {
        let appender = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(name)
            .filename_suffix("log")
            .max_log_files(keep_files)
            .build(dir);
        match appender {
            Ok(a) => {
                let (writer, g) = tracing_appender::non_blocking(a);
                guard = Some(g);
                Some(
                    tracing_subscriber::fmt::layer()
                        .with_writer(writer)
                        .with_ansi(false)
                        .with_target(false),
                )
            }
            Err(e) => {
                eprintln!(
                    "stint: cannot write logs to {}: {e}; logging to stderr only",
                    dir.display()
                );
                None
            }
        }
    });
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(file_layer)
        .try_init();
    guard
}
