//! `kea-hooks-check new`, the starting point for a hook author: the crate
//! it generates (with `--sdk-path` = this checkout) builds its hook,
//! starts a real kea-dhcp4 with it and passes its own test, which uses the
//! kit as an outside crate would; and that test fails when the hook loses
//! its effect, so it asserts something. On every release. Run as root.
//!
//! The generated crate is built offline with this workspace's Cargo.lock
//! and target directory (its own workspace cannot share every artifact
//! with ours: the SDK and the kit are built once more, about 75 s on 2
//! CPUs the first time, a few seconds after that).

use std::path::Path;
use std::process::Command;

use kea_hooks_tests::{build_bin, require_root_and_kea, target_dir, workspace_root, Profile, TestDir};

/// `cargo test ARGS` in the generated crate, with `CI=true` so that its
/// test cannot pass by skipping; exit success and the output.
fn cargo_test(dir: &Path, args: &[&str]) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(dir)
        .args(["test", "--offline"])
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        // The kit's build_hook runs cargo again, inside the test.
        .env("CARGO_NET_OFFLINE", "true")
        .env("CI", "true")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("run cargo test in the generated crate");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_generated_hook_crate_passes_its_kea_test_and_the_test_catches_a_hook_without_effect() {
    if !require_root_and_kea() {
        return;
    }
    let check = build_bin("kea-hooks-check", "kea-hooks-check", Profile::current());
    let tmp = TestDir::new();
    let dir = tmp.path().join("dhcp-template-check");
    let root = workspace_root().canonicalize().unwrap();
    let out = Command::new(&check).arg("new").arg(&dir).arg("--sdk-path").arg(&root).output().expect("run kea-hooks-check new");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "kea-hooks-check new failed:\n{text}");
    for file in ["Cargo.toml", "src/lib.rs", "tests/dhcp.rs", "kea-dhcp4.json", "Dockerfile", "README.md", ".gitignore", ".dockerignore"] {
        assert!(dir.join(file).is_file(), "no {file}:\n{text}");
    }
    let toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(toml.contains("kea-hooks = \"0.1\"") && toml.contains("[patch.crates-io]") && toml.contains("[workspace]"), "{toml}");
    let docker = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(docker.contains("COPY --from=build /src/target/release/libdhcp_template_check.so /usr/local/lib/kea/hooks/"), "{docker}");
    // The generated configuration is JSON with the library and its parameters.
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("kea-dhcp4.json")).unwrap()).unwrap();
    assert_eq!(config["Dhcp4"]["hooks-libraries"][0]["library"], "libdhcp_template_check.so");
    // The same dependency versions as ours: offline, and shared artifacts.
    // (`cargo fetch` is a no-op once the workspace was built; a partial
    // build, `-p` this crate alone, may not have downloaded the SDK's.)
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let fetched = Command::new(cargo).current_dir(&root).args(["fetch", "--locked", "--quiet"]).status().expect("run cargo fetch");
    assert!(fetched.success(), "cargo fetch --locked failed in {}", root.display());

    let (ok, text) = cargo_test(&dir, &[]);
    assert!(ok, "the generated crate's tests failed:\n{text}");
    assert!(text.contains("test denied_clients_get_no_offer_and_the_others_a_logged_lease ... ok"), "{text}");
    assert!(text.contains("test tests::a_prefix_denies_every_address_under_it ... ok"), "{text}");

    // The generated configuration's parameters are good for the hook built
    // by its test (kea-hooks-check runs the hook's own parameter check).
    // (`cargo test` there, without --release, built it with dev.)
    let built = target_dir().join("debug");
    let out = Command::new(&check).arg("--hooks-dir").arg(&built).arg(dir.join("kea-dhcp4.json")).output().expect("run kea-hooks-check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("ok       libdhcp_template_check.so (template-check, built for Kea"), "{text}");

    // Without its drop the hook has no effect: the generated test must fail, saying so.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let drop_line = "cx.set_next_step(NextStep::Drop)?;";
    assert!(source.contains(drop_line), "{source}");
    std::fs::write(&lib, source.replace(drop_line, "")).unwrap();
    let (ok, text) = cargo_test(&dir, &["--test", "dhcp"]);
    assert!(!ok, "the generated test passed with a hook that drops nothing:\n{text}");
    assert!(text.contains("a client under a deny prefix got an offer"), "it failed for another reason:\n{text}");
}
