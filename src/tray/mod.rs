//! The tray icon: shows whether stint is tracking, paused, offline with a
//! backlog, or in trouble, and offers start/stop, today's time, sync status,
//! "Open my activity" and (unless policy forbids it) Quit.
//!
//! It runs as its own process (`stint-tray`, started by `stint run`) so the
//! recording daemon never loads a GUI toolkit, and talks to the daemon over the
//! control channel like the CLI does. The menu model and the state logic live
//! here; `platform` runs the OS's event loop on the main thread and says whether
//! a tray host exists.

use std::time::{Duration, Instant};

use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{TrayIcon, TrayIconBuilder};

use crate::config::Config;
use crate::ipc::{IpcError, Request};
use crate::status::Report;

mod icon;
#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "windows", path = "windows.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod platform;

use icon::icon;
pub use icon::icon_rgba;

pub use platform::{host, run};

/// What the icon shows, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    /// Uploads are blocked (e.g. the device was revoked) or input cannot be read.
    Error,
    /// Tracking, but records are piling up because the server cannot be reached.
    Offline,
    Tracking,
    Paused,
}

/// A backlog this long (in minutes) while sync retries counts as offline.
const OFFLINE_BACKLOG: u64 = 5;
const REFRESH: Duration = Duration::from_secs(2);
/// How often the loop looks for menu clicks.
pub const TICK: Duration = Duration::from_millis(250);

impl TrayState {
    pub fn of(r: &Report) -> TrayState {
        use crate::sync::State;
        if problem(r).is_some() {
            return TrayState::Error;
        }
        if !r.tracking {
            return TrayState::Paused;
        }
        let retrying = r
            .sync
            .as_ref()
            .is_some_and(|s| s.state == State::Backoff || s.last_error.is_some());
        if retrying && r.queue.pending_minutes >= OFFLINE_BACKLOG {
            TrayState::Offline
        } else {
            TrayState::Tracking
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TrayState::Error => "error",
            TrayState::Offline => "offline",
            TrayState::Tracking => "tracking",
            TrayState::Paused => "paused",
        }
    }

    /// Fill colour (RGB): green, grey, amber, red; also used by assets/icons.
    pub fn colour(self) -> [u8; 3] {
        match self {
            TrayState::Tracking => [0x2e, 0xa0, 0x43],
            TrayState::Paused => [0x8a, 0x8f, 0x98],
            TrayState::Offline => [0xe3, 0x9b, 0x17],
            TrayState::Error => [0xd0, 0x32, 0x2e],
        }
    }

    pub const ALL: [TrayState; 4] = [
        TrayState::Tracking,
        TrayState::Paused,
        TrayState::Offline,
        TrayState::Error,
    ];
}

/// Why the icon is red, for its tooltip: uploads blocked (e.g. the device was
/// revoked), or input that cannot be counted while tracking (e.g. macOS
/// without Input Monitoring).
pub fn problem(r: &Report) -> Option<String> {
    if let Some(crate::sync::State::Blocked(why)) = r.sync.as_ref().map(|s| &s.state) {
        return Some(format!("uploads blocked: {why}"));
    }
    let input = r.samplers.get("input")?;
    (r.tracking && input.starts_with("unavailable")).then(|| format!("input {input}"))
}

#[derive(Debug, thiserror::Error)]
pub enum TrayError {
    #[error("the tray cannot start here: {0}")]
    Unavailable(String),
}

/// Refreshes in a row without a daemon before the tray gives up and exits.
const ORPHANED_AFTER: u32 = 3;

/// Carries the tray's requests to the daemon on a thread of its own, so the
/// GUI thread never waits on the control channel: it hands a request over and
/// picks the answer up at a later tick.
struct Courier {
    requests: std::sync::mpsc::Sender<Request>,
    answers: std::sync::mpsc::Receiver<(Request, Result<crate::ipc::Response, IpcError>)>,
}

impl Courier {
    fn start(cfg: Config) -> std::io::Result<Courier> {
        let (requests, inbox) = std::sync::mpsc::channel::<Request>();
        let (outbox, answers) = std::sync::mpsc::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("stint-tray-ipc".into())
            .spawn(move || {
                for req in inbox {
                    let answer = rt.block_on(crate::ipc::request(&cfg, &req));
                    if outbox.send((req, answer)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Courier { requests, answers })
    }

    fn send(&self, req: Request) {
        // The courier only ends with the tray itself.
        let _ = self.requests.send(req);
    }

    fn answer(&self) -> Option<(Request, Result<crate::ipc::Response, IpcError>)> {
        self.answers.try_recv().ok()
    }
}

pub struct Tray {
    cfg: Config,
    courier: Courier,
    /// A status request is on its way; no second one is sent meanwhile.
    status_pending: bool,
    missed: u32,
    icon: TrayIcon,
    menu: Menu,
    toggle: MenuItem,
    today: MenuItem,
    sync: MenuItem,
    open: MenuItem,
    /// "Delete 14:00-14:10", in the menu only while a segment is deletable.
    delete: MenuItem,
    deletable: Option<crate::review::Deletable>,
    quit: MenuItem,
    quit_shown: bool,
    shown: Option<TrayState>,
    tracking: bool,
    last_refresh: Option<Instant>,
}

impl Tray {
    /// Builds the icon and menu; must run on the thread that runs the OS loop.
    pub fn new(cfg: Config) -> Result<Tray, TrayError> {
        let err = |e: &dyn std::fmt::Display| TrayError::Unavailable(e.to_string());
        let courier = Courier::start(cfg.clone()).map_err(|e| err(&e))?;
        let toggle = MenuItem::new("Stop tracking", true, None);
        let today = MenuItem::new("Today: -", false, None);
        let sync = MenuItem::new("Sync: -", false, None);
        let open = MenuItem::new("Open my activity", true, None);
        let delete = MenuItem::new("Delete", true, None);
        let quit = MenuItem::new("Quit stint", true, None);
        let menu = Menu::new();
        menu.append_items(&[
            &toggle,
            &PredefinedMenuItem::separator(),
            &today,
            &sync,
            &open,
            &PredefinedMenuItem::separator(),
            &quit,
        ])
        .map_err(|e| err(&e))?;
        let icon = TrayIconBuilder::new()
            .with_id("stint")
            // No title: it is text beside the icon (macOS, AppIndicator labels)
            // that takes panel space; the tooltip names stint and its state.
            .with_tooltip("stint")
            .with_menu(Box::new(menu.clone()))
            .with_icon(icon(TrayState::Paused).ok_or_else(|| err(&"icon"))?)
            .build()
            .map_err(|e| err(&e))?;
        let mut tray = Tray {
            cfg,
            courier,
            status_pending: false,
            missed: 0,
            icon,
            menu,
            toggle,
            today,
            sync,
            open,
            quit,
            quit_shown: true,
            delete,
            deletable: None,
            shown: None,
            tracking: false,
            last_refresh: None,
        };
        tray.refresh();
        Ok(tray)
    }

    /// Handles menu clicks and the daemon's answers, and asks for the status
    /// now and then. Returns false once the daemon agreed to quit.
    pub fn tick(&mut self) -> bool {
        while let Ok(ev) = MenuEvent::receiver().try_recv() {
            if ev.id == *self.toggle.id() {
                let on = !self.tracking;
                self.courier
                    .send(if on { Request::Start } else { Request::Stop });
            } else if ev.id == *self.delete.id() {
                if let Some(d) = &self.deletable {
                    self.courier.send(Request::DeleteCapture {
                        id: d.capture_id.clone(),
                    });
                }
            } else if ev.id == *self.open.id() {
                self.open_activity();
            } else if ev.id == *self.quit.id() && self.quit_shown {
                tracing::info!("quit from the tray");
                self.courier.send(Request::Quit);
            }
        }
        let mut acted = false;
        while let Some((req, answer)) = self.courier.answer() {
            match (req, answer) {
                (Request::Status, answer) => {
                    self.status_pending = false;
                    if !self.show(answer) {
                        return false;
                    }
                }
                (Request::Quit, Ok(_)) => return false,
                (Request::Quit, Err(e)) => tracing::warn!(error = %e, "the daemon did not quit"),
                (Request::Start | Request::Stop, Ok(_)) => {
                    tracing::info!(tracking = !self.tracking, "tracking switched from the tray");
                    acted = true;
                }
                (Request::Start | Request::Stop, Err(e)) => {
                    tracing::error!(error = %e, "could not switch tracking")
                }
                (Request::DeleteCapture { .. }, Ok(r)) => {
                    if let Some(d) = r.deleted {
                        tracing::info!(from = %d.from, to = %d.to, "segment deleted from the tray");
                    }
                    acted = true;
                }
                (Request::DeleteCapture { .. }, Err(e)) => {
                    tracing::error!(error = %e, "could not delete the segment")
                }
            }
        }
        if acted || self.last_refresh.is_none_or(|t| t.elapsed() >= REFRESH) {
            self.refresh();
        }
        true
    }

    /// Asks for the daemon's status, unless a request for it is on its way.
    fn refresh(&mut self) {
        self.last_refresh = Some(Instant::now());
        if !self.status_pending {
            self.status_pending = true;
            self.courier.send(Request::Status);
        }
    }

    /// Shows the daemon's status; false once the daemon has gone.
    fn show(&mut self, answer: Result<crate::ipc::Response, IpcError>) -> bool {
        let report = match answer {
            Ok(crate::ipc::Response {
                status: Some(r), ..
            }) => r,
            Ok(_) => return true,
            Err(IpcError::NotRunning(at)) => {
                self.missed += 1;
                if self.missed >= ORPHANED_AFTER {
                    tracing::info!(endpoint = %at, "no daemon any more; the tray exits");
                    return false;
                }
                return true;
            }
            Err(e) => {
                tracing::warn!(error = %e, "tray could not read the status");
                return true;
            }
        };
        self.missed = 0;
        let state = TrayState::of(&report);
        self.tracking = report.tracking;
        if self.shown != Some(state) {
            if let Err(e) = self.icon.set_icon(icon(state)) {
                tracing::warn!(error = %e, "could not change the tray icon");
            }
            tracing::info!(state = state.name(), "tray icon");
            self.shown = Some(state);
        }
        let today = format!(
            "Today: {} tracked, {} active",
            crate::status::hours_minutes(report.queue.tracked_seconds_today),
            crate::status::hours_minutes(report.queue.active_seconds_today)
        );
        let sync = match &report.sync {
            None => "Sync: off (records stay on this computer)".to_string(),
            Some(s) => {
                let v = serde_json::to_value(&s.state).unwrap_or_default();
                format!(
                    "Sync: {}, {} minutes waiting",
                    v["state"].as_str().unwrap_or("?"),
                    report.queue.pending_minutes
                )
            }
        };
        self.toggle.set_text(if report.tracking {
            "Stop tracking"
        } else {
            "Start tracking"
        });
        self.today.set_text(&today);
        self.sync.set_text(&sync);
        let _ = self.icon.set_tooltip(Some(match problem(&report) {
            Some(why) => format!("stint: {why}"),
            None => format!(
                "stint: {} - {}",
                state.name(),
                today.trim_start_matches("Today: ")
            ),
        }));
        match (&report.deletable, self.deletable.is_some()) {
            (Some(d), shown) => {
                self.delete.set_text(format!(
                    "Delete {}-{} (possible until {})",
                    crate::status::local_hm(&d.from),
                    crate::status::local_hm(&d.to),
                    crate::status::local_hm(&d.until)
                ));
                // After "Open my activity": what was recorded, then the way to take it back.
                if shown || self.menu.insert(&self.delete, 5).is_ok() {
                    self.deletable = Some(d.clone());
                }
            }
            (None, true) => {
                if self.menu.remove(&self.delete).is_ok() {
                    self.deletable = None;
                }
            }
            (None, false) => {}
        }
        let allow_quit = report.policy.allow_quit != Some(false);
        if allow_quit != self.quit_shown {
            let r = if allow_quit {
                self.menu.append(&self.quit)
            } else {
                self.menu.remove(&self.quit)
            };
            if r.is_ok() {
                self.quit_shown = allow_quit;
            }
        }
        true
    }

    /// Writes today's records as text next to the queue and opens it in the
    /// user's default viewer: the employee sees exactly what was recorded.
    fn open_activity(&self) {
        let since = crate::queue::local_day_start_ms(chrono::Utc::now().timestamp_millis());
        // A reader, like `stint log`: it never changes or deletes anything.
        let opened =
            crate::queue::Queue::open(&self.cfg.storage.data_dir, crate::queue::Role::Reader);
        let log = match opened.and_then(|(q, _)| q.call_blocking(move |s| s.log(since))) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "could not read today's records");
                return;
            }
        };
        let mut text =
            String::from("stint: what was recorded today (counts only, never keys or text)\n\n");
        for m in &log.minutes {
            text.push_str(&format!(
                "{}  {:>3}s  {}  {}  {}\n",
                m.start,
                m.seconds,
                crate::model::counts_text(m),
                if m.idle { "idle  " } else { "active" },
                m.title.as_deref().unwrap_or("")
            ));
        }
        for c in &log.captures {
            text.push_str(&format!(
                "{}  {} {} {}x{} ({} bytes; `stint capture export {}` FILE)\n",
                c.taken_at,
                c.kind.as_str(),
                c.monitor,
                c.width,
                c.height,
                c.bytes,
                c.id
            ));
        }
        let path = self.cfg.storage.data_dir.join("my-activity.txt");
        match stint_common::durable::write(&path, text.as_bytes(), 0o600) {
            Ok(()) => {
                if let Err(e) = crate::platform::open_in_viewer(&path) {
                    tracing::warn!(error = %e, path = %path.display(), "could not open the activity file");
                }
            }
            Err(e) => tracing::error!(error = %e, "could not write the activity file"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QueueStats;
    use crate::sync::{State, SyncStatus};

    fn report(tracking: bool, sync: Option<State>, error: bool, pending: u64) -> Report {
        Report {
            tracking,
            queue: QueueStats {
                pending_minutes: pending,
                ..QueueStats::default()
            },
            samplers: Default::default(),
            sync: sync.map(|state| SyncStatus {
                state,
                server: None,
                device_id: None,
                last_success: None,
                last_error: error.then(|| "connection refused".into()),
                policy_error: None,
            }),
            policy: Default::default(),
            data_dir: Default::default(),
            daemon: None,
            deletable: None,
            recovery: None,
        }
    }

    #[test]
    fn state_follows_tracking_sync_and_backlog() {
        use TrayState::*;
        let cases = [
            (report(true, None, false, 0), Tracking),
            (report(false, None, false, 0), Paused),
            (report(true, Some(State::Idle), false, 0), Tracking),
            (report(true, Some(State::Backoff), true, 2), Tracking),
            (report(true, Some(State::Backoff), true, 30), Offline),
            (report(false, Some(State::Backoff), true, 30), Paused),
            (
                report(true, Some(State::Blocked("revoked".into())), true, 0),
                Error,
            ),
            (
                report(false, Some(State::Blocked("revoked".into())), true, 0),
                Error,
            ),
        ];
        for (i, (r, want)) in cases.iter().enumerate() {
            assert_eq!(TrayState::of(r), *want, "case {i}");
        }
        // Input that cannot be counted is red while tracking, with the reason.
        let mut r = report(true, None, false, 0);
        let line = "unavailable: permission denied: turn stint on in Input Monitoring";
        r.samplers.insert("input".into(), line.into());
        assert_eq!(TrayState::of(&r), Error);
        assert_eq!(problem(&r), Some(format!("input {line}")));
        r.tracking = false;
        assert_eq!((TrayState::of(&r), problem(&r)), (Paused, None));
    }
}
