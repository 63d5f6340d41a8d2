//! Token buckets for the agents' API: one per client address, taken before
//! the device is authenticated (so a flood of bad tokens is limited like
//! any other), and one per device after. Each holds two seconds' worth.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Past this many buckets, full ones (nobody spent from them for two
/// seconds) are dropped, so a spray of addresses cannot grow the table.
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Buckets {
    rate: f64,
    map: Mutex<HashMap<String, Bucket>>,
    /// When full buckets were last dropped: at most once a second, so a
    /// large table is not scanned on every request.
    pruned: Mutex<Option<Instant>>,
}

/// Over the limit: the whole seconds until a request may pass again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub u64);

impl Buckets {
    fn new(rate: f64) -> Buckets {
        Buckets {
            rate,
            map: Mutex::new(HashMap::new()),
            pruned: Mutex::new(None),
        }
    }

    fn take(&self, key: &str, now: Instant) -> Result<(), Wait> {
        let rate = self.rate;
        if rate <= 0.0 {
            return Ok(());
        }
        let burst = (rate * 2.0).max(1.0);
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            let mut pruned = self.pruned.lock().unwrap_or_else(|p| p.into_inner());
            if pruned.is_none_or(|t| now.duration_since(t) >= std::time::Duration::from_secs(1)) {
                map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
                *pruned = Some(now);
            }
        }
        let b = map.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        Err(Wait(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64))
    }
}

/// The client an address counts as: itself, but an IPv6 address by its
/// /64, which one host holds whole (rotating within it must not make a new
/// client). The login throttle counts addresses the same way.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

pub struct Limiter {
    device: Buckets,
    address: Buckets,
}

impl Limiter {
    /// `per_device` and `per_address` requests per second; 0 is no limit.
    pub fn new(per_device: f64, per_address: f64) -> Limiter {
        Limiter {
            device: Buckets::new(per_device),
            address: Buckets::new(per_address),
        }
    }

    pub fn device(&self, id: &str) -> Result<(), Wait> {
        self.device.take(id, Instant::now())
    }

    pub fn address(&self, ip: IpAddr) -> Result<(), Wait> {
        self.address.take(&client_key(ip), Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_holds_two_seconds_and_refills_at_its_rate() {
        let b = Buckets::new(2.0);
        let t = Instant::now();
        for i in 0..4 {
            assert_eq!(b.take("a", t), Ok(()), "burst {i}");
        }
        assert_eq!(b.take("a", t), Err(Wait(1)));
        assert_eq!(b.take("other", t), Ok(()), "each key its own");
        assert_eq!(b.take("a", t + Duration::from_millis(500)), Ok(()));
        assert_eq!(Buckets::new(0.0).take("a", t), Ok(()), "0 is no limit");
    }

    #[test]
    fn ipv6_hosts_count_by_their_slash_64() {
        let l = Limiter::new(0.0, 0.5);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        assert_eq!(l.address(a), Ok(()));
        assert!(l.address(b).is_err(), "same /64");
        assert_eq!(l.address("2001:db8:1:3::1".parse().unwrap()), Ok(()));
    }

    #[test]
    fn a_spray_of_keys_does_not_grow_the_table_for_ever() {
        let b = Buckets::new(1000.0);
        let t = Instant::now();
        for i in 0..PRUNE_ABOVE + 10 {
            b.take(&i.to_string(), t).unwrap();
        }
        b.take("late", t + Duration::from_secs(3)).unwrap();
        assert!(b.map.lock().unwrap().len() < 10, "refilled buckets dropped");
    }
}
