//! The replica's counters in Prometheus text: requests by status class,
//! latencies, ingest counts and image writes in flight. Nothing in them is
//! about a person.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Counters since the replica started; each replica reports its own and
/// Prometheus adds them up.
#[derive(Default)]
pub struct Metrics {
    /// By status class: 1xx..5xx at index 1..5.
    requests: [AtomicU64; 6],
    /// Cumulative per bucket, plus one for +Inf.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_micros: AtomicU64,
    pub minutes_stored: AtomicU64,
    pub minutes_repeated: AtomicU64,
    pub captures_stored: AtomicU64,
    pub captures_repeated: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, status: StatusCode, seconds: f64) {
        let class = usize::from(status.as_u16() / 100).min(5);
        self.requests[class].fetch_add(1, Ordering::Relaxed);
        let slot = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.latency[slot].fetch_add(1, Ordering::Relaxed);
        self.latency_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Prometheus text exposition format, version 0.0.4.
    pub fn render(&self, pending_writes: i64) -> String {
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line("# HELP stint_http_requests_total HTTP requests answered, by status class.".into());
        line("# TYPE stint_http_requests_total counter".into());
        for (class, n) in self.requests.iter().enumerate().skip(1) {
            line(format!(
                "stint_http_requests_total{{code=\"{class}xx\"}} {}",
                n.load(Ordering::Relaxed)
            ));
        }
        line("# HELP stint_http_request_duration_seconds Time to answer a request.".into());
        line("# TYPE stint_http_request_duration_seconds histogram".into());
        let mut cumulative = 0;
        for (i, n) in self.latency.iter().enumerate() {
            cumulative += n.load(Ordering::Relaxed);
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            line(format!(
                "stint_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            ));
        }
        line(format!(
            "stint_http_request_duration_seconds_sum {}",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        line(format!(
            "stint_http_request_duration_seconds_count {cumulative}"
        ));
        for (name, help, v) in [
            (
                "stint_minutes_stored_total",
                "Minute records stored for the first time.",
                &self.minutes_stored,
            ),
            (
                "stint_minutes_repeated_total",
                "Minute records received again (updated or already deleted).",
                &self.minutes_repeated,
            ),
            (
                "stint_captures_stored_total",
                "Images stored for the first time.",
                &self.captures_stored,
            ),
            (
                "stint_captures_repeated_total",
                "Images received again.",
                &self.captures_repeated,
            ),
        ] {
            line(format!("# HELP {name} {help}"));
            line(format!("# TYPE {name} counter"));
            line(format!("{name} {}", v.load(Ordering::Relaxed)));
        }
        line(
            "# HELP stint_object_writes_pending Images being written to the object store now."
                .into(),
        );
        line("# TYPE stint_object_writes_pending gauge".into());
        line(format!("stint_object_writes_pending {pending_writes}"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_classes_and_fills_buckets_cumulatively() {
        let m = Metrics::default();
        m.observe(StatusCode::OK, 0.003);
        m.observe(StatusCode::OK, 0.2);
        m.observe(StatusCode::SERVICE_UNAVAILABLE, 9.0);
        m.minutes_stored.fetch_add(60, Ordering::Relaxed);
        let text = m.render(2);
        for want in [
            "stint_http_requests_total{code=\"2xx\"} 2",
            "stint_http_requests_total{code=\"5xx\"} 1",
            "stint_http_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "stint_http_request_duration_seconds_bucket{le=\"0.25\"} 2",
            "stint_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "stint_http_request_duration_seconds_count 3",
            "stint_minutes_stored_total 60",
            "stint_object_writes_pending 2",
        ] {
            assert!(text.contains(want), "{want} in\n{text}");
        }
    }
}
