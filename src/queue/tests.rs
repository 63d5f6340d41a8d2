//! The queue's unit tests, on real SQLite files in temp dirs.
use super::*;
use crate::model::{CaptureKind, CaptureRecord, MinuteRecord};

fn minute(id: &str, seconds: u32, keys: u32, idle: bool) -> MinuteRecord {
    MinuteRecord {
        id: id.into(),
        start: String::new(),
        utc_offset: 0,
        seconds,
        keystrokes: keys,
        clicks: 1,
        scrolls: 0,
        synthetic_keystrokes: 0,
        synthetic_clicks: 0,
        counts_unknown: false,
        idle,
        title: Some("t".into()),
        exe_path: None,
        app: None,
        session_id: "s".into(),
        from_secs: 0,
        project_id: None,
        task_id: None,
        privacy_rule: None,
        screenshot_skipped: None,
    }
}

/// A one-byte WebP screenshot record of monitor `id`.
fn shot(id: &str) -> CaptureRecord {
    CaptureRecord {
        id: id.into(),
        kind: CaptureKind::Screenshot,
        taken_at: String::new(),
        utc_offset: 0,
        monitor: id.into(),
        width: 1,
        height: 1,
        bytes: 1,
        format: "webp".into(),
        session_id: "s".into(),
        sealed: false,
    }
}

#[test]
fn revisited_minute_merges_without_double_counting_time() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    q.call_blocking(|s| {
        s.upsert_minute(&minute("a", 40, 3, false), 60_000, 60)?;
        s.upsert_minute(&minute("b", 40, 2, true), 60_000, 60)
    })
    .unwrap();
    let log = q.call_blocking(|s| s.log(0)).unwrap();
    assert_eq!(log.minutes.len(), 1);
    let m = &log.minutes[0];
    assert_eq!(
        (m.id.as_str(), m.seconds, m.keystrokes, m.clicks, m.idle),
        ("a", 60, 5, 2, false)
    );
}

#[test]
fn tracking_state_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
        assert_eq!(q.call_blocking(|s| s.tracking()).unwrap(), None);
        q.call_blocking(|s| s.set_tracking(true)).unwrap();
    }
    let (q, _) = Queue::open(dir.path(), Role::Reader).unwrap();
    assert_eq!(q.call_blocking(|s| s.tracking()).unwrap(), Some(true));
}

#[test]
fn corrupt_database_is_moved_aside_by_owner_and_reported_to_readers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("queue.db"), vec![0x5au8; 8192]).unwrap();
    let err = Queue::open(dir.path(), Role::Reader)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("queue.db") && err.contains("corrupt"), "{err}");
    let (q, report) = Queue::open(dir.path(), Role::Owner).unwrap();
    let aside = report.moved_corrupt_to.expect("moved aside");
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        vec![0x5au8; 8192],
        "kept byte for byte"
    );
    assert_eq!(q.call_blocking(|s| s.tracking()).unwrap(), None);
}

#[test]
fn owner_sweeps_interrupted_capture_files_but_keeps_committed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let rec = CaptureRecord {
        bytes: 3,
        format: "jpeg".into(),
        ..shot("c1")
    };
    {
        let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
        q.call_blocking(move |s| s.store_capture(&rec, 1, b"abc"))
            .unwrap();
    }
    let caps = dir.path().join("captures");
    std::fs::write(caps.join("c2.jpg.part"), b"half").unwrap();
    std::fs::write(caps.join("c3.jpg"), b"uncommitted").unwrap();
    let (_q, report) = Queue::open(dir.path(), Role::Reader).unwrap();
    assert_eq!(report.swept_files, 0, "readers never delete");
    let (q, report) = Queue::open(dir.path(), Role::Owner).unwrap();
    assert_eq!(report.swept_files, 2);
    let (c, path) = q.call_blocking(|s| s.capture("c1")).unwrap().unwrap();
    assert_eq!(
        (c.bytes, std::fs::read(path).unwrap()),
        (3, b"abc".to_vec())
    );
}

#[test]
fn captures_leave_oldest_first_and_an_ack_removes_rows_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    for (id, taken) in [("late", 3_000), ("early", 1_000), ("mid", 2_000)] {
        let rec = shot(id);
        q.call_blocking(move |s| s.store_capture(&rec, taken, b"x"))
            .unwrap();
    }
    let next = q.call_blocking(|s| s.next_captures(2, i64::MAX)).unwrap();
    let ids: Vec<_> = next.iter().map(|(c, _)| c.id.as_str()).collect();
    assert_eq!(ids, ["early", "mid"]);
    assert!(next.iter().all(|(_, p)| p.exists()));
    let acked = vec!["early".to_string(), "mid".to_string(), "gone".to_string()];
    q.call_blocking(move |s| s.ack_captures(&acked)).unwrap();
    assert!(next.iter().all(|(_, p)| !p.exists()));
    let left = q.call_blocking(|s| s.next_captures(4, i64::MAX)).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0.id, "late");
}

#[test]
fn review_cutoff_holds_records_back_and_a_deleted_segment_takes_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    // Segment [0, 10 s): two monitors' shots and two minutes; then one of each after.
    for (id, taken) in [("a", 1_000), ("b", 1_000), ("c", 12_000)] {
        let rec = shot(id);
        q.call_blocking(move |s| s.store_capture(&rec, taken, b"x"))
            .unwrap();
    }
    for (id, start) in [("m0", 0), ("m5", 5_000), ("m10", 10_000)] {
        q.call_blocking(move |s| s.upsert_minute(&minute(id, 5, 1, false), start, 5))
            .unwrap();
    }
    let held = q
        .call_blocking(|s| Ok((s.upload_batch(10, 10_000)?, s.next_captures(10, 10_000)?)))
        .unwrap();
    assert_eq!(
        held.0.minutes.len(),
        2,
        "only the minutes before the cutoff"
    );
    assert_eq!(held.1.len(), 2, "only the captures before the cutoff");
    let files: Vec<PathBuf> = held.1.iter().map(|(_, p)| p.clone()).collect();

    let gone = q.call_blocking(|s| s.delete_segment(0, 10_000)).unwrap();
    assert_eq!(gone, (2, 2));
    assert!(files.iter().all(|p| !p.exists()), "image files removed");
    let left = q
        .call_blocking(|s| {
            Ok((
                s.upload_batch(10, i64::MAX)?,
                s.next_captures(10, i64::MAX)?,
            ))
        })
        .unwrap();
    let minutes: Vec<_> = left.0.minutes.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(minutes, ["m10"]);
    assert_eq!(left.1.len(), 1);
    assert_eq!(left.1[0].0.id, "c");
}

#[test]
fn local_day_start_is_at_or_before_now() {
    let now = chrono::Utc::now().timestamp_millis();
    let start = local_day_start_ms(now);
    assert!(start <= now && now - start < 86_400_000);
}

/// The recorder's view of the switch and the policy: what is stored when the
/// queue opens, then each committed change at once, and nothing for a write
/// that changes nothing.
#[test]
fn control_changes_reach_watchers_as_they_commit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let (q, _) = Queue::open(&data, Role::Owner).unwrap();
        q.call_blocking(|s| s.set_tracking(true)).unwrap();
    }
    let (q, _) = Queue::open(&data, Role::Owner).unwrap();
    let mut control = q.control();
    assert_eq!(
        control.borrow_and_update().tracking,
        Some(true),
        "stored value at open"
    );
    type Step = fn(&mut Store) -> Result<(), QueueError>;
    let steps: &[(&str, Step, bool)] = &[
        ("switch off", |s| s.set_tracking(false), true),
        ("off again", |s| s.set_tracking(false), false),
        (
            "a policy",
            |s| {
                s.set_policy(&stint_proto::Policy {
                    blur: Some(true),
                    ..Default::default()
                })
            },
            true,
        ),
        (
            "a sync status",
            |s| {
                s.set_sync_status(&crate::model::SyncStatus {
                    state: crate::model::SyncState::Idle,
                    server: None,
                    device_id: None,
                    last_success: None,
                    last_error: None,
                    policy_error: None,
                })
            },
            false,
        ),
    ];
    for (what, step, notifies) in steps {
        q.call_blocking(*step).unwrap();
        assert_eq!(control.has_changed().unwrap(), *notifies, "{what}");
        control.borrow_and_update();
    }
    let now = control.borrow().clone();
    assert_eq!((now.tracking, now.policy.blur), (Some(false), Some(true)));
}

/// A job that panics comes back as an error, inside a transaction that is
/// rolled back, and the thread serves the next job as before.
#[test]
fn a_job_that_panics_is_an_error_and_the_queue_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    let failed = q.call_blocking(|s| -> Result<(), QueueError> {
        let tx = s.conn.transaction().map_err(QueueError::Sql)?;
        tx.execute("UPDATE state SET value = 'half done'", [])
            .map_err(QueueError::Sql)?;
        panic!("a bug in a job");
    });
    assert!(
        matches!(&failed, Err(QueueError::Panicked(text)) if text == "a bug in a job"),
        "{failed:?}"
    );
    q.call_blocking(|s| s.set_tracking(true)).unwrap();
    let half: i64 = q
        .call_blocking(|s| {
            s.conn
                .query_row(
                    "SELECT count(*) FROM state WHERE value = 'half done'",
                    [],
                    |r| r.get(0),
                )
                .map_err(QueueError::Sql)
        })
        .unwrap();
    assert_eq!(half, 0, "the panicking job's write was rolled back");
}

fn on(project: Option<&str>) -> stint_proto::Work {
    stint_proto::Work {
        project_id: project.map(str::to_string),
        task_id: None,
    }
}

/// A switch splits a slot into one row per choice; switching back merges
/// into the first choice's row; the upload acknowledges each part, and
/// today's time per choice survives the upload.
#[test]
fn a_split_minute_keeps_one_row_per_choice_through_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    let now = stint_common::time::now_ms();
    let slot = now - now.rem_euclid(60_000);
    let part = move |id: &str, secs, from, project: Option<&str>| MinuteRecord {
        start: crate::model::rfc3339(slot),
        from_secs: from,
        project_id: project.map(str::to_string),
        ..minute(id, secs, 1, false)
    };
    q.call_blocking(move |s| {
        s.upsert_minute(&part("a", 20, 0, Some("p1")), slot, 60)?;
        s.upsert_minute(&part("b", 25, 20, Some("p2")), slot, 60)?;
        s.upsert_minute(&part("c", 15, 45, Some("p1")), slot, 60)
    })
    .unwrap();
    let day = local_day_start_ms(now);
    let today = q.call_blocking(move |s| s.today_by_work(day)).unwrap();
    assert_eq!(today, [(on(Some("p1")), 35), (on(Some("p2")), 25)]);
    let batch = q.call_blocking(|s| s.upload_batch(100, i64::MAX)).unwrap();
    let parts: Vec<_> = batch
        .minutes
        .iter()
        .map(|m| (m.project_id.clone(), m.seconds, m.from_secs))
        .collect();
    assert_eq!(
        parts,
        [(Some("p1".into()), 35, 0), (Some("p2".into()), 25, 20)]
    );
    q.call_blocking(move |s| s.ack_batch(&batch)).unwrap();
    let after = q.call_blocking(move |s| s.today_by_work(day)).unwrap();
    assert_eq!(after, today, "uploaded time still counts for today");
    assert_eq!(
        q.call_blocking(move |s| s.stats(day))
            .unwrap()
            .pending_minutes,
        0
    );
}

/// A span waits for a decision; a decision is final; a day after it ended
/// the default decides the rest, recorded as the policy's; only decided
/// spans are uploaded, and the acknowledged ones leave the queue.
#[test]
fn idle_spans_wait_are_decided_once_and_default_after_a_day() {
    use stint_proto::Decision;
    let dir = tempfile::tempdir().unwrap();
    let (q, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    let t0 = 1_764_763_200_000; // 2025-12-03T12:00:00Z
    let span = |id: &str, from: i64| crate::model::IdleSpan {
        id: id.into(),
        start: crate::model::rfc3339(t0 + from),
        end: crate::model::rfc3339(t0 + from + 600_000),
        utc_offset: 0,
        decision: None,
        auto: false,
        work: on(Some("p1")),
        decided_at: None,
    };
    let (a, b) = (span("a", 0), span("b", 3_600_000));
    q.call_blocking(move |s| {
        s.add_idle_span(&a)?;
        s.add_idle_span(&b)
    })
    .unwrap();
    let kept = q
        .call_blocking(move |s| {
            s.decide_idle("a", Decision::Keep, &on(Some("p2")), false, t0 + 700_000)
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.decision, kept.work),
        (Some(Decision::Keep), on(Some("p2")))
    );
    let again = q
        .call_blocking(move |s| s.decide_idle("a", Decision::Discard, &on(None), false, t0))
        .unwrap();
    assert!(again.is_none(), "a decision is final");
    assert_eq!(q.call_blocking(|s| s.pending_idle()).unwrap().len(), 1);

    // Before a day has passed since "b" ended nothing is defaulted; after, it is.
    let b_end = t0 + 3_600_000 + 600_000;
    let early = q
        .call_blocking(move |s| s.decide_overdue(Decision::Discard, b_end + ANSWER_WITHIN_MS - 1))
        .unwrap();
    assert!(early.is_empty());
    let late = q
        .call_blocking(move |s| s.decide_overdue(Decision::Discard, b_end + ANSWER_WITHIN_MS))
        .unwrap();
    assert_eq!(late.len(), 1);
    assert!(late[0].auto && late[0].decision == Some(Decision::Discard));
    assert_eq!(
        late[0].work,
        on(Some("p1")),
        "the span keeps its minutes' choice"
    );

    let batch = q.call_blocking(|s| s.upload_batch(100, i64::MAX)).unwrap();
    let sent: Vec<_> = batch
        .idle_spans
        .iter()
        .map(|s| (s.id.as_str(), s.auto))
        .collect();
    assert_eq!(sent, [("a", false), ("b", true)]);
    q.call_blocking(move |s| s.ack_batch(&batch)).unwrap();
    assert!(q.call_blocking(|s| s.idle_spans(0)).unwrap().is_empty());
}

/// With sealing on, a capture stored plain is sealed in place before it is
/// handed to upload, and none is handed over while nobody has a key.
#[test]
fn plain_captures_are_sealed_before_upload_or_held_back() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = Queue::open(dir.path(), Role::Owner).unwrap();
    let secret = [7u8; 32];
    let public =
        base64::engine::general_purpose::STANDARD.encode(stint_common::seal::public_key(&secret));
    queue
        .call_blocking(move |q| {
            q.store_capture(&shot("c1"), 1_000, b"plain pixels")?;
            let on = stint_proto::Policy {
                e2e_screenshots: Some(true),
                ..Default::default()
            };
            q.set_policy(&on)?;
            q.set_sealed_to(Some(&[]))?;
            assert!(q.next_captures(4, 10_000)?.is_empty(), "nobody to seal to");
            q.set_sealed_to(Some(&[public]))?;
            let caps = q.next_captures(4, 10_000)?;
            assert_eq!(caps.len(), 1);
            let (rec, path) = &caps[0];
            assert!(
                rec.sealed && path.extension().unwrap() == "sealed",
                "{rec:?}"
            );
            let body = std::fs::read(path).unwrap();
            let (_, image) = stint_common::seal::unbundle(&body).unwrap();
            assert_eq!(
                stint_common::seal::open(image, &secret).unwrap(),
                b"plain pixels"
            );
            assert_eq!(rec.bytes, body.len() as u64);
            assert!(!dir_holds(q, b"plain pixels"), "the plain file is gone");
            Ok(())
        })
        .unwrap();
}

fn dir_holds(q: &Store, needle: &[u8]) -> bool {
    std::fs::read_dir(&q.captures).unwrap().flatten().any(|e| {
        std::fs::read(e.path()).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
    })
}
