//! `lease-stats-bench`: how long `lease-stats-get` takes against ISC's
//! `stat-lease4-get` and Kea's own `statistic-get`, through the control
//! socket, as the lease database grows (run it through
//! `scripts/bench-lease-stats.sh`).
//!
//! For each size (default 10,000, 100,000 and 1,000,000 leases) a memfile
//! is generated (16 subnets; 90% of the leases assigned, 5% declined, 5%
//! expired-reclaimed) and kea-dhcp4 starts twice on it: with stat_cmds
//! alone (the baseline), then with stat_cmds and lease-stats. Each command
//! is timed `--queries` times (default 30), interleaved, from connect to
//! the last byte of the answer; the medians and 90th percentiles are
//! printed with the ratios, plus start-up time, the time lease-stats took
//! to count the database, and Kea's resident memory with and without it.
//! Both answers are checked equal before anything is timed.
//!
//! The subnets are 10.16.0.0/16 to 10.31.0.0/16 (a million leases do not
//! fit in 198.18.0.0/15): they exist only in the configuration and the
//! lease file. Kea listens on no interface and runs in a network namespace
//! of its own, so nothing is ever sent anywhere.
//!
//! Options: `--sizes 10000,100000,1000000`, `--queries N`, `--v6`,
//! `--cold` (time lease-stats-get right after the stat_cmds command, whose
//! walk over the leases has evicted the caches; by default it follows
//! `statistic-get`).
//!
//! `--v6` runs the same in kea-dhcp6 against `stat-lease6-get`: 16 subnets
//! 2001:2:0:1000::/64 to 2001:2:0:100f::/64, each with its whole /64 as an
//! address pool (2^64 addresses) and a prefix-delegation pool of 2,048
//! /64s (2001:2:0:8000::/53 onwards); one lease in 32 a delegated prefix,
//! the addresses 90% assigned, 5% declined, 5% expired-reclaimed.
//!
//! `--pgsql` keeps the leases (the DHCPv4 layout above) in a PostgreSQL
//! database instead of memfile: Debian's PostgreSQL started for the run
//! (see `kea_hooks_tests::PgServer`), filled by one `INSERT ... SELECT
//! generate_series` (the database's triggers keep its statistics table,
//! which stat_cmds reads there); both servers open the same database.
//!
//! `--prefix8 N,N,...` measures instead how long lease-stats holds Kea's
//! main thread with one 10.0.0.0/8 subnet (a pool of nearly all of it) and
//! N leases spread evenly over it: the count at configuration (the hook's
//! log line) and a `config-reload` round trip, `lease-stats-recount`
//! (all subnets and `subnet-id` 1) round trips, and the round trips of a
//! cheap command (`version-get`, answered on the main thread) sent back to
//! back for 5 s while the background recount runs every second
//! (`recount-interval: 1`, the default page size), against the same probe
//! with no recount running: the largest is how long one step of the
//! recount held the main thread.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use kea_hooks_tests::{
    build_hook, hooks_together, isc_hook, kea_hooks_version, sql_lease_backend_hooks, write_memfile4, write_memfile6, Kea, KeaConfig,
    Lease6Row, LeaseRow, NetPair, PgServer, Profile,
};
use serde_json::{json, Value};

const SUBNETS: u32 = 16;

fn subnets() -> Value {
    (0..SUBNETS)
        .map(|k| {
            let b = 16 + k;
            json!({ "id": k + 1, "subnet": format!("10.{b}.0.0/16"), "pools": [{ "pool": format!("10.{b}.0.1 - 10.{b}.255.254") }] })
        })
        .collect()
}

fn leases(n: u32) -> impl Iterator<Item = LeaseRow> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let per = n.div_ceil(SUBNETS);
    (0..n).map(move |i| {
        let (k, j) = (i / per, i % per + 1);
        let state = match i % 20 {
            0 => 1,
            1 => 2,
            _ => 0,
        };
        LeaseRow {
            address: Ipv4Addr::new(10, (16 + k) as u8, (j >> 8) as u8, (j & 0xff) as u8),
            hwaddr: format!("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", k, (j >> 24) & 0xff, (j >> 16) & 0xff, (j >> 8) & 0xff, j & 0xff),
            client_id: String::new(),
            valid_lifetime: 86400,
            expire: if state == 2 { now - 10 } else { now + 86400 },
            subnet_id: k + 1,
            hostname: String::new(),
            fqdn: (false, false),
            state,
        }
    })
}

/// `--v6`: the subnets (see the header).
fn subnets6() -> Value {
    (0..SUBNETS)
        .map(|k| {
            let net = Ipv6Addr::new(0x2001, 2, 0, 0x1000 + k as u16, 0, 0, 0, 0);
            let pd = Ipv6Addr::new(0x2001, 2, 0, 0x8000 + (k as u16) * 0x800, 0, 0, 0, 0);
            json!({ "id": k + 1, "subnet": format!("{net}/64"), "pools": [{ "pool": format!("{net}/64") }],
                    "pd-pools": [{ "prefix": pd.to_string(), "prefix-len": 53, "delegated-len": 64 }] })
        })
        .collect()
}

/// `--v6`: the leases (see the header).
fn leases6(n: u32) -> impl Iterator<Item = Lease6Row> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let per = n.div_ceil(SUBNETS);
    (0..n).map(move |i| {
        let (k, j) = (i / per, i % per + 1);
        let pd = j % 32 == 0;
        let state = match i % 20 {
            0 if !pd => 1,
            1 => 2,
            _ => 0,
        };
        let address = if pd {
            Ipv6Addr::new(0x2001, 2, 0, 0x8000 + (k as u16) * 0x800 + (j / 32 % 2048) as u16, 0, 0, 0, 0)
        } else {
            Ipv6Addr::new(0x2001, 2, 0, 0x1000 + k as u16, 0, 0, (j >> 16) as u16, (j & 0xffff) as u16)
        };
        Lease6Row {
            address,
            duid: format!("00:03:00:01:02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", k, (j >> 24) & 0xff, (j >> 16) & 0xff, (j >> 8) & 0xff, j & 0xff),
            valid_lifetime: 86400,
            expire: if state == 2 { now - 10 } else { now + 86400 },
            preferred_lifetime: 43200,
            subnet_id: k + 1,
            lease_type: if pd { 2 } else { 0 },
            iaid: j,
            prefix_len: if pd { 64 } else { 128 },
            state,
        }
    })
}

/// Kea's resident memory, KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn timed(kea: &Kea, name: &str, args: &Value) -> f64 {
    let t0 = Instant::now();
    let answer = kea.command(name, Some(args.clone()));
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(answer["result"], 0, "{name}: {answer}");
    ms
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

struct Run {
    kea: Kea,
    start_s: f64,
}

/// `--pgsql`: a database holding [`leases`]`(n)`, as Kea's `lease-database`.
fn pgsql_leases(pg: &PgServer, n: u32) -> Value {
    let name = format!("bench{n}");
    let db = pg.kea_database(&name);
    let per = n.div_ceil(SUBNETS);
    let t0 = Instant::now();
    // The layout of `leases`: subnet k + 1 is 10.(16 + k).0.0/16, its
    // j-th lease 10.(16 + k).(j >> 8).(j & 255); one in 20 declined, one
    // in 20 expired-reclaimed.
    pg.psql(
        &name,
        &format!(
            "INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state) \
             SELECT (10::bigint << 24) + ((16 + k)::bigint << 16) + j, decode(lpad(to_hex(k::bigint << 32 | j), 12, '0'), 'hex'), NULL, 86400, \
                    now() + CASE WHEN st = 2 THEN interval '-10 seconds' ELSE interval '1 day' END, k + 1, false, false, '', st \
             FROM (SELECT i / {per} AS k, i % {per} + 1 AS j, CASE i % 20 WHEN 0 THEN 1 WHEN 1 THEN 2 ELSE 0 END AS st \
                   FROM generate_series(0, {n} - 1) AS i) AS l"
        ),
    );
    // As autovacuum leaves a live database: the trigger-kept statistics
    // table without the dead rows of a million updates.
    pg.psql(&name, "VACUUM ANALYZE lease4");
    pg.psql(&name, "VACUUM ANALYZE lease4_stat");
    eprintln!("  ({n} leases into PostgreSQL in {:.1} s)", t0.elapsed().as_secs_f64());
    db
}

fn start(pair: &NetPair, n: u32, libs: &[std::path::PathBuf], with_ours: bool, v6: bool, database: Option<&Value>) -> Run {
    let mut cfg = if v6 {
        KeaConfig::new(pair)
            .dhcp6()
            .start_timeout(Duration::from_secs(600))
            .severity("WARN")
            .logger("kea-dhcp6.lease-stats", "INFO", 0)
            .merge(json!({ "subnet6": subnets6() }))
    } else {
        KeaConfig::new(pair)
            .start_timeout(Duration::from_secs(300))
            .severity("WARN")
            .logger("kea-dhcp4.lease-stats", "INFO", 0)
            .merge(json!({ "interfaces-config": { "interfaces": [] }, "subnet4": subnets() }))
    };
    let backend = database.map(|db| sql_lease_backend_hooks(db["type"].as_str().unwrap())).unwrap_or_default();
    for lib in &backend {
        cfg = cfg.hook(lib, None);
    }
    cfg = cfg.hook(&libs[0], None);
    if with_ours {
        cfg = cfg.hook(&libs[1], Some(json!({ "recount-interval": 0 })));
    }
    if let Some(db) = database {
        cfg = cfg.merge(json!({ "lease-database": db }));
    } else if v6 {
        write_memfile6(&cfg.dir().join("leases6.csv"), leases6(n));
    } else {
        write_memfile4(&cfg.dir().join("leases4.csv"), leases(n));
    }
    let all: Vec<_> = backend.iter().chain(libs).cloned().collect();
    let copies = hooks_together(cfg.dir(), &all);
    for (i, copy) in copies.iter().enumerate() {
        cfg.set_hook_library(i, copy);
    }
    let t0 = Instant::now();
    let kea = cfg.start(pair).unwrap_or_else(|e| panic!("{e}"));
    Run { kea, start_s: t0.elapsed().as_secs_f64() }
}

/// The `ms=` of the hook's last log line containing `what`.
fn logged_ms(kea: &Kea, what: &str) -> String {
    kea.log()
        .lines()
        .rfind(|l| l.contains(what))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("ms=")).map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Median and maximum of `v`, ms.
fn median_max(v: &mut [f64]) -> (f64, f64) {
    (percentile(v, 0.5), percentile(v, 1.0))
}

/// `version-get` round trips, back to back, for `period`.
fn probe(kea: &Kea, period: Duration) -> Vec<f64> {
    let t0 = Instant::now();
    let mut v = Vec::new();
    while t0.elapsed() < period {
        v.push(timed(kea, "version-get", &json!({})));
    }
    v
}

/// `--prefix8`: see the header.
fn prefix8(pair: &NetPair, lib: &std::path::Path, n: u32) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let stride = ((1u32 << 24) - 64) / n;
    let leases = (0..n).map(move |i| {
        let a = (10u32 << 24) + 16 + i * stride;
        LeaseRow {
            address: Ipv4Addr::from(a),
            hwaddr: format!("02:08:{:02x}:{:02x}:{:02x}:{:02x}", (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
            client_id: String::new(),
            valid_lifetime: 86400,
            expire: now + 86400,
            subnet_id: 1,
            hostname: String::new(),
            fqdn: (false, false),
            state: 0,
        }
    });
    let mut cfg = KeaConfig::new(pair)
        .start_timeout(Duration::from_secs(300))
        .severity("WARN")
        .logger("kea-dhcp4.lease-stats", "DEBUG", 40)
        .merge(json!({ "interfaces-config": { "interfaces": [] },
                       "subnet4": [{ "id": 1, "subnet": "10.0.0.0/8", "pools": [{ "pool": "10.0.0.10 - 10.255.255.250" }] }] }));
    write_memfile4(&cfg.dir().join("leases4.csv"), leases);
    let copy = hooks_together(cfg.dir(), &[lib.to_path_buf()]).remove(0);
    cfg = cfg.hook(&copy, Some(json!({ "recount-interval": 0 })));
    let mut kea = cfg.start(pair).unwrap_or_else(|e| panic!("{e}"));
    let seed = logged_ms(&kea, "counted the lease database");
    let mut idle = probe(&kea, Duration::from_secs(2));
    let (mut all, mut all_hook, mut one) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..10 {
        let t0 = Instant::now();
        let a = kea.command("lease-stats-recount", None);
        all.push(t0.elapsed().as_secs_f64() * 1000.0);
        all_hook.push(a["arguments"]["duration-ms"].as_f64().unwrap_or(f64::NAN));
        assert_eq!(a["arguments"]["leases"], n, "{a}");
        one.push(timed(&kea, "lease-stats-recount", &json!({ "subnet-id": 1 })));
    }
    let t0 = Instant::now();
    let answer = kea.reload_with_hook_parameters(0, json!({ "recount-interval": 1 }));
    let reload = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(answer["result"], 0, "{answer}");
    let reseed = logged_ms(&kea, "counted the lease database");
    // The first background recount starts a second after the reload.
    let mut busy = probe(&kea, Duration::from_secs(6));
    let passes = kea.count_in_log("recounted");
    // The hook logs how long its longest page held the main thread.
    let page_ms = kea
        .log()
        .lines()
        .filter(|l| l.contains("recounted"))
        .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("page_us="))?.parse::<f64>().ok())
        .fold(f64::NAN, f64::max)
        / 1000.0;
    let (i99, b99) = (percentile(&mut idle, 0.99), percentile(&mut busy, 0.99));
    let (im, ix) = median_max(&mut idle);
    let (bm, bx) = median_max(&mut busy);
    let (am, ax) = median_max(&mut all);
    let (hm, _) = median_max(&mut all_hook);
    let (om, ox) = median_max(&mut one);
    println!(
        "{n:>9} | {seed:>9} {reseed:>9} {reload:>9.1} | {am:>8.2} {ax:>8.2} {hm:>8.0} | {om:>8.2} {ox:>8.2} | {im:>7.3} {i99:>7.3} {ix:>7.2} | {bm:>7.3} {b99:>7.3} {bx:>7.2} {:>6} {passes:>6} {page_ms:>8.3}",
        busy.len()
    );
    kea.stop();
}

fn main() {
    let mut sizes = vec![10_000u32, 100_000, 1_000_000];
    let mut queries = 30usize;
    let mut prefix8_sizes: Option<Vec<u32>> = None;
    let mut v6 = false;
    let mut cold = false;
    let mut pgsql = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--v6" || a == "--cold" || a == "--pgsql" {
            v6 |= a == "--v6";
            cold |= a == "--cold";
            pgsql |= a == "--pgsql";
            continue;
        }
        let value = args.next().unwrap_or_default();
        match a.as_str() {
            "--sizes" => sizes = value.split(',').map(|s| s.trim().parse().expect("--sizes: numbers")).collect(),
            "--queries" => queries = value.parse().expect("--queries: a number"),
            "--prefix8" => prefix8_sizes = Some(value.split(',').map(|s| s.trim().parse().expect("--prefix8: numbers")).collect()),
            _ => {
                eprintln!("usage: lease-stats-bench [--sizes N,N,...] [--queries N] [--v6 | --pgsql] [--cold] [--prefix8 N,N,...]");
                std::process::exit(2);
            }
        }
    }
    eprintln!("building hooks/lease-stats...");
    let ours = build_hook("kea-hook-lease-stats", "dhcp_lease_stats", Profile::Release);
    let pair = NetPair::new();
    if let Some(sizes) = prefix8_sizes {
        println!("# lease-stats-bench --prefix8: Kea hooks version {}, one 10.0.0.0/8 subnet; times in ms", kea_hooks_version());
        println!(
            "\n{:>9} | {:>9} {:>9} {:>9} | {:>26} | {:>17} | {:>23} | {:>48}",
            "leases", "count", "count", "reload", "lease-stats-recount", "... subnet-id 1", "probe, idle", "probe, background recounts"
        );
        println!(
            "{:>9} | {:>9} {:>9} {:>9} | {:>8} {:>8} {:>8} | {:>8} {:>8} | {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>6} {:>6} {:>8}",
            "", "at start", "at reload", "", "median", "max", "in hook", "median", "max", "median", "p99", "max", "median", "p99", "max", "probes", "passes", "page max"
        );
        for n in sizes {
            prefix8(&pair, &ours, n);
        }
        return;
    }
    if pgsql && v6 {
        eprintln!("lease-stats-bench: --pgsql is DHCPv4 only");
        std::process::exit(2);
    }
    let pg = pgsql.then(PgServer::start);
    let libs = [isc_hook("libdhcp_stat_cmds.so"), ours];
    let isc_get = if v6 { "stat-lease6-get" } else { "stat-lease4-get" };
    println!(
        "# lease-stats-bench: Kea hooks version {}, {}, {}, {queries} queries per command and size",
        kea_hooks_version(),
        if v6 { "kea-dhcp6" } else { "kea-dhcp4" },
        if pgsql { "PostgreSQL" } else { "memfile" }
    );
    println!(
        "\n{:>9} | {:>22} | {:>22} | {:>22} | {:>9} {:>9} | {:>8} {:>8} | {:>9} {:>9}",
        "leases", "statistic-get ms", format!("{isc_get} ms"), "lease-stats-get ms", "isc/ours", "ours/stat", "start s", "+ours s", "RSS MiB", "+ours MiB"
    );
    println!("{:>9} | {:>10} {:>11} | {:>10} {:>11} | {:>10} {:>11} |", "", "median", "p90", "median", "p90", "median", "p90");
    let all = json!({});
    let stat = json!({ "name": if v6 { "subnet[1].assigned-nas" } else { "subnet[1].assigned-addresses" } });
    for &n in &sizes {
        let database = pg.as_ref().map(|pg| pgsql_leases(pg, n));
        // Baseline: stat_cmds alone.
        let mut base = start(&pair, n, &libs[..1], false, v6, database.as_ref());
        let base_rss = rss_kib(base.kea.pid());
        base.kea.stop();
        // With lease-stats.
        let run = start(&pair, n, &libs, true, v6, database.as_ref());
        let kea = &run.kea;
        let rss = rss_kib(kea.pid());
        let seed_ms = kea
            .log()
            .lines()
            // (On SQL it reads the database's statistics there instead.)
            .find(|l| l.contains("counted the lease database") || l.contains("read the lease database's statistics"))
            .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("ms=")).map(str::to_owned))
            .unwrap_or_else(|| "?".into());
        // The same answer (timestamps and command names aside).
        let strip = |mut v: Value| {
            v["arguments"]["result-set"]["timestamp"] = Value::Null;
            v["text"] = Value::Null;
            v
        };
        let (isc, mine) = (kea.command(isc_get, None), kea.command("lease-stats-get", None));
        assert_eq!(strip(isc.clone()), strip(mine), "at {n} leases the answers differ; stat_cmds: {isc}");
        let rows = isc["arguments"]["result-set"]["rows"].as_array().map(Vec::len).unwrap_or(0);
        let (mut s, mut i, mut o) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            timed(kea, "statistic-get", &stat);
            timed(kea, "lease-stats-get", &all);
        }
        // The floor of any hook's command here: lease-stats-get for a
        // subnet that does not exist (result 3: parsed, looked up, no row).
        let mut floor = Vec::new();
        let none = json!({ "subnet-id": 4_000_000_000u32 });
        // stat_cmds' walk over every lease evicts the caches: what follows
        // it runs cold (at 1M leases, +0.1 ms for whichever command it
        // is), so lease-stats-get is timed after the statistic-get, both
        // as they run in a server between scrapes; `--cold` times it right
        // after stat_cmds' instead.
        for _ in 0..queries {
            i.push(timed(kea, isc_get, &all));
            if cold {
                o.push(timed(kea, "lease-stats-get", &all));
                s.push(timed(kea, "statistic-get", &stat));
            } else {
                s.push(timed(kea, "statistic-get", &stat));
                o.push(timed(kea, "lease-stats-get", &all));
            }
            let t0 = Instant::now();
            let answer = kea.command("lease-stats-get", Some(none.clone()));
            floor.push(t0.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(answer["result"], 3, "{answer}");
        }
        eprintln!("  (a hook command answering nothing: median {:.3} ms)", percentile(&mut floor, 0.5));
        let (sm, s9) = (percentile(&mut s, 0.5), percentile(&mut s, 0.9));
        let (im, i9) = (percentile(&mut i, 0.5), percentile(&mut i, 0.9));
        let (om, o9) = (percentile(&mut o, 0.5), percentile(&mut o, 0.9));
        println!(
            "{n:>9} | {sm:>10.3} {s9:>11.3} | {im:>10.3} {i9:>11.3} | {om:>10.3} {o9:>11.3} | {:>8.0}x {:>8.2}x | {:>8.1} {:>8.1} | {:>9.0} {:>9.0}",
            im / om,
            om / sm,
            base.start_s,
            run.start_s - base.start_s,
            base_rss as f64 / 1024.0,
            (rss as f64 - base_rss as f64) / 1024.0,
        );
        eprintln!("  ({rows} rows; lease-stats counted the database at start-up in {seed_ms} ms)");
        drop(run);
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "\nisc/ours: {isc_get}'s median over lease-stats-get's (target: 100x or more at 1M leases); \
         ours/stat: lease-stats-get's median over statistic-get's (target: 2x or less; flat in the lease count). \
         +ours: what loading lease-stats adds to start-up and resident memory."
    );
}
