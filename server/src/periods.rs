//! Timesheet periods as arithmetic: the organisation's rule (weekly from a
//! chosen day, every two weeks from an anchor, the 1st-15th and the 16th-end
//! of each month, or monthly) and the period a day falls in. Days are the
//! person's own (see `days.rs`); no database here.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// How the organisation cuts time into periods to submit and approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRule {
    Weekly(Weekday),
    /// Every two weeks, the first beginning on this day.
    Biweekly(NaiveDate),
    SemiMonthly,
    Monthly,
}

impl Default for PeriodRule {
    fn default() -> PeriodRule {
        PeriodRule::Weekly(Weekday::Mon)
    }
}

const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

/// What `PeriodRule::parse` accepts, for messages.
pub const RULE_FORMS: &str =
    "weekly:DAY (monday to sunday), biweekly:YYYY-MM-DD (the first period's first day), semi-monthly or monthly";

impl PeriodRule {
    /// "weekly:monday", "biweekly:2026-11-30", "semi-monthly", "monthly".
    pub fn parse(text: &str) -> Result<PeriodRule, String> {
        let bad = || format!("period rule {text:?}: expected {RULE_FORMS}");
        match text.trim().split_once(':') {
            None => match text.trim() {
                "semi-monthly" => Ok(PeriodRule::SemiMonthly),
                "monthly" => Ok(PeriodRule::Monthly),
                "weekly" => Ok(PeriodRule::default()),
                _ => Err(bad()),
            },
            Some(("weekly", day)) => DAYS
                .iter()
                .find(|(n, _)| *n == day)
                .map(|(_, d)| PeriodRule::Weekly(*d))
                .ok_or_else(bad),
            Some(("biweekly", anchor)) => {
                anchor.parse().map(PeriodRule::Biweekly).map_err(|_| bad())
            }
            Some(_) => Err(bad()),
        }
    }

    pub fn name(&self) -> String {
        match self {
            PeriodRule::Weekly(d) => {
                let day = DAYS
                    .iter()
                    .find(|(_, w)| w == d)
                    .map_or("monday", |(n, _)| n);
                format!("weekly:{day}")
            }
            PeriodRule::Biweekly(a) => format!("biweekly:{a}"),
            PeriodRule::SemiMonthly => "semi-monthly".into(),
            PeriodRule::Monthly => "monthly".into(),
        }
    }

    /// The first and last day of the period `day` falls in.
    pub fn period_of(&self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let month_end = |d: NaiveDate| {
            let next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            };
            next.and_then(|n| n.pred_opt()).unwrap_or(d)
        };
        let first_of = |d: NaiveDate, n: u32| d.with_day(n).unwrap_or(d);
        match *self {
            PeriodRule::Weekly(first) => {
                let back =
                    (7 + day.weekday().num_days_from_monday() - first.num_days_from_monday()) % 7;
                let start = day - Duration::days(i64::from(back));
                (start, start + Duration::days(6))
            }
            PeriodRule::Biweekly(anchor) => {
                let n = (day - anchor).num_days().div_euclid(14);
                let start = anchor + Duration::days(n * 14);
                (start, start + Duration::days(13))
            }
            PeriodRule::SemiMonthly if day.day() <= 15 => (first_of(day, 1), first_of(day, 15)),
            PeriodRule::SemiMonthly => (first_of(day, 16), month_end(day)),
            PeriodRule::Monthly => (first_of(day, 1), month_end(day)),
        }
    }
}

/// The organisation's period settings, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeriodSettings {
    /// A rule in `PeriodRule::parse`'s words; absent: weekly from Monday.
    pub rule: Option<String>,
    /// A submitted period nobody decided on is approved, by the policy,
    /// this many days after it was submitted; absent: never.
    pub auto_approve_days: Option<u32>,
}

impl PeriodSettings {
    pub fn rule(&self) -> PeriodRule {
        self.rule
            .as_deref()
            .and_then(|r| PeriodRule::parse(r).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(t: &str) -> NaiveDate {
        t.parse().unwrap()
    }

    #[test]
    fn each_rule_puts_a_day_in_its_period() {
        let rule = |t: &str| PeriodRule::parse(t).unwrap();
        for (r, day, first, last) in [
            ("weekly:monday", "2026-12-03", "2026-11-30", "2026-12-06"),
            ("weekly:monday", "2026-11-30", "2026-11-30", "2026-12-06"),
            ("weekly:sunday", "2026-12-03", "2026-11-29", "2026-12-05"),
            ("weekly:thursday", "2026-12-02", "2026-11-26", "2026-12-02"),
            (
                "biweekly:2026-11-30",
                "2026-12-13",
                "2026-11-30",
                "2026-12-13",
            ),
            (
                "biweekly:2026-11-30",
                "2026-12-14",
                "2026-12-14",
                "2026-12-27",
            ),
            (
                "biweekly:2026-11-30",
                "2026-11-29",
                "2026-11-16",
                "2026-11-29",
            ),
            ("semi-monthly", "2026-02-15", "2026-02-01", "2026-02-15"),
            ("semi-monthly", "2026-02-16", "2026-02-16", "2026-02-28"),
            ("semi-monthly", "2028-02-20", "2028-02-16", "2028-02-29"),
            ("monthly", "2026-12-31", "2026-12-01", "2026-12-31"),
        ] {
            assert_eq!(rule(r).period_of(d(day)), (d(first), d(last)), "{r} {day}");
            assert_eq!(PeriodRule::parse(&rule(r).name()), Ok(rule(r)), "{r}");
        }
        for bad in ["weekly:someday", "fortnightly", "biweekly:soon", ""] {
            let e = PeriodRule::parse(bad).unwrap_err();
            assert!(e.contains("expected weekly:DAY"), "{e}");
        }
    }
}
