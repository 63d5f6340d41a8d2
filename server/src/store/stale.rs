//! Marking hours of a person's time stale: what every write that changes
//! what an hour sums to does in its own transaction, so the kept sums
//! (`work_hours.rs`) are summed again before they are read. A leaf: it
//! knows the tables and the hour keys, nothing of how the sums are made.

use std::collections::BTreeSet;

use super::sql::{params, Conn, ToValue};
use super::{rfc3339, StoreError};

pub(super) const HOUR_MS: i64 = 3_600_000;

/// Rows to one statement.
const CHUNK: usize = 100;

/// The hour `ms` falls in, as a key.
pub(super) fn hour_key(ms: i64) -> String {
    rfc3339(ms.div_euclid(HOUR_MS) * HOUR_MS)[..13].to_string()
}

/// The hours whose minutes a span or a reassignment over [from_ms, to_ms)
/// can change: a minute's seconds run up to an hour past its start.
pub(super) fn hours_touching(from_ms: i64, to_ms: i64) -> Vec<String> {
    let first = (from_ms - HOUR_MS).div_euclid(HOUR_MS);
    let last = to_ms.div_euclid(HOUR_MS);
    (first..=last).map(|h| hour_key(h * HOUR_MS)).collect()
}

/// Marks `hours` of `person` stale: summed again before they are read.
/// The generation tells a summing that raced with this write that its sums
/// are already old.
pub(super) fn mark(
    conn: &mut Conn,
    person: &str,
    hours: impl IntoIterator<Item = String>,
) -> Result<(), StoreError> {
    let hours: Vec<String> = hours
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in hours.chunks(CHUNK) {
        let mut args: Vec<&dyn ToValue> = vec![&person as &dyn ToValue];
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, h)| {
                args.push(h);
                format!("(?1, ?{}, 1)", i + 2)
            })
            .collect();
        conn.execute(
            &format!(
                "INSERT INTO work_hours_stale (person_id, hour, gen) VALUES {}
                 ON CONFLICT (person_id, hour) DO UPDATE SET gen = work_hours_stale.gen + 1",
                rows.join(", ")
            ),
            &args,
        )?;
    }
    Ok(())
}

/// Like [`mark`], for the person `device` is bound to (none: nothing to mark,
/// binding marks its hours later).
pub(super) fn mark_device(
    conn: &mut Conn,
    device: &str,
    hours: impl IntoIterator<Item = String>,
) -> Result<(), StoreError> {
    let person: Option<Option<String>> = {
        use super::sql::OptionalExtension;
        conn.query_row(
            "SELECT person_id FROM devices WHERE id = ?1",
            params![device],
            |r| r.get(0),
        )
        .optional()?
    };
    match person.flatten() {
        Some(p) => mark(conn, &p, hours),
        None => Ok(()),
    }
}

/// Marks every hour with a minute of `device` for its present person: run
/// before and after the device changes hands.
pub(super) fn mark_all_of_device(conn: &mut Conn, device: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO work_hours_stale (person_id, hour, gen)
         SELECT DISTINCT d.person_id, substr(m.start, 1, 13), 1
         FROM minutes m JOIN devices d ON d.id = m.device_id
         WHERE m.device_id = ?1 AND d.person_id IS NOT NULL
         ON CONFLICT (person_id, hour) DO UPDATE SET gen = work_hours_stale.gen + 1",
        params![device],
    )?;
    Ok(())
}
