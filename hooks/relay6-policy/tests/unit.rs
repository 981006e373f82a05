//! relay6-policy's callouts run in-process by Kea's HooksManager
//! (kea_hooks_test::unit, DHCPv6): the class at `pkt6_receive` and, on the
//! same callout handle as kea-dhcp6 uses for one query, the lifetimes at
//! `lease6_select`. With a real kea-dhcp6 and relays: tests/tests/relay6_policy.rs.

use kea_hooks_test::unit::{Kea6, Lease6, Lease6Type, NextStep, Query6};
use kea_hooks_test::{build_hook, msg6, opt6, Profile};
use serde_json::json;

const DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];

fn load() -> Kea6 {
    static LIBRARY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let library = LIBRARY.get_or_init(|| build_hook("kea-hook-relay6-policy", "dhcp_relay6_policy", Profile::current()));
    let parameters = json!({ "rules": [
        { "interface-id": "olt-3/port-7", "class": "business", "pd-lifetimes": [7200, 14400] }
    ]});
    Kea6::load(library, parameters).unwrap_or_else(|e| panic!("{e}\n{}", e.log))
}

fn solicit(interface_id: &[u8]) -> Vec<u8> {
    let link: std::net::Ipv6Addr = "2001:2::1".parse().unwrap();
    let peer: std::net::Ipv6Addr = "fe80::200:ff:fe00:1".parse().unwrap();
    Query6::new(msg6::SOLICIT, &DUID).ia_na(1).relayed(link, peer, &[(opt6::INTERFACE_ID, interface_id)]).bytes()
}

#[test]
fn a_matching_relay_classifies_the_query_and_sets_the_prefix_lifetimes() {
    let mut kea = load();
    let query = solicit(b"olt-3/port-7");
    let mut exchange = kea.exchange();
    let received = exchange.call("pkt6_receive").query6(&query).run().unwrap();
    assert_eq!(received.status, NextStep::Continue);
    let q = received.query().expect("the query is still there");
    assert_eq!(q.message_type, msg6::SOLICIT, "Kea's type of the relayed message is the client's");
    assert!(q.in_class("business"), "the query is not in class business: {:?}", q.classes);

    let mut prefix = Lease6::new("2001:2:0:100::".parse().unwrap(), &DUID);
    prefix.kind = Lease6Type::Pd;
    prefix.prefix_len = 60;
    let selected = exchange
        .call("lease6_select")
        .query6(&query)
        .no_subnet6()
        .arg_bool("fake_allocation", false)
        .lease6(&prefix)
        .run()
        .unwrap();
    let lease = selected.lease6().expect("the lease is still there");
    assert_eq!((lease.preferred_lifetime, lease.valid_lifetime), (7200, 14400), "{}", kea.log());
    assert_eq!(
        (lease.kind, lease.address, lease.prefix_len, &lease.duid, lease.iaid),
        (prefix.kind, prefix.address, prefix.prefix_len, &prefix.duid, prefix.iaid),
        "the callout changed more than the lifetimes"
    );
}

#[test]
fn another_port_gets_no_class_and_keeps_its_lifetimes() {
    let mut kea = load();
    let query = solicit(b"olt-3/port-8");
    let mut exchange = kea.exchange();
    let received = exchange.call("pkt6_receive").query6(&query).run().unwrap();
    assert!(received.query().unwrap().classes.is_empty(), "{:?}", received.query());
    let mut prefix = Lease6::new("2001:2:0:200::".parse().unwrap(), &DUID);
    prefix.kind = Lease6Type::Pd;
    prefix.prefix_len = 64;
    let selected =
        exchange.call("lease6_select").query6(&query).no_subnet6().arg_bool("fake_allocation", false).lease6(&prefix).run().unwrap();
    let lease = selected.lease6().unwrap();
    assert_eq!((lease.preferred_lifetime, lease.valid_lifetime), (3000, 4000));
    assert!(kea.log().contains("no rule matched"), "{}", kea.log());
}
