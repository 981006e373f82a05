//! A run_script script for the tests and the benchmark: records each
//! invocation as one JSON line `{"argv": [...], "env": {...}}` appended to
//! `<argv[0]>.jsonl` with a single `write` (so concurrent invocations never
//! interleave), adding nothing of its own to what it records (a shell
//! script would: `PWD`).
//!
//! Behaviour files beside it, read on each invocation (for fault tests):
//! `<argv[0]>.deny` (lines of hardware addresses or DUIDs: an invocation
//! whose `QUERY4_HWADDR`, `LEASES4_AT0_HWADDR`, `QUERY6_CLIENT_ID` or
//! `LEASES6_AT0_DUID` is listed exits 1), and
//! `<argv[0]>.sleep` (milliseconds to sleep before exiting), and
//! `<argv[0]>.flood` (bytes to write to stdout and stderr).
//!
//! With `argv[1] == "stream"` it is a stream-mode program: it reads one
//! JSON event per line on stdin, records each as above (argv `[argv[0],
//! hook_point]`, env the event's `env`) and answers each with a line
//! `<seq> <status>` (status 0, or 1 for a denied client; `.deny` as above,
//! read when it starts). Files read when it starts: `<argv[0]>.crash-after`
//! (a number n) makes it exit abruptly after recording its n-th event (it
//! deletes the file, so the next process does not); `<argv[0]>.stray`
//! (bytes) is written as a line of its own before every answer (a program
//! that prints other things on its output); `<argv[0]>.batch` (a number
//! n) makes it collect up to n events (or as many as come within 200 ms)
//! and answer them in reverse order.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::time::Duration;

use serde_json::{json, Value};

fn record(argv0: &str, argv: &[String], env: &BTreeMap<String, String>) {
    let mut line = serde_json::to_string(&json!({ "argv": argv, "env": env })).unwrap();
    line.push('\n');
    let mut f = OpenOptions::new().create(true).append(true).open(format!("{argv0}.jsonl")).expect("open the record file");
    // One write of the whole line: O_APPEND makes it atomic against others.
    f.write_all(line.as_bytes()).expect("write the record");
}

fn denied(argv0: &str, env: &BTreeMap<String, String>) -> bool {
    let Ok(list) = std::fs::read_to_string(format!("{argv0}.deny")) else { return false };
    let macs: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    const KEYS: [&str; 4] = ["QUERY4_HWADDR", "LEASES4_AT0_HWADDR", "QUERY6_CLIENT_ID", "LEASES6_AT0_DUID"];
    KEYS.iter().any(|k| env.get(*k).is_some_and(|v| macs.contains(&v.as_str())))
}

fn behave(argv0: &str) {
    if let Ok(ms) = std::fs::read_to_string(format!("{argv0}.sleep")) {
        std::thread::sleep(Duration::from_millis(ms.trim().parse().unwrap_or(0)));
    }
    if let Ok(n) = std::fs::read_to_string(format!("{argv0}.flood")) {
        let chunk = vec![b'x'; 65536];
        let mut left: usize = n.trim().parse().unwrap_or(0);
        while left > 0 {
            let k = left.min(chunk.len());
            let _ = std::io::stdout().write_all(&chunk[..k]);
            let _ = std::io::stderr().write_all(&chunk[..k]);
            left -= k;
        }
    }
}

/// Stream mode (see the module docs).
fn stream(argv0: &str) {
    // One open record file, and the behaviour files read once: a stream
    // program pays no per-event set-up, as a real one would not.
    let mut records = OpenOptions::new().create(true).append(true).open(format!("{argv0}.jsonl")).expect("open the record file");
    let crash = format!("{argv0}.crash-after");
    let crash_after: Option<u64> = std::fs::read_to_string(&crash).ok().and_then(|n| n.trim().parse().ok());
    let deny_list = std::fs::read_to_string(format!("{argv0}.deny")).is_ok();
    let stray: Option<Vec<u8>> = std::fs::read(format!("{argv0}.stray")).ok();
    let batch: usize = std::fs::read_to_string(format!("{argv0}.batch")).ok().and_then(|n| n.trim().parse().ok()).unwrap_or(1);
    // Lines from a thread, so a batch can end on a quiet spell.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout();
    let mut seen = 0u64;
    let mut pending: Vec<(u64, bool)> = Vec::new();
    loop {
        let line = if pending.is_empty() {
            match rx.recv() {
                Ok(l) => Some(l),
                Err(_) => break,
            }
        } else {
            rx.recv_timeout(Duration::from_millis(200)).ok()
        };
        if let Some(line) = &line {
            let event: Value = serde_json::from_str(line).expect("a JSON event");
            let env: BTreeMap<String, String> = serde_json::from_value(event["env"].clone()).expect("env");
            let point = event["hook_point"].as_str().expect("hook_point").to_owned();
            let seq = event["seq"].as_u64().expect("seq");
            let mut rec = serde_json::to_string(&json!({ "argv": [argv0, point], "env": env })).unwrap();
            rec.push('\n');
            records.write_all(rec.as_bytes()).expect("write the record");
            seen += 1;
            if crash_after == Some(seen) && std::fs::remove_file(&crash).is_ok() {
                std::process::exit(3);
            }
            pending.push((seq, deny_list && denied(argv0, &env)));
        }
        if pending.len() >= batch || line.is_none() {
            let mut text = Vec::new();
            for (seq, deny) in pending.drain(..).rev() {
                if let Some(stray) = &stray {
                    text.extend_from_slice(stray);
                    text.push(b'\n');
                }
                text.extend_from_slice(format!("{seq} {}\n", u8::from(deny)).as_bytes());
            }
            if out.write_all(&text).and_then(|_| out.flush()).is_err() {
                break;
            }
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let argv0 = argv[0].clone();
    if argv.get(1).map(String::as_str) == Some("stream") {
        stream(&argv0);
        return;
    }
    let env: BTreeMap<String, String> =
        std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    record(&argv0, &argv, &env);
    behave(&argv0);
    if denied(&argv0, &env) {
        std::process::exit(1);
    }
}
