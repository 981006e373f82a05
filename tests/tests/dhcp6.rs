//! The SDK's DHCPv6 hook points in a real kea-dhcp6, driven by the
//! harness's DHCPv6 client: every point fires, its view shows what the
//! client put on the wire, and every write shows on the wire or in the
//! lease file. The probe (tests/probe6-hook) records what each callout
//! sees. Run as root; see the README.

mod common;

use std::time::{Duration, Instant};

use common::{at, records, wait_for_record, with_probe6};
use kea_hooks_tests::{msg6, require_root_and_kea, Client6, KeaConfig, NetPair};
use serde_json::json;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The DUID-LL the test client builds from `mac` (type 3, hardware type 1).
fn duid_ll(mac: &str) -> String {
    format!("00030001{}", mac.replace(':', ""))
}

#[test]
fn every_dhcp6_point_fires_and_shows_what_the_client_sent_and_writes_reach_the_client() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let dns = "2001:2::53".parse::<std::net::Ipv6Addr>().unwrap();
    let cfg = KeaConfig::new6(&pair).merge(json!({
        "expired-leases-processing": { "reclaim-timer-wait-time": 1 },
        "decline-probation-period": 2,
    }));
    let (kea, out) = with_probe6(
        &pair,
        cfg,
        json!({
            "lifetimes": [1000, 2000],
            "hostname": "probe6.example.",
            "send-options": [{ "code": 23, "hex": hex(&dns.octets()) }],
            "add-class": "probe6-seen",
        }),
    );

    let mac = "02:c6:00:00:01:01";
    let client = Client6::new(&pair, mac);
    let advertise = client.solicit().unwrap_or_else(|| panic!("no ADVERTISE:\n{}", kea.log()));
    let reply = client.request(&advertise).unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    let addr = reply.address().expect("an address");

    // pkt6_receive: the view is what the client sent.
    let solicit = wait_for_record(&out, "pkt6_receive", 1, |r| r["query"]["type"] == "SOLICIT");
    let q = &solicit["query"];
    assert_eq!(q["xid"], advertise.xid, "{solicit}");
    assert_eq!(q["client_id"], duid_ll(mac), "{solicit}");
    assert_eq!(q["remote_port"], 546, "{solicit}");
    // (Kea's socket does not record the local port of a DHCPv6 query: 0.)
    assert_eq!(q["local_addr"], "ff02::1:2", "{solicit}");
    assert_eq!(q["iface"], pair.server_if(), "{solicit}");
    assert!(q["remote_addr"].as_str().unwrap().starts_with("fe80::"), "{solicit}");
    assert_eq!(q["relayed"], false, "{solicit}");
    assert_eq!(q["ia_na"][0]["iaid"], 1, "{solicit}");
    assert!(q["options"].as_array().unwrap().contains(&json!(1)), "{solicit}");
    assert!(q["classes"].as_array().unwrap().contains(&json!("probe6-seen")), "the class added at pkt6_receive: {solicit}");

    // lease6_select: advertised (fake) at the SOLICIT, assigned at the REQUEST.
    let selects = at(&records(&out), "lease6_select").into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(selects.iter().map(|r| r["fake"].clone()).collect::<Vec<_>>(), vec![json!(true), json!(false)], "{selects:?}");
    let select = &selects[1];
    assert_eq!(select["lease"]["type"], "IA_NA", "{select}");
    assert_eq!(select["lease"]["address"], addr.to_string(), "{select}");
    assert_eq!(select["lease"]["duid"], duid_ll(mac), "{select}");
    assert_eq!(select["lease"]["iaid"], 1, "{select}");
    assert_eq!(select["subnet"]["id"], 1, "{select}");
    assert_eq!(select["subnet"]["pools"][0]["type"], "IA_NA", "{select}");

    // The lifetimes written at lease6_select reach the REPLY and the lease file.
    assert_eq!((reply.addresses[0].1, reply.addresses[0].2), (1000, 2000), "{reply:?}");
    let row = wait_until(|| kea.lease6_rows().into_iter().find(|r| r.address == addr && r.valid_lifetime == 2000));
    assert!(row.is_some(), "the lease file has not the written lifetimes: {:?}", kea.lease6_rows());
    assert_eq!(row.unwrap().preferred_lifetime, 1000);

    // The option set at pkt6_send reaches the client; the packet's value
    // stored at pkt6_receive is found at pkt6_send.
    assert!(reply.options.contains(&(23, dns.octets().to_vec())), "no DNS option in {reply:?}");
    let sent = wait_for_record(&out, "pkt6_send", 2, |_| true);
    assert_eq!(sent["response"]["type"], "REPLY", "{sent}");
    assert_eq!(sent["context_xid"], sent["query_xid"], "{sent}");

    // leases6_committed: the lease granted by the REQUEST.
    let committed = wait_for_record(&out, "leases6_committed", 1, |r| r["type"] == "REQUEST");
    assert_eq!(committed["leases"][0]["address"], addr.to_string(), "{committed}");
    assert_eq!(committed["leases"][0]["hostname"], "probe6.example.", "{committed}");

    // Renew and rebind: the lease and the reply's IA.
    let renewed = client.renew(&reply).expect("a REPLY to the RENEW");
    assert_eq!((renewed.message_type, renewed.address()), (msg6::REPLY, Some(addr)));
    let renew = wait_for_record(&out, "lease6_renew", 1, |_| true);
    assert_eq!(renew["lease"]["address"], addr.to_string(), "{renew}");
    assert_eq!(renew["ia"]["iaid"], 1, "{renew}");
    assert_eq!((renewed.addresses[0].1, renewed.addresses[0].2), (1000, 2000), "lifetimes written at lease6_renew: {renewed:?}");
    client.rebind(&reply).expect("a REPLY to the REBIND");
    let rebind = wait_for_record(&out, "lease6_rebind", 1, |_| true);
    assert_eq!(rebind["lease"]["address"], addr.to_string(), "{rebind}");

    // Release.
    client.release(&reply).expect("a REPLY to the RELEASE");
    let release = wait_for_record(&out, "lease6_release", 1, |_| true);
    assert_eq!(release["lease"]["address"], addr.to_string(), "{release}");

    // Decline, then recovery after the probation.
    let decliner = Client6::new(&pair, "02:c6:00:00:01:02");
    let reply2 = decliner.sarr().expect("a REPLY");
    let addr2 = reply2.address().expect("an address");
    decliner.decline(&reply2).expect("a REPLY to the DECLINE");
    let decline = wait_for_record(&out, "lease6_decline", 1, |_| true);
    assert_eq!(decline["lease"]["address"], addr2.to_string(), "{decline}");
    let recover = wait_for_record(&out, "lease6_recover", 1, |r| r["lease"]["address"] == addr2.to_string());
    assert_eq!(recover["lease"]["state"], "declined", "{recover}");

    // The raw buffers, the configuration, a command and a statistic.
    let buffers = records(&out);
    assert!(at(&buffers, "buffer6_receive").iter().any(|r| r["type_code"] == 1), "no SOLICIT at buffer6_receive");
    assert!(at(&buffers, "buffer6_send").iter().any(|r| r["type_code"] == 7), "no REPLY at buffer6_send");
    assert_eq!(at(&buffers, "dhcp6_srv_configured")[0]["subnets"], 1);
    let calls = kea.command("probe6-calls", None);
    assert_eq!(calls["result"], 0, "{calls}");
    wait_for_record(&out, "command_processed", 1, |r| r["name"] == "probe6-calls");
    assert!(kea.statistic("probe6.callouts") > 10, "the probe's statistic");
}

/// Polls `f` for up to 5 s (Kea writes the lease file after answering).
fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
