//! kea-hooks-check, the pre-deploy checker, on configurations for the Kea
//! the tests run: good parameters pass, and each bad one is reported with
//! its library and field where `kea-dhcp4 -t` accepts the file and Kea
//! itself fails only when it loads the hook. Run as root; see the README.

mod common;

use std::path::Path;
use std::process::Command;

use kea_hooks_tests::{build_bin, require_root_and_kea, KeaConfig, NetPair, Profile};
use serde_json::json;

use common::{hook_library, mac_acl, park_hook, probe};

fn checker(args: &[&Path]) -> (i32, String) {
    let bin = build_bin("kea-hooks-check", "kea-hooks-check", Profile::current());
    let out = Command::new(bin).args(args).output().expect("run kea-hooks-check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn line_for<'a>(output: &'a str, library: &str) -> &'a str {
    output.lines().find(|l| l.contains(library)).unwrap_or_else(|| panic!("no line for {library}:\n{output}"))
}

#[test]
fn the_checker_reports_what_kea_would_refuse_only_at_load() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let class_policy = hook_library("kea-hook-class-policy", "dhcp_class_policy");
    let kea_version = {
        let v = kea_hooks_tests::kea_hooks_version();
        format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100)
    };

    // Good parameters, and a C++ library the checker skips.
    let good = KeaConfig::new(&pair)
        .hook(&mac_acl(), Some(json!({ "allow": ["02:aa"], "default": "deny" })))
        .hook(&class_policy, Some(json!({ "policies": [{ "class": "voip", "valid-lifetime": 600 }] })))
        .hook(&park_hook(), Some(json!({ "out": "/dev/null" })));
    let (code, out) = checker(&[&good.write_file()]);
    assert_eq!(code, 0, "{out}");
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains(&format!("ok       ")), "{out}");
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains(&format!("(mac-acl, built for Kea {kea_version})")), "{out}");
    assert!(line_for(&out, "libdhcp_class_policy.so").contains("ok "), "{out}");
    assert!(line_for(&out, "libdhcp_park_test.so").contains("skipped  "), "{out}");
    assert!(line_for(&out, "libdhcp_park_test.so").contains("not built with kea-hooks"), "{out}");

    // Three bad ones: a misspelt key (serde), a pattern that does not parse
    // (mac-acl's own check), a lifetime of 0 (class-policy's own check).
    let bad = KeaConfig::new(&pair)
        .hook(&mac_acl(), Some(json!({ "alow": ["02:aa"] })))
        .hook(&class_policy, Some(json!({ "policies": [{ "class": "voip", "valid-lifetime": 0 }] })))
        .hook(&probe(), Some(json!({ "out": "/dev/null", "generation": "seven" })));
    let (code, out) = checker(&[&bad.write_file()]);
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains("error    "), "{out}");
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains("(mac-acl): bad parameters: at 'alow': unknown field `alow`"), "{out}");
    assert!(
        line_for(&out, "libdhcp_class_policy.so")
            .contains("(class-policy): bad parameters: at 'policies[0].valid-lifetime': must be 1 or more"),
        "{out}"
    );
    assert!(line_for(&out, "libdhcp_probe.so").contains("(probe): bad parameters: at 'generation': invalid type"), "{out}");
    assert!(out.contains("3 errors"), "{out}");
    // Kea's own check accepts that file: it never calls a hook.
    let (accepted, kea_out) = bad.check_with_kea(&pair);
    assert!(accepted, "kea-dhcp4 -t refused it:\n{kea_out}");
    // Started, Kea refuses it, for the first of the reasons the checker gave.
    let failure = bad.start(&pair).err().expect("Kea started with bad hook parameters");
    assert!(failure.log.contains("mac-acl: load failed: bad parameters: at 'alow': unknown field `alow`"), "{failure}");

    let mac_bad_pattern = KeaConfig::new(&pair).hook(&mac_acl(), Some(json!({ "deny": ["02:aa", "zz:00"] })));
    let (code, out) = checker(&[&mac_bad_pattern.write_file()]);
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains("bad parameters: at 'deny[1]'"), "{out}");

    // Bare library names (as Kea 3.x wants them), found in --hooks-dir; a
    // library that is not there is an error.
    let dir = kea_hooks_tests::TestDir::new();
    let bare = dir.path().join("bare.conf");
    std::fs::write(
        &bare,
        r#"{ "Dhcp4": {
            // comments as Kea allows them
            "hooks-libraries": [
                { "library": "libdhcp_mac_acl.so", "parameters": { "deny": ["02"] } }, # ok
                { "library": "libdhcp_nonexistent.so" } /* missing */
            ] } }"#,
    )
    .unwrap();
    let hooks_dir = mac_acl().parent().unwrap().to_path_buf();
    let (code, out) = checker(&[Path::new("--hooks-dir"), &hooks_dir, &bare]);
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains("ok "), "{out}");
    assert!(line_for(&out, "libdhcp_nonexistent.so").contains("not found"), "{out}");

    // Not a configuration: status 2.
    let junk = dir.path().join("junk.conf");
    std::fs::write(&junk, "{ not json").unwrap();
    assert_eq!(checker(&[&junk]).0, 2);
}

/// `--library`: library files against this machine's Kea (what the hooks
/// image build runs): ours and a C++ hook pass; a version that is not this
/// Kea's is refused, as Kea would refuse it.
#[test]
fn the_checker_refuses_a_library_for_another_kea() {
    if !require_root_and_kea() {
        return;
    }
    let ours = probe();
    let cpp = park_hook();
    let (code, out) = checker(&[Path::new("--library"), &ours, Path::new("--library"), &cpp]);
    assert_eq!(code, 0, "{out}");
    let v = kea_hooks_tests::kea_hooks_version();
    assert!(out.contains(&format!("Kea hooks API {v} (from ")), "{out}");
    assert!(line_for(&out, "libdhcp_probe.so").contains(" ok "), "{out}");
    assert!(line_for(&out, "libdhcp_park_test.so").contains(" ok "), "{out}");
    // Told to expect another release's version: refused, naming both.
    let other = (v + 100).to_string();
    let (code, out) = checker(&[Path::new("--library"), &ours, Path::new("--kea-hooks-version"), Path::new(&other)]);
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_probe.so").contains(&format!("built for Kea hooks API {v}, not {other}")), "{out}");
}
