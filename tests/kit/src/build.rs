//! Building the hook under test and finding Kea's files.

use std::path::{Path, PathBuf};
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

/// The cargo target directory of the running program: for a test binary
/// (`<target>/<profile>/deps/<test>`, where cargo puts them) the one it
/// sits in, whatever `--target-dir`, `CARGO_TARGET_DIR` or
/// `build.target-dir` chose; for another program `CARGO_TARGET_DIR`, else
/// the one above its directory (`<target>/<profile>/<bin>`, as `cargo run`
/// leaves it).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running program");
    let dir = exe.parent().expect("the program's directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        return dir.parent().and_then(Path::parent).expect("<target>/<profile>/deps").to_path_buf();
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    dir.parent().expect("<target>").to_path_buf()
}

/// Builds package `package`, a hook library (a `cdylib` whose library is
/// named `lib`), with `cargo build -p package` and returns the path of its
/// `lib<lib>.so`. Panics, after cargo's own messages, if the build fails.
///
/// Cargo runs in the directory of the package under test
/// (`CARGO_MANIFEST_DIR`, which `cargo test` sets; else the current
/// directory), so `package` is that package or another of its workspace,
/// and builds into the running test's [`target_dir`] with `profile`
/// ([`Profile::current`]: `cargo test` builds the hook with `dev`,
/// `cargo test --release` with `release`): the `.so` is the one
/// `cargo build` would leave in `target/debug` or `target/release`. The
/// hook is compiled with the same Rust and the same Kea headers
/// (`KEA_PREFIX`, ...) as the test, against the Kea the test starts.
///
/// ```no_run
/// // In tests/dhcp.rs of the package `dhcp-hello`, with `[lib] name = "dhcp_hello"`:
/// let so = kea_hooks_test::build_hook(env!("CARGO_PKG_NAME"), "dhcp_hello", kea_hooks_test::Profile::current());
/// assert!(so.ends_with("libdhcp_hello.so"));
/// ```
pub fn build_hook(package: &str, lib: &str, profile: Profile) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = target_dir();
    let mut cmd = Command::new(cargo);
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        cmd.current_dir(dir);
    }
    cmd.args(["build", "--quiet", "-p", package]).arg("--target-dir").arg(&target);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p {package} failed");
    let dir = if profile == Profile::Release { "release" } else { "debug" };
    let path = target.join(dir).join(format!("lib{lib}.so"));
    assert!(path.exists(), "{} was not built (is the package's [lib] name {lib:?}, with crate-type [\"cdylib\"]?)", path.display());
    path
}

/// Kea's headers: the include directory (and the library directory, when
/// it is not the system's), as the SDK's build script finds them.
pub fn kea_dirs() -> (PathBuf, Option<PathBuf>) {
    let prefix = std::env::var_os("KEA_PREFIX").map(PathBuf::from);
    match (std::env::var_os("KEA_INCLUDE_DIR"), prefix) {
        (Some(dir), _) => (PathBuf::from(dir), None),
        (None, Some(p)) => (p.join("include/kea"), Some(p.join("lib"))),
        (None, None) if std::path::Path::new("/usr/include/kea/hooks/hooks.h").exists() => {
            (PathBuf::from("/usr/include/kea"), None)
        }
        (None, None) => (PathBuf::from("/usr/local/include/kea"), Some(PathBuf::from("/usr/local/lib"))),
    }
}

pub(crate) fn hooks_version_in(include: &std::path::Path) -> u32 {
    let hooks_h = std::fs::read_to_string(include.join("hooks/hooks.h"))
        .unwrap_or_else(|e| panic!("{}: {e} (install kea-dev)", include.join("hooks/hooks.h").display()));
    // `KEA_HOOKS_VERSION = 20200;`
    hooks_h
        .split("KEA_HOOKS_VERSION")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|v| v.trim_start_matches([' ', '=']).trim().parse().ok())
        .expect("KEA_HOOKS_VERSION in hooks/hooks.h")
}

/// `KEA_HOOKS_VERSION` of the Kea the hooks are built against (and the
/// tests run): 20200 for Kea 2.2.0, 30004 for 3.0.4, ...
pub fn kea_hooks_version() -> u32 {
    static V: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *V.get_or_init(|| hooks_version_in(&kea_dirs().0))
}

/// ISC's hook library `name` (`libdhcp_stat_cmds.so`, ...) of the Kea under
/// test; panics when that Kea has none (Debian's kea-dhcp4-server and the
/// 3.2 tree ship them all).
pub fn isc_hook(name: &str) -> PathBuf {
    let dirs = ["/usr/local/lib/kea/hooks", "/usr/lib/x86_64-linux-gnu/kea/hooks", "/usr/lib/kea/hooks"];
    dirs.iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("ISC's {name} is in none of {dirs:?}"))
}

/// Copies `libraries` into `<dir>/hooks` (Kea 2.6+ loads hooks from a
/// single directory, so ISC's and ours must sit together) and returns the
/// copies' paths.
pub fn hooks_together(dir: &Path, libraries: &[PathBuf]) -> Vec<PathBuf> {
    let hooks = dir.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    libraries
        .iter()
        .map(|lib| {
            let to = hooks.join(lib.file_name().unwrap());
            std::fs::copy(lib, &to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", lib.display(), to.display()));
            to
        })
        .collect()
}
