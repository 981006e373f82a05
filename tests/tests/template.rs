//! `kea-hooks-check new --sdk-path CHECKOUT`, the starting point for
//! working from a checkout of this repository: the generated crate's
//! dependencies resolve to the checkout's crates (cargo metadata, offline).
//! What the generated crate does, built and tested against a real Kea, is
//! tested from the published packages in packaging.rs (the same template,
//! with its dependencies by version).

use std::process::Command;

use kea_hooks_tests::{build_bin, target_dir, workspace_root, Profile, TestDir};

#[test]
fn a_crate_generated_with_sdk_path_uses_the_checkouts_crates() {
    let check = build_bin("kea-hooks-check", "kea-hooks-check", Profile::current());
    let tmp = TestDir::new();
    let dir = tmp.path().join("dhcp-from-checkout");
    let root = workspace_root().canonicalize().unwrap();
    let out = Command::new(&check).arg("new").arg(&dir).arg("--sdk-path").arg(&root).output().expect("run kea-hooks-check new");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "kea-hooks-check new failed:\n{text}");
    let toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(toml.contains("kea-hooks = \"0.1\"") && toml.contains("[patch.crates-io]") && toml.contains("[workspace]"), "{toml}");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&dir)
        .args(["metadata", "--offline", "--format-version", "1"])
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed in the generated crate:\n{}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest_of = |name: &str| -> String {
        metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not among the generated crate's packages"))["manifest_path"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (name, path) in [("kea-hooks", "hooks-sdk"), ("kea-hooks-shim", "cpp-shim"), ("kea-hooks-test", "tests/kit")] {
        assert_eq!(manifest_of(name), root.join(path).join("Cargo.toml").to_str().unwrap(), "{name}");
    }
}
