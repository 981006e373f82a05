//! hooks/relay6-policy in a real kea-dhcp6: relayed clients get their
//! class (and so their prefix-delegation pool) and lifetimes by the
//! relay's interface-id and remote-id; others are untouched. Run as root;
//! see the README.

mod common;

use std::net::Ipv6Addr;

use common::hook_library;
use kea_hooks_tests::{require_root_and_kea, Client6, Ias6, KeaConfig, NetPair, Relay6};
use serde_json::json;

#[test]
fn relayed_subscribers_get_their_pd_pool_and_lifetimes_by_relay_options() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let guard = if kea_hooks_tests::kea_hooks_version() >= 30000 {
        json!({ "client-classes": ["business"] })
    } else {
        json!({ "client-class": "business" })
    };
    let mut business = json!({ "prefix": "2001:2:0:fe00::", "prefix-len": 56, "delegated-len": 60 });
    for (k, v) in guard.as_object().unwrap() {
        business[k] = v.clone();
    }
    let cfg = KeaConfig::new6(&pair).merge(json!({
        "client-classes": [{ "name": "business" }],
        "subnet6": [
            { "id": 1, "subnet": pair.subnet6(), "interface": pair.server_if(), "pools": [{ "pool": pair.pool6() }] },
            { "id": 2, "subnet": "2001:2:0:fd00::/64", "pools": [{ "pool": "2001:2:0:fd00::100-2001:2:0:fd00::1ff" }],
              "pd-pools": [business, { "prefix": "2001:2:0:ff00::", "prefix-len": 56, "delegated-len": 64 }] },
        ],
    }));
    let lib = hook_library("kea-hook-relay6-policy", "dhcp_relay6_policy");
    let kea = cfg
        .hook(
            &lib,
            Some(json!({ "rules": [
                { "interface-id": "olt-3/*", "class": "business", "pd-lifetimes": [7200, 14400] },
                { "remote-id": "0a0b", "enterprise": 4491, "na-lifetimes": [600, 900] },
            ] })),
        )
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let link: Ipv6Addr = "2001:2:0:fd00::1".parse().unwrap();

    // A business port: a /60 from the business pool, its lifetimes.
    let a = Client6::new(&pair, "02:d6:00:00:00:01")
        .asking_for(Ias6::NaPd)
        .via(&[Relay6::new(link).interface_id(b"olt-3/port-7")])
        .sarr()
        .unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    let (prefix, len) = a.prefix().expect("a prefix");
    assert_eq!((prefix.segments()[3] & 0xff00, len), (0xfe00, 60), "{a:?}");
    assert_eq!((a.prefixes[0].preferred, a.prefixes[0].valid), (7200, 14400), "{a:?}");
    assert_eq!((a.addresses[0].1, a.addresses[0].2), (3000, 3600), "the rule sets no address lifetimes: {a:?}");

    // Another port: no rule; the default pool and lifetimes.
    let b = Client6::new(&pair, "02:d6:00:00:00:02")
        .asking_for(Ias6::NaPd)
        .via(&[Relay6::new(link).interface_id(b"olt-4/port-1")])
        .sarr()
        .expect("a REPLY");
    let (prefix, len) = b.prefix().expect("a prefix");
    assert_eq!((prefix.segments()[3] & 0xff00, len), (0xff00, 64), "{b:?}");
    assert_eq!(b.prefixes[0].valid, 3600, "{b:?}");

    // By remote-id: the address lifetimes.
    let c = Client6::new(&pair, "02:d6:00:00:00:03")
        .via(&[Relay6::new(link).remote_id(4491, &[0x0a, 0x0b])])
        .sarr()
        .expect("a REPLY");
    assert_eq!((c.addresses[0].1, c.addresses[0].2), (600, 900), "{c:?}");
    // The lease file has the written lifetimes.
    let row = kea.lease6_rows().into_iter().find(|r| Some(r.address) == c.address());
    assert_eq!(row.map(|r| r.valid_lifetime), Some(900));

    // A direct client matches nothing and is not counted.
    assert!(Client6::new(&pair, "02:d6:00:00:00:04").sarr().is_some());
    // Two relayed queries matched per client (SOLICIT and REQUEST).
    assert_eq!(kea.statistic("relay6-policy.matched"), 4);
    assert_eq!(kea.statistic("relay6-policy.unmatched"), 2);
}
