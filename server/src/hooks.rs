//! Sends the webhook outbox (`store/hooks.rs`): every second the deliveries
//! due are claimed, signed and POSTed; each try's outcome goes back to the
//! store, which schedules the next. A receiver checks, with the hook's
//! secret, `X-Stint-Signature: sha256=HEX`, the HMAC-SHA256 of
//! `TIMESTAMP.BODY` where TIMESTAMP is `X-Stint-Timestamp` (Unix seconds),
//! refuses a timestamp far from its clock, and drops a repeated
//! `X-Stint-Delivery` id: a retry keeps its id.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{Due, Store};

/// How long a claimed delivery is left to this replica.
const LEASE_MS: i64 = 60_000;

/// The HMAC-SHA256 of `data` under `secret`, as hex.
pub fn hmac_hex(secret: &str, data: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    crate::store::hex(ring::hmac::sign(&key, data).as_ref())
}

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!(
        "sha256={}",
        hmac_hex(secret, format!("{timestamp}.{body}").as_bytes())
    )
}

/// Starts the sender on the current runtime.
pub fn spawn(store: Arc<Store>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are off: no HTTP client");
            return;
        }
    };
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let s = store.clone();
            let now = stint_common::time::now_ms();
            let due =
                match tokio::task::spawn_blocking(move || s.claim_deliveries(now, LEASE_MS, 20))
                    .await
                {
                    Ok(Ok(due)) => due,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "could not read the webhook outbox");
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the webhook outbox reader panicked");
                        continue;
                    }
                };
            for d in due {
                let (ok, what) = send(&client, &d).await;
                if !ok {
                    tracing::warn!(url = ?d.url, delivery = %d.id, result = ?what, "webhook delivery failed; it is tried again later");
                }
                let s = store.clone();
                let at = stint_common::time::now_ms();
                let id = d.id.clone();
                if let Ok(Err(e)) =
                    tokio::task::spawn_blocking(move || s.delivery_tried(&id, ok, &what, at)).await
                {
                    tracing::warn!(error = %e, "could not note a webhook delivery");
                }
            }
        }
    });
}

/// One try: whether the receiver answered 2xx, and what happened in words.
async fn send(client: &reqwest::Client, d: &Due) -> (bool, String) {
    let ts = stint_common::time::now_ms() / 1000;
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-stint-delivery", &d.id)
        .header("x-stint-timestamp", ts.to_string())
        .header("x-stint-signature", signature(&d.secret, ts, &d.body))
        .body(d.body.clone())
        .send()
        .await;
    match sent {
        Ok(r) => (r.status().is_success(), r.status().as_u16().to_string()),
        Err(e) => (false, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_and_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            signature("Jefe", 1_700_000_000, "{}"),
            format!("sha256={}", hmac_hex("Jefe", b"1700000000.{}"))
        );
    }
}
