//! Shared by the lease-stats test files (DHCPv4 and DHCPv6): the query
//! forms compared with stat_cmds, and the waits around them.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kea_hooks_tests::{Kea, NetPair};
use serde_json::{json, Value};

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Waits (up to 30 s) until Kea has reclaimed every expired lease in its
/// file: until `pending(now)` (the leases in state default or declined
/// past their expiry) is 0.
pub fn wait_for_reclamation(kea: &Kea, pending: impl Fn(u64) -> usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = pending(now());
        if left == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{left} expired leases still not reclaimed:\n{}", kea.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every query form tooling sends, the errors included, for a layout with
/// subnets 1 to 4 and 7, none of 5, 6 or 8 and above.
pub fn query_forms() -> Vec<Option<Value>> {
    let range = |a: i64, b: i64| json!({ "subnet-range": { "first-subnet-id": a, "last-subnet-id": b } });
    vec![
        None,
        Some(json!({})),
        Some(json!({ "subnet-id": 1 })),
        Some(json!({ "subnet-id": 2 })),
        Some(json!({ "subnet-id": 3 })),
        Some(json!({ "subnet-id": 4 })),
        Some(json!({ "subnet-id": 7 })),
        Some(json!({ "subnet-id": 8 })),
        Some(range(1, 3)),
        Some(range(3, 7)),
        Some(range(5, 6)),
        Some(range(8, 100)),
        Some(json!({ "subnet-id": "2" })),
        Some(json!({ "subnet-id": 2.0 })),
        Some(json!({ "subnet-id": 0 })),
        Some(json!({ "subnet-id": -4 })),
        Some(json!({ "subnet-id": 1, "subnet-range": { "first-subnet-id": 1, "last-subnet-id": 2 } })),
        Some(range(3, 2)),
        Some(json!({ "subnet-range": { "first-subnet-id": 2 } })),
        Some(json!({ "subnet-range": { "first-subnet-id": 0, "last-subnet-id": 2 } })),
        Some(json!({ "subnet-range": 5 })),
        Some(json!({ "bogus": 1 })),
    ]
}

/// Asserts a command's result is 0 (success).
pub fn ok(answer: &Value) {
    assert_eq!(answer["result"], 0, "{answer}");
}

/// Metric samples by (sample name, labels).
pub type Samples = HashMap<(String, BTreeMap<String, String>), f64>;

/// Scrapes lease-stats' metrics page at `listen` inside the pair's server
/// namespace and parses it with prometheus_client's parser (Debian's
/// python3-prometheus-client, through tests/fixtures/prometheus_parse.py):
/// the samples by name and labels, and as the parser listed them.
pub fn scrape(pair: &NetPair, listen: &str) -> (Samples, Vec<Value>) {
    parse_page(&page_text(&pair.server_ns(), listen))
}

/// The metrics page at `listen` (`GET /metrics`) inside network namespace
/// `ns`, within 10 s; panics with curl's error otherwise.
pub fn page_text(ns: &str, listen: &str) -> String {
    kea_hooks_tests::curl_get(Some(ns), &format!("http://{listen}/metrics"), &[], std::time::Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"))
}

/// A metrics page parsed by prometheus_client's parser (see [`scrape`]).
pub fn parse_page(page: &str) -> (Samples, Vec<Value>) {
    let parser = kea_hooks_tests::workspace_root().join("tests/fixtures/prometheus_parse.py");
    let mut child = std::process::Command::new("/usr/bin/python3")
        .arg(parser)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run /usr/bin/python3 (python3-prometheus-client)");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
    let parsed = child.wait_with_output().unwrap();
    assert!(parsed.status.success(), "the parser refused the page: {}\n{page}", String::from_utf8_lossy(&parsed.stderr));
    let samples: Vec<Value> = serde_json::from_slice(&parsed.stdout).unwrap();
    let mut map = HashMap::new();
    for s in &samples {
        let labels: BTreeMap<String, String> = serde_json::from_value(s["labels"].clone()).unwrap();
        map.insert((s["name"].as_str().unwrap().to_owned(), labels), s["value"].as_f64().unwrap());
    }
    (map, samples)
}

/// A stat_cmds-style answer without its timestamp (checked for stat_cmds'
/// format: `YYYY-MM-DD HH:MM:SS.ffffff`).
pub fn untimed(mut answer: Value) -> Value {
    if let Some(set) = answer.pointer_mut("/arguments/result-set").and_then(Value::as_object_mut) {
        let ts = set.remove("timestamp").unwrap_or_default();
        let ts = ts.as_str().unwrap_or_default();
        assert!(ts.len() == 26 && &ts[4..5] == "-" && &ts[10..11] == " " && &ts[19..20] == ".", "timestamp {ts:?}");
    }
    answer
}

/// An answer's text as Kea wrote it, with its timestamp's value masked
/// (after checking it has stat_cmds' format) and `command`'s name
/// replaced by lease-stats-get's. Compared as text, big integers (DHCPv6
/// totals from Kea 2.6) are compared digit for digit, which JSON values
/// parsed into f64 are not.
pub fn untimed_text(text: &str, command: &str) -> String {
    let text = text.replace(command, "lease-stats-get");
    let key = "\"timestamp\": \"";
    match text.find(key) {
        None => text,
        Some(i) => {
            let ts = &text[i + key.len()..i + key.len() + 26];
            assert!(&ts[4..5] == "-" && &ts[10..11] == " " && &ts[19..20] == "." && text[i + key.len() + 26..].starts_with('"'), "{text}");
            format!("{}{}", &text[..i + key.len()], &text[i + key.len() + 26..])
        }
    }
}

/// Where `lease-stats-get` and stat_cmds' `isc` command (`stat-lease4-get`
/// or `stat-lease6-get`) answer `forms` differently on `kea`, compared as
/// Kea's texts ([`untimed_text`]): the first difference, or `None` when
/// every answer is the same (but for the command's name and the
/// timestamp).
pub fn difference(kea: &Kea, isc: &str, forms: &[Option<Value>]) -> Option<String> {
    for args in forms {
        let theirs = untimed_text(&kea.command_text(isc, args.clone()), isc);
        let ours = untimed_text(&kea.command_text("lease-stats-get", args.clone()), "lease-stats-get");
        if ours != theirs {
            return Some(format!("arguments {args:?}:\n  {isc}: {theirs}\n  lease-stats-get: {ours}"));
        }
    }
    None
}

/// Waits until [`difference`] finds none, for at most `bound`; returns how
/// long that took, or panics with the last difference.
pub fn agree_within(kea: &Kea, isc: &str, forms: &[Option<Value>], bound: Duration, when: &str) -> Duration {
    let t0 = Instant::now();
    loop {
        match difference(kea, isc, forms) {
            None => return t0.elapsed(),
            Some(d) if t0.elapsed() >= bound => panic!("{when}: lease-stats still differs from stat_cmds after {bound:?}: {d}"),
            Some(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
