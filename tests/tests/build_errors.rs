//! The SDK's build script explains a Kea it cannot build against: a
//! variable pointing nowhere, or headers that are incomplete. Each case runs
//! a real `cargo build -p kea-hooks` (in its own target directory, kept
//! between runs) against a doctored view of the installed Kea headers.

use std::path::{Path, PathBuf};
use std::process::Command;

use kea_hooks_tests::{skip, target_dir, workspace_root, TestDir};

/// The installed Kea's include directory (Debian's, or that of a Kea built
/// from source into /usr/local), or `None` (after saying why) when there is
/// none; in CI that is a failure.
fn kea_include() -> Option<PathBuf> {
    for dir in ["/usr/include/kea", "/usr/local/include/kea"] {
        let dir = PathBuf::from(dir);
        if dir.join("hooks/hooks.h").exists() {
            return Some(dir);
        }
    }
    skip("skipping build-error test: no Kea headers in /usr/include/kea or /usr/local/include/kea (apt-get install kea-dev)");
    None
}

/// `cargo build -p kea-hooks` with `env`; returns its stderr, which must
/// report a failure.
fn failing_build(env: &[(&str, &Path)]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "--quiet", "-p", "kea-hooks"])
        .env("CARGO_TARGET_DIR", target_dir().join("build-errors"))
        .env_remove("KEA_PREFIX")
        .env_remove("KEA_INCLUDE_DIR")
        .env_remove("KEA_LIB_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cargo");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "the build succeeded with {env:?}:\n{stderr}");
    stderr
}

#[test]
fn a_kea_prefix_without_kea_is_named_in_the_error() {
    if kea_include().is_none() {
        return;
    }
    let empty = TestDir::new();
    let stderr = failing_build(&[("KEA_PREFIX", empty.path())]);
    assert!(stderr.contains("KEA_PREFIX is set, but"), "{stderr}");
    assert!(stderr.contains("has no hooks/hooks.h"), "{stderr}");
}

#[test]
fn incomplete_kea_headers_are_named_with_what_to_install() {
    let Some(include) = kea_include() else { return };
    // The installed headers, less dhcpsrv/: symlinks, nothing copied.
    let partial = TestDir::new();
    for entry in std::fs::read_dir(&include).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "dhcpsrv" {
            std::os::unix::fs::symlink(entry.path(), partial.path().join(entry.file_name())).unwrap();
        }
    }
    let stderr = failing_build(&[("KEA_INCLUDE_DIR", partial.path())]);
    assert!(stderr.contains("the C++ shim did not compile against Kea"), "{stderr}");
    assert!(stderr.contains("Missing headers:"), "{stderr}");
    assert!(stderr.contains("<dhcpsrv/lease.h>"), "{stderr}");
    assert!(stderr.contains("incomplete kea-dev?"), "{stderr}");
}
