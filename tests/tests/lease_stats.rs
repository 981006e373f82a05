//! The lease-stats hook (hooks/lease-stats) against ISC's stat_cmds, in one
//! real kea-dhcp4 (multi-threaded) with lease_cmds: a lease file preloaded
//! with thousands of leases in every state, real traffic (grants, renewals,
//! rebinds, releases, declines, a reservation outside the pools), the
//! reclamation of expired and declined leases, lease_cmds writes; then every
//! form of `stat-lease4-get` and `lease-stats-get` compared answer by
//! answer, per-pool rows compared with the lease file, the Prometheus page
//! parsed by prometheus_client's parser and compared with the command; and
//! all again after a restart on the persisted lease file.
//! Run as root; see the README.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use kea_hooks_tests::{hooks_together, isc_hook, perfdhcp, require_root_and_kea, run_in_ns, write_memfile4, Client4, Kea, KeaConfig, LeaseRow, NetPair};
use serde_json::{json, Value};

use common::stat_cmds::{self, now, ok, query_forms, scrape};
use common::{lease_stats, load_failure_line};

/// The metrics endpoint, inside the server's namespace.
const LISTEN: &str = "127.0.0.1:9464";

/// stat_cmds counts declined addresses in `assigned-addresses` from Kea
/// 3.2 on (and lease-stats follows the release it runs in).
fn declined_in_assigned() -> bool {
    kea_hooks_tests::kea_hooks_version() >= 30200
}

/// The `assigned-addresses` column without the declined addresses.
fn assigned_only(assigned: &Value, declined: &Value) -> f64 {
    let (a, d) = (assigned.as_f64().unwrap(), declined.as_f64().unwrap());
    if declined_in_assigned() { a - d } else { a }
}

/// The subnets besides the pair's (id 1): in the /16 of 198.18.0.0/15 the
/// pair does not use, so they never overlap it.
struct Layout {
    /// `198.X`: the other /16.
    b: u8,
}

impl Layout {
    fn new(pair: &NetPair) -> Layout {
        Layout { b: if pair.server_addr().octets()[1] == 18 { 19 } else { 18 } }
    }
    fn ip(&self, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, self.b, c, d)
    }
    fn subnets(&self, pair: &NetPair) -> Value {
        let o = pair.server_addr().octets();
        let net = format!("{}.{}.{}", o[0], o[1], o[2]);
        let b = self.b;
        json!([
            { "id": 1, "subnet": pair.subnet(),
              "pools": [{ "pool": format!("{net}.10 - {net}.63") }, { "pool": format!("{net}.64/26") }, { "pool": format!("{net}.128 - {net}.250") }],
              "reservations": [{ "hw-address": "02:5a:00:00:01:00", "ip-address": format!("{net}.5") }],
              "option-data": [{ "name": "routers", "data": pair.server_addr().to_string() }] },
            // Preloaded: thousands of leases, one lease outside the pool.
            { "id": 2, "subnet": format!("198.{b}.16.0/20"), "pools": [{ "pool": format!("198.{b}.16.10 - 198.{b}.31.250") }] },
            { "id": 3, "subnet": format!("198.{b}.48.0/24"),
              "pools": [{ "pool": format!("198.{b}.48.10 - 198.{b}.48.99") }, { "pool": format!("198.{b}.48.100 - 198.{b}.48.199") }] },
            // No lease at all: a totals-only row.
            { "id": 4, "subnet": format!("198.{b}.64.0/24"), "pools": [{ "pool": format!("198.{b}.64.10 - 198.{b}.64.20") }] },
            // Only reclaimed leases.
            { "id": 7, "subnet": format!("198.{b}.80.0/24"), "pools": [{ "pool": format!("198.{b}.80.10 - 198.{b}.80.99") }] },
        ])
    }

    /// The preloaded leases: subnet 2 in every state (active, expired not
    /// yet reclaimed, expiring within seconds, declined in probation,
    /// declined past probation, reclaimed, one outside the pool), subnet 3
    /// mixed, subnet 7 reclaimed only, and orphans of a subnet 9 that is
    /// not configured. Returns the rows and how many will be reclaimed.
    fn preload(&self) -> Vec<LeaseRow> {
        let t = now();
        let row = |address: Ipv4Addr, subnet_id: u32, state: u32, expire: u64, n: u32| LeaseRow {
            address,
            hwaddr: format!("02:6c:{:02x}:{:02x}:{:02x}:{:02x}", subnet_id, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff),
            client_id: String::new(),
            valid_lifetime: 3600,
            expire,
            subnet_id,
            hostname: if n % 7 == 0 { format!("host-{n}.example") } else { String::new() },
            fqdn: (false, false),
            state,
        };
        let mut rows = Vec::new();
        for n in 0..3000u32 {
            let a = self.ip(16 + (n / 240) as u8, 10 + (n % 240) as u8);
            let (state, expire) = match n % 20 {
                0..=11 => (0, t + 3600),
                12 | 13 => (0, t - 100),      // expired, reclaimed at the first cycle
                14 => (0, t + 6),             // expires during the test
                15 | 16 => (1, t + 3600),     // declined, in probation
                17 => (1, t - 100),           // declined, probation over: recovered
                _ => (2, t - 100),            // reclaimed
            };
            rows.push(row(a, 2, state, expire, n));
        }
        rows.push(row(self.ip(16, 5), 2, 0, t + 3600, 5000)); // outside the pool
        for n in 0..150u32 {
            let state = [0, 0, 0, 1, 2][n as usize % 5];
            rows.push(row(self.ip(48, 10 + n as u8), 3, state, t + 3600, 6000 + n));
        }
        for n in 0..10u32 {
            rows.push(row(self.ip(80, 10 + n as u8), 7, 2, t - 100, 7000 + n));
            rows.push(row(self.ip(96, 10 + n as u8), 9, 0, t + 3600, 8000 + n)); // orphans
        }
        rows
    }
}

/// Waits until Kea has reclaimed every expired lease in its file (no lease
/// in state default or declined past its expiry).
fn wait_for_reclamation(kea: &Kea) {
    stat_cmds::wait_for_reclamation(kea, |t| kea.lease_rows().iter().filter(|r| r.state <= 1 && r.valid_lifetime > 0 && r.expire < t).count());
}

/// Every form answered by both, compared; returns lease-stats' answers.
fn compare_with_stat_cmds(kea: &Kea, when: &str) -> Vec<Value> {
    let mut ours = Vec::new();
    // One deliberate difference: a range of one subnet. stat_cmds accepts
    // it, then its lease manager refuses it (result 1, "LeaseStatsQuery:
    // last_subnet_id_must be > first_subnet_id_"); lease-stats answers it.
    let one = json!({ "subnet-range": { "first-subnet-id": 2, "last-subnet-id": 2 } });
    let isc = kea.command("stat-lease4-get", Some(one.clone()));
    assert_eq!(isc["result"], 1, "{when}: {isc}");
    let mine = stat_cmds::untimed(kea.command("lease-stats-get", Some(one)));
    let single = stat_cmds::untimed(kea.command("lease-stats-get", Some(json!({ "subnet-id": 2 }))));
    assert_eq!(mine["arguments"], single["arguments"], "{when}");
    assert_eq!(mine["text"], "lease-stats-get[subnets 2 through 2]: 1 rows found", "{when}");
    for args in query_forms() {
        let isc = stat_cmds::untimed(kea.command("stat-lease4-get", args.clone()));
        let mine = stat_cmds::untimed(kea.command("lease-stats-get", args.clone()));
        let mut expected = isc.clone();
        if let Some(text) = isc["text"].as_str() {
            expected["text"] = json!(text.replace("stat-lease4-get", "lease-stats-get"));
        }
        assert_eq!(mine, expected, "{when}: arguments {args:?}\nstat_cmds: {isc}");
        ours.push(mine);
    }
    // The answers are not trivially equal: the rows have leases in them.
    let all = &ours[0]["arguments"]["result-set"]["rows"];
    assert!(all.as_array().map_or(0, Vec::len) >= 4, "{when}: {all}");
    assert!(all[1][3].as_i64().unwrap() > 1500 && all[1][4].as_i64().unwrap() > 200, "{when}: subnet 2 {}", all[1]);
    ours
}

/// Per pool, from the lease file: (assigned, declined) by pool text.
fn pools_from_file(kea: &Kea, subnets: &Value) -> BTreeMap<String, (i64, i64)> {
    let mut pools = BTreeMap::new();
    let ranges: Vec<(u32, Ipv4Addr, Ipv4Addr, String)> = subnets
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            let id = s["id"].as_u64().unwrap() as u32;
            s["pools"].as_array().unwrap().iter().map(move |p| (id, p["pool"].as_str().unwrap().to_owned()))
        })
        .map(|(id, text)| {
            let (first, last) = match text.split_once('-') {
                Some((a, b)) => (a.trim().parse().unwrap(), b.trim().parse().unwrap()),
                None => {
                    let (a, len) = text.split_once('/').unwrap();
                    let a: Ipv4Addr = a.parse().unwrap();
                    let size = 1u32 << (32 - len.parse::<u32>().unwrap());
                    (a, Ipv4Addr::from(u32::from(a) + size - 1))
                }
            };
            (id, first, last, format!("{first}-{last}"))
        })
        .collect();
    for (_, _, _, text) in &ranges {
        pools.insert(text.clone(), (0, 0));
    }
    // (A row with valid lifetime 0 records a deleted lease.)
    for r in kea.lease_rows().into_iter().filter(|r| r.valid_lifetime > 0) {
        let Some((_, _, _, text)) = ranges.iter().find(|(id, a, b, _)| *id == r.subnet_id && (*a..=*b).contains(&r.address)) else {
            continue;
        };
        let e = pools.get_mut(text).unwrap();
        match r.state {
            0 => e.0 += 1,
            1 => e.1 += 1,
            _ => {}
        }
    }
    pools
}

/// lease-stats' pool rows: (assigned, declined) by pool text, checked
/// against its subnet rows (pools never hold more than their subnet).
fn pool_rows(kea: &Kea) -> (BTreeMap<String, (i64, i64)>, Value) {
    let answer = kea.command("lease-stats-get", Some(json!({ "pools": true, "utilization": true, "extended": true })));
    assert_eq!(answer["result"], 0, "{answer}");
    let set = &answer["arguments"]["result-set"];
    assert_eq!(
        set["columns"],
        json!(["subnet-id", "pool", "total-addresses", "cumulative-assigned-addresses", "assigned-addresses", "declined-addresses",
               "free-addresses", "released-addresses", "reclaimed-addresses", "reclaimed-declined-addresses", "utilization"])
    );
    let mut pools = BTreeMap::new();
    for row in set["rows"].as_array().unwrap() {
        let (size, declined, free) = (row[2].as_i64().unwrap(), row[5].as_i64().unwrap(), row[6].as_i64().unwrap());
        let assigned = assigned_only(&row[4], &row[5]) as i64;
        assert_eq!(free, size - assigned - declined, "{row}");
        let u = row[10].as_f64().unwrap();
        assert!((u - (assigned + declined) as f64 / size as f64).abs() < 1e-4, "{row}");
        pools.insert(row[1].as_str().unwrap().to_owned(), (assigned, declined));
    }
    (pools, answer)
}

/// The page agrees with the command, subnet by subnet and pool by pool.
fn check_metrics(pair: &NetPair, kea: &Kea, subnets: &Value) {
    let (metrics, samples) = scrape(pair, LISTEN);
    for family in ["kea_lease_stats_subnet_assigned_addresses", "kea_lease_stats_pool_released_addresses"] {
        let s = samples.iter().find(|s| s["family"] == family).unwrap_or_else(|| panic!("no {family}"));
        assert!(!s["help"].as_str().unwrap().is_empty() && (s["type"] == "gauge" || s["type"] == "counter"), "{s}");
    }
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
        assert_eq!(get("kea_lease_stats_subnet_total_addresses", &l), row[1].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_cumulative_assigned_addresses_total", &l), row[2].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_assigned_addresses", &l), assigned_only(&row[3], &row[4]), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_declined_addresses", &l), row[4].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_released_addresses_total", &l), row[6].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_subnet_reclaimed_addresses_total", &l), row[7].as_f64().unwrap(), "{row}");
    }
    let (_, pools) = pool_rows(kea);
    for row in pools["arguments"]["result-set"]["rows"].as_array().unwrap() {
        let id = row[0].as_u64().unwrap();
        let (sid, prefix) = (id.to_string(), prefixes[&id].clone());
        let l = [("subnet_id", sid.as_str()), ("prefix", prefix.as_str()), ("pool", row[1].as_str().unwrap())];
        assert_eq!(get("kea_lease_stats_pool_total_addresses", &l), row[2].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_pool_assigned_addresses", &l), assigned_only(&row[4], &row[5]), "{row}");
        assert_eq!(get("kea_lease_stats_pool_declined_addresses", &l), row[5].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_pool_free_addresses", &l), row[6].as_f64().unwrap(), "{row}");
        assert_eq!(get("kea_lease_stats_pool_utilization", &l), row[10].as_f64().unwrap(), "{row}");
    }
}

/// Everything lease-stats says, checked against stat_cmds, the lease file
/// and its own metrics page.
fn check_all(pair: &NetPair, kea: &Kea, subnets: &Value, when: &str) {
    compare_with_stat_cmds(kea, when);
    let (pools, _) = pool_rows(kea);
    assert_eq!(pools, pools_from_file(kea, subnets), "{when}: pools (lease-stats, then the lease file)");
    check_metrics(pair, kea, subnets);
}

#[test]
fn lease_stats_answers_as_stat_cmds_does() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let layout = Layout::new(&pair);
    let cfg = KeaConfig::new(&pair).multi_threading(true);
    let subnets = layout.subnets(&pair);
    write_memfile4(&cfg.dir().join("leases4.csv"), layout.preload());
    let libs = hooks_together(cfg.dir(), &[isc_hook("libdhcp_lease_cmds.so"), isc_hook("libdhcp_stat_cmds.so"), lease_stats()]);
    let cfg = cfg
        .merge(json!({
            "subnet4": subnets,
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

    // Traffic on subnet 1: grants, renewals, rebinds, releases, declines,
    // a reservation outside the pools, then perfdhcp's many clients.
    // (One client at a time: each sets the client interface's MAC.)
    for i in 0..12 {
        let client = Client4::new(&pair, &format!("02:5a:00:00:00:{i:02x}"));
        let ack = client.dora().unwrap_or_else(|| panic!("no ACK for client {i}"));
        match i {
            0..=2 => assert!(client.renew(&ack).is_some(), "renew {i}"),
            3 | 4 => assert!(client.rebind(&ack).is_some(), "rebind {i}"),
            5..=7 => client.release(&ack),
            8 | 9 => client.decline(&ack),
            _ => {}
        }
    }
    let reserved = Client4::new(&pair, "02:5a:00:00:01:00").dora().expect("ACK for the reservation");
    assert_eq!(reserved.yiaddr.octets()[3], 5);
    let report = perfdhcp(&pair, &["-r", "200", "-R", "150", "-n", "150", "-p", "10", "-W", "1000000"]);
    assert!(report.acks() >= 100, "{}", report.stdout);

    // lease_cmds, each read back at once.
    let ip = |c, d| layout.ip(c, d).to_string();
    ok(&kea.command("lease4-add", Some(json!({ "ip-address": ip(64, 15), "subnet-id": 4, "hw-address": "02:6d:00:00:00:01" }))));
    ok(&kea.command("lease4-add", Some(json!({ "ip-address": ip(48, 250), "subnet-id": 3, "hw-address": "02:6d:00:00:00:02", "state": 1 }))));
    let two = compare_with_stat_cmds(&kea, "after lease4-add")[3].clone();
    assert_eq!(two["arguments"]["result-set"]["rows"][0][0], 2);
    // Subnet 2's first leases: active (0, 1, 2), then an update to
    // declined, a delete by address, and one by identifier.
    ok(&kea.command(
        "lease4-update",
        Some(json!({ "ip-address": ip(16, 10), "subnet-id": 2, "hw-address": "02:6c:02:00:00:00", "state": 1 })),
    ));
    ok(&kea.command("lease4-del", Some(json!({ "ip-address": ip(16, 11) }))));
    ok(&kea.command("lease4-del", Some(json!({ "identifier-type": "hw-address", "identifier": "02:6c:02:00:00:02", "subnet-id": 2 }))));
    ok(&kea.command("lease4-wipe", Some(json!({ "subnet-id": 3 }))));
    compare_with_stat_cmds(&kea, "after lease_cmds");

    // A lease that expires while Kea runs (lifetime 2 s), then everything
    // expired is reclaimed.
    ok(&kea.command(
        "lease4-add",
        Some(json!({ "ip-address": ip(30, 200), "subnet-id": 2, "hw-address": "02:6d:00:00:00:03", "valid-lft": 2 })),
    ));
    std::thread::sleep(Duration::from_secs(7)); // the preloaded +6 s leases and this one expire
    wait_for_reclamation(&kea);
    check_all(&pair, &kea, &subnets, "after traffic, lease_cmds and reclamation");

    // The counts came from the events: a recount finds nothing to correct.
    let recount = kea.command("lease-stats-recount", None);
    ok(&recount);
    assert_eq!(recount["arguments"]["corrected"], 0, "{recount}");
    assert!(recount["arguments"]["leases"].as_u64().unwrap() > 2000, "{recount}");
    let one = kea.command("lease-stats-recount", Some(json!({ "subnet-id": 3 })));
    assert_eq!(one["arguments"]["corrected"], 0, "{one}");
    assert_eq!(kea.command("lease-stats-recount", Some(json!({ "subnet-id": 99 })))["result"], 3);
    assert_eq!(kea.command("lease-stats-recount", Some(json!({ "subnet-id": "x" })))["result"], 1);
    // The extensions' arguments are checked too.
    let bad = kea.command("lease-stats-get", Some(json!({ "pools": 1 })));
    assert_eq!((bad["result"].as_i64(), bad["text"].as_str()), (Some(1), Some("'pools' parameter is not a boolean")), "{bad}");

    // Restarted on the persisted lease file: the same answers.
    kea.stop();
    drop(kea);
    let kea = restart_cfg.start(&pair).unwrap_or_else(|e| panic!("restart: {e}"));
    wait_for_reclamation(&kea);
    check_all(&pair, &kea, &subnets, "after a restart");
    let log = kea.log();
    assert!(log.contains("counted the lease database"), "{log}");

    // A configuration change (subnet 7 removed, subnet 4's pool grown,
    // subnet 3's second pool split in two), applied by a reload: Kea loads
    // the hook anew, which counts again; its endpoint's thread stops and
    // the new one binds the same port.
    let mut changed = subnets.clone();
    let list = changed.as_array_mut().unwrap();
    list.retain(|s| s["id"] != 7);
    let b = layout.b;
    list[3]["pools"] = json!([{ "pool": format!("198.{b}.64.10 - 198.{b}.64.40") }]);
    list[2]["pools"] = json!([
        { "pool": format!("198.{b}.48.10 - 198.{b}.48.99") },
        { "pool": format!("198.{b}.48.100 - 198.{b}.48.149") },
        { "pool": format!("198.{b}.48.150 - 198.{b}.48.199") }
    ]);
    let mut kea = kea;
    let cfg = kea.config().clone().merge(json!({ "subnet4": changed }));
    kea.rewrite_config(&cfg);
    ok(&kea.config_reload());
    check_all(&pair, &kea, &changed, "after a configuration change");
    let rows = kea.command("lease-stats-get", None)["arguments"]["result-set"]["rows"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(4), "{rows}");
    assert_eq!(rows[3][1], 31, "subnet 4's grown pool: {rows}");
}

/// A `listen` that is not an address, or a port in use, fails the load
/// with a message naming the field; the port is free again after Kea stops.
#[test]
fn a_bad_listen_fails_the_load() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let start = |listen: &str| {
        let cfg = KeaConfig::new(&pair);
        let lib = hooks_together(cfg.dir(), &[lease_stats()]).remove(0);
        cfg.hook(&lib, Some(json!({ "listen": listen }))).start(&pair)
    };
    let failure = start("localhost:9464").err().expect("Kea started with listen \"localhost:9464\"");
    let line = load_failure_line(&failure, "kea-dhcp4.lease-stats");
    assert!(line.contains("at 'listen'") && line.contains("is not an address:port"), "{line}");

    let mut kea = start(LISTEN).unwrap_or_else(|e| panic!("{e}"));
    let failure = start(LISTEN).err().expect("a second Kea listened on the same port");
    let line = load_failure_line(&failure, "kea-dhcp4.lease-stats");
    assert!(line.contains("at 'listen'") && line.contains("cannot listen on 127.0.0.1:9464"), "{line}");
    kea.stop();
    let out = run_in_ns(&pair.server_ns(), "curl", &["-sS", "--max-time", "5", &format!("http://{LISTEN}/metrics")]);
    assert!(!out.status.success(), "the endpoint still answers after Kea stopped");
    let log = kea.log();
    assert!(!log.contains("still running at unload"), "{log}");
}

/// A change the lease events do not show (a hook loaded after lease-stats
/// skips a release, so Kea keeps the lease lease-stats saw released) is
/// repaired by the background recount, a page at a time through Kea's main
/// thread, and counted in the hook's statistics.
#[test]
fn background_recounts_repair_what_events_missed() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let libs = hooks_together(cfg.dir(), &[isc_hook("libdhcp_stat_cmds.so"), lease_stats(), common::probe()]);
    let out = cfg.dir().join("probe.jsonl");
    let kea = cfg
        .hook(&libs[0], None)
        .hook(&libs[1], Some(json!({ "recount-interval": 2, "page-size": 7 })))
        .hook(&libs[2], Some(json!({ "out": out, "quiet": true, "skip-at": ["lease4_release"] })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let assigned = |command: &str| kea.command(command, Some(json!({ "subnet-id": 1 })))["arguments"]["result-set"]["rows"][0][3].clone();
    let mut acks = Vec::new();
    for i in 0..20 {
        let client = Client4::new(&pair, &format!("02:5b:00:00:00:{i:02x}"));
        acks.push(client.dora().unwrap_or_else(|| panic!("no ACK for client {i}")));
        if i == 19 {
            client.release(&acks[19]);
        }
    }
    // lease-stats saw the release; Kea skipped it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while assigned("lease-stats-get") != json!(19) {
        assert!(Instant::now() < deadline, "lease-stats did not see the release: {}", assigned("lease-stats-get"));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(assigned("stat-lease4-get"), json!(20), "the probe did not skip the release");
    // Two passes later (the first leaves an address a release just touched
    // alone), the recount has put it back.
    let deadline = Instant::now() + Duration::from_secs(15);
    while kea.statistic("lease-stats.corrected-addresses") == 0 {
        assert!(Instant::now() < deadline, "no recount corrected anything:\n{}", kea.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(assigned("lease-stats-get"), json!(20));
    assert!(kea.statistic("lease-stats.recounts") >= 2);
    compare_with_stat_cmds_simple(&kea);
    assert!(kea.log().contains("recount corrected the counts"), "{}", kea.log());
}

/// The all-subnets answers are equal (one subnet here).
fn compare_with_stat_cmds_simple(kea: &Kea) {
    let isc = stat_cmds::untimed(kea.command("stat-lease4-get", None));
    let mine = stat_cmds::untimed(kea.command("lease-stats-get", None));
    assert_eq!(mine["arguments"], isc["arguments"]);
}

/// A DISCOVER alone writes no lease, and lease-stats counts none; with
/// Kea 2.6+'s `offer-lifetime` the offered address is written to the lease
/// database (`lease4_offer`), counted as stat_cmds counts it, and gone
/// again when the offer expires and is reclaimed.
#[test]
fn offers_count_only_where_kea_writes_them() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let libs = hooks_together(cfg.dir(), &[isc_hook("libdhcp_stat_cmds.so"), lease_stats()]);
    let offer_lifetime = kea_hooks_tests::kea_hooks_version() >= 20600;
    let mut extra = json!({ "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600,
                                                           "flush-reclaimed-timer-wait-time": 0 } });
    if offer_lifetime {
        extra["offer-lifetime"] = json!(2);
    }
    let kea = cfg
        .merge(extra)
        .hook(&libs[0], None)
        .hook(&libs[1], Some(json!({ "recount-interval": 0 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let assigned = |command: &str| kea.command(command, Some(json!({ "subnet-id": 1 })))["arguments"]["result-set"]["rows"][0][3].clone();
    let offer = Client4::new(&pair, "02:5d:00:00:00:01").discover(None).expect("an OFFER");
    let expected = json!(u64::from(offer_lifetime));
    let deadline = Instant::now() + Duration::from_secs(5);
    while assigned("stat-lease4-get") != expected {
        assert!(Instant::now() < deadline, "stat_cmds: {} after an OFFER of {}", assigned("stat-lease4-get"), offer.yiaddr);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(assigned("lease-stats-get"), expected, "after an OFFER of {}", offer.yiaddr);
    // The offer expires and is reclaimed.
    wait_for_reclamation(&kea);
    std::thread::sleep(Duration::from_secs(3));
    wait_for_reclamation(&kea);
    assert_eq!(assigned("stat-lease4-get"), json!(0));
    assert_eq!(assigned("lease-stats-get"), json!(0));
}
