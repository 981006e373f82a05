//! The run-script hook (hooks/run-script) against ISC's run_script in one
//! real kea-dhcp6, as tests/tests/run_script.rs does in kea-dhcp4: both
//! loaded, each with its own copy of the recorder; traffic that fires
//! every DHCPv6 point ISC's hook has (address and prefix grants, renew,
//! rebind, release, decline and recovery, a relayed query with
//! interface-id, remote-id and subscriber-id, expiry, and on Kea 3.0+ an
//! address registration); the recorded invocations compared as
//! multisets. Then sync mode (a script denies a client: its REPLY is
//! dropped) and a hanging script that stalls no exchange.
//! Run as root; see the README.

mod common;

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::Duration;

use kea_hooks_tests::{
    hooks_together, isc_hook, kea_hooks_version, require_root_and_kea, Client6, Ias6, KeaConfig, NetPair, Relay6,
};
use serde_json::{json, Value};

use common::run_script::{
    count, multiset, ours, processes_of, recorder, records, status, wait_idle, wait_records, wait_statistic, zombies_of,
};

/// The points ISC's hook has in kea-dhcp6 on this Kea.
fn isc_points() -> Vec<&'static str> {
    let mut points = vec![
        "leases6_committed",
        "lease6_renew",
        "lease6_rebind",
        "lease6_release",
        "lease6_decline",
        "lease6_expire",
        "lease6_recover",
    ];
    if kea_hooks_version() >= 30000 {
        points.push("addr6_register");
    }
    points
}

#[test]
fn same_invocations_as_isc_run_script_at_every_dhcp6_point() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (pd, pd_len) = pair.pd_space6();
    // Subnet 2 lies away from the pair's link: Kea picks it by the relay's
    // link address.
    let relayed_net = pair.relay_net6(1);
    let relayed_pool = format!("{} - {}", at(relayed_net, 0x100), at(relayed_net, 0x1ff));
    let cfg = KeaConfig::new6(&pair)
        .valid_lifetime(6)
        .pd_pool(pd, pd_len, 64)
        .subnet6(json!({ "id": 2, "subnet": format!("{relayed_net}/64"), "pools": [{ "pool": relayed_pool }] }))
        .merge(json!({
            "decline-probation-period": 2,
            "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600,
                                           "flush-reclaimed-timer-wait-time": 0 },
        }));
    let dir = cfg.dir().to_path_buf();
    let isc_script = recorder(&dir, "isc-recorder");
    let our_script = recorder(&dir, "our-recorder");
    let isc = hooks_together(&dir, &[isc_hook("libdhcp_run_script.so")]).remove(0);
    let lib = ours(&dir);
    let mut kea = cfg
        .hook(&isc, Some(json!({ "name": isc_script, "sync": false })))
        .hook(&lib, Some(json!({ "name": our_script, "sync": false })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));

    // An address and a prefix: granted, renewed, rebound, released.
    let c1 = Client6::new(&pair, "02:5c:06:00:00:01").asking_for(Ias6::NaPd);
    let reply = c1.sarr().unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    assert!(reply.address().is_some() && reply.prefix().is_some(), "{reply:?}");
    c1.renew(&reply).expect("a REPLY to the RENEW");
    c1.rebind(&reply).expect("a REPLY to the REBIND");
    c1.release(&reply).expect("a REPLY to the RELEASE");
    // Declined, then recovered after the probation period.
    let c2 = Client6::new(&pair, "02:5c:06:00:00:02");
    let reply2 = c2.sarr().expect("a REPLY (2)");
    c2.decline(&reply2).expect("a REPLY to the DECLINE");
    // Relayed, with interface-id (18), remote-id (37) and subscriber-id
    // (38); left to expire with the others.
    let relay = Relay6::new(at(relayed_net, 1))
        .interface_id(b"olt-1/port-7")
        .remote_id(4491, &[0xde, 0xad])
        .subscriber_id(b"sub-42");
    let c3 = Client6::new(&pair, "02:5c:06:00:00:03").via(&[relay]);
    c3.sarr().unwrap_or_else(|| panic!("no relayed REPLY:\n{}", kea.log()));
    // Left to expire and be reclaimed.
    Client6::new(&pair, "02:5c:06:00:00:04").sarr().expect("a REPLY (4)");
    // Kea 3.0+: a registration of an address the client configured itself.
    if kea_hooks_version() >= 30000 {
        let mine: Ipv6Addr = at(pair.subnet6().trim_end_matches("/64").parse().unwrap(), 0x77);
        let c5 = Client6::new(&pair, "02:5c:06:00:00:05").via(&[Relay6::new(mine).peer(mine)]);
        c5.addr_reg_inform(mine).unwrap_or_else(|| panic!("no ADDR-REG-REPLY:\n{}", kea.log()));
        // Again: now with an old lease (OLD_LEASE6_*).
        c5.addr_reg_inform(mine).unwrap_or_else(|| panic!("no second ADDR-REG-REPLY:\n{}", kea.log()));
    }

    // Expiry: the declined address (after its probation), c3's and c4's.
    let isc_done = |r: &[Value]| count(r, "lease6_recover") >= 1 && count(r, "lease6_expire") >= 3;
    let isc_records = wait_records(&isc_script, Duration::from_secs(30), isc_done);
    assert!(isc_done(&isc_records), "ISC's hook did not record expiry and recovery: {isc_records:#?}");
    wait_records(&our_script, Duration::from_secs(10), |r| r.len() >= isc_records.len());
    // Anything later (another reclamation) lands in both: stop Kea, then
    // let the last scripts ISC's hook started finish their writes.
    kea.stop();
    let ours_now = records(&our_script).len();
    let isc_records = wait_records(&isc_script, Duration::from_secs(5), |r| r.len() >= ours_now);
    let our_records = records(&our_script);

    for point in isc_points() {
        assert!(count(&isc_records, point) > 0, "no {point} in ISC's records");
    }
    let any = |key: &str, value: &str| isc_records.iter().any(|r| r["env"][key] == value);
    if kea_hooks_version() >= 30000 {
        assert!(any("OLD_LEASE6_STATE", "registered"), "no re-registration in ISC's records");
    }
    assert!(any("LEASE6_TYPE", "IA_PD") && any("PKT6_IA_IA_TYPE", "25"), "no prefix in ISC's records");
    if kea_hooks_version() >= 20705 {
        assert!(any("QUERY6_OPTION_37", "0x0000118BDEAD"), "no remote-id in ISC's records");
        assert!(any("QUERY6_OPTION_18", &format!("0x{}", hex(b"olt-1/port-7"))), "no interface-id in ISC's records");
        assert!(any("QUERY6_OPTION_38", &format!("0x{}", hex(b"sub-42"))), "no subscriber-id in ISC's records");
    }
    let (a, b) = (multiset(&isc_records, &isc_script), multiset(&our_records, &our_script));
    if a != b {
        let only_isc: Vec<_> = a.iter().filter(|x| !b.contains(x)).collect();
        let only_ours: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
        panic!(
            "invocations differ ({} ISC, {} ours)\nonly ISC's:\n{only_isc:#?}\nonly ours:\n{only_ours:#?}",
            a.len(),
            b.len()
        );
    }
    eprintln!("{} identical invocations over {} points", a.len(), isc_points().len());
}

#[test]
fn sync_mode_drops_the_reply_of_a_client_the_script_denies_in_kea_dhcp6() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new6(&pair).logger("kea-dhcp6.run-script", "DEBUG", 40);
    let script = recorder(cfg.dir(), "gate");
    let lib = ours(cfg.dir());
    let file = |ext: &str| PathBuf::from(format!("{}.{ext}", script.display()));
    let denied = Client6::new(&pair, "02:5c:06:00:03:02").with_timeout(Duration::from_millis(1500));
    std::fs::write(file("deny"), format!("{}\n", denied.duid_text())).unwrap();
    let mut kea = cfg
        .hook(&lib, Some(json!({ "name": script, "sync": true, "timeout-ms": 5000 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));

    Client6::new(&pair, "02:5c:06:00:03:01")
        .sarr()
        .unwrap_or_else(|| panic!("an allowed client gets its REPLY:\n{}", kea.log()));
    let advertise = denied.solicit().expect("an ADVERTISE (leases6_committed parks only what commits leases)");
    assert!(denied.request(&advertise).is_none(), "a denied client got a REPLY");
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert!(s["failed"].as_u64() >= Some(1) && s["run"].as_u64() >= Some(1), "{s}");
    let failed = s["failed"].as_u64().unwrap();
    assert_eq!(
        wait_statistic(&kea, "run-script.failed", failed, Duration::from_secs(5)),
        failed,
        "Kea's statistic follows the counter"
    );
    let r = records(&script);
    assert!(r.iter().any(|r| r["argv"][1] == "leases6_committed" && r["env"]["QUERY6_CLIENT_ID"] == denied.duid_text().as_str()), "{r:#?}");
    kea.stop();
    assert!(processes_of(&script).is_empty());
}

#[test]
fn a_hanging_script_stalls_no_dhcp6_exchange_and_leaves_no_zombie() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (pd, pd_len) = pair.pd_space6();
    let cfg = KeaConfig::new6(&pair).pd_pool(pd, pd_len, 64);
    let script = recorder(cfg.dir(), "hang");
    let lib = ours(cfg.dir());
    std::fs::write(format!("{}.sleep", script.display()), "30000").unwrap();
    let mut kea = cfg
        .hook(&lib, Some(json!({ "name": script, "timeout-ms": 500 })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));

    let client = Client6::new(&pair, "02:5c:06:00:04:01").asking_for(Ias6::NaPd);
    let reply = client.sarr().expect("a REPLY while the script hangs");
    assert!(reply.prefix().is_some(), "no prefix: {reply:?}");
    client.renew(&reply).expect("a REPLY to the RENEW while the scripts hang");
    // The replies came while the scripts were still running.
    assert!(status(&kea)["unfinished"].as_u64() >= Some(1), "{}", status(&kea));
    // leases6_committed twice, lease6_renew for the address and the prefix.
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert_eq!((s["queued"].as_u64(), s["timed-out"].as_u64()), (Some(4), Some(4)), "{s}");
    assert!(processes_of(&script).is_empty(), "the hung scripts still run: {:?}", processes_of(&script));
    assert!(zombies_of(kea.pid()).is_empty(), "zombie children of Kea: {:?}", zombies_of(kea.pid()));
    kea.stop();
}

#[test]
fn stream_mode_gets_the_dhcp6_events_isc_run_script_gets() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (pd, pd_len) = pair.pd_space6();
    let cfg = KeaConfig::new6(&pair).pd_pool(pd, pd_len, 64);
    let dir = cfg.dir().to_path_buf();
    let isc_script = recorder(&dir, "isc-recorder");
    let script = recorder(&dir, "stream");
    let isc = hooks_together(&dir, &[isc_hook("libdhcp_run_script.so")]).remove(0);
    let lib = ours(&dir);
    let mut kea = cfg
        .hook(&isc, Some(json!({ "name": isc_script })))
        .hook(&lib, Some(json!({ "name": script, "mode": "stream" })))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..3u8 {
        let client = Client6::new(&pair, &format!("02:5c:06:00:05:{i:02x}")).asking_for(Ias6::NaPd);
        let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
        client.renew(&reply).expect("a REPLY to the RENEW");
    }
    // Per client: leases6_committed twice, lease6_renew for the address
    // and the prefix.
    let s = wait_idle(&kea, Duration::from_secs(10));
    assert_eq!((s["queued"].as_u64(), s["run"].as_u64()), (Some(12), Some(12)), "{s}");
    let isc_records = wait_records(&isc_script, Duration::from_secs(10), |r| r.len() >= 12);
    assert_eq!(
        wait_statistic(&kea, "run-script.run", 12, Duration::from_secs(5)),
        12,
        "Kea's statistic follows the counter"
    );
    kea.stop();
    assert_eq!(
        multiset(&records(&script), &script),
        multiset(&isc_records, &isc_script),
        "stream events differ from ISC's invocations"
    );
}

/// Address `last` of the /64 at `net`.
fn at(net: Ipv6Addr, last: u16) -> Ipv6Addr {
    let mut s = net.segments();
    s[7] = last;
    Ipv6Addr::from(s)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
