//! Liveness of the lease-stats hook (hooks/lease-stats) under hostile
//! peers the tests make, in real kea-dhcp4: nothing the hook does may
//! leave Kea's main thread, a reload or a shutdown waiting without a
//! bound. Each test prints how long what it bounds took (run with
//! `--nocapture`).
//!
//! * A `lease-stats-recount` loop (and lease_cmds commands that recount a
//!   subnet) against a background recount that reads 50,000 leases a lease
//!   at a time through Kea's main thread (`recount-interval: 1`,
//!   `page-size: 1`): every command answers within its bound and DHCP
//!   still works. Before the fix the command waited on the main thread
//!   for a lock the background recount held while it waited for the main
//!   thread: within a few tries Kea answered nothing, for good.
//! * Metrics clients that trickle their request a byte at a time, say
//!   nothing, do not read their page, or reset the connection in the
//!   middle of it, and a Kea main thread kept busy: other scrapes are
//!   still served (503 when the main thread does not get to them in 2 s),
//!   each hostile client is cut off at the request's deadline, and
//!   `config-reload` and SIGTERM return at once. Before the fix the
//!   endpoint served one client at a time with a per-read timeout (a byte
//!   every 1.5 s held it for ever), waited for the main thread without a
//!   bound, and unload joined it.
//!
//! Run as root; see the README.

mod common;

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kea_hooks_tests::{
    hooks_together, isc_hook, require_root_and_kea, write_memfile4, Client4, Kea, KeaConfig, LeaseRow, NetPair,
};
use serde_json::{json, Value};

use common::lease_stats;
use common::http_clients::{connect, non_reader, scrape, silent, trickler};

/// The metrics endpoint, inside the server's namespace.
const LISTEN: &str = "127.0.0.1:9464";

/// The endpoint's deadline per request (hooks/lease-stats/src/metrics.rs).
const SCRAPE_DEADLINE: Duration = Duration::from_secs(10);

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The /16 of 198.18.0.0/15 the pair does not use (`198.B`), and a /24 of
/// the pair's own /16 that the pair's subnet is not (`198.A.C`): subnets
/// that exist only in the configuration and the lease file.
fn other_space(pair: &NetPair) -> (u8, [u8; 3]) {
    let o = pair.server_addr().octets();
    (if o[1] == 18 { 19 } else { 18 }, [198, o[1], o[2] ^ 0x80])
}

/// Sends a command on Kea's control socket and waits at most `bound` for
/// the answer: (answer, how long it took); panics naming the command when
/// there is none in time.
fn command_within(kea: &Kea, name: &str, arguments: Option<Value>, bound: Duration) -> (Value, Duration) {
    let t0 = Instant::now();
    let socket = kea.dir().join("kea4.sock");
    let mut stream = UnixStream::connect(&socket).unwrap_or_else(|e| panic!("{name}: connect {}: {e}", socket.display()));
    stream.set_read_timeout(Some(bound)).unwrap();
    stream.set_write_timeout(Some(bound)).unwrap();
    let mut request = json!({ "command": name });
    if let Some(a) = arguments {
        request["arguments"] = a;
    }
    stream.write_all(request.to_string().as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut text = String::new();
    if let Err(e) = stream.read_to_string(&mut text) {
        let why = match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                format!("no answer within {bound:?}: Kea's main thread is stuck")
            }
            _ => format!("the connection failed ({e}): did Kea die?"),
        };
        panic!("{name}: {why}\n{}", tail(&kea.log(), 30));
    }
    let took = t0.elapsed();
    assert!(took < bound, "{name}: answered after {took:?}, more than {bound:?}");
    let answer = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad answer {text:?}: {e}"));
    (answer, took)
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The `ms=` of the last log line containing `what`.
fn logged_ms(log: &str, what: &str) -> Option<u64> {
    log.lines().rfind(|l| l.contains(what))?.split_whitespace().find_map(|w| w.strip_prefix("ms="))?.parse().ok()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `lease-stats-recount`, and lease_cmds commands that make the hook
/// recount a subnet on Kea's main thread (`lease4-del` by identifier,
/// `lease4-wipe`), sent again and again while the background recount reads
/// 50,000 leases one at a time through the main thread: each answers
/// within 5 s (a recount on the main thread supersedes the background one,
/// waiting at most for its current step), DHCP is served, the counts still
/// agree with stat_cmds, and the background recount still finishes its
/// passes afterwards.
#[test]
fn recount_commands_answer_while_a_background_recount_runs() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (b, c3) = other_space(&pair);
    let cfg = KeaConfig::new(&pair).logger("kea-dhcp4.lease-stats", "DEBUG", 40);
    let t = now();
    let row = |address: Ipv4Addr, subnet_id: u32, n: u32| LeaseRow {
        address,
        hwaddr: format!("02:{subnet_id:02x}:00:{:02x}:{:02x}:{:02x}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff),
        client_id: String::new(),
        valid_lifetime: 86400,
        expire: t + 86400,
        subnet_id,
        hostname: String::new(),
        fqdn: (false, false),
        state: 0,
    };
    let mut rows: Vec<LeaseRow> = (0..50_000u32).map(|n| row(Ipv4Addr::new(198, b, (n / 200) as u8, (n % 200 + 1) as u8), 2, n)).collect();
    rows.extend((0..60u32).map(|n| row(Ipv4Addr::new(c3[0], c3[1], c3[2], (n + 10) as u8), 3, n)));
    write_memfile4(&cfg.dir().join("leases4.csv"), rows);
    let libs = hooks_together(cfg.dir(), &[isc_hook("libdhcp_lease_cmds.so"), isc_hook("libdhcp_stat_cmds.so"), lease_stats()]);
    let p3 = format!("{}.{}.{}", c3[0], c3[1], c3[2]);
    let kea = cfg
        .merge(json!({ "subnet4": [
            { "id": 1, "subnet": pair.subnet(), "pools": [{ "pool": pair.pool() }],
              "option-data": [{ "name": "routers", "data": pair.server_addr().to_string() }] },
            { "id": 2, "subnet": format!("198.{b}.0.0/16"), "pools": [{ "pool": format!("198.{b}.0.1 - 198.{b}.255.254") }] },
            { "id": 3, "subnet": format!("{p3}.0/24"), "pools": [{ "pool": format!("{p3}.10 - {p3}.250") }] }
        ] }))
        .hook(&libs[0], None)
        .hook(&libs[1], None)
        .hook(&libs[2], Some(json!({ "recount-interval": 1, "page-size": 1 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(kea.log().contains("counted the lease database"), "{}", kea.log());

    // The hostile loop: commands wanting a recount, one every 100 ms, for
    // at least 20 tries and until 3 of them met a background recount in
    // progress (at most 30 s).
    let bound = Duration::from_secs(5);
    let superseded = || kea.count_in_log("superseded the background recount in progress");
    let (mut all, mut one, mut lease_cmds) = (Vec::new(), Vec::new(), Vec::new());
    let t0 = Instant::now();
    let mut tries = 0u32;
    while tries < 20 || (superseded() < 3 && t0.elapsed() < Duration::from_secs(30)) {
        let (answer, took) = command_within(&kea, "lease-stats-recount", None, bound);
        assert_eq!(answer["result"], 0, "{answer}");
        assert_eq!(answer["arguments"]["leases"], 50_060 - lease_cmds.len() as u64, "{answer}");
        all.push(took);
        match tries % 3 {
            1 => {
                let (answer, took) = command_within(&kea, "lease-stats-recount", Some(json!({ "subnet-id": 2 })), bound);
                assert_eq!(answer["arguments"]["leases"], 50_000, "{answer}");
                one.push(took);
            }
            2 if lease_cmds.len() < 59 => {
                // Read back at command_processed: a recount of subnet 3.
                let n = lease_cmds.len() as u32;
                let hw = format!("02:03:00:00:00:{n:02x}");
                let args = json!({ "identifier-type": "hw-address", "identifier": hw, "subnet-id": 3 });
                let (answer, took) = command_within(&kea, "lease4-del", Some(args), bound);
                assert_eq!(answer["result"], 0, "{answer}");
                lease_cmds.push(took);
            }
            _ => {}
        }
        tries += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let met = superseded();
    assert!(met >= 1, "no command met a background recount in progress in {tries} tries: nothing was tested\n{}", kea.log());
    let (wipe, wipe_took) = command_within(&kea, "lease4-wipe", Some(json!({ "subnet-id": 3 })), bound);
    assert_eq!(wipe["result"], 0, "{wipe}");

    // DHCP is served.
    let t1 = Instant::now();
    let ack = Client4::new(&pair, "02:24:00:00:00:01").dora();
    let dora = t1.elapsed();
    assert!(ack.is_some(), "no ACK after the command loop\n{}", tail(&kea.log(), 30));

    // The counts agree with stat_cmds (subnet 3 is empty now).
    let strip = |mut v: Value| {
        v["arguments"]["result-set"]["timestamp"] = Value::Null;
        v["text"] = Value::Null;
        v
    };
    let isc = strip(command_within(&kea, "stat-lease4-get", None, bound).0);
    let ours = strip(command_within(&kea, "lease-stats-get", None, bound).0);
    assert_eq!(ours, isc, "lease-stats, then stat_cmds");
    assert_eq!(ours["arguments"]["result-set"]["rows"][1][3], 50_000, "{ours}");

    // The background recount finishes a pass again.
    let before = kea.count_in_log("recounted");
    let t2 = Instant::now();
    while kea.count_in_log("recounted") == before {
        assert!(t2.elapsed() < Duration::from_secs(120), "no background recount finished after the loop\n{}", tail(&kea.log(), 30));
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = kea.log();
    let pass_ms = logged_ms(&log, "recounted").unwrap_or(0);
    let page_us = log.lines().rfind(|l| l.contains("recounted")).and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("page_us="))).unwrap_or("?").to_owned();
    assert!(!log.contains("recount failed"), "{log}");

    let max = |v: &[Duration]| v.iter().max().copied().unwrap_or_default();
    eprintln!(
        "lease-stats-recount under a running background recount ({tries} tries, {met} met one in progress): \
         median {}, max {}; with subnet-id: median {}, max {}; lease4-del (recount of its subnet): median {}, max {}; \
         lease4-wipe {}; DORA after the loop {}; a whole background pass (50,060 pages of 1) {pass_ms} ms, \
         its longest page on the main thread {page_us} us",
        ms(median(&mut all)),
        ms(max(&all)),
        ms(median(&mut one)),
        ms(max(&one)),
        ms(median(&mut lease_cmds)),
        ms(max(&lease_cmds)),
        ms(wipe_took),
        ms(dora),
    );
}

/// Metrics clients that trickle their request, say nothing, never read
/// their page, or vanish in the middle of it (a reset, with SIGPIPE's
/// disposition whatever the SDK made it) cannot hold up other scrapes,
/// `config-reload` or SIGTERM: another scrape is served at once, each
/// hostile connection is cut at the request's deadline (10 s), the reload
/// and the shutdown return within a second or two, and Kea goes on
/// answering. While Kea's main thread is busy (a probe command sleeps
/// there for 4 s) a scrape answers 503 after its 2 s wait. The page is made large (1,000 subnets of 8 pools: some
/// 9 MB) so that writing it outlasts every socket buffer.
#[test]
fn metrics_clients_cannot_hold_up_scrapes_reload_or_shutdown() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (b, _) = other_space(&pair);
    let mut subnets = vec![json!({ "id": 1, "subnet": pair.subnet(), "pools": [{ "pool": pair.pool() }],
                                   "option-data": [{ "name": "routers", "data": pair.server_addr().to_string() }] })];
    for k in 0..1000u32 {
        let (c, d) = (k / 4, (k % 4) * 64);
        let pools: Vec<Value> = (0..8).map(|p| json!({ "pool": format!("198.{b}.{c}.{} - 198.{b}.{c}.{}", d + 1 + p * 7, d + 7 + p * 7) })).collect();
        subnets.push(json!({ "id": k + 2, "subnet": format!("198.{b}.{c}.{d}/26"), "pools": pools }));
    }
    let cfg = KeaConfig::new(&pair).start_timeout(Duration::from_secs(60)).merge(json!({ "subnet4": subnets }));
    let libs = hooks_together(cfg.dir(), &[lease_stats(), common::probe()]);
    let out = cfg.dir().join("probe.jsonl");
    let mut kea = cfg
        .hook(&libs[0], Some(json!({ "recount-interval": 0, "listen": LISTEN })))
        .hook(&libs[1], Some(json!({ "out": out, "quiet": true, "commands": true })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let bound = Duration::from_secs(5);

    // The page, whole.
    let (status, size, took) = scrape(&pair, LISTEN, Duration::from_secs(20));
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(size > 4 << 20, "the page is only {size} bytes: too small to outlast the socket buffers");
    eprintln!("the page: {size} bytes in {}", ms(took));

    // Clients that vanish in the middle of the page: each reads a little
    // and closes with the rest unread, so the kernel resets the
    // connection while the endpoint is still writing. Half of them first
    // half-close after the request (as `nc -N` does): a reset after the
    // endpoint saw that FIN fails its next write with EPIPE, which raises
    // SIGPIPE unless the write asks not to or SIGPIPE is ignored (it
    // would kill Kea); the others' reset gives ECONNRESET.
    let vanishing: Vec<JoinHandle<usize>> = (0..8)
        .map(|i| {
            let mut s = connect(&pair, LISTEN);
            std::thread::spawn(move || {
                s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
                if i % 2 == 0 {
                    s.shutdown(std::net::Shutdown::Write).unwrap();
                }
                let mut buf = [0u8; 16 * 1024];
                let mut got = 0;
                while got < 64 * 1024 {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                }
                got // dropped with unread data: a reset
            })
        })
        .collect();
    let got: Vec<usize> = vanishing.into_iter().map(|v| v.join().unwrap()).collect();
    if let Err(e) = UnixStream::connect(kea.dir().join("kea4.sock")) {
        panic!("Kea stopped answering when metrics clients vanished mid-page ({e}; they got {got:?} bytes)\n{}", tail(&kea.log(), 20));
    }
    let (answer, _) = command_within(&kea, "version-get", None, bound);
    assert_eq!(answer["result"], 0);
    assert!(kea.is_alive(), "Kea died when metrics clients vanished mid-page\n{}", tail(&kea.log(), 20));
    assert!(got.iter().all(|n| *n > 0), "a vanishing client got nothing: {got:?}");
    let (status, after, _) = scrape(&pair, LISTEN, Duration::from_secs(20));
    assert_eq!((status.as_str(), after), ("HTTP/1.1 200 OK", size), "the endpoint after the resets");

    // Kea's main thread busy for 4 s (a command that sleeps there): a
    // scrape answers 503 once its wait for Kea's figures (2 s) runs out,
    // rather than hang until the main thread is free.
    let busy_503 = std::thread::scope(|scope| {
        let sleeper = scope.spawn(|| command_within(&kea, "probe-sleep", Some(json!({ "ms": 4000 })), Duration::from_secs(10)));
        let t0 = Instant::now();
        loop {
            let (status, _, took) = scrape(&pair, LISTEN, bound);
            if status.starts_with("HTTP/1.1 503") {
                assert!(took >= Duration::from_millis(1500) && took < Duration::from_millis(3500), "503 after {took:?}");
                assert!(!sleeper.is_finished(), "the main thread was free again");
                sleeper.join().unwrap();
                break took;
            }
            // Answered before the sleep began.
            assert_eq!(status, "HTTP/1.1 200 OK");
            assert!(t0.elapsed() < Duration::from_secs(3), "no 503 while Kea's main thread slept");
        }
    });
    let (status, _, _) = scrape(&pair, LISTEN, bound);
    assert_eq!(status, "HTTP/1.1 200 OK", "the endpoint once the main thread is free again");
    eprintln!("a scrape while Kea's main thread is busy: 503 after {}", ms(busy_503));

    // Hostile clients hold connections; another scrape is still served.
    let give_up = Duration::from_secs(60);
    let (t1, s1, n1) = (trickler(&pair, LISTEN, give_up), silent(&pair, LISTEN, give_up), non_reader(&pair, LISTEN));
    let (status, _, took) = scrape(&pair, LISTEN, bound);
    assert_eq!(status, "HTTP/1.1 200 OK");
    eprintln!("a scrape beside a trickling, a silent and a non-reading client: {}", ms(took));

    // config-reload with them connected: unload stops the endpoint at once.
    let t0 = Instant::now();
    let (answer, reload) = command_within(&kea, "config-reload", None, Duration::from_secs(30));
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(reload < Duration::from_secs(10), "config-reload took {reload:?}");
    // Their connections were closed by the unload, not at their deadline.
    while !(t1.is_finished() && s1.is_finished()) {
        assert!(t0.elapsed() < reload + bound, "hostile connections still open {:?} after the reload", t0.elapsed() - reload);
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(n1);
    let (status, _, _) = scrape(&pair, LISTEN, bound);
    assert_eq!(status, "HTTP/1.1 200 OK", "the endpoint after the reload");

    // Each hostile connection is cut at the request's deadline.
    let (t2, s2) = (trickler(&pair, LISTEN, give_up), silent(&pair, LISTEN, give_up));
    let (cut_t, cut_s) = (t2.join().unwrap(), s2.join().unwrap());
    for (who, (after, how)) in [("trickling", &cut_t), ("silent", &cut_s)] {
        assert!(
            *after >= SCRAPE_DEADLINE - Duration::from_millis(500) && *after < SCRAPE_DEADLINE + bound,
            "the {who} client was cut after {after:?} ({how}), not at the {SCRAPE_DEADLINE:?} deadline"
        );
        assert!(how.starts_with("HTTP/1.1 408") || how == "closed" || how.contains("reset"), "{who}: {how}");
    }

    // SIGTERM with hostile clients connected: Kea exits by itself (the
    // harness would kill it after 5 s).
    let (t3, s3, n3) = (trickler(&pair, LISTEN, give_up), silent(&pair, LISTEN, give_up), non_reader(&pair, LISTEN));
    let (status, _, _) = scrape(&pair, LISTEN, bound);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let t0 = Instant::now();
    let log = kea.stop();
    let shutdown = t0.elapsed();
    assert!(shutdown < Duration::from_secs(4), "SIGTERM to exit took {shutdown:?}\n{}", tail(&log, 20));
    assert!(!log.contains("still running at unload"), "{log}");
    let (cut3, cut4) = (t3.join().unwrap(), s3.join().unwrap());
    drop(n3);
    eprintln!(
        "with a trickling, a silent and a non-reading metrics client: config-reload {}, SIGTERM to exit {}; \
         cut at the deadline: trickling after {} ({}), silent after {} ({}); at shutdown: {} / {}",
        ms(reload),
        ms(shutdown),
        ms(cut_t.0),
        cut_t.1,
        ms(cut_s.0),
        cut_s.1,
        cut3.1,
        cut4.1
    );
}
