//! The harness itself against a real kea-dhcp4 without hooks: start-up,
//! perfdhcp, dhclient, a refused configuration, the control socket, a
//! rewritten configuration. Run as root (network namespaces); see README.

use std::net::Ipv4Addr;
use std::time::Duration;

use kea_hooks_tests::{dhclient, perfdhcp, require_root_and_kea, run_in_ns, KeaConfig, NetPair};
use serde_json::json;

/// Whether `addr` lies in the pair's pool (`A.B.C.10 - A.B.C.250`).
fn in_pool(pair: &NetPair, addr: Ipv4Addr) -> bool {
    let pool = pair.pool();
    let (first, last) = pool.split_once(" - ").expect("pool is a range");
    let (first, last): (Ipv4Addr, Ipv4Addr) = (first.parse().unwrap(), last.parse().unwrap());
    (first..=last).contains(&addr)
}

#[test]
fn perfdhcp_gets_leases() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let kea = KeaConfig::new(&pair).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let report = perfdhcp(&pair, &["-r", "10", "-R", "10", "-n", "10", "-p", "5", "-W", "1000000"]);
    assert!(report.received > 0, "no offers:\n{}", report.stdout);
    assert_eq!(report.exchanges.len(), 2, "{}", report.stdout);
    assert_eq!(report.exchanges[0].name, "DISCOVER-OFFER");
    assert!(report.exchanges[1].received > 0, "no acks:\n{}", report.stdout);
    assert!(report.rate.is_some_and(|r| r > 0.0), "{}", report.stdout);

    let leases = kea.leases();
    assert!(!leases.is_empty(), "no leases after:\n{}", report.stdout);
    assert!(leases.len() as u64 <= report.exchanges[1].received, "{leases:?}");
    for lease in &leases {
        assert!(in_pool(&pair, lease.address), "{lease:?}");
        assert_eq!(lease.subnet_id, 1);
        assert_eq!(lease.valid_lifetime, 3600);
    }
    assert!(kea.count_in_log("DHCP4_LEASE_ALLOC") > 0, "{}", kea.log());
}

#[test]
fn dhclient_gets_an_address_for_its_mac() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mac = "02:42:c6:12:00:01";
    pair.set_client_mac(mac);
    let link = run_in_ns(&pair.client_ns(), "ip", &["-o", "link", "show", "dev", &pair.client_if()]);
    assert!(String::from_utf8_lossy(&link.stdout).contains(mac), "{link:?}");

    let kea = KeaConfig::new(&pair).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let addr = dhclient(&pair, Duration::from_secs(8)).expect("dhclient gets an address");
    assert!(in_pool(&pair, addr), "{addr} outside {}", pair.pool());
    let leases = kea.leases();
    let lease = leases.iter().find(|l| l.hwaddr == mac).unwrap_or_else(|| panic!("no lease for {mac}: {leases:?}"));
    assert_eq!(lease.address, addr);
    assert!(kea.wait_for_log("DHCP4_LEASE_ALLOC", Duration::from_secs(2)));
}

#[test]
fn a_bad_config_is_refused_with_its_log() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let failure = match KeaConfig::new(&pair).merge(json!({ "valid-lifetime": "x" })).start(&pair) {
        Ok(_) => panic!("kea-dhcp4 accepted valid-lifetime \"x\""),
        Err(e) => e,
    };
    assert!(failure.status.is_some_and(|s| !s.success()), "{failure}");
    assert!(!failure.log.trim().is_empty());
    // Kea 2.2 rejects it in its JSON grammar ("syntax error, unexpected
    // constant string, expecting integer"), before its loggers exist: the
    // reason is on stdout/stderr, not in kea.log.
    assert!(failure.log.contains("DHCP4_CONFIG_LOAD_FAIL") && failure.log.contains("kea-dhcp4.conf"), "{failure}");
    assert!(failure.to_string().contains(&failure.log));
}

#[test]
fn the_control_socket_answers() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mut kea = KeaConfig::new(&pair).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let answer = kea.command("list-commands", None);
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(answer["arguments"].as_array().is_some_and(|a| a.iter().any(|c| c == "config-reload")), "{answer}");
    let status = kea.command("status-get", None);
    assert_eq!(status["arguments"]["pid"], kea.pid(), "{status}");
    let unknown = kea.command("no-such-command", None);
    assert_eq!(unknown["result"], 2, "{unknown}");
    assert!(kea.is_alive());
    assert!(kea.dir().join("kea4.sock").exists());
    kea.stop();
    assert!(!kea.is_alive());
}

#[test]
fn a_rewritten_config_is_picked_up_by_reload() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mut kea = KeaConfig::new(&pair).start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let cfg = kea.config().clone().valid_lifetime(120).debug(0);
    assert_eq!(cfg.to_json()["Dhcp4"]["valid-lifetime"], 120);
    kea.rewrite_config(&cfg);
    let answer = kea.config_reload();
    assert_eq!(answer["result"], 0, "{answer}");
    let got = kea.command("config-get", None);
    assert_eq!(got["arguments"]["Dhcp4"]["valid-lifetime"], 120, "{got}");

    pair.set_client_mac("02:42:c6:12:00:02");
    let addr = dhclient(&pair, Duration::from_secs(8)).expect("dhclient gets an address");
    let lease = kea.leases().into_iter().find(|l| l.address == addr).expect("lease in the file");
    assert_eq!(lease.valid_lifetime, 120);

    // SIGHUP rereads the file too.
    let cfg = kea.config().clone().valid_lifetime(240);
    kea.rewrite_config(&cfg);
    kea.sighup();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let got = kea.command("config-get", None);
        if got["arguments"]["Dhcp4"]["valid-lifetime"] == 240 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "SIGHUP did not reload: {got}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(kea.is_alive());
}
