//! Private time without a daemon or a GUI: `stint private` and the tray's
//! Privacy menu ask for it, the policy's daily allowance shortens or refuses
//! it, and `PrivateStatus` is what status and the tray show. While it runs the
//! recorder records nothing (`daemon`), and the server learns only the span.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stint_proto::Policy;

use crate::queue::{local_day_start_ms, Private, QueueError, Store};
use crate::work::Refused;

/// How long private time is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "length", content = "secs")]
pub enum Length {
    For(u64),
    /// Until tracking stops (or the day's allowance runs out).
    UntilStop,
    /// End the private time under way.
    Off,
}

impl Length {
    /// `15m`, `1h`, `until-stop` or `off`, as `stint private` takes it.
    pub fn parse(text: &str) -> Option<Length> {
        match text {
            "until-stop" => Some(Length::UntilStop),
            "off" => Some(Length::Off),
            _ => crate::config::parse_duration(text)
                .filter(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_secs(86_400))
                .map(|d| Length::For(d.as_secs())),
        }
    }
}

/// What status and the tray say about private time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateStatus {
    /// Under way since, RFC 3339.
    pub since: Option<String>,
    /// Ends at, RFC 3339; `None` while under way: when tracking stops.
    pub until: Option<String>,
    pub used_today_secs: u64,
    /// The policy's daily allowance in minutes; `None`: no limit.
    pub max_mins_per_day: Option<u64>,
}

impl PrivateStatus {
    pub fn gather(store: &Store, policy: &Policy, now_ms: i64) -> Result<Self, QueueError> {
        let p = store.private_now()?.filter(|p| !p.over_at(now_ms));
        Ok(PrivateStatus {
            since: p.map(|p| crate::model::rfc3339(p.start_ms)),
            until: p.and_then(|p| p.until_ms).map(crate::model::rfc3339),
            used_today_secs: (store.private_today_ms(local_day_start_ms(now_ms), now_ms)? / 1000)
                as u64,
            max_mins_per_day: policy.private_time_max_mins_per_day,
        })
    }

    pub fn active(&self) -> bool {
        self.since.is_some()
    }

    /// "Private until 14:30", "Private until you stop tracking".
    pub fn text(&self) -> Option<String> {
        self.since.as_ref()?;
        Some(match &self.until {
            Some(u) => format!("Private until {}", crate::model::local_hm(u)),
            None => "Private until you stop tracking".to_string(),
        })
    }
}

/// `ask` as the control channel and the command line call it: the tracking
/// switch (`initial` before anyone chose) and the policy as stored.
pub fn ask_stored(
    store: &mut Store,
    initial: bool,
    length: Length,
    now_ms: i64,
) -> Result<Result<Option<Private>, Refused>, QueueError> {
    let tracking = store.tracking()?.unwrap_or(initial);
    let policy = store.policy()?;
    ask(store, tracking, length, &policy, now_ms)
}

/// Begins (or moves the end of) private time, or ends it (`Off`), in one
/// turn of the queue thread; the day's allowance shortens a longer request.
pub fn ask(
    store: &mut Store,
    tracking: bool,
    length: Length,
    policy: &Policy,
    now_ms: i64,
) -> Result<Result<Option<Private>, Refused>, QueueError> {
    if length == Length::Off {
        store.end_private(now_ms)?;
        return Ok(Ok(None));
    }
    if !tracking {
        return Ok(Err(Refused::NotTracking));
    }
    let mut until = match length {
        Length::For(secs) => Some(now_ms + secs as i64 * 1000),
        _ => None,
    };
    if let Some(max) = policy.private_time_max_mins_per_day {
        if max == 0 {
            return Ok(Err(Refused::PrivateOff));
        }
        // The span under way counts only to now: asking again replaces its end.
        let used = store.private_today_ms(local_day_start_ms(now_ms), now_ms)?;
        let left = max as i64 * 60_000 - used;
        if left < 1000 {
            return Ok(Err(Refused::PrivateUsedUp(max)));
        }
        let cap = now_ms + left;
        until = Some(until.map_or(cap, |u| u.min(cap)));
    }
    store.begin_private(now_ms, until).map(|p| Ok(Some(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_parse_as_the_command_line_spells_them() {
        for (text, want) in [
            ("15m", Some(Length::For(900))),
            ("1h", Some(Length::For(3600))),
            ("until-stop", Some(Length::UntilStop)),
            ("off", Some(Length::Off)),
            ("0s", None),
            ("2d", None),
            ("soon", None),
        ] {
            assert_eq!(Length::parse(text), want, "{text}");
        }
    }

    /// The allowance: a request is shortened to what is left of the day, a
    /// used-up or zero allowance refuses, stopping ends private time, and
    /// an end that passed unseen closes the span at its planned end.
    #[test]
    fn the_days_allowance_shortens_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, _) = crate::queue::Queue::open(dir.path(), crate::queue::Role::Owner).unwrap();
        let policy = Policy {
            private_time_max_mins_per_day: Some(30),
            ..Policy::default()
        };
        let noon = local_day_start_ms(stint_common::time::now_ms()) + 12 * 3_600_000;
        queue
            .call_blocking(move |s| {
                assert_eq!(
                    ask(s, false, Length::For(60), &policy, noon)?,
                    Err(Refused::NotTracking)
                );
                // 1 h asked, 30 min allowed.
                let p = ask(s, true, Length::For(3600), &policy, noon)?
                    .unwrap()
                    .unwrap();
                assert_eq!(p.until_ms, Some(noon + 1_800_000));
                // Its end passed unseen: closed at the planned end.
                s.end_private(noon + 7_200_000)?;
                assert_eq!(s.private_now()?, None);
                assert_eq!(s.private_today_ms(noon - 1, noon + 7_200_000)?, 1_800_000);
                assert_eq!(
                    ask(s, true, Length::UntilStop, &policy, noon + 7_200_000)?,
                    Err(Refused::PrivateUsedUp(30))
                );
                let off = Policy {
                    private_time_max_mins_per_day: Some(0),
                    ..Policy::default()
                };
                assert_eq!(
                    ask(s, true, Length::For(60), &off, noon)?,
                    Err(Refused::PrivateOff)
                );
                // No limit: until stopping, which ends it (now).
                let a_minute_ago = stint_common::time::now_ms() - 60_000;
                let open = ask(s, true, Length::UntilStop, &Policy::default(), a_minute_ago)?;
                assert_eq!(open.unwrap().unwrap().until_ms, None);
                s.set_tracking(false)?;
                assert_eq!(s.private_now()?, None);
                let spans = s.private_spans(0)?;
                assert_eq!(spans.len(), 2, "{spans:?}");
                Ok(())
            })
            .unwrap();
    }
}
