//! DHCPv6: which objects of each hook point go under which names, as ISC's
//! run_script exports them in kea-dhcp6 (`QUERY6_*`, `LEASE6_*`,
//! `LEASES6_*`, `DELETED_LEASES6_*`, `PKT6_IA_*`, `REMOVE_LEASE`, and at
//! `addr6_register` `ADDRESS6`, `OLD_LEASE6_*`, `NEW_LEASE6_*`).
//!
//! What depends on the Kea release (read at the tags Kea-2.2.0 to
//! Kea-3.2.0): the message type names Kea knows and the lease states
//! (both as the SDK's `MessageType6::name` and `LeaseState::name` give
//! them for the release built against), and the relay options
//! `QUERY6_OPTION_18/37/38` (3.0 on).

use kea_hooks::dhcp6::{code, Ia, Lease6, LeaseType, Leases6, Pkt6};
use kea_hooks::Error;

use crate::env::Vars;

/// The relay options ISC's hook exports (from 2.7.5, so Kea 3.0 here):
/// interface-id, remote-id, subscriber-id, each from the relay closest to
/// the client that has it (Kea's `RELAY_SEARCH_FROM_CLIENT`).
const RELAY_OPTIONS: [u16; 3] = [code::INTERFACE_ID, code::REMOTE_ID, code::SUBSCRIBER_ID];

/// Whether this build's Kea exports the relay options.
const EXPORTS_RELAY_OPTIONS: bool = kea_hooks::KEA_HOOKS_VERSION >= 20705;

/// A DUID longer than this is no DUID to Kea (`DUID::MAX_DUID_LEN`).
const MAX_DUID_LEN: usize = 128;

/// `IA_NA` and `IA_PD`'s option codes: `PKT6_IA_IA_TYPE`.
const OPTION_IA_NA: u16 = 3;
const OPTION_IA_PD: u16 = 25;

/// `QUERY6_*` (or another prefix) for a packet, or every name empty.
/// Fails when Kea fails to give an option or the interface name.
pub fn pkt6(v: &mut Vars, prefix: &str, pkt: Option<Pkt6<'_>>) -> Result<(), Error> {
    let name = |field: &str| format!("{prefix}_{field}");
    let Some(p) = pkt else {
        for field in
            ["TYPE", "TXID", "LOCAL_ADDR", "LOCAL_PORT", "REMOTE_ADDR", "REMOTE_PORT", "IFACE_INDEX", "IFACE_NAME"]
        {
            v.empty(name(field));
        }
        v.hwaddr(&name("REMOTE_HWADDR"), None);
        v.empty(name("PROTO"));
        v.id(name("CLIENT_ID"), None);
        return Ok(());
    };
    v.string(name("TYPE"), p.message_type().name());
    v.integer(name("TXID"), u64::from(p.xid()));
    v.string(name("LOCAL_ADDR"), p.local_addr().to_string());
    v.integer(name("LOCAL_PORT"), u64::from(p.local_port()));
    v.string(name("REMOTE_ADDR"), p.remote_addr().to_string());
    v.integer(name("REMOTE_PORT"), u64::from(p.remote_port()));
    // An unset index (-1) as an unsigned 64-bit number, as ISC's hook
    // writes it: 18446744073709551615.
    v.integer(name("IFACE_INDEX"), i64::from(p.iface_index()) as u64);
    v.string(name("IFACE_NAME"), p.iface()?);
    v.hwaddr(&name("REMOTE_HWADDR"), p.remote_hwaddr());
    // Kea marks TCP only the packets of bulk leasequery connections, which
    // reach none of the points this hook has.
    v.string(name("PROTO"), "UDP");
    // Kea's `getClientId` gives no DUID for an empty or oversized option.
    let duid = p.client_id()?.filter(|d| (1..=MAX_DUID_LEN).contains(&d.len()));
    v.id(name("CLIENT_ID"), duid.as_deref());
    if EXPORTS_RELAY_OPTIONS {
        for code in RELAY_OPTIONS {
            let option = p.relay_option(code)?;
            v.option(prefix, code, option.as_ref().map(|o| o.bytes()));
        }
    }
    Ok(())
}

/// `LEASE6_ADDRESS`, `_CLTT`, `_HOSTNAME`, `_HWADDR(_TYPE)`, `_STATE`,
/// `_SUBNET_ID`, `_VALID_LIFETIME`, `_DUID`, `_IAID`,
/// `_PREFERRED_LIFETIME`, `_PREFIX_LEN`, `_TYPE` (or another prefix).
pub fn lease6(v: &mut Vars, prefix: &str, lease: Option<&Lease6<'_>>) {
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
            // Kea's lease always has a DUID; an empty one prints as "".
            v.id(name("DUID"), Some(l.duid()));
            v.integer(name("IAID"), u64::from(l.iaid()));
            v.integer(name("PREFERRED_LIFETIME"), u64::from(l.preferred_lifetime()));
            v.integer(name("PREFIX_LEN"), u64::from(l.prefix_len()));
            v.string(name("TYPE"), l.lease_type().name());
        }
        None => {
            for field in ["ADDRESS", "CLTT", "HOSTNAME"] {
                v.empty(name(field));
            }
            v.hwaddr(&name("HWADDR"), None);
            for field in
                ["STATE", "SUBNET_ID", "VALID_LIFETIME", "DUID", "IAID", "PREFERRED_LIFETIME", "PREFIX_LEN", "TYPE"]
            {
                v.empty(name(field));
            }
        }
    }
}

/// `prefix_SIZE` and `prefix_AT<i>_*` for each lease (from 0).
pub fn leases6(v: &mut Vars, prefix: &str, leases: &Leases6<'_>) {
    v.integer(format!("{prefix}_SIZE"), leases.len() as u64);
    for (i, l) in leases.iter().enumerate() {
        lease6(v, &format!("{prefix}_AT{i}"), Some(&l));
    }
}

/// The IA argument ISC's hook reads at `lease6_renew` and `lease6_rebind`:
/// `ia_na` for an address lease, `ia_pd` otherwise. Its `PKT6_IA_IA_TYPE`
/// is that option's code.
pub fn ia_option_code(lease_type: LeaseType) -> u16 {
    if lease_type == LeaseType::Na {
        OPTION_IA_NA
    } else {
        OPTION_IA_PD
    }
}

/// `PKT6_IA_IAID`, `_IA_TYPE` (the option code: 3 or 25), `_IA_T1`,
/// `_IA_T2` (or another prefix), or every name empty.
pub fn ia(v: &mut Vars, prefix: &str, ia: Option<(u16, &Ia)>) {
    let name = |field: &str| format!("{prefix}_{field}");
    match ia {
        Some((option_code, ia)) => {
            v.integer(name("IAID"), u64::from(ia.iaid));
            v.integer(name("IA_TYPE"), u64::from(option_code));
            v.integer(name("IA_T1"), u64::from(ia.t1));
            v.integer(name("IA_T2"), u64::from(ia.t2));
        }
        None => {
            for field in ["IAID", "IA_TYPE", "IA_T1", "IA_T2"] {
                v.empty(name(field));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ia_variables() {
        let ia_pd = Ia { iaid: 7, t1: 1000, t2: 1600, options: vec![] };
        let mut v = Vars::new();
        ia(&mut v, "PKT6_IA", Some((ia_option_code(LeaseType::Pd), &ia_pd)));
        ia(&mut v, "X", None);
        let text: Vec<String> = v.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text,
            [
                "PKT6_IA_IAID=7",
                "PKT6_IA_IA_TYPE=25",
                "PKT6_IA_IA_T1=1000",
                "PKT6_IA_IA_T2=1600",
                "X_IAID=",
                "X_IA_TYPE=",
                "X_IA_T1=",
                "X_IA_T2=",
            ]
        );
        assert_eq!(ia_option_code(LeaseType::Na), 3);
    }
}
