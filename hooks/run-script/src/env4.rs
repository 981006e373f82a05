//! DHCPv4: which objects of each hook point go under which names, as ISC's
//! run_script exports them (`QUERY4_*`, `SUBNET4_*`, `LEASE4_*`,
//! `LEASES4_*`, `DELETED_LEASES4_*`, `PKT4_*`, `REMOVE_LEASE`).

use kea_hooks::dhcp4::{Lease4, Leases4, Pkt4, Subnet4};

use crate::env::Vars;

/// Relay agent information (option 82) and the two sub-options ISC's hook
/// exports: circuit id (1) and remote id (2).
const RAI: u8 = 82;
const RAI_SUB_OPTIONS: [u8; 2] = [1, 2];

/// `QUERY4_*` (or another prefix) for a packet, or every name empty.
pub fn pkt4(v: &mut Vars, prefix: &str, pkt: Option<Pkt4<'_>>) {
    let name = |field: &str| format!("{prefix}_{field}");
    let Some(p) = pkt else {
        for field in [
            "TYPE", "TXID", "LOCAL_ADDR", "LOCAL_PORT", "REMOTE_ADDR", "REMOTE_PORT", "IFACE_INDEX", "IFACE_NAME", "HOPS",
            "SECS", "FLAGS", "CIADDR", "SIADDR", "YIADDR", "GIADDR", "RELAYED",
        ] {
            v.empty(name(field));
        }
        for field in ["HWADDR", "LOCAL_HWADDR", "REMOTE_HWADDR"] {
            v.hwaddr(&name(field), None);
        }
        return;
    };
    // Kea names a packet without option 53 (or with a type it does not
    // know) UNKNOWN.
    v.string(name("TYPE"), p.message_type().map(|t| t.name()).unwrap_or("UNKNOWN"));
    v.integer(name("TXID"), u64::from(p.xid()));
    v.string(name("LOCAL_ADDR"), p.local_addr().to_string());
    v.integer(name("LOCAL_PORT"), u64::from(p.local_port()));
    v.string(name("REMOTE_ADDR"), p.remote_addr().to_string());
    v.integer(name("REMOTE_PORT"), u64::from(p.remote_port()));
    // Exported as an unsigned 64-bit number: an unset index (-1) shows as
    // 18446744073709551615, as in ISC's hook.
    v.integer(name("IFACE_INDEX"), i64::from(p.iface_index()) as u64);
    v.string(name("IFACE_NAME"), p.iface().unwrap_or_default());
    v.integer(name("HOPS"), u64::from(p.hops()));
    v.integer(name("SECS"), u64::from(p.secs()));
    v.integer(name("FLAGS"), u64::from(p.flags()));
    v.string(name("CIADDR"), p.ciaddr().to_string());
    v.string(name("SIADDR"), p.siaddr().to_string());
    v.string(name("YIADDR"), p.yiaddr().to_string());
    v.string(name("GIADDR"), p.giaddr().to_string());
    v.boolean(name("RELAYED"), p.is_relayed().unwrap_or(false));
    v.hwaddr(&name("HWADDR"), Some(p.hwaddr()));
    v.hwaddr(&name("LOCAL_HWADDR"), p.local_hwaddr());
    v.hwaddr(&name("REMOTE_HWADDR"), p.remote_hwaddr());
    if let Ok(Some(rai)) = p.option(RAI) {
        v.option(prefix, u16::from(RAI), Some(rai.bytes()));
        let subs = rai.sub_options().ok();
        for code in RAI_SUB_OPTIONS {
            let sub = subs.as_ref().and_then(|s| s.get(code));
            v.option(&format!("{prefix}_OPTION_{RAI}_SUB"), u16::from(code), sub);
        }
    }
}

/// `SUBNET4_ID`, `_NAME` (`prefix/len`), `_PREFIX`, `_PREFIX_LEN`.
pub fn subnet4(v: &mut Vars, prefix: &str, subnet: Option<Subnet4<'_>>) {
    let name = |field: &str| format!("{prefix}_{field}");
    match subnet {
        Some(s) => {
            v.integer(name("ID"), u64::from(s.id()));
            v.string(name("NAME"), format!("{}/{}", s.prefix(), s.prefix_len()));
            v.string(name("PREFIX"), s.prefix().to_string());
            v.integer(name("PREFIX_LEN"), u64::from(s.prefix_len()));
        }
        None => {
            for field in ["ID", "NAME", "PREFIX", "PREFIX_LEN"] {
                v.empty(name(field));
            }
        }
    }
}

/// `LEASE4_ADDRESS`, `_CLTT`, `_HOSTNAME`, `_HWADDR(_TYPE)`, `_STATE`,
/// `_SUBNET_ID`, `_VALID_LIFETIME`, `_CLIENT_ID` (or another prefix).
pub fn lease4(v: &mut Vars, prefix: &str, lease: Option<&Lease4<'_>>) {
    let name = |field: &str| format!("{prefix}_{field}");
    match lease {
        Some(l) => {
            v.string(name("ADDRESS"), l.address().to_string());
            v.integer(name("CLTT"), l.cltt() as u64);
            v.string(name("HOSTNAME"), l.hostname());
            v.hwaddr(&name("HWADDR"), l.hwaddr());
            v.string(name("STATE"), l.state().name());
            v.integer(name("SUBNET_ID"), u64::from(l.subnet_id()));
            v.integer(name("VALID_LIFETIME"), u64::from(l.valid_lifetime()));
            v.id(name("CLIENT_ID"), l.client_id());
        }
        None => {
            for field in ["ADDRESS", "CLTT", "HOSTNAME"] {
                v.empty(name(field));
            }
            v.hwaddr(&name("HWADDR"), None);
            for field in ["STATE", "SUBNET_ID", "VALID_LIFETIME", "CLIENT_ID"] {
                v.empty(name(field));
            }
        }
    }
}

/// `prefix_SIZE` and `prefix_AT<i>_*` for each lease (from 0).
pub fn leases4(v: &mut Vars, prefix: &str, leases: &Leases4<'_>) {
    v.integer(format!("{prefix}_SIZE"), leases.len() as u64);
    for (i, l) in leases.iter().enumerate() {
        lease4(v, &format!("{prefix}_AT{i}"), Some(&l));
    }
}
