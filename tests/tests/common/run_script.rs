//! Shared by the run-script test files: its scripts and its status.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kea_hooks_tests::Kea;
use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The run-script hook's library (hooks/run-script).
pub fn lib() -> PathBuf {
    super::hook_library("kea-hook-run-script", "dhcp_run_script")
}

/// A copy of the recorder (tests/src/bin/run-script-recorder.rs) in `dir`
/// named `name` (its records go to `<dir>/<name>.jsonl`).
pub fn recorder(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(env!("CARGO_BIN_EXE_run-script-recorder"), &to).unwrap();
    to
}

/// An executable shell script `name` in `dir` (Kea's own test directory,
/// which the harness makes the hook-scripts directory on Kea 3.0+).
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The invocations `script` recorded (JSON lines in `<script>.jsonl`).
pub fn records(script: &Path) -> Vec<Value> {
    super::records(&PathBuf::from(format!("{}.jsonl", script.display())))
}

/// `run-script-status`'s arguments.
pub fn status(kea: &Kea) -> Value {
    let a = kea.command("run-script-status", None);
    assert_eq!(a["result"], 0, "{a}");
    a["arguments"].clone()
}

/// Waits (up to `timeout`) until run-script-status satisfies `done`; the
/// last status.
pub fn wait_status(kea: &Kea, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let s = status(kea);
        if done(&s) || Instant::now() >= deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the hook has nothing queued or running.
pub fn wait_idle(kea: &Kea, timeout: Duration) -> Value {
    wait_status(kea, timeout, |s| s["unfinished"] == 0)
}

/// Every process: pid, the program (argv[0], or argv[1] when argv[0] is
/// a shell running a script), state and parent pid (from /proc).
fn processes() -> Vec<(u32, Vec<u8>, String, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let mut argv = cmdline.split(|&b| b == 0);
        let mut argv0 = argv.next().unwrap_or_default().to_vec();
        if argv0 == b"/bin/sh" {
            argv0 = argv.next().unwrap_or_default().to_vec();
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // After the command's closing parenthesis: state, then ppid.
        let mut fields = stat.rsplit(") ").next().unwrap_or("").split(' ');
        let state = fields.next().unwrap_or("").to_owned();
        let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        found.push((pid, argv0, state, ppid));
    }
    found
}

/// Processes (pid, state) whose argv[0] is `script`.
pub fn processes_of(script: &Path) -> Vec<(u32, String)> {
    let argv0 = script.as_os_str().as_encoded_bytes();
    processes().into_iter().filter(|p| p.1 == argv0).map(|(pid, _, state, _)| (pid, state)).collect()
}

/// Zombie children of `pid`.
pub fn zombies_of(pid: u32) -> Vec<u32> {
    processes().into_iter().filter(|p| p.2 == "Z" && p.3 == pid).map(|p| p.0).collect()
}

/// Our library, copied under another file name so that it can sit beside
/// ISC's `libdhcp_run_script.so` in one hooks directory.
pub fn ours(dir: &Path) -> PathBuf {
    let built = lib();
    let hooks = dir.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let to = hooks.join("libdhcp_run_script_rs.so");
    std::fs::copy(&built, &to).unwrap();
    to
}

/// Waits (up to `timeout`) until `done` holds for what `script` recorded.
pub fn wait_records(script: &Path, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let r = records(script);
        if done(&r) || Instant::now() >= deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn count(records: &[Value], point: &str) -> usize {
    records.iter().filter(|r| r["argv"][1] == point).count()
}

/// The invocations as comparable text (argv without its script name, and
/// the environment), sorted: a multiset.
pub fn multiset(records: &[Value], script: &Path) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| {
            assert_eq!(r["argv"][0], json!(script), "argv[0] is the script's path: {r}");
            assert_eq!(r["argv"].as_array().unwrap().len(), 2, "argv is [name, hook_point]: {r}");
            let env: BTreeMap<String, String> = serde_json::from_value(r["env"].clone()).unwrap();
            format!("{} {}", r["argv"][1].as_str().unwrap(), serde_json::to_string(&env).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Kea's statistic `name` once it reads `want` (the hook publishes its
/// counters from Kea's main thread, a moment after it counts them), or
/// what it reads after `timeout`.
pub fn wait_statistic(kea: &Kea, name: &str, want: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let v = kea.statistic(name);
        if v == want || Instant::now() >= deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
