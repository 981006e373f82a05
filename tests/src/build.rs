//! Building this workspace's hook libraries from tests and tools.

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

/// Builds workspace binary `bin` of package `package` with `cargo build`
/// and returns its path. Panics if the build fails.
pub fn build_bin(package: &str, bin: &str, profile: Profile) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args(["build", "--quiet", "-p", package, "--bin", bin]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p {package} --bin {bin} failed");
    let dir = if profile == Profile::Release { "release" } else { "debug" };
    let path = target_dir().join(dir).join(bin);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Kea's headers: the include directory (and the library directory, when
/// it is not the system's), as the SDK's build script finds them.
fn kea_dirs() -> (PathBuf, Option<PathBuf>) {
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

fn hooks_version_in(include: &std::path::Path) -> u32 {
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

/// Compiles the C++ hook `tests/fixtures/<source>` against the Kea the
/// tests run (headers in `KEA_INCLUDE_DIR`, else under `KEA_PREFIX`, else Debian's
/// `/usr/include/kea`, else `/usr/local/include/kea` of a Kea built from
/// source; libraries in `KEA_LIB_DIR`, else the default path, or
/// `/usr/local/lib` with the latter) into `lib<lib>.so` beside the
/// workspace's Rust hooks (Kea 2.6+ loads hooks from one directory).
/// Panics if it does not compile.
pub fn build_cpp_hook(source: &str, lib: &str, profile: Profile) -> PathBuf {
    let (include, default_lib_dir) = kea_dirs();
    let version = hooks_version_in(&include);
    // Kea 3.0 renamed libkea-dhcp++ to libkea-dhcp.
    let dhcp_lib = if version >= 30000 { "kea-dhcp" } else { "kea-dhcp++" };
    let dir = target_dir().join(if profile == Profile::Release { "release" } else { "debug" });
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let out = dir.join(format!("lib{lib}.so"));
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let mut cmd = Command::new(cxx);
    cmd.args(["-O1", "-std=c++17", "-fPIC", "-shared", "-pthread", "-Wall", "-Wno-deprecated-declarations", "-Wno-unused-parameter"])
        .arg(format!("-I{}", include.display()))
        .arg(workspace_root().join("tests/fixtures").join(source));
    if let Some(libdir) = std::env::var_os("KEA_LIB_DIR").map(PathBuf::from).or(default_lib_dir) {
        cmd.arg(format!("-L{}", libdir.display())).arg(format!("-Wl,-rpath,{}", libdir.display()));
    }
    for l in ["kea-hooks", "kea-dhcpsrv", dhcp_lib, "kea-log", "kea-cc", "kea-asiolink", "kea-util", "kea-exceptions"] {
        cmd.arg(format!("-l{l}"));
    }
    cmd.arg("-Wl,--no-undefined").arg("-o").arg(&out);
    let status = cmd.status().expect("run the C++ compiler (install g++)");
    assert!(status.success(), "compiling tests/fixtures/{source} failed");
    out
}

/// Builds the C++ side of the benchmark (`tests/bench/build.sh`: the C++
/// bench hooks and the in-process callout driver) into `out`, against the
/// Kea the tests run (found as [`build_cpp_hook`] finds it). Panics if it
/// does not build.
pub fn build_bench_fixtures(out: &std::path::Path) {
    let (include, lib_dir) = kea_dirs();
    let mut cmd = Command::new(workspace_root().join("tests/bench/build.sh"));
    cmd.arg(out).env("KEA_INCLUDE_DIR", &include);
    if let Some(lib) = std::env::var_os("KEA_LIB_DIR").map(PathBuf::from).or(lib_dir) {
        cmd.env("KEA_LIB_DIR", lib);
    }
    let output = cmd.output().expect("run tests/bench/build.sh");
    assert!(
        output.status.success(),
        "tests/bench/build.sh failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
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

/// Instructions per callout of `lib` (none: no library) in the in-process
/// driver `callout_bench` (see [`build_bench_fixtures`]), counted by
/// callgrind: the mean over its three points (pkt4_receive, lease4_select,
/// pkt4_send) of two runs that differ only in their call counts, so that
/// start-up cancels out. Deterministic for the same binaries, whatever
/// else the machine does. Temporary files go to `scratch`.
pub fn callgrind_per_callout(driver: &std::path::Path, lib: Option<&std::path::Path>, scratch: &std::path::Path) -> f64 {
    let count = |iterations: u64| -> u64 {
        let out_file = scratch.join(format!("callgrind.{}.{iterations}", std::process::id()));
        let mut cmd = Command::new("valgrind");
        cmd.arg("--tool=callgrind").arg(format!("--callgrind-out-file={}", out_file.display()));
        cmd.arg(driver).args(["--iterations", &iterations.to_string(), "--reps", "1", "--warmup", "0"]);
        if let Some(lib) = lib {
            cmd.arg(lib);
        }
        let output = cmd.output().unwrap_or_else(|e| panic!("valgrind (apt-get install valgrind): {e}"));
        let _ = std::fs::remove_file(&out_file);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{cmd:?} failed:\n{stderr}");
        // `==PID== Collected : N` at exit.
        stderr
            .lines()
            .find_map(|l| l.split("Collected :").nth(1).and_then(|n| n.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no instruction count from callgrind in:\n{stderr}"))
    };
    let (few, many) = (2_000, 12_000);
    (count(many) - count(few)) as f64 / ((many - few) * 3) as f64
}
