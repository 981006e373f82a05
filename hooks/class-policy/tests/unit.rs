//! class-policy's callouts run in-process by Kea's HooksManager
//! (kea_hooks_test::unit): lifetimes written into the lease at
//! `lease4_select`, options set on the response at `pkt4_send`. The
//! classes Kea's classification would give are set by the test; with a real
//! kea-dhcp4 and its `client-classes`, tests/tests/class_policy.rs.

use kea_hooks_test::unit::{Kea4, Lease4, NextStep, Query4};
use kea_hooks_test::{build_hook, kea_hooks_version, msg, Profile};
use serde_json::json;

fn load() -> Kea4 {
    static LIBRARY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let library = LIBRARY.get_or_init(|| build_hook("kea-hook-class-policy", "dhcp_class_policy", Profile::current()));
    let parameters = json!({ "policies": [
        { "class": "voip", "valid-lifetime": 600,
          "options": [{ "code": 150, "ipv4": ["198.18.0.5"] }, { "code": 252, "text": "http://198.18.0.1/voip.cfg" }] },
        { "class": "ALL", "options": [{ "code": 224, "circuit-id": true }] }
    ]});
    Kea4::load(library, parameters).unwrap_or_else(|e| panic!("{e}\n{}", e.log))
}

/// `lease4_select` as kea-dhcp4 calls it for a REQUEST from `mac` in
/// `classes`, on a lease of 3600 s; returns the lease's lifetime after it.
fn selected_lifetime(kea: &mut Kea4, mac: &str, classes: &[&str]) -> u32 {
    let query = Query4::new(msg::REQUEST, mac).bytes();
    let lease = Lease4::new("198.18.0.10".parse().unwrap(), &[2, 0, 0, 0, 0, 1]);
    let mut call = kea.call("lease4_select").query4(&query).classify("query4", classes).no_subnet4();
    if kea_hooks_version() >= 20400 {
        call = call.arg_u32("offer_lft", 0);
    }
    let outcome = call.arg_bool("fake_allocation", false).lease4(&lease).run().unwrap();
    assert_eq!(outcome.status, NextStep::Continue);
    outcome.lease4().expect("the lease is still there").valid_lifetime
}

#[test]
fn a_class_policy_sets_the_lease_lifetime_only_for_its_class() {
    let mut kea = load();
    assert_eq!(selected_lifetime(&mut kea, "02:00:00:00:00:01", &["voip"]), 600, "{}", kea.log());
    assert_eq!(selected_lifetime(&mut kea, "02:00:00:00:00:02", &["guests"]), 3600, "another class's lease changed");
    assert!(kea.log().contains("lifetime set"), "{}", kea.log());
}

#[test]
fn options_go_on_the_answer_of_their_class_and_the_circuit_id_is_echoed() {
    let mut kea = load();
    // A relayed REQUEST with option 82, circuit id (sub-option 1) "port-7".
    let request = Query4::new(msg::REQUEST, "02:00:00:00:00:01")
        .giaddr("198.18.0.1".parse().unwrap())
        .option(82, &[1, 6, b'p', b'o', b'r', b't', b'-', b'7']);
    let ack = request.reply(msg::ACK, "198.18.0.10".parse().unwrap()).bytes();
    let outcome = kea.call("pkt4_send").query4(&request.bytes()).classify("query4", &["voip"]).response4(&ack);
    let outcome = if kea_hooks_version() >= 20600 { outcome.no_subnet4() } else { outcome }.run().unwrap();
    let response = outcome.response().expect("the response is still there");
    assert_eq!(response.option(150), Some(vec![198, 18, 0, 5]), "option 150 of the voip policy: {response:?}");
    assert_eq!(response.option(252).as_deref(), Some(&b"http://198.18.0.1/voip.cfg"[..]));
    assert_eq!(response.option(224).as_deref(), Some(&b"port-7"[..]), "the circuit id was not echoed");
    assert_eq!(response.yiaddr(), "198.18.0.10".parse::<std::net::Ipv4Addr>().unwrap());

    // Not in voip: only the ALL policy's option; not relayed: not even that.
    let plain = Query4::new(msg::REQUEST, "02:00:00:00:00:02");
    let ack = plain.reply(msg::ACK, "198.18.0.11".parse().unwrap()).bytes();
    let outcome = kea.pkt4_send(&plain.bytes(), &ack).unwrap();
    let options = outcome.response().expect("the response is still there").options();
    assert!(!options.contains_key(&150) && !options.contains_key(&224), "options for a client of no class: {options:?}");
}
