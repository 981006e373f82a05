//! What callouts write, on a real kea-dhcp4: response options (plain, with
//! sub-options, vendor), siaddr/sname/file, client classes, the lease's
//! lifetime, hostname and DNS flags, the selected subnet, a flex-id host
//! identifier, a DNS host name, the wire bytes, a command's answer and a
//! refused configuration; each checked on the wire, in the lease file or
//! on the control socket. And the per-packet context under
//! multi-threaded load with drops. Run as root; see the README.

mod common;

use kea_hooks_tests::{
    msg, perfdhcp, require_root_and_kea, Client4, Kea, KeaConfig, LeaseRow, NetPair, Relay,
};
use serde_json::{json, Value};

use common::{at, records, with_probe};

fn row(kea: &Kea, addr: std::net::Ipv4Addr) -> LeaseRow {
    kea.lease_rows()
        .into_iter()
        .find(|r| r.address == addr)
        .unwrap_or_else(|| panic!("no lease for {addr}"))
}

/// The address `.n` of the pair's subnet.
fn host(pair: &NetPair, n: u8) -> std::net::Ipv4Addr {
    let o = pair.server_addr().octets();
    std::net::Ipv4Addr::new(o[0], o[1], o[2], n)
}

fn reload(kea: &mut Kea, params: Value) {
    let answer = kea.reload_with_hook_parameters(0, params);
    assert_eq!(answer["result"], 0, "{answer}");
}

#[test]
fn response_options_fields_and_classes_reach_the_client() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair).merge(json!({
        // Sent to every client unless the hook removes it.
        "option-data": [{ "name": "domain-name-servers", "data": host(&pair, 1).to_string(), "always-send": true }],
        // A class Kea never assigns itself: only the hook puts clients in it.
        "client-classes": [{
            "name": "probe-tagged",
            "option-data": [{ "name": "domain-name", "data": "tagged.example", "always-send": true }]
        }]
    }));
    let (mut kea, out) = with_probe(&pair, cfg, json!({}));

    // Without the hook's writes: option 6 arrives, no option 15.
    let plain = Client4::new(&pair, "02:c1:00:00:00:01")
        .dora()
        .expect("ACK");
    assert!(
        plain.options.contains_key(&6) && !plain.options.contains_key(&15),
        "{plain:?}"
    );

    let params = json!({
        "out": out,
        "add-class": "probe-tagged",
        "pkt4-send-set": [
            { "code": 252, "text": "http://198.18.0.1/wpad.dat" },
            { "code": 43, "subs": [[1, "70:72:6f:62:65"], [2, "01:02"]] },
            { "code": 125, "vendor": 4491, "subs": [[2, "63:6d"]] },
        ],
        "pkt4-send-remove": [6],
        "pkt4-send-siaddr": "198.18.0.99",
        "pkt4-send-sname": "boot.example",
        "pkt4-send-file": "pxelinux.0",
    });
    reload(&mut kea, params);
    let relay = Relay {
        circuit_id: b"eth0/1".to_vec(),
        remote_id: b"olt-7".to_vec(),
    };
    let ack = Client4::new(&pair, "02:c1:00:00:00:02")
        .dora_relayed(&relay)
        .expect("ACK");
    assert_eq!(ack.message_type, msg::ACK);
    assert_eq!(
        ack.options.get(&252).map(Vec::as_slice),
        Some(b"http://198.18.0.1/wpad.dat".as_slice())
    );
    assert_eq!(
        ack.options.get(&43),
        Some(&vec![1, 5, b'p', b'r', b'o', b'b', b'e', 2, 2, 1, 2])
    );
    assert_eq!(
        ack.options.get(&125),
        Some(&vec![0, 0, 0x11, 0x8b, 4, 2, 2, b'c', b'm'])
    );
    assert!(
        !ack.options.contains_key(&6),
        "option 6 was not removed: {ack:?}"
    );
    // The class the hook added at pkt4_receive brought its option-data.
    assert_eq!(
        ack.options.get(&15).map(Vec::as_slice),
        Some(b"tagged.example".as_slice())
    );
    assert_eq!(ack.siaddr.to_string(), "198.18.0.99");
    assert_eq!(ack.sname, b"boot.example");
    assert_eq!(ack.file, b"pxelinux.0");

    // What the hook read: option 82's sub-options, and the class.
    let recs = records(&out);
    let sent: Vec<_> = at(&recs, "pkt4_send")
        .into_iter()
        .filter(|r| r["query"]["hwaddr"] == "02:c1:00:00:00:02")
        .collect();
    assert_eq!(sent.len(), 2, "{recs:?}");
    for r in &sent {
        assert_eq!(
            r["query"]["option82"],
            json!({"1": "65:74:68:30:2f:31", "2": "6f:6c:74:2d:37"}),
            "{r}"
        );
        assert!(
            r["query"]["classes"]
                .as_array()
                .unwrap()
                .contains(&json!("probe-tagged")),
            "{r}"
        );
        assert_eq!(r["sname"], "boot.example");
        assert_eq!(r["file"], "pxelinux.0");
    }
}

#[test]
fn lease_subnet_identifier_and_hostname_writes_reach_the_lease_file() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let reserved = host(&pair, 6);
    let cfg = KeaConfig::new(&pair);
    let mut subnets = cfg.to_json()["Dhcp4"]["subnet4"].clone();
    subnets[0]["reservations"] =
        json!([{ "flex-id": "'olt-9'", "ip-address": reserved.to_string() }]);
    // A second subnet Kea would never pick for this link.
    subnets.as_array_mut().unwrap().push(json!({
        "id": 2, "subnet": "198.19.250.0/24", "pools": [{ "pool": "198.19.250.10 - 198.19.250.20" }]
    }));
    let cfg = cfg.merge(
        json!({ "subnet4": subnets, "host-reservation-identifiers": ["flex-id", "hw-address"] }),
    );
    let (mut kea, out) = with_probe(
        &pair,
        cfg,
        json!({ "lease-set": { "valid-lifetime": 1234, "hostname": "probe-host.example", "fqdn": [true, false] } }),
    );

    // lease4_select: lifetime, hostname, DNS flags; the client gets the
    // lifetime, the lease file has all three.
    let c1 = Client4::new(&pair, "02:c2:00:00:00:01");
    let ack = c1.dora().expect("ACK");
    assert_eq!(ack.lease_time, Some(1234), "{ack:?}");
    let r = row(&kea, ack.yiaddr);
    assert_eq!(
        (r.valid_lifetime, r.hostname.as_str(), r.fqdn),
        (1234, "probe-host.example", (true, false)),
        "{r:?}"
    );

    // lease4_renew: the lifetime written there too.
    reload(
        &mut kea,
        json!({ "out": out, "lease-set": { "valid-lifetime": 2345 } }),
    );
    let renewed = c1.renew(&ack).expect("ACK");
    assert_eq!(renewed.lease_time, Some(2345));
    assert_eq!(row(&kea, ack.yiaddr).valid_lifetime, 2345);

    // subnet4_select: another subnet of the configuration.
    reload(&mut kea, json!({ "out": out, "select-subnet": 2 }));
    let ack2 = Client4::new(&pair, "02:c2:00:00:00:02")
        .dora()
        .expect("ACK from subnet 2");
    assert!(
        ack2.yiaddr.to_string().starts_with("198.19.250."),
        "{ack2:?}\n{:?}",
        at(&records(&out), "subnet4_select")
    );
    assert_eq!(row(&kea, ack2.yiaddr).subnet_id, 2);
    // One the configuration lacks: refused with an error, nothing changes.
    reload(&mut kea, json!({ "out": out, "select-subnet": 99 }));
    let ack3 = Client4::new(&pair, "02:c2:00:00:00:03")
        .dora()
        .expect("ACK from subnet 1");
    assert_eq!(row(&kea, ack3.yiaddr).subnet_id, 1);
    let recs = records(&out);
    let sel: Vec<_> = at(&recs, "subnet4_select")
        .into_iter()
        .filter(|r| r["query"]["hwaddr"] == "02:c2:00:00:00:03")
        .collect();
    assert_eq!(
        sel[0]["select"], "Invalid: the configuration has no subnet with id 99",
        "{:?}",
        sel[0]
    );
    assert_eq!(sel[0]["subnet_ids"], json!([1, 2]));

    // host4_identifier, Skip: Kea ignores the identifier the hook set, so
    // the reservation is not found and a pool address comes instead.
    let relay = Relay {
        circuit_id: b"port-1".to_vec(),
        remote_id: b"olt-9".to_vec(),
    };
    reload(
        &mut kea,
        json!({ "out": out, "flex-id-from-remote-id": true, "skip-at": ["host4_identifier"] }),
    );
    let skipped = Client4::new(&pair, "02:c2:00:00:00:14")
        .dora_relayed(&relay)
        .expect("ACK");
    assert_ne!(skipped.yiaddr, reserved, "Skip at host4_identifier was not honoured");
    // host4_identifier: option 82's remote id as flex-id finds the reservation.
    reload(
        &mut kea,
        json!({ "out": out, "flex-id-from-remote-id": true }),
    );
    let ack4 = Client4::new(&pair, "02:c2:00:00:00:04")
        .dora_relayed(&relay)
        .expect("ACK");
    assert_eq!(
        ack4.yiaddr, reserved,
        "the flex-id reservation was not used: {ack4:?}"
    );
    let recs = records(&out);
    assert!(
        !at(&recs, "host4_identifier").is_empty(),
        "host4_identifier never fired"
    );

    // ddns4_update: the host name Kea decided is replaced.
    reload(
        &mut kea,
        json!({ "out": out, "ddns-hostname": "renamed.example.org." }),
    );
    let c5 = Client4::new(&pair, "02:c2:00:00:00:05").with_option(12, b"probe-client");
    let ack5 = c5.dora().expect("ACK");
    let recs = records(&out);
    let ddns: Vec<_> = at(&recs, "ddns4_update")
        .into_iter()
        .filter(|r| r["query"]["hwaddr"] == "02:c2:00:00:00:05")
        .collect();
    assert!(!ddns.is_empty(), "ddns4_update never fired: {recs:?}");
    assert_eq!(
        row(&kea, ack5.yiaddr).hostname,
        "renamed.example.org.",
        "{ddns:?}"
    );
    if let Some(h) = ack5.options.get(&12) {
        assert_eq!(h.as_slice(), b"renamed.example.org.");
    }
}

#[test]
fn raw_buffers_commands_and_configuration_checks_are_hookable() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(
        &pair,
        KeaConfig::new(&pair),
        json!({ "wire-sname": "wire.example" }),
    );
    let ack = Client4::new(&pair, "02:c3:00:00:00:01")
        .dora()
        .expect("ACK");
    // buffer4_send: the bytes on the wire were rewritten after packing.
    assert_eq!(ack.sname, b"wire.example");
    let recs = records(&out);
    let rx: Vec<_> = at(&recs, "buffer4_receive");
    assert!(
        rx.len() >= 2
            && rx
                .iter()
                .all(|r| r["op"] == 1 && r["len"].as_u64() >= Some(240)),
        "{rx:?}"
    );
    let tx: Vec<_> = at(&recs, "buffer4_send");
    assert!(
        tx.iter().any(|r| r["xid"] == ack.xid && r["op"] == 2),
        "{tx:?}"
    );
    // dhcp4_srv_configured saw the configuration.
    assert_eq!(at(&recs, "dhcp4_srv_configured")[0]["subnets"], 1);

    // buffer4_receive, Drop: no answer, and the drop is counted; buffer4_send,
    // Skip: the packed response is not sent. Each callout's record shows it
    // ran for that datagram; a reply would have come well within the second.
    let drops = |kea: &Kea| kea.statistic("pkt4-receive-drop");
    let before = drops(&kea);
    reload(&mut kea, json!({ "out": out, "drop-at": ["buffer4_receive"] }));
    let quiet = Client4::new(&pair, "02:c3:00:00:00:03").with_timeout(std::time::Duration::from_secs(1));
    assert!(quiet.discover(None).is_none(), "Drop at buffer4_receive was not honoured");
    assert_eq!(drops(&kea), before + 1);
    reload(&mut kea, json!({ "out": out, "skip-at": ["buffer4_send"] }));
    assert!(quiet.discover(None).is_none(), "Skip at buffer4_send was not honoured");
    let recs = records(&out);
    assert!(at(&recs, "buffer4_send").len() > tx.len(), "buffer4_send never ran for the skipped offer: {recs:?}");

    // command_processed: the answer is the hook's.
    reload(
        &mut kea,
        json!({ "out": out, "command-text-suffix": " (seen by probe)" }),
    );
    let answer = kea.command("version-get", None);
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .ends_with(" (seen by probe)"),
        "{answer}"
    );
    let recs = records(&out);
    assert!(
        at(&recs, "command_processed")
            .iter()
            .any(|r| r["name"] == "version-get"),
        "{recs:?}"
    );

    // dhcp4_srv_configured: a refusal fails the reload with the hook's text,
    // and the running configuration stays.
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "reject-config": "probe says no" }));
    assert_eq!(answer["result"], 1, "{answer}");
    assert!(
        answer["text"].as_str().unwrap().contains("probe says no"),
        "{answer}"
    );
    assert!(
        Client4::new(&pair, "02:c3:00:00:00:02").dora().is_some(),
        "Kea stopped serving"
    );
}

/// Per-packet values under multi-threaded load: each query stores one at
/// pkt4_receive; one in seven is dropped at subnet4_select; the rest read
/// theirs back at pkt4_send. At unload (a reload) no value is left alive.
#[test]
fn per_packet_values_live_exactly_as_long_as_their_packet() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(
        &pair,
        KeaConfig::new(&pair).multi_threading(true),
        json!({ "context": true, "context-drop-every": 7 }),
    );
    let report = perfdhcp(
        &pair,
        &[
            "-r", "1500", "-R", "200", "-n", "6000", "-p", "20", "-W", "1000000",
        ],
    );
    assert!(report.received > 1000, "{}", report.stdout);
    reload(&mut kea, json!({ "out": out }));
    let recs = records(&out);
    let c = &at(&recs, "unload")[0]["context"];
    let (set, seen, dropped) = (
        c["set"].as_u64().unwrap(),
        c["seen"].as_u64().unwrap(),
        c["dropped"].as_u64().unwrap(),
    );
    assert_eq!(c["mismatch"], 0, "a packet read another's value: {c}");
    assert_eq!(c["live"], 0, "values outlived their packets: {c}");
    assert!(seen >= 1000 && dropped >= 100, "{c}");
    assert!(set >= seen + dropped, "{c}");
    assert!(kea.is_alive());
}
