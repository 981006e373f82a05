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

use std::time::{Duration, Instant};

use kea_hooks_tests::prom_text::{families, parse_samples, sample_key, Labels, Samples};
use kea_hooks_tests::{hooks_together, kea_hooks_version, require_root_and_kea, Client4, Client6, Ias6, Kea, KeaConfig, KeaExporter, NetPair, Prometheus};
use serde_json::json;

use common::kea_metrics;
use common::http_clients::{connect, non_reader, scrape, silent, trickler};

/// The endpoint, inside the server's namespace.
const LISTEN: &str = "127.0.0.1:9547";

/// The hook's page, its text, checked by prometheus_client's parser too.
fn page(pair: &NetPair) -> String {
    let text = common::stat_cmds::page_text(&pair.server_ns(), LISTEN);
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

/// Every metric the example Grafana dashboard uses for `daemon` (names
/// `kea_<daemon>_*`, and the server's families but `kea_ha_state`, which
/// needs the HA hook: ha.rs checks it) is on `page`; returns how many.
fn assert_dashboard_on(page: &Samples, daemon: &str) -> usize {
    let own = format!("kea_{daemon}_");
    let names: Vec<String> = kea_hooks_tests::dashboard_metric_names(&kea_hooks_tests::dashboard_path())
        .into_iter()
        .filter(|n| n.starts_with(&own) || !(n.starts_with("kea_dhcp4_") || n.starts_with("kea_dhcp6_") || n == "kea_ha_state"))
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !page.keys().any(|(name, _)| name == *n)).collect();
    assert!(missing.is_empty(), "the dashboard uses {missing:?}, not on kea-{daemon}'s page");
    names.len()
}

/// Waits until Kea's statistic `name` is at least `at_least`.
fn wait_for_statistic(kea: &Kea, name: &str, at_least: u64, bound: Duration) {
    let t0 = Instant::now();
    while kea.statistic(name) < at_least {
        assert!(t0.elapsed() < bound, "{name} stayed below {at_least} for {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The Kea release the hooks were built for, `MAJOR.MINOR.PATCH` (as
/// `KEA_HOOKS_VERSION` encodes it); `kea-dhcp4 -v` starts with it (the 3.2
/// source build prints `3.2.0-git`).
fn kea_version(server: &str) -> String {
    let v = kea_hooks_version();
    let version = format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100);
    let out = std::process::Command::new(server).arg("-v").output().unwrap_or_else(|e| panic!("{server} -v: {e}"));
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(printed.starts_with(&version), "{server} -v: {printed}, the headers: {version}");
    version
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
/// - released and reclaimed leases deleted at once (`hold-reclaimed-time`
///   0: from Kea 2.6 on, a released address is otherwise kept for its
///   client, and the pool of this test stays full);
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
            "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0 },
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
    // The example Grafana dashboard's DHCPv4 and server metrics.
    let used = assert_dashboard_on(&s, "dhcp4");
    assert!(used >= 15, "the dashboard uses {used} metrics of kea-dhcp4");
    // Single-threaded: the statistics were read on Kea's main thread, 16
    // at a time.
    let read = at("kea_metrics_statistics", &[]);
    assert!(at("kea_metrics_main_thread_pages", &[]) >= (read / 16.0).floor(), "{ours}");
}

/// kea-dhcp6 (multi-threaded: the statistics are read on the endpoint's
/// own thread, a page at a time under Kea's lock) with kea-metrics:
/// subnet 4242 on the pair's link with an address pool of 2 and a
/// prefix-delegation pool, declined addresses on probation 2 s, and
/// subnet 66 in shared network `lab`.
fn start6(pair: &NetPair) -> Kea {
    let (pd, _) = pair.pd_space6();
    KeaConfig::new6(pair)
        .multi_threading(true)
        .pd_pool(pd, 56, 64)
        .subnet6_merge(json!({ "id": 4242, "pools": [{ "pool": format!("{}/127", pair.pool6().split(' ').next().unwrap()) }] }))
        .hook(&kea_metrics(), Some(json!({ "listen": LISTEN })))
        .merge(json!({
            "decline-probation-period": 2,
            "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0 },
            "shared-networks": [{ "name": "lab", "subnet6": [
                { "id": 66, "subnet": format!("{}/64", pair.relay_net6(6)), "pools": [{ "pool": format!("{}/120", pair.relay_net6(6)) }] }
            ]}]
        }))
        .start(pair)
        .expect("kea-dhcp6 with kea-metrics")
}

#[test]
fn kea_exporter_samples_are_on_the_page_dhcp6() {
    if !require_root_and_kea() || !KeaExporter::available() {
        return;
    }
    let pair = NetPair::new();
    let kea = start6(&pair);
    // An address and a prefix kept, one released, one declined (and
    // recovered after its probation), meanwhile a client refused (both
    // addresses held). One client at a time: each binds port 546.
    let kept = Client6::new(&pair, "02:4b:00:00:01:01").asking_for(Ias6::NaPd).sarr().expect("a REPLY");
    assert!(!kept.addresses.is_empty(), "{kept:?}");
    {
        let c = Client6::new(&pair, "02:4b:00:00:01:02");
        let r = c.sarr().expect("a REPLY");
        c.release(&r).expect("a REPLY to the RELEASE");
    }
    {
        let c = Client6::new(&pair, "02:4b:00:00:01:03");
        let r = c.sarr().expect("a REPLY");
        c.decline(&r).expect("a REPLY to the DECLINE");
    }
    {
        let refused = Client6::new(&pair, "02:4b:00:00:01:04").solicit().expect("an ADVERTISE");
        assert!(refused.addresses.is_empty(), "an address from a full pool: {refused:?}");
    }
    assert!(kea.statistic("subnet[4242].v6-allocation-fail-subnet") >= 1 || kea.statistic("v6-allocation-fail") >= 1, "no allocation failure counted");
    wait_for_statistic(&kea, "subnet[4242].reclaimed-declined-addresses", 1, Duration::from_secs(15));
    let exporter = KeaExporter::start(&kea.socket_path());
    let theirs = exporter.scrape();
    let ours = page(&pair);
    let compared = assert_covers(&theirs, &ours);
    assert!(compared >= 15, "kea-exporter showed {compared} samples:\n{theirs}");
    let s = samples(&ours);
    let at = |name: &str, labels: &[(&str, &str)]| value(&s, name, labels);
    let mine = pair.subnet6();
    let in_subnet = [("subnet", mine.as_str()), ("subnet_id", "4242"), ("pool", "")];
    assert_eq!(at("kea_dhcp6_na_assigned_total", &in_subnet), 1.0, "the kept address");
    assert_eq!(at("kea_dhcp6_na_total", &in_subnet), 2.0);
    assert!(at("kea_dhcp6_allocations_failed_total", &[("subnet", &mine), ("subnet_id", "4242"), ("context", "subnet")]) >= 1.0);
    assert_eq!(at("kea_dhcp6_pd_assigned_total", &[("subnet", &mine), ("subnet_id", "4242")]), 1.0);
    assert_eq!(at("kea_dhcp6_pd_total", &[("subnet", &mine), ("subnet_id", "4242")]), 256.0);
    assert_eq!(at("kea_dhcp6_addresses_declined_reclaimed_total", &in_subnet), 1.0);
    assert_eq!(at("kea_dhcp6_packets_received_total", &[("operation", "release")]), 1.0);
    assert_eq!(at("kea_dhcp6_packets_received_total", &[("operation", "decline")]), 1.0);
    // Beyond kea-exporter: the shared network's subnet, pools by id.
    let shared = format!("{}/64", pair.relay_net6(6));
    assert_eq!(at("kea_dhcp6_subnet_total_nas", &[("subnet_id", "66"), ("subnet", &shared)]), 256.0);
    assert_eq!(at("kea_dhcp6_subnet_info", &[("subnet_id", "66"), ("subnet", &shared), ("shared_network", "lab")]), 1.0);
    let pd_text = format!("{pd}/56", pd = pair.pd_space6().0);
    assert_eq!(at("kea_dhcp6_pd_pool_info", &[("subnet_id", "4242"), ("subnet", &mine), ("pool_id", "0"), ("pool", &pd_text), ("delegated_len", "64")]), 1.0);
    if pool_ids() {
        assert_eq!(at("kea_dhcp6_pd_pool_assigned_pds", &[("subnet_id", "4242"), ("subnet", &mine), ("pool_id", "0"), ("pool", &pd_text)]), 1.0);
    }
    // The example Grafana dashboard's DHCPv6 and server metrics.
    let used = assert_dashboard_on(&s, "dhcp6");
    assert!(used >= 15, "the dashboard uses {used} metrics of kea-dhcp6");
    // Multi-threaded: no step on Kea's main thread.
    assert_eq!(at("kea_metrics_main_thread_pages", &[]), 0.0, "{ours}");
    assert_eq!(at("kea_up", &[("daemon", "dhcp6")]), 1.0);
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One instant query's single value.
fn query_one(prom: &Prometheus, promql: &str) -> f64 {
    let v = prom.vector(promql);
    assert_eq!(v.len(), 1, "{promql}: {v:?}\n{}", prom.targets());
    *v.values().next().unwrap()
}

/// A real Prometheus scraping the hook (from Kea's namespace), then
/// `statistic-reset`, a busy main thread, hostile clients, `config-reload`
/// and SIGTERM, in one single-threaded kea-dhcp4:
/// - Prometheus' query API returns the hook's series with Kea's values;
/// - a reset counter drops to 0, which Prometheus counts as a reset
///   (`resets()`), so `rate()`/`increase()` stay right;
/// - while Kea's main thread is busy (a probe command sleeps there 7 s), a
///   scrape answers 503 at the hook's read budget (5 s), not later;
/// - clients that trickle their request, say nothing or do not read do
///   not hold up another scrape, the reload (the endpoint comes back, and
///   Prometheus sees it up again) or the shutdown.
#[test]
fn prometheus_scrapes_resets_reloads_and_hostile_clients_dhcp4() {
    if !require_root_and_kea() || !Prometheus::available() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let libs = hooks_together(cfg.dir(), &[kea_metrics(), common::probe()]);
    let out = cfg.dir().join("probe.jsonl");
    let mut kea = cfg
        .hook(&libs[0], Some(json!({ "listen": LISTEN })))
        .hook(&libs[1], Some(json!({ "out": out, "quiet": true, "commands": true })))
        .merge(json!({ "subnet4": [{ "id": 4242, "subnet": pair.subnet(), "pools": [{ "pool": pair.pool() }] }] }))
        .start(&pair)
        .expect("kea-dhcp4 with kea-metrics and the probe");
    for i in 1..=3 {
        Client4::new(&pair, &format!("02:4b:00:00:02:0{i}")).dora().expect("an ACK");
    }
    let prom = Prometheus::start(&[LISTEN.to_owned()], Some(&pair.server_ns()));
    prom.wait_for_scrape(Duration::from_secs(20));
    let mine = pair.subnet();
    let assigned = format!("kea_dhcp4_addresses_assigned_total{{subnet_id=\"4242\",subnet=\"{mine}\",pool=\"\"}}");
    assert_eq!(query_one(&prom, &assigned), 3.0);
    assert_eq!(query_one(&prom, "kea_dhcp4_packets_received_total{operation=\"discover\"}"), 3.0);
    assert_eq!(query_one(&prom, "kea_up{daemon=\"dhcp4\"}"), 1.0);

    // statistic-reset: the counter drops to 0 on the page, and Prometheus
    // counts one reset of it.
    let answer = kea.command("statistic-reset", Some(json!({ "name": "pkt4-received" })));
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(value(&samples(&page(&pair)), "kea_dhcp4_pkt4_received_total", &[]), 0.0);
    prom.wait_for_scrape(Duration::from_secs(20));
    assert_eq!(query_one(&prom, "kea_dhcp4_pkt4_received_total"), 0.0);
    assert_eq!(query_one(&prom, "resets(kea_dhcp4_pkt4_received_total[5m])"), 1.0);
    Client4::new(&pair, "02:4b:00:00:02:04").dora().expect("an ACK");
    prom.wait_for_scrape(Duration::from_secs(20));
    assert_eq!(query_one(&prom, "kea_dhcp4_pkt4_received_total"), 2.0);

    // Kea's main thread busy for 7 s: a scrape answers 503 at the read
    // budget, then 200 once it is free.
    let bound = Duration::from_secs(5);
    std::thread::scope(|scope| {
        let sleeper = scope.spawn(|| kea.command_within("probe-sleep", Some(json!({ "ms": 7000 })), Duration::from_secs(15)));
        std::thread::sleep(Duration::from_millis(300));
        let (status, _, took) = scrape(&pair, LISTEN, Duration::from_secs(9));
        assert!(status.starts_with("HTTP/1.1 503"), "{status} after {took:?}");
        assert!(took >= Duration::from_millis(4500) && took < Duration::from_millis(6500), "503 after {took:?}");
        assert!(!sleeper.is_finished(), "the main thread was free again");
        sleeper.join().unwrap();
        eprintln!("a scrape while Kea's main thread is busy: 503 after {}", ms(took));
    });
    let (status, _, _) = scrape(&pair, LISTEN, bound);
    assert_eq!(status, "HTTP/1.1 200 OK");

    // Hostile clients connected: another scrape is served; config-reload
    // returns at once and closes their connections; the endpoint is back.
    let give_up = Duration::from_secs(60);
    let (t1, s1, n1) = (trickler(&pair, LISTEN, give_up), silent(&pair, LISTEN, give_up), non_reader(&pair, LISTEN));
    let many: Vec<_> = (0..30).map(|_| connect(&pair, LISTEN)).collect();
    std::thread::sleep(Duration::from_millis(200));
    // 33 connections: past the 4 served and 16 waiting, a scrape gets 503
    // at once ...
    let (status, _, took) = scrape(&pair, LISTEN, bound);
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");
    assert!(took < Duration::from_secs(1), "503 after {took:?}");
    // ... and once the 30 idle ones go, a scrape beside the three hostile
    // clients is served.
    drop(many);
    let t0 = Instant::now();
    loop {
        let (status, _, took) = scrape(&pair, LISTEN, bound);
        if status == "HTTP/1.1 200 OK" {
            eprintln!("a scrape beside a trickling, a silent and a non-reading client: {}", ms(took));
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "{status} for {:?} after the idle connections closed", t0.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    // A request head past the limit (16 KiB) is refused, not read on.
    let mut huge = connect(&pair, LISTEN);
    use std::io::{Read as _, Write as _};
    let _ = huge.write_all(format!("GET /metrics HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024)).as_bytes());
    huge.set_read_timeout(Some(bound)).unwrap();
    let mut answer = String::new();
    let _ = huge.read_to_string(&mut answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 503"), "{answer:.80}");
    let t0 = Instant::now();
    let (answer, reload) = kea.command_within("config-reload", None, Duration::from_secs(30));
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(reload < Duration::from_secs(3), "config-reload took {reload:?}");
    while !(t1.is_finished() && s1.is_finished()) {
        assert!(t0.elapsed() < reload + bound, "hostile connections still open {:?} after the reload", t0.elapsed() - reload);
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(n1);
    eprintln!("config-reload with hostile clients connected: {}", ms(reload));
    let (status, _, _) = scrape(&pair, LISTEN, bound);
    assert_eq!(status, "HTTP/1.1 200 OK", "the endpoint after the reload");
    prom.wait_for_scrape(Duration::from_secs(20));
    assert_eq!(query_one(&prom, &assigned), 4.0);
    // DHCP still served.
    Client4::new(&pair, "02:4b:00:00:02:05").dora().expect("an ACK after the reload");

    // SIGTERM with hostile clients connected: Kea exits at once.
    let (_t, _s, _n) = (trickler(&pair, LISTEN, give_up), silent(&pair, LISTEN, give_up), non_reader(&pair, LISTEN));
    let t0 = Instant::now();
    let log = kea.stop();
    let shutdown = t0.elapsed();
    assert!(shutdown < Duration::from_secs(3), "SIGTERM to exit took {shutdown:?}");
    assert!(!log.contains("still running at unload"), "{log}");
    eprintln!("SIGTERM with hostile clients connected: {}", ms(shutdown));
}
