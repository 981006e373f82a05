//! Our hooks on SQL lease databases: a real PostgreSQL (Debian's, started
//! by the test as a user of its own, see `kea_hooks_tests::PgServer`)
//! holding Kea's leases. Work in progress for issue 28: so far the harness
//! itself, with stat_cmds reading the database's statistics.

use kea_hooks_tests::{isc_hook, require_root_and_kea, KeaConfig, MariaDbServer, NetPair, PgServer};
use serde_json::json;

#[test]
fn kea_keeps_its_leases_in_a_real_postgresql() {
    if !require_root_and_kea() {
        return;
    }
    let pg = PgServer::shared();
    let db = pg.kea_database("keatest1");
    let pair = NetPair::new();
    let kea = KeaConfig::new(&pair)
        .merge(json!({ "lease-database": db }))
        .hook(&isc_hook("libdhcp_lease_cmds.so"), None)
        .hook(&isc_hook("libdhcp_stat_cmds.so"), None)
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let subnet = pair.subnet();
    let base = subnet.rsplit_once('.').unwrap().0.to_owned();
    let added = kea.command("lease4-add", Some(json!({ "ip-address": format!("{base}.150"), "hw-address": "02:5e:00:00:00:01" })));
    assert_eq!(added["result"], 0, "{added}");
    let rows = pg.psql("keatest1", "SELECT count(*) FROM lease4");
    assert_eq!(rows.trim(), "1", "the lease is in PostgreSQL's lease4 table");
    let stats = kea.command("stat-lease4-get", None);
    assert_eq!(stats["arguments"]["result-set"]["rows"][0][3], 1, "{stats}");
}

#[test]
fn kea_keeps_its_leases_in_a_real_mariadb() {
    if !require_root_and_kea() {
        return;
    }
    let my = MariaDbServer::shared();
    let db = my.kea_database("keatest2");
    let (var, socket) = my.kea_env();
    let pair = NetPair::new();
    let kea = KeaConfig::new(&pair)
        .merge(json!({ "lease-database": db }))
        .env(var, &socket)
        .hook(&isc_hook("libdhcp_lease_cmds.so"), None)
        .hook(&isc_hook("libdhcp_stat_cmds.so"), None)
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let base = pair.subnet().rsplit_once('.').unwrap().0.to_owned();
    let added = kea.command("lease4-add", Some(json!({ "ip-address": format!("{base}.151"), "hw-address": "02:5e:00:00:00:02" })));
    assert_eq!(added["result"], 0, "{added}");
    assert_eq!(my.sql("keatest2", "SELECT count(*) FROM lease4").trim(), "1", "the lease is in MariaDB's lease4 table");
    let stats = kea.command("stat-lease4-get", None);
    assert_eq!(stats["arguments"]["result-set"]["rows"][0][3], 1, "{stats}");
}
