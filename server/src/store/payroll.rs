//! What payroll reads: approved time only, per person, day and project or
//! task, as it stood when its period was approved. Minutes and idle
//! decisions that arrived later (an agent that was offline) are stored and
//! flagged in the diary, but not paid until an admin reopens the period and
//! it is approved again; offline time counts if it was approved by then.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use stint_proto::Work;

use super::sql::params;
use super::worktime::{by_work, Spent};
use super::{Grant, OfflineState, Person, Store, StoreError};
use crate::access::Action;
use crate::days::day_bounds;

/// One day of one person's approved time on one project choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayrollDay {
    pub day: NaiveDate,
    pub work: Work,
    /// Recorded seconds worked (kept idle included), as of the approval.
    pub tracked: u64,
    /// Approved offline seconds.
    pub offline: u64,
}

impl Store {
    /// The approved days of the grant's person between `first` and `last`
    /// (their own days), oldest first.
    pub fn payroll(
        &self,
        grant: &Grant,
        person: &Person,
        (first, last): (NaiveDate, NaiveDate),
    ) -> Result<Vec<PayrollDay>, StoreError> {
        let id = grant.person_for(&[Action::ViewReport])?;
        if id != person.id {
            return Err(StoreError::WrongGrant(Action::ViewReport));
        }
        let approved: Vec<(String, String, i64)> = self.conn().query_map(
            "SELECT first_day, last_day, approved_ms FROM periods
             WHERE person_id = ?1 AND state = 'approved' AND first_day <= ?3 AND last_day >= ?2
             ORDER BY first_day",
            params![id, first.to_string(), last.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let tz = person.tz();
        let mut out = Vec::new();
        for (a, b, at) in approved {
            let (Ok(a), Ok(b)) = (a.parse::<NaiveDate>(), b.parse::<NaiveDate>()) else {
                continue;
            };
            let mut d = a.max(first);
            while d <= b.min(last) {
                let (from, to) = day_bounds(d, tz);
                let (minutes, spans) = self.minutes_received_for_work(id, from, to, at)?;
                let mut by: BTreeMap<Work, Spent> = by_work(&minutes, &spans);
                for o in self.offline_of(grant, from, to)? {
                    if o.state == OfflineState::Approved && o.decided_ms.is_some_and(|t| t <= at) {
                        let secs = ((o.to_ms.min(to) - o.from_ms.max(from)).max(0) / 1000) as u64;
                        by.entry(o.work).or_default().offline += secs;
                    }
                }
                out.extend(
                    by.into_iter()
                        .filter(|(w, s)| {
                            grant.opens(w.project_id.as_deref()) && s.tracked + s.offline > 0
                        })
                        .map(|(work, s)| PayrollDay {
                            day: d,
                            work,
                            tracked: s.tracked,
                            offline: s.offline,
                        }),
                );
                match d.succ_opt() {
                    Some(n) => d = n,
                    None => break,
                }
            }
        }
        Ok(out)
    }
}
