//! `kea-metrics-bench`: what a scrape of the kea-metrics hook costs, and
//! how long it holds Kea's main thread, as the configuration grows (run it
//! through `scripts/bench-kea-metrics.sh`).
//!
//! For each size (default 10, 1,000 and 10,000 subnets of two pools each)
//! kea-dhcp4 starts with kea-metrics, single-threaded (every read of the
//! statistics is a step of its main thread: the case the hook must keep
//! short), in a network namespace of its own, listening on no interface.
//! Measured in the same run, interleaved, `--scrapes` times each (default
//! 20), from connect to the last byte:
//! * a scrape of the hook's page;
//! * the baseline: a scrape of kea-exporter 0.7 (PyPI, the tests' venv)
//!   on the same Kea, which sends `config-get` and `statistic-get-all` per
//!   scrape, and `statistic-get-all` alone over the control socket (one
//!   step of Kea's main thread, the whole of it);
//! * Kea's main thread while scrapes run back to back: the round trips of
//!   `version-get` (answered there) sent back to back for 3 s, against the
//!   same with no scrape running; the largest is how long one step held
//!   it. The hook's own figure (`kea_metrics_longest_main_thread_step_seconds`)
//!   is printed beside it.
//!
//! The subnets are 10.0.0.0/8's /24s (they exist only in the
//! configuration). Options: `--sizes 10,1000,10000`, `--scrapes N`,
//! `--page-size N` (the hook's, default 1000).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use kea_hooks_tests::{build_hook, in_netns, Kea, KeaConfig, KeaExporter, NetPair, Profile};
use serde_json::{json, Value};

const LISTEN: &str = "127.0.0.1:9547";

fn subnets(n: u32) -> Value {
    (0..n)
        .map(|k| {
            let (b, c) = (k / 256, k % 256);
            json!({ "id": k + 1, "subnet": format!("10.{b}.{c}.0/24"),
                    "pools": [{ "pool": format!("10.{b}.{c}.10 - 10.{b}.{c}.99") }, { "pool": format!("10.{b}.{c}.100 - 10.{b}.{c}.199") }] })
        })
        .collect()
}

/// GET /metrics at `addr` (in namespace `ns`, or here): the time to the
/// last byte and the body.
fn get(ns: Option<&str>, addr: &str) -> (f64, String) {
    let addr: SocketAddr = addr.parse().unwrap();
    let t0 = Instant::now();
    let mut s = match ns {
        Some(ns) => in_netns(ns, move || TcpStream::connect(addr)),
        None => TcpStream::connect(addr),
    }
    .expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read the page");
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(text.starts_with("HTTP/1.") && text.contains(" 200 "), "{:.200}", text);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (ms, body)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The value of sample `name` (no labels) on a page.
fn sample(page: &str, name: &str) -> f64 {
    page.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' '))).and_then(|v| v.trim().parse().ok()).unwrap_or(f64::NAN)
}

/// The largest and median round trip of `version-get` sent back to back
/// for `secs`.
fn main_thread_probe(kea: &Kea, secs: f64) -> (f64, f64) {
    let t0 = Instant::now();
    let mut v = Vec::new();
    while t0.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        let answer = kea.command("version-get", None);
        v.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(answer["result"], 0);
    }
    (percentile(&mut v, 1.0), percentile(&mut v, 0.5))
}

fn main() {
    let mut sizes = vec![10u32, 1000, 10000];
    let mut scrapes = 20usize;
    let mut page_size = 1000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sizes" => sizes = args.next().expect("--sizes N,N").split(',').map(|s| s.parse().expect("a size")).collect(),
            "--scrapes" => scrapes = args.next().expect("--scrapes N").parse().expect("a count"),
            "--page-size" => page_size = args.next().expect("--page-size N").parse().expect("a count"),
            _ => {
                eprintln!("usage: kea-metrics-bench [--sizes N,N,...] [--scrapes N] [--page-size N]");
                std::process::exit(2);
            }
        }
    }
    eprintln!("building hooks/kea-metrics...");
    let lib = build_hook("kea-hook-kea-metrics", "dhcp_kea_metrics", Profile::Release);
    let pair = NetPair::new();
    println!("# kea-metrics-bench: Kea hooks version {}, single-threaded kea-dhcp4, page-size {page_size}; times in ms", kea_hooks_tests::kea_hooks_version());
    println!(
        "\n{:>8} {:>8} | {:>17} | {:>17} | {:>17} | {:>8} | {:>9} {:>9} {:>9} | {:>7}",
        "subnets", "stats", "hook scrape", "kea-exporter", "statistic-get-all", "kx/hook", "main idle", "main busy", "hook step", "steps"
    );
    println!("{:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} | {:>8} | {:>9} {:>9} {:>9} | {:>7}", "", "", "median", "p90", "median", "p90", "median", "p90", "", "max", "max", "max", "");
    for &n in &sizes {
        let mut kea = KeaConfig::new(&pair)
            .start_timeout(Duration::from_secs(120))
            .hook(&lib, Some(json!({ "listen": LISTEN, "page-size": page_size })))
            .merge(json!({ "interfaces-config": { "interfaces": [] }, "subnet4": subnets(n) }))
            .start(&pair)
            .unwrap_or_else(|e| panic!("{e}"));
        let ns = pair.server_ns();
        let exporter = KeaExporter::start(&kea.socket_path());
        let kx_addr = exporter.url().trim_start_matches("http://").split('/').next().unwrap().to_owned();
        // Warm-up, and the size of the page.
        let (_, page) = get(Some(&ns), LISTEN);
        let stats = sample(&page, "kea_metrics_statistics");
        get(None, &kx_addr);
        let (mut hook, mut kx, mut all) = (Vec::new(), Vec::new(), Vec::new());
        let mut hook_step = 0f64;
        let mut steps = 0f64;
        for _ in 0..scrapes {
            let (ms, page) = get(Some(&ns), LISTEN);
            hook.push(ms);
            hook_step = hook_step.max(sample(&page, "kea_metrics_longest_main_thread_step_seconds") * 1000.0);
            steps = sample(&page, "kea_metrics_main_thread_pages");
            kx.push(get(None, &kx_addr).0);
            let t0 = Instant::now();
            let answer = kea.command("statistic-get-all", None);
            all.push(t0.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(answer["result"], 0);
        }
        // Kea's main thread, idle, then with the hook scraped back to back.
        let (idle_max, _) = main_thread_probe(&kea, 3.0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (busy_max, _) = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    get(Some(&ns), LISTEN);
                }
            });
            let r = main_thread_probe(&kea, 3.0);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            r
        });
        let (hm, h9) = (percentile(&mut hook, 0.5), percentile(&mut hook, 0.9));
        let (km, k9) = (percentile(&mut kx, 0.5), percentile(&mut kx, 0.9));
        let (am, a9) = (percentile(&mut all, 0.5), percentile(&mut all, 0.9));
        println!(
            "{n:>8} {stats:>8} | {hm:>8.2} {h9:>8.2} | {km:>8.2} {k9:>8.2} | {am:>8.2} {a9:>8.2} | {:>7.1}x | {idle_max:>9.2} {busy_max:>9.2} {hook_step:>9.3} | {steps:>7}",
            km / hm
        );
        drop(exporter);
        kea.stop();
    }
    println!(
        "\nkx/hook: kea-exporter's median scrape over the hook's. main idle / busy: the longest version-get round trip (Kea's main \
         thread) with no scrape running / with the hook scraped back to back; hook step: the longest step the hook itself measured on \
         the main thread; steps: the steps of one scrape. statistic-get-all: what any poller of Kea's JSON costs the main thread in one step."
    );
}
