//! The shim's exception barrier, compiled on its own (no Kea needed: only
//! a C++ compiler).

use std::process::Command;

use kea_hooks_tests::{workspace_root, TestDir};

/// Every exception becomes an error for Rust, but a forced unwind
/// (`pthread_exit`) is rethrown, not swallowed: glibc aborts the process
/// when a `catch (...)` keeps one.
#[test]
fn the_exception_barrier_catches_everything_but_forced_unwinding() {
    let dir = TestDir::new();
    let exe = dir.path().join("forced_unwind");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let root = workspace_root();
    let status = Command::new(cxx)
        .args(["-std=c++17", "-O1", "-pthread"])
        .arg(format!("-I{}", root.join("cpp-shim").display()))
        .arg(root.join("tests/fixtures/forced_unwind.cc"))
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("run the C++ compiler (install g++)");
    assert!(status.success(), "tests/fixtures/forced_unwind.cc did not compile");
    let out = Command::new(&exe).output().expect("run forced_unwind");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    assert_eq!(
        stdout,
        "caught: a std::exception\ncaught: unknown C++ exception (not derived from std::exception)\nthread exited with 42\n"
    );
}
