//! Facts about the machine recorded with each tracking session: OS, host, user,
//! agent version and local IP addresses (truncated to networks by default).

use std::net::IpAddr;

use crate::model::{local_offset_at, new_id, rfc3339, SessionRecord};
use stint_proto::truncate_ip;

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

#[cfg(test)]
mod tests {
    use super::*;

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
