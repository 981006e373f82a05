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

/// `n` DORA exchanges from `n` clients at 200/s; the ACKs.
fn dora(pair: &NetPair, n: u32) -> u64 {
    let n = n.to_string();
    perfdhcp(pair, &["-r", "200", "-R", &n, "-n", &n, "-n", &n, "-W", "1000000", "-d", "2"]).acks()
}

/// One client's DORA must complete: Kea is serving.
fn serving(pair: &NetPair, mac: &str) {
    kea_hooks_tests::Client4::new(pair, mac).dora().unwrap_or_else(|| panic!("{mac}: no ACK: Kea is not serving"));
}

/// Reloads Kea with hook `index`'s parameters replaced, within `bound`;
/// how long it took.
fn reload_within(kea: &mut Kea, index: usize, parameters: Value, bound: Duration) -> Duration {
    kea.config_mut().set_hook_parameters(index, parameters);
    kea.write_config();
    let (answer, took) = kea.command_within("config-reload", None, bound);
    assert_eq!(answer["result"], 0, "{answer}");
    took
}

/// Waits (up to `timeout`) until run-script-status satisfies `done`.
fn wait_status(kea: &Kea, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let s = status(kea);
        if done(&s) || Instant::now() >= deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_stream_program_that_stops_reading_holds_up_no_command_reload_or_shutdown() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    // Reads one event, then never reads again: the pipe to it fills.
    let prog = script(cfg.dir(), "reads-one-line", "read line\nexec sleep 3600");
    let params = |timeout_ms: u64| json!({ "name": prog, "mode": "stream", "max-running": 1000, "grace-ms": 1000, "timeout-ms": timeout_ms });
    let mut kea = cfg.hook(&lib(), Some(params(60_000))).start(&pair).unwrap_or_else(|e| panic!("{e}"));

    // 200 exchanges: every one answered while the events pile up unread.
    let acks = dora(&pair, 200);
    assert!(acks >= 190, "{acks} of 200 exchanges completed");
    let (answer, status_took) = kea.command_within("run-script-status", None, Duration::from_secs(2));
    let in_flight = answer["arguments"]["in-flight"].as_u64().unwrap();
    assert!(in_flight >= 150, "the events should be waiting for the program: {answer}");
    // A reload unloads the hook while its program is stuck: within
    // grace-ms (1 s) and the second the program gets to exit.
    let reload_took = reload_within(&mut kea, 0, params(500), Duration::from_secs(5));
    serving(&pair, "02:5e:00:00:00:01");

    // timeout-ms holds however full the pipe is: the stuck program is
    // killed and replaced, its events counted as timed out.
    let t0 = Instant::now();
    dora(&pair, 200);
    let s = wait_status(&kea, Duration::from_secs(10), |s| s["timed-out"].as_u64() > Some(0) && s["restarts"].as_u64() > Some(0));
    let timeout_took = t0.elapsed();
    assert!(s["timed-out"].as_u64() > Some(0) && s["restarts"].as_u64() > Some(0), "the stuck program was not killed: {s}");

    // Stuck again (no timeout this time), then shut down: bounded too.
    let reload2_took = reload_within(&mut kea, 0, params(60_000), Duration::from_secs(5));
    dora(&pair, 200);
    let shutdown_took = kea.shutdown_within(Duration::from_secs(5));
    eprintln!(
        "stream program that stops reading: run-script-status {status_took:?}, config-reload {reload_took:?} and {reload2_took:?}, \
         killed for timeout-ms 500 within {timeout_took:?} of the traffic, shutdown {shutdown_took:?}"
    );
}
