//! lease4_renew, lease4_release and lease4_decline on a real kea-dhcp4,
//! driven by the harness's DHCPv4 client: what the callouts see matches
//! what the client sent and what the lease file holds, and `Skip` keeps
//! the lease as it was. Run as root; see the README.

mod common;

use kea_hooks_tests::{msg, require_root_and_kea, Client4, Kea, KeaConfig, LeaseRow, NetPair};
use serde_json::{json, Value};

use common::{at, records, with_probe};

fn row(kea: &Kea, addr: std::net::Ipv4Addr) -> Option<LeaseRow> {
    kea.lease_rows().into_iter().find(|r| r.address == addr)
}

/// The probe's records at `point` for hardware address `mac`.
fn seen<'a>(recs: &'a [Value], point: &str, mac: &str) -> Vec<&'a Value> {
    at(recs, point).into_iter().filter(|r| r["query"]["hwaddr"] == mac).collect()
}

/// Kea handles one query at a time here (multi-threading off): once it
/// answers a later query, it has finished with the earlier one.
fn barrier(pair: &NetPair) {
    let probe_client = Client4::new(pair, "02:ba:00:00:00:99");
    assert!(probe_client.discover(None).is_some(), "Kea stopped answering");
}

#[test]
fn renew_release_and_decline_callouts_see_the_client_and_skip_keeps_the_lease() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair), json!({}));

    // Renew (unicast) and rebind (broadcast): lease4_renew, with the lease
    // Kea is about to write.
    let c1 = Client4::new(&pair, "02:ba:00:00:00:01");
    let ack = c1.dora().expect("ACK");
    let renewed = c1.renew(&ack).expect("ACK to the renewal");
    assert_eq!(renewed.message_type, msg::ACK);
    c1.rebind(&ack).expect("ACK to the rebind");
    let recs = records(&out);
    let renews = seen(&recs, "lease4_renew", "02:ba:00:00:00:01");
    assert_eq!(renews.len(), 2, "{recs:?}");
    for r in &renews {
        assert_eq!(r["query"]["type"], "DHCPREQUEST");
        assert_eq!(r["query"]["ciaddr"], ack.yiaddr.to_string());
        assert_eq!(r["lease"]["address"], ack.yiaddr.to_string());
        assert_eq!(r["lease"]["valid_lifetime"], 3600);
        assert_eq!(r["subnet"]["id"], 1);
        assert_eq!(r["subnet"]["text"], pair.subnet());
        assert_eq!(r["hwaddr"], "02:ba:00:00:00:01");
        assert!(r["client_id"].is_null(), "the client sent no client id: {r}");
    }

    // Release: lease4_release, and the lease is gone from the database.
    c1.release(&ack);
    barrier(&pair);
    let recs = records(&out);
    let releases = seen(&recs, "lease4_release", "02:ba:00:00:00:01");
    assert_eq!(releases.len(), 1, "{recs:?}");
    assert_eq!(releases[0]["query"]["type"], "DHCPRELEASE");
    assert_eq!(releases[0]["lease"]["address"], ack.yiaddr.to_string());
    let r = row(&kea, ack.yiaddr).unwrap();
    assert!(r.valid_lifetime == 0 || r.state != 0, "not released: {r:?}");

    // Decline: lease4_decline, and the address is quarantined.
    let c2 = Client4::new(&pair, "02:ba:00:00:00:02");
    let ack2 = c2.dora().expect("ACK");
    c2.decline(&ack2);
    barrier(&pair);
    let recs = records(&out);
    let declines = seen(&recs, "lease4_decline", "02:ba:00:00:00:02");
    assert_eq!(declines.len(), 1, "{recs:?}");
    assert_eq!(declines[0]["query"]["type"], "DHCPDECLINE");
    assert_eq!(declines[0]["lease"]["address"], ack2.yiaddr.to_string());
    assert_eq!(row(&kea, ack2.yiaddr).map(|r| r.state), Some(1), "not declined");

    // Skip: the release and the decline do not happen.
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "skip-at": ["lease4_release", "lease4_decline"] }));
    assert_eq!(answer["result"], 0);
    let c3 = Client4::new(&pair, "02:ba:00:00:00:03");
    let ack3 = c3.dora().expect("ACK");
    c3.release(&ack3);
    let c4 = Client4::new(&pair, "02:ba:00:00:00:04");
    let ack4 = c4.dora().expect("ACK");
    c4.decline(&ack4);
    barrier(&pair);
    let recs = records(&out);
    assert_eq!(seen(&recs, "lease4_release", "02:ba:00:00:00:03").len(), 1, "{recs:?}");
    assert_eq!(seen(&recs, "lease4_decline", "02:ba:00:00:00:04").len(), 1, "{recs:?}");
    for (addr, what) in [(ack3.yiaddr, "released"), (ack4.yiaddr, "declined")] {
        let r = row(&kea, addr).unwrap();
        assert!(r.state == 0 && r.valid_lifetime == 3600, "Skip did not keep the lease: {what}: {r:?}");
    }
}

/// Polls the probe's records until `pred` holds for `n` at `point`
/// (reclamation runs on Kea's timer, every second here); returns the last.
fn wait_for_records(
    out: &std::path::Path,
    point: &str,
    n: usize,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found: Vec<Value> = records(out)
            .into_iter()
            .filter(|r| r["point"] == point && pred(r))
            .collect();
        if found.len() >= n {
            return found[n - 1].clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {point} record in 20 s: {:?}",
            records(out)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn reclamation_fires_lease4_expire_and_lease4_recover_and_skip_keeps_the_lease() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).valid_lifetime(3).merge(json!({
        "expired-leases-processing": { "reclaim-timer-wait-time": 1 },
        "decline-probation-period": 2,
    }));
    let (mut kea, out) = with_probe(&pair, cfg, json!({}));

    // An expired lease: lease4_expire with the lease, then reclaimed.
    let ack = Client4::new(&pair, "02:ba:00:00:01:01")
        .dora()
        .expect("ACK");
    let addr = ack.yiaddr.to_string();
    let r = wait_for_records(&out, "lease4_expire", 1, |r| {
        r["lease"]["address"] == addr.as_str() && r["lease"]["hwaddr"] == "02:ba:00:00:01:01"
    });
    assert_eq!(r["lease"]["hwaddr"], "02:ba:00:00:01:01");
    assert_eq!(r["lease"]["valid_lifetime"], 3);
    assert_eq!(
        r["remove_lease"], false,
        "with flushing on (its default), reclaimed leases are kept: {r}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while row(&kea, ack.yiaddr).map(|r| r.state) != Some(2) {
        assert!(
            std::time::Instant::now() < deadline,
            "not reclaimed: {:?}",
            row(&kea, ack.yiaddr)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // A declined address: after its probation, lease4_recover.
    let c2 = Client4::new(&pair, "02:ba:00:00:01:02");
    let ack2 = c2.dora().expect("ACK");
    c2.decline(&ack2);
    let addr2 = ack2.yiaddr.to_string();
    let r = wait_for_records(&out, "lease4_recover", 1, |r| {
        r["lease"]["address"] == addr2.as_str()
    });
    assert_eq!(r["lease"]["state"], "declined", "{r}");

    // Skip at lease4_expire: Kea leaves the lease as it was (not reclaimed),
    // and asks again at its next reclamation.
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "skip-at": ["lease4_expire"], "generation": 1 }));
    assert_eq!(answer["result"], 0);
    let ack3 = Client4::new(&pair, "02:ba:00:00:01:03")
        .dora()
        .expect("ACK");
    let addr3 = ack3.yiaddr.to_string();
    let again = wait_for_records(&out, "lease4_expire", 2, |r| {
        r["lease"]["address"] == addr3.as_str() && r["lease"]["hwaddr"] == "02:ba:00:00:01:03"
    });
    assert_eq!(again["lease"]["state"], "default", "{again}");
    assert_eq!(
        row(&kea, ack3.yiaddr).map(|r| r.state),
        Some(0),
        "Skip did not keep the lease"
    );
}
