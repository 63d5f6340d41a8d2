//! The server's SQLite schema, migrated step by step on `user_version`.

/// Schema steps keyed on `user_version`; entry N upgrades version N to N+1.
/// Append only, each with a fixture test from the previous schema.
pub(super) const MIGRATIONS: &[&str] = &[
    // 0 -> 1: devices, tokens, records, settings.
    r#"
CREATE TABLE enroll_tokens (
    hash TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    os_type TEXT NOT NULL,
    os_version TEXT NOT NULL,
    os_user TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    enrolled_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    last_ip TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE TABLE minutes (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    start TEXT NOT NULL,
    utc_offset INTEGER NOT NULL,
    seconds INTEGER NOT NULL,
    keystrokes INTEGER NOT NULL,
    clicks INTEGER NOT NULL,
    scrolls INTEGER NOT NULL,
    idle INTEGER NOT NULL,
    title TEXT,
    exe_path TEXT,
    app TEXT,
    session_id TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE INDEX minutes_by_device ON minutes (device_id, start);
CREATE TABLE captures (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    utc_offset INTEGER NOT NULL,
    monitor TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    format TEXT NOT NULL,
    session_id TEXT NOT NULL,
    file TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    public_ip TEXT NOT NULL
);
CREATE INDEX captures_by_device ON captures (device_id, taken_at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    // 1 -> 2: the part of the counts software injected, and minutes whose
    // counts the agent could not take. Minutes of older agents: 0, 0, known.
    r#"
ALTER TABLE minutes ADD COLUMN synthetic_keystrokes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE minutes ADD COLUMN synthetic_clicks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE minutes ADD COLUMN counts_unknown INTEGER NOT NULL DEFAULT 0;
"#,
    // 2 -> 3: enrollment tokens may expire and may be limited to a number of
    // enrollments. Existing tokens: no expiry, no limit, uses counted from now.
    r#"
ALTER TABLE enroll_tokens ADD COLUMN expires_ms INTEGER;
ALTER TABLE enroll_tokens ADD COLUMN max_uses INTEGER;
ALTER TABLE enroll_tokens ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
"#,
    // 3 -> 4: people with their accounts and roles, teams and who manages
    // them, browser sessions, login throttling, the view audit; devices and
    // enrollment tokens may belong to a person. Existing devices: unbound.
    r#"
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'member', 'auditor')),
    archived INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,
    created_ms INTEGER NOT NULL
);
CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE team_people (
    team_id TEXT NOT NULL REFERENCES teams (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    manager INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, person_id)
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL
);
CREATE TABLE view_audit (
    at_ms INTEGER NOT NULL,
    viewer_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE INDEX view_audit_by_subject ON view_audit (subject_id, at_ms);
ALTER TABLE devices ADD COLUMN person_id TEXT;
ALTER TABLE enroll_tokens ADD COLUMN person_id TEXT;
"#,
    // 4 -> 5: tombstones of deleted records, so a deleted id never comes back;
    // one-time links that set a password; policies of teams and people.
    r#"
CREATE TABLE tombstones (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    deleted_ms INTEGER NOT NULL,
    deleted_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    person_id TEXT
);
CREATE INDEX tombstones_by_person ON tombstones (person_id, deleted_ms);
CREATE TABLE password_links (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE policies (scope TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    r#"
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE people ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX people_by_oidc_subject ON people (oidc_subject);
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
"#,
    // Objects in doubt: a write started before its row commits, or an
    // image whose row is gone and whose delete may not have happened. The
    // orphan sweep reads only these, never the whole bucket.
    r#"
CREATE TABLE object_writes (
    key TEXT PRIMARY KEY,
    capture_id TEXT NOT NULL,
    since_ms INTEGER NOT NULL
);
CREATE INDEX object_writes_by_age ON object_writes (since_ms);
"#,
    // 8 -> 9: login attempts are counted before they run and decay: when
    // the last one was, and which attempt reserved the count. Old rows:
    // long ago (their failures forgiven), reserved by none.
    r#"
ALTER TABLE login_failures ADD COLUMN last_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_failures ADD COLUMN attempt TEXT NOT NULL DEFAULT '';
"#,
    WORK_STEP,
    WORK_HOURS_STEP,
    OFFLINE_STEP,
    PERIODS_STEP,
    API_TOKENS_STEP,
    WEBHOOKS_STEP,
    PRIVACY_STEP,
    PRIVATE_TIME_STEP,
    SEALED_STEP,
];

/// 9 -> 10 here, 4 -> 5 on PostgreSQL (one text: SQLite reads BIGINT as
/// INTEGER): what time is for, and where in its slot a minute's seconds
/// begin (0 for older minutes). Clients, projects (dated, archivable),
/// their tasks and members with a project role; a minute's project and
/// task; budgets of projects and weekly limits of members; idle spans and
/// their decisions; reassignments of recorded time, with who and why.
/// Existing minutes: unassigned.
pub(super) const WORK_STEP: &str = r#"
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    client_id TEXT,
    starts_on TEXT,
    ends_on TEXT,
    archived BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    budget_secs BIGINT,
    budget_monthly BIGINT NOT NULL DEFAULT 0,
    budget_warn_percent BIGINT NOT NULL DEFAULT 80,
    budget_hard_stop BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    archived BIGINT NOT NULL DEFAULT 0,
    UNIQUE (project_id, name)
);
CREATE TABLE project_members (
    project_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('lead', 'member', 'viewer')),
    weekly_limit_secs BIGINT,
    PRIMARY KEY (project_id, person_id)
);
ALTER TABLE minutes ADD COLUMN project_id TEXT;
ALTER TABLE minutes ADD COLUMN task_id TEXT;
ALTER TABLE minutes ADD COLUMN from_secs BIGINT NOT NULL DEFAULT 0;
CREATE INDEX minutes_by_project ON minutes (project_id, start);
CREATE TABLE idle_spans (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    start TEXT NOT NULL,
    end_at TEXT NOT NULL,
    utc_offset BIGINT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('keep', 'discard')),
    auto BIGINT NOT NULL,
    project_id TEXT,
    task_id TEXT,
    decided_at TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX idle_spans_by_device ON idle_spans (device_id, start);
CREATE TABLE reassignments (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    from_ms BIGINT NOT NULL,
    to_ms BIGINT NOT NULL,
    project_id TEXT,
    task_id TEXT,
    reason TEXT NOT NULL,
    by_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX reassignments_by_person ON reassignments (person_id, from_ms);
"#;

/// 10 -> 11 here, 5 -> 6 on PostgreSQL: each person's time summed per UTC
/// hour (a key like `2026-12-03T10`), project and task ('' for none), for
/// reports that would otherwise read every minute; and the hours whose sums
/// are stale. Existing minutes: every hour of them stale, summed by the
/// hourly job or the first report that needs it.
pub(super) const WORK_HOURS_STEP: &str = r#"
CREATE TABLE work_hours (
    person_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    project_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    tracked BIGINT NOT NULL,
    active BIGINT NOT NULL,
    idle BIGINT NOT NULL,
    idle_kept BIGINT NOT NULL,
    discarded BIGINT NOT NULL,
    PRIMARY KEY (person_id, hour, project_id, task_id)
);
CREATE TABLE work_hours_stale (
    person_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    gen BIGINT NOT NULL,
    PRIMARY KEY (person_id, hour)
);
INSERT INTO work_hours_stale (person_id, hour, gen)
SELECT DISTINCT d.person_id, substr(m.start, 1, 13), 1
FROM minutes m JOIN devices d ON d.id = m.device_id
WHERE d.person_id IS NOT NULL;
"#;

/// 11 -> 12 here, 6 -> 7 on PostgreSQL: offline time people ask for, each
/// request with its decision (who: a person's id, or "the policy").
pub(super) const OFFLINE_STEP: &str = r#"
CREATE TABLE offline_time (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    from_ms BIGINT NOT NULL,
    to_ms BIGINT NOT NULL,
    project_id TEXT,
    task_id TEXT,
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    auto BIGINT NOT NULL DEFAULT 0,
    requested_ms BIGINT NOT NULL,
    decided_by TEXT,
    decided_ms BIGINT,
    decision_reason TEXT
);
CREATE INDEX offline_time_by_person ON offline_time (person_id, from_ms);
CREATE INDEX offline_time_by_state ON offline_time (state, requested_ms);
"#;

/// 12 -> 13 here, 7 -> 8 on PostgreSQL: timesheet periods handed in (a row
/// only once a period leaves "open"), and every step of each.
pub(super) const PERIODS_STEP: &str = r#"
CREATE TABLE periods (
    person_id TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'submitted', 'approved', 'rejected')),
    changed_ms BIGINT NOT NULL,
    approved_ms BIGINT,
    PRIMARY KEY (person_id, first_day)
);
CREATE INDEX periods_by_state ON periods (state, changed_ms);
CREATE TABLE period_events (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    first_day TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    by_id TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX period_events_by_person ON period_events (person_id, at_ms);
"#;

/// 13 -> 14 here, 8 -> 9 on PostgreSQL: personal access tokens for the
/// integrations' read API, as hashes.
pub(super) const API_TOKENS_STEP: &str = r#"
CREATE TABLE api_tokens (
    hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    label TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    last_used_ms BIGINT,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_by_person ON api_tokens (person_id, created_ms);
"#;

/// 14 -> 15 here, 9 -> 10 on PostgreSQL: webhooks and the outbox of their
/// deliveries, each try noted.
pub(super) const WEBHOOKS_STEP: &str = r#"
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    hook_id TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_ms BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    last_result TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_ms);
"#;

/// 15 -> 16 (PostgreSQL 10 -> 11): what the device's privacy rules did to
/// a minute: the label of the rule that redacted or dropped its window, and
/// of the one that kept the segment's screenshot from being taken.
pub(super) const PRIVACY_STEP: &str = r#"
ALTER TABLE minutes ADD COLUMN privacy_rule TEXT;
ALTER TABLE minutes ADD COLUMN screenshot_skipped TEXT;
"#;

/// 16 -> 17 (PostgreSQL 11 -> 12): private time, when and nothing else.
pub(super) const PRIVATE_TIME_STEP: &str = r#"
CREATE TABLE private_spans (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    start TEXT NOT NULL,
    end_at TEXT NOT NULL,
    utc_offset BIGINT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX private_spans_by_device ON private_spans (device_id, start);
"#;

/// 17 -> 18 (PostgreSQL 12 -> 13): screenshots sealed on the device. Each
/// person's key pairs: the public key, and the private key wrapped in their
/// browser with a key from their passphrase (PBKDF2), which the server
/// cannot unwrap; the current one has no `retired_ms`.
pub(super) const SEALED_STEP: &str = r#"
CREATE TABLE person_keys (
    key_id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    salt TEXT NOT NULL,
    iv TEXT NOT NULL,
    iterations BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    retired_ms BIGINT
);
CREATE INDEX person_keys_by_person ON person_keys (person_id);
ALTER TABLE captures ADD COLUMN sealed BIGINT NOT NULL DEFAULT 0;
"#;

pub(super) const SCHEMA: stint_common::migrate::Schema = stint_common::migrate::Schema {
    what: "stint-server database",
    steps: MIGRATIONS,
    newer_hint: "upgrade stint-server or restore an older database",
    foreign_hint: "point --data-dir at the server's own directory, or move this file away",
};

/// Brings the database to the latest schema; refuses one a newer server
/// wrote, rather than misreading it.
pub(super) fn migrate(
    db: &mut impl stint_common::migrate::Engine,
) -> Result<(), stint_common::migrate::MigrationError> {
    stint_common::migrate::migrate(db, &SCHEMA).map(|_| ())
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
