//! `stint start` and `stop`: told to the running daemon, or remembered in
//! the queue for the next start.

use anyhow::Result;
use stint::config::Config;
use stint::exit::Exit;
use stint::ipc::{IpcError, Request};

use super::open_reader;

pub(crate) async fn set_tracking(cfg: &Config, on: bool) -> Result<Exit> {
    let word = if on { "on" } else { "off" };
    let req = if on { Request::Start } else { Request::Stop };
    match stint::ipc::request(cfg, &req).await {
        Ok(_) => println!("tracking {word}"),
        Err(IpcError::NotRunning(at)) => {
            // Remembered in the queue, which is what the daemon reads when it starts.
            open_reader(cfg)?
                .call(move |s| {
                    if on {
                        if let Err(refused) = stint::work::may_track_now(s, &s.work()?)? {
                            return Ok(Err(refused));
                        }
                    }
                    s.set_tracking(on).map(Ok)
                })
                .await??;
            println!("tracking {word}");
            eprintln!(
                "stint: no stint daemon is running (nothing listens at {at}); tracking will be {word} when it starts"
            );
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Exit::Ok)
}
