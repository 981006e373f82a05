//! The SDK against a real kea-dhcp4: loading, the data callouts see,
//! parameters, panics and errors, multi-threading, reload under traffic.
//! Run as root (network namespaces); see the README.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use kea_hooks_tests::{dhclient, perfdhcp, perfdhcp_spawn, require_root_and_kea, KeaConfig, NetPair};
use serde_json::json;

use common::{at, load_failure_line, mac_acl, probe, records, with_probe};

/// perfdhcp arguments for a short, bounded run of `clients` DORA exchanges.
fn dora(clients: u32) -> Vec<String> {
    let n = clients.to_string();
    ["-r", "50", "-R", n.as_str(), "-n", n.as_str(), "-p", "10", "-W", "1000000"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn callouts_see_what_kea_leases() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair), json!({ "missing-argument": true }));

    let report = perfdhcp(&pair, &args(&dora(20)));
    assert!(report.received > 0, "perfdhcp got no offers:\n{}", report.stdout);

    pair.set_client_mac("02:42:c6:12:00:07");
    let addr = dhclient(&pair, Duration::from_secs(15)).expect("dhclient gets an address");

    let leases = kea.leases();
    assert!(!leases.is_empty());
    let recs = records(&out);

    // load() saw the server and its own logger.
    let load = at(&recs, "load");
    assert_eq!(load.len(), 1, "{recs:?}");
    assert_eq!(load[0]["server"], "Dhcp4");
    assert_eq!(load[0]["logger"], "kea-dhcp4.probe");

    // Every lease Kea holds was seen, with the same data, in leases4_committed.
    let committed: Vec<_> = at(&recs, "leases4_committed").iter().flat_map(|r| r["leases"].as_array().unwrap().clone()).collect();
    for lease in &leases {
        let seen = committed
            .iter()
            .find(|l| l["address"] == lease.address.to_string())
            .unwrap_or_else(|| panic!("lease {} not seen by the hook; saw {committed:?}", lease.address));
        assert_eq!(seen["hwaddr"], lease.hwaddr, "hwaddr of {}", lease.address);
        assert_eq!(seen["subnet_id"], lease.subnet_id);
        assert_eq!(seen["valid_lifetime"], lease.valid_lifetime);
        assert_eq!(seen["state"], "default");
        assert_eq!(seen["cltt"].as_u64().unwrap() + u64::from(lease.valid_lifetime), lease.expire);
    }

    // dhclient's exchange, point by point.
    let mine = |r: &&serde_json::Value, key: &str| r[key]["hwaddr"] == "02:42:c6:12:00:07";
    let rx: Vec<_> = at(&recs, "pkt4_receive").into_iter().filter(|r| mine(r, "query")).collect();
    let types: BTreeSet<_> = rx.iter().map(|r| r["query"]["type"].as_str().unwrap()).collect();
    assert!(types.contains("DHCPDISCOVER") && types.contains("DHCPREQUEST"), "{types:?}");
    for r in &rx {
        assert_eq!(r["query"]["htype"], 1);
        assert_eq!(r["query"]["iface"], pair.server_if());
        assert_eq!(r["query"]["option53"].as_array().unwrap().len(), 1);
        // A Kea call that throws (NoSuchArgument) reached Rust as an error.
        assert_eq!(r["missing_argument"]["kind"], "Kea", "{r}");
        let msg = r["missing_argument"]["message"].as_str().unwrap();
        assert!(msg.contains("no-such-argument"), "{msg}");
    }
    let sel: Vec<_> = at(&recs, "lease4_select").into_iter().filter(|r| mine(r, "query")).collect();
    assert!(sel.iter().any(|r| r["fake_allocation"] == true), "no offer-time lease4_select");
    assert!(sel.iter().any(|r| r["fake_allocation"] == false), "no request-time lease4_select");
    for r in &sel {
        assert_eq!(r["lease"]["address"], addr.to_string());
        assert_eq!(r["subnet"]["id"], 1);
        assert_eq!(r["subnet"]["text"], pair.subnet());
    }
    let sub: Vec<_> = at(&recs, "subnet4_select").into_iter().filter(|r| mine(r, "query")).collect();
    assert!(!sub.is_empty());
    assert_eq!(sub[0]["subnet"]["prefix_len"], 24);
    let tx: Vec<_> = at(&recs, "pkt4_send").into_iter().filter(|r| mine(r, "response")).collect();
    let sent: BTreeSet<_> = tx.iter().map(|r| r["response"]["type"].as_str().unwrap()).collect();
    assert!(sent.contains("DHCPOFFER") && sent.contains("DHCPACK"), "{sent:?}");
    let ack = tx.iter().find(|r| r["response"]["type"] == "DHCPACK").unwrap();
    assert_eq!(ack["response"]["yiaddr"], addr.to_string());
    assert_eq!(ack["query"]["xid"], ack["response"]["xid"]);

    // What only newer Kea passes (the SDK compiles it in only there).
    let version = kea.command("version-get", None)["text"].as_str().unwrap_or_default().to_owned();
    let (major, minor) = kea_release(&version);
    let offers: Vec<_> = at(&recs, "lease4_offer").into_iter().filter(|r| mine(r, "query")).collect();
    if (major, minor) >= (2, 6) {
        let offer = tx.iter().find(|r| r["response"]["type"] == "DHCPOFFER").unwrap();
        assert!(!offers.is_empty(), "Kea {version}: no lease4_offer callout");
        for r in &offers {
            assert_eq!(r["query"]["type"], "DHCPDISCOVER");
            assert_eq!(r["leases"][0]["address"], offer["response"]["yiaddr"], "{r}");
            assert_eq!(r["offer_lifetime"], 0, "no offer-lifetime is configured");
        }
        for r in &tx {
            assert_eq!(r["subnet"]["id"], 1, "pkt4_send subnet on Kea {version}: {r}");
        }
    } else {
        assert!(offers.is_empty() && tx.iter().all(|r| r["subnet"].is_null()), "Kea {version}");
    }
    let committed_mine: Vec<_> = at(&recs, "leases4_committed").into_iter().filter(|r| mine(r, "query")).collect();
    assert!(!committed_mine.is_empty());
    for r in &committed_mine {
        if (major, minor) >= (3, 0) {
            assert_eq!(r["response"]["type"], "DHCPACK", "Kea {version}: {r}");
            assert_eq!(r["response"]["yiaddr"], addr.to_string());
            for o in &offers {
                assert_eq!(o["response"]["type"], "DHCPOFFER", "lease4_offer response4 on Kea {version}");
            }
        } else {
            assert!(r["response"].is_null(), "Kea {version}: {r}");
        }
    }
    assert!(kea.is_alive());
}

/// `(major, minor)` of a Kea version string such as `2.6.3`.
fn kea_release(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn bad_parameters_are_refused_naming_the_field() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cases = [
        (mac_acl(), json!({ "deny": ["02:00", 5] }), "at 'deny[1]'"),
        (mac_acl(), json!({ "allow": ["zz:00"] }), "at 'allow[0]'"),
        (mac_acl(), json!({ "default": "maybe" }), "at 'default'"),
        (mac_acl(), json!({ "colour": "blue" }), "unknown field `colour`"),
        (probe(), json!({}), "missing field `out`"),
        (probe(), json!({ "out": 5 }), "at 'out'"),
    ];
    for (lib, params, needle) in cases {
        let failure = match KeaConfig::new(&pair).hook(&lib, Some(params.clone())).start(&pair) {
            Ok(_) => panic!("Kea accepted bad parameters {params}"),
            Err(f) => f,
        };
        let hook = if lib == mac_acl() { "mac-acl" } else { "probe" };
        let line = load_failure_line(&failure, &format!("kea-dhcp4.{hook}"));
        assert!(line.contains("load failed: bad parameters"), "{params}: {line:?}");
        assert!(line.contains(needle), "{params}: expected {needle:?} in {line:?}");
        assert!(failure.log.contains("HOOKS_LOAD_ERROR"), "Kea did not refuse the library:\n{}", failure.log);
    }
}

#[test]
fn a_panicking_callout_drops_the_packet_and_kea_keeps_serving() {
    panicking_callout(false);
}

/// The same with Kea's worker threads (the default since Kea 2.4): the
/// panic is caught on a worker thread.
#[test]
fn a_panicking_callout_on_a_worker_thread_drops_the_packet() {
    panicking_callout(true);
}

fn panicking_callout(multi_threading: bool) {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).multi_threading(multi_threading);
    let (mut kea, out) = with_probe(&pair, cfg, json!({ "panic-hwaddr": "02:00:00:00:0b:ad" }));

    pair.set_client_mac("02:00:00:00:0b:ad");
    assert_eq!(dhclient(&pair, Duration::from_secs(4)), None, "the panicking client was served");
    assert!(kea.is_alive(), "Kea died after a panic in a callout");

    pair.set_client_mac("02:00:00:00:00:01");
    let addr = dhclient(&pair, Duration::from_secs(15));
    assert!(addr.is_some(), "Kea stopped serving after a panic");

    // One log line per panic, with message and location, no backtrace.
    let log = kea.log();
    let panics: Vec<_> = log.lines().filter(|l| l.contains("callout pkt4_receive panicked")).collect();
    let attempts = at(&records(&out), "pkt4_receive")
        .iter()
        .filter(|r| r["query"]["hwaddr"] == "02:00:00:00:0b:ad")
        .count();
    assert!(attempts > 0);
    assert_eq!(panics.len(), attempts, "one line per panic:\n{log}");
    assert!(panics[0].contains("probe panics for 02:00:00:00:0b:ad (at "), "{}", panics[0]);
    assert!(panics[0].contains("packet dropped"), "{}", panics[0]);
    assert!(!log.contains("stack backtrace"), "{log}");
    // The catcher's line is the only one: the panic hook's record was taken.
    assert!(!log.contains("panic on thread"), "{log}");
    assert!(!kea.leases().iter().any(|l| l.hwaddr == "02:00:00:00:0b:ad"));
}

/// A panic no callout catches, on a thread the hook started, is logged
/// once, with the thread's name, message and location, and Kea serves on.
#[test]
fn a_panic_on_a_hooks_own_thread_is_logged_once() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, _out) = with_probe(&pair, KeaConfig::new(&pair), json!({ "thread-panic": true }));
    let line = "panic on thread 'probe-panicker': probe thread panics (at ";
    assert!(kea.wait_for_log(line, Duration::from_secs(10)), "no '{line}' line:\n{}", kea.log());
    assert!(dhclient(&pair, Duration::from_secs(15)).is_some(), "Kea stopped serving");
    assert!(kea.is_alive());
    kea.stop();
    let log = kea.log();
    assert_eq!(log.matches("panic on thread").count(), 1, "{log}");
    assert!(!log.contains("stack backtrace"), "{log}");
}

#[test]
fn on_panic_continue_serves_the_client() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, _) = with_probe(&pair, KeaConfig::new(&pair), json!({ "panic-hwaddr": "02:00:00:00:0b:ad", "on-panic": "continue" }));
    pair.set_client_mac("02:00:00:00:0b:ad");
    assert!(dhclient(&pair, Duration::from_secs(15)).is_some());
    assert!(kea.log().contains("packet continues"));
    assert!(kea.is_alive());
}

#[test]
fn multi_threaded_kea_runs_callouts_on_several_threads() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair).multi_threading(true), json!({}));
    let report = perfdhcp(&pair, &["-r", "400", "-R", "400", "-n", "400", "-p", "10", "-W", "1000000"]);
    assert!(report.received > 0, "{}", report.stdout);
    assert!(kea.is_alive());
    let recs = records(&out);
    let threads: HashSet<_> = at(&recs, "pkt4_receive").iter().map(|r| r["thread"].to_string()).collect();
    assert!(threads.len() >= 2, "callouts ran on {} thread(s) only", threads.len());
    let committed: HashSet<String> = at(&recs, "leases4_committed")
        .iter()
        .flat_map(|r| r["leases"].as_array().unwrap().iter().map(|l| l["address"].as_str().unwrap().to_owned()).collect::<Vec<_>>())
        .collect();
    for lease in kea.leases() {
        assert!(committed.contains(&lease.address.to_string()), "lease {} not seen", lease.address);
    }
}

#[test]
fn reload_under_traffic_rebuilds_the_hook() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let out = cfg.dir().join("probe.jsonl");
    let params = |generation: u32| json!({ "out": out, "generation": generation, "background-thread": true });
    let mut kea = cfg
        .multi_threading(true)
        .logger("kea-dhcp4.probe", "DEBUG", 99)
        .hook(&probe(), Some(params(0)))
        .start(&pair)
        .unwrap();

    let mut traffic = perfdhcp_spawn(&pair, &["-r", "200", "-R", "100000", "-p", "8"]);
    std::thread::sleep(Duration::from_millis(700));
    for generation in 1..=4u32 {
        kea.config_mut().set_hook_parameters(0, params(generation));
        kea.write_config();
        if generation % 2 == 1 {
            let answer = kea.config_reload();
            assert_eq!(answer["result"], 0, "config-reload: {answer}");
        } else {
            kea.sighup();
        }
        std::thread::sleep(Duration::from_millis(900));
        assert!(kea.is_alive(), "Kea died during reload {generation}");
    }
    let _ = traffic.wait();
    assert!(kea.is_alive());

    let recs = records(&out);
    let loads: Vec<_> = at(&recs, "load");
    let unloads: Vec<_> = at(&recs, "unload");
    assert_eq!(loads.len(), 5, "loads: {loads:?}");
    assert_eq!(unloads.len(), 4);
    // Every generation handled packets, so traffic went through each load.
    for generation in 0..=4u32 {
        assert!(
            recs.iter().any(|r| r["point"] == "pkt4_receive" && r["generation"] == generation),
            "no traffic seen by generation {generation}"
        );
    }
    // Each generation's background thread ran, and ended before that
    // generation's unload record: Drop joined it before the value went.
    // (Records are appended in order to one file.)
    for generation in 0..4u32 {
        let pos = |point: &str| recs.iter().position(|r| r["point"] == point && r["generation"] == generation);
        let started = pos("bg_start").unwrap_or_else(|| panic!("generation {generation}: no background thread"));
        let exited = pos("bg_exit").unwrap_or_else(|| panic!("generation {generation}: background thread never ended"));
        let unload = pos("unload").unwrap_or_else(|| panic!("generation {generation}: no unload record"));
        assert!(started < exited && exited < unload, "generation {generation}: thread ended after unload: {recs:?}");
        assert!(
            !recs[unload..].iter().any(|r| r["point"] == "bg_exit" && r["generation"] == generation),
            "generation {generation}: a second thread exit after unload"
        );
    }
    let answer = kea.command("list-commands", None);
    assert_eq!(answer["result"], 0);
}

/// Writes a copy of the probe library to `path` with its build id set to
/// `id` (17 characters), through a rename, as an install would: a new file,
/// which Kea only runs if its previous mapping of the library was unmapped.
fn install_probe_build(path: &std::path::Path, id: &str) {
    assert_eq!(id.len(), 17);
    let mut bytes = std::fs::read(probe()).expect("read the probe library");
    let marker = b"PROBE-BUILD-ID:";
    let at = bytes.windows(marker.len()).position(|w| w == marker).expect("the probe's build id marker");
    bytes[at + marker.len()..at + marker.len() + 17].copy_from_slice(id.as_bytes());
    let tmp = path.with_extension("so.new");
    std::fs::write(&tmp, &bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A reload runs the library file as it is now, after a callout panicked
/// on Kea's main thread and on a packet worker (threads that never exit: a
/// Rust thread-local with a destructor touched there would keep the old
/// library mapped, and Kea would run the old build again).
#[test]
fn a_reload_runs_the_library_file_as_it_is_now() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let lib = cfg.dir().join("libdhcp_probe.so");
    let out = cfg.dir().join("probe.jsonl");
    install_probe_build(&lib, "first-build-00001");
    let params = json!({ "out": out, "panic-hwaddr": "02:00:00:00:0b:ad" });
    // The callouts also log (tracing on Kea's threads must not pin either).
    let mut kea = cfg.logger("kea-dhcp4.probe", "DEBUG", 99).hook(&lib, Some(params)).start(&pair).unwrap();

    let builds = |out: &std::path::Path| -> Vec<String> {
        at(&records(out), "load").iter().map(|r| r["build_id"].as_str().unwrap_or_default().to_owned()).collect()
    };
    assert_eq!(builds(&out), ["first-build-00001"]);
    for (multi_threading, build) in [(false, "second-build-0002"), (true, "third-build-00003"), (true, "fourth-build-0004")] {
        // A panic on the thread that runs callouts now.
        pair.set_client_mac("02:00:00:00:0b:ad");
        assert_eq!(dhclient(&pair, Duration::from_secs(3)), None);
        assert!(kea.log().contains("callout pkt4_receive panicked"), "{}", kea.log());
        install_probe_build(&lib, build);
        let changed = kea.config().clone().multi_threading(multi_threading);
        kea.rewrite_config(&changed);
        assert_eq!(kea.config_reload()["result"], 0);
        assert_eq!(builds(&out).last().map(String::as_str), Some(build), "Kea ran the old library after a reload");
    }
    pair.set_client_mac("02:00:00:00:00:01");
    assert!(dhclient(&pair, Duration::from_secs(15)).is_some());
    assert!(kea.is_alive());
}

/// Every symbol a hook library exports, each with the reason it may: a
/// leaked C++ symbol of the shim, or anything named like a hook point,
/// fails this.
#[test]
fn hooks_export_only_what_is_listed() {
    // (exact name, or prefix ending in '$'; why it is exported)
    let allowed: &[(&str, &str)] = &[
        ("version", "Kea's entry point: the hooks API version"),
        ("load", "Kea's entry point"),
        ("unload", "Kea's entry point"),
        ("multi_threading_compatible", "Kea's entry point"),
        ("kea_hooks_check_parameters", "kea-hooks-check's entry point (Kea never calls it)"),
        ("cxxbridge1$exception", "cxx's runtime: the shim turns a caught C++ exception into a Rust error through it"),
        ("cxxbridge1$string$", "cxx's runtime for rust::String, called by the shim (no_mangle in the cxx crate)"),
        ("cxxbridge1$str$", "cxx's runtime for rust::Str, called by the shim"),
        ("cxxbridge1$slice$", "cxx's runtime for rust::Slice, called by the shim"),
        ("cxxbridge1$rust_vec$", "cxx's runtime for rust::Vec<T>, called by the shim"),
        (
            "cxxbridge1$box$kea_shim$PacketValues$",
            "cxx's glue for rust::Box<PacketValues> (the per-packet values): Kea's context destructor drops the box through it",
        ),
        ("kea_shim$cxxbridge1$", "cxx's size and alignment of PacketValues, for the same rust::Box"),
        (
            "_ZTSN5boost10shared_ptrIN3isc4dhcp4Pkt4EEE",
            "type name of Pkt4Ptr, shared with Kea's so that getArgument's any_cast compares pointers (hooks-sdk/src/ffi/type_names.rs)",
        ),
        ("_ZTSN5boost10shared_ptrIN3isc4dhcp6Lease4EEE", "type name of Lease4Ptr, likewise"),
        ("_ZTSN5boost10shared_ptrIN3isc4dhcp7Subnet4EEE", "type name of Subnet4Ptr (Kea 2.x), likewise"),
        ("_ZTSN5boost10shared_ptrIKN3isc4dhcp7Subnet4EEE", "type name of ConstSubnet4Ptr (Kea 3.0+), likewise"),
    ];
    let allows = |name: &str| {
        allowed.iter().any(|(entry, _)| if entry.ends_with('$') { name.starts_with(entry) } else { name == *entry })
    };
    for lib in [probe(), mac_acl(), common::hook_library("kea-hook-class-policy", "dhcp_class_policy")] {
        let out = std::process::Command::new("nm").args(["-D", "--defined-only"]).arg(&lib).output().expect("nm");
        assert!(out.status.success(), "nm failed on {}", lib.display());
        let text = String::from_utf8_lossy(&out.stdout);
        let names: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
        assert!(names.len() > 4, "nm listed nothing for {}:\n{text}", lib.display());
        let unexpected: Vec<&&str> = names.iter().filter(|n| !allows(n)).collect();
        assert!(unexpected.is_empty(), "{} exports symbols nobody allowed: {unexpected:?}", lib.display());
        for entry in ["version", "load", "unload", "multi_threading_compatible", "kea_hooks_check_parameters"] {
            assert!(names.contains(&entry), "{} does not export {entry}", lib.display());
        }
    }
}
