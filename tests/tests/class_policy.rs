//! The class-policy hook (hooks/class-policy) on a real kea-dhcp4: a class
//! Kea assigns from the client's vendor class (option 60) gets its own
//! lease lifetime (on the wire and in the lease file, also on renewal) and
//! its options; other clients get Kea's defaults; the relay's circuit id
//! comes back in an option; bad parameters fail the load naming the field.
//! Run as root; see the README.

mod common;

use kea_hooks_tests::{require_root_and_kea, Client4, KeaConfig, NetPair, Relay};
use serde_json::json;

use common::{hook_library, load_failure_line};

#[test]
fn class_lifetimes_and_options_reach_clients_and_the_lease_file() {
    if !require_root_and_kea() {
        return;
    }
    let lib = hook_library("kea-hook-class-policy", "dhcp_class_policy");
    let pair = NetPair::new();
    let params = json!({ "policies": [
        { "class": "voip", "valid-lifetime": 600,
          "options": [{ "code": 150, "ipv4": ["198.18.0.5"] }, { "code": 252, "text": "http://198.18.0.1/voip.cfg" }] },
        { "class": "ALL", "options": [{ "code": 224, "circuit-id": true }] }
    ]});
    let mut kea = KeaConfig::new(&pair)
        .merge(json!({ "client-classes": [{ "name": "voip", "test": "substring(option[60].hex,0,4) == 'voip'" }] }))
        .hook(&lib, Some(params))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));

    let phone = Client4::new(&pair, "02:c9:00:00:00:01").with_option(60, b"voip-phone-x1");
    let ack = phone.dora().expect("ACK");
    assert_eq!(ack.lease_time, Some(600), "{ack:?}");
    assert_eq!(ack.options.get(&150), Some(&vec![198, 18, 0, 5]));
    assert_eq!(
        ack.options.get(&252).map(Vec::as_slice),
        Some(b"http://198.18.0.1/voip.cfg".as_slice())
    );
    assert!(
        !ack.options.contains_key(&224),
        "no relay, no circuit id: {ack:?}"
    );
    let lease = |addr| {
        kea.lease_rows()
            .into_iter()
            .find(|r| r.address == addr)
            .expect("lease")
    };
    assert_eq!(lease(ack.yiaddr).valid_lifetime, 600);
    let renewed = phone.renew(&ack).expect("ACK");
    assert_eq!(renewed.lease_time, Some(600));

    // Not in the class: Kea's lifetime (3600), no class options; relayed,
    // so the circuit id comes back in option 224.
    let relay = Relay {
        circuit_id: b"ge-0/0/7".to_vec(),
        remote_id: b"sw-1".to_vec(),
    };
    let pc = Client4::new(&pair, "02:c9:00:00:00:02").with_option(60, b"MSFT 5.0");
    let ack2 = pc.dora_relayed(&relay).expect("ACK");
    assert_eq!(ack2.lease_time, Some(3600), "{ack2:?}");
    assert!(
        !ack2.options.contains_key(&150) && !ack2.options.contains_key(&252),
        "{ack2:?}"
    );
    assert_eq!(
        ack2.options.get(&224).map(Vec::as_slice),
        Some(b"ge-0/0/7".as_slice())
    );
    assert_eq!(lease(ack2.yiaddr).valid_lifetime, 3600);

    // Bad parameters: the reload fails, naming the field.
    let answer = kea.reload_with_hook_parameters(0, json!({ "policies": [{ "class": "x", "options": [{ "code": 12 }] }] }));
    assert_ne!(answer["result"], 0);
    assert!(
        kea.log()
            .contains("at 'policies[0].options[0]': give exactly one of"),
        "{}",
        kea.log()
    );
    drop(kea);

    let failure = KeaConfig::new(&pair)
        .hook(
            &lib,
            Some(json!({ "policies": [{ "class": "x", "valid-lifetime": 0 }] })),
        )
        .start(&pair)
        .err()
        .expect("a zero lifetime must fail the load");
    let line = load_failure_line(&failure, "kea-dhcp4.class-policy");
    assert!(
        line.contains("at 'policies[0].valid-lifetime': must be 1 or more"),
        "{line}"
    );
}
