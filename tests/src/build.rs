//! Building this workspace's binaries, C++ fixtures and benchmark pieces
//! (the generic parts are in the kit, `kea_hooks_test`).

use std::path::PathBuf;
use std::process::Command;

use kea_hooks_test::{target_dir, Profile};
use kea_hooks_test::kea_dirs;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
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

/// Compiles the C++ hook `tests/fixtures/<source>` against the Kea the
/// tests run (headers in `KEA_INCLUDE_DIR`, else under `KEA_PREFIX`, else Debian's
/// `/usr/include/kea`, else `/usr/local/include/kea` of a Kea built from
/// source; libraries in `KEA_LIB_DIR`, else the default path, or
/// `/usr/local/lib` with the latter) into `lib<lib>.so` beside the
/// workspace's Rust hooks (Kea 2.6+ loads hooks from one directory).
/// Panics if it does not compile.
pub fn build_cpp_hook(source: &str, lib: &str, profile: Profile) -> PathBuf {
    let (include, default_lib_dir) = kea_dirs();
    let version = kea_hooks_test::kea_hooks_version();
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

/// Instructions per callout of `lib` (none: no library) in the in-process
/// driver `callout_bench` (see [`build_bench_fixtures`]), counted by
/// callgrind: the mean over its three points (pkt4_receive, lease4_select,
/// pkt4_send) of two runs that differ only in their call counts, so that
/// start-up cancels out, averaged over four stack offsets (see inside).
/// Deterministic for the same binaries, whatever else the machine does and
/// wherever the checkout is. Temporary files go to `scratch`.
pub fn callgrind_per_callout(driver: &std::path::Path, lib: Option<&std::path::Path>, scratch: &std::path::Path) -> f64 {
    // Kea's argument lookups compare names with glibc's memcmp, which takes
    // a slower path within 32 bytes of a page's end, and the strings it
    // compares include temporaries on the stack, whose page offset follows
    // the size of the process's arguments and environment (valgrind builds
    // the client's stack from them at a fixed place). So the same libraries
    // measured from checkouts at different paths differed by up to 13
    // instructions per callout (the C++ hook alone: 2305.7, 2307.9 and
    // 2318.6 on Kea 3.2). Each count here runs with a cleared environment
    // padded so that arguments and environment always take the same room,
    // at four stack offsets spread over a page; the mean is taken.
    let args: Vec<std::ffi::OsString> = vec![driver.into()];
    let fixed_env: Vec<(String, String)> = ["PATH", "LD_LIBRARY_PATH", "VALGRIND_LIB"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    let count = |iterations: u64, offset: usize| -> u64 {
        let out_file = scratch.join(format!("callgrind.{}.{iterations}", std::process::id()));
        let mut client = args.clone();
        client.extend(["--iterations", &iterations.to_string(), "--reps", "1", "--warmup", "0"].map(std::ffi::OsString::from));
        if let Some(lib) = lib {
            client.push(lib.into());
        }
        let used: usize = client.iter().map(|a| a.len() + 1).sum::<usize>()
            + fixed_env.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>();
        const ROOM: usize = 16 * 1024;
        assert!(used + offset + 64 < ROOM, "the driver's arguments and environment take {used} bytes");
        let pad = ROOM - used - offset - "KEA_HOOKS_STACK_PAD=".len() - 1;
        let mut cmd = Command::new("valgrind");
        cmd.env_clear().envs(fixed_env.iter().map(|(k, v)| (k, v))).env("KEA_HOOKS_STACK_PAD", "x".repeat(pad));
        cmd.arg("--tool=callgrind").arg(format!("--callgrind-out-file={}", out_file.display()));
        cmd.args(&client);
        let output = cmd.output().unwrap_or_else(|e| panic!("valgrind (apt-get install valgrind): {e}"));
        let _ = std::fs::remove_file(&out_file);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "valgrind callgrind {client:?} failed:\n{stderr}");
        // `==PID== Collected : N` at exit.
        stderr
            .lines()
            .find_map(|l| l.split("Collected :").nth(1).and_then(|n| n.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no instruction count from callgrind in:\n{stderr}"))
    };
    let (few, many) = (2_000, 12_000);
    let offsets = [0, 1040, 2080, 3120];
    let per_callout: f64 =
        offsets.iter().map(|&o| (count(many, o) - count(few, o)) as f64 / ((many - few) * 3) as f64).sum();
    per_callout / offsets.len() as f64
}
