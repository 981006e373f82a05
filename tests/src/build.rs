//! Building this workspace's hook libraries from tests and tools.

use std::path::PathBuf;
use std::process::Command;

/// Which cargo profile to build with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `dev` (target/debug).
    Debug,
    /// `release` (target/release).
    Release,
}

impl Profile {
    /// The profile this code itself was compiled with.
    pub fn current() -> Profile {
        if cfg!(debug_assertions) {
            Profile::Debug
        } else {
            Profile::Release
        }
    }
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo target directory (`CARGO_TARGET_DIR`, else `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds workspace package `package` (a cdylib) with `cargo build` and
/// returns the path of its `lib<lib>.so`. Panics if the build fails.
pub fn build_hook(package: &str, lib: &str, profile: Profile) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args(["build", "--quiet", "-p", package]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p {package} failed");
    let dir = if profile == Profile::Release { "release" } else { "debug" };
    let path = target_dir().join(dir).join(format!("lib{lib}.so"));
    assert!(path.exists(), "{} was not built", path.display());
    path
}
