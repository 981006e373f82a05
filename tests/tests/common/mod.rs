//! Shared by the integration test files: building the hook libraries.

#![allow(dead_code)]

pub mod http_clients;
pub mod run_script;
pub mod stat_cmds;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Builds package `package` (a cdylib in this workspace) with the profile
/// the tests were built with, once per test process, and returns the path
/// of `lib<lib>.so`.
pub fn hook_library(package: &str, lib: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(p) = built.get(package) {
        return p.clone();
    }
    let path = kea_hooks_tests::build_hook(package, lib, kea_hooks_tests::Profile::current());
    built.insert(package.to_owned(), path.clone());
    path
}

/// The probe hook (tests/probe-hook).
pub fn probe() -> PathBuf {
    hook_library("kea-hook-probe", "dhcp_probe")
}

/// The MAC access-list hook (hooks/mac-acl).
pub fn mac_acl() -> PathBuf {
    hook_library("kea-hook-mac-acl", "dhcp_mac_acl")
}

/// Reads a JSON-lines file (the probe's output, a recorder's records).
pub fn records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?} in {}: {e}", path.display())))
        .collect()
}

/// Records of one hook point.
pub fn at<'a>(records: &'a [serde_json::Value], point: &str) -> Vec<&'a serde_json::Value> {
    records.iter().filter(|r| r["point"] == point).collect()
}

/// Starts Kea from `cfg` with the probe hook; `params` gets `out` (a file in
/// Kea's test dir), which is returned with the running Kea.
pub fn with_probe(
    pair: &kea_hooks_tests::NetPair,
    cfg: kea_hooks_tests::KeaConfig,
    mut params: serde_json::Value,
) -> (kea_hooks_tests::Kea, PathBuf) {
    let out = cfg.dir().join("probe.jsonl");
    params["out"] = serde_json::json!(out);
    let kea = cfg.hook(&probe(), Some(params)).start(pair).unwrap_or_else(|e| panic!("{e}"));
    (kea, out)
}

/// The C++ test hook that parks at leases4_committed and puts a null lease
/// in `leases4` (tests/fixtures/park_hook.cc), built once per test process.
pub fn park_hook() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| kea_hooks_tests::build_cpp_hook("park_hook.cc", "dhcp_park_test", kea_hooks_tests::Profile::current()))
        .clone()
}

/// The line of a failed start's log that says hook `logger` (a logger
/// name such as `kea-dhcp4.probe`) failed its load; panics if none does.
pub fn load_failure_line(failure: &kea_hooks_tests::StartFailure, logger: &str) -> String {
    failure
        .log
        .lines()
        .find(|l| l.contains(logger) && l.contains("load failed"))
        .unwrap_or_else(|| panic!("no load failure line from {logger}:\n{}", failure.log))
        .to_owned()
}

/// The lease-stats hook (hooks/lease-stats).
pub fn lease_stats() -> PathBuf {
    hook_library("kea-hook-lease-stats", "dhcp_lease_stats")
}

/// The kea-metrics hook (hooks/kea-metrics).
pub fn kea_metrics() -> PathBuf {
    hook_library("kea-hook-kea-metrics", "dhcp_kea_metrics")
}


/// The DHCPv6 probe hook (tests/probe6-hook).
pub fn probe6() -> PathBuf {
    hook_library("kea-hook-probe6", "dhcp_probe6")
}

/// Starts kea-dhcp6 from `cfg` with the DHCPv6 probe; `params` gets `out`
/// (a file in Kea's test dir), which is returned with the running Kea.
pub fn with_probe6(
    pair: &kea_hooks_tests::NetPair,
    cfg: kea_hooks_tests::KeaConfig,
    mut params: serde_json::Value,
) -> (kea_hooks_tests::Kea, PathBuf) {
    let out = cfg.dir().join("probe6.jsonl");
    params["out"] = serde_json::json!(out);
    let kea = cfg.hook(&probe6(), Some(params)).start(pair).unwrap_or_else(|e| panic!("{e}"));
    (kea, out)
}

/// Waits (up to 20 s, polling the file) for the `n`th record of `point`
/// that `pred` accepts, and returns it.
pub fn wait_for_record(
    out: &std::path::Path,
    point: &str,
    n: usize,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found: Vec<serde_json::Value> =
            records(out).into_iter().filter(|r| r["point"] == point && pred(r)).collect();
        if found.len() >= n {
            return found[n - 1].clone();
        }
        assert!(std::time::Instant::now() < deadline, "no {point} record in 20 s: {:?}", records(out));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
