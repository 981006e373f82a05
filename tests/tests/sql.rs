//! Our hooks on SQL lease databases: a real PostgreSQL (Debian's, started
//! by the test as a user of its own, see `kea_hooks_tests::PgServer`)
//! holding Kea's leases. Work in progress for issue 28: so far the harness
//! itself, with stat_cmds reading the database's statistics.

mod common;

use std::time::{Duration, Instant};

use common::lease_stats;
use kea_hooks_tests::{hooks_together, isc_hook, perfdhcp, require_root_and_kea, sql_backends, sql_lease_backend_hooks, KeaConfig, MariaDbServer, NetPair, PgServer};
use serde_json::json;

/// Starts `cfg` with ISC's lease_cmds and stat_cmds and the probe hook
/// (its commands on), from one hooks directory.
fn with_lease_cmds_stat_cmds_and_probe(pair: &NetPair, cfg: KeaConfig, db_type: &str) -> kea_hooks_tests::Kea {
    let mut libs = sql_lease_backend_hooks(db_type);
    libs.extend([isc_hook("libdhcp_lease_cmds.so"), isc_hook("libdhcp_stat_cmds.so"), common::probe()]);
    let libs = hooks_together(cfg.dir(), &libs);
    let out = cfg.dir().join("probe.jsonl");
    let (probe, isc) = libs.split_last().unwrap();
    isc.iter()
        .fold(cfg, |cfg, lib| cfg.hook(lib, None))
        .hook(probe, Some(json!({ "commands": true, "out": out })))
        .start(pair)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The SDK's `LeaseDb::lease_counts4` (through the probe hook) gives what
/// the database's statistics say: the subnet's one lease, in state default.
fn check_lease_counts(kea: &kea_hooks_tests::Kea) {
    let answer = kea.command("probe-leases", Some(json!({ "by": "counts" })));
    assert_eq!(answer["result"], 0, "{answer}");
    let counts = answer["arguments"].as_array().unwrap_or_else(|| panic!("{answer}"));
    let default: i64 = counts.iter().filter(|c| c["subnet_id"] == 1 && c["state"] == "default").map(|c| c["count"].as_i64().unwrap()).sum();
    assert_eq!(default, 1, "{answer}");
    let none = kea.command("probe-leases", Some(json!({ "by": "counts", "first": 2, "last": 9 })));
    assert!(none["arguments"].as_array().unwrap().iter().all(|c| c["count"] == 0), "{none}");
}

#[test]
fn kea_keeps_its_leases_in_a_real_postgresql() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    let pg = PgServer::shared();
    let db = pg.kea_database("keatest1");
    let pair = NetPair::new();
    let kea = with_lease_cmds_stat_cmds_and_probe(&pair, KeaConfig::new(&pair).merge(json!({ "lease-database": db })), "postgresql");
    let subnet = pair.subnet();
    let base = subnet.rsplit_once('.').unwrap().0.to_owned();
    let added = kea.command("lease4-add", Some(json!({ "ip-address": format!("{base}.150"), "hw-address": "02:5e:00:00:00:01" })));
    assert_eq!(added["result"], 0, "{added}");
    let rows = pg.psql("keatest1", "SELECT count(*) FROM lease4");
    assert_eq!(rows.trim(), "1", "the lease is in PostgreSQL's lease4 table");
    let stats = kea.command("stat-lease4-get", None);
    assert_eq!(stats["arguments"]["result-set"]["rows"][0][3], 1, "{stats}");
    check_lease_counts(&kea);
}

#[test]
fn kea_keeps_its_leases_in_a_real_mariadb() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    let my = MariaDbServer::shared();
    let db = my.kea_database("keatest2");
    let (var, socket) = my.kea_env();
    let pair = NetPair::new();
    let kea = with_lease_cmds_stat_cmds_and_probe(&pair, KeaConfig::new(&pair).merge(json!({ "lease-database": db })).env(var, &socket), "mysql");
    let base = pair.subnet().rsplit_once('.').unwrap().0.to_owned();
    let added = kea.command("lease4-add", Some(json!({ "ip-address": format!("{base}.151"), "hw-address": "02:5e:00:00:00:02" })));
    assert_eq!(added["result"], 0, "{added}");
    assert_eq!(my.sql("keatest2", "SELECT count(*) FROM lease4").trim(), "1", "the lease is in MariaDB's lease4 table");
    let stats = kea.command("stat-lease4-get", None);
    assert_eq!(stats["arguments"]["result-set"]["rows"][0][3], 1, "{stats}");
    check_lease_counts(&kea);
}

/// Two kea-dhcp4 sharing one PostgreSQL lease database, stat_cmds, lease_cmds
/// and lease-stats on both: after traffic to server A only, server B's
/// `lease-stats-get` must agree with its `stat-lease4-get` (which reads the
/// database's statistics) within 10 s. Issue 28's scenario; fails until
/// lease-stats reads what other servers wrote.
#[test]
#[ignore = "issue 28 WIP: lease-stats does not read yet what another server wrote (B says 0 after 10 s); also give B the same subnet as A, as real pairs are configured"]
fn lease_stats_on_two_servers_sharing_postgresql_agrees_with_stat_cmds_within_10_s() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    let pg = PgServer::shared();
    let db = pg.kea_database("keatest3");
    let (pair_a, pair_b) = (NetPair::new(), NetPair::new());
    let start = |pair: &NetPair| {
        let cfg = KeaConfig::new(pair).merge(json!({ "lease-database": db }));
        let libs = hooks_together(cfg.dir(), &[isc_hook("libdhcp_lease_cmds.so"), isc_hook("libdhcp_stat_cmds.so"), lease_stats()]);
        cfg.hook(&libs[0], None).hook(&libs[1], None).hook(&libs[2], Some(json!({ "recount-interval": 300 }))).start(pair).unwrap_or_else(|e| panic!("{e}"))
    };
    // Both serve the same subnet (id 1): each pair's own addresses, which
    // the shared database keys by address only.
    let kea_a = start(&pair_a);
    let kea_b = start(&pair_b);
    let report = perfdhcp(&pair_a, &["-r", "50", "-R", "30", "-n", "30", "-p", "10", "-W", "2000000"]);
    assert_eq!(report.acks(), 30, "{}", report.stdout);
    let assigned = |kea: &kea_hooks_tests::Kea, command: &str| kea.command(command, Some(json!({ "subnet-id": 1 })))["arguments"]["result-set"]["rows"][0][3].clone();
    assert_eq!(assigned(&kea_a, "stat-lease4-get"), 30);
    assert_eq!(assigned(&kea_a, "lease-stats-get"), 30, "server A counted its own leases");
    assert_eq!(assigned(&kea_b, "stat-lease4-get"), 30, "stat_cmds on B reads the shared database");
    let deadline = Instant::now() + Duration::from_secs(10);
    while assigned(&kea_b, "lease-stats-get") != 30 {
        assert!(Instant::now() < deadline, "lease-stats on B: {} after 10 s, stat_cmds 30", assigned(&kea_b, "lease-stats-get"));
        std::thread::sleep(Duration::from_millis(100));
    }
}
