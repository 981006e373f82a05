//! The run-script hook (hooks/run-script) under faults, in real kea-dhcp4:
//! nothing it does may stall Kea's packet processing, its commands, a
//! reload or a shutdown, whatever its scripts or its stream program do,
//! and `sync` fails closed. Every test has a hostile peer made here (a
//! script or stream program that denies, hangs, floods, stops reading,
//! answers out of order or with garbage) and measures how long what must
//! stay bounded took. Run as root; see the README.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kea_hooks_tests::{perfdhcp, require_root_and_kea, Kea, KeaConfig, NetPair};
use serde_json::{json, Value};

use common::hook_library;

fn lib() -> PathBuf {
    hook_library("kea-hook-run-script", "dhcp_run_script")
}

/// An executable shell script `name` in `dir` (Kea's own test directory,
/// which the harness makes the hook-scripts directory on Kea 3.0+).
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `run-script-status`'s arguments.
fn status(kea: &Kea) -> Value {
    let a = kea.command("run-script-status", None);
    assert_eq!(a["result"], 0, "{a}");
    a["arguments"].clone()
}

/// Waits until the hook has nothing queued or running.
fn wait_idle(kea: &Kea, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let s = status(kea);
        if s["unfinished"] == 0 || Instant::now() >= deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sync_never_lets_a_denied_client_through_while_kea_reaps_children_itself() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    // lfc-interval: Kea runs kea-lfc every second, and once it has, its
    // own SIGCHLD handler reaps any child of the process (waitpid(-1)).
    let cfg = KeaConfig::new(&pair)
        .multi_threading(true)
        .merge(json!({ "lease-database": { "lfc-interval": 1 } }));
    let deny = script(cfg.dir(), "deny-all", "exit 1");
    let kea = cfg.hook(&lib(), Some(json!({ "name": deny, "sync": true, "timeout-ms": 5000 }))).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    assert!(kea.wait_for_log("DHCPSRV_MEMFILE_LFC_START", Duration::from_secs(10)), "kea-lfc did not run");

    let report = perfdhcp(&pair, &["-r", "400", "-R", "100000", "-n", "800", "-n", "800", "-W", "1000000", "-d", "5"]);
    let s = wait_idle(&kea, Duration::from_secs(30));
    eprintln!("perfdhcp: {:?}; run-script-status: {s}", report.exchanges);
    // 2.2 parks at leases4_committed (the ACK), 2.6+ at lease4_offer too
    // (the OFFER): either way, nothing the script denied is answered.
    if kea_hooks_tests::kea_hooks_version() >= 20600 {
        assert_eq!(report.received, 0, "OFFERs for denied clients:\n{}", report.stdout);
    } else {
        assert!(report.received > 100, "too few OFFERs to show anything:\n{}", report.stdout);
    }
    assert_eq!(report.acks(), 0, "ACKs for denied clients:\n{}", report.stdout);
    let queued = s["queued"].as_u64().unwrap();
    assert!(queued > 100, "too few scripts ran to show anything: {s}");
    assert_eq!((s["run"].as_u64(), s["failed"].as_u64()), (Some(0), Some(queued)), "every script denied: {s}");
}

#[test]
fn a_sync_callout_that_fails_or_cannot_park_drops_its_packet() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let allow = script(cfg.dir(), "allow-all", "exit 0");
    // A C++ library ahead of ours breaks `leases4` for one client (our
    // callout fails to read it) and takes another's query out of the
    // parking lot (our callout cannot park it).
    let (broken, unparkable, fine) = ("02:5d:00:00:00:01", "02:5d:00:00:00:02", "02:5d:00:00:00:03");
    let kea = cfg
        .hook(&common::park_hook(), Some(json!({ "out": "/dev/null", "park": false, "break-leases4": broken, "unlot": unparkable })))
        .hook(&lib(), Some(json!({ "name": allow, "sync": true })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    for mac in [broken, unparkable] {
        let c = kea_hooks_tests::Client4::new(&pair, mac).with_timeout(Duration::from_millis(1500));
        let offer = c.discover(None).expect("an OFFER: the script allows it");
        assert!(c.request(&offer, None).is_none(), "{mac}: an ACK without the script's verdict");
    }
    kea_hooks_tests::Client4::new(&pair, fine).dora().expect("the script allows the third client");
    let log = kea.log();
    assert!(log.contains("sync: cannot hold the packet for its script"), "no line for the packet that could not be parked:\n{log}");
    assert!(log.contains("bad_any_cast") && log.contains("packet dropped"), "no line for the failed callout:\n{log}");
}
