//! The lease-stats hook (hooks/lease-stats) in kea-dhcp6, against ISC's
//! stat_cmds, in one real kea-dhcp6 (multi-threaded) with lease_cmds:
//! subnets with address pools (one a whole /64: 2^64 addresses) and
//! prefix-delegation pools, a lease file preloaded with addresses,
//! prefixes and temporary addresses in every state, real traffic (the
//! harness's client asking for an address and a prefix: grants, renewals,
//! rebinds, releases, declines; perfdhcp -6 for both), lease_cmds writes
//! (lease6-add, -update, -del, -wipe, -bulk-apply), the reclamation of
//! expired and declined leases; then every form of `stat-lease6-get` and
//! `lease-stats-get` compared answer by answer, as the text Kea sends (the
//! totals are big integers serde_json cannot hold exactly), the pool rows
//! with the lease file, the Prometheus page parsed by prometheus_client's
//! parser and compared with the command; and all again after a restart on
//! the persisted lease file and after a `config-set` that changes pools.
//! Run as root; see the README.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use kea_hooks_tests::{
    hooks_together, isc_hook, perfdhcp6, require_root_and_kea, write_memfile6, Client6, Ias6, Kea, KeaConfig, Lease6Row,
    NetPair,
};
use serde_json::{json, Value};

use common::lease_stats;
use common::stat_cmds::{self, now, ok, query_forms, scrape};

/// The metrics endpoint, inside the server's namespace.
const LISTEN: &str = "127.0.0.1:9466";

fn version() -> u32 {
    kea_hooks_tests::kea_hooks_version()
}

/// stat_cmds' declined column: `declined-nas` on 2.2, then
/// `declined-addresses`.
fn declined_column() -> &'static str {
    if version() >= 20400 { "declined-addresses" } else { "declined-nas" }
}

/// From 3.2 `assigned-nas` counts the declined addresses too.
fn assigned_only(assigned: &Value, declined: &Value) -> i64 {
    let (a, d) = (assigned.as_i64().unwrap(), declined.as_i64().unwrap());
    if version() >= 30200 { a - d } else { a }
}

/// `net` (a /64 prefix) with last groups `hi:lo`.
fn at(net: Ipv6Addr, hi: u16, lo: u16) -> Ipv6Addr {
    let s = net.segments();
    Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, hi, lo)
}

struct Layout {
    /// The pair's subnet (id 1, with a PD pool of /64s out of
    /// 2001:2:0:8000::/56).
    base: Value,
    /// Subnet 2: a /64 pool (2^64 addresses) and a PD pool of /64s out of
    /// 2001:2:0:8100::/56.
    n2: Ipv6Addr,
    n3: Ipv6Addr,
    n4: Ipv6Addr,
    n7: Ipv6Addr,
    n9: Ipv6Addr,
}

const PD1: &str = "2001:2:0:8000::";
const PD2: &str = "2001:2:0:8100::";

impl Layout {
    fn new(pair: &NetPair, cfg: &KeaConfig) -> Layout {
        Layout {
            base: cfg.to_json()["Dhcp6"]["subnet6"][0].clone(),
            n2: pair.relay_net6(2),
            n3: pair.relay_net6(3),
            n4: pair.relay_net6(4),
            n7: pair.relay_net6(7),
            n9: pair.relay_net6(9),
        }
    }

    fn subnets(&self) -> Value {
        let pool = |net: Ipv6Addr, a: u16, b: u16| json!({ "pool": format!("{} - {}", at(net, 0, a), at(net, 0, b)) });
        json!([
            self.base,
            { "id": 2, "subnet": format!("{}/64", self.n2), "pools": [{ "pool": format!("{}/64", self.n2) }],
              "pd-pools": [{ "prefix": PD2, "prefix-len": 56, "delegated-len": 64 }] },
            { "id": 3, "subnet": format!("{}/64", self.n3), "pools": [pool(self.n3, 0x10, 0xff), pool(self.n3, 0x100, 0x1ff)] },
            // No lease at all: a totals-only row.
            { "id": 4, "subnet": format!("{}/64", self.n4), "pools": [pool(self.n4, 0x10, 0x20)] },
            // Only reclaimed leases.
            { "id": 7, "subnet": format!("{}/64", self.n7), "pools": [pool(self.n7, 0x10, 0x99)] },
        ])
    }

    /// Subnet 2: addresses spread over its /64 in every state (active,
    /// expired not yet reclaimed, expiring within seconds, declined in
    /// probation and past it, reclaimed), prefixes likewise, temporary
    /// addresses (counted by neither), one address outside the pool;
    /// subnet 3 mixed, 7 reclaimed only, orphans of an unconfigured 9.
    fn preload(&self) -> Vec<Lease6Row> {
        let t = now();
        let row = |address: Ipv6Addr, subnet_id: u32, lease_type: u8, prefix_len: u8, state: u32, expire: u64, n: u32| Lease6Row {
            address,
            duid: format!("00:03:00:01:02:6c:{:02x}:{:02x}:{:02x}:{:02x}", subnet_id, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff),
            valid_lifetime: 3600,
            expire,
            preferred_lifetime: 3000,
            subnet_id,
            lease_type,
            iaid: n,
            prefix_len,
            state,
        };
        let when = |n: u32| match n % 20 {
            0..=11 => (0, t + 3600),
            12 | 13 => (0, t - 100), // expired, reclaimed at the first cycle
            14 => (0, t + 6),        // expires during the test
            15 | 16 => (1, t + 3600), // declined, in probation
            17 => (1, t - 100),      // declined, probation over: recovered
            _ => (2, t - 100),       // reclaimed
        };
        let mut rows = Vec::new();
        for n in 0..2000u32 {
            let (state, expire) = when(n);
            rows.push(row(at(self.n2, (n * 7919 % 65536) as u16, n as u16), 2, 0, 128, state, expire, n));
        }
        let pd2: Ipv6Addr = PD2.parse().unwrap();
        for n in 0..200u32 {
            let (state, expire) = when(n);
            let state = if state == 1 { 0 } else { state }; // prefixes are not declined
            let s = pd2.segments();
            let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3] | (n as u16 % 256), 0, 0, 0, 0);
            rows.push(row(prefix, 2, 2, 64, state, expire, 10_000 + n));
        }
        for n in 0..30u32 {
            rows.push(row(at(self.n2, 0xfeed, n as u16), 2, 1, 128, 0, t + 3600, 20_000 + n)); // IA_TA
        }
        for n in 0..150u32 {
            let state = [0, 0, 0, 1, 2][n as usize % 5];
            rows.push(row(at(self.n3, 0, 0x10 + n as u16), 3, 0, 128, state, t + 3600, 30_000 + n));
        }
        rows.push(row(at(self.n3, 0, 0x5), 3, 0, 128, 0, t + 3600, 31_000)); // outside the pools
        for n in 0..10u32 {
            rows.push(row(at(self.n7, 0, 0x10 + n as u16), 7, 0, 128, 2, t - 100, 40_000 + n));
            rows.push(row(at(self.n9, 0, 0x10 + n as u16), 9, 0, 128, 0, t + 3600, 50_000 + n)); // orphans
        }
        rows
    }
}

/// Waits until Kea has reclaimed every expired lease in its file (no lease
/// in state default or declined past its expiry).
fn wait_for_reclamation(kea: &Kea) {
    stat_cmds::wait_for_reclamation(kea, |t| kea.lease6_rows().iter().filter(|r| r.state <= 1 && r.valid_lifetime > 0 && r.expire < t).count());
}

/// Every form answered by both, compared as Kea's texts; returns
/// lease-stats' answers (parsed).
fn compare_with_stat_cmds(kea: &Kea, when: &str) -> Vec<Value> {
    // The deliberate difference of DHCPv4 holds here too: stat_cmds
    // fails a range of one subnet (its lease manager refuses it).
    let one = json!({ "subnet-range": { "first-subnet-id": 2, "last-subnet-id": 2 } });
    assert_eq!(kea.command("stat-lease6-get", Some(one.clone()))["result"], 1, "{when}");
    let mine = kea.command("lease-stats-get", Some(one));
    let single = kea.command("lease-stats-get", Some(json!({ "subnet-id": 2 })));
    assert_eq!(mine["arguments"]["result-set"]["rows"], single["arguments"]["result-set"]["rows"], "{when}");
    let mut ours = Vec::new();
    for args in query_forms() {
        let isc = stat_cmds::untimed_text(&kea.command_text("stat-lease6-get", args.clone()), "stat-lease6-get");
        let mine = stat_cmds::untimed_text(&kea.command_text("lease-stats-get", args.clone()), "lease-stats-get");
        assert_eq!(mine, isc, "{when}: arguments {args:?}");
        ours.push(serde_json::from_str::<Value>(&mine).unwrap());
    }
    let all = &ours[0]["arguments"]["result-set"];
    assert_eq!(
        all["columns"],
        json!(["subnet-id", "total-nas", "cumulative-assigned-nas", "assigned-nas", declined_column(), "total-pds",
               "cumulative-assigned-pds", "assigned-pds"]),
        "{when}"
    );
    let rows = all["rows"].as_array().unwrap();
    assert!(rows.len() >= 4, "{when}: {all}");
    // Subnet 2's row holds leases of both kinds, and its total is 2^64
    // (Kea 2.2 keeps it as a signed 64-bit integer: -1).
    let two = &rows[1];
    assert!(two[3].as_i64().unwrap() > 1000 && two[4].as_i64().unwrap() > 100 && two[7].as_i64().unwrap() > 50, "{when}: {two}");
    let text = kea.command_text("lease-stats-get", Some(json!({ "subnet-id": 2 })));
    let total = if version() >= 20400 { "18446744073709551616" } else { "-1" };
    assert!(text.contains(&format!("[ 2, {total}, ")) || text.contains(&format!("[2, {total}, ")), "{when}: {text}");
    ours
}

/// (assigned, declined) per pool text, from the lease file; NA pools of
/// `first-last`, PD pools of `prefix/len delegated /len`.
fn pools_from_file(kea: &Kea, subnets: &Value) -> BTreeMap<String, (i64, i64)> {
    let mut pools: Vec<(u32, u8, u128, u128, String)> = Vec::new();
    for s in subnets.as_array().unwrap() {
        let id = s["id"].as_u64().unwrap() as u32;
        for p in s["pools"].as_array().unwrap() {
            let text = p["pool"].as_str().unwrap();
            let (first, last): (Ipv6Addr, Ipv6Addr) = match text.split_once('-') {
                Some((a, b)) => (a.trim().parse().unwrap(), b.trim().parse().unwrap()),
                None => {
                    let (a, len) = text.split_once('/').unwrap();
                    let a: Ipv6Addr = a.parse().unwrap();
                    let host = u128::MAX >> len.parse::<u32>().unwrap();
                    (a, Ipv6Addr::from(u128::from(a) | host))
                }
            };
            pools.push((id, 0, first.into(), last.into(), format!("{first}-{last}")));
        }
        for p in s["pd-pools"].as_array().cloned().unwrap_or_default() {
            let prefix: Ipv6Addr = p["prefix"].as_str().unwrap().parse().unwrap();
            let (len, dlen) = (p["prefix-len"].as_u64().unwrap(), p["delegated-len"].as_u64().unwrap());
            let host = u128::MAX >> len;
            pools.push((id, 2, prefix.into(), u128::from(prefix) | host, format!("{prefix}/{len} delegated /{dlen}")));
        }
    }
    let mut counts: BTreeMap<String, (i64, i64)> = pools.iter().map(|p| (p.4.clone(), (0, 0))).collect();
    for r in kea.lease6_rows().into_iter().filter(|r| r.valid_lifetime > 0) {
        let a = u128::from(r.address);
        let Some(p) = pools.iter().find(|p| p.0 == r.subnet_id && p.1 == r.lease_type && (p.2..=p.3).contains(&a)) else { continue };
        let e = counts.get_mut(&p.4).unwrap();
        match r.state {
            0 => e.0 += 1,
            1 => e.1 += 1,
            _ => {}
        }
    }
    counts
}

/// lease-stats' pool rows: (assigned, declined) by pool text.
fn pool_rows(kea: &Kea) -> (BTreeMap<String, (i64, i64)>, Value) {
    let answer = kea.command("lease-stats-get", Some(json!({ "pools": true, "utilization": true, "extended": true })));
    assert_eq!(answer["result"], 0, "{answer}");
    let set = &answer["arguments"]["result-set"];
    assert_eq!(
        set["columns"],
        json!(["subnet-id", "pool", "total-nas", "cumulative-assigned-nas", "assigned-nas", declined_column(), "total-pds",
               "cumulative-assigned-pds", "assigned-pds", "free-nas", "released-nas", "reclaimed-nas", "reclaimed-declined-nas",
               "free-pds", "released-pds", "reclaimed-pds", "utilization-nas", "utilization-pds"])
    );
    let mut pools = BTreeMap::new();
    for row in set["rows"].as_array().unwrap() {
        let text = row[1].as_str().unwrap().to_owned();
        let pd = text.contains("delegated");
        let v = if pd { (row[8].as_i64().unwrap(), 0) } else { (assigned_only(&row[4], &row[5]), row[5].as_i64().unwrap()) };
        if !pd {
            // free = size - taken, where the size fits (not the /64,
            // which Kea 2.2's JSON cannot hold: clamped to i64::MAX).
            if let (Some(size), Some(free)) = (row[2].as_i64().filter(|s| *s < i64::MAX), row[9].as_i64()) {
                assert_eq!(free, size - v.0 - v.1, "{row}");
            }
        }
        pools.insert(text, v);
    }
    (pools, answer)
}

/// The page agrees with the command, subnet by subnet and pool by pool.
fn check_metrics(pair: &NetPair, kea: &Kea, subnets: &Value) {
    let metrics = scrape(pair, LISTEN).0;
    let prefixes: HashMap<u64, String> =
        subnets.as_array().unwrap().iter().map(|s| (s["id"].as_u64().unwrap(), s["subnet"].as_str().unwrap().to_owned())).collect();
    let get = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let key = (name.to_owned(), labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        *metrics.get(&key).unwrap_or_else(|| panic!("no sample {key:?}"))
    };
    let answer = kea.command("lease-stats-get", Some(json!({ "extended": true })));
    for row in answer["arguments"]["result-set"]["rows"].as_array().unwrap() {
        let id = row[0].as_u64().unwrap();
        let (sid, prefix) = (id.to_string(), prefixes[&id].clone());
        let l = [("subnet_id", sid.as_str()), ("prefix", prefix.as_str())];
        let f = |i: usize| row[i].as_f64().unwrap();
        assert_eq!(get("kea_lease_stats_subnet_cumulative_assigned_nas_total", &l), f(2), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_assigned_nas", &l), assigned_only(&row[3], &row[4]) as f64, "{row}");
        assert_eq!(get("kea_lease_stats_subnet_declined_nas", &l), f(4), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_cumulative_assigned_pds_total", &l), f(6), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_assigned_pds", &l), f(7), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_released_nas_total", &l), f(9), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_reclaimed_nas_total", &l), f(10), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_released_pds_total", &l), f(13), "{row}");
        if id == 2 {
            // The hook's own sizes, exact on every release.
            let pd = subnets.as_array().unwrap().iter().find(|s| s["id"] == 2).unwrap()["pd-pools"][0].clone();
            let bits = pd["delegated-len"].as_u64().unwrap() - pd["prefix-len"].as_u64().unwrap();
            assert_eq!(get("kea_lease_stats_subnet_total_nas", &l), 2f64.powi(64), "{row}");
            assert_eq!(get("kea_lease_stats_subnet_total_pds", &l), 2f64.powi(bits as i32), "{row}");
        }
    }
    let (_, pools) = pool_rows(kea);
    for row in pools["arguments"]["result-set"]["rows"].as_array().unwrap() {
        let id = row[0].as_u64().unwrap();
        let (sid, prefix) = (id.to_string(), prefixes[&id].clone());
        let text = row[1].as_str().unwrap();
        let l = [("subnet_id", sid.as_str()), ("prefix", prefix.as_str()), ("pool", text)];
        if text.contains("delegated") {
            assert_eq!(get("kea_lease_stats_pd_pool_total_pds", &l), row[6].as_f64().unwrap(), "{row}");
            assert_eq!(get("kea_lease_stats_pd_pool_assigned_pds", &l), row[8].as_f64().unwrap(), "{row}");
            assert_eq!(get("kea_lease_stats_pd_pool_free_pds", &l), row[13].as_f64().unwrap(), "{row}");
            assert_eq!(get("kea_lease_stats_pd_pool_utilization_pds", &l), row[17].as_f64().unwrap(), "{row}");
        } else {
            assert_eq!(get("kea_lease_stats_pool_assigned_nas", &l), assigned_only(&row[4], &row[5]) as f64, "{row}");
            assert_eq!(get("kea_lease_stats_pool_declined_nas", &l), row[5].as_f64().unwrap(), "{row}");
            assert_eq!(get("kea_lease_stats_pool_utilization_nas", &l), row[16].as_f64().unwrap(), "{row}");
            if let Some(total) = row[2].as_i64().filter(|t| *t < i64::MAX) {
                assert_eq!(get("kea_lease_stats_pool_total_nas", &l), total as f64, "{row}");
            }
        }
    }
}

fn check_all(pair: &NetPair, kea: &Kea, subnets: &Value, when: &str) {
    compare_with_stat_cmds(kea, when);
    let (pools, _) = pool_rows(kea);
    assert_eq!(pools, pools_from_file(kea, subnets), "{when}: pools (lease-stats, then the lease file)");
    check_metrics(pair, kea, subnets);
}

#[test]
fn lease_stats_answers_as_stat_lease6_get_does() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new6(&pair).multi_threading(true).pd_pool(PD1.parse().unwrap(), 56, 64);
    let layout = Layout::new(&pair, &cfg);
    let subnets = layout.subnets();
    write_memfile6(&cfg.dir().join("leases6.csv"), layout.preload());
    let libs = hooks_together(cfg.dir(), &[isc_hook("libdhcp_lease_cmds.so"), isc_hook("libdhcp_stat_cmds.so"), lease_stats()]);
    let cfg = cfg
        .merge(json!({
            "subnet6": subnets,
            "expired-leases-processing": {
                "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600, "flush-reclaimed-timer-wait-time": 0,
                "max-reclaim-leases": 0, "max-reclaim-time": 0
            }
        }))
        .hook(&libs[0], None)
        .hook(&libs[1], None)
        // No background recount: what is compared comes from the events.
        .hook(&libs[2], Some(json!({ "recount-interval": 0, "listen": LISTEN })));
    let restart_cfg = cfg.clone();
    let mut kea = cfg.start(&pair).unwrap_or_else(|e| panic!("{e}"));
    wait_for_reclamation(&kea);
    check_all(&pair, &kea, &subnets, "after start-up and reclamation");

    // Traffic on subnet 1, an address and a prefix per client: grants,
    // renewals, rebinds, releases; declines of addresses.
    for i in 0..12u8 {
        let ias = if (8..10).contains(&i) { Ias6::Na } else { Ias6::NaPd };
        let client = Client6::new(&pair, &format!("02:5a:00:00:00:{i:02x}")).asking_for(ias);
        let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY for client {i}:\n{}", kea.log()));
        assert!(reply.address().is_some(), "client {i}: {reply:?}");
        match i {
            0..=2 => assert!(client.renew(&reply).is_some(), "renew {i}"),
            3 | 4 => assert!(client.rebind(&reply).is_some(), "rebind {i}"),
            5..=7 => assert!(client.release(&reply).is_some(), "release {i}"),
            8 | 9 => assert!(client.decline(&reply).is_some(), "decline {i}"),
            _ => {}
        }
    }
    let report = perfdhcp6(&pair, &["-e", "address-and-prefix", "-b", "mac=02:5c:00:00:00:00", "-r", "50", "-R", "60", "-n", "60", "-n", "60", "-W", "1000000"]);
    let rr = report.exchange("REQUEST-REPLY").cloned().unwrap_or_else(|| panic!("{}", report.stdout));
    assert!(rr.received >= 50, "{}", report.stdout);

    // lease_cmds, each read back at once.
    let duid = |n: u8| format!("00:03:00:01:02:6d:00:00:00:{n:02x}");
    let a = |net: Ipv6Addr, lo: u16| at(net, 0, lo).to_string();
    ok(&kea.command("lease6-add", Some(json!({ "ip-address": a(layout.n4, 0x15), "subnet-id": 4, "duid": duid(1), "iaid": 1 }))));
    ok(&kea.command("lease6-add", Some(json!({ "ip-address": a(layout.n3, 0x1f0), "subnet-id": 3, "duid": duid(2), "iaid": 2, "state": 1 }))));
    ok(&kea.command(
        "lease6-add",
        Some(json!({ "type": "IA_PD", "ip-address": "2001:2:0:81f0::", "prefix-len": 64, "subnet-id": 2, "duid": duid(3), "iaid": 3 })),
    ));
    compare_with_stat_cmds(&kea, "after lease6-add");
    // Subnet 2's first leases (n = 0, 1, 2: active): an update to
    // declined, deletes of an address and a prefix.
    let preload = layout.preload();
    let first = &preload[0];
    ok(&kea.command(
        "lease6-update",
        Some(json!({ "ip-address": first.address.to_string(), "subnet-id": 2, "duid": first.duid, "iaid": first.iaid, "state": 1 })),
    ));
    ok(&kea.command("lease6-del", Some(json!({ "ip-address": preload[1].address.to_string() }))));
    ok(&kea.command("lease6-del", Some(json!({ "ip-address": "2001:2:0:8100::", "type": "IA_PD" }))));
    // By identifier (n = 3): the hook recounts the subnet.
    let by_id = &preload[3];
    ok(&kea.command(
        "lease6-del",
        Some(json!({ "identifier-type": "duid", "identifier": by_id.duid, "iaid": by_id.iaid, "subnet-id": 2 })),
    ));
    assert!(kea.lease6_rows().iter().any(|r| r.address == by_id.address && r.valid_lifetime == 0), "lease6-del by identifier deleted nothing");
    // A bulk apply: one address deleted, a prefix and an address written.
    let bulk = kea.command(
        "lease6-bulk-apply",
        Some(json!({
            "deleted-leases": [{ "ip-address": preload[2].address.to_string(), "type": "IA_NA" }],
            "leases": [
                { "ip-address": a(layout.n2, 0xb01), "subnet-id": 2, "duid": duid(4), "iaid": 4, "type": "IA_NA" },
                { "ip-address": "2001:2:0:81f1::", "prefix-len": 64, "subnet-id": 2, "duid": duid(5), "iaid": 5, "type": "IA_PD" }
            ]
        })),
    );
    ok(&bulk);
    assert!(bulk["arguments"]["failed-deleted-leases"].as_array().is_none_or(Vec::is_empty), "{bulk}");
    ok(&kea.command("lease6-wipe", Some(json!({ "subnet-id": 3 }))));
    compare_with_stat_cmds(&kea, "after lease_cmds");

    // A lease that expires while Kea runs, then everything expired is
    // reclaimed.
    ok(&kea.command(
        "lease6-add",
        Some(json!({ "ip-address": a(layout.n2, 0xc01), "subnet-id": 2, "duid": duid(6), "iaid": 6, "valid-lft": 2 })),
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    while kea.lease6_rows().iter().any(|r| r.state == 0 && r.valid_lifetime > 0 && r.expire <= now() + 8 && r.expire > now().saturating_sub(1)) {
        assert!(Instant::now() < deadline, "leases near expiry never expired");
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_for_reclamation(&kea);
    check_all(&pair, &kea, &subnets, "after traffic, lease_cmds and reclamation");

    // The counts came from the events: a recount finds nothing to correct.
    let recount = kea.command("lease-stats-recount", None);
    ok(&recount);
    assert_eq!(recount["arguments"]["corrected"], 0, "{recount}");
    assert!(recount["arguments"]["leases"].as_u64().unwrap() > 1500, "{recount}");
    assert_eq!(kea.command("lease-stats-recount", Some(json!({ "subnet-id": 2 })))["arguments"]["corrected"], 0);
    assert_eq!(kea.command("lease-stats-recount", Some(json!({ "subnet-id": 99 })))["result"], 3);

    // Restarted on the persisted lease file: the same answers.
    kea.stop();
    drop(kea);
    let mut kea = restart_cfg.start(&pair).unwrap_or_else(|e| panic!("restart: {e}"));
    wait_for_reclamation(&kea);
    check_all(&pair, &kea, &subnets, "after a restart");
    assert!(kea.log().contains("counted the lease database"), "{}", kea.log());

    // config-set with changed pools (subnet 7 removed, subnet 4's pool
    // grown, subnet 3's second pool split, subnet 2's PD pool halved):
    // Kea loads the hook anew, which counts again.
    let mut changed = subnets.clone();
    let list = changed.as_array_mut().unwrap();
    list.retain(|s| s["id"] != 7);
    let n3 = layout.n3;
    list[3]["pools"] = json!([{ "pool": format!("{} - {}", at(layout.n4, 0, 0x10), at(layout.n4, 0, 0x40)) }]);
    list[2]["pools"] = json!([
        { "pool": format!("{} - {}", at(n3, 0, 0x10), at(n3, 0, 0xff)) },
        { "pool": format!("{} - {}", at(n3, 0, 0x100), at(n3, 0, 0x17f)) },
        { "pool": format!("{} - {}", at(n3, 0, 0x180), at(n3, 0, 0x1ff)) }
    ]);
    list[1]["pd-pools"] = json!([{ "prefix": PD2, "prefix-len": 57, "delegated-len": 64 }]);
    let cfg = kea.config().clone().merge(json!({ "subnet6": changed }));
    kea.rewrite_config(&cfg);
    ok(&kea.command("config-set", Some(cfg.to_json())));
    check_all(&pair, &kea, &changed, "after config-set");
    let rows = kea.command("lease-stats-get", None)["arguments"]["result-set"]["rows"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(4), "{rows}");
    assert_eq!(rows[3][1], 49, "subnet 4's grown pool: {rows}");
    assert_eq!(rows[1][5], 128, "subnet 2's halved PD pool: {rows}");
}
