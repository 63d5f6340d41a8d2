//! The queue's `state` table behind typed keys: one variant per key, one typed
//! accessor each, and a watch channel that carries the tracking switch and
//! the policy to the recorder the moment a change commits (no polling).

use std::borrow::Cow;

use rusqlite::OptionalExtension;
use stint_proto::{Policy, Work, WorkList};

use super::{QueueError, Store};
use crate::model::SyncStatus;

/// Every key of the `state` table; `name()` is its spelling there, which
/// existing queues already hold, so it never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `on`/`off`: the last choice of the user (or of `[tracking] initial`).
    Tracking,
    /// The last valid policy the server sent, as JSON.
    Policy,
    /// Where sync is, for `stint status`: a JSON `SyncStatus`.
    Sync,
    /// What opening did with a corrupt queue, in words.
    Recovery,
    /// One sampler's line in `stint status`.
    Sampler(Sampler),
    /// The project and task chosen last, as JSON `Work`.
    Work,
    /// The last project list the server sent, as JSON `WorkList`: the
    /// choice works offline.
    Projects,
    /// Seconds tracked today per project when that list arrived, as JSON
    /// `Baseline`: what an allowance's remaining seconds are counted from.
    ProjectsBaseline,
    /// Why tracking was stopped by a budget or limit, until it starts again.
    Stopped,
    /// The public keys (base64, JSON list) captures are sealed to, as the
    /// last heartbeat named them; absent: sealing is off.
    SealedTo,
}

/// Today's seconds per project as the project list arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub day_ms: i64,
    pub secs: std::collections::BTreeMap<String, u64>,
}

/// The samplers whose state `stint status` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sampler {
    Input,
    Window,
    Screen,
    Webcam,
}

impl Sampler {
    pub const ALL: [Sampler; 4] = [
        Sampler::Input,
        Sampler::Window,
        Sampler::Screen,
        Sampler::Webcam,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sampler::Input => "input",
            Sampler::Window => "window",
            Sampler::Screen => "screen",
            Sampler::Webcam => "webcam",
        }
    }
}

impl Key {
    pub fn name(self) -> Cow<'static, str> {
        match self {
            Key::Tracking => "tracking".into(),
            Key::Policy => "policy".into(),
            Key::Sync => "sync".into(),
            Key::Recovery => "recovery".into(),
            Key::Sampler(s) => format!("sampler.{}", s.name()).into(),
            Key::Work => "work".into(),
            Key::Projects => "projects".into(),
            Key::ProjectsBaseline => "projects.baseline".into(),
            Key::Stopped => "stopped".into(),
            Key::SealedTo => "sealed_to".into(),
        }
    }
}

/// What the recorder follows, as of the last commit that changed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    /// `None` until anyone chose: the config's `[tracking] initial` decides.
    pub tracking: Option<bool>,
    pub policy: Policy,
    /// What the minutes from now on are for.
    pub work: Work,
    /// Private time under way: nothing is recorded until it ends.
    pub private: Option<super::Private>,
}

impl Store {
    fn read(&self, key: Key) -> Result<Option<String>, QueueError> {
        self.conn
            .prepare_cached("SELECT value FROM state WHERE key = ?1")
            .and_then(|mut st| st.query_row([key.name()], |r| r.get(0)).optional())
            .map_err(|e| self.sql_err(e))
    }

    pub(super) fn write(&mut self, key: Key, value: &str) -> Result<(), QueueError> {
        self.conn
            .execute(
                "INSERT INTO state (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                rusqlite::params![key.name(), value],
            )
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    pub fn tracking(&self) -> Result<Option<bool>, QueueError> {
        Ok(self.read(Key::Tracking)?.map(|v| v == "on"))
    }

    /// Stopping also ends private time: it is a pause of tracking.
    pub fn set_tracking(&mut self, on: bool) -> Result<(), QueueError> {
        if !on {
            self.end_private(stint_common::time::now_ms())?;
        }
        self.write(Key::Tracking, if on { "on" } else { "off" })?;
        if on {
            self.conn
                .execute("DELETE FROM state WHERE key = ?1", [Key::Stopped.name()])
                .map_err(|e| self.sql_err(e))?;
        }
        self.control.send_if_modified(|c| {
            let changed = c.tracking != Some(on);
            c.tracking = Some(on);
            changed
        });
        Ok(())
    }

    /// The policy sync stored last; the default (nothing set) when there is
    /// none, or when what is stored cannot be read or is out of range (an
    /// agent that did not check what arrived may have stored it).
    pub fn policy(&self) -> Result<Policy, QueueError> {
        let Some(text) = self.read(Key::Policy)? else {
            return Ok(Policy::default());
        };
        let checked = serde_json::from_str::<Policy>(&text)
            .map_err(|e| e.to_string())
            .and_then(|p| p.validate().map(|()| p).map_err(|e| e.to_string()));
        Ok(checked.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored policy refused; using the local config alone");
            Policy::default()
        }))
    }

    pub fn set_policy(&mut self, policy: &Policy) -> Result<(), QueueError> {
        let text = serde_json::to_string(policy).expect("a policy serialises");
        self.write(Key::Policy, &text)?;
        self.control.send_if_modified(|c| {
            let changed = c.policy != *policy;
            c.policy = policy.clone();
            changed
        });
        Ok(())
    }

    pub fn sync_status(&self) -> Result<Option<SyncStatus>, QueueError> {
        Ok(self
            .read(Key::Sync)?
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub fn set_sync_status(&mut self, status: &SyncStatus) -> Result<(), QueueError> {
        let text = serde_json::to_string(status).expect("a status serialises");
        self.write(Key::Sync, &text)
    }

    pub fn recovery(&self) -> Result<Option<String>, QueueError> {
        self.read(Key::Recovery)
    }

    pub fn sampler_state(&self, sampler: Sampler) -> Result<Option<String>, QueueError> {
        self.read(Key::Sampler(sampler))
    }

    pub fn set_sampler_state(&mut self, sampler: Sampler, line: &str) -> Result<(), QueueError> {
        self.write(Key::Sampler(sampler), line)
    }

    /// The project choice stored last; unassigned when there is none.
    pub fn work(&self) -> Result<Work, QueueError> {
        Ok(self
            .read(Key::Work)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    /// Records the choice and tells the recorder, which splits the open
    /// minute at this moment.
    pub fn set_work(&mut self, work: &Work) -> Result<(), QueueError> {
        let text = serde_json::to_string(work).expect("a choice serialises");
        self.write(Key::Work, &text)?;
        self.control.send_if_modified(|c| {
            let changed = c.work != *work;
            c.work = work.clone();
            changed
        });
        Ok(())
    }

    /// The project list the server sent last (empty before any).
    pub fn projects(&self) -> Result<WorkList, QueueError> {
        Ok(self
            .read(Key::Projects)?
            .and_then(|t| serde_json::from_str::<WorkList>(&t).ok())
            .filter(|l| l.validate().is_ok())
            .unwrap_or_default())
    }

    /// Stores the list with today's seconds per project at this moment,
    /// from which the list's allowances count down.
    pub fn set_projects(&mut self, list: &WorkList, now_ms: i64) -> Result<(), QueueError> {
        let day_ms = super::local_day_start_ms(now_ms);
        let secs = self.today_by_project(day_ms)?;
        let baseline = serde_json::to_string(&Baseline { day_ms, secs }).expect("serialises");
        let text = serde_json::to_string(list).expect("a list serialises");
        self.write(Key::Projects, &text)?;
        self.write(Key::ProjectsBaseline, &baseline)
    }

    pub fn projects_baseline(&self) -> Result<Baseline, QueueError> {
        Ok(self
            .read(Key::ProjectsBaseline)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    /// Why a budget or limit stopped tracking, until it starts again.
    pub fn stopped(&self) -> Result<Option<String>, QueueError> {
        self.read(Key::Stopped)
    }

    pub fn stop_for(&mut self, why: &str) -> Result<(), QueueError> {
        self.set_tracking(false)?;
        self.write(Key::Stopped, why)
    }

    /// The keys to seal captures to: `None` when sealing is off, an empty
    /// list when it is on and nobody who may see them has a key yet.
    pub fn sealed_to(&self) -> Result<Option<Vec<[u8; 32]>>, QueueError> {
        Ok(self
            .read(Key::SealedTo)?
            .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
            .and_then(|keys| stint_common::seal::public_keys(&keys).ok()))
    }

    /// Stores what a heartbeat said (checked by the caller).
    pub fn set_sealed_to(&mut self, keys: Option<&[String]>) -> Result<(), QueueError> {
        match keys {
            Some(k) => self.write(
                Key::SealedTo,
                &serde_json::to_string(k).expect("serialises"),
            ),
            None => self
                .conn
                .execute("DELETE FROM state WHERE key = ?1", [Key::SealedTo.name()])
                .map(drop)
                .map_err(|e| self.sql_err(e)),
        }
    }

    /// The control values as stored, to start the watch channel with.
    pub(super) fn control_now(&self) -> Result<Control, QueueError> {
        Ok(Control {
            tracking: self.tracking()?,
            policy: self.policy()?,
            work: self.work()?,
            private: self.private_now()?,
        })
    }
}
