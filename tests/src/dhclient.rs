//! dhclient (package isc-dhcp-client) in the client namespace: one real
//! client's DORA, configuring nothing.

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::env::{program, TestDir};
use crate::netns::NetPair;

/// Runs `dhclient -4 -1 -d -v` on the client interface (with the pair's
/// current MAC, see [`NetPair::set_client_mac`]) and returns the address it
/// was bound to, or `None` if none came within `timeout` or dhclient gave
/// up. Its own `-sf` script only records `$new_ip_address` in a temporary
/// directory: no interface, route or resolv.conf is touched. An empty
/// `-cf` config and private `-lf`/`-pf` files keep runs independent. The
/// process (kept in the foreground by `-d`) is killed by pid before this
/// returns, so it never renews or releases.
pub fn dhclient(pair: &NetPair, timeout: Duration) -> Option<Ipv4Addr> {
    let dir = TestDir::new();
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
    let bin = program("dhclient", "isc-dhcp-client");
    let mut child = NetPair::command_in(&pair.client_ns(), bin.to_str().unwrap())
        .args(["-4", "-1", "-d", "-v"])
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
    // `ip netns exec` execs dhclient, so this is dhclient's own pid.
    let _ = child.kill();
    let _ = child.wait();
    address
}
