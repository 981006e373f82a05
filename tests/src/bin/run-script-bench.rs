//! `run-script-bench`: kea-dhcp4's DORA rate (and kea-dhcp6's
//! SOLICIT-ADVERTISE-REQUEST-REPLY rate) with no hook, with ISC's
//! run_script, and with this kit's run-script in exec and in stream mode,
//! one run each with the same traffic (run it through
//! `scripts/bench-run-script.sh`). Every variant with a hook runs the same
//! script, the recorder (tests/src/bin/run-script-recorder.rs), which
//! appends a line per invocation: after each run the lines are counted
//! against the REQUESTs Kea answered (each fires one `leases4_committed`,
//! or `leases6_committed`), so the figures carry their proof that no event
//! was lost.
//!
//! First it measures the machine's bare rate of starting that script and
//! waiting for it (`posix_spawn` + `waitpid`, one at a time, from this
//! program): the physical limit of a process per event.
//!
//! Kea runs single-threaded, perfdhcp on the last CPU (when there are two
//! or more), in the test network namespaces. Kea is not pinned (scripts
//! inherit its CPU affinity, and a pinned Kea would run every script on
//! its own CPU) unless `--pin-kea`. The offered rate defaults to 2000
//! DORA/s, which Kea without hooks sustains here with room to spare, so
//! every variant gets the same traffic. Options: `--seconds N` (default
//! 10), `--rate R`, `--spawns N` (default 3000), `--variants a,b` (names
//! containing these), `--family 4|6|both` (default both), `--pin-kea`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kea_hooks_tests::{
    build_bin, build_hook, hooks_together, isc_hook, perfdhcp6_start, perfdhcp_on_cpu, KeaConfig, NetPair, Profile,
};
use serde_json::{json, Value};

struct Opts {
    seconds: u64,
    rate: u64,
    spawns: u32,
    variants: Vec<String>,
    families: Vec<u8>,
    pin_kea: bool,
}

fn opts() -> Opts {
    let mut o = Opts { seconds: 10, rate: 2000, spawns: 3000, variants: Vec::new(), families: vec![4, 6], pin_kea: false };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{} needs a number", args[i]));
        match args[i].as_str() {
            "--seconds" => o.seconds = value(),
            "--rate" => o.rate = value(),
            "--spawns" => o.spawns = value() as u32,
            "--family" => {
                o.families = match args.get(i + 1).map(String::as_str) {
                    Some("4") => vec![4],
                    Some("6") => vec![6],
                    Some("both") => vec![4, 6],
                    other => panic!("--family 4|6|both, not {other:?}"),
                }
            }
            "--variants" => o.variants = args.get(i + 1).expect("--variants a,b").split(',').map(str::to_owned).collect(),
            "--pin-kea" => {
                o.pin_kea = true;
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

fn lines(path: &Path) -> u64 {
    std::fs::read_to_string(path).map(|t| t.lines().count() as u64).unwrap_or(0)
}


/// Sequential posix_spawn + wait of `script` (std's Command uses
/// posix_spawn here), with an empty environment and argv [script, point].
fn spawn_rate(script: &Path, n: u32) -> f64 {
    let t0 = Instant::now();
    for _ in 0..n {
        let status = std::process::Command::new(script).arg("leases4_committed").env_clear().status().expect("run the recorder");
        assert!(status.success());
    }
    f64::from(n) / t0.elapsed().as_secs_f64()
}

struct Run {
    name: &'static str,
    rate: f64,
    acks: u64,
    recorded: Option<u64>,
    status: Option<Value>,
    /// Script runs per second, from the start of traffic to the last run's end.
    events_rate: Option<f64>,
}

fn main() {
    let o = opts();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // perfdhcp on a CPU of its own; Kea, and the scripts it starts
    // (children inherit its CPU affinity), on the others, unless --pin-kea.
    let client_cpu = (cpus >= 2).then_some(cpus - 1);
    let kea_cpu = (o.pin_kea && cpus >= 2).then_some(0);
    let ours = build_hook("kea-hook-run-script", "dhcp_run_script", Profile::Release);
    let recorder = build_bin("kea-hooks-tests", "run-script-recorder", Profile::Release);
    println!("# run-script-bench: {cpus} CPUs, Kea (single-threaded) on CPU {kea_cpu:?} (None: any), perfdhcp on CPU {client_cpu:?}");
    println!("# DORA at up to {}/s for {} s per variant; script: the recorder (a line per invocation)", o.rate, o.seconds);

    let scratch = std::env::temp_dir().join(format!("run-script-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let bare = scratch.join("bare");
    std::fs::copy(&recorder, &bare).unwrap();
    let limit = spawn_rate(&bare, o.spawns);
    println!("\nbare posix_spawn + wait of the recorder, one at a time: {limit:.0} /s ({} runs)", o.spawns);
    let _ = std::fs::remove_dir_all(&scratch);

    for &family in &o.families {
        bench_family(&o, family, limit, &ours, &recorder, client_cpu, kea_cpu);
    }
}

/// The four variants in kea-dhcp4 (`family` 4) or kea-dhcp6 (6), and
/// their table and ratios.
fn bench_family(
    o: &Opts,
    family: u8,
    limit: f64,
    ours: &Path,
    recorder: &Path,
    client_cpu: Option<usize>,
    kea_cpu: Option<usize>,
) {
    let server = if family == 4 { "kea-dhcp4" } else { "kea-dhcp6" };
    let mut runs = Vec::new();
    for name in ["no hook", "ISC run_script", "run-script exec", "run-script stream"] {
        if !o.variants.is_empty() && !o.variants.iter().any(|v| name.contains(v.as_str())) {
            continue;
        }
        let pair = NetPair::wide();
        let cfg = if family == 4 {
            KeaConfig::new(&pair)
        } else {
            // A /112 pool: room for every client of the run.
            let subnet: std::net::Ipv6Addr = pair.subnet6().split('/').next().and_then(|a| a.parse().ok()).unwrap();
            let mut pool = subnet.segments();
            pool[6] = 1;
            let pool = format!("{}/112", std::net::Ipv6Addr::from(pool));
            KeaConfig::new6(&pair).subnet6_merge(json!({ "pools": [{ "pool": pool }] }))
        };
        let mut cfg = cfg.cpu(kea_cpu).valid_lifetime(86400).severity("WARN").multi_threading(false);
        let script = cfg.dir().join("script");
        std::fs::copy(recorder, &script).unwrap();
        let record = PathBuf::from(format!("{}.jsonl", script.display()));
        cfg = match name {
            "no hook" => cfg,
            "ISC run_script" => {
                let lib = hooks_together(cfg.dir(), &[isc_hook("libdhcp_run_script.so")]).remove(0);
                cfg.hook(&lib, Some(json!({ "name": script })))
            }
            _ => {
                let lib = hooks_together(cfg.dir(), &[ours.to_path_buf()]).remove(0);
                let mode = if name.ends_with("stream") { "stream" } else { "exec" };
                // Backpressure instead of drops: every event must run.
                cfg.hook(&lib, Some(json!({ "name": script, "mode": mode, "on-full": "wait" })))
            }
        };
        let mut kea = cfg.start(&pair).unwrap_or_else(|e| panic!("{e}"));
        let args = ["-r", &o.rate.to_string(), "-R", "1000000", "-p", &o.seconds.to_string(), "-W", "1000000"];
        let t0 = Instant::now();
        let (report, acks) = if family == 4 {
            let report = perfdhcp_on_cpu(&pair, client_cpu, &args);
            // Each REQUEST Kea answers (ACK, or NAK) fires one leases4_committed.
            (report, kea.statistic("pkt4-ack-sent") + kea.statistic("pkt4-nak-sent"))
        } else {
            let report = perfdhcp6_start(&pair, client_cpu, &args).wait();
            // Each REPLY (to a REQUEST: no rapid commit, no RENEW here)
            // follows one leases6_committed.
            (report, kea.statistic("pkt6-reply-sent"))
        };
        let rate = report.acks() as f64 / o.seconds as f64;
        // Let every accepted event finish, then count the script's lines.
        let (recorded, status) = if name == "no hook" {
            (None, None)
        } else {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut last = (u64::MAX, Instant::now());
            loop {
                let n = lines(&record);
                let idle = name == "ISC run_script" || kea.command("run-script-status", None)["arguments"]["unfinished"] == 0;
                if (n >= acks && idle) || Instant::now() >= deadline {
                    break;
                }
                // ISC's hook has no status: stop when its count stops growing.
                if n != last.0 {
                    last = (n, Instant::now());
                } else if name == "ISC run_script" && last.1.elapsed() > Duration::from_secs(3) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let status = (name != "ISC run_script").then(|| kea.command("run-script-status", None)["arguments"].clone());
            (Some(lines(&record)), status)
        };
        // From the first DISCOVER to the last script's end (ISC's: to the
        // last line seen, less the 3 s of quiet that proved it the last).
        let mut done_in = t0.elapsed().as_secs_f64();
        if name == "ISC run_script" {
            done_in -= 3.0;
        }
        kea.stop();
        runs.push(Run { name, rate, acks, recorded, status, events_rate: recorded.map(|n| n as f64 / done_in.max(o.seconds as f64)) });
    }

    let base = runs.iter().find(|r| r.name == "no hook").map_or(f64::NAN, |r| r.rate);
    println!(
        "\n{server}\n{:<20} {:>12} {:>8} {:>10} {:>10} {:>8} {:>10}  counters",
        "variant", "exchanges/s", "x none", "events", "script ran", "lost", "runs/s"
    );
    for r in &runs {
        let (ran, lost) = match r.recorded {
            Some(n) => (n.to_string(), (r.acks as i64 - n as i64).to_string()),
            None => ("-".into(), "-".into()),
        };
        let counters = r.status.as_ref().map_or(String::new(), |s| {
            format!("queued {} run {} failed {} dropped {} lost {}", s["queued"], s["run"], s["failed"], s["dropped"], s["lost"])
        });
        let runs_per_s = r.events_rate.map_or("-".into(), |e| format!("{e:.0}"));
        println!(
            "{:<20} {:>12.0} {:>8.3} {:>10} {:>10} {:>8} {:>10}  {counters}",
            r.name,
            r.rate,
            r.rate / base,
            r.acks,
            ran,
            lost,
            runs_per_s
        );
    }
    let find = |n: &str| runs.iter().find(|r| r.name == n);
    let base_rate = find("no hook").map(|r| r.rate);
    if let Some(exec) = find("run-script exec") {
        let exec_runs = exec.events_rate.unwrap_or(0.0);
        let isc = find("ISC run_script").and_then(|r| r.events_rate).map_or(String::new(), |i| format!(", {:.2}x ISC's", exec_runs / i));
        println!(
            "\n{server} exec mode: {exec_runs:.0} script runs/s end to end = {:.2}x the bare spawn limit ({limit:.0}/s){isc}; target >= 0.8x the limit, none lost",
            exec_runs / limit
        );
    }
    if let (Some(stream), Some(base)) = (find("run-script stream"), base_rate) {
        println!("{server} stream mode: {:.3}x the no-hook rate; target >= 0.8x", stream.rate / base);
    }
}
