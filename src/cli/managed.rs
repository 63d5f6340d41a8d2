//! `stint managed-config write` and `remove`: the installers' way to write
//! the machine-wide config, validated like any config file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use stint::config::Config;
use stint::exit::Exit;

/// Installer helpers (MSI custom actions, the macOS postinstall): write or
/// remove the machine-wide managed config, validated like any config file.
#[derive(clap::Subcommand)]
pub(crate) enum ManagedCommand {
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

pub(crate) fn managed_config(cmd: ManagedCommand) -> Result<Exit> {
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
