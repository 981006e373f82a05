//! The run-script hook (hooks/run-script) under faults, in real kea-dhcp4:
//! nothing it does may stall Kea's packet processing, its commands, a
//! reload or a shutdown, whatever its scripts or its stream program do,
//! and `sync` fails closed. Every test has a hostile peer made here (a
//! script or stream program that denies, hangs, floods, stops reading,
//! answers out of order or with garbage) and measures how long what must
//! stay bounded took. Run as root; see the README.

mod common;

use std::time::{Duration, Instant};

use kea_hooks_tests::{perfdhcp, require_root_and_kea, Kea, KeaConfig, NetPair};
use serde_json::{json, Value};

use common::run_script::{lib, processes_of, recorder, script, wait_idle, wait_status, zombies_of};

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
    let mut kea = cfg.hook(&lib(), Some(json!({ "name": deny, "sync": true, "timeout-ms": 5000 }))).start(&pair).unwrap_or_else(|e| panic!("{e}"));
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
    // Shut down with packets parked and scripts running.
    let mut traffic = kea_hooks_tests::perfdhcp_spawn(&pair, &["-r", "400", "-R", "100000", "-n", "800", "-n", "800"]);
    wait_status(&kea, Duration::from_secs(5), |s| s["queued"].as_u64() > Some(queued));
    let took = kea.shutdown_within(Duration::from_secs(8));
    let _ = traffic.kill();
    let _ = traffic.wait();
    eprintln!("sync with kea-lfc: {queued} scripts, all denied; shutdown under traffic {took:?}");
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

#[test]
fn a_stream_program_that_stops_reading_holds_up_no_command_reload_or_shutdown() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    // Reads one event, then never reads again: the pipe to it fills. (It
    // stays a shell running this script, so it can be found by name.)
    let prog = script(cfg.dir(), "reads-one-line", "read line\nwhile :; do sleep 1; done");
    let params = |timeout_ms: u64| json!({ "name": prog, "mode": "stream", "max-running": 1000, "grace-ms": 1000, "timeout-ms": timeout_ms });
    let mut kea = cfg.hook(&lib(), Some(params(60_000))).start(&pair).unwrap_or_else(|e| panic!("{e}"));

    // 200 exchanges: every one answered while the events pile up unread.
    let acks = dora(&pair, 200);
    assert!(acks >= 190, "{acks} of 200 exchanges completed");
    let (answer, status_took) = kea.command_within("run-script-status", None, Duration::from_secs(2));
    assert!(!processes_of(&prog).is_empty(), "the stream program should be running (and found by name)");
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
    // Every program it started was killed and reaped, none started after
    // an unload began.
    assert!(processes_of(&prog).is_empty(), "stream programs left: {:?}", processes_of(&prog));
    eprintln!(
        "stream program that stops reading: run-script-status {status_took:?}, config-reload {reload_took:?} and {reload2_took:?}, \
         killed for timeout-ms 500 within {timeout_took:?} of the traffic, shutdown {shutdown_took:?}"
    );
}

/// Kea's resident memory, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap()
}

#[test]
fn a_stream_program_that_prints_garbage_or_vanishes_mid_write_is_contained() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).logger("kea-dhcp4.run-script", "DEBUG", 99);
    // 1. Before every answer, a line that is not UTF-8.
    let prog = recorder(cfg.dir(), "garbage");
    std::fs::write(format!("{}.stray", prog.display()), b"\xff\xfe not UTF-8 \xc3").unwrap();
    let mut kea = cfg
        .hook(&lib(), Some(json!({ "name": prog, "mode": "stream", "grace-ms": 500, "timeout-ms": 1000 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..5u8 {
        serving(&pair, &format!("02:5f:00:00:01:{i:02x}"));
    }
    let s = wait_status(&kea, Duration::from_secs(10), |s| s["unfinished"] == 0);
    assert_eq!((s["run"].as_u64(), s["protocol-errors"].as_u64(), s["restarts"].as_u64()), (Some(5), Some(5), Some(0)), "{s}");
    // Kea's statistic follows from Kea's main thread, a moment later.
    let deadline = Instant::now() + Duration::from_secs(5);
    while kea.statistic("run-script.protocol-errors") != 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(kea.statistic("run-script.protocol-errors"), 5);
    assert!(kea.log().contains("protocol error: an answer line that is not UTF-8"), "no debug line for the protocol error");

    // 2. One endless line without a newline: the program is replaced, and
    // neither its output nor a thread spinning on it costs Kea.
    let endless = script(kea.dir(), "endless", "tr '\\000' x < /dev/zero");
    let rss_before = rss_kib(kea.pid());
    let reload_took = reload_within(&mut kea, 0, json!({ "name": endless, "mode": "stream", "grace-ms": 500, "timeout-ms": 1000 }), Duration::from_secs(5));
    serving(&pair, "02:5f:00:00:02:01");
    let s = wait_status(&kea, Duration::from_secs(10), |s| s["restarts"].as_u64() >= Some(2));
    assert!(s["restarts"].as_u64() >= Some(2) && s["protocol-errors"].as_u64() >= Some(2), "{s}");
    let grown = rss_kib(kea.pid()).saturating_sub(rss_before);
    assert!(grown < 32 * 1024, "Kea grew by {grown} KiB reading an endless line");

    // 3. A program that closes its input and lives on: every write to it
    // fails with EPIPE (a SIGPIPE, which the SDK makes Kea ignore, would
    // kill Kea): Kea carries on, the program is replaced.
    let quits = script(kea.dir(), "quits", "exec 0<&-\nwhile :; do sleep 1; done");
    let reload2_took = reload_within(&mut kea, 0, json!({ "name": quits, "mode": "stream", "grace-ms": 500, "timeout-ms": 1000 }), Duration::from_secs(5));
    let acks = dora(&pair, 100);
    assert!(acks >= 95, "{acks} of 100 exchanges completed");
    let s = wait_status(&kea, Duration::from_secs(10), |s| s["unfinished"] == 0);
    assert!(s["restarts"].as_u64() >= Some(1) && s["lost"].as_u64() > Some(0), "{s}");
    assert!(kea.log().contains("Broken pipe"), "no EPIPE was seen writing to the program");
    serving(&pair, "02:5f:00:00:03:01");
    let shutdown_took = kea.shutdown_within(Duration::from_secs(5));
    for p in [&prog, &endless, &quits] {
        assert!(processes_of(p).is_empty(), "stream programs left: {:?}", processes_of(p));
    }
    eprintln!("garbage: reload to the endless line {reload_took:?}, to the quitter {reload2_took:?}, Kea grew {grown} KiB, shutdown {shutdown_took:?}");
}

#[test]
fn stream_verdicts_follow_seq_whatever_the_order_and_stray_lines() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    // Four clients at once; the program answers in batches, in reverse
    // order, each answer after a stray "1" (a deny, to a positional reader).
    let prog = recorder(cfg.dir(), "shuffler");
    let macs = ["02:5f:00:00:04:01", "02:5f:00:00:04:02", "02:5f:00:00:04:03", "02:5f:00:00:04:04"];
    std::fs::write(format!("{}.deny", prog.display()), format!("{}\n{}\n", macs[1], macs[3])).unwrap();
    std::fs::write(format!("{}.stray", prog.display()), "1").unwrap();
    std::fs::write(format!("{}.batch", prog.display()), "4").unwrap();
    let mut kea = cfg
        .hook(&lib(), Some(json!({ "name": prog, "mode": "stream", "sync": true, "timeout-ms": 5000 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let clients: Vec<_> = macs.iter().map(|mac| kea_hooks_tests::Client4::new(&pair, mac).with_timeout(Duration::from_secs(3))).collect();
    pair.accept_every_mac();
    let acked: Vec<bool> = std::thread::scope(|scope| {
        let running: Vec<_> = clients.iter().map(|c| scope.spawn(move || c.dora().is_some())).collect();
        running.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(acked, [true, false, true, false], "verdicts went to the wrong clients");
    let s = wait_status(&kea, Duration::from_secs(10), |s| s["unfinished"] == 0);
    let answers = s["run"].as_u64().unwrap() + s["failed"].as_u64().unwrap();
    assert_eq!(s["protocol-errors"].as_u64(), Some(answers), "every stray line counted: {s}");
    assert_eq!(s["failed"].as_u64(), Some(2), "{s}");
    kea.shutdown_within(Duration::from_secs(5));
}

/// Bit `sig - 1` of a `SigIgn:` line of /proc/PID/status (hex).
fn ignores(status_line: &str, sig: u32) -> bool {
    let hex = status_line.trim().rsplit('\t').next().unwrap_or("").trim();
    u64::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("not a signal mask: {status_line:?}")) & (1 << (sig - 1)) != 0
}

#[test]
fn an_exec_script_that_floods_its_output_is_still_timed_out_and_reaped() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let sig = cfg.dir().join("sigign");
    // Notes its ignored signals (SIGPIPE must be at its default, though
    // Kea ignores it), then writes to its output without end.
    let flood = script(cfg.dir(), "flood", &format!("grep '^SigIgn' /proc/self/status > {}\nexec cat /dev/zero", sig.display()));
    let params = json!({ "name": flood, "timeout-ms": 500, "output": "log", "output-limit": 1000, "grace-ms": 500 });
    let mut kea = cfg.hook(&lib(), Some(params.clone())).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let kea_status = std::fs::read_to_string(format!("/proc/{}/status", kea.pid())).unwrap();
    let kea_sigign = kea_status.lines().find(|l| l.starts_with("SigIgn")).unwrap();
    assert!(ignores(kea_sigign, libc::SIGPIPE as u32), "Kea should ignore SIGPIPE (the SDK sets it at load): {kea_sigign}");

    serving(&pair, "02:60:00:00:00:01");
    let t0 = Instant::now();
    let s = wait_status(&kea, Duration::from_secs(10), |s| s["unfinished"] == 0);
    let killed_after = t0.elapsed();
    assert_eq!(s["timed-out"], 1, "{s}");
    let script_sigign = std::fs::read_to_string(&sig).unwrap();
    assert!(!ignores(&script_sigign, libc::SIGPIPE as u32), "the script inherited an ignored SIGPIPE: {script_sigign}");
    assert!(zombies_of(kea.pid()).is_empty(), "zombie children of Kea: {:?}", zombies_of(kea.pid()));

    // A reload, then a shutdown, each while a flood runs: bounded by
    // grace-ms (then the script is killed).
    serving(&pair, "02:60:00:00:00:02");
    let reload_took = reload_within(&mut kea, 0, params, Duration::from_secs(3));
    assert!(zombies_of(kea.pid()).is_empty(), "zombie children of Kea after the reload: {:?}", zombies_of(kea.pid()));
    serving(&pair, "02:60:00:00:00:03");
    let shutdown_took = kea.shutdown_within(Duration::from_secs(3));
    eprintln!("flooding script: killed {killed_after:?} after the exchange (timeout-ms 500), reload {reload_took:?}, shutdown {shutdown_took:?}");
}
