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
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use crate::config::Config;
use crate::ipc::{IpcError, Request};
use crate::status::Report;

#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "windows", path = "windows.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod platform;

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

/// The icon as straight RGBA: a filled disc in the state's colour with a white
/// mark (clock hands while tracking, pause bars when paused, "!" otherwise),
/// anti-aliased by 4x4 supersampling so it reads at 16 px.
pub fn icon_rgba(state: TrayState, size: u32) -> Vec<u8> {
    let n = size as f32;
    let [r, g, b] = state.colour();
    let mut out = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (mut disc, mut mark) = (0u32, 0u32);
            for sy in 0..4 {
                for sx in 0..4 {
                    // Unit coordinates, centre 0, radius 1.
                    let u = ((x as f32 + (sx as f32 + 0.5) / 4.0) / n) * 2.0 - 1.0;
                    let v = ((y as f32 + (sy as f32 + 0.5) / 4.0) / n) * 2.0 - 1.0;
                    if u * u + v * v <= 0.94 * 0.94 {
                        disc += 1;
                        if in_mark(state, u, v) {
                            mark += 1;
                        }
                    }
                }
            }
            let a = disc as f32 / 16.0;
            let w = if disc > 0 {
                mark as f32 / disc as f32
            } else {
                0.0
            };
            let mix = |c: u8| (c as f32 * (1.0 - w) + 255.0 * w).round() as u8;
            out.extend_from_slice(&[mix(r), mix(g), mix(b), (a * 255.0).round() as u8]);
        }
    }
    out
}

fn in_mark(state: TrayState, u: f32, v: f32) -> bool {
    match state {
        // Hands at ten past: one up, one to the right.
        TrayState::Tracking => {
            (u.abs() < 0.11 && (-0.62..=0.06).contains(&v))
                || (v.abs() < 0.11 && (-0.06..=0.5).contains(&u))
        }
        TrayState::Paused => {
            (-0.5..=0.5).contains(&v) && ((-0.36..=-0.1).contains(&u) || (0.1..=0.36).contains(&u))
        }
        TrayState::Offline | TrayState::Error => {
            u.abs() < 0.12 && ((-0.6..=0.18).contains(&v) || (0.34..=0.56).contains(&v))
        }
    }
}

fn icon(state: TrayState) -> Option<Icon> {
    const SIZE: u32 = 32;
    Icon::from_rgba(icon_rgba(state, SIZE), SIZE, SIZE).ok()
}

#[derive(Debug, thiserror::Error)]
pub enum TrayError {
    #[error("the tray cannot start here: {0}")]
    Unavailable(String),
}

/// Refreshes in a row without a daemon before the tray gives up and exits.
const ORPHANED_AFTER: u32 = 3;

pub struct Tray {
    cfg: Config,
    rt: tokio::runtime::Runtime,
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err(&e))?;
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
            rt,
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

    fn call(&self, req: Request) -> Result<crate::ipc::Response, IpcError> {
        self.rt.block_on(crate::ipc::request(&self.cfg, &req))
    }

    /// Handles menu clicks and refreshes the icon now and then. Returns false
    /// once the user chose Quit.
    pub fn tick(&mut self) -> bool {
        let mut acted = false;
        while let Ok(ev) = MenuEvent::receiver().try_recv() {
            if ev.id == *self.toggle.id() {
                let on = !self.tracking;
                let req = if on { Request::Start } else { Request::Stop };
                match self.call(req) {
                    Ok(_) => tracing::info!(tracking = on, "tracking switched from the tray"),
                    Err(e) => tracing::error!(error = %e, "could not switch tracking"),
                }
                acted = true;
            } else if ev.id == *self.delete.id() {
                if let Some(d) = self.deletable.clone() {
                    let req = Request::DeleteCapture {
                        id: d.capture_id.clone(),
                    };
                    match self.call(req) {
                        Ok(_) => {
                            tracing::info!(from = %d.from, to = %d.to, "segment deleted from the tray")
                        }
                        Err(e) => tracing::error!(error = %e, "could not delete the segment"),
                    }
                    acted = true;
                }
            } else if ev.id == *self.open.id() {
                self.open_activity();
            } else if ev.id == *self.quit.id() && self.quit_shown {
                tracing::info!("quit from the tray");
                match self.call(Request::Quit) {
                    Ok(_) => return false,
                    Err(e) => tracing::warn!(error = %e, "the daemon did not quit"),
                }
            }
        }
        if acted || self.last_refresh.is_none_or(|t| t.elapsed() >= REFRESH) {
            return self.refresh();
        }
        true
    }

    /// Shows the daemon's current status; false once the daemon has gone.
    fn refresh(&mut self) -> bool {
        self.last_refresh = Some(Instant::now());
        let report = match self.call(Request::Status) {
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
        match crate::platform::write_private(&path, text.as_bytes()) {
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
            }),
            policy: Default::default(),
            data_dir: Default::default(),
            daemon: None,
            deletable: None,
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

    fn png(rgba: &[u8], size: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, size, size);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(rgba).unwrap();
        w.finish().unwrap();
        out
    }

    /// An .ico whose entries are PNGs (Windows Vista and later read these).
    fn ico(images: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0, 0, 1, 0];
        out.extend_from_slice(&(images.len() as u16).to_le_bytes());
        let mut offset = 6 + 16 * images.len() as u32;
        for (size, data) in images {
            let dim = if *size >= 256 { 0 } else { *size as u8 };
            out.extend_from_slice(&[dim, dim, 0, 0, 1, 0, 32, 0]);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offset += data.len() as u32;
        }
        for (_, data) in images {
            out.extend_from_slice(data);
        }
        out
    }

    /// assets/icons is generated from `icon_rgba`; this keeps the two equal.
    /// `STINT_UPDATE_ASSETS=1 cargo test --lib assets` rewrites the files.
    #[test]
    fn assets_icons_match_the_renderer() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/icons");
        let mut want: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
        // The application icon (installers, menus): hicolor sizes for Linux.
        for size in [16, 22, 24, 32, 48, 64, 128, 256] {
            let path = dir.join(format!("hicolor/{size}x{size}/apps/stint.png"));
            want.push((path, png(&icon_rgba(TrayState::Tracking, size), size)));
        }
        // Windows: one .ico with the sizes Explorer and the MSI dialogs use.
        let entries: Vec<_> = [16, 24, 32, 48, 256]
            .into_iter()
            .map(|s| (s, png(&icon_rgba(TrayState::Tracking, s), s)))
            .collect();
        want.push((dir.join("stint.ico"), ico(&entries)));
        // Tray states at tray sizes (22/44 for the macOS menu bar at 1x/2x).
        for state in TrayState::ALL {
            for size in [16, 22, 24, 32, 44, 48] {
                let path = dir.join(format!("tray/stint-{}-{size}.png", state.name()));
                want.push((path, png(&icon_rgba(state, size), size)));
            }
        }
        let update = std::env::var_os("STINT_UPDATE_ASSETS").is_some();
        for (path, data) in want {
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &data).unwrap();
            } else {
                let have = std::fs::read(&path).unwrap_or_default();
                assert!(
                    have == data,
                    "{} is stale or missing; regenerate with STINT_UPDATE_ASSETS=1 cargo test --lib assets",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn icons_differ_by_state_and_are_round() {
        for size in [16, 32] {
            let icons: Vec<_> = TrayState::ALL.iter().map(|s| icon_rgba(*s, size)).collect();
            for (i, a) in icons.iter().enumerate() {
                assert_eq!(a.len(), (size * size * 4) as usize);
                assert_eq!(a[3], 0, "corner is transparent");
                let centre = ((size / 2 * size + size / 2) * 4) as usize;
                assert_eq!(a[centre + 3], 255, "centre is opaque");
                for b in &icons[i + 1..] {
                    assert_ne!(a, b);
                }
            }
        }
    }
}
