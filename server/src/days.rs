//! Days in a person's time zone, as every report, the diary and the
//! timesheet periods count them: a day's bounds, the day of an instant,
//! its wall-clock time. Pure functions.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

/// [start, end) of `day` in `tz`, in epoch milliseconds. A day is 23, 24 or
/// 25 hours long around daylight-saving changes.
pub fn day_bounds(day: NaiveDate, tz: Tz) -> (i64, i64) {
    let start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        // Where midnight itself is skipped by a DST change, the day starts at
        // the first instant that exists.
        tz.from_local_datetime(&midnight)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map_or(0, |t| t.timestamp_millis())
    };
    let next = day.succ_opt().unwrap_or(day);
    (start(day), start(next))
}

/// The day an instant falls on in `tz`.
pub fn day_of(ms: i64, tz: Tz) -> NaiveDate {
    tz.timestamp_millis_opt(ms)
        .single()
        .map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// "14:05" in `tz`.
pub fn clock(ms: i64, tz: Tz) -> String {
    tz.timestamp_millis_opt(ms)
        .single()
        .map_or_else(String::new, |t| t.format("%H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    /// A person in UTC+13 (Auckland in summer) and one in UTC-10 (Honolulu),
    /// and days that gain or lose an hour to daylight saving.
    #[test]
    fn days_begin_at_local_midnight_whatever_the_offset_and_dst() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        for (zone, date, start, hours) in [
            ("Pacific/Auckland", "2026-01-15", "2026-01-14T11:00:00Z", 24),
            ("Pacific/Honolulu", "2026-01-15", "2026-01-15T10:00:00Z", 24),
            // Auckland's clocks go back an hour on 2026-04-05 and forward on 2026-09-27.
            ("Pacific/Auckland", "2026-04-05", "2026-04-04T11:00:00Z", 25),
            ("Pacific/Auckland", "2026-09-27", "2026-09-26T12:00:00Z", 23),
            ("America/New_York", "2026-03-08", "2026-03-08T05:00:00Z", 23),
            ("UTC", "2026-11-29", "2026-11-29T00:00:00Z", 24),
        ] {
            let tz: Tz = zone.parse().unwrap();
            let (from, to) = day_bounds(day(date), tz);
            assert_eq!(from, utc(start), "{zone} {date}");
            assert_eq!((to - from) / 3_600_000, hours, "{zone} {date} length");
            assert_eq!(day_of(from, tz), day(date));
            assert_eq!(day_of(to - 1, tz), day(date));
        }
    }
}
