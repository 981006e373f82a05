//! perfdhcp (package kea-admin) in the client namespace: bounded runs with
//! a parsed report, and background traffic.

use std::process::{Child, Stdio};

use crate::env::program;
use crate::netns::NetPair;

/// One exchange's counters from perfdhcp's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// `DISCOVER-OFFER` or `REQUEST-ACK`; for DHCPv6 `SOLICIT-ADVERTISE`
    /// or `REQUEST-REPLY` (and `RENEW-REPLY`, `RELEASE-REPLY` with `-f`, `-F`).
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
    /// perfdhcp's exit code: 0, or 3 when anything counted as dropped.
    pub exit_code: i32,
    /// DISCOVERs sent (the first exchange's `sent packets`).
    pub sent: u64,
    /// OFFERs received (the first exchange's `received packets`).
    pub received: u64,
    /// Every exchange perfdhcp reported, in order (`DISCOVER-OFFER`, then
    /// `REQUEST-ACK` unless `-i`).
    pub exchanges: Vec<Exchange>,
    /// The `Rate: X 4-way exchanges/second` figure. perfdhcp divides by the
    /// whole run, including the `-W` wait at the end, so it understates the
    /// server's rate on short runs.
    pub rate: Option<f64>,
}

impl PerfdhcpReport {
    /// The exchange perfdhcp named `name` (`DISCOVER-OFFER`,
    /// `REQUEST-ACK`, `SOLICIT-ADVERTISE`, `REQUEST-REPLY`...), if it
    /// reported one.
    pub fn exchange(&self, name: &str) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.name == name)
    }

    /// ACKs (DHCPv6: REPLYs) received: the completed exchanges (the second exchange's
    /// `received packets`; 0 when perfdhcp reported none).
    pub fn acks(&self) -> u64 {
        self.exchanges.get(1).map_or(0, |e| e.received)
    }

    fn parse(stdout: String) -> PerfdhcpReport {
        let mut report = PerfdhcpReport { stdout, ..Default::default() };
        let number = |line: &str| line.rsplit(':').next().and_then(|v| v.split_whitespace().next()?.parse().ok());
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
    // -B: replies come from a raw socket; -l: send on the client interface.
    perfdhcp_family(pair, cpu, &["-4", "-B", "-l", &pair.client_if()], args)
}

fn perfdhcp_family(pair: &NetPair, cpu: Option<usize>, family: &[&str], args: &[&str]) -> std::process::Command {
    let bin = program("perfdhcp", "kea-admin");
    let mut cmd = match cpu {
        None => NetPair::command_in(&pair.client_ns(), bin.to_str().unwrap()),
        Some(cpu) => {
            let mut c = NetPair::command_in(&pair.client_ns(), "taskset");
            c.args(["-c", &cpu.to_string()]).arg(&bin);
            c
        }
    };
    cmd.args(family).args(args);
    cmd
}

/// Runs `perfdhcp -4 -B -l <client_if> args...` in the client namespace
/// and parses its report. `-B` (broadcast) is needed for replies from
/// Kea's raw socket. Bound the run with `-n COUNT` and/or `-p SECONDS`, and
/// add `-W 1000000` or the last exchange in flight counts as a drop. Exit
/// status 0 and 3 (something dropped) are accepted: check the counters;
/// any other status panics with perfdhcp's output.
pub fn perfdhcp(pair: &NetPair, args: &[&str]) -> PerfdhcpReport {
    perfdhcp_on_cpu(pair, None, args)
}

/// Runs `perfdhcp -6 -l <client_if> args...` in the client namespace
/// against a kea-dhcp6 serving the pair ([`KeaConfig::new6`](crate::KeaConfig::new6)),
/// and parses its report: exchanges `SOLICIT-ADVERTISE` and
/// `REQUEST-REPLY` (see [`PerfdhcpReport::exchange`]). perfdhcp sends from
/// the interface's link-local address (the pair has one once
/// [`NetPair::wait_ipv6`] returns, which this waits for) to ff02::1:2.
/// Add `-e prefix-only` or `-e address-and-prefix` for prefix delegation
/// (Kea needs a [`KeaConfig::pd_pool`](crate::KeaConfig::pd_pool)). Bound
/// it and accept exit codes as [`perfdhcp`] does.
pub fn perfdhcp6(pair: &NetPair, args: &[&str]) -> PerfdhcpReport {
    perfdhcp6_start(pair, None, args).wait()
}

/// Starts [`perfdhcp6`]'s command in the background, pinned to `cpu` when
/// given, its output captured: the DHCPv6 form of [`perfdhcp_start`].
/// perfdhcp -6 derives its clients' DUIDs from `-b mac=...` (the same base
/// in every run), so give runs against the same server distinct bases.
pub fn perfdhcp6_start(pair: &NetPair, cpu: Option<usize>, args: &[&str]) -> PerfdhcpRun {
    pair.wait_ipv6();
    PerfdhcpRun::spawn(perfdhcp_family(pair, cpu, &["-6", "-l", &pair.client_if()], args), args)
}

/// [`perfdhcp`], pinned to `cpu` when given (for benchmarks).
pub fn perfdhcp_on_cpu(pair: &NetPair, cpu: Option<usize>, args: &[&str]) -> PerfdhcpReport {
    perfdhcp_start(pair, cpu, args).wait()
}

/// A perfdhcp started by [`perfdhcp_start`]; [`wait`](PerfdhcpRun::wait)
/// for its report.
#[derive(Debug)]
pub struct PerfdhcpRun {
    child: Child,
    args: Vec<String>,
}

/// Starts [`perfdhcp_on_cpu`]'s command in the background, its output
/// captured: to run several at once (bound each with `-p` or `-n`).
pub fn perfdhcp_start(pair: &NetPair, cpu: Option<usize>, args: &[&str]) -> PerfdhcpRun {
    PerfdhcpRun::spawn(perfdhcp_command(pair, cpu, args), args)
}

impl PerfdhcpRun {
    /// Spawns `cmd` (a perfdhcp command line ending with `args`) with its
    /// output captured.
    fn spawn(mut cmd: std::process::Command, args: &[&str]) -> PerfdhcpRun {
        let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn perfdhcp");
        PerfdhcpRun { child, args: args.iter().map(|a| (*a).to_owned()).collect() }
    }

    /// Waits for perfdhcp to exit and parses its report, accepting exit
    /// status 0 and 3 as [`perfdhcp`] does (else panics with its output).
    pub fn wait(self) -> PerfdhcpReport {
        let out = self.child.wait_with_output().expect("wait for perfdhcp");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        match out.status.code() {
            Some(code @ (0 | 3)) => PerfdhcpReport { exit_code: code, ..PerfdhcpReport::parse(stdout) },
            _ => panic!(
                "perfdhcp {:?} failed ({}):\n{stdout}\n{}",
                self.args,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// Starts the same perfdhcp command in the background (output discarded)
/// and returns the child (its pid is perfdhcp's): bound it with `-p` or
/// `-n`, then `wait()` it, or `kill()` it.
pub fn perfdhcp_spawn(pair: &NetPair, args: &[&str]) -> Child {
    perfdhcp_command(pair, None, args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn perfdhcp")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// perfdhcp 2.2's output for `-R 10 -n 10 -r 10` without `-W`.
    const OUTPUT: &str = "Running: perfdhcp -4 -B -l vmc0 -R 10 -n 10 -r 10
Scenario: basic.
Multi-thread mode enabled.
***Rate statistics***
Rate: 8.98462 4-way exchanges/second, expected rate: 10

***Malformed Packets***
Malformed packets: 0
***Statistics for: DISCOVER-OFFER***
sent packets: 10
received packets: 9
drops: 1
drops ratio: 10 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.445 ms
avg delay: 0.529 ms
max delay: 0.662 ms
std deviation: 0.057 ms
collected packets: 0

***Statistics for: REQUEST-ACK***
sent packets: 9
received packets: 9
drops: 0
drops ratio: 0.000 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.198 ms
avg delay: 0.256 ms
max delay: 0.293 ms
std deviation: 0.026 ms
collected packets: 0
";

    #[test]
    fn parses_perfdhcp_2_2_report() {
        let r = PerfdhcpReport::parse(OUTPUT.to_owned());
        assert_eq!((r.sent, r.received), (10, 9));
        assert_eq!(
            r.exchanges,
            vec![
                Exchange { name: "DISCOVER-OFFER".into(), sent: 10, received: 9, drops: 1 },
                Exchange { name: "REQUEST-ACK".into(), sent: 9, received: 9, drops: 0 },
            ]
        );
        assert_eq!(r.rate, Some(8.98462));
    }

    /// perfdhcp 2.2's output for `-6 -e address-only -r 50 -R 20 -n 20 -n
    /// 20 -W 1000000` (delays cut).
    const OUTPUT6: &str = "Running: perfdhcp -6 -l vkc145c400 -e address-only -b mac=02:c6:00:00:05:00 -r 50 -R 20 -n 20 -n 20 -W 1000000
Scenario: basic.
Multi-thread mode enabled.
***Rate statistics***
Rate: 49.7451 4-way exchanges/second, expected rate: 50

***Malformed Packets***
Malformed packets: 0
***Statistics for: SOLICIT-ADVERTISE***
sent packets: 20
received packets: 20
drops: 0
drops ratio: 0 %
orphans: 0
rejected leases: 0
non unique addresses: 0

collected packets: 0

***Statistics for: REQUEST-REPLY***
sent packets: 20
received packets: 19
drops: 1
drops ratio: 5.000 %
orphans: 0
rejected leases: 0
non unique addresses: 0

collected packets: 0
";

    #[test]
    fn parses_perfdhcp_2_2_dhcpv6_report() {
        let r = PerfdhcpReport::parse(OUTPUT6.to_owned());
        assert_eq!(r.exchange("SOLICIT-ADVERTISE"), Some(&Exchange { name: "SOLICIT-ADVERTISE".into(), sent: 20, received: 20, drops: 0 }));
        assert_eq!(r.exchange("REQUEST-REPLY"), Some(&Exchange { name: "REQUEST-REPLY".into(), sent: 20, received: 19, drops: 1 }));
        assert_eq!((r.sent, r.received, r.acks(), r.rate), (20, 20, 19, Some(49.7451)));
        assert!(r.exchange("REQUEST-ACK").is_none());
    }

    #[test]
    fn empty_output_parses_to_nothing() {
        let r = PerfdhcpReport::parse(String::new());
        assert_eq!((r.sent, r.received, r.rate), (0, 0, None));
        assert!(r.exchanges.is_empty());
    }
}
