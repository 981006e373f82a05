//! `kea-bench`: the SDK's benchmark (run it through `scripts/bench.sh`).
//!
//! 1. Per callout, in process: `callout_bench` drives Kea's own
//!    `HooksManager::callCallouts` for pkt4_receive, lease4_select and
//!    pkt4_send with no library, the hand-written C++ hook and the Rust hook
//!    (same work), and prints ns per call and Rust minus C++. The same
//!    driver under callgrind gives instructions per callout, which do not
//!    depend on what else the machine is doing.
//! 2. End to end: kea-dhcp4 (pinned to one CPU) serves perfdhcp (pinned to
//!    another) in network namespaces, with no hook, the C++ hook and the
//!    Rust hook, back to back in each round; prints the median exchanges
//!    per second (ACKs received over the sending period) and Kea's CPU time
//!    per exchange, with the per-round ratios to C++ and their 95%
//!    bootstrap interval. Then each variant runs under cachegrind at a low
//!    rate: Kea's instructions and simulated cache misses per DORA
//!    exchange, which the machine's noise does not move.
//! 3. End to end, side by side: the reference variant (C++) and each other
//!    one serve at the same time, both Keas pinned to the same CPU and both
//!    perfdhcps to the other, so whatever the neighbours do hits both
//!    alike; the scheduler shares the CPU between the two Keas, so the
//!    ratio of their exchanges/s is the inverse ratio of their cost. Sides
//!    swap every round. Prints the per-round ratios with their bootstrap
//!    interval, and how much of the CPU the two Keas used (if well below
//!    100%, the clients limited the rate and the ratio understates a gap).
//!
//! Options: `--rounds N` (default 12; the per-callout part runs at most
//! 5), `--seconds S` per end-to-end run (default 3),
//! `--rate R` perfdhcp's target rate (default 20000), `--skip-e2e`,
//! `--skip-callouts`, and `--variant NAME=LIB[+LIB...]` (repeatable) to
//! compare other sets of libraries end to end instead of none/C++/Rust
//! (`cpp` and `rust` name the two bench hooks, `cpp-options` and
//! `rust-options` the same hooks with `"options": true`, which also read an
//! option of the query and set one on the response, `park-on` and
//! `park-off` the parking bench hook with and without parking, `lease-stats`
//! hooks/lease-stats, `cpp-lease-points` a C++ hook with lease-stats'
//! callouts reading the leases it reads and counting nothing and
//! `rust-lease-points` its Rust twin, `cpp-park-on` and `cpp-park-off` the
//! parking bench hook's C++ twin (`cpp-park-ioservice`: resuming through
//! Kea's IOService instead of an eventfd Kea watches); ratios are to `cpp`
//! when it is one of them, else to the first by name; `--twins` compares
//! each Rust variant with its C++ twin side by side, with an A/A control).
//! DHCPv6: `cpp6` and `rust6` name the DHCPv6 bench hooks
//! (tests/bench/cpp-hook/bench6_hook.cc, tests/bench/rust6-hook),
//! `cpp6-options` and `rust6-options` the same with `"options": true` (read
//! the query's ORO, set option 23 on the response), `none6` no hook; a
//! variant with one of them runs in kea-dhcp6 (single-threaded, WARN, long
//! lifetimes, a pool of 65,536 addresses) under `perfdhcp -6`, where an
//! exchange is a SARR (the REPLYs to REQUESTs count), in every part of 2
//! and 3 (a variant and its reference must be the same family);
//! `--twins6` compares the DHCPv6 twins side by side, with an A/A control
//! (`--rounds 0 --skip-callouts --cachegrind-runs 1 --side-by-side 8
//! --twins6`). The per-callout part 1 is DHCPv4's only.
//! Where the
//! parking bench hook is loaded, side by side also prints the time from
//! leases4_committed to pkt4_send (a parked packet's round trip).
//!
//! Parking: `--rounds 0 --skip-callouts --cachegrind-runs 0 --variant
//! baseline=rust+park-off --variant parked=rust+park-on --side-by-side 8`.
//! `--keep-cachegrind` keeps cachegrind's per-function output of the
//! 240-exchange runs in `target/bench/cachegrind.NAME.RUN` and of the
//! 40-exchange ones in `cachegrind.NAME.RUN.few` (for `cg_annotate`;
//! `cg_diff` of the two is what the exchanges in between cost, start-up
//! left out, and `cg_diff` of two variants' such diffs is where one costs
//! more per exchange than the other). `--cachegrind-runs N` (default 3; 0 skips them) repeats
//! the cachegrind runs, each with fresh library copies: where the loader
//! puts a library moves its counts by a few dozen misses per exchange, so
//! their median is steadier than one run. `--rounds 0` skips the
//! wall-clock runs (and keeps one round of the per-callout part).
//! `--side-by-side N` (default 12; 0 skips) sets the rounds of 3.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kea_hooks_tests::{
    build_bench_fixtures, build_hook, callgrind_per_callout, perfdhcp6_start, perfdhcp_start, target_dir, Kea, KeaConfig, NetPair,
    PerfdhcpReport, PerfdhcpRun, Profile,
};

struct Opts {
    rounds: usize,
    seconds: u32,
    rate: u32,
    e2e: bool,
    callouts: bool,
    variants: Vec<(String, String)>,
    keep_cachegrind: bool,
    cachegrind_runs: usize,
    side_by_side: usize,
}

fn opts() -> Opts {
    let mut o = Opts { rounds: 12, seconds: 3, rate: 20000, e2e: true, callouts: true, variants: Vec::new(), keep_cachegrind: false, cachegrind_runs: 3, side_by_side: 12 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || args.next().and_then(|v| v.parse::<u32>().ok()).unwrap_or_else(|| usage());
        match a.as_str() {
            "--rounds" => o.rounds = num() as usize,
            "--seconds" => o.seconds = num(),
            "--rate" => o.rate = num(),
            "--skip-e2e" => o.e2e = false,
            "--skip-callouts" => o.callouts = false,
            "--keep-cachegrind" => o.keep_cachegrind = true,
            "--cachegrind-runs" => o.cachegrind_runs = num() as usize,
            "--side-by-side" => o.side_by_side = num() as usize,
            "--variant" => {
                let v = args.next().unwrap_or_else(|| usage());
                let (name, libs) = v.split_once('=').unwrap_or_else(|| usage());
                o.variants.push((name.to_owned(), libs.to_owned()));
            }
            // Each Rust variant against its C++ twin, and an A/A control.
            "--twins" => o.variants.extend(TWINS.iter().map(|(n, l)| (n.to_string(), l.to_string()))),
            // The same for the DHCPv6 bench hooks.
            "--twins6" => o.variants.extend(TWINS6.iter().map(|(n, l)| (n.to_string(), l.to_string()))),
            _ => usage(),
        }
    }
    o
}

/// `--twins`: each Rust bench variant against its C++ twin (`NAME~REF`:
/// side by side, NAME runs against REF), and the C++ hook against another
/// copy of itself (the A/A control: every variant's libraries are fresh
/// copies).
const TWINS: [(&str, &str); 9] = [
    ("cpp", "cpp"),
    ("cpp-again~cpp", "cpp"),
    ("rust~cpp", "rust"),
    ("cpp-options", "cpp-options"),
    ("rust-options~cpp-options", "rust-options"),
    ("cpp-lease-points", "cpp-lease-points"),
    ("rust-lease-points~cpp-lease-points", "rust-lease-points"),
    ("cpp-park", "cpp-park-on"),
    ("rust-park~cpp-park", "park-on"),
];

/// `--twins6`: the DHCPv6 bench hooks' twins (kea-dhcp6, perfdhcp -6),
/// with their A/A control.
const TWINS6: [(&str, &str); 5] = [
    ("cpp6", "cpp6"),
    ("cpp6-again~cpp6", "cpp6"),
    ("rust6~cpp6", "rust6"),
    ("cpp6-options", "cpp6-options"),
    ("rust6-options~cpp6-options", "rust6-options"),
];

/// The variant a `--variant NAME~REF=...` is compared with side by side.
fn against(spec_name: &str) -> (&str, Option<&str>) {
    match spec_name.split_once('~') {
        Some((name, reference)) => (name, Some(reference)),
        None => (spec_name, None),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: kea-bench [--rounds N] [--seconds S] [--rate R] [--skip-e2e] [--skip-callouts] \
         [--variant NAME[~REF]=LIB[+LIB...]]... [--twins] [--twins6] [--keep-cachegrind] [--cachegrind-runs N] [--side-by-side N]"
    );
    std::process::exit(2)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let o = opts();
    let out = target_dir().join("bench");

    eprintln!("building the hooks and the driver...");
    let rust_hook = build_hook("kea-hook-bench", "dhcp_bench_rust", Profile::Release);
    let park_hook = build_hook("kea-hook-bench-park", "dhcp_bench_park", Profile::Release);
    build_bench_fixtures(&out);
    let cpp_hook = out.join("libdhcp_bench_cpp.so");
    let driver = out.join("callout_bench");

    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (kea_cpu, client_cpu) = if cpus >= 2 { (Some(0), Some(1)) } else { (None, None) };
    println!("# kea-bench: {} CPUs, Kea on CPU {kea_cpu:?}, perfdhcp on CPU {client_cpu:?}", cpus);
    println!("# {}", cpu_model());

    let variants: [(&str, Option<&Path>); 3] = [("none", None), ("cpp", Some(&cpp_hook)), ("rust", Some(&rust_hook))];

    if o.callouts {
        println!("\n## Per callout, in process (HooksManager::callCallouts), ns per call, median of rounds");
        // point -> variant -> samples
        let mut ns: BTreeMap<String, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
        for round in 0..o.rounds.clamp(1, 5) {
            for k in 0..3 {
                let (name, lib) = variants[(round + k) % 3];
                let mut cmd = Command::new(&driver);
                cmd.args(["--cpu", &client_cpu.unwrap_or(0).to_string(), "--reps", "5"]);
                if let Some(lib) = lib {
                    cmd.arg(lib);
                }
                for line in run(&mut cmd).lines().filter(|l| l.starts_with("point=")) {
                    let field = |key: &str| line.split_whitespace().find_map(|w| w.strip_prefix(key)).unwrap_or("");
                    let v: f64 = field("ns_per_call=").parse().unwrap_or(f64::NAN);
                    ns.entry(field("point=").to_owned()).or_default().entry(name).or_default().push(v);
                }
            }
        }
        println!("{:<16} {:>10} {:>10} {:>10} {:>14}", "point", "no hook", "C++", "Rust", "Rust - C++");
        for (point, by) in &mut ns {
            let mut m = |v: &str| by.get_mut(v).map(|s| median(s)).unwrap_or(f64::NAN);
            let (none, cpp, rust) = (m("none"), m("cpp"), m("rust"));
            println!("{point:<16} {none:>10.1} {cpp:>10.1} {rust:>10.1} {:>+14.1}", rust - cpp);
        }
    }

    if o.callouts {
        println!("\n## Per callout, instructions (callgrind; mean of the three points)");
        let mut ir = BTreeMap::new();
        for (name, lib) in variants {
            let per_call = callgrind_per_callout(&driver, lib, &out);
            ir.insert(name, per_call);
        }
        println!("{:>10} {:>10} {:>10} {:>14}", "no hook", "C++", "Rust", "Rust - C++");
        println!(
            "{:>10.0} {:>10.0} {:>10.0} {:>+14.0}",
            ir["none"],
            ir["cpp"],
            ir["rust"],
            ir["rust"] - ir["cpp"]
        );
    }

    if o.e2e {
        let variants = e2e_variants(&o, &cpp_hook, &rust_hook, &park_hook);
        if o.rounds > 0 {
            println!(
                "\n## End to end: {} + perfdhcp ({}, {} s per run, target rate {}/s), exchanges/s",
                servers(&variants),
                exchange_kind(&variants),
                o.seconds,
                o.rate
            );
        }
        let pair = NetPair::wide();
        let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut cpu_us: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut user_us: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut sys_us: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for round in 0..o.rounds {
            for k in 0..variants.len() {
                let variant = &variants[(round + k) % variants.len()];
                let name = variant.name.as_str();
                let mut kea = start_kea(&pair, kea_cpu, variant.family, &fresh_copies(&out, name, &variant.libs));
                let args = load_args(&o);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let cpu_before = cpu_ns(kea.pid());
                let stat_before = proc_stat(kea.pid());
                let report = perfdhcp_run(variant.family, &pair, client_cpu, 0, &args).wait();
                let cpu = cpu_ns(kea.pid()) - cpu_before;
                let stat = proc_stat(kea.pid()).since(&stat_before);
                // Completed DORA exchanges (ACKs; DHCPv6: REPLYs to
                // REQUESTs) over the sending period:
                // perfdhcp's own `Rate:` also divides by the -W wait.
                let acks = report.acks().max(1) as f64;
                let rate = acks / f64::from(o.seconds);
                // Kea's CPU time per completed exchange: every packet it
                // handled (also those perfdhcp gave up on) over the ACKs.
                let per_exchange = cpu as f64 / 1000.0 / acks;
                let ticks_us = |ticks: u64| ticks as f64 * 1e6 / ticks_per_second() / acks;
                let (user, sys) = (ticks_us(stat.user_ticks), ticks_us(stat.sys_ticks));
                eprintln!(
                    "round {round} {name:<5} {rate:>9.1} exchanges/s {per_exchange:>7.1} us CPU/exchange \
                     (user {user:.1}, sys {sys:.1}; {:.3} minor faults per exchange)",
                    stat.minor_faults as f64 / acks,
                );
                assert!(kea.is_alive(), "Kea died under load with {name}");
                kea.stop();
                rates.entry(name).or_default().push(rate);
                cpu_us.entry(name).or_default().push(per_exchange);
                user_us.entry(name).or_default().push(user);
                sys_us.entry(name).or_default().push(sys);
            }
        }
        if o.rounds > 0 {
            let paired_rates = paired_ratios(&rates);
            let paired_cpu = paired_ratios(&cpu_us);
            summarize(&mut rates);
            print_paired("exchanges/s", &paired_rates);
            println!("\n## End to end: Kea CPU time per exchange, us (lower is better)");
            summarize(&mut cpu_us);
            print_paired("CPU time per exchange", &paired_cpu);
            println!("\n## ... of which user space (/proc/PID/stat, 10 ms ticks)");
            summarize(&mut user_us);
            println!("\n## ... and kernel");
            summarize(&mut sys_us);
        }

        let l2 = l2_cache();
        if o.cachegrind_runs > 0 {
            println!(
                "\n## End to end under cachegrind (last level simulated as this CPU's L2, {}): Kea's counts per {} \
                 exchange, {} runs",
                l2.join(","),
                exchange_kind(&variants),
                o.cachegrind_runs
            );
        }
        // counter -> variant -> [per exchange, one per run]
        let mut counts: BTreeMap<&'static str, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
        for run in 0..o.cachegrind_runs {
            for Variant { name, family, libs } in &variants {
                let libs = &fresh_copies(&out, name, libs);
                let keep = |suffix: &str| o.keep_cachegrind.then(|| out.join(format!("cachegrind.{name}.{run}{suffix}")));
                let (few, few_acks) = kea_counts(&pair, *family, libs, 40, &l2, keep(".few").as_deref());
                let (many, many_acks) = kea_counts(&pair, *family, libs, 240, &l2, keep("").as_deref());
                assert!(many_acks > few_acks, "{name}: {few_acks} then {many_acks} exchanges");
                for (counter, n) in many {
                    let per = (n as f64 - few[counter] as f64) / (many_acks - few_acks) as f64;
                    counts.entry(counter).or_default().entry(name.as_str()).or_default().push(per);
                }
            }
        }
        for (counter, mut by_variant) in counts {
            println!("\n{counter}");
            summarize(&mut by_variant);
        }

        if o.side_by_side > 0 {
            side_by_side(&o, &out, &variants, kea_cpu, client_cpu);
        }
    }
}

/// Part 3 (see the top of this file): each variant against the reference,
/// both serving at the same time on the same CPU.
fn side_by_side(
    o: &Opts,
    out: &Path,
    variants: &[Variant],
    kea_cpu: Option<usize>,
    client_cpu: Option<usize>,
) {
    let default_reference = reference_variant(variants.iter().map(|v| v.name.as_str()));
    // Each variant's reference: its `~REF`, else the default one. A
    // variant that is some variant's reference runs only as that.
    let explicit: BTreeMap<&str, &str> =
        o.variants.iter().filter_map(|(spec, _)| match against(spec) { (name, Some(r)) => Some((name, r)), _ => None }).collect();
    let references: Vec<&str> =
        explicit.values().copied().chain(std::iter::once(default_reference)).collect();
    let reference_of = |name: &str| explicit.get(name).copied().unwrap_or(default_reference);
    let variant_named = |name: &str| variants.iter().find(|v| v.name == name);
    println!(
        "\n## End to end, side by side: each variant and its reference ({default_reference} unless named) serving at the \
         same time (both Keas on CPU {kea_cpu:?}, both perfdhcps on CPU {client_cpu:?}, {} s per run, target rate {}/s \
         each)",
        o.seconds, o.rate
    );
    let pairs = [NetPair::wide(), NetPair::wide()];
    let args = load_args(o);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // reference -> variant -> per-round ratios
    let mut rates: BTreeMap<&str, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    let mut cpu: BTreeMap<&str, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    let mut shares: BTreeMap<&str, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    let mut busy = Vec::new();
    let mut trips: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 0..o.side_by_side {
        for variant in variants.iter().filter(|v| !references.contains(&v.name.as_str()) || explicit.contains_key(v.name.as_str())) {
            let (name, family, libs) = (&variant.name, variant.family, &variant.libs);
            let reference = reference_of(name);
            let Some(ref_variant) = variant_named(reference) else { panic!("--variant {name}~{reference}: no variant {reference}") };
            assert!(
                ref_variant.family == family,
                "--variant {name}~{reference}: {name} is {family:?} and {reference} {:?}",
                ref_variant.family
            );
            // Swap the pairs (and the start order) every round.
            let mut sides = [(reference, &ref_variant.libs), (name.as_str(), libs)];
            if round % 2 == 1 {
                sides.reverse();
            }
            let mut keas: Vec<Kea> = sides
                .iter()
                .enumerate()
                .map(|(k, (side, libs))| start_kea(&pairs[k], kea_cpu, family, &fresh_copies(out, &format!("sbs{k}-{side}"), libs)))
                .collect();
            let before: Vec<u64> = keas.iter().map(|k| cpu_ns(k.pid())).collect();
            let runs: Vec<_> = pairs.iter().enumerate().map(|(k, p)| perfdhcp_run(family, p, client_cpu, k, &args)).collect();
            let reports: Vec<PerfdhcpReport> = runs.into_iter().map(|r| r.wait()).collect();
            let used: Vec<f64> = keas.iter().zip(&before).map(|(k, b)| (cpu_ns(k.pid()) - b) as f64).collect();
            // The parking bench hook's round trips (leases4_committed to
            // pkt4_send), where it is loaded.
            for (kea, (side, libs)) in keas.iter().zip(&sides) {
                if libs.iter().any(|l| l.path.file_name().is_some_and(|n| n == "libdhcp_bench_park.so")) {
                    let a = kea.command("bench-park-stats", None);
                    let ns = |k: &str| a["arguments"][k].as_f64().unwrap_or(f64::NAN);
                    eprintln!(
                        "  {side}: leases4_committed to pkt4_send: mean {:.1} us, p50 < {:.1} us, p99 < {:.1} us over {} exchanges",
                        ns("mean-ns") / 1000.0,
                        ns("p50-ns") / 1000.0,
                        ns("p99-ns") / 1000.0,
                        a["arguments"]["count"]
                    );
                    trips.entry(*side).or_default().push(ns("mean-ns") / 1000.0);
                }
            }
            for (kea, (side, _)) in keas.iter_mut().zip(&sides) {
                assert!(kea.is_alive(), "Kea died under load with {side}");
                kea.stop();
            }
            let acks: Vec<f64> = reports.iter().map(|r| r.acks().max(1) as f64).collect();
            let (r, v) = if sides[0].0 == reference { (0, 1) } else { (1, 0) };
            // Kea's CPU over the sending period (the -W wait is idle).
            let share = (used[0] + used[1]) / (f64::from(o.seconds) * 1e9);
            eprintln!(
                "side by side round {round}: {} {:.1}/s, {} {:.1}/s, {:.1} and {:.1} us CPU/exchange, CPU {:.0}% busy",
                sides[0].0,
                acks[0] / f64::from(o.seconds),
                sides[1].0,
                acks[1] / f64::from(o.seconds),
                used[0] / 1000.0 / acks[0],
                used[1] / 1000.0 / acks[1],
                share * 100.0
            );
            rates.entry(reference).or_default().entry(name.as_str()).or_default().push(acks[v] / acks[r]);
            cpu.entry(reference).or_default().entry(name.as_str()).or_default().push((used[v] / acks[v]) / (used[r] / acks[r]));
            shares.entry(reference).or_default().entry(name.as_str()).or_default().push(used[v] / used[r]);
            busy.push(share);
        }
    }
    for (reference, rates) in rates {
        print_paired("exchanges/s", &(reference, rates));
    }
    for (reference, cpu) in cpu {
        print_paired("Kea CPU time per exchange", &(reference, cpu));
    }
    // exchanges/s ratio = CPU share ratio / CPU-per-exchange ratio: the
    // scheduler's split of the CPU between the two Keas moves by a few
    // percent from round to round, which is most of the first ratio's
    // spread; the second does not depend on it.
    for (reference, shares) in shares {
        print_paired("Kea CPU time used (the scheduler's share)", &(reference, shares));
    }
    for (side, mut means) in trips {
        println!(
            "{side}: leases4_committed to pkt4_send, mean per exchange: {:.1} us (median of {} runs)",
            median(&mut means),
            means.len()
        );
    }
    println!(
        "the two Keas kept their CPU {:.0}% busy (median; well below 100% means the clients, not Kea, set the pace)",
        median(&mut busy) * 100.0
    );
}

/// A hook library of a variant, with its `parameters`.
#[derive(Clone)]
struct HookLib {
    path: PathBuf,
    parameters: Option<serde_json::Value>,
}

/// Which server a variant runs in: kea-dhcp4 under `perfdhcp -4`, or
/// kea-dhcp6 under `perfdhcp -6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// An end-to-end variant: its name, its server and its hook libraries.
struct Variant {
    name: String,
    family: Family,
    libs: Vec<HookLib>,
}

/// Names in a `--variant` library list that are DHCPv6 hooks (or, `none6`,
/// no hook in kea-dhcp6): a variant with one of them runs in kea-dhcp6.
const V6_LIBS: [&str; 5] = ["none6", "cpp6", "rust6", "cpp6-options", "rust6-options"];

/// "kea-dhcp4", "kea-dhcp6" or both, for headings.
fn servers(variants: &[Variant]) -> &'static str {
    match (variants.iter().any(|v| v.family == Family::V4), variants.iter().any(|v| v.family == Family::V6)) {
        (true, true) => "kea-dhcp4 and kea-dhcp6",
        (false, true) => "kea-dhcp6",
        _ => "kea-dhcp4",
    }
}

/// What one exchange is, for headings: DORA (DHCPv4), SARR (DHCPv6).
fn exchange_kind(variants: &[Variant]) -> &'static str {
    match servers(variants) {
        "kea-dhcp4 and kea-dhcp6" => "DORA or SARR",
        "kea-dhcp6" => "SARR",
        _ => "DORA",
    }
}

/// The end-to-end variants: `--variant NAME=LIB[+LIB...]` options, else no
/// hook, the C++ bench hook and the Rust bench hook. `cpp` and `rust` in a
/// library list name the bench hooks, `cpp-options` and `rust-options` the
/// same with `"options": true`; `cpp6`, `rust6`, `cpp6-options` and
/// `rust6-options` the DHCPv6 bench hooks (a variant with one of them, or
/// with `none6`, runs in kea-dhcp6; other library paths go with them).
fn e2e_variants(o: &Opts, cpp_hook: &Path, rust_hook: &Path, park_hook: &Path) -> Vec<Variant> {
    let specs: Vec<(String, String)> = if o.variants.is_empty() {
        vec![("none".into(), String::new()), ("cpp".into(), "cpp".into()), ("rust".into(), "rust".into())]
    } else {
        o.variants.clone()
    };
    specs
        .into_iter()
        .map(|(name, libs)| {
            let name = against(&name).0.to_owned();
            let tokens: Vec<&str> = libs.split('+').filter(|l| !l.is_empty() && *l != "none").collect();
            let family = if tokens.iter().any(|l| V6_LIBS.contains(l)) { Family::V6 } else { Family::V4 };
            let named_v4 = tokens.iter().find(|l| !V6_LIBS.contains(l) && !l.contains('/'));
            assert!(
                family == Family::V4 || named_v4.is_none(),
                "--variant {name}={libs}: {} is a DHCPv4 hook, the others DHCPv6 ones",
                named_v4.unwrap_or(&"")
            );
            let paths = tokens
                .into_iter()
                .filter(|l| *l != "none6")
                .map(|l| {
                    let options = Some(serde_json::json!({ "options": true }));
                    let (path, parameters) = match l {
                        "cpp" => (cpp_hook.to_path_buf(), None),
                        // The DHCPv6 bench hooks (tests/bench/cpp-hook/bench6_hook.cc,
                        // tests/bench/rust6-hook).
                        "cpp6" => (cpp_hook.with_file_name("libdhcp_bench6_cpp.so"), None),
                        "rust6" => (build_hook("kea-hook-bench6", "dhcp_bench6_rust", Profile::Release), None),
                        "cpp6-options" => (cpp_hook.with_file_name("libdhcp_bench6_cpp.so"), options),
                        "rust6-options" => (build_hook("kea-hook-bench6", "dhcp_bench6_rust", Profile::Release), options),
                        "rust" => (rust_hook.to_path_buf(), None),
                        "cpp-options" => (cpp_hook.to_path_buf(), options),
                        "rust-options" => (rust_hook.to_path_buf(), options),
                        "park-on" => (park_hook.to_path_buf(), Some(serde_json::json!({ "park": true }))),
                        "park-off" => (park_hook.to_path_buf(), Some(serde_json::json!({ "park": false }))),
                        // hooks/lease-stats, as deployed (no metrics endpoint).
                        "lease-stats" => (build_hook("kea-hook-lease-stats", "dhcp_lease_stats", Profile::Release), None),
                        // lease-stats' callouts in C++, reading its arguments.
                        "cpp-lease-points" => (cpp_hook.with_file_name("libdhcp_bench_lease_points.so"), None),
                        // The same callouts in Rust, reading the same.
                        "rust-lease-points" => {
                            (build_hook("kea-hook-bench-lease-points", "dhcp_bench_lease_points_rust", Profile::Release), None)
                        }
                        // The parking bench hook's C++ twin.
                        "cpp-park-on" => {
                            (cpp_hook.with_file_name("libdhcp_bench_park_cpp.so"), Some(serde_json::json!({ "park": true })))
                        }
                        // ... resuming through Kea's IOService instead (see
                        // tests/bench/cpp-hook/park_bench_hook.cc).
                        "cpp-park-ioservice" => (
                            cpp_hook.with_file_name("libdhcp_bench_park_cpp.so"),
                            Some(serde_json::json!({ "park": true, "wake": "ioservice" })),
                        ),
                        "cpp-park-off" => {
                            (cpp_hook.with_file_name("libdhcp_bench_park_cpp.so"), Some(serde_json::json!({ "park": false })))
                        }
                        other => (PathBuf::from(other), None),
                    };
                    HookLib { path, parameters }
                })
                .collect();
            Variant { name, family, libs: paths }
        })
        .collect()
}

/// A configuration serving `pair`: kea-dhcp4's ([`KeaConfig::new`]), or
/// kea-dhcp6's ([`KeaConfig::new6`]) with a pool of 65,536 addresses
/// (`2001:2:0:N::1:0/112`) for perfdhcp's 60,000 clients.
fn kea_config(pair: &NetPair, family: Family) -> KeaConfig {
    match family {
        Family::V4 => KeaConfig::new(pair),
        Family::V6 => {
            let subnet: std::net::Ipv6Addr =
                pair.subnet6().split('/').next().and_then(|a| a.parse().ok()).expect("the pair's IPv6 subnet");
            let mut pool = subnet.segments();
            pool[6] = 1;
            let pool = format!("{}/112", std::net::Ipv6Addr::from(pool));
            KeaConfig::new6(pair).subnet6_merge(serde_json::json!({ "pools": [{ "pool": pool }] }))
        }
    }
}

/// Starts perfdhcp (`-4` or `-6` after `family`) on `pair` in the
/// background, pinned to `cpu`. `side` (0 or 1) gives a DHCPv6 run a base
/// MAC of its own for its clients' DUIDs, so two concurrent runs never
/// share a client (their servers are apart anyway; it keeps captures and
/// logs apart too).
fn perfdhcp_run(family: Family, pair: &NetPair, cpu: Option<usize>, side: usize, args: &[&str]) -> PerfdhcpRun {
    match family {
        Family::V4 => perfdhcp_start(pair, cpu, args),
        Family::V6 => {
            let base = format!("mac=02:b6:00:00:{side:02x}:00");
            let args: Vec<&str> = ["-b", base.as_str()].into_iter().chain(args.iter().copied()).collect();
            perfdhcp6_start(pair, cpu, &args)
        }
    }
}

/// Starts kea-dhcp4 (`family` V6: kea-dhcp6) for a wall-clock run on
/// `pair`, pinned to `cpu`, with the hook libraries `libs`.
fn start_kea(pair: &NetPair, cpu: Option<usize>, family: Family, libs: &[HookLib]) -> Kea {
    // WARN: at INFO Kea writes a log line per OFFER and per ACK, which
    // would dominate what is measured.
    let mut cfg = kea_config(pair, family).cpu(cpu).valid_lifetime(86400).severity("WARN");
    for lib in libs {
        cfg = cfg.hook(&lib.path, lib.parameters.clone());
    }
    // Single-threaded, like the numbers in BENCHMARKS.md (Kea 2.4+ defaults
    // to multi-threading on; the harness always writes it).
    cfg.multi_threading(false).start(pair).unwrap_or_else(|e| panic!("{e}"))
}

/// perfdhcp's arguments for a wall-clock run: `--rate` for `--seconds`, then
/// a second's wait for the last replies.
fn load_args(o: &Opts) -> Vec<String> {
    ["-r", &o.rate.to_string(), "-R", "60000", "-p", &o.seconds.to_string(), "-W", "1000000"].map(str::to_owned).to_vec()
}

/// Copies a variant's libraries into a new directory `out/e2e-NAME`, as new
/// files, for one run. Kea 2.6+ loads hooks from one directory only. New
/// files also get new page-cache pages: where a library's code lands in
/// physical memory decides which cache sets it competes for, and with the
/// same copy for a whole benchmark that luck was the same in every round
/// (seen: Rust/C++ 0.97 in one run and 1.01 in the next, each with a tight
/// interval). A fresh copy per run turns it into noise the rounds average.
fn fresh_copies(out: &Path, name: &str, libs: &[HookLib]) -> Vec<HookLib> {
    let dir = out.join(format!("e2e-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    libs.iter()
        .map(|lib| {
            let src = &lib.path;
            let dst = dir.join(src.file_name().unwrap_or_else(|| panic!("--variant: {} is not a file", src.display())));
            std::fs::copy(src, &dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
            HookLib { path: dst, parameters: lib.parameters.clone() }
        })
        .collect()
}

/// Runs kea-dhcp4 or kea-dhcp6 (single-threaded, logging at WARN) under
/// cachegrind, serves `clients` DORA (SARR) exchanges from perfdhcp at 50/s, stops it and
/// returns (Kea's totals: instructions and simulated cache misses, exchanges
/// completed). Two runs with different counts give the cost of one
/// exchange, start-up excluded. `l2` is cachegrind's `--LL` (size, ways,
/// line), so "L2 misses" are the accesses that would go past a cache the
/// size of this CPU's L2. `keep` keeps cachegrind's output file there.
fn kea_counts(
    pair: &NetPair,
    family: Family,
    libs: &[HookLib],
    clients: u32,
    l2: &[String],
    keep: Option<&Path>,
) -> (BTreeMap<&'static str, u64>, u64) {
    let ll = format!("--LL={}", l2.join(","));
    let out_file = format!("--cachegrind-out-file={}", keep.map_or("/dev/null".into(), |p| p.display().to_string()));
    let mut cfg = kea_config(pair, family).valid_lifetime(86400).severity("WARN").launcher(&[
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=yes",
        "--branch-sim=yes",
        &ll,
        &out_file,
    ]);
    for lib in libs {
        cfg = cfg.hook(&lib.path, lib.parameters.clone());
    }
    let mut kea = cfg.start(pair).unwrap_or_else(|e| panic!("{e}"));
    let n = clients.to_string();
    let seconds = (clients / 50 + 5).to_string();
    let report = match family {
        Family::V4 => perfdhcp_run(family, pair, None, 0, &["-r", "50", "-R", &n, "-n", &n, "-p", &seconds, "-W", "2000000"]),
        // Two -n: perfdhcp -6 counts both exchanges against a single one.
        Family::V6 => perfdhcp_run(family, pair, None, 0, &["-r", "50", "-R", &n, "-n", &n, "-n", &n, "-p", &seconds, "-W", "2000000"]),
    }
    .wait();
    kea.stop();
    let stderr = std::fs::read_to_string(kea.dir().join("kea.stderr")).unwrap_or_default();
    // cachegrind's summary lines, e.g. "==12== I1  misses:  9,411" (the
    // spacing inside the label differs between valgrind releases).
    let summary = |label: &str| -> &str {
        stderr
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once("== ")?.1.split_once(':')?;
                (name.split_whitespace().collect::<Vec<_>>().join(" ") == label).then_some(value)
            })
            .unwrap_or_else(|| panic!("no '{label}' from cachegrind in:\n{stderr}"))
    };
    let number = |text: &str| -> u64 { text.trim().replace(',', "").parse().unwrap_or_else(|_| panic!("{text:?}")) };
    let total = |label: &str| number(summary(label).split_whitespace().next().unwrap_or(""));
    // "Mispredicts:  1,234  (  1,000 cond +  234 ind)": the indirect part.
    let indirect = |label: &str| {
        let value = summary(label);
        let inner = value.split_once('(').and_then(|(_, r)| r.split_once('+')).map(|(_, r)| r).unwrap_or("");
        number(inner.trim().trim_end_matches(')').trim().trim_end_matches("ind"))
    };
    let counts = BTreeMap::from([
        ("instructions", total("I refs")),
        ("L1i misses", total("I1 misses")),
        ("L1d misses", total("D1 misses")),
        ("L2 misses (instructions and data)", total("LL misses")),
        ("branch mispredictions (simulated)", total("Mispredicts")),
        ("branch mispredictions, indirect (simulated)", indirect("Mispredicts")),
    ]);
    (counts, report.acks())
}

/// This CPU's L2 as cachegrind's `--LL` values (size, ways, line size),
/// from sysfs; 512 KiB, 8 ways, 64 bytes where sysfs does not say.
fn l2_cache() -> Vec<String> {
    let dir = Path::new("/sys/devices/system/cpu/cpu0/cache/index2");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok().map(|s| s.trim().to_owned());
    let size = read("size").and_then(|s| s.strip_suffix('K').and_then(|k| k.parse::<u64>().ok())).map(|k| k * 1024);
    match (read("level").as_deref(), size, read("ways_of_associativity"), read("coherency_line_size")) {
        (Some("2"), Some(size), Some(ways), Some(line)) => vec![size.to_string(), ways, line],
        _ => vec!["524288".into(), "8".into(), "64".into()],
    }
}

/// What ratios are taken to: `cpp` when it is one of `names`, else the
/// first of them in alphabetical order.
fn reference_variant<'a>(names: impl IntoIterator<Item = &'a str>) -> &'a str {
    let names: Vec<&str> = names.into_iter().collect();
    if names.contains(&"cpp") {
        "cpp"
    } else {
        names.into_iter().min().unwrap_or("")
    }
}

/// Each variant's per-round ratios to the reference variant (`cpp` when
/// there is one, else the first): rounds run the variants back to back, so
/// a ratio within a round cancels most of what the machine's neighbours do
/// to both.
fn paired_ratios<'a>(samples: &BTreeMap<&'a str, Vec<f64>>) -> (&'a str, BTreeMap<&'a str, Vec<f64>>) {
    let reference = reference_variant(samples.keys().copied());
    let base = samples.get(reference).cloned().unwrap_or_default();
    let ratios = samples
        .iter()
        .filter(|(name, _)| **name != reference)
        .map(|(name, v)| (*name, v.iter().zip(&base).map(|(x, b)| x / b).collect()))
        .collect();
    (reference, ratios)
}

/// Prints the median of each variant's per-round ratios with a 95%
/// bootstrap confidence interval (2,000 resamples of the rounds).
fn print_paired(what: &str, (reference, ratios): &(&str, BTreeMap<&str, Vec<f64>>)) {
    println!("per-round {what} / {reference}: median [95% CI]");
    for (name, r) in ratios {
        let mut r = r.clone();
        let (low, high) = bootstrap_median_ci(&r);
        println!("  {name:<8} {:.3} [{low:.3}, {high:.3}] over {} rounds", median(&mut r), r.len());
    }
}

/// 95% percentile-bootstrap interval of the median of `v`. The generator is
/// a fixed-seed LCG: the interval is reproducible for the same samples.
fn bootstrap_median_ci(v: &[f64]) -> (f64, f64) {
    if v.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    let mut medians: Vec<f64> = (0..2000)
        .map(|_| {
            let mut sample: Vec<f64> = (0..v.len()).map(|_| v[next(v.len())]).collect();
            median(&mut sample)
        })
        .collect();
    medians.sort_by(|a, b| a.total_cmp(b));
    (medians[50], medians[1949])
}

/// Prints median, min and max per variant, and each median's ratio to the
/// reference variant (`cpp` when there is one, else the first in order).
fn summarize(samples: &mut BTreeMap<&str, Vec<f64>>) {
    let reference = reference_variant(samples.keys().copied());
    let mut med = BTreeMap::new();
    for (name, v) in samples.iter_mut() {
        med.insert(*name, median(v));
    }
    let base = med.get(reference).copied().unwrap_or(f64::NAN);
    println!("{:<8} {:>10} {:>10} {:>10} {:>12} {:>10}", "hook", "median", "min", "max", format!("- {reference}"), format!("/ {reference}"));
    for (name, v) in samples.iter() {
        let m = med[name];
        println!("{name:<8} {m:>10.2} {:>10.2} {:>10.2} {:>+12.2} {:>10.3}", v[0], v[v.len() - 1], m - base, m / base);
    }
}

/// CPU time (ns) all threads of process `pid` have run so far, from the
/// scheduler's own accounting (`/proc/PID/task/*/schedstat`).
fn cpu_ns(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap_or_else(|e| panic!("/proc/{pid}/task: {e}"));
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Counters of a process (all its threads) from /proc.
struct ProcStat {
    user_ticks: u64,
    sys_ticks: u64,
    minor_faults: u64,
}

impl ProcStat {
    fn since(&self, before: &ProcStat) -> ProcStat {
        ProcStat {
            user_ticks: self.user_ticks - before.user_ticks,
            sys_ticks: self.sys_ticks - before.sys_ticks,
            minor_faults: self.minor_faults - before.minor_faults,
        }
    }
}

fn proc_stat(pid: u32) -> ProcStat {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which ends with the last ')'.
    let f: Vec<u64> = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("").split_whitespace().map(|w| w.parse().unwrap_or(0)).collect();
    let field = |n: usize| f.get(n - 3).copied().unwrap_or(0); // n: 1-based field number of proc(5)
    ProcStat { user_ticks: field(14), sys_ticks: field(15), minor_faults: field(10) }
}

/// The unit of /proc's CPU times (USER_HZ, 100 on Linux/x86).
fn ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().ok();
        out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0)
    })
}
