//! The harness's kea-exporter and Prometheus (tests/src/kea_exporter.rs,
//! prometheus.rs) against a real kea-dhcp4 with lease-stats' metrics
//! endpoint, after some perfdhcp traffic: kea-exporter reads Kea's own
//! statistics from the control socket; Prometheus scrapes lease-stats'
//! page in Kea's namespace and answers a query with its value.
//! Run as root; see the README.

mod common;

use std::time::Duration;

use kea_hooks_tests::prom_text::{families, sample_key};
use kea_hooks_tests::{hooks_together, perfdhcp, require_root_and_kea, KeaConfig, KeaExporter, NetPair, Prometheus};
use serde_json::json;

/// lease-stats' metrics endpoint, inside the server's namespace.
const LISTEN: &str = "127.0.0.1:9464";

#[test]
fn kea_exporter_and_prometheus_read_a_real_kea() {
    if !require_root_and_kea() || !KeaExporter::available() || !Prometheus::available() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let libs = hooks_together(cfg.dir(), &[common::lease_stats()]);
    let kea = cfg.hook(&libs[0], Some(json!({ "recount-interval": 0, "listen": LISTEN }))).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let report = perfdhcp(&pair, &["-r", "20", "-R", "20", "-n", "20", "-n", "20", "-W", "1000000"]);
    let leases = kea.leases().len();
    assert!(leases > 0, "perfdhcp got no lease: {report:?}");
    let discovers = kea.statistic("pkt4-discover-received");
    assert!(discovers > 0);

    // (a) kea-exporter on Kea's control socket, in this namespace.
    let exporter = KeaExporter::start(&kea.socket_path());
    let page = exporter.scrape();
    let samples = kea_hooks_tests::prom_text::parse_samples(&page).unwrap_or_else(|e| panic!("{e}\n{page}"));
    let get = |name: &str, labels: &[(&str, &str)]| {
        *samples.get(&sample_key(name, labels)).unwrap_or_else(|| panic!("no {name}{labels:?} in kea-exporter's page:\n{page}"))
    };
    assert_eq!(get("kea_dhcp4_packets_received_total", &[("operation", "discover")]), discovers as f64);
    // Per subnet: the subnet's prefix and id, and an empty pool (per-pool
    // statistics, Kea 2.6+, get the pool's text).
    let subnet = [("subnet", pair.subnet()), ("subnet_id", "1".into()), ("pool", String::new())];
    let subnet: Vec<(&str, &str)> = subnet.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(get("kea_dhcp4_addresses_assigned_total", &subnet), leases as f64);
    assert_eq!(families(&page).unwrap()["kea_dhcp4_addresses_assigned_total"], "gauge");
    // Each scrape reads Kea anew.
    let more = perfdhcp(&pair, &["-r", "5", "-R", "5", "-n", "5", "-n", "5", "-W", "1000000"]);
    let discovers = kea.statistic("pkt4-discover-received");
    assert!(discovers as f64 > get("kea_dhcp4_packets_received_total", &[("operation", "discover")]), "{more:?}");
    let fresh = exporter.samples();
    assert_eq!(fresh[&sample_key("kea_dhcp4_packets_received_total", &[("operation", "discover")])], discovers as f64);

    // (b) Prometheus scraping lease-stats in Kea's namespace.
    let answer = kea.command("lease-stats-get", Some(json!({ "subnet-id": 1 })));
    let row = &answer["arguments"]["result-set"]["rows"][0];
    let assigned = row[3].as_f64().unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(assigned, kea.leases().len() as f64, "{answer}");
    let prometheus = Prometheus::start(&[LISTEN.to_owned()], Some(&pair.server_ns()));
    prometheus.wait_for_scrape(Duration::from_secs(30));
    let series = prometheus.vector("kea_lease_stats_subnet_assigned_addresses");
    let (labels, value) = series.iter().find(|(l, _)| l["subnet_id"] == "1").unwrap_or_else(|| panic!("no series for subnet 1: {series:?}"));
    assert_eq!(*value, assigned, "{labels:?}");
    assert_eq!(labels["prefix"], pair.subnet());
    assert_eq!(labels["job"], "kea");
    assert_eq!(labels["instance"], LISTEN);
}
