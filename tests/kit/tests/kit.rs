//! The kit itself, against real Kea: a kea-dhcp4 it starts in a pair of
//! namespaces, with ISC's lease_cmds beside it, serves the kit's own
//! client, dhclient/udhcpc and perfdhcp; a lease shows in the lease file
//! and over the control socket; a kea-dhcp6 serves Client6; a refused
//! configuration comes back with Kea's reason; and `require_root_and_kea`
//! skips without root, but fails with `CI=true`. Run as root.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kea_hooks_test::{
    dhclient, hooks_together, isc_hook, msg, perfdhcp, require_root_and_kea, Client4, Client6, KeaConfig, NetPair, TestDir,
};
use serde_json::json;

#[test]
fn kea_with_isc_lease_cmds_serves_the_kit_s_clients_and_shows_the_leases() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    // ISC's library in the configuration's own directory (as an author's
    // hook would be beside it: Kea 2.6+ loads hooks from one directory).
    let lease_cmds = hooks_together(cfg.dir(), &[isc_hook("libdhcp_lease_cmds.so")]);
    let kea = cfg.hook(&lease_cmds[0], None).start(&pair).expect("kea-dhcp4 starts with lease_cmds");

    // The kit's client: the ACK, the lease file, lease4-get on the control socket.
    let ack = Client4::new(&pair, "02:4b:00:00:00:01").dora().expect("Client4 gets an ACK");
    assert_eq!((ack.message_type, ack.server_id, ack.lease_time), (msg::ACK, Some(pair.server_addr()), Some(3600)));
    let leases = kea.leases();
    let row = leases.iter().find(|l| l.address == ack.yiaddr).unwrap_or_else(|| panic!("no lease for {}: {leases:?}", ack.yiaddr));
    assert_eq!((row.hwaddr.as_str(), row.subnet_id, row.state), ("02:4b:00:00:00:01", 1, 0));
    let answer = kea.command("lease4-get", Some(json!({ "ip-address": ack.yiaddr.to_string() })));
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(answer["arguments"]["hw-address"], "02:4b:00:00:00:01", "{answer}");
    let answer = kea.command("lease4-get", Some(json!({ "ip-address": "198.18.255.254" })));
    assert_eq!(answer["result"], 3, "a lease Kea never gave was found: {answer}");

    // dhclient (or udhcpc), a real client, with another hardware address.
    pair.set_client_mac("02:4b:00:00:00:02");
    let addr = dhclient(&pair, Duration::from_secs(15)).expect("dhclient gets an address");
    assert!(kea.leases().iter().any(|l| l.address == addr && l.hwaddr == "02:4b:00:00:00:02"), "{:?}", kea.leases());

    // perfdhcp: 10 clients, each a full exchange.
    let report = perfdhcp(&pair, &["-r", "20", "-R", "10", "-n", "10", "-n", "10", "-W", "1000000"]);
    assert!(report.acks() >= 9, "perfdhcp: {report:?}");
    assert!(kea.leases().len() >= 2 + 9, "{:?}", kea.leases());
    assert_eq!(kea.statistic("pkt4-ack-sent") as usize, 2 + report.acks() as usize, "{}", kea.log());
}

#[test]
fn kea_dhcp6_serves_client6_and_keeps_the_lease() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let kea = KeaConfig::new6(&pair).start(&pair).expect("kea-dhcp6 starts");
    let client = Client6::new(&pair, "02:4b:00:00:06:01");
    let reply = client.sarr().expect("Client6 gets a REPLY");
    let address = reply.address().expect("an IA_NA address");
    let rows = kea.lease6_rows();
    assert!(rows.iter().any(|r| r.address == address), "no lease for {address}: {rows:?}");
}

#[test]
fn a_configuration_kea_refuses_comes_back_with_kea_s_reason() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let missing = cfg.dir().join("libdhcp_not_there.so");
    let failure = cfg.hook(&missing, None).start(&pair).err().expect("Kea refuses a library that does not exist");
    assert!(failure.status.is_some_and(|s| !s.success()), "{failure}");
    assert!(failure.log.contains("libdhcp_not_there.so"), "Kea's reason is not in the failure: {failure}");
}

/// Run only by `without_root_the_kit_skips_and_with_ci_it_fails`, as
/// another user: what `require_root_and_kea` returned.
#[test]
#[ignore = "a probe: run as a non-root child by without_root_the_kit_skips_and_with_ci_it_fails"]
fn probe_require_root_and_kea() {
    println!("KIT-PROBE returned {}", require_root_and_kea());
}

/// This test binary, copied where another user can run it, run as
/// `nobody` (as the current user when that is not root) with only the
/// probe test and `env`.
fn probe_as_non_root(dir: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let exe = dir.join("kit-probe");
    if !exe.exists() {
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    }
    let mut cmd = Command::new(&exe);
    cmd.args(["--ignored", "--exact", "probe_require_root_and_kea", "--nocapture", "--test-threads", "1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    // Another test's thread may fork while the copy's file was open for
    // writing: the fork keeps it open until its exec (ETXTBSY meanwhile).
    let mut tries = 0;
    let out = loop {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            result => break result.expect("run the probe"),
        }
    };
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn without_root_the_kit_skips_and_with_ci_it_fails() {
    // Needs neither root nor Kea: the child never has root.
    let tmp = TestDir::new();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let skip_log = tmp.path().join("skips");
    std::fs::write(&skip_log, "").unwrap();
    std::fs::set_permissions(&skip_log, std::fs::Permissions::from_mode(0o666)).unwrap();

    let (ok, out) = probe_as_non_root(tmp.path(), &[("KEA_TEST_SKIP_LOG", skip_log.to_str().unwrap())]);
    assert!(ok, "outside CI a test that cannot run must pass by returning:\n{out}");
    assert!(out.contains("KIT-PROBE returned false"), "{out}");
    assert!(out.contains("skipping integration test probe_require_root_and_kea (missing: root"), "no reason given:\n{out}");
    let logged = std::fs::read_to_string(&skip_log).unwrap();
    assert!(logged.starts_with("skipping integration test probe_require_root_and_kea"), "KEA_TEST_SKIP_LOG: {logged:?}");

    let (ok, out) = probe_as_non_root(tmp.path(), &[("CI", "true")]);
    assert!(!ok, "with CI=true a test that cannot run must fail:\n{out}");
    assert!(out.contains("CI is set, so not skipping integration test probe_require_root_and_kea (missing: root"), "{out}");
    assert!(!out.contains("KIT-PROBE returned"), "{out}");
}
