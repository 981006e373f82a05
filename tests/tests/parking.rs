//! Parking and background work, on a real kea-dhcp4: packets parked at
//! leases4_committed and resumed, dropped or forgotten by the hook's own
//! thread under load, with Kea's multi-threading off and on; Kea's
//! parked-packet-limit; packets still parked at a reload; 100 reloads
//! under traffic with a worker thread and parked packets, and one after a
//! callout panicked: no crash, no hang, no thread left behind. Run as
//! root; see the README.

mod common;

use std::time::{Duration, Instant};

use kea_hooks_tests::{perfdhcp, perfdhcp_spawn, perfdhcp_start, require_root_and_kea, Client4, Kea, KeaConfig, NetPair};
use serde_json::{json, Value};

use common::{at, records, with_probe};

/// The probe's parking counts, from its unload record after a reload.
fn counts_at_unload(kea: &mut Kea, out: &std::path::Path, next: Value) -> Value {
    let answer = kea.reload_with_hook_parameters(0, next);
    assert_eq!(answer["result"], 0, "{answer}");
    let recs = records(out);
    at(&recs, "unload").last().expect("an unload record")["park"].clone()
}

/// The names of the threads of process `pid`.
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("Kea's threads")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_owned())
        .collect()
}

/// Polls `probe-parked count` until `done` says yes (at most 20 s).
fn wait_for_parked(kea: &Kea, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = kea.command("probe-parked", Some(json!("count")));
        assert_eq!(answer["result"], 0, "{answer}");
        if done(&answer["arguments"]) {
            return answer["arguments"].clone();
        }
        assert!(Instant::now() < deadline, "parked packets never got there: {answer}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Under load, every packet parked at leases4_committed is answered when
/// the hook's thread resumes it, and only then; dropped or forgotten ones
/// are not answered and are counted as dropped. With Kea's multi-threading
/// off the SDK resumes them on Kea's main thread, with it on on the
/// hook's thread. Each Kea goes through three uses of the token, one
/// after another (a reload between them): by the hook's thread after the
/// callout returned; by the hook's thread while the callout still runs
/// (with multi-threading off that callout holds Kea's main thread, where
/// the SDK parks without a gate and queues every use, drops too, behind
/// it); and by the callout itself.
#[test]
fn parked_packets_are_answered_or_dropped_as_the_hook_decides() {
    if !require_root_and_kea() {
        return;
    }
    let cases = [
        ("after the callout", json!({ "point": "leases4_committed", "delay-us": 300, "drop-every": 7, "forget-every": 7 }), "2000", "5000000"),
        ("while the callout runs", json!({ "point": "leases4_committed", "callout-ms": 1, "drop-every": 5, "forget-every": 5 }), "400", "3000000"),
        ("in the callout", json!({ "point": "leases4_committed", "inline": true, "drop-every": 5, "forget-every": 5 }), "400", "3000000"),
    ];
    for multi_threading in [false, true] {
        let pair = NetPair::new();
        let (mut kea, out) = with_probe(
            &pair,
            KeaConfig::new(&pair).multi_threading(multi_threading).severity("WARN"),
            json!({ "quiet": true, "park": cases[0].1 }),
        );
        for (i, (case, _, exchanges, last_wait)) in cases.iter().enumerate() {
            let drops_before = kea.statistic("pkt4-receive-drop");
            // (Kea 2.2 single-threaded loses queries on a raw socket at 400/s
            // even without hooks.)
            let rate = if multi_threading { "400" } else { "200" };
            // perfdhcp counts a reply later than its drop time (-d, 1 s by
            // default) as lost; a resumed ACK on a loaded machine can be that
            // late: wait 5 s for each, and 3 to 5 s for the last ones (the
            // whole wait, as the dropped ones never come).
            let report = perfdhcp(&pair, &["-r", rate, "-R", "200", "-n", exchanges, "-p", "30", "-d", "5", "-W", last_wait]);
            let next = match cases.get(i + 1) {
                Some((_, park, _, _)) => json!({ "out": out, "quiet": true, "park": park }),
                None => json!({ "out": out, "quiet": true }),
            };
            let c = counts_at_unload(&mut kea, &out, next);
            let n = |k: &str| c[k].as_u64().unwrap();
            let what = format!("mt {multi_threading}, token used {case}: {c}");
            assert_eq!(n("parked"), n("resumed") + n("dropped") + n("forgotten"), "{what}");
            assert_eq!((n("held"), n("refused")), (0, 0), "{what}");
            let least = n("parked") / 20;
            assert!(n("parked") >= 100 && n("resumed") >= 5 * least && n("dropped") >= least && n("forgotten") >= least, "{what}\n{}", report.stdout);
            // The ACKs are exactly the resumed packets.
            assert!(report.exchanges[1].sent >= n("parked"), "{what}\n{}", report.stdout);
            assert_eq!(report.acks(), n("resumed"), "{what}\n{}", report.stdout);
            assert_eq!(kea.statistic("pkt4-receive-drop") - drops_before, n("dropped") + n("forgotten"), "{what}");
        }
        assert!(kea.is_alive());
    }
}

/// Kea's parked-packet-limit drops queries past it before the callouts;
/// the parked ones are answered when resumed; packets still parked at a
/// reload are dropped with the hook, and Kea serves on.
#[test]
fn the_parking_limit_and_a_reload_with_packets_parked() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mut params = json!({ "commands": true, "quiet": true, "park": { "point": "leases4_committed", "hold": true } });
    let (mut kea, out) =
        with_probe(&pair, KeaConfig::new(&pair).merge(json!({ "parked-packet-limit": 4 })), params.clone());
    params["out"] = json!(out);

    // 8 clients: 4 parked, 4 dropped by Kea at the limit.
    let drops_before = kea.statistic("pkt4-receive-drop");
    // -d: answers come after a while (when the test resumes them). -n
    // twice: with one, perfdhcp counts OFFERs and ACKs against it and
    // stops waiting once it has the 8 OFFERs. -W: how long it waits.
    let run = perfdhcp_start(&pair, None, &["-r", "50", "-R", "8", "-n", "8", "-n", "8", "-d", "20", "-W", "2500000"]);
    wait_for_parked(&kea, |c| c["held"] == 4 && c["parked"] == 4);
    let deadline = Instant::now() + Duration::from_secs(10);
    while kea.statistic("pkt4-receive-drop") < drops_before + 4 {
        assert!(Instant::now() < deadline, "Kea did not drop the queries past the limit:\n{}", kea.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let answer = kea.command("probe-parked", Some(json!("resume")));
    assert_eq!(answer["arguments"]["resumed"], 4, "{answer}");
    let report = run.wait();
    assert_eq!(report.acks(), 4, "{}", report.stdout);

    // 4 more parked, then a reload: the held tokens go with the hook, which
    // drops their packets; nothing crashes and Kea answers the next client.
    let run = perfdhcp_start(&pair, None, &["-r", "50", "-R", "4", "-n", "4", "-n", "4", "-d", "20", "-W", "1000000"]);
    wait_for_parked(&kea, |c| c["held"] == 4);
    let c = counts_at_unload(&mut kea, &out, params);
    assert_eq!((c["parked"].as_u64(), c["resumed"].as_u64()), (Some(8), Some(4)), "{c}");
    assert_eq!(run.wait().acks(), 0);
    assert!(kea.is_alive());
    let answer = kea.command("probe-parked", Some(json!("count")));
    assert_eq!(answer["arguments"]["parked"], 0, "a new hook, no packets: {answer}");
    let reload_params = json!({ "out": out, "quiet": true });
    let answer = kea.reload_with_hook_parameters(0, reload_params);
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(Client4::new(&pair, "02:c5:00:00:00:01").dora().is_some(), "Kea stopped serving");
}

/// 100 config-reloads under traffic, each while packets are parked (the
/// hook's worker takes 20 ms over each), then a reload after a callout
/// panicked: every reload answers, Kea keeps serving, and exactly one
/// worker thread is left (each unload joined its hook's, and the SDK the
/// one each generation leaked).
#[test]
fn a_hundred_reloads_under_traffic_with_parked_packets() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let params = |generation: u32| {
        json!({
            "quiet": true, "commands": true, "generation": generation, "on-panic": "continue",
            "panic-hwaddr": "02:c6:00:00:00:01", "leak-worker": true,
            "park": { "point": "leases4_committed", "delay-us": 20000 }
        })
    };
    let (mut kea, out) =
        with_probe(&pair, KeaConfig::new(&pair).multi_threading(true).severity("WARN"), params(0));
    let pid = kea.pid();
    let threads_before = thread_names(pid).len();
    let mut traffic = perfdhcp_spawn(&pair, &["-r", "200", "-R", "200", "-p", "120"]);
    for generation in 1..=100 {
        // A packet is parked in this generation: reload now.
        wait_for_parked(&kea, |c| c["parked"].as_u64() > Some(0));
        let mut p = params(generation);
        p["out"] = json!(out);
        let answer = kea.reload_with_hook_parameters(0, p);
        assert_eq!(answer["result"], 0, "reload {generation}: {answer}");
    }
    let _ = traffic.kill();
    let _ = traffic.wait();
    let recs = records(&out);
    let unloads = at(&recs, "unload");
    assert_eq!(unloads.len(), 100, "one unload per reload");
    // Packets parked and not settled by the worker when the hook went: the
    // tokens still queued, dropped with the hook.
    let left = |u: &&Value| {
        let n = |k: &str| u["park"][k].as_u64().unwrap();
        n("parked") - n("resumed") - n("dropped") - n("forgotten")
    };
    let with_parked = unloads.iter().filter(|u| left(u) > 0).count();
    let resumed: u64 = unloads.iter().map(|u| u["park"]["resumed"].as_u64().unwrap()).sum();
    assert!(with_parked >= 50, "only {with_parked} of 100 reloads came with packets parked");
    assert!(resumed > 0, "no packet was ever resumed");

    // A callout panics (pkt4_receive, for this client); then a reload.
    assert!(Client4::new(&pair, "02:c6:00:00:00:01").dora().is_some(), "the panic stopped the exchange");
    assert_eq!(kea.count_in_log("probe: callout pkt4_receive panicked"), 2, "{}", kea.log());
    let mut p = params(101);
    p["out"] = json!(out);
    assert_eq!(kea.reload_with_hook_parameters(0, p)["result"], 0);
    assert!(Client4::new(&pair, "02:c6:00:00:00:02").dora().is_some(), "Kea stopped serving");

    let names = thread_names(pid);
    assert_eq!(names.iter().filter(|n| *n == "probe-park").count(), 1, "{names:?}");
    // Each generation leaked a Worker; the SDK joined each at its unload.
    assert_eq!(names.iter().filter(|n| *n == "probe-leaked").count(), 1, "{names:?}");
    assert_eq!(kea.count_in_log("thread probe-leaked was still running at unload (its Worker was leaked)"), 101);
    assert_eq!(names.len(), threads_before, "threads before {threads_before}, after: {names:?}");
    assert!(kea.is_alive());
}

/// Parking where only Kea 2.6+ allows it: at lease4_offer, a packet resumed
/// with the offered address in use gets no OFFER, and Kea declines the
/// address (lease4_server_decline fires); resumed plainly, the OFFER
/// comes; at subnet4_select, a parked packet resumed goes on to an ACK.
/// Kea 2.2 cannot park at either point, and the SDK does not offer it
/// there: the probe's parking parameters change nothing.
#[test]
fn parking_at_lease4_offer_and_subnet4_select() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mut params = json!({ "commands": true, "park": { "point": "lease4_offer", "address-in-use": true } });
    let cfg = KeaConfig::new(&pair);
    let mut subnets = cfg.to_json()["Dhcp4"]["subnet4"].clone();
    // A second subnet Kea would never pick for this link.
    subnets.as_array_mut().unwrap().push(json!({
        "id": 2, "subnet": "198.19.250.0/24", "pools": [{ "pool": "198.19.250.10 - 198.19.250.20" }]
    }));
    let (mut kea, out) = with_probe(&pair, cfg.merge(json!({ "subnet4": subnets })), params.clone());
    params["out"] = json!(out);
    let parked = |kea: &Kea| kea.command("probe-parked", Some(json!("count")))["arguments"]["parked"].as_u64().unwrap();
    if kea_hooks_tests::kea_hooks_version() < 20600 {
        // No lease4_offer here; and subnet4_select cannot park.
        params["park"]["point"] = json!("subnet4_select");
        assert_eq!(kea.reload_with_hook_parameters(0, params)["result"], 0);
        assert!(Client4::new(&pair, "02:c8:00:00:00:01").dora().is_some());
        assert_eq!(parked(&kea), 0, "Kea 2.2 parked at subnet4_select");
        return;
    }

    // The address is "in use": no OFFER; Kea declines it.
    let quiet = Client4::new(&pair, "02:c8:00:00:00:01").with_timeout(Duration::from_secs(1));
    assert!(quiet.discover(None).is_none(), "an OFFER came for an address in use");
    let deadline = Instant::now() + Duration::from_secs(10);
    let declined = loop {
        let recs = records(&out);
        if let Some(r) = at(&recs, "lease4_server_decline").first() {
            break r["lease"]["address"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "lease4_server_decline never fired:\n{}", kea.log());
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(parked(&kea), 1);
    let row = kea.lease_rows().into_iter().find(|r| r.address.to_string() == declined);
    assert_eq!(row.map(|r| r.state), Some(1), "the address is not declined in the lease file");

    // Resumed plainly: the OFFER (of another address) and the ACK come.
    params["park"] = json!({ "point": "lease4_offer" });
    assert_eq!(kea.reload_with_hook_parameters(0, params.clone())["result"], 0);
    let ack = Client4::new(&pair, "02:c8:00:00:00:02").dora().expect("ACK after a parked OFFER");
    assert_ne!(ack.yiaddr.to_string(), declined);
    assert_eq!(parked(&kea), 1);

    // subnet4_select: both queries parked and resumed (in the subnet Kea
    // had selected).
    params["park"] = json!({ "point": "subnet4_select" });
    assert_eq!(kea.reload_with_hook_parameters(0, params.clone())["result"], 0);
    let ack = Client4::new(&pair, "02:c8:00:00:00:03").dora().expect("no ACK after parking at subnet4_select");
    assert_eq!(ack.yiaddr.octets()[..3], pair.server_addr().octets()[..3], "{ack:?}");
    assert_eq!(parked(&kea), 2);
    // Resumed in another subnet, as a hook that waited for a decision does.
    params["park"] = json!({ "point": "subnet4_select", "resume-subnet": 2 });
    assert_eq!(kea.reload_with_hook_parameters(0, params)["result"], 0);
    let ack = Client4::new(&pair, "02:c8:00:00:00:04").dora().expect("no ACK after resume_in_subnet");
    assert!(ack.yiaddr.to_string().starts_with("198.19.250."), "{ack:?}");
    let row = kea.lease_rows().into_iter().find(|r| r.address == ack.yiaddr).expect("the lease");
    assert_eq!(row.subnet_id, 2);
}

/// CPU time (user + system) thread `tid` of process `pid` has used so far.
fn thread_cpu(pid: u32, tid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).expect("the thread's stat");
    // Fields after the command name (which may hold spaces), from the
    // state: utime and stime are the 12th and 13th, in clock ticks.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf takes no pointers.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

/// A token used while the callout that parked its packet still runs (the
/// hook's thread resumes it at once; the callout, on a packet thread with
/// multi-threading on, goes on for 1.5 s): Kea's main thread neither spins
/// nor stalls meanwhile (it answers a command at once, and uses less than
/// 0.3 s of CPU over the whole exchange, where waiting for the callout in
/// a loop burns all of it), and the packet is answered once the callout
/// returned.
#[test]
fn a_resume_before_the_parking_callout_returned_leaves_the_main_thread_idle() {
    if !require_root_and_kea() {
        return;
    }
    const CALLOUT: Duration = Duration::from_millis(1500);
    let pair = NetPair::new();
    let park = json!({ "point": "leases4_committed", "callout-ms": CALLOUT.as_millis() as u64 });
    let (mut kea, _out) = with_probe(
        &pair,
        KeaConfig::new(&pair).multi_threading(true),
        json!({ "commands": true, "quiet": true, "park": park }),
    );
    let pid = kea.pid();
    let client = Client4::new(&pair, "02:c9:00:00:00:01").with_timeout(Duration::from_secs(10));
    let offer = client.discover(None).expect("an OFFER");
    let cpu_before = thread_cpu(pid, pid);
    let sent = Instant::now();
    let (ack, answered, resumed_seen) = std::thread::scope(|s| {
        let request = s.spawn(|| (client.request(&offer, None), sent.elapsed()));
        // The token is used (the probe counts it before resuming): the
        // main thread still answers commands.
        let counts = wait_for_parked(&kea, |c| c["resumed"] == 1);
        let resumed_seen = sent.elapsed();
        assert_eq!(counts["parked"], 1, "{counts}");
        let (ack, answered) = request.join().unwrap();
        (ack, answered, resumed_seen)
    });
    let cpu = thread_cpu(pid, pid) - cpu_before;
    eprintln!("main thread: {cpu:?} of CPU over {answered:?}; command answered after {resumed_seen:?}");
    let ack = ack.unwrap_or_else(|| panic!("the parked REQUEST got no ACK:\n{}", kea.log()));
    assert_eq!(ack.yiaddr, offer.yiaddr);
    assert!(answered >= CALLOUT, "the ACK came {answered:?} after the REQUEST, before the callout returned");
    assert!(
        resumed_seen < CALLOUT - Duration::from_millis(500),
        "a command sent while the callout ran was answered only after {resumed_seen:?} (the callout runs {CALLOUT:?})"
    );
    assert!(cpu < Duration::from_millis(300), "Kea's main thread used {cpu:?} of CPU in the {answered:?} of the exchange");
    assert!(kea.is_alive());
}
