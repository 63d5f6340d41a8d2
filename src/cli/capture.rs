//! `stint capture export` and `delete`, and the hidden `capture-screens`
//! helper the daemon runs for each screenshot.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use stint::config::Config;
use stint::exit::Exit;
use stint::ipc::{IpcError, Request};

use super::open_reader;

/// `stint capture-screens`: no config, no logging; the frames on stdout, a
/// failure as one line on stderr.
pub(crate) fn capture_screens(format: String, quality: u8, max_width: u32, blur: bool) -> Exit {
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

pub(crate) async fn delete_capture(cfg: &Config, id: String) -> Result<Exit> {
    match stint::ipc::request(cfg, &Request::DeleteCapture { id }).await {
        Ok(stint::ipc::Response::Deleted(d)) => {
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

pub(crate) fn export(cfg: &Config, id: &str, file: &Path) -> Result<Exit> {
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
