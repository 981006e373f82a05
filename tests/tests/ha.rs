//! lease-stats (hooks/lease-stats) in a Kea High Availability pair: two
//! real kea-dhcp4 (and kea-dhcp6) servers, each in its own network
//! namespace, with ISC's lease_cmds, HA (over its dedicated listener),
//! stat_cmds and lease-stats, real traffic from perfdhcp reaching both.
//! On each server, at every step, `lease-stats-get` must answer what
//! `stat-lease4-get` (`stat-lease6-get`) answers on that same server:
//! traffic served by either server (the partner's copy arrives as
//! `lease4-update`/`lease6-bulk-apply` on the HA listener), lease_cmds
//! changes on either, a failover (the primary killed, the standby in
//! partner-down serving, the primary back: it syncs its leases from the
//! standby, which no hook point shows), and an operator's `ha-sync`.
//! lease-stats' periodic recount is off (`recount-interval` 0), so it
//! cannot help. Run as root; see the README.

mod common;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kea_hooks_tests::{
    ha_hook, isc_hook, perfdhcp, perfdhcp6, require_root_and_kea, Client4, Family, HaMode, HaNet, HaPair, Kea, HEARTBEAT_DELAY_MS,
};
use serde_json::{json, Value};

use common::{kea_metrics, lease_stats};
use common::run_script;
use common::stat_cmds::{self, ok};

/// How long a pair may take to reach its normal state (seen: ~3 s).
const START: Duration = Duration::from_secs(20);
/// How long after a sync lease-stats may lag stat_cmds: the partner's next
/// heartbeat (whose answer shows this server's new state, the signal
/// lease-stats recounts on) plus a background recount of a few leases.
/// [`HEARTBEAT_DELAY_MS`] + 1 s, doubled for a busy 2-CPU machine.
const SYNC_BOUND: Duration = Duration::from_millis(2 * (HEARTBEAT_DELAY_MS + 1000));

/// stat_cmds, then lease-stats without periodic recounts, after the HA
/// hooks.
fn hooks() -> Vec<(PathBuf, Option<Value>)> {
    vec![(isc_hook("libdhcp_stat_cmds.so"), None), (lease_stats(), Some(json!({ "recount-interval": 0 })))]
}

/// The query forms compared: everything, the pair's subnet, a range
/// holding it, one without subnets, and an unknown subnet.
fn forms() -> Vec<Option<Value>> {
    let range = |a: i64, b: i64| json!({ "subnet-range": { "first-subnet-id": a, "last-subnet-id": b } });
    vec![None, Some(json!({ "subnet-id": 1 })), Some(range(1, 5)), Some(range(5, 9)), Some(json!({ "subnet-id": 2 }))]
}

/// kea-metrics' endpoint, in each server's namespace.
const METRICS: &str = "127.0.0.1:9547";

/// The HA states kea-metrics shows for server `i` (`kea_ha_state` samples
/// of value 1).
fn ha_states(pair: &HaPair, i: usize) -> Vec<String> {
    let page = stat_cmds::page_text(&pair.net().view(i).server_ns(), METRICS);
    let samples = kea_hooks_tests::prom_text::parse_samples(&page).unwrap_or_else(|e| panic!("{e}\n{page}"));
    samples.iter().filter(|((n, _), v)| n == "kea_ha_state" && **v == 1.0).map(|((_, l), _)| l["state"].clone()).collect()
}

/// stat_cmds' command for `family`.
fn isc_get(family: Family) -> &'static str {
    match family {
        Family::V4 => "stat-lease4-get",
        Family::V6 => "stat-lease6-get",
    }
}

/// lease-stats and stat_cmds agree on `kea` now.
fn assert_same(kea: &Kea, family: Family, when: &str) {
    if let Some(d) = stat_cmds::difference(kea, isc_get(family), &forms()) {
        panic!("{when}: {d}");
    }
}

/// Polls until lease-stats and stat_cmds agree on `kea`; panics after
/// `bound`. Returns how long it took.
fn wait_same(kea: &Kea, family: Family, when: &str, bound: Duration) -> Duration {
    stat_cmds::agree_within(kea, isc_get(family), &forms(), bound, when)
}

/// stat_cmds' `assigned-addresses` (v4) or `assigned-nas` (v6) for
/// subnet 1.
fn assigned(kea: &Kea, family: Family) -> u64 {
    let (cmd, col) = match family {
        Family::V4 => ("stat-lease4-get", "assigned-addresses"),
        Family::V6 => ("stat-lease6-get", "assigned-nas"),
    };
    let a = kea.command(cmd, Some(json!({ "subnet-id": 1 })));
    ok(&a);
    let set = &a["arguments"]["result-set"];
    let i = set["columns"].as_array().unwrap().iter().position(|c| c == col).unwrap();
    set["rows"][0][i].as_u64().unwrap()
}

/// Traffic from `clients` new clients (MACs from `base`), sent to both
/// servers; returns how many were answered.
fn traffic(pair: &HaPair, family: Family, base: &str, clients: u32) -> u64 {
    let n = clients.to_string();
    let mac = format!("mac={base}");
    let args = ["-b", &mac, "-r", "20", "-R", &n, "-n", &n, "-W", "1000000"];
    let report = match family {
        Family::V4 => perfdhcp(pair.net().view(0), &args),
        Family::V6 => perfdhcp6(pair.net().view(0), &args),
    };
    assert!(report.received > 0, "no answer:\n{}", report.stdout);
    report.received
}

/// A v4 address of the pair's subnet outside perfdhcp's reach (the pool's
/// top).
fn spare4(pair: &HaPair, last: u8) -> Ipv4Addr {
    let o = pair.net().view(0).server_addr().octets();
    Ipv4Addr::new(o[0], o[1], o[2], last)
}

/// The failover scenario, and lease_cmds changes and `ha-sync` around it,
/// on a hot-standby pair of `family`.
fn failover(family: Family) {
    let t_start = Instant::now();
    let net = HaNet::new();
    // run-script too (exec mode), each server with a recorder of its own:
    // scripts run where a packet was handled, never for what a partner's
    // update, lease_cmds or a sync wrote.
    let mut hooks = hooks();
    hooks.push((run_script::lib(), None));
    // kea-metrics, for each server's HA state on its page.
    hooks.push((kea_metrics(), Some(json!({ "listen": METRICS }))));
    let mut configs = HaPair::configs(&net, family, HaMode::HotStandby, &hooks);
    let scripts = configs.each_mut().map(|cfg| {
        let script = run_script::recorder(cfg.dir(), "on-lease");
        // lease_cmds, HA, stat_cmds, lease-stats, run-script.
        cfg.set_hook_parameters(4, json!({ "name": script, "sync": false }));
        script
    });
    let mut pair = HaPair::start(net, configs, HaMode::HotStandby);
    let up = pair.wait_for_normal(START);
    eprintln!("pair in hot-standby after {up:?}");
    for i in 0..2 {
        assert_eq!(ha_states(&pair, i), ["hot-standby"], "server{}'s page", i + 1);
    }
    // The scripts each server ran (waits for its scripts in flight).
    let ran = |pair: &HaPair, i: usize| {
        run_script::wait_idle(pair.kea(i), Duration::from_secs(10));
        run_script::records(&scripts[i]).len()
    };

    // Traffic: the primary serves, the standby gets each lease as a
    // lease4-update (lease6-bulk-apply) before the client's answer goes
    // out, so both agree at once.
    let served = traffic(&pair, family, "02:4a:01:00:00:00", 20);
    for i in 0..2 {
        assert_same(pair.kea(i), family, &format!("server{} after traffic to the primary", i + 1));
        assert!(assigned(pair.kea(i), family) >= served.min(20) - 2, "server{}: {} assigned, {served} answered", i + 1, assigned(pair.kea(i), family));
    }
    let commit = if family == Family::V4 { "leases4_committed" } else { "leases6_committed" };
    let on_primary = ran(&pair, 0);
    let committed = run_script::count(&run_script::records(&scripts[0]), commit);
    assert!(committed as u64 >= served.min(20) - 2, "the primary ran {committed} {commit} scripts for {served} answers");
    assert_eq!(ran(&pair, 1), 0, "the standby ran scripts for its partner's updates: {:?}", run_script::records(&scripts[1]));

    // lease_cmds on either server (not replicated: each its own).
    if family == Family::V4 {
        let add = |i: usize, last: u8| {
            let a = pair.kea(i).command("lease4-add", Some(json!({ "ip-address": spare4(&pair, last).to_string(), "hw-address": format!("02:4a:0f:00:00:{last:02x}") })));
            ok(&a);
        };
        add(0, 250);
        add(1, 249);
        let del = pair.kea(1).command("lease4-del", Some(json!({ "ip-address": spare4(&pair, 250).to_string() })));
        assert_eq!(del["result"], 3, "the primary's lease4-add is not the standby's: {del}");
        ok(&pair.kea(0).command("lease4-del", Some(json!({ "ip-address": spare4(&pair, 250).to_string() }))));
    } else {
        let o = pair.net().view(0).server_addr6().segments();
        let addr = |last: u16| std::net::Ipv6Addr::new(o[0], o[1], o[2], o[3], 0, 0, 0, last).to_string();
        for (i, last) in [(0, 0x1ff), (1, 0x1fe)] {
            ok(&pair.kea(i).command("lease6-add", Some(json!({ "ip-address": addr(last), "duid": format!("00:03:00:01:02:4a:0f:00:00:{:02x}", last & 0xff), "iaid": 7 }))));
        }
        ok(&pair.kea(0).command("lease6-del", Some(json!({ "ip-address": addr(0x1ff) }))));
    }
    for i in 0..2 {
        assert_same(pair.kea(i), family, &format!("server{} after lease_cmds changes", i + 1));
    }
    assert_eq!((ran(&pair, 0), ran(&pair, 1)), (on_primary, 0), "lease_cmds ran scripts");

    // The primary crashes; the standby takes over and serves new clients.
    let before = assigned(pair.kea(0), family);
    pair.kill(0);
    let down = pair.wait_for_states([None, Some("partner-down")], START);
    eprintln!("standby in partner-down {down:?} after the primary's crash");
    assert_eq!(ha_states(&pair, 1), ["partner-down"], "the standby's page");
    traffic(&pair, family, "02:4a:02:00:00:00", 10);
    assert_same(pair.kea(1), family, "the standby after serving in partner-down");
    let standby = assigned(pair.kea(1), family);
    let on_standby = ran(&pair, 1);
    assert!(run_script::count(&run_script::records(&scripts[1]), commit) >= 8, "the standby in partner-down ran its scripts: {on_standby}");

    // The primary comes back on its old lease file, syncs the standby's
    // leases (no hook point shows what it writes), then both go back to
    // hot-standby. lease-stats on the primary must agree within one
    // heartbeat and a recount.
    let t_back = Instant::now();
    pair.restart(0);
    let normal = pair.wait_for_normal(START);
    let lag = wait_same(pair.kea(0), family, "the primary after syncing from the standby", SYNC_BOUND);
    let synced = assigned(pair.kea(0), family);
    assert!(synced > before && synced >= standby, "the primary synced {synced} (had {before}, the standby {standby})");
    eprintln!("primary restarted: hot-standby after {normal:?}, lease-stats agreed {lag:?} later ({:?} after the restart)", t_back.elapsed());
    assert_same(pair.kea(1), family, "the standby after the primary's sync");
    // (The primary's recorder file survived its crash: the same count.)
    assert_eq!((ran(&pair, 0), ran(&pair, 1)), (on_primary, on_standby), "the sync ran scripts");

    // An operator's ha-sync: a lease only the standby has reaches the
    // primary.
    let extra = if family == Family::V4 {
        json!({ "ip-address": spare4(&pair, 248).to_string(), "hw-address": "02:4a:0f:00:00:f8" })
    } else {
        let o = pair.net().view(0).server_addr6().segments();
        json!({ "ip-address": std::net::Ipv6Addr::new(o[0], o[1], o[2], o[3], 0, 0, 0, 0x1fd).to_string(), "duid": "00:03:00:01:02:4a:0f:00:00:fd", "iaid": 7 })
    };
    let add = if family == Family::V4 { "lease4-add" } else { "lease6-add" };
    ok(&pair.kea(1).command(add, Some(extra)));
    let before = assigned(pair.kea(0), family);
    ok(&pair.ha_sync(0));
    let lag = wait_same(pair.kea(0), family, "the primary after an operator's ha-sync", SYNC_BOUND);
    assert_eq!(assigned(pair.kea(0), family), before + 1, "ha-sync brought the standby's lease");
    eprintln!("operator ha-sync: lease-stats agreed {lag:?} after the command's answer");
    assert_same(pair.kea(1), family, "the standby after the primary's ha-sync");
    assert_eq!((ran(&pair, 0), ran(&pair, 1)), (on_primary, on_standby), "ha-sync or lease_cmds ran scripts");
    drop(pair);
    eprintln!("{family:?} failover scenario: {:?}", t_start.elapsed());
}

#[test]
fn lease_stats_agrees_with_stat_cmds_through_a_failover_and_syncs_v4() {
    if !require_root_and_kea() || !ha_hook() {
        return;
    }
    failover(Family::V4);
}

#[test]
fn lease_stats_agrees_with_stat_cmds_through_a_failover_and_syncs_v6() {
    if !require_root_and_kea() || !ha_hook() {
        return;
    }
    failover(Family::V6);
}

/// Load balancing: both servers serve (each its half of the clients) and
/// each gets the other's leases as updates; lease_cmds changes on either.
/// The probe hook on both records what the SDK makes of HA's commands:
/// `origin()` says `HaPartner` for the partner's `lease4-update` (from
/// Kea 2.4; `Unknown` on 2.2, whose HA hook sends no `origin`) and
/// `Operator` for ours; `own_ha_state()` reads `load-balancing` from the
/// answers to the partner's heartbeats.
#[test]
fn both_load_balancing_servers_agree_with_stat_cmds_and_the_sdk_reads_ha_commands() {
    if !require_root_and_kea() || !ha_hook() {
        return;
    }
    let t0 = Instant::now();
    let family = Family::V4;
    let net = HaNet::new();
    let mut hooks = hooks();
    hooks.push((common::probe(), None));
    let mut configs = HaPair::configs(&net, family, HaMode::LoadBalancing, &hooks);
    let outs = [0, 1].map(|i| configs[i].dir().join("probe.jsonl"));
    for (cfg, out) in configs.iter_mut().zip(&outs) {
        // lease_cmds, HA, stat_cmds, lease-stats, the probe.
        cfg.set_hook_parameters(4, json!({ "out": out }));
    }
    let pair = HaPair::start(net, configs, HaMode::LoadBalancing);
    let up = pair.wait_for_normal(START);
    eprintln!("pair in load-balancing after {up:?}");
    traffic(&pair, family, "02:4b:01:00:00:00", 30);
    for i in 0..2 {
        let k = pair.kea(i);
        assert!(k.count_in_log("DHCP4_LEASE_ALLOC") > 0, "server{} served nobody: not load balancing", i + 1);
        assert_same(k, family, &format!("server{} after traffic to both", i + 1));
    }
    assert_eq!(assigned(pair.kea(0), family), assigned(pair.kea(1), family), "both servers hold every lease");
    ok(&pair.kea(1).command("lease4-add", Some(json!({ "ip-address": spare4(&pair, 250).to_string(), "hw-address": "02:4b:0f:00:00:fa" }))));
    let rows = pair.kea(0).lease_rows();
    ok(&pair.kea(0).command("lease4-del", Some(json!({ "ip-address": rows[0].address.to_string() }))));
    let mut update = json!({ "ip-address": rows[1].address.to_string(), "hw-address": rows[1].hwaddr, "hostname": "renamed.example" });
    ok(&pair.kea(1).command("lease4-update", Some(update.clone())));
    for i in 0..2 {
        assert_same(pair.kea(i), family, &format!("server{} after lease_cmds changes", i + 1));
    }

    // What the SDK read on each server.
    let partner = if kea_hooks_tests::kea_hooks_version() >= 20400 { "HaPartner" } else { "Unknown" };
    for (i, out) in outs.iter().enumerate() {
        let recs = common::records(out);
        let cmds = common::at(&recs, "command_processed");
        let updates: Vec<_> = cmds.iter().filter(|r| r["name"] == "lease4-update").collect();
        let from_partner: Vec<_> = updates.iter().filter(|r| r["arguments"]["force-create"] == true).collect();
        assert!(!from_partner.is_empty(), "server{}: no lease4-update from the partner", i + 1);
        for r in &from_partner {
            assert_eq!(r["origin"], partner, "server{}: {r}", i + 1);
        }
        let beats: Vec<_> = cmds.iter().filter(|r| r["name"] == "ha-heartbeat").collect();
        let last = beats.last().map(|r| r["own-ha-state"].clone());
        assert_eq!(last, Some(json!("load-balancing")), "server{}: {} heartbeats, the last answered {:?}", i + 1, beats.len(), beats.last().map(|r| &r["response"]));
        let names: Vec<_> = cmds.iter().map(|r| format!("{} ({})", r["name"], r["origin"])).collect();
        if i == 1 {
            // HA never sends lease4-add: ours, on every release.
            assert!(cmds.iter().any(|r| r["name"] == "lease4-add" && r["origin"] == "Operator"), "server2: {names:?}");
        }
    }
    let recs = common::records(&outs[1]);
    let mine = common::at(&recs, "command_processed").into_iter().find(|r| r["name"] == "lease4-update" && r["arguments"]["hostname"] == "renamed.example").cloned();
    let expected = if kea_hooks_tests::kea_hooks_version() >= 20400 { "Operator" } else { "Unknown" };
    update["origin"] = json!(expected);
    assert_eq!(mine.map(|r| r["origin"].clone()), Some(json!(expected)), "our lease4-update {update}");
    drop(pair);
    eprintln!("load-balancing scenario: {:?}", t0.elapsed());
}

/// run-script in `sync` mode on a hot-standby pair: the primary's reply
/// waits for both parkings at `leases4_committed`, HA's (the standby has
/// acknowledged the lease update) and ours (the script has exited 0), so
/// by the time the client has its ACK both happened; a client the script
/// denies gets no ACK (on 2.6+ no OFFER: run-script parks at
/// `lease4_offer` too) whatever HA did; the standby, which only receives
/// updates, runs no script.
#[test]
fn run_script_sync_and_ha_both_hold_the_reply() {
    if !require_root_and_kea() || !ha_hook() {
        return;
    }
    let t0 = Instant::now();
    let net = HaNet::new();
    // run-script before HA (see HaPair::configs_around): listed after it,
    // it may find the packet already released by HA's lease update, as
    // the run-script README says.
    let mut configs = HaPair::configs_around(&net, Family::V4, HaMode::HotStandby, &[(run_script::lib(), None)], &[]);
    let scripts = configs.each_mut().map(|cfg| {
        let script = run_script::recorder(cfg.dir(), "gate");
        std::fs::write(format!("{}.deny", script.display()), "02:4c:00:00:00:02\n").unwrap();
        // lease_cmds, run-script, HA.
        cfg.set_hook_parameters(1, json!({ "name": script, "sync": true, "timeout-ms": 5000 }));
        script
    });
    let pair = HaPair::start(net, configs, HaMode::HotStandby);
    pair.wait_for_normal(START);
    let view = pair.net().view(0);
    let ack = Client4::new(view, "02:4c:00:00:00:01").dora().expect("an allowed client gets its ACK");
    let address = ack.yiaddr.to_string();
    // Both parkings were released before the ACK went out.
    let on_standby = pair.kea(1).command("lease4-get", Some(json!({ "ip-address": address })));
    ok(&on_standby);
    let ran = run_script::records(&scripts[0]);
    assert!(
        ran.iter().any(|r| r["argv"][1] == "leases4_committed" && r["env"]["LEASES4_AT0_ADDRESS"] == address),
        "the ACK went out before the primary's script ran: {ran:?}"
    );
    let denied = Client4::new(view, "02:4c:00:00:00:02").with_timeout(Duration::from_millis(1500));
    if kea_hooks_tests::kea_hooks_version() >= 20600 {
        assert!(denied.discover(None).is_none(), "a denied client got an OFFER");
    } else {
        let offer = denied.discover(None).expect("2.2 offers (no lease4_offer parking)");
        assert!(denied.request(&offer, None).is_none(), "a denied client got an ACK");
    }
    let s = run_script::wait_idle(pair.kea(0), Duration::from_secs(10));
    assert!(s["failed"].as_u64().unwrap() >= 1, "{s}");
    assert!(run_script::records(&scripts[1]).is_empty(), "the standby ran scripts for its partner's updates");
    drop(pair);
    eprintln!("run-script sync in a pair: {:?}", t0.elapsed());
}
