//! kea-hooks-check, the pre-deploy checker, on configurations for the Kea
//! the tests run: good parameters pass, and each bad one is reported with
//! its library and field where `kea-dhcp4 -t` accepts the file and Kea
//! itself fails only when it loads the hook (run-script's script missing,
//! not executable, or outside Kea 3.0+'s scripts directory; lease-stats'
//! `listen`); `<?include?>` is followed as Kea follows it, so the shipped
//! example configuration is checked. Run as root; see the README.

mod common;

use std::path::Path;
use std::process::Command;

use kea_hooks_tests::{build_bin, require_root_and_kea, KeaConfig, NetPair, Profile};
use serde_json::json;

use common::{hook_library, lease_stats, mac_acl, park_hook, probe};

fn checker(args: &[&Path]) -> (i32, String) {
    checker_in(args, None, &[])
}

/// The checker run in directory `cwd` (if given) with the environment
/// variables `env` added.
fn checker_in(args: &[&Path], cwd: Option<&Path>, env: &[(&str, &Path)]) -> (i32, String) {
    let bin = build_bin("kea-hooks-check", "kea-hooks-check", Profile::current());
    let mut cmd = Command::new(bin);
    cmd.args(args).envs(env.iter().copied());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let out = cmd.output().expect("run kea-hooks-check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn run_script() -> std::path::PathBuf {
    hook_library("kea-hook-run-script", "dhcp_run_script")
}

/// Writes an executable (or not) shell script `name` into `dir`.
fn script(dir: &Path, name: &str, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
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
    assert!(line_for(&out, "libdhcp_mac_acl.so").contains("ok       "), "{out}");
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

/// run-script's script is checked where `kea-dhcp4 -t` does not look:
/// missing, not executable, and (Kea 3.0+) outside the hook-scripts
/// directory (`KEA_HOOK_SCRIPTS_PATH`, given to the checker as to Kea):
/// each reported with the message Kea then gives when it refuses to start;
/// a good script passes. lease-stats' `listen` must parse.
#[test]
fn the_checker_reports_the_scripts_and_addresses_kea_would_refuse() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let elsewhere = kea_hooks_tests::TestDir::new();
    let enforced = kea_hooks_tests::kea_hooks_version() >= 30000;
    // (what, script, expected error or None when Kea accepts it)
    type Case = (&'static str, Box<dyn Fn(&Path) -> std::path::PathBuf>, Option<&'static str>);
    let outside = script(elsewhere.path(), "outside.sh", 0o755);
    let cases: Vec<Case> = vec![
        ("a good script", Box::new(|d: &Path| script(d, "good.sh", 0o755)), None),
        ("a missing script", Box::new(|d: &Path| d.join("missing.sh")), Some("at 'name': File not found: ")),
        ("a script that is not executable", Box::new(|d: &Path| script(d, "noexec.sh", 0o644)), Some("at 'name': File not executable: ")),
        (
            "a script outside the scripts directory",
            Box::new(move |_: &Path| outside.clone()),
            if enforced { Some("at 'name': ") } else { None },
        ),
    ];
    for (what, make, refused) in cases {
        let cfg = KeaConfig::new(&pair);
        let scripts_dir = cfg.dir().to_path_buf();
        let name = make(&scripts_dir);
        let cfg = cfg.hook(&run_script(), Some(json!({ "name": name })));
        let env = [("KEA_HOOK_SCRIPTS_PATH", scripts_dir.as_path())];
        let (code, out) = checker_in(&[&cfg.write_file()], None, &env);
        let line = line_for(&out, "libdhcp_run_script.so");
        let Some(reason) = refused else {
            assert_eq!(code, 0, "{what}: {out}");
            assert!(line.contains("ok "), "{what}: {line}");
            continue;
        };
        assert_eq!(code, 1, "{what}: {out}");
        let prefix = format!("(run-script): bad parameters: {reason}");
        assert!(line.contains(&prefix), "{what}: {line}");
        if what.contains("outside") {
            // Kea's own message names the directory scripts must be in.
            assert!(line.contains(scripts_dir.to_str().unwrap()), "{what}: {line}");
        }
        let (accepted, kea_out) = cfg.check_with_kea(&pair);
        assert!(accepted, "{what}: kea-dhcp4 -t refused it:\n{kea_out}");
        let failure = cfg.start(&pair).err().unwrap_or_else(|| panic!("{what}: Kea started"));
        let reported = &line[line.find("bad parameters: ").unwrap()..];
        assert!(failure.log.contains(reported), "{what}: Kea did not refuse it as the checker said ({reported}):\n{failure}");
    }

    let bad_listen = KeaConfig::new(&pair).hook(&lease_stats(), Some(json!({ "listen": "localhost:metrics" })));
    let (code, out) = checker(&[&bad_listen.write_file()]);
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_lease_stats.so").contains("(lease-stats): bad parameters: at 'listen': "), "{out}");
    let (accepted, kea_out) = bad_listen.check_with_kea(&pair);
    assert!(accepted, "kea-dhcp4 -t refused it:\n{kea_out}");
}

/// The shipped example configuration (docker/examples/config), whose
/// hooks-libraries entries are `<?include "/kea/config/..."?>` directives,
/// with those paths and the script's pointed at copies in a test
/// directory: its three hooks are found and checked. A relative include (from
/// the current directory, as Kea opens it) nested in another brings a bad
/// `listen` that is reported; an include that cannot be opened makes the
/// file unreadable (status 2), as it makes Kea refuse it.
#[test]
fn the_checker_follows_includes_as_kea_does() {
    if !require_root_and_kea() {
        return;
    }
    let dir = kea_hooks_tests::TestDir::new();
    let d = dir.path();
    let examples = kea_hooks_tests::workspace_root().join("docker/examples/config");
    let main = std::fs::read_to_string(examples.join("kea-dhcp4.json")).unwrap();
    assert!(main.contains("<?include \"/kea/config/run-script.json\"?>"), "{main}");
    std::fs::write(d.join("kea-dhcp4.json"), main.replace("/kea/config/", &format!("{}/", d.display()))).unwrap();
    std::fs::copy(examples.join("lease-stats.json"), d.join("lease-stats.json")).unwrap();
    std::fs::copy(examples.join("kea-metrics.json"), d.join("kea-metrics.json")).unwrap();
    let on_lease = script(d, "on-lease.sh", 0o755);
    let rs = std::fs::read_to_string(examples.join("run-script.json")).unwrap();
    std::fs::write(d.join("run-script.json"), rs.replace("/usr/local/share/kea/scripts/on-lease.sh", on_lease.to_str().unwrap())).unwrap();
    let hooks_dir = run_script().parent().unwrap().to_path_buf();
    assert_eq!(lease_stats().parent(), Some(hooks_dir.as_path()));
    let kea_metrics = hook_library("kea-hook-kea-metrics", "dhcp_kea_metrics");
    assert_eq!(kea_metrics.parent(), Some(hooks_dir.as_path()));
    let env = [("KEA_HOOK_SCRIPTS_PATH", d)];
    let args = |file: &Path| vec![Path::new("--hooks-dir").to_path_buf(), hooks_dir.clone(), file.to_path_buf()];
    let run = |file: &Path| {
        let a = args(file);
        let a: Vec<&Path> = a.iter().map(|p| p.as_path()).collect();
        checker_in(&a, Some(d), &env)
    };
    let (code, out) = run(&d.join("kea-dhcp4.json"));
    assert_eq!(code, 0, "{out}");
    assert!(line_for(&out, "libdhcp_run_script.so").contains("ok "), "{out}");
    assert!(line_for(&out, "libdhcp_lease_stats.so").contains("ok "), "{out}");
    assert!(line_for(&out, "libdhcp_kea_metrics.so").contains("ok "), "{out}");

    // Relative and nested: top.json -> hooks/list.json -> hooks/stats.json.
    std::fs::create_dir(d.join("hooks")).unwrap();
    std::fs::write(d.join("hooks/stats.json"), r#"{ "library": "libdhcp_lease_stats.so", "parameters": { "listen": "9464" } }"#).unwrap();
    std::fs::write(d.join("hooks/list.json"), "# the hooks\n<?include \"run-script.json\"?>, <?include \"hooks/stats.json\"?>").unwrap();
    std::fs::write(d.join("top.json"), r#"{ "Dhcp4": { "hooks-libraries": [ <?include "hooks/list.json"?> ] } }"#).unwrap();
    let (code, out) = run(Path::new("top.json"));
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_run_script.so").contains("ok "), "{out}");
    assert!(line_for(&out, "libdhcp_lease_stats.so").contains("bad parameters: at 'listen': "), "{out}");

    std::fs::write(d.join("broken.json"), r#"{ "Dhcp4": { "hooks-libraries": [ <?include "hooks/nonexistent.json"?> ] } }"#).unwrap();
    let (code, out) = run(Path::new("broken.json"));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("broken.json:1: cannot open include file hooks/nonexistent.json"), "{out}");
}

/// A kea-dhcp6 configuration: its `Dhcp6` section's libraries are checked
/// as `Dhcp4`'s are (relay6-policy's own rule checks, serde's field names),
/// and kea-dhcp6 refuses the same parameters when it loads them.
#[test]
fn the_checker_checks_dhcp6_sections() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let relay6 = hook_library("kea-hook-relay6-policy", "dhcp_relay6_policy");
    let good = KeaConfig::new6(&pair).hook(&relay6, Some(json!({ "rules": [{ "interface-id": "olt-1/*", "class": "business" }] })));
    let (code, out) = checker(&[&good.write_file()]);
    assert_eq!(code, 0, "{out}");
    assert!(line_for(&out, "libdhcp_relay6_policy.so").contains("(relay6-policy, built for Kea"), "{out}");

    let bad = KeaConfig::new6(&pair)
        .hook(&relay6, Some(json!({ "rules": [{ "interface-id": "olt-1/*", "pd-lifetimes": [20, 10] }] })))
        .hook(&common::probe6(), Some(json!({ "out": "/dev/null", "lifetimes": "long" })));
    let (code, out) = checker(&[&bad.write_file()]);
    assert_eq!(code, 1, "{out}");
    assert!(line_for(&out, "libdhcp_relay6_policy.so").contains("rules[0].pd-lifetimes: preferred 20 exceeds valid 10"), "{out}");
    assert!(line_for(&out, "libdhcp_probe6.so").contains("(probe6): bad parameters: at 'lifetimes'"), "{out}");
    let failure = bad.start(&pair).err().expect("kea-dhcp6 started with bad hook parameters");
    assert!(failure.log.contains("relay6-policy: load failed:") && failure.log.contains("rules[0].pd-lifetimes"), "{failure}");
}
