//! The hook in a real kea-dhcp4, with real DHCP traffic: `cargo test` as
//! root, with kea-dhcp4, perfdhcp (kea-admin), iproute2 and dhclient or
//! udhcpc installed. Without them the test says why and is skipped; with
//! `CI=true` it fails instead.

use std::time::Duration;

use kea_hooks_test::serde_json::json;
use kea_hooks_test::{build_hook, msg, require_root_and_kea, Client4, KeaConfig, NetPair, Profile};

#[test]
fn denied_clients_get_no_offer_and_the_others_a_logged_lease() {
    if !require_root_and_kea() {
        return;
    }
    // This crate's cdylib, built as `cargo build` would (target/debug).
    let library = build_hook(env!("CARGO_PKG_NAME"), "{{lib}}", Profile::current());
    // Two network namespaces joined by a veth pair; Kea serves one end.
    let pair = NetPair::new();
    let kea = KeaConfig::new(&pair)
        .hook(&library, Some(json!({ "deny": ["02:de:ad"] })))
        .start(&pair)
        .expect("kea-dhcp4 starts with the hook");

    // A client the hook lets through: DISCOVER, OFFER, REQUEST, ACK, and
    // the lease is in Kea's lease file.
    let ack = Client4::new(&pair, "02:00:00:00:00:01").dora().expect("an allowed client gets an ACK");
    assert_eq!(ack.message_type, msg::ACK);
    let leases = kea.leases();
    assert!(leases.iter().any(|l| l.address == ack.yiaddr && l.hwaddr == "02:00:00:00:00:01"), "no lease for the ACK: {leases:?}");

    // A client under the deny prefix: the hook drops its DISCOVER.
    let denied = Client4::new(&pair, "02:de:ad:00:00:01").with_timeout(Duration::from_secs(2));
    if let Some(offer) = denied.discover(None) {
        panic!("a client under a deny prefix got an offer: {offer:?}");
    }
    let leases = kea.leases();
    assert!(!leases.iter().any(|l| l.hwaddr.starts_with("02:de:ad")), "a denied client has a lease: {leases:?}");

    // The hook's own log lines (logger kea-dhcp4.{{hook_name}}) in Kea's log.
    let log = kea.log();
    let leasing = format!("leasing address={}", ack.yiaddr);
    assert!(log.lines().any(|l| l.contains("kea-dhcp4.{{hook_name}}") && l.contains(&leasing)), "no {leasing:?} in Kea's log:\n{log}");
    assert!(log.lines().any(|l| l.contains("denied: dropping") && l.contains("02:de:ad:00:00:01")), "no drop in Kea's log:\n{log}");
}
