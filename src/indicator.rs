//! What the tray icon shows, as a pure function of the status report. The
//! tray binary draws it; nothing here touches a GUI toolkit, so the states
//! and their colours are tested (and found on screen by the tray tests)
//! without linking one.

use crate::status::Report;

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
pub const OFFLINE_BACKLOG: u64 = 5;
impl TrayState {
    pub fn of(r: &Report) -> TrayState {
        use crate::sync::State;
        if problem(r).is_some() {
            return TrayState::Error;
        }
        // Private time pauses recording as stopping does.
        if !r.tracking || r.private.active() {
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
            work: Default::default(),
            rules: Vec::new(),
            private: Default::default(),
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
        // Private time: nothing is recorded, so the icon is grey.
        let mut r = report(true, None, false, 0);
        r.private.since = Some("2026-12-04T10:00:00.000Z".into());
        assert_eq!(TrayState::of(&r), Paused);
    }
}
