//! The run-script hook (hooks/run-script) against ISC's run_script, in one
//! real kea-dhcp4: both loaded, each with its own copy of a recorder
//! program (tests/src/bin/run-script-recorder.rs) that appends its argv
//! and whole environment as one JSON line per invocation; traffic that
//! fires every point; the recorded invocations compared as multisets.
//! Then faults (load refusals, failing, hanging and flooding scripts, no
//! zombies, unload with work in flight), sync mode (a script that denies
//! clients) and stream mode (a crashing stream process).
//! Run as root; see the README.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use kea_hooks_tests::{hooks_together, isc_hook, require_root_and_kea, Client4, Kea, KeaConfig, NetPair, Relay};
use serde_json::{json, Value};

use common::load_failure_line;
use common::run_script::{count, multiset, ours, processes_of, recorder, records, status, wait_idle, wait_records, zombies_of};

/// The hook's "loaded" line (debug level 40): it lists the callouts registered.
fn loaded_line(kea: &Kea) -> String {
    kea.log().lines().find(|l| l.contains("run-script: loaded")).map(str::to_owned).expect("the load line")
}

#[test]
fn same_invocations_as_isc_run_script_at_every_point() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).valid_lifetime(4);
    let dir = cfg.dir().to_path_buf();
    let isc_script = recorder(&dir, "isc-recorder");
    let our_script = recorder(&dir, "our-recorder");
    let isc = hooks_together(&dir, &[isc_hook("libdhcp_run_script.so")]).remove(0);
    let lib = ours(&dir);
    let mut kea = cfg
        .merge(json!({
            "decline-probation-period": 2,
            "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600,
                                           "flush-reclaimed-timer-wait-time": 0 },
        }))
        .hook(&isc, Some(json!({ "name": isc_script, "sync": false })))
        .hook(&lib, Some(json!({ "name": our_script, "sync": false })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));

    // Grant, renew, rebind, release.
    let c1 = Client4::new(&pair, "02:5c:00:00:00:01").with_option(12, b"host-one");
    let ack = c1.dora().expect("ack");
    c1.renew(&ack).expect("renew");
    c1.rebind(&ack).expect("rebind");
    c1.release(&ack);
    // Decline (and, after the probation period, the declined lease's recovery).
    let c2 = Client4::new(&pair, "02:5c:00:00:00:02");
    let ack2 = c2.dora().expect("ack2");
    c2.decline(&ack2);
    // Relayed, with option 82 (circuit id and remote id); and a client id.
    let c3 = Client4::new(&pair, "02:5c:00:00:00:03").with_option(61, &[1, 2, 0x5c, 0, 0, 0, 3]);
    let relay = Relay { circuit_id: b"port-7".to_vec(), remote_id: vec![0xde, 0xad, 0xbe, 0xef] };
    c3.dora_relayed(&relay).expect("relayed ack");
    // Left to expire and be reclaimed.
    let c4 = Client4::new(&pair, "02:5c:00:00:00:04");
    c4.dora().expect("ack4");

    let isc_done = |r: &[Value]| count(r, "lease4_recover") >= 1 && count(r, "lease4_expire") >= 3;
    let isc_records = wait_records(&isc_script, Duration::from_secs(30), isc_done);
    assert!(isc_done(&isc_records), "ISC's hook did not record expiry and recovery: {isc_records:#?}");
    wait_records(&our_script, Duration::from_secs(10), |r| r.len() >= isc_records.len());
    // Anything later (another reclamation) lands in both; compare what both saw.
    kea.stop();
    let (isc_records, our_records) = (records(&isc_script), records(&our_script));

    for point in ["lease4_renew", "leases4_committed", "lease4_release", "lease4_decline", "lease4_expire", "lease4_recover"] {
        assert!(count(&isc_records, point) > 0, "no {point} in ISC's records");
    }
    assert!(
        isc_records.iter().any(|r| r["env"]["QUERY4_OPTION_82_SUB_OPTION_2"] == "0xDEADBEEF"),
        "no relayed query with option 82 in ISC's records"
    );
    let (a, b) = (multiset(&isc_records, &isc_script), multiset(&our_records, &our_script));
    if a != b {
        let only_isc: Vec<_> = a.iter().filter(|x| !b.contains(x)).collect();
        let only_ours: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
        panic!(
            "invocations differ ({} ISC, {} ours)\nonly ISC's:\n{only_isc:#?}\nonly ours:\n{only_ours:#?}",
            a.len(),
            b.len()
        );
    }
    eprintln!("{} identical invocations over {} points", a.len(), 6);
}

#[test]
fn load_refuses_a_missing_a_non_executable_or_a_misplaced_script() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    // Starts Kea with run-script's parameters `params(dir)` (dir: Kea's
    // own, which the harness makes the hook-scripts directory); the
    // hook's load failure line.
    let fail = |params: &dyn Fn(&Path) -> Value| -> String {
        let cfg = KeaConfig::new(&pair);
        let p = params(cfg.dir());
        let lib = ours(cfg.dir());
        let failure = cfg.hook(&lib, Some(p.clone())).start(&pair).err().unwrap_or_else(|| panic!("Kea started with {p}"));
        load_failure_line(&failure, "kea-dhcp4.run-script")
    };
    let line = fail(&|dir| json!({ "name": dir.join("no-such-script") }));
    assert!(line.contains("at 'name'") && line.contains("File not found"), "{line}");
    let line = fail(&|dir| {
        let plain = dir.join("plain");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        json!({ "name": plain })
    });
    assert!(line.contains("at 'name'") && line.contains("File not executable"), "{line}");
    if kea_hooks_tests::kea_hooks_version() >= 30000 {
        // Kea 3.0+: only from the hook-scripts directory, as ISC's hook.
        let line = fail(&|_| json!({ "name": "/bin/true" }));
        assert!(line.contains("at 'name'") && line.contains("supported path is"), "{line}");
    }
    let line = fail(&|dir| json!({ "name": recorder(dir, "r"), "on-full": "sometimes" }));
    assert!(line.contains("on-full"), "{line}");
}

#[test]
fn failing_hanging_and_flooding_scripts_stall_nothing_and_leave_no_zombie() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).logger("kea-dhcp4.run-script", "DEBUG", 99);
    let script = recorder(cfg.dir(), "faults");
    let lib = ours(cfg.dir());
    let file = |ext: &str| PathBuf::from(format!("{}.{ext}", script.display()));
    let mut kea = cfg
        .hook(&lib, Some(json!({ "name": script, "timeout-ms": 500, "output": "log", "output-limit": 1000, "grace-ms": 1000 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));

    // Without sync, no lease4_offer callout (Kea would park every DISCOVER for it).
    let loaded = loaded_line(&kea);
    assert!(loaded.contains("leases4_committed") && !loaded.contains("lease4_offer"), "{loaded}");

    // A non-zero exit: counted as failed, logged at debug.
    std::fs::write(file("deny"), "02:5c:00:00:01:01\n").unwrap();
    Client4::new(&pair, "02:5c:00:00:01:01").dora().expect("ack: the script does not decide without sync");
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert_eq!((s["queued"].as_u64(), s["failed"].as_u64(), s["run"].as_u64()), (Some(1), Some(1), Some(0)), "{s}");
    assert!(kea.wait_for_log("script failed", Duration::from_secs(5)), "no debug line for the failure");
    std::fs::remove_file(file("deny")).unwrap();

    // A script that hangs: the exchange completes while it still runs;
    // it is killed after timeout-ms, with what it started.
    std::fs::write(file("sleep"), "30000").unwrap();
    Client4::new(&pair, "02:5c:00:00:01:02").dora().expect("ack while the script hangs");
    // The ACK came while the event is still unfinished (queued or running).
    let s = status(&kea);
    assert_eq!(s["unfinished"], 1, "the script should not have ended: {s}");
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert_eq!(s["timed-out"], 1, "{s}");
    assert!(processes_of(&script).is_empty(), "the hung script still runs: {:?}", processes_of(&script));
    std::fs::remove_file(file("sleep")).unwrap();

    // A script that writes 8 MiB to stdout and stderr: read and dropped
    // beyond output-limit, so it ends normally.
    std::fs::write(file("flood"), (4 << 20).to_string()).unwrap();
    Client4::new(&pair, "02:5c:00:00:01:03").dora().expect("ack");
    let s = wait_idle(&kea, Duration::from_secs(20));
    assert_eq!(s["run"], 1, "{s}");
    assert!(kea.wait_for_log("beyond output-limit discarded", Duration::from_secs(5)), "no line about the dropped output");
    std::fs::remove_file(file("flood")).unwrap();

    assert!(zombies_of(kea.pid()).is_empty(), "zombie children of Kea: {:?}", zombies_of(kea.pid()));
    // Kea's statistics follow the counters.
    assert_eq!(kea.statistic("run-script.failed"), 1);
    assert_eq!(kea.statistic("run-script.timed-out"), 1);
    assert_eq!(kea.statistic("run-script.run"), 1);

    // A hung script and a full queue (the default on-full: drop): every
    // exchange is still answered at once; the events that find no room
    // are dropped and counted.
    std::fs::write(file("sleep"), "30000").unwrap();
    kea.reload_with_hook_parameters(0, json!({ "name": script, "max-running": 1, "queue-size": 2, "grace-ms": 300 }));
    for i in 0..6u8 {
        Client4::new(&pair, &format!("02:5c:00:00:05:{i:02x}")).dora().expect("ack with the queue full");
    }
    // One runs, one waits in the spawner for room under max-running, two
    // fill the queue.
    let s = status(&kea);
    assert_eq!((s["queued"].as_u64(), s["dropped"].as_u64()), (Some(4), Some(2)), "{s}");

    // Unload with work in flight: scripts that take 1 s each, 10 events,
    // one at a time: some run within the 1 s grace time, the rest are
    // dropped and counted; nothing is left running.
    std::fs::write(file("sleep"), "1000").unwrap();
    kea.reload_with_hook_parameters(0, json!({ "name": script, "max-running": 1, "grace-ms": 1000 }));
    let before = records(&script).len();
    for i in 0..10u8 {
        Client4::new(&pair, &format!("02:5c:00:00:02:{i:02x}")).dora().expect("ack");
    }
    let s = status(&kea);
    let queued = s["queued"].as_u64().unwrap();
    assert_eq!(queued, 10, "{s}");
    // The unload is a reload's: Kea goes on running, so a child the hook
    // failed to reap would still be its zombie below.
    kea.reload_with_hook_parameters(0, json!({ "name": script }));
    let ran = records(&script).len() - before;
    assert!((1..10).contains(&ran), "{ran} of 10 ran before the grace time ended");
    assert!(kea.log().contains("event dropped before its script ran"), "no log line for the dropped events");
    assert!(processes_of(&script).is_empty(), "scripts left running after the unload: {:?}", processes_of(&script));
    assert!(zombies_of(kea.pid()).is_empty(), "zombie children of the running Kea: {:?}", zombies_of(kea.pid()));
    kea.stop();
}

#[test]
fn sync_mode_holds_each_packet_until_its_script_says() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).logger("kea-dhcp4.run-script", "DEBUG", 40);
    let script = recorder(cfg.dir(), "gate");
    let lib = ours(cfg.dir());
    let file = |ext: &str| PathBuf::from(format!("{}.{ext}", script.display()));
    std::fs::write(file("deny"), "02:5c:00:00:03:02\n").unwrap();
    let mut kea = cfg.hook(&lib, Some(json!({ "name": script, "sync": true, "timeout-ms": 5000 }))).start(&pair).unwrap_or_else(|e| panic!("{e}"));

    let loaded = loaded_line(&kea);
    assert_eq!(loaded.contains("lease4_offer"), kea_hooks_tests::kea_hooks_version() >= 20600, "{loaded}");
    Client4::new(&pair, "02:5c:00:00:03:01").dora().expect("an allowed client gets its ACK");
    let denied = Client4::new(&pair, "02:5c:00:00:03:02").with_timeout(Duration::from_millis(1500));
    if kea_hooks_tests::kea_hooks_version() >= 20600 {
        // Kea 2.6+ parks at lease4_offer too: not even an OFFER.
        assert!(denied.discover(None).is_none(), "a denied client got an OFFER");
    } else {
        let offer = denied.discover(None).expect("2.2 offers (no lease4_offer parking)");
        assert!(denied.request(&offer, None).is_none(), "a denied client got an ACK");
    }
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert!(s["failed"].as_u64().unwrap() >= 1 && s["run"].as_u64().unwrap() >= 1, "{s}");
    assert!(kea.statistic("pkt4-receive-drop") >= 1, "the denied packet was not dropped");

    // A script that outlives timeout-ms: killed, and the packet goes on
    // (sync-timeout: continue).
    std::fs::remove_file(file("deny")).unwrap();
    std::fs::write(file("sleep"), "30000").unwrap();
    kea.reload_with_hook_parameters(0, json!({ "name": script, "sync": true, "timeout-ms": 300, "sync-timeout": "continue" }));
    Client4::new(&pair, "02:5c:00:00:03:03").dora().expect("ACK after the script timed out");
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert!(s["timed-out"].as_u64().unwrap() >= 1, "{s}");
    kea.stop();
    assert!(processes_of(&script).is_empty());
}

#[test]
fn stream_mode_gets_every_event_once_more_after_a_crash() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let dir = cfg.dir().to_path_buf();
    let isc_script = recorder(&dir, "isc-recorder");
    let script = recorder(&dir, "stream");
    // The stream program exits abruptly after its 3rd event, unanswered.
    std::fs::write(format!("{}.crash-after", script.display()), "3").unwrap();
    let isc = hooks_together(&dir, &[isc_hook("libdhcp_run_script.so")]).remove(0);
    let lib = ours(&dir);
    let mut kea = cfg
        .hook(&isc, Some(json!({ "name": isc_script })))
        .hook(&lib, Some(json!({ "name": script, "mode": "stream" })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let first_pid = status(&kea)["pid"].as_u64().expect("the stream program runs from the load");
    for i in 0..10u8 {
        Client4::new(&pair, &format!("02:5c:00:00:04:{i:02x}")).dora().expect("ack");
    }
    let s = wait_idle(&kea, Duration::from_secs(20));
    assert_eq!((s["queued"].as_u64(), s["run"].as_u64(), s["lost"].as_u64()), (Some(10), Some(10), Some(0)), "{s}");
    assert_eq!(s["restarts"], 1, "{s}");
    assert_ne!(s["pid"].as_u64(), Some(first_pid), "{s}");
    let isc_records = wait_records(&isc_script, Duration::from_secs(10), |r| r.len() >= 10);
    kea.stop();
    let ours_all = multiset(&records(&script), &script);
    let mut ours_once = ours_all.clone();
    ours_once.dedup();
    assert!(ours_all.len() > ours_once.len(), "the crash should have made the program see an event twice");
    assert_eq!(ours_once, multiset(&isc_records, &isc_script), "stream events differ from ISC's invocations");
    assert!(processes_of(&script).is_empty(), "the stream program outlived Kea");
}
