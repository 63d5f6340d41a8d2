//! Facts about the machine recorded with each tracking session: OS, host, user,
//! agent version and local IP addresses (truncated to networks by default).

use std::net::IpAddr;

use crate::model::{local_offset_at, new_id, rfc3339, SessionRecord};

/// Collects the facts for a session starting at `now_ms`.
pub fn session(now_ms: i64, truncate: bool) -> SessionRecord {
    let networks = sysinfo::Networks::new_with_refreshed_list();
    let mut ips: Vec<String> = networks
        .values()
        .flat_map(|n| n.ip_networks().iter().map(|ip| ip.addr))
        .filter(|ip| !ip.is_loopback() && !is_link_local(ip))
        .map(|ip| {
            if truncate {
                truncate_ip(ip)
            } else {
                ip.to_string()
            }
        })
        .collect();
    ips.sort();
    ips.dedup();
    SessionRecord {
        id: new_id(),
        started_at: rfc3339(now_ms),
        utc_offset: local_offset_at(now_ms),
        os_type: sysinfo::System::name().unwrap_or_else(|| crate::platform::OS_FAMILY.into()),
        os_version: sysinfo::System::long_os_version()
            .or_else(sysinfo::System::os_version)
            .unwrap_or_default(),
        kernel: sysinfo::System::kernel_version().unwrap_or_default(),
        hostname: sysinfo::System::host_name().unwrap_or_default(),
        os_user: crate::platform::os_user(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        ip_addresses: ips,
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// IPv4 to its /24 network, IPv6 to its /48: enough to tell office from home,
/// not enough to single out a device.
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_table() {
        let cases = [
            ("192.168.1.77", "192.168.1.0/24"),
            ("10.0.0.1", "10.0.0.0/24"),
            ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ];
        for (ip, want) in cases {
            assert_eq!(truncate_ip(ip.parse().unwrap()), want);
        }
    }

    #[test]
    fn session_has_os_and_version() {
        let s = session(0, true);
        assert!(!s.os_type.is_empty());
        assert_eq!(s.agent_version, env!("CARGO_PKG_VERSION"));
        assert!(
            s.ip_addresses.iter().all(|ip| ip.contains('/')),
            "{:?}",
            s.ip_addresses
        );
    }
}
