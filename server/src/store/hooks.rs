//! Webhooks: the URLs an admin registers, and the outbox of deliveries to
//! them. Each event (offline time asked for or decided, a period submitted,
//! approved, rejected or reopened, a person added or archived) becomes one
//! delivery per hook; `crate::hooks` sends them, signed, and a failed one
//! is tried again later, each try noted for the admin page. Replicas share
//! the outbox: a delivery is claimed before it is sent.

use serde_json::{json, Value};

use super::sql::params;
use super::{new_secret, now_ms, rfc3339, Store, StoreError};

/// Tries before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub body: String,
    pub attempts: i64,
}

/// A registered hook, as the admin sees it (not its secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hook {
    pub id: String,
    pub url: String,
    pub created: String,
}

/// One delivery, as the admin page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: String,
    pub url: String,
    pub event: String,
    pub created: String,
    /// pending, delivered or failed.
    pub state: String,
    pub attempts: i64,
    /// "500", "connection refused", …
    pub last: Option<String>,
}

/// The wait before try `attempts + 1`: a second, doubling, at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << attempts.clamp(0, 12)).min(3_600_000)
}

/// Whether a hook may be sent to `url`: HTTPS, or HTTP to this machine.
fn url_allowed(url: &str) -> bool {
    let loopback = ["http://127.0.0.1", "http://[::1]", "http://localhost"];
    url.starts_with("https://")
        || loopback.iter().any(|l| {
            url.strip_prefix(l)
                .is_some_and(|r| r.is_empty() || r.starts_with([':', '/']))
        })
}

impl Store {
    /// Registers `url`; returns the hook's id and the secret its deliveries
    /// are signed with (shown once).
    pub fn add_webhook(&self, url: &str) -> Result<(String, String), StoreError> {
        let url = url.trim();
        if !url_allowed(url) || url.len() > 2000 {
            return Err(StoreError::Invalid(format!(
                "webhook URL {url:?}: expected https://… (or http:// to this machine, for testing)"
            )));
        }
        let (id, secret) = (uuid::Uuid::now_v7().to_string(), new_secret("whsec_"));
        self.conn().execute(
            "INSERT INTO webhooks (id, url, secret, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![id, url, secret, now_ms()],
        )?;
        Ok((id, secret))
    }

    pub fn webhooks(&self) -> Result<Vec<Hook>, StoreError> {
        Ok(self.conn().query_map(
            "SELECT id, url, created_ms FROM webhooks ORDER BY created_ms",
            params![],
            |r| {
                Ok(Hook {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    created: rfc3339(r.get(2)?),
                })
            },
        )?)
    }

    /// Removes a hook; its deliveries not sent yet are dropped with it.
    pub fn remove_webhook(&self, id: &str) -> Result<(), StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM webhooks WHERE id = ?1", params![id])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no webhook {id}")));
        }
        self.conn().execute(
            "DELETE FROM webhook_deliveries WHERE hook_id = ?1 AND state = 'pending'",
            params![id],
        )?;
        Ok(())
    }

    /// Puts `event` with `data` in the outbox of every hook. Never fails
    /// what caused it: an outbox that cannot be written is logged.
    pub(super) fn announce(&self, event: &str, data: Value) {
        if let Err(e) = self.try_announce(event, data) {
            tracing::error!(error = %e, event, "could not queue a webhook delivery");
        }
    }

    fn try_announce(&self, event: &str, data: Value) -> Result<(), StoreError> {
        let hooks: Vec<String> =
            self.conn()
                .query_map("SELECT id FROM webhooks", params![], |r| r.get(0))?;
        if hooks.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let body = json!({
            "id": uuid::Uuid::now_v7().to_string(),
            "event": event,
            "at": rfc3339(now),
            "data": data,
        })
        .to_string();
        for hook in hooks {
            self.conn().execute(
                "INSERT INTO webhook_deliveries (id, hook_id, event, body, created_ms, attempts, next_ms, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?5, 'pending')",
                params![uuid::Uuid::now_v7().to_string(), hook, event, body, now],
            )?;
        }
        Ok(())
    }

    /// Claims up to `limit` deliveries due at `now` for the next `lease_ms`
    /// (another replica will not send them meanwhile).
    pub fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Due>, StoreError> {
        let due: Vec<(Due, i64)> = self.conn().query_map(
            "SELECT d.id, h.url, h.secret, d.body, d.attempts, d.next_ms
             FROM webhook_deliveries d JOIN webhooks h ON h.id = d.hook_id
             WHERE d.state = 'pending' AND d.next_ms <= ?1 ORDER BY d.next_ms LIMIT ?2",
            params![now, limit as i64],
            |r| {
                Ok((
                    Due {
                        id: r.get(0)?,
                        url: r.get(1)?,
                        secret: r.get(2)?,
                        body: r.get(3)?,
                        attempts: r.get(4)?,
                    },
                    r.get(5)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for (d, next) in due {
            let n = self.conn().execute(
                "UPDATE webhook_deliveries SET next_ms = ?3 WHERE id = ?1 AND next_ms = ?2 AND state = 'pending'",
                params![d.id, next, now + lease_ms],
            )?;
            if n == 1 {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Notes how try `attempt` of delivery `id` went: `ok`, or why not;
    /// a failure is tried again after [`backoff_ms`], until [`MAX_ATTEMPTS`].
    pub fn delivery_tried(
        &self,
        id: &str,
        ok: bool,
        what: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let attempts: i64 = self.conn().query_row(
            "SELECT attempts FROM webhook_deliveries WHERE id = ?1",
            params![id],
            |r| r.get::<i64>(0),
        )? + 1;
        let state = match (ok, attempts >= MAX_ATTEMPTS) {
            (true, _) => "delivered",
            (false, true) => "failed",
            (false, false) => "pending",
        };
        self.conn().execute(
            "UPDATE webhook_deliveries SET attempts = ?2, state = ?3, last_result = ?4, next_ms = ?5 WHERE id = ?1",
            params![id, attempts, state, what, now + backoff_ms(attempts - 1)],
        )?;
        Ok(())
    }

    /// The newest deliveries, for the admin page.
    pub fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        Ok(self.conn().query_map(
            "SELECT d.id, h.url, d.event, d.created_ms, d.state, d.attempts, d.last_result
             FROM webhook_deliveries d JOIN webhooks h ON h.id = d.hook_id
             ORDER BY d.created_ms DESC, d.id DESC LIMIT ?1",
            params![limit as i64],
            |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    event: r.get(2)?,
                    created: rfc3339(r.get(3)?),
                    state: r.get(4)?,
                    attempts: r.get(5)?,
                    last: r.get(6)?,
                })
            },
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_backoff_and_the_outbox() {
        for (url, ok) in [
            ("https://hooks.example.com/stint", true),
            ("http://127.0.0.1:9000/hook", true),
            ("http://localhost/hook", true),
            ("http://localhost.evil.com/hook", false),
            ("http://hooks.example.com/stint", false),
            ("ftp://x", false),
        ] {
            assert_eq!(url_allowed(url), ok, "{url}");
        }
        assert_eq!([0, 1, 2, 20].map(backoff_ms), [1000, 2000, 4000, 3_600_000]);
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store(dir.path());
        store.announce("person.created", json!({"id": "p"}));
        assert!(
            store.deliveries(10).unwrap().is_empty(),
            "no hook, no delivery"
        );
        let (id, secret) = store.add_webhook("http://127.0.0.1:9/hook").unwrap();
        assert!(secret.starts_with("whsec_"));
        store.announce("person.created", json!({"id": "p"}));
        let now = now_ms() + 1;
        let due = store.claim_deliveries(now, 60_000, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert!(
            store.claim_deliveries(now, 60_000, 10).unwrap().is_empty(),
            "claimed"
        );
        store.delivery_tried(&due[0].id, false, "500", now).unwrap();
        assert!(
            store
                .claim_deliveries(now + 500, 60_000, 10)
                .unwrap()
                .is_empty(),
            "backing off"
        );
        let again = store.claim_deliveries(now + 1000, 60_000, 10).unwrap();
        assert_eq!(again[0].attempts, 1);
        store
            .delivery_tried(&again[0].id, true, "200", now + 1000)
            .unwrap();
        let listed = store.deliveries(10).unwrap();
        assert_eq!(
            (listed[0].state.as_str(), listed[0].attempts),
            ("delivered", 2)
        );
        store.remove_webhook(&id).unwrap();
        assert!(store.webhooks().unwrap().is_empty());
    }
}
