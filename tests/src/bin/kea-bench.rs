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
//!    Rust hook, interleaved over several rounds; prints the median
//!    exchanges per second (ACKs received over the sending period), Kea's
//!    CPU time per exchange, and the ratios. Then each variant runs under
//!    callgrind at a low rate: Kea's instructions per DORA exchange, which
//!    the machine's noise does not move.
//!
//! Options: `--rounds N` (default 5), `--seconds S` per run (default 5),
//! `--rate R` perfdhcp's target rate (default 20000), `--skip-e2e`,
//! `--skip-callouts`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kea_hooks_tests::{build_hook, perfdhcp, perfdhcp_on_cpu, target_dir, workspace_root, KeaConfig, NetPair, Profile};

struct Opts {
    rounds: usize,
    seconds: u32,
    rate: u32,
    e2e: bool,
    callouts: bool,
}

fn opts() -> Opts {
    let mut o = Opts { rounds: 5, seconds: 5, rate: 20000, e2e: true, callouts: true };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || args.next().and_then(|v| v.parse::<u32>().ok()).unwrap_or_else(|| usage());
        match a.as_str() {
            "--rounds" => o.rounds = num() as usize,
            "--seconds" => o.seconds = num(),
            "--rate" => o.rate = num(),
            "--skip-e2e" => o.e2e = false,
            "--skip-callouts" => o.callouts = false,
            _ => usage(),
        }
    }
    o
}

fn usage() -> ! {
    eprintln!("usage: kea-bench [--rounds N] [--seconds S] [--rate R] [--skip-e2e] [--skip-callouts]");
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
    let root = workspace_root();
    let out = target_dir().join("bench");

    eprintln!("building the hooks and the driver...");
    let rust_hook = build_hook("kea-hook-bench", "dhcp_bench_rust", Profile::Release);
    run(Command::new(root.join("tests/bench/build.sh")).arg(&out));
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
        for round in 0..o.rounds.max(1) {
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
            let count = |iterations: u64| -> u64 {
                let out_file = out.join(format!("callgrind.{name}.{iterations}"));
                let mut cmd = Command::new("valgrind");
                cmd.arg("--tool=callgrind").arg(format!("--callgrind-out-file={}", out_file.display()));
                cmd.arg(&driver).args(["--iterations", &iterations.to_string(), "--reps", "1", "--warmup", "0"]);
                if let Some(lib) = lib {
                    cmd.arg(lib);
                }
                let output = cmd.output().unwrap_or_else(|e| panic!("valgrind (apt-get install valgrind): {e}"));
                let _ = std::fs::remove_file(&out_file);
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(output.status.success(), "{cmd:?} failed:\n{stderr}");
                callgrind_total(&stderr)
            };
            // Two runs differing only in iteration count: start-up cancels out.
            let (few, many) = (2_000, 22_000);
            let per_call = (count(many) - count(few)) as f64 / ((many - few) * 3) as f64;
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
        println!(
            "\n## End to end: kea-dhcp4 + perfdhcp (DORA, {} s per run, target rate {}/s), exchanges/s",
            o.seconds, o.rate
        );
        let pair = NetPair::wide();
        let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut cpu_us: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for round in 0..o.rounds.max(1) {
            for k in 0..3 {
                let (name, lib) = variants[(round + k) % 3];
                // WARN: at INFO Kea writes a log line per OFFER and per ACK,
                // which would dominate what is measured.
                let mut cfg = KeaConfig::new(&pair).cpu(kea_cpu).valid_lifetime(86400).severity("WARN");
                if let Some(lib) = lib {
                    cfg = cfg.hook(lib, None);
                }

                // Single-threaded, like the numbers in BENCHMARKS.md (Kea 2.4+
                // defaults to multi-threading on; the harness always writes it).
                cfg = cfg.multi_threading(false);
                let mut kea = cfg.start(&pair).unwrap_or_else(|e| panic!("{e}"));
                let args = [
                    "-r".to_owned(), o.rate.to_string(), "-R".to_owned(), "60000".to_owned(),
                    "-p".to_owned(), o.seconds.to_string(), "-W".to_owned(), "1000000".to_owned(),
                ];
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let cpu_before = cpu_ns(kea.pid());
                let report = perfdhcp_on_cpu(&pair, client_cpu, &args);
                let cpu = cpu_ns(kea.pid()) - cpu_before;
                // Completed DORA exchanges (ACKs) over the sending period:
                // perfdhcp's own `Rate:` also divides by the -W wait.
                let acks = report.acks();
                let rate = acks as f64 / f64::from(o.seconds);
                // Kea's CPU time per completed exchange: every packet it
                // handled (also those perfdhcp gave up on) over the ACKs.
                let per_exchange = cpu as f64 / 1000.0 / acks.max(1) as f64;
                eprintln!("round {round} {name:<5} {rate:>9.1} exchanges/s {per_exchange:>7.1} us CPU/exchange");
                cpu_us.entry(name).or_default().push(per_exchange);
                assert!(kea.is_alive(), "Kea died under load with {name}");
                kea.stop();
                rates.entry(name).or_default().push(rate);
            }
        }
        summarize(&mut rates);
        println!("\n## End to end: Kea CPU time per exchange, us (lower is better)");
        summarize(&mut cpu_us);

        println!("\n## End to end under callgrind: Kea's instructions per DORA exchange");
        let mut per_exchange = BTreeMap::new();
        for (name, lib) in variants {
            let (few_ir, few_acks) = kea_instructions(&pair, lib, 40);
            let (many_ir, many_acks) = kea_instructions(&pair, lib, 240);
            assert!(many_acks > few_acks, "{name}: {few_acks} then {many_acks} exchanges");
            per_exchange.insert(name, (many_ir - few_ir) as f64 / (many_acks - few_acks) as f64);
        }
        println!("{:>10} {:>10} {:>10} {:>14} {:>12}", "no hook", "C++", "Rust", "Rust - C++", "Rust/C++");
        let (none, cpp, rust) = (per_exchange["none"], per_exchange["cpp"], per_exchange["rust"]);
        println!("{none:>10.0} {cpp:>10.0} {rust:>10.0} {:>+14.0} {:>12.4}", rust - cpp, rust / cpp);
    }
}

/// Runs kea-dhcp4 (single-threaded, logging at WARN) under callgrind,
/// serves `clients` DORA exchanges from perfdhcp at 50/s, stops it and
/// returns (instructions Kea executed in all, exchanges completed). Two runs
/// with different counts give the cost of one exchange, start-up excluded.
fn kea_instructions(pair: &NetPair, lib: Option<&Path>, clients: u32) -> (u64, u64) {
    let mut cfg = KeaConfig::new(pair)
        .valid_lifetime(86400)
        .severity("WARN")
        .launcher(&["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]);
    if let Some(lib) = lib {
        cfg = cfg.hook(lib, None);
    }
    let mut kea = cfg.start(pair).unwrap_or_else(|e| panic!("{e}"));
    let n = clients.to_string();
    let seconds = (clients / 50 + 5).to_string();
    let report = perfdhcp(pair, &["-r", "50", "-R", &n, "-n", &n, "-p", &seconds, "-W", "2000000"]);
    kea.stop();
    let stderr = std::fs::read_to_string(kea.dir().join("kea.stderr")).unwrap_or_default();
    (callgrind_total(&stderr), report.acks())
}

/// The instruction total callgrind prints at exit (`Collected : N`).
fn callgrind_total(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1).and_then(|n| n.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no instruction count from callgrind in:\n{stderr}"))
}

/// Prints median, min and max per variant, and the ratios of the medians.
fn summarize(samples: &mut BTreeMap<&str, Vec<f64>>) {
    println!("{:<8} {:>10} {:>10} {:>10}", "hook", "median", "min", "max");
    let mut med = BTreeMap::new();
    for (name, v) in samples.iter_mut() {
        let m = median(v);
        med.insert(*name, m);
        println!("{name:<8} {m:>10.2} {:>10.2} {:>10.2}", v[0], v[v.len() - 1]);
    }
    println!(
        "ratio Rust/C++ = {:.3}   C++/none = {:.3}   Rust/none = {:.3}",
        med["rust"] / med["cpp"],
        med["cpp"] / med["none"],
        med["rust"] / med["none"]
    );
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
