//! A real DHCPv4 client in the client namespace: one DORA, configuring
//! nothing. ISC's dhclient (package isc-dhcp-client) where Debian ships it
//! (bookworm, trixie); busybox's udhcpc (package udhcpc) where it does not
//! (sid dropped isc-dhcp-client). `KEA_TEST_DHCP_CLIENT=dhclient|udhcpc`
//! picks one explicitly.

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::env::{find_program, TestDir};
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
