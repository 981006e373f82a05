//! The kea-metrics hook (hooks/kea-metrics) in real Kea servers: every
//! sample the real kea-exporter (PyPI, in a venv of the tests' own) shows
//! for the same kea-dhcp4 or kea-dhcp6, after traffic of every kind (DORA,
//! NAK, release, decline, an allocation failure, an expired lease
//! reclaimed, a declined address recovered), must be on the hook's page
//! with the same name, labels, value and type; what kea-exporter leaves out
//! (a shared network's subnet, pools by id) must be there too, right; the
//! page must parse with prometheus_client's parser; a real Prometheus must
//! scrape it; `statistic-reset` and `config-reload` must show as
//! Prometheus expects; the example Grafana dashboard must use only names
//! the page has. Run as root; see the README.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kea_hooks_tests::prom_text::{families, parse_samples, sample_key, Labels, Samples};
use kea_hooks_tests::{kea_hooks_version, require_root_and_kea, run_in_ns, Client4, Client6, Ias6, Kea, KeaConfig, KeaExporter, NetPair, Prometheus};
use serde_json::{json, Value};

/// The endpoint, inside the server's namespace.
const LISTEN: &str = "127.0.0.1:9547";

fn kea_metrics() -> std::path::PathBuf {
    common::hook_library("kea-hook-kea-metrics", "dhcp_kea_metrics")
}

/// The hook's page, its text, checked by prometheus_client's parser too.
fn page(pair: &NetPair) -> String {
    let out = run_in_ns(&pair.server_ns(), "curl", &["-sS", "--fail", "--max-time", "10", &format!("http://{LISTEN}/metrics")]);
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("a UTF-8 page");
    // prometheus_client's parser must take it too (the values it reads
    // are the ones parse_samples reads).
    let (theirs, _) = common::stat_cmds::parse_page(&text);
    let ours = samples(&text);
    for ((name, labels), v) in &theirs {
        let mine = ours.get(&(name.clone(), labels.clone())).copied();
        assert!(mine == Some(*v) || (v.is_nan() && mine.is_some_and(f64::is_nan)), "{name}{labels:?}: prometheus_client {v}, parse_samples {mine:?}");
    }
    text
}

fn samples(text: &str) -> Samples {
    parse_samples(text).unwrap_or_else(|e| panic!("the page does not parse: {e}\n{text}"))
}

fn value(s: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    *s.get(&sample_key(name, labels)).unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
}

/// Every `kea_` sample of kea-exporter's page on the hook's page, with the
/// same value, and every family of kea-exporter's with samples of the
/// same type.
/// Returns how many samples were compared.
fn assert_covers(exporter_text: &str, hook_text: &str) -> usize {
    let (theirs, ours) = (samples(exporter_text), samples(hook_text));
    let (their_types, our_types) = (families(exporter_text).unwrap(), families(hook_text).unwrap());
    let mut compared = 0;
    let mut wrong = Vec::new();
    for ((name, labels), v) in theirs.iter().filter(|((n, _), _)| n.starts_with("kea_")) {
        compared += 1;
        match ours.get(&(name.clone(), labels.clone())) {
            Some(o) if o == v => {}
            Some(o) => wrong.push(format!("{name}{labels:?}: kea-exporter {v}, hook {o}")),
            None => wrong.push(format!("{name}{labels:?} = {v}: not on the hook's page")),
        }
    }
    // (kea-exporter declares every family, of both daemons; those with
    // samples count.)
    for (name, t) in their_types.iter().filter(|(n, _)| n.starts_with("kea_") && theirs.keys().any(|(s, _)| s == *n)) {
        if our_types.get(name) != Some(t) {
            wrong.push(format!("family {name}: kea-exporter's type {t}, the hook's {:?}", our_types.get(name)));
        }
    }
    assert!(wrong.is_empty(), "{} of {compared} differ:\n{}\n--- kea-exporter:\n{exporter_text}\n--- hook:\n{hook_text}", wrong.len(), wrong.join("\n"));
    compared
}

/// Waits until Kea's statistic `name` is at least `at_least`.
fn wait_for_statistic(kea: &Kea, name: &str, at_least: u64, bound: Duration) {
    let t0 = Instant::now();
    while kea.statistic(name) < at_least {
        assert!(t0.elapsed() < bound, "{name} stayed below {at_least} for {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What `SERVER -v` prints: the Kea release, as its headers name it.
fn kea_version(server: &str) -> String {
    let out = std::process::Command::new(server).arg("-v").output().unwrap_or_else(|e| panic!("{server} -v: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The /16 of 198.18.0.0/15 the pair does not use.
fn other_b(pair: &NetPair) -> u8 {
    if pair.server_addr().octets()[1] == 18 { 19 } else { 18 }
}

/// Pool ids (`pool-id`) exist from Kea 2.6 (2.5.x) on.
fn pool_ids() -> bool {
    kea_hooks_version() >= 20600
}

/// kea-dhcp4 (single-threaded: every read of the statistics is a step of
/// Kea's main thread) with kea-metrics and the layout of these tests:
/// - authoritative (a REQUEST for another client's address gets a NAK);
/// - subnet 4242 (a custom id) on the pair's link, a pool of 3 addresses,
///   leases of 2 s for whoever asks, declined addresses on probation 1 s;
/// - subnet 7 with two pools without an id and (2.6+) one with `pool-id`
///   5;
/// - subnet 77 in shared network `campus "east"` (escaped in labels).
fn start4(pair: &NetPair) -> Kea {
    let o = pair.server_addr().octets();
    let net = format!("{}.{}.{}", o[0], o[1], o[2]);
    let b = other_b(pair);
    let mut third = json!({ "pool": format!("198.{b}.7.64/28") });
    if pool_ids() {
        third["pool-id"] = json!(5);
    }
    KeaConfig::new(pair)
        .hook(&kea_metrics(), Some(json!({ "listen": LISTEN, "page-size": 16 })))
        .merge(json!({
            "authoritative": true,
            "decline-probation-period": 1,
            "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600 },
            "subnet4": [
                { "id": 4242, "subnet": pair.subnet(), "pools": [{ "pool": format!("{net}.10 - {net}.12") }],
                  "min-valid-lifetime": 2, "valid-lifetime": 3600, "max-valid-lifetime": 3600 },
                { "id": 7, "subnet": format!("198.{b}.7.0/24"),
                  "pools": [{ "pool": format!("198.{b}.7.10 - 198.{b}.7.20") }, { "pool": format!("198.{b}.7.30 - 198.{b}.7.40") }, third] }
            ],
            "shared-networks": [{ "name": "campus \"east\"", "subnet4": [
                { "id": 77, "subnet": format!("198.{b}.77.0/24"), "pools": [{ "pool": format!("198.{b}.77.10 - 198.{b}.77.29") }] }
            ]}]
        }))
        .start(pair)
        .expect("kea-dhcp4 with kea-metrics")
}

/// DORA, a release, a decline, an allocation failure, a NAK, an expired
/// lease: then waits until Kea has reclaimed the expired lease and
/// recovered the declined address, so Kea is quiet.
fn traffic4(pair: &NetPair, kea: &Kea) {
    let keep = Client4::new(pair, "02:4b:00:00:00:01").dora().expect("an ACK");
    assert_eq!(keep.message_type, kea_hooks_tests::msg::ACK);
    // A 2 s lease (option 51), reclaimed once it expires.
    Client4::new(pair, "02:4b:00:00:00:02").with_option(51, &2u32.to_be_bytes()).dora().expect("an ACK for a short lease");
    let released = Client4::new(pair, "02:4b:00:00:00:03");
    let ack = released.dora().expect("an ACK");
    released.release(&ack);
    let declining = Client4::new(pair, "02:4b:00:00:00:04");
    let ack = declining.dora().expect("an ACK");
    declining.decline(&ack);
    wait_for_statistic(kea, "pkt4-decline-received", 1, Duration::from_secs(5));
    // The pool's three addresses are held (one declined): no offer.
    let refused = Client4::new(pair, "02:4b:00:00:00:05").with_timeout(Duration::from_millis(500)).discover(None);
    assert!(refused.is_none(), "an offer from a full pool: {refused:?}");
    // A REQUEST for another client's address: a NAK.
    let nak = Client4::new(pair, "02:4b:00:00:00:06").request(&keep, None).expect("an answer to a REQUEST for a leased address");
    assert_eq!(nak.message_type, kea_hooks_tests::msg::NAK);
    // The short lease reclaimed, the declined address recovered.
    wait_for_statistic(kea, "subnet[4242].reclaimed-declined-addresses", 1, Duration::from_secs(15));
    wait_for_statistic(kea, "subnet[4242].reclaimed-leases", 2, Duration::from_secs(15));
}

/// kea-exporter's samples, all on the hook's page; then what it leaves out.
#[test]
fn kea_exporter_samples_are_on_the_page_dhcp4() {
    if !require_root_and_kea() || !KeaExporter::available() {
        return;
    }
    let pair = NetPair::new();
    let kea = start4(&pair);
    traffic4(&pair, &kea);
    let exporter = KeaExporter::start(&kea.socket_path());
    let theirs = exporter.scrape();
    let ours = page(&pair);
    let compared = assert_covers(&theirs, &ours);
    let s = samples(&ours);
    let b = other_b(&pair);
    // The traffic shows, in kea-exporter's families (compared above) ...
    let mine = pair.subnet();
    let at = |name: &str, labels: &[(&str, &str)]| value(&s, name, labels);
    assert_eq!(at("kea_dhcp4_packets_sent_total", &[("operation", "nak")]), 1.0);
    assert_eq!(at("kea_dhcp4_packets_received_total", &[("operation", "release")]), 1.0);
    assert_eq!(at("kea_dhcp4_packets_received_total", &[("operation", "decline")]), 1.0);
    let in_subnet = [("subnet", mine.as_str()), ("subnet_id", "4242"), ("pool", "")];
    assert_eq!(at("kea_dhcp4_addresses_total", &in_subnet), 3.0);
    assert_eq!(at("kea_dhcp4_addresses_assigned_total", &in_subnet), 1.0, "the kept lease");
    assert_eq!(at("kea_dhcp4_addresses_declined_reclaimed_total", &in_subnet), 1.0);
    assert!(at("kea_dhcp4_addresses_reclaimed_total", &in_subnet) >= 2.0);
    assert!(at("kea_dhcp4_allocations_failed_total", &[("subnet", mine.as_str()), ("subnet_id", "4242"), ("context", "subnet")]) >= 1.0);
    // ... and kea-exporter's page had them: the comparison was not empty.
    assert!(compared >= 20, "kea-exporter showed {compared} samples:\n{theirs}");
    assert!(theirs.contains("kea_dhcp4_packets_sent_total{operation=\"nak\"} 1.0"), "{theirs}");

    // What kea-exporter leaves out: the shared network's subnet ...
    let shared = format!("198.{b}.77.0/24");
    assert!(!theirs.contains(&shared), "kea-exporter now shows shared networks' subnets:\n{theirs}");
    assert_eq!(at("kea_dhcp4_subnet_total_addresses", &[("subnet_id", "77"), ("subnet", &shared)]), 20.0);
    assert_eq!(at("kea_dhcp4_subnet_info", &[("subnet_id", "77"), ("subnet", &shared), ("shared_network", "campus \"east\"")]), 1.0);
    assert_eq!(at("kea_dhcp4_subnet_info", &[("subnet_id", "4242"), ("subnet", &mine), ("shared_network", "")]), 1.0);
    // ... pools by their id (Kea counts the pools without one together,
    // as pool 0) ...
    if pool_ids() {
        let s7 = format!("198.{b}.7.0/24");
        let both = format!("198.{b}.7.10-198.{b}.7.20,198.{b}.7.30-198.{b}.7.40");
        assert_eq!(at("kea_dhcp4_pool_total_addresses", &[("subnet_id", "7"), ("subnet", &s7), ("pool_id", "0"), ("pool", &both)]), 22.0);
        assert_eq!(at("kea_dhcp4_pool_total_addresses", &[("subnet_id", "7"), ("subnet", &s7), ("pool_id", "5"), ("pool", &format!("198.{b}.7.64/28"))]), 16.0);
        // (kea-exporter reads pool[0] as the first pool, and drops pool[5].)
        assert_eq!(at("kea_dhcp4_addresses_total", &[("subnet", &s7), ("subnet_id", "7"), ("pool", &format!("198.{b}.7.10-198.{b}.7.20"))]), 22.0);
    }
    // ... Kea's other statistics, counters as counters ...
    let types = families(&ours).unwrap();
    assert_eq!(types.get("kea_dhcp4_pkt4_received_total").map(String::as_str), Some("counter"));
    assert!(at("kea_dhcp4_pkt4_received_total", &[]) >= 8.0);
    assert_eq!(at("kea_dhcp4_subnet_cumulative_assigned_addresses_total", &[("subnet_id", "4242"), ("subnet", &mine)]), 4.0);
    // ... and the server itself.
    assert_eq!(at("kea_up", &[("daemon", "dhcp4")]), 1.0);
    let version = kea_version("kea-dhcp4");
    assert_eq!(at("kea_build_info", &[("daemon", "dhcp4"), ("version", &version)]), 1.0);
    let lib = kea_metrics().canonicalize().unwrap();
    let libs: Vec<Labels> = s.keys().filter(|(n, _)| n == "kea_hook_library_info").map(|(_, l)| l.clone()).collect();
    assert!(libs.iter().any(|l| std::path::Path::new(&l["library"]).canonicalize().ok().as_deref() == Some(&lib)), "{libs:?}");
    // Single-threaded: the statistics were read on Kea's main thread, 16
    // at a time.
    let read = at("kea_metrics_statistics", &[]);
    assert!(at("kea_metrics_main_thread_pages", &[]) >= (read / 16.0).floor(), "{ours}");
}
