//! DHCP traffic from the client namespace: perfdhcp and dhclient.

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::env::{find_program, TestDir};
use crate::netns::NetPair;

/// One exchange's counters from perfdhcp's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// `DISCOVER-OFFER` or `REQUEST-ACK`.
    pub name: String,
    /// Packets sent.
    pub sent: u64,
    /// Packets received.
    pub received: u64,
    /// Packets counted as dropped.
    pub drops: u64,
}

/// What perfdhcp printed, parsed.
#[derive(Debug, Clone, Default)]
pub struct PerfdhcpReport {
    /// The whole output.
    pub stdout: String,
    /// DISCOVERs sent.
    pub sent: u64,
    /// OFFERs received.
    pub received: u64,
    /// Every exchange perfdhcp reported.
    pub exchanges: Vec<Exchange>,
    /// Completed exchanges per second (`Rate:` line).
    pub rate: Option<f64>,
}

impl PerfdhcpReport {
    fn parse(stdout: String) -> PerfdhcpReport {
        let mut report = PerfdhcpReport { stdout, ..Default::default() };
        let number = |line: &str| line.rsplit(':').next().and_then(|v| v.trim().split_whitespace().next()?.parse().ok());
        for line in report.stdout.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("***Statistics for:") {
                report.exchanges.push(Exchange { name: rest.trim_matches(|c| c == '*' || c == ' ').to_owned(), ..Default::default() });
            } else if let Some(rest) = line.strip_prefix("Rate:") {
                report.rate = rest.split_whitespace().next().and_then(|v| v.parse().ok());
            } else if let Some(ex) = report.exchanges.last_mut() {
                if line.starts_with("sent packets:") {
                    ex.sent = number(line).unwrap_or(0);
                } else if line.starts_with("received packets:") {
                    ex.received = number(line).unwrap_or(0);
                } else if line.starts_with("drops:") {
                    ex.drops = number(line).unwrap_or(0);
                }
            }
        }
        if let Some(first) = report.exchanges.first() {
            report.sent = first.sent;
            report.received = first.received;
        }
        report
    }
}

fn perfdhcp_command(pair: &NetPair, cpu: Option<usize>, args: &[&str]) -> std::process::Command {
    let bin = find_program("perfdhcp").expect("perfdhcp not installed (package kea-admin)");
    let mut cmd = match cpu {
        None => NetPair::command_in(&pair.client_ns(), bin.to_str().unwrap()),
        Some(cpu) => {
            let mut c = NetPair::command_in(&pair.client_ns(), "taskset");
            c.args(["-c", &cpu.to_string()]).arg(&bin);
            c
        }
    };
    // -B: replies come from a raw socket; -l: send on the client interface.
    cmd.args(["-4", "-B", "-l", &pair.client_if()]).args(args);
    cmd
}

/// Runs perfdhcp in the client namespace with `args` (add `-n`/`-p` to
/// bound it). Exit status 0 and 3 (some drops) are accepted: check the
/// counters.
pub fn perfdhcp(pair: &NetPair, args: &[&str]) -> PerfdhcpReport {
    perfdhcp_on_cpu(pair, None, args)
}

/// [`perfdhcp`], pinned to `cpu` when given (for benchmarks).
pub fn perfdhcp_on_cpu(pair: &NetPair, cpu: Option<usize>, args: &[&str]) -> PerfdhcpReport {
    let out = perfdhcp_command(pair, cpu, args).stdin(Stdio::null()).output().expect("run perfdhcp");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0) | Some(3) => PerfdhcpReport::parse(stdout),
        _ => panic!("perfdhcp {args:?} failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr)),
    }
}

/// Starts perfdhcp in the background (output discarded); bound it with `-p`.
pub fn perfdhcp_spawn(pair: &NetPair, args: &[&str]) -> Child {
    perfdhcp_command(pair, None, args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn perfdhcp")
}

/// Runs dhclient once on the client interface (with the pair's current
/// MAC) and returns the address it was bound to, or `None` if none came
/// within `timeout`. dhclient configures nothing: its script only records
/// the address. The process is killed by pid before returning.
pub fn dhclient(pair: &NetPair, timeout: Duration) -> Option<Ipv4Addr> {
    let dir = TestDir::new("dhclient");
    let got = dir.path().join("address");
    let script = dir.path().join("script.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$reason\" in BOUND|RENEW|REBIND|REBOOT) printf '%s' \"$new_ip_address\" > {}.tmp && mv {0}.tmp {0};; esac\nexit 0\n",
            got.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let conf = dir.path().join("dhclient.conf");
    fs::write(&conf, "").unwrap();
    let bin = find_program("dhclient").expect("dhclient not installed (package isc-dhcp-client)");
    let mut child = NetPair::command_in(&pair.client_ns(), bin.to_str().unwrap())
        .args(["-4", "-1", "-d", "-q"])
        .arg("-sf")
        .arg(&script)
        .arg("-cf")
        .arg(&conf)
        .arg("-lf")
        .arg(dir.path().join("dhclient.leases"))
        .arg("-pf")
        .arg(dir.path().join("dhclient.pid"))
        .arg(pair.client_if())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.path().join("dhclient.stderr")).unwrap())
        .spawn()
        .expect("spawn dhclient");
    let deadline = Instant::now() + timeout;
    let mut address = None;
    while Instant::now() < deadline {
        if let Ok(text) = fs::read_to_string(&got) {
            address = text.trim().parse().ok();
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    address
}
