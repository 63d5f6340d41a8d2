//! The tray icon: shows whether stint is tracking, paused, offline with a
//! backlog, or in trouble, and offers start/stop, today's time, sync status,
//! the privacy rules in force, "Add offline time…", "Open my activity" and (unless policy forbids it) Quit.
//!
//! It runs as its own process (`stint-tray`, started by `stint run`) so the
//! recording daemon never loads a GUI toolkit, and talks to the daemon over the
//! control channel like the CLI does. The menu model and the state logic live
//! here; `platform` runs the OS's event loop on the main thread.

use std::time::{Duration, Instant};

use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{TrayIcon, TrayIconBuilder};

use stint::config::Config;
use stint::indicator::{problem, TrayState};
use stint::ipc::{IpcError, Request};

mod icon;
#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "windows", path = "windows.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod platform;
mod privacy;
mod work;

use icon::icon;

pub use platform::run;

const REFRESH: Duration = Duration::from_secs(2);
/// How often the loop looks for menu clicks.
pub const TICK: Duration = Duration::from_millis(250);

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
    answers: std::sync::mpsc::Receiver<(Request, Result<stint::ipc::Response, IpcError>)>,
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
                    let answer = rt.block_on(stint::ipc::request(&cfg, &req));
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

    fn answer(&self) -> Option<(Request, Result<stint::ipc::Response, IpcError>)> {
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
    /// "Add offline time…": the server's form for time the agent did not record.
    offline_time: MenuItem,
    /// "Delete 14:00-14:10", in the menu only while a segment is deletable.
    delete: MenuItem,
    deletable: Option<stint::review::Deletable>,
    quit: MenuItem,
    quit_shown: bool,
    work: work::WorkMenu,
    privacy: privacy::PrivacyMenu,
    /// Idle spans waiting that a notification announced already.
    announced: std::collections::BTreeSet<String>,
    shown: Option<TrayState>,
    tracking: bool,
    /// Uploads are failing (or stuck): the server's diary would be stale.
    offline: bool,
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
        let offline_time = MenuItem::new("Add offline time…", true, None);
        let delete = MenuItem::new("Delete", true, None);
        let quit = MenuItem::new("Quit stint", true, None);
        let work = work::WorkMenu::new();
        let privacy = privacy::PrivacyMenu::new();
        let menu = Menu::new();
        menu.append_items(&[
            &toggle,
            work.project_menu(),
            &PredefinedMenuItem::separator(),
            &today,
            &sync,
            privacy.menu(),
            &offline_time,
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
            offline_time,
            quit,
            quit_shown: true,
            work,
            privacy,
            announced: Default::default(),
            delete,
            deletable: None,
            shown: None,
            tracking: false,
            offline: false,
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
            } else if ev.id == *self.offline_time.id() {
                self.add_offline_time();
            } else if ev.id == *self.quit.id() && self.quit_shown {
                tracing::info!("quit from the tray");
                self.courier.send(Request::Quit);
            } else if let Some(req) = self
                .work
                .request(&ev.id)
                .or_else(|| self.privacy.request(&ev.id))
            {
                self.courier.send(req);
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
                    tracing::error!(error = %e, "could not switch tracking");
                    let _ = self.icon.set_tooltip(Some(format!("stint: {e}")));
                }
                (Request::DeleteCapture { .. }, Ok(r)) => {
                    if let stint::ipc::Response::Deleted(d) = r {
                        tracing::info!(from = %d.from, to = %d.to, "segment deleted from the tray");
                    }
                    acted = true;
                }
                (Request::DeleteCapture { .. }, Err(e)) => {
                    tracing::error!(error = %e, "could not delete the segment")
                }
                (Request::Switch { project, task }, Ok(_)) => {
                    tracing::info!(?project, ?task, "project chosen from the tray");
                    acted = true;
                }
                (Request::DecideIdle { decision, .. }, Ok(_)) => {
                    tracing::info!(
                        decision = decision.as_str(),
                        "idle span decided from the tray"
                    );
                    acted = true;
                }
                (Request::Private { length }, Ok(_)) => {
                    tracing::info!(?length, "private time chosen from the tray");
                    acted = true;
                }
                (
                    Request::Switch { .. } | Request::DecideIdle { .. } | Request::Private { .. },
                    Err(e),
                ) => {
                    // The daemon's refusal is in words: a required project,
                    // a project gone from the list.
                    tracing::warn!(error = %e, "the daemon refused the choice");
                    let _ = self.icon.set_tooltip(Some(format!("stint: {e}")));
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
    fn show(&mut self, answer: Result<stint::ipc::Response, IpcError>) -> bool {
        let report = match answer {
            Ok(stint::ipc::Response::Status(r)) => *r,
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
        self.offline = matches!(state, TrayState::Offline | TrayState::Error);
        if self.shown != Some(state) {
            if let Err(e) = self.icon.set_icon(icon(state)) {
                tracing::warn!(error = %e, "could not change the tray icon");
            }
            tracing::info!(state = state.name(), "tray icon");
            self.shown = Some(state);
        }
        let today = format!(
            "Today: {} tracked, {} active",
            stint::status::hours_minutes(report.queue.tracked_seconds_today),
            stint::status::hours_minutes(report.queue.active_seconds_today)
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
        } else if report.work.required && report.work.current.is_unassigned() {
            "Start tracking (choose a project first)"
        } else {
            "Start tracking"
        });
        self.today.set_text(&today);
        self.sync.set_text(&sync);
        self.work.show(&self.menu, &report.work);
        self.privacy
            .show(&report.private, report.tracking, &report.rules);
        for (summary, body) in work::announce(&mut self.announced, &report.work) {
            // A notification server may take its time; the menu must not.
            std::thread::spawn(move || match platform::notify(&summary, &body) {
                Ok(()) => tracing::info!(summary = ?summary, "idle span announced"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not announce an idle span; the Away menu still asks")
                }
            });
        }
        let _ = self.icon.set_tooltip(Some(match problem(&report) {
            Some(why) => format!("stint: {why}"),
            None if report.private.active() => {
                format!("stint: {}", report.private.text().unwrap_or_default())
            }
            None if report.work.stopped.is_some() && !report.tracking => {
                format!(
                    "stint: {}",
                    report.work.stopped.as_deref().unwrap_or_default()
                )
            }
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
                    stint::status::local_hm(&d.from),
                    stint::status::local_hm(&d.to),
                    stint::status::local_hm(&d.until)
                ));
                // After "Open my activity": what was recorded, then the way to take it back.
                let at = 7 + self.work.extra_items();
                if shown || self.menu.insert(&self.delete, at).is_ok() {
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

    /// Opens the person's own diary on the server when this device is
    /// enrolled and uploads are going through; otherwise (offline, or no
    /// server) today's records as text, from the local queue.
    /// Opens the server's form for offline time on today's own diary; the
    /// server decides whether it may be asked for.
    fn add_offline_time(&self) {
        match stint::sync::diary_url(&self.cfg) {
            Some(url) => {
                let form = format!("{url}me/offline");
                if let Err(e) = stint::platform::open_url(&form) {
                    tracing::warn!(error = %e, url = %form, "could not open the browser");
                }
            }
            None => tracing::warn!(
                "offline time is asked for on the server, and this computer is not enrolled with one"
            ),
        }
    }

    fn open_activity(&self) {
        if let (Some(url), false) = (stint::sync::diary_url(&self.cfg), self.offline) {
            match stint::platform::open_url(&url) {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, %url, "could not open the diary; showing the local records")
                }
            }
        }
        self.open_local_activity();
    }

    /// Writes today's records as text next to the queue and opens it in the
    /// user's default viewer: the employee sees exactly what was recorded.
    fn open_local_activity(&self) {
        let since = stint::queue::local_day_start_ms(stint_common::time::now_ms());
        // A reader, like `stint log`: it never changes or deletes anything.
        let opened =
            stint::queue::Queue::open(&self.cfg.storage.data_dir, stint::queue::Role::Reader);
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
                stint::model::counts_text(m),
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
                if let Err(e) = stint::platform::open_in_viewer(&path) {
                    tracing::warn!(error = %e, path = %path.display(), "could not open the activity file");
                }
            }
            Err(e) => tracing::error!(error = %e, "could not write the activity file"),
        }
    }
}
