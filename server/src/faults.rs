//! Answers a test asks a server to force on the next requests of a route,
//! for testing agents against a misbehaving server (`serve
//! --inject-faults`). Built only with the `faults` feature, which
//! scripts/test.sh turns on and release builds leave off, so no production
//! server can be told to fail; `api/inject.rs` answers with them.

use std::collections::{HashMap, VecDeque};

/// The routes faults may be asked for, each with the path it answers.
const ROUTES: [(&str, &str); 4] = [
    ("enroll", "/api/v1/enroll"),
    ("minutes", "/api/v1/minutes"),
    ("captures", "/api/v1/captures/"),
    ("heartbeat", "/api/v1/heartbeat"),
];

/// The route a request path belongs to, by the names `Faults` takes.
pub fn route(path: &str) -> Option<&'static str> {
    ROUTES.iter().find_map(|(name, at)| {
        let hit = if at.ends_with('/') {
            path.starts_with(at)
        } else {
            path == *at
        };
        hit.then_some(*name)
    })
}

/// Answers to force on the next requests of a route, for testing clients
/// against a misbehaving server: `minutes=500,429;captures=503`. A code may
/// carry a Retry-After (`429@0`) or, for a redirect, a Location
/// (`307>http://127.0.0.1:9/elsewhere`).
#[derive(Debug, Default)]
pub struct Faults(HashMap<String, VecDeque<Fault>>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: u16,
    pub retry_after: Option<u64>,
    pub location: Option<String>,
}

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut map: HashMap<String, VecDeque<Fault>> = HashMap::new();
        for part in spec.split(';').filter(|p| !p.trim().is_empty()) {
            let (route, codes) = part.split_once('=').ok_or_else(|| {
                format!("{part:?}: expected ROUTE=CODE[,CODE...], e.g. minutes=500,429")
            })?;
            let route = route.trim();
            if !ROUTES.iter().any(|(name, _)| *name == route) {
                return Err(format!(
                    "{route:?}: routes are enroll, minutes, captures, heartbeat"
                ));
            }
            for c in codes.split(',') {
                let bad = || {
                    format!("{c:?}: expected an HTTP status 300-599, optionally @RETRY_AFTER_SECS or >LOCATION")
                };
                let (code, location) = match c.split_once('>') {
                    Some((code, to)) => (code, Some(to.trim().to_string())),
                    None => (c, None),
                };
                let (code, retry_after) = match code.split_once('@') {
                    Some((code, secs)) => (code, Some(secs.trim().parse().map_err(|_| bad())?)),
                    None => (code, None),
                };
                let code: u16 = code
                    .trim()
                    .parse()
                    .ok()
                    .filter(|c| (300..600).contains(c))
                    .ok_or_else(bad)?;
                map.entry(route.to_string()).or_default().push_back(Fault {
                    code,
                    retry_after,
                    location,
                });
            }
        }
        Ok(Faults(map))
    }

    pub(crate) fn next(&mut self, route: &str) -> Option<Fault> {
        self.0.get_mut(route)?.pop_front()
    }

    /// Puts a fault back at the front, for the route's next request: its
    /// request broke off before the fault could be answered.
    pub(crate) fn give_back(&mut self, route: &str, fault: Fault) {
        self.0
            .entry(route.to_string())
            .or_default()
            .push_front(fault);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        let f = |code, retry_after, location: Option<&str>| Fault {
            code,
            retry_after,
            location: location.map(str::to_string),
        };
        let mut faults =
            Faults::parse("minutes=500,429@0; captures=503; heartbeat=307>http://x:9/y").unwrap();
        assert_eq!(faults.next("minutes"), Some(f(500, None, None)));
        assert_eq!(faults.next("minutes"), Some(f(429, Some(0), None)));
        assert_eq!(faults.next("minutes"), None);
        assert_eq!(faults.next("captures"), Some(f(503, None, None)));
        assert_eq!(
            faults.next("heartbeat"),
            Some(f(307, None, Some("http://x:9/y")))
        );
        for bad in [
            "minutes",
            "uploads=500",
            "minutes=200",
            "minutes=x",
            "minutes=429@x",
        ] {
            assert!(Faults::parse(bad).is_err(), "{bad}");
        }
    }
}
