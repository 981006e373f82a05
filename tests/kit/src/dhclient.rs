//! A real DHCPv4 client in the client namespace: one DORA, configuring
//! nothing. ISC's dhclient (package isc-dhcp-client) where Debian ships it
//! (bookworm, trixie); busybox's udhcpc (package udhcpc) where it does not
//! (sid dropped isc-dhcp-client). `KEA_TEST_DHCP_CLIENT=dhclient|udhcpc`
//! picks one explicitly.

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::env::{find_program, TestDir};
use crate::client6::Ias6;
use crate::netns::NetPair;

/// Which client [`dhclient`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    Dhclient,
    Udhcpc,
}

/// The client to use and its program, `None` if neither is installed (or
/// the one `KEA_TEST_DHCP_CLIENT` names is not).
pub(crate) fn find_client() -> Option<(Client, PathBuf)> {
    let wanted = std::env::var("KEA_TEST_DHCP_CLIENT").unwrap_or_default();
    let dhclient = || find_program("dhclient").map(|p| (Client::Dhclient, p));
    let udhcpc = || find_program("udhcpc").map(|p| (Client::Udhcpc, p));
    match wanted.as_str() {
        "dhclient" => dhclient(),
        "udhcpc" => udhcpc(),
        _ => dhclient().or_else(udhcpc),
    }
}

/// What to install when [`find_client`] finds nothing.
pub(crate) const CLIENT_PACKAGES: &str = "`dhclient` (package isc-dhcp-client) or `udhcpc` (package udhcpc)";

/// Runs a DHCPv4 client on the pair's client interface (with the pair's
/// current MAC, see [`NetPair::set_client_mac`]) and returns the address it
/// was bound to, or `None` if none came within `timeout` or the client gave
/// up. It runs in the foreground with its own script, which only records
/// the bound address in a temporary directory: no interface, route or
/// resolv.conf is touched, and no client identifier is sent (dhclient's
/// default; udhcpc gets `-C`). The process is killed by pid before this
/// returns, so it never renews or releases.
///
/// dhclient runs as `dhclient -4 -1 -d -v` with an empty `-cf` config and
/// private `-lf`/`-pf` files; udhcpc as `udhcpc -f -q -n -C` with one
/// DISCOVER a second until `timeout`.
pub fn dhclient(pair: &NetPair, timeout: Duration) -> Option<Ipv4Addr> {
    let (client, bin) = find_client().unwrap_or_else(|| panic!("no DHCPv4 client: install {CLIENT_PACKAGES}"));
    let dir = TestDir::new();
    let got = dir.path().join("address");
    let script = dir.path().join("script.sh");
    // dhclient passes the event in $reason and the address in
    // $new_ip_address; udhcpc the event in $1 and the address in $ip.
    let record = match client {
        Client::Dhclient => "case \"$reason\" in BOUND|RENEW|REBIND|REBOOT) addr=$new_ip_address;; *) exit 0;; esac",
        Client::Udhcpc => "case \"$1\" in bound|renew) addr=$ip;; *) exit 0;; esac",
    };
    fs::write(&script, format!("#!/bin/sh\n{record}\nprintf '%s' \"$addr\" > {0}.tmp && mv {0}.tmp {0}\nexit 0\n", got.display()))
        .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = NetPair::command_in(&pair.client_ns(), bin.to_str().unwrap());
    match client {
        Client::Dhclient => {
            let conf = dir.path().join("dhclient.conf");
            fs::write(&conf, "").unwrap();
            cmd.args(["-4", "-1", "-d", "-v"])
                .arg("-sf")
                .arg(&script)
                .arg("-cf")
                .arg(&conf)
                .arg("-lf")
                .arg(dir.path().join("dhclient.leases"))
                .arg("-pf")
                .arg(dir.path().join("dhclient.pid"))
                .arg(pair.client_if());
        }
        Client::Udhcpc => {
            let tries = timeout.as_secs().max(1).to_string();
            cmd.args(["-f", "-q", "-n", "-C", "-t", &tries, "-T", "1", "-A", "1", "-i"])
                .arg(pair.client_if())
                .arg("-s")
                .arg(&script);
        }
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(dir.path().join("client.stdout")).unwrap())
        .stderr(fs::File::create(dir.path().join("client.stderr")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
    let deadline = Instant::now() + timeout;
    let read = |p: &Path| fs::read_to_string(p).ok().and_then(|t| t.trim().parse().ok());
    let mut address = None;
    while Instant::now() < deadline {
        address = read(&got);
        if address.is_some() {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            // It may have written the address just before exiting.
            address = read(&got);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // `ip netns exec` execs the client, so this is the client's own pid.
    let _ = child.kill();
    let _ = child.wait();
    address
}

/// What a DHCPv6 client run ([`dhclient6`]) was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dhcp6Lease {
    /// The address of the IA_NA, if one was bound.
    pub address: Option<Ipv6Addr>,
    /// The delegated prefix and its length, if one was bound.
    pub prefix: Option<(Ipv6Addr, u8)>,
    /// The client's output (stdout and stderr), as evidence for an
    /// assertion.
    pub output: String,
}

/// Runs a DHCPv6 client on the pair's client interface, asking for what
/// `ias` says (an address, a delegated prefix, or both), and returns what
/// it bound once everything asked for came, or what had come when
/// `timeout` passed or the client gave up. As with [`dhclient`], its script
/// only records (no address, route or resolv.conf is touched) and the
/// process is killed by pid before this returns.
///
/// dhclient runs as `dhclient -6 -1 -d -v -D LL` (a DUID-LL from the
/// interface's MAC, see [`NetPair::set_client_mac`]) with `-N`, `-P` or
/// both, an empty `-cf` config and private `-lf`/`-pf` files. Where only
/// udhcpc is installed (sid), busybox's `udhcpc6 -f -q -n` runs instead,
/// with `-d` for a prefix and `-r no` when no address is wanted.
pub fn dhclient6(pair: &NetPair, ias: Ias6, timeout: Duration) -> Dhcp6Lease {
    let (client, bin) = find_client().unwrap_or_else(|| panic!("no DHCP client: install {CLIENT_PACKAGES}"));
    pair.wait_ipv6();
    let dir = TestDir::new();
    let got = dir.path().join("bound");
    let script = dir.path().join("script.sh");
    // dhclient calls the script once per address and prefix bound, with
    // the event in $reason and $new_ip6_address or $new_ip6_prefix
    // (`prefix/len`); udhcpc6 once, with the event in $1 and $ipv6 and
    // $ipv6prefix (`prefix/len`).
    let record = match client {
        Client::Dhclient => {
            "case \"$reason\" in BOUND6|RENEW6|REBIND6|REBOOT6) ;; *) exit 0;; esac\n\
             line=\"${new_ip6_address:-} ${new_ip6_prefix:-}\""
        }
        Client::Udhcpc => "case \"$1\" in bound|renew) ;; *) exit 0;; esac\nline=\"${ipv6:-} ${ipv6prefix:-}\"",
    };
    fs::write(&script, format!("#!/bin/sh\n{record}\necho \"$line\" >> {}\nexit 0\n", got.display())).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let (want_address, want_prefix) = (matches!(ias, Ias6::Na | Ias6::NaPd), matches!(ias, Ias6::Pd | Ias6::NaPd));
    let mut cmd = match client {
        Client::Dhclient => {
            let conf = dir.path().join("dhclient6.conf");
            fs::write(&conf, "").unwrap();
            let mut cmd = NetPair::command_in(&pair.client_ns(), bin.to_str().unwrap());
            cmd.args(["-6", "-1", "-d", "-v", "-D", "LL"]);
            if want_address {
                cmd.arg("-N");
            }
            if want_prefix {
                cmd.arg("-P");
            }
            cmd.arg("-sf")
                .arg(&script)
                .arg("-cf")
                .arg(&conf)
                .arg("-lf")
                .arg(dir.path().join("dhclient6.leases"))
                .arg("-pf")
                .arg(dir.path().join("dhclient6.pid"))
                .arg(pair.client_if());
            cmd
        }
        Client::Udhcpc => {
            let busybox = find_program("busybox").unwrap_or_else(|| panic!("udhcpc6 needs `busybox` (package busybox)"));
            let mut cmd = NetPair::command_in(&pair.client_ns(), busybox.to_str().unwrap());
            let tries = timeout.as_secs().max(1).to_string();
            cmd.args(["udhcpc6", "-f", "-q", "-n", "-t", &tries, "-T", "1", "-A", "1", "-i"]).arg(pair.client_if()).arg("-s").arg(&script);
            if want_prefix {
                cmd.arg("-d");
            }
            if !want_address {
                cmd.args(["-r", "no"]);
            }
            cmd
        }
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(dir.path().join("client.stdout")).unwrap())
        .stderr(fs::File::create(dir.path().join("client.stderr")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
    let read = || {
        let mut lease = Dhcp6Lease::default();
        for line in fs::read_to_string(&got).unwrap_or_default().lines() {
            for word in line.split_whitespace() {
                match word.split_once('/') {
                    Some((prefix, len)) => {
                        if let (Ok(p), Ok(l)) = (prefix.parse(), len.parse()) {
                            lease.prefix = Some((p, l));
                        }
                    }
                    None => lease.address = word.parse().ok().or(lease.address),
                }
            }
        }
        lease
    };
    let complete = |l: &Dhcp6Lease| (!want_address || l.address.is_some()) && (!want_prefix || l.prefix.is_some());
    let deadline = Instant::now() + timeout;
    let mut lease = Dhcp6Lease::default();
    while Instant::now() < deadline {
        lease = read();
        if complete(&lease) {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            lease = read();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let output = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    lease.output = format!("{}{}", output("client.stdout"), output("client.stderr"));
    lease
}
