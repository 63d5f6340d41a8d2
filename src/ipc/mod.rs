//! Local control channel between the running daemon and `stint start`, `stop`
//! and `status`: one JSON request line, one JSON answer line.
//!
//! The endpoint is reachable only by the user who runs the daemon: a Unix
//! socket in a 0700 directory whose peer's uid is checked on every connection,
//! or a named pipe whose ACL names only that user. The same endpoint's lock
//! keeps to one daemon per user session.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::config::Config;
use crate::queue::Queue;
use crate::review::Deleted;
use crate::status::{Daemon, Report};

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod platform;

pub use platform::Listener;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Start,
    Stop,
    Status,
    /// Shut the daemon down (the tray's Quit); refused while policy forbids it.
    Quit,
    /// The employee deletes a capture's whole segment within its review window.
    DeleteCapture {
        id: String,
    },
    /// Record from now on against this project and task (names or ids; none:
    /// unassigned). The open minute is split at this second.
    Switch {
        #[serde(default)]
        project: Option<String>,
        #[serde(default)]
        task: Option<String>,
    },
    /// Decide idle span `id` (every pending one without an id); keeping it
    /// may assign it to a project and task.
    DecideIdle {
        #[serde(default)]
        id: Option<String>,
        decision: stint_proto::Decision,
        #[serde(default)]
        project: Option<String>,
        #[serde(default)]
        task: Option<String>,
    },
    /// Private time: nothing is recorded for this long, until tracking
    /// stops, or (`off`) no longer.
    Private {
        length: crate::private::Length,
    },
}

/// A connection, sorted by who is on the other end.
pub enum Peer<S> {
    Owner(S),
    /// Someone else; the text says who, for the log.
    Other(S, String),
}

/// The daemon's answer: one kind per kind of request, or a refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", content = "body", rename_all = "snake_case")]
pub enum Response {
    /// The daemon's status once the request took effect (start, stop,
    /// status, quit).
    Status(Box<Report>),
    /// What deleting a capture's segment removed.
    Deleted(Deleted),
    /// Refused, in words for the person who asked.
    Refused(String),
    /// The peer is not the user running the daemon.
    Denied,
}

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error("no stint daemon is running for this user (nothing listens at {0})")]
    NotRunning(String),
    #[error("stint is already running for this user (pid {pid}, listening at {endpoint})")]
    AlreadyRunning { pid: String, endpoint: String },
    #[error("{0} belongs to another user; only the user running stint may control it")]
    Denied(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("the daemon at {0} answered something stint cannot read: {1}")]
    Protocol(String, String),
    #[error("the daemon refused: {0}")]
    Refused(String),
    #[error("the daemon at {0} does not answer (waited {1:?}); it may be hung: see its log, or end it and start `stint run` again")]
    NoAnswer(String, std::time::Duration),
}

/// How long a request may take from connecting to the last byte of the
/// answer; the daemon answers in milliseconds when it is well.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The longest answer read: a status report is a few KB.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// Where this user's daemon listens (for messages and `stint doctor`).
pub fn endpoint(cfg: &Config) -> String {
    platform::endpoint(cfg)
}

/// Sends one request to the running daemon, giving up after
/// [`REQUEST_TIMEOUT`]: a daemon that accepts but never answers (stopped,
/// hung) must not hang `stint status` or the tray.
pub async fn request(cfg: &Config, req: &Request) -> Result<Response, IpcError> {
    let at = endpoint(cfg);
    tokio::time::timeout(REQUEST_TIMEOUT, exchange(cfg, req, at.clone()))
        .await
        .unwrap_or(Err(IpcError::NoAnswer(at, REQUEST_TIMEOUT)))
}

async fn exchange(cfg: &Config, req: &Request, at: String) -> Result<Response, IpcError> {
    let stream = platform::connect(cfg).await?;
    let (read, mut write) = tokio::io::split(stream);
    let mut line = serde_json::to_string(req).expect("request serialises");
    line.push('\n');
    let io = |source| IpcError::Io {
        what: "talking to the daemon at",
        path: at.clone(),
        source,
    };
    write.write_all(line.as_bytes()).await.map_err(io)?;
    write.flush().await.map_err(io)?;
    let mut answer = String::new();
    BufReader::new(read.take(MAX_ANSWER_BYTES))
        .read_line(&mut answer)
        .await
        .map_err(io)?;
    let resp: Response =
        serde_json::from_str(&answer).map_err(|e| IpcError::Protocol(at.clone(), e.to_string()))?;
    match resp {
        Response::Denied => Err(IpcError::Denied(at)),
        Response::Refused(e) => Err(IpcError::Refused(e)),
        answer => Ok(answer),
    }
}

/// Serves requests until the task is dropped. Start/stop are committed to the
/// queue before the answer, so an acknowledged switch survives a crash; the
/// recorder hears of it at once through the queue's control channel.
pub async fn serve(
    listener: Listener,
    cfg: Config,
    queue: Queue,
    quit: std::sync::Arc<tokio::sync::Notify>,
) {
    let endpoint = endpoint(&cfg);
    loop {
        let (stream, stranger) = match listener.accept().await {
            Ok(Peer::Owner(s)) => (s, None),
            Ok(Peer::Other(s, who)) => {
                tracing::warn!(peer = %who, "control connection from another user refused");
                (s, Some(who))
            }
            Err(e) => {
                tracing::warn!(error = %e, "control channel accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
        };
        let (cfg, queue, endpoint, quit) =
            (cfg.clone(), queue.clone(), endpoint.clone(), quit.clone());
        tokio::spawn(async move {
            let ctx = Context {
                cfg: &cfg,
                queue: &queue,
                endpoint: &endpoint,
                quit: &quit,
            };
            if let Err(e) = answer(stream, stranger.is_none(), ctx).await {
                tracing::debug!(error = %e, "control connection ended");
            }
        });
    }
}

/// What a request handler may use.
#[derive(Clone, Copy)]
struct Context<'a> {
    cfg: &'a Config,
    queue: &'a Queue,
    endpoint: &'a str,
    quit: &'a tokio::sync::Notify,
}

async fn answer(stream: platform::Stream, owner: bool, ctx: Context<'_>) -> std::io::Result<()> {
    let (read, mut write) = tokio::io::split(stream);
    let mut line = String::new();
    // A request is a few bytes; a peer that sends more is not stint.
    let mut limited = BufReader::new(tokio::io::AsyncReadExt::take(read, 4096));
    // Read even a stranger's request: closing on unread bytes resets the
    // connection, and the stranger would see a crash instead of a refusal.
    limited.read_line(&mut line).await?;
    let req = serde_json::from_str::<Request>(&line);
    let resp = match &req {
        _ if !owner => Response::Denied,
        Ok(req) => handle(req.clone(), ctx).await,
        Err(e) => Response::Refused(format!("unreadable request: {e}")),
    };
    let mut out = serde_json::to_string(&resp).expect("response serialises");
    out.push('\n');
    let written = write.write_all(out.as_bytes()).await;
    let flushed = write.flush().await;
    // Only after the answer is out: shutting down ends this task too.
    if owner && matches!(resp, Response::Status(_)) && matches!(req, Ok(Request::Quit)) {
        ctx.quit.notify_one();
    }
    written.and(flushed)
}

async fn handle(req: Request, ctx: Context<'_>) -> Response {
    let Context {
        cfg,
        queue,
        endpoint,
        ..
    } = ctx;
    let switch = match req {
        Request::Start => {
            let refused = queue
                .call(|s| crate::work::may_track_now(s, &s.work()?))
                .await;
            match refused {
                Ok(Ok(())) => Some(true),
                Ok(Err(why)) => return Response::Refused(why.to_string()),
                Err(e) => return Response::Refused(format!("could not read the queue: {e}")),
            }
        }
        Request::Switch { project, task } => {
            let initial = cfg.tracking.initial;
            let done = queue
                .call(move |s| {
                    let tracking = s.tracking()?.unwrap_or(initial);
                    crate::work::switch(s, tracking, project.as_deref(), task.as_deref())
                })
                .await;
            match done {
                Ok(Ok(work)) => {
                    tracing::info!(project = ?work.project_id, task = ?work.task_id, "project chosen over the control channel")
                }
                Ok(Err(why)) => return Response::Refused(why.to_string()),
                Err(e) => return Response::Refused(format!("could not save the choice: {e}")),
            }
            None
        }
        Request::DecideIdle {
            id,
            decision,
            project,
            task,
        } => {
            let now = stint_common::time::now_ms();
            let done = queue
                .call(move |s| {
                    crate::work::decide(
                        s,
                        id.as_deref(),
                        decision,
                        project.as_deref(),
                        task.as_deref(),
                        now,
                    )
                })
                .await;
            match done {
                Ok(Ok(n)) => {
                    tracing::info!(
                        spans = n,
                        decision = decision.as_str(),
                        "idle decided by the user"
                    )
                }
                Ok(Err(why)) => return Response::Refused(why.to_string()),
                Err(e) => return Response::Refused(format!("could not save the decision: {e}")),
            }
            None
        }
        Request::Stop => Some(false),
        Request::Private { length } => {
            let initial = cfg.tracking.initial;
            let now = stint_common::time::now_ms();
            let done = queue
                .call(move |s| crate::private::ask_stored(s, initial, length, now))
                .await;
            match done {
                Ok(Ok(p)) => tracing::info!(
                    private = p.is_some(),
                    until = ?p.and_then(|p| p.until_ms).map(crate::model::rfc3339),
                    "private time set over the control channel"
                ),
                Ok(Err(why)) => return Response::Refused(why.to_string()),
                Err(e) => return Response::Refused(format!("could not save private time: {e}")),
            }
            None
        }
        Request::Status => None,
        Request::DeleteCapture { id } => return delete_capture(id, cfg, queue).await,
        Request::Quit => {
            if crate::policy::load(queue).await.allow_quit == Some(false) {
                return Response::Refused(
                    "quitting is turned off by your organisation's policy".into(),
                );
            }
            tracing::info!("quit requested over the control channel");
            None
        }
    };
    if let Some(on) = switch {
        if let Err(e) = queue.call(move |s| s.set_tracking(on)).await {
            return Response::Refused(format!("could not save the tracking switch: {e}"));
        }
        tracing::info!(tracking = on, "tracking switched over the control channel");
    }
    let base = cfg.clone();
    match queue.call(move |s| crate::status::gather(s, &base)).await {
        Ok(mut report) => {
            report.daemon = Some(Daemon {
                pid: std::process::id(),
                version: env!("CARGO_PKG_VERSION").into(),
                endpoint: endpoint.into(),
            });
            Response::Status(Box::new(report))
        }
        Err(e) => Response::Refused(format!("could not read the queue: {e}")),
    }
}

/// Deletes the segment holding capture `id` if its review window allows it.
/// The check and the deletion share one turn of the queue thread, as sync's
/// cutoff does, so the two can never both take the same segment.
async fn delete_capture(id: String, cfg: &Config, queue: &Queue) -> Response {
    let window = crate::policy::review_window(cfg, &crate::policy::load(queue).await);
    let outcome = queue
        .call(move |q| {
            let Some(taken) = q.capture_taken_ms(&id)? else {
                return Ok(Err(format!(
                    "no capture {id} waits on this device: it was uploaded, deleted or never \
                     taken (`stint log` lists the ones that wait)"
                )));
            };
            let now = stint_common::time::now_ms();
            match window.deletable(taken, now) {
                Err(why) => Ok(Err(format!("capture {id} cannot be deleted: {why}"))),
                Ok((from, to)) => {
                    let (captures, minutes) = q.delete_segment(from, to)?;
                    Ok(Ok(Deleted {
                        from: crate::model::rfc3339(from),
                        to: crate::model::rfc3339(to),
                        captures,
                        minutes,
                    }))
                }
            }
        })
        .await;
    match outcome {
        Ok(Ok(d)) => {
            tracing::info!(from = %d.from, to = %d.to, captures = d.captures, minutes = d.minutes, "segment deleted by the user");
            Response::Deleted(d)
        }
        Ok(Err(why)) => Response::Refused(why),
        Err(e) => Response::Refused(format!("could not delete: {e}")),
    }
}

/// The directory a listener's lock and socket live in, created owner-only.
fn private_dir(dir: &std::path::Path) -> Result<(), IpcError> {
    crate::platform::create_private_dir(dir).map_err(|source| IpcError::Io {
        what: "cannot create the control directory",
        path: dir.display().to_string(),
        source,
    })
}

/// Takes the one-daemon-per-session lock in `dir`; the file holds our pid so a
/// second daemon can say which process runs.
fn take_lock(dir: &std::path::Path, endpoint: &str) -> Result<std::fs::File, IpcError> {
    use std::io::{Read, Seek, Write};
    private_dir(dir)?;
    let path: PathBuf = dir.join("stint.lock");
    let io = |source| IpcError::Io {
        what: "cannot open the instance lock",
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = f.read_to_string(&mut pid);
            return Err(IpcError::AlreadyRunning {
                pid: pid.trim().to_string(),
                endpoint: endpoint.to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    f.set_len(0).map_err(io)?;
    f.rewind().map_err(io)?;
    write!(f, "{}", std::process::id()).map_err(io)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One answer kind per request kind, each spelled with its tag on the
    /// wire, and read back as it was sent.
    #[test]
    fn answers_are_tagged_by_kind() {
        let deleted = Deleted {
            from: "2026-12-03T10:00:00.000Z".into(),
            to: "2026-12-03T10:10:00.000Z".into(),
            captures: 1,
            minutes: 10,
        };
        for (answer, wire) in [
            (Response::Denied, r#"{"answer":"denied"}"#.to_string()),
            (
                Response::Refused("no".into()),
                r#"{"answer":"refused","body":"no"}"#.to_string(),
            ),
            (
                Response::Deleted(deleted.clone()),
                format!(
                    r#"{{"answer":"deleted","body":{}}}"#,
                    serde_json::to_string(&deleted).unwrap()
                ),
            ),
        ] {
            assert_eq!(serde_json::to_string(&answer).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Response>(&wire).unwrap(), answer);
        }
        assert!(
            serde_json::from_str::<Response>(r#"{"ok":true}"#).is_err(),
            "the old shape"
        );
    }
}
