//! What crosses the boundary between Kea and a Rust hook, on a real Kea:
//! parameters and log lines byte for byte, stderr that cannot be written,
//! a library listed twice, a hook in the wrong server, next steps shared
//! with other libraries (one of them a C++ hook that parks), and what a
//! failing callout's packet gets. Run as root; see the README.

mod common;

use std::time::Duration;

use kea_hooks_tests::{dhclient, require_root_and_kea, Client4, KeaConfig, NetPair};
use serde_json::{json, Value};

use common::{at, load_failure_line, mac_acl, park_hook, probe, records, with_probe};

/// Parameters reach serde exactly as written (Kea's own `Element::str()`
/// turned "café" into "cafÃ©" and cut doubles to 6 digits), and a logged
/// text with `%1`, `%2` in it is written as it is (Kea's formatter
/// substituted or flagged them).
#[test]
#[allow(clippy::approx_constant)] // 3.14159265358979 is the example, not PI
fn parameters_and_log_lines_cross_verbatim() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let echo = json!({
        "café": "café", "tokyo": "東京", "emoji": "🦀 \u{1}\t\"quoted\" back\\slash",
        "pi": 3.14159265358979, "tiny": 1e-7, "big": 5000000.0, "third": 0.1, "negative": -2.5e-300,
        "max": i64::MAX, "min": i64::MIN, "zero": 0,
        "nested": { "list": [1, [2.5, { "deep": null }], true, false, "x"], "empty-map": {}, "empty-list": [] },
    });
    let text = "client %1 sent %2 (100% sure, %%3) %";
    let (kea, out) = with_probe(&pair, KeaConfig::new(&pair), json!({ "echo": echo, "log-text": text }));

    let recs = records(&out);
    let load = at(&recs, "load");
    assert_eq!(load.len(), 1, "{recs:?}");
    assert_eq!(load[0]["echo"], echo, "parameters changed on their way through Kea");
    // Floats stay floats: 5000000.0 is not the integer 5000000.
    assert!(load[0]["echo"]["big"].is_f64(), "{}", load[0]["echo"]);

    let log = kea.log();
    let line = log
        .lines()
        .find(|l| l.contains("kea-dhcp4.probe") && l.contains(text))
        .unwrap_or_else(|| panic!("no line with {text:?} verbatim:\n{log}"));
    assert!(line.ends_with(&format!("{text} text={text}")), "{line}");
    assert!(!log.contains("@@"), "Kea's formatter touched a hook's text:\n{log}");
}

/// Kea reads `\u00e9` in a string as the single byte 0xe9, which is not
/// UTF-8: the load fails naming the field, rather than guessing.
#[test]
fn text_that_is_not_utf8_fails_the_load_naming_the_field() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let out = cfg.dir().join("probe.jsonl");
    let failure = cfg
        .hook(&probe(), Some(json!({ "out": out, "echo": { "name": "LATIN1" } })))
        .replace_in_text("\"LATIN1\"", "\"caf\\u00e9\"")
        .start(&pair)
        .err()
        .expect("Kea accepted a parameter that is not UTF-8");
    let line = load_failure_line(&failure, "kea-dhcp4.probe");
    assert!(line.contains("bad parameters: at 'echo.name': text is not valid UTF-8"), "{line}");
}

/// With the hook's logger off, the SDK's last resort for a message is
/// stderr: it shows there when stderr is a file ...
#[test]
fn with_the_hooks_logger_off_failures_go_to_stderr() {
    failures_with_the_hooks_logger_off(false);
}

/// ... and when stderr is a pipe nobody reads (a write fails with EPIPE,
/// which made `eprintln!` panic inside a thread-local's destructor or in
/// `load`, and abort Kea), Kea keeps serving.
#[test]
fn a_closed_stderr_never_takes_kea_down() {
    failures_with_the_hooks_logger_off(true);
}

/// Whether a thread of process `pid` has the name `name`.
fn has_thread(pid: u32, name: &str) -> bool {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
    tasks.iter().any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

/// A hook thread panics (its record is reported when the thread ends), a
/// callout panics and another fails, and a reload fails the hook's load,
/// all with the hook's logger off; then a good reload, and a client is
/// served.
fn failures_with_the_hooks_logger_off(closed_stderr: bool) {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mut cfg = KeaConfig::new(&pair).logger("kea-dhcp4.probe", "NONE", 0);
    if closed_stderr {
        cfg = cfg.stderr_to_closed_pipe();
    }
    let params = json!({ "thread-panic": true, "panic-hwaddr": "02:00:00:00:0b:ad", "error-hwaddr": "02:00:00:00:0e:44" });
    let (mut kea, out) = with_probe(&pair, cfg, params);
    let stderr = kea.dir().join("kea.stderr");
    let read = || std::fs::read_to_string(&stderr).unwrap_or_default();

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while has_thread(kea.pid(), "probe-panicker") {
        assert!(std::time::Instant::now() < deadline, "the panicking thread did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(kea.is_alive(), "Kea died when a hook thread's panic was reported");
    if !closed_stderr {
        assert!(read().contains("panic on thread 'probe-panicker': probe thread panics (at "), "{}", read());
    }
    for mac in ["02:00:00:00:0b:ad", "02:00:00:00:0e:44"] {
        pair.set_client_mac(mac);
        assert_eq!(dhclient(&pair, Duration::from_secs(3)), None, "{mac} was served");
        assert!(kea.is_alive(), "Kea died after a failing callout");
    }
    pair.set_client_mac("02:00:00:00:00:01");

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "on-panic": 5 }));
    assert_ne!(answer["result"], 0, "Kea accepted bad parameters");
    assert!(kea.is_alive(), "Kea died when a load failure was reported");
    if !closed_stderr {
        assert!(read().contains("probe: load failed: bad parameters: at 'on-panic'"), "{}", read());
    }

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out }));
    assert_eq!(answer["result"], 0);
    assert!(dhclient(&pair, Duration::from_secs(15)).is_some(), "Kea stopped serving");
    assert!(kea.is_alive());
}

/// The same library file listed twice would share one instance (one set of
/// statics): it is refused, at start-up and on reload.
#[test]
fn a_library_listed_twice_is_refused() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let out = cfg.dir().join("probe.jsonl");
    let failure = cfg
        .clone()
        .hook(&probe(), Some(json!({ "out": out, "generation": 1 })))
        .hook(&probe(), Some(json!({ "out": out, "generation": 2 })))
        .start(&pair)
        .err()
        .expect("Kea loaded the same library twice");
    assert!(
        failure.log.contains("probe: load failed: this library is already loaded: the same library file is listed twice"),
        "{}",
        failure.log
    );

    // On a running Kea: the reload is refused and nothing runs twice.
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair), json!({}));
    let twice = kea.config().clone().hook(&probe(), Some(json!({ "out": out, "generation": 2 })));
    kea.rewrite_config(&twice);
    assert_ne!(kea.config_reload()["result"], 0, "Kea accepted the library twice");
    assert!(kea.is_alive());
    assert!(kea.log().contains("this library is already loaded"), "{}", kea.log());
    // A load() that fails on reload leaves every release without a working
    // configuration (DHCP4_CONFIG_UNRECOVERABLE_ERROR) until a good one is
    // loaded: load the single entry again, and each query reaches the
    // callout once.
    let single = KeaConfig::new(&pair).hook(&probe(), Some(json!({ "out": out, "generation": 3 })));
    kea.rewrite_config(&single);
    assert_eq!(kea.config_reload()["result"], 0);
    pair.set_client_mac("02:42:c6:12:00:22");
    assert!(dhclient(&pair, Duration::from_secs(15)).is_some(), "Kea does not serve after a good reload");
    let recs = records(&out);
    let mine: Vec<_> =
        at(&recs, "pkt4_receive").into_iter().filter(|r| r["query"]["hwaddr"] == "02:42:c6:12:00:22").collect();
    let mut seen: Vec<String> = mine.iter().map(|r| format!("{}/{}", r["query"]["xid"], r["query"]["type"])).collect();
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert!(n > 0 && seen.len() == n, "a query reached the callout more than once: {mine:?}");
    assert!(mine.iter().all(|r| r["generation"] == 3), "{mine:?}");
}

/// A DHCPv4 hook in kea-dhcp6 would do nothing there: its load fails,
/// unless the hook says it registers no callouts on purpose.
#[test]
fn a_hook_without_callouts_for_the_server_fails_its_load() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    for (lib, params, hook) in [(probe(), json!({}), "probe"), (mac_acl(), json!({ "deny": ["02"] }), "mac-acl")] {
        let cfg = KeaConfig::new(&pair).dhcp6();
        let mut params = params;
        if hook == "probe" {
            params["out"] = json!(cfg.dir().join("probe.jsonl"));
        }
        let failure = cfg.hook(&lib, Some(params)).start(&pair).err().expect("kea-dhcp6 loaded a DHCPv4 hook");
        let line = load_failure_line(&failure, &format!("kea-dhcp6.{hook}"));
        assert!(line.contains("kea-dhcp6 has none of the hook points it has callouts for (pkt4_receive"), "{line}");
    }
    // Said on purpose: it loads, and knows where.
    let cfg = KeaConfig::new(&pair).dhcp6();
    let out = cfg.dir().join("probe.jsonl");
    let kea = cfg.hook(&probe(), Some(json!({ "out": out, "no-callouts-ok": true }))).start(&pair).unwrap();
    let recs = records(&out);
    assert_eq!(at(&recs, "load")[0]["server"], "Dhcp6", "{recs:?}");
    assert_eq!(kea.command("list-commands", None)["result"], 0);
}

/// `Continue` from a later library never cancels an earlier one's `Drop`
/// (mac-acl) or `Park` (a C++ hook, as HA or ping_check would); `Skip` at
/// pkt4_send is refused; a lease collection holding a null (put there by
/// the C++ hook) has a `len()` its iterator agrees with.
#[test]
fn next_steps_never_weaken_an_earlier_librarys() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let parked = cfg.dir().join("parked.jsonl");
    let out = cfg.dir().join("probe.jsonl");
    let kea = cfg
        .hook(&park_hook(), Some(json!({ "out": parked, "delay-ms": 200 })))
        .hook(&mac_acl(), Some(json!({ "deny": ["02:dd"] })))
        .hook(
            &probe(),
            Some(json!({
                "out": out,
                "continue-at": ["pkt4_receive", "leases4_committed"],
                "pkt4-send-skip": true,
            })),
        )
        .start(&pair)
        .unwrap();

    pair.set_client_mac("02:dd:00:00:00:01");
    assert_eq!(dhclient(&pair, Duration::from_secs(4)), None, "Continue cancelled mac-acl's Drop");

    pair.set_client_mac("02:42:c6:12:00:33");
    let addr = dhclient(&pair, Duration::from_secs(15)).expect("an allowed client is served");
    assert!(kea.leases().iter().any(|l| l.address == addr));

    let recs = records(&out);
    let committed: Vec<_> =
        at(&recs, "leases4_committed").into_iter().filter(|r| r["query"]["hwaddr"] == "02:42:c6:12:00:33").collect();
    assert!(!committed.is_empty(), "{recs:?}");
    for r in &committed {
        assert_eq!(r["next_step_before"], "Park", "the C++ hook parked before the probe ran: {r}");
        assert_eq!(r["leases_view"]["len"], 1, "the null lease was counted: {r}");
        assert_eq!(r["leases_view"]["items"].as_array().map(Vec::len), Some(1), "{r}");
    }
    // Kea kept the packets parked: each was resumed by the C++ hook.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let unparks = loop {
        let unparks = records(&parked);
        if unparks.len() >= committed.len() || std::time::Instant::now() > deadline {
            break unparks;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(unparks.len(), committed.len(), "{unparks:?}");
    assert!(unparks.iter().all(|u| u["unparked"] == true), "Continue cancelled a Park: {unparks:?}");

    let sends: Vec<&Value> = at(&recs, "pkt4_send");
    assert!(!sends.is_empty());
    for r in sends {
        let skip = r["skip"].as_str().unwrap_or_default();
        assert!(skip.contains("Skip is not a next step Kea honours at pkt4_send"), "{r}");
    }
}

/// A callout that returns `Err` fails closed like a panic (the packet is
/// dropped, the log line shows the error's chain), unless the hook chooses
/// `Continue` for errors.
#[test]
fn a_callout_error_drops_the_packet_unless_the_hook_continues() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair), json!({ "error-hwaddr": "02:00:00:00:0e:44" }));
    pair.set_client_mac("02:00:00:00:0e:44");
    assert_eq!(dhclient(&pair, Duration::from_secs(4)), None, "a failed callout's packet was served");
    let log = kea.log();
    let line = "callout pkt4_receive failed: probe error for 02:00:00:00:0e:44: the cause below; packet dropped";
    assert!(log.lines().any(|l| l.contains("ERROR") && l.contains(line)), "no {line:?} in:\n{log}");
    assert!(!log.contains("HOOKS_CALLOUT_ERROR"), "the error leaked to Kea as a failed callout:\n{log}");

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "error-hwaddr": "02:00:00:00:0e:44", "on-error": "continue" }));
    assert_eq!(answer["result"], 0);
    assert!(dhclient(&pair, Duration::from_secs(15)).is_some(), "on-error continue did not serve the client");
    assert!(kea.log().contains("the cause below; packet continues"), "{}", kea.log());
}

/// A library before ours that drops a query by setting `query4` to null
/// (Kea 3.2 asks libraries not to and returns silently; Kea 2.2 to 3.0 go
/// on with the null query and crash): the Rust callout after it gets an
/// `Err` from `query()` (`buffer()` at buffer4_receive), and the SDK drops
/// the packet with status `Drop`, counted once in `pkt4-receive-drop`,
/// even for a hook whose errors continue, logged at debug level and not as
/// a failed callout. Kea keeps serving, on every release.
#[test]
fn a_query_an_earlier_library_cleared_is_dropped_on_every_release() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).debug(40);
    let cfg = cfg.hook(
        &park_hook(),
        Some(json!({
            "out": "/dev/null",
            "park": false,
            "clear-query4": { "buffer4_receive": "02:cc:00:00:00:01", "pkt4_receive": "02:cc:00:00:00:02" },
        })),
    );
    let (kea, out) = with_probe(&pair, cfg, json!({ "on-error": "continue" }));
    let before = kea.statistic("pkt4-receive-drop");
    for (mac, point) in [("02:cc:00:00:00:01", "buffer4_receive"), ("02:cc:00:00:00:02", "pkt4_receive")] {
        let quiet = Client4::new(&pair, mac).with_timeout(Duration::from_secs(1));
        assert!(quiet.discover(None).is_none(), "a query cleared at {point} was answered");
        let line = format!("probe: callout {point}: query4 is null (an earlier hook library dropped the query by clearing it); packet dropped");
        assert!(kea.log().lines().any(|l| l.contains("DEBUG") && l.contains(&line)), "no {line:?} in:\n{}", kea.log());
    }
    assert_eq!(kea.statistic("pkt4-receive-drop"), before + 2, "each cleared query counted once");
    let log = kea.log();
    assert!(!log.contains("receive failed") && !log.contains("panicked"), "the cleared query was reported as a failure:\n{log}");

    // The same Kea serves the next client, and the probe saw its query.
    let served = Client4::new(&pair, "02:cc:00:00:00:03").dora().expect("the next client is served");
    assert!(kea.leases().iter().any(|l| l.address == served.yiaddr), "{:?}", kea.leases());
    let recs = records(&out);
    assert!(at(&recs, "pkt4_receive").iter().any(|r| r["query"]["hwaddr"] == "02:cc:00:00:00:03"), "{recs:?}");
    assert!(!at(&recs, "pkt4_receive").iter().any(|r| r["query"]["hwaddr"].as_str().is_some_and(|h| h.ends_with(":01") || h.ends_with(":02"))), "{recs:?}");
}
