//! A hook built for one Kea release, loaded into another.
//!
//! Needs a probe hook built against a *different* Kea than the one under
//! test, named by `KEA_TEST_FOREIGN_HOOK`; `scripts/test-matrix.sh` (entry
//! `mismatch`) builds one in another release's root and runs this file in
//! each release with it. It is `#[ignore]`d in the ordinary run, which has
//! no such library: `cargo test -- --ignored` runs it.

mod common;

use std::path::{Path, PathBuf};


use kea_hooks_tests::{perfdhcp, require_root_and_kea, Kea, KeaConfig, NetPair};
use serde_json::json;

use common::probe;

fn foreign_hook() -> PathBuf {
    let path = std::env::var_os("KEA_TEST_FOREIGN_HOOK").map(PathBuf::from).unwrap_or_else(|| {
        panic!("KEA_TEST_FOREIGN_HOOK must name a probe hook built against another Kea (scripts/test-matrix.sh mismatch)")
    });
    assert!(path.is_file(), "KEA_TEST_FOREIGN_HOOK={} does not exist", path.display());
    path
}

/// Copies `lib` into `dir` (Kea 2.6+ loads hooks only from KEA_HOOKS_PATH,
/// one directory) under `name`.
fn copy_into(dir: &Path, lib: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(lib, &to).unwrap_or_else(|e| panic!("copy {} -> {}: {e}", lib.display(), to.display()));
    to
}

/// The foreign hook and a network pair, or `None` (after saying why) when
/// the test cannot run here.
fn setup() -> Option<(PathBuf, NetPair)> {
    let foreign = foreign_hook();
    require_root_and_kea().then(|| (foreign, NetPair::new()))
}

fn assert_refused(log: &str, lib: &Path) {
    // Kea opens the library before it asks version(): the link to the other
    // release's libkea-* sonames is what fails first.
    let line = log
        .lines()
        .find(|l| l.contains("HOOKS_OPEN_ERROR") && l.contains(&*lib.to_string_lossy()))
        .unwrap_or_else(|| panic!("no HOOKS_OPEN_ERROR for {} in:\n{log}", lib.display()));
    assert!(line.contains("libkea-") && line.contains("cannot open shared object file"), "{line}");
    assert!(log.contains("hooks libraries failed to validate"), "Kea did not refuse the config:\n{log}");
}

#[test]
#[ignore = "needs KEA_TEST_FOREIGN_HOOK: run by scripts/test-matrix.sh (entry mismatch)"]
fn a_hook_built_for_another_release_is_refused_at_start() {
    let Some((foreign, pair)) = setup() else { return };
    let cfg = KeaConfig::new(&pair);
    let out = cfg.dir().join("probe.jsonl");
    let lib = copy_into(cfg.dir(), &foreign, "libdhcp_probe_foreign.so");
    match cfg.hook(&lib, Some(json!({ "out": out }))).start(&pair) {
        Ok(_) => panic!("Kea started with {}, built for another release", foreign.display()),
        Err(failure) => assert_refused(&failure.log, &lib),
    }
    assert!(!out.exists(), "the foreign hook's load() ran");
}

/// Whether Kea (still alive) completes five DORA exchanges.
fn serves(kea: &mut Kea, pair: &NetPair) -> bool {
    assert!(kea.is_alive(), "Kea died");
    let report = perfdhcp(pair, &["-r", "50", "-R", "5", "-n", "5", "-p", "10", "-W", "1000000"]);
    report.acks() == 5
}

#[test]
#[ignore = "needs KEA_TEST_FOREIGN_HOOK: run by scripts/test-matrix.sh (entry mismatch)"]
fn a_config_with_a_hook_for_another_release_fails_config_test_and_reload() {
    let Some((foreign, pair)) = setup() else { return };
    let cfg = KeaConfig::new(&pair);
    let out = cfg.dir().join("probe.jsonl");
    let native = copy_into(cfg.dir(), &probe(), "libdhcp_probe.so");
    let alien = copy_into(cfg.dir(), &foreign, "libdhcp_probe_foreign.so");
    let mut kea = cfg.hook(&native, Some(json!({ "out": out }))).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let version = kea.command("version-get", None)["text"].as_str().unwrap_or_default().to_owned();
    assert!(serves(&mut kea, &pair), "Kea {version} does not serve before the test");

    let mut bad = kea.config().clone();
    bad.set_hook_library(0, &alien);

    // config-test, the safe way to try a configuration, refuses it and
    // leaves the running server alone.
    let answer = kea.command("config-test", Some(bad.to_json()));
    assert_eq!(answer["result"], 1, "config-test accepted a hook for another release: {answer}");
    assert_refused(&kea.log(), &alien);
    assert!(serves(&mut kea, &pair), "Kea {version} stopped serving after config-test");

    // config-reload refuses it too.
    kea.rewrite_config(&bad);
    let answer = kea.config_reload();
    assert_eq!(answer["result"], 1, "config-reload accepted a hook for another release: {answer}");
    assert!(kea.is_alive(), "Kea {version} died on the refused reload");
    if version.starts_with("2.2.") {
        // Kea 2.2 has already unloaded the running libraries when the new
        // ones fail to open, and does not recover from that: it keeps
        // running without serving until the next good configuration.
        assert!(kea.log().contains("DHCP4_CONFIG_UNRECOVERABLE_ERROR"), "{}", kea.log());
        assert!(!serves(&mut kea, &pair), "Kea 2.2 behaves differently than documented: update hooks-sdk/README.md (Building for the Kea you run) and this test");
        let mut good = bad.clone();
        good.set_hook_library(0, &native);
        kea.rewrite_config(&good);
        assert_eq!(kea.config_reload()["result"], 0, "a good configuration did not bring Kea 2.2 back");
    }
    // The running (or restored) configuration, native hook included, serves.
    assert!(serves(&mut kea, &pair), "Kea {version} does not serve after the refused reload");
    let seen = common::records(&out);
    assert!(!common::at(&seen, "pkt4_send").is_empty(), "the native hook saw no packets");
}
