//! Shared by the run-script test files: its scripts and its status.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kea_hooks_tests::Kea;
use serde_json::Value;

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
