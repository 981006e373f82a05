//! `kea-demo`: builds the mac-acl hook and shows it working in a real
//! kea-dhcp4 (run it through `scripts/demo.sh`, as root).
//!
//! Kea runs in a network namespace of its own, a DHCP client (dhclient) in
//! another; the hook allows hardware addresses under `02:aa` and denies the
//! rest. One allowed and one denied client ask for an address.

use std::time::Duration;

use kea_hooks_tests::{build_hook, dhclient, require_root_and_kea, KeaConfig, NetPair, Profile};
use serde_json::json;

fn main() {
    if !require_root_and_kea() {
        std::process::exit(1);
    }
    let lib = build_hook("kea-hook-mac-acl", "dhcp_mac_acl", Profile::Release);
    println!("built {}", lib.display());

    let pair = NetPair::new();
    let params = json!({ "allow": ["02:aa"], "default": "deny" });
    let cfg = KeaConfig::new(&pair).logger("kea-dhcp4.mac-acl", "DEBUG", 40).hook(&lib, Some(params.clone()));
    println!("\nkea-dhcp4 config, hooks-libraries:\n{}", serde_json::to_string_pretty(&cfg.to_json()["Dhcp4"]["hooks-libraries"]).unwrap());
    let mut kea = cfg.start(&pair).unwrap_or_else(|e| panic!("{e}"));
    println!("kea-dhcp4 (pid {}) serves {} in namespace {}", kea.pid(), pair.subnet(), pair.server_ns());

    let mut ok = true;
    for (mac, expect) in [("02:aa:00:00:00:01", true), ("02:bb:00:00:00:01", false)] {
        pair.set_client_mac(mac);
        let got = dhclient(&pair, Duration::from_secs(if expect { 15 } else { 5 }));
        match got {
            Some(addr) => println!("dhclient {mac}: got {addr}"),
            None => println!("dhclient {mac}: no answer (dropped by mac-acl)"),
        }
        ok &= got.is_some() == expect;
    }

    let log = kea.stop();
    println!("\nwhat the hook logged (logger kea-dhcp4.mac-acl):");
    for line in log.lines().filter(|l| l.contains("kea-dhcp4.mac-acl")) {
        println!("  {line}");
    }
    if !ok {
        eprintln!("\nthe hook did not behave as expected");
        std::process::exit(1);
    }
    println!("\nmac-acl works: the allowed client got a lease, the denied one was dropped.");
}
