//! kea_hooks_test::unit itself, with the SDK's probe hook (tests/probe-hook)
//! run in-process by Kea's HooksManager: no root, no daemon. What the
//! probe records (JSON lines in its `out` file) is the hook's view of the
//! objects the kit had Kea build.

use std::path::PathBuf;
use std::sync::OnceLock;

use kea_hooks_tests::unit::{Kea4, Kea6, Lease4, NextStep, Query4, Query6, Subnet4, Subnet6};
use kea_hooks_tests::{build_hook, kea_hooks_version, msg, msg6, Profile, TestDir};
use serde_json::{json, Value};

fn probe() -> &'static PathBuf {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY.get_or_init(|| build_hook("kea-hook-probe", "dhcp_probe", Profile::current()))
}

/// The probe loaded with `extra` parameters, recording into `dir`.
fn load(dir: &TestDir, extra: Value) -> (Kea4, PathBuf) {
    let out = dir.path().join("probe.jsonl");
    let mut parameters = json!({ "out": out.to_str().unwrap() });
    parameters.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let kea = Kea4::load(probe(), parameters).unwrap_or_else(|e| panic!("{e}\n{}", e.log));
    (kea, out)
}

fn records(out: &std::path::Path, point: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|r| r["point"] == point).collect()
}

#[test]
fn a_command_handler_answers_through_hooks_manager() {
    let dir = TestDir::new();
    let (mut kea, _) = load(&dir, json!({ "commands": true }));
    let answer = kea.command("probe-echo", Some(json!({ "text": "ab", "times": 2 }))).unwrap();
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(answer["arguments"]["echo"], "abab", "{answer}");
    let empty = kea.command("probe-echo", None).unwrap();
    assert_eq!(empty["result"], 3, "no arguments: {empty}");
    let e = kea.command("no-such-command", None).expect_err("a command nobody registered was answered");
    assert!(e.to_string().contains("no library registered"), "{e}");
    // No server, no lease database: the hook's query gets Kea's error.
    let leases = kea.command("probe-leases", Some(json!({ "by": "address", "address": "198.18.0.7" }))).unwrap();
    assert_eq!(leases["result"], 1, "a lease query without a lease database: {leases}");
    assert!(leases["text"].as_str().unwrap_or("").contains("no lease database"), "{leases}");
}

#[test]
fn the_hook_sees_the_lease_and_query_kea_built_and_its_changes_come_back() {
    let dir = TestDir::new();
    let (mut kea, out) = load(&dir, json!({}));
    let query = Query4::new(msg::REQUEST, "02:00:00:00:00:07").xid(0x1234).bytes();
    let mut lease = Lease4::new("198.18.0.7".parse().unwrap(), &[2, 0, 0, 0, 0, 7]);
    lease.hostname = "client-7".into();
    lease.client_id = vec![1, 2, 0, 0, 0, 0, 7];
    lease.user_context = Some(json!({ "tag": 7 }));
    let mut call = kea.call("leases4_committed").query4(&query).leases4("leases4", &[lease.clone()]).leases4("deleted_leases4", &[]);
    if kea_hooks_version() >= 30000 {
        let ack = Query4::new(msg::REQUEST, "02:00:00:00:00:07").reply(msg::ACK, lease.address).bytes();
        call = call.response4(&ack);
    }
    let outcome = call.run().unwrap();
    assert_eq!(outcome.status, NextStep::Continue);
    assert_eq!(outcome.leases4("leases4"), [lease.clone()], "the lease did not come back as it went");
    assert!(outcome.leases4("deleted_leases4").is_empty());

    let seen = records(&out, "leases4_committed");
    assert_eq!(seen.len(), 1, "{seen:?}\n{}", kea.log());
    let l = &seen[0]["leases"][0];
    assert_eq!(l["address"], "198.18.0.7", "{l}");
    assert_eq!(l["hwaddr"], "02:00:00:00:00:07", "{l}");
    assert_eq!(l["hostname"], "client-7", "{l}");
    assert_eq!(l["client_id"], "01:02:00:00:00:00:07", "{l}");
    assert_eq!(l["valid_lifetime"], 3600, "{l}");
    assert_eq!(seen[0]["query"]["xid"], 0x1234, "{}", seen[0]["query"]);
}

/// A subnet built by Kea reaches the hook with its id and prefix, comes
/// back as it went (pools and lifetime included), and what a
/// subnet4_select callout makes of it is read back.
#[test]
fn the_hook_sees_the_subnet_kea_built_and_its_selection_comes_back() {
    let dir = TestDir::new();
    let subnet = Subnet4::new("198.18.0.0/24", 7).with_valid_lifetime(600).with_pool("198.18.0.10".parse().unwrap(), "198.18.0.99".parse().unwrap());
    let query = Query4::new(msg::REQUEST, "02:00:00:00:00:08").xid(0x5678).bytes();
    let lease = Lease4::new("198.18.0.10".parse().unwrap(), &[2, 0, 0, 0, 0, 8]);

    // The probe clears the subnet at subnet4_select ("none" is no id).
    let (mut kea, out) = load(&dir, json!({ "select-subnet": "none" }));
    let outcome = kea.call("lease4_select").query4(&query).subnet4(&subnet).arg_bool("fake_allocation", false).lease4(&lease).run().unwrap();
    assert_eq!(outcome.status, NextStep::Continue, "{}", kea.log());
    assert_eq!(outcome.subnet4(), Some(&subnet), "the subnet did not come back as it went");
    let seen = records(&out, "lease4_select");
    assert_eq!(seen.len(), 1, "{seen:?}\n{}", kea.log());
    assert_eq!(seen[0]["subnet"], json!({ "id": 7, "text": "198.18.0.0/24" }), "{}", seen[0]);

    let outcome = kea.call("subnet4_select").query4(&query).subnet4(&subnet).run().unwrap();
    let seen = records(&out, "subnet4_select");
    assert_eq!(seen.len(), 1, "{seen:?}\n{}", kea.log());
    assert_eq!(seen[0]["subnet"], json!({ "id": 7, "prefix": "198.18.0.0", "prefix_len": 24, "text": "198.18.0.0/24" }), "{}", seen[0]);
    assert_eq!(seen[0]["select"], "ok", "{}", seen[0]);
    assert_eq!(outcome.subnet4(), None, "the probe selected no subnet, but the kit read one back");
    drop(kea);

    // Subnet 99 is in no configuration (the kit has none): refused, and
    // Kea's choice stays.
    let dir = TestDir::new();
    let (mut kea, out) = load(&dir, json!({ "select-subnet": 99 }));
    let outcome = kea.call("subnet4_select").query4(&query).subnet4(&subnet).run().unwrap();
    let seen = records(&out, "subnet4_select");
    assert_eq!(seen.len(), 1, "{seen:?}\n{}", kea.log());
    assert_ne!(seen[0]["select"], "ok", "{}", seen[0]);
    assert_eq!(outcome.subnet4(), Some(&subnet), "a refused selection changed the subnet");

    // Kea itself refuses a pool outside the subnet.
    let outside = Subnet4::new("198.18.0.0/24", 7).with_pool("198.18.1.1".parse().unwrap(), "198.18.1.9".parse().unwrap());
    let e = kea.call("subnet4_select").query4(&query).subnet4(&outside).run().expect_err("Kea took a pool outside its subnet");
    assert!(e.to_string().contains("subnet4") && e.to_string().contains("to which it is being added"), "{e}");
}

/// The same for DHCPv6 with the v6 probe: the subnet's id, prefix and pool
/// as Kea built them, and the probe's clearing of it at subnet6_select.
#[test]
fn the_v6_hook_sees_the_subnet_kea_built() {
    let dir = TestDir::new();
    let out = dir.path().join("probe6.jsonl");
    let library = build_hook("kea-hook-probe6", "dhcp_probe6", Profile::current());
    let mut kea = Kea6::load(&library, json!({ "out": out.to_str().unwrap(), "select-subnet": 0 })).unwrap_or_else(|e| panic!("{e}\n{}", e.log));
    let subnet = Subnet6::new("2001:2::/64", 12).with_lifetimes(300, 400).with_pool("2001:2::100".parse().unwrap(), "2001:2::1ff".parse().unwrap());
    let query = Query6::new(msg6::SOLICIT, &[0, 3, 0, 1, 2, 0, 0, 0, 0, 9]).ia_na(1).bytes();
    let outcome = kea.call("subnet6_select").query6(&query).subnet6(&subnet).run().unwrap();
    if kea_hooks_version() < 20400 {
        // Kea 2.2: the SDK lists the subnets from the subnet6collection
        // argument, which the kit does not set, so the probe's callout
        // fails before it records; the subnet stays.
        assert_eq!(outcome.subnet6(), Some(&subnet), "{}", kea.log());
        assert!(kea.log().contains("subnet6collection"), "{}", kea.log());
        return;
    }
    let seen = records(&out, "subnet6_select");
    assert_eq!(seen.len(), 1, "{seen:?}\n{}", kea.log());
    let s = &seen[0]["subnet"];
    assert_eq!((&s["id"], &s["prefix"]), (&json!(12), &json!("2001:2::/64")), "{s}");
    assert_eq!((&s["pools"][0]["first"], &s["pools"][0]["last"]), (&json!("2001:2::100"), &json!("2001:2::1ff")), "{s}");
    assert_eq!(outcome.subnet6(), None, "the probe cleared the subnet, but the kit read one back\n{}", kea.log());
}

#[test]
fn a_panicking_callout_drops_the_packet_as_the_sdk_promises() {
    let dir = TestDir::new();
    let (mut kea, _) = load(&dir, json!({ "panic-hwaddr": "02:00:00:00:00:99" }));
    let bad = Query4::new(msg::DISCOVER, "02:00:00:00:00:99").bytes();
    assert_eq!(kea.pkt4_receive(&bad).unwrap().status, NextStep::Drop, "{}", kea.log());
    let good = Query4::new(msg::DISCOVER, "02:00:00:00:00:98").bytes();
    assert_eq!(kea.pkt4_receive(&good).unwrap().status, NextStep::Continue, "{}", kea.log());
    assert!(kea.log().contains("probe panics for 02:00:00:00:00:99"), "the panic was not logged:\n{}", kea.log());
}

#[test]
fn refusals_come_back_with_keas_reason() {
    let dir = TestDir::new();
    let missing = dir.path().join("libdhcp_missing.so");
    let e = Kea4::load(&missing, Value::Null).expect_err("a missing library was loaded");
    assert!(e.reason.contains("HOOKS_OPEN_ERROR"), "{e}\n{}", e.log);

    let e = Kea4::load(probe(), json!({ "out": "/dev/null", "no-such-parameter": 1 })).expect_err("an unknown parameter was accepted");
    assert!(e.reason.contains("no-such-parameter"), "{e}\n{}", e.log);

    let (mut kea, _) = load(&dir, json!({}));
    let e = kea.call("no_such_point").run().expect_err("a point no server has was called");
    assert!(e.to_string().contains("no hook point 'no_such_point'"), "{e}");
    let e = kea.call("pkt4_receive").query4(&[1, 2, 3]).run().expect_err("three bytes were unpacked as a DHCPv4 message");
    assert!(e.to_string().contains("query4"), "{e}");

    // A second hook on the same thread would wait for itself.
    let again = std::panic::catch_unwind(|| Kea4::load(probe(), json!({ "out": "/dev/null" })).map(drop));
    assert!(again.is_err(), "a second load on the same thread did not panic");
    drop(kea);
    let (kea, _) = load(&dir, json!({}));
    drop(kea);
}
