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
        cfg.logger("kea-dhcp6.probe6", "DEBUG", 40),
        json!({
            "lifetimes": [1000, 2000],
            "hostname": "probe6.example.",
            "send-options": [{ "code": 23, "hex": hex(&dns.octets()) }],
            "add-class": "probe6-seen",
            "wire-receive-option": { "code": 65001, "hex": "7265" },
            "wire-send-option": { "code": 65002, "hex": "7365" },
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
    // Kea finds the client's MAC in its DUID-LL (hardware type 1).
    assert_eq!(q["mac"], json!([1, mac.replace(':', "")]), "{solicit}");
    assert_eq!(q["ia_na"][0]["iaid"], 1, "{solicit}");
    assert!(q["options"].as_array().unwrap().contains(&json!(1)), "{solicit}");
    assert!(q["classes"].as_array().unwrap().contains(&json!("probe6-seen")), "the class added at pkt6_receive: {solicit}");
    // The option appended to the raw query at buffer6_receive was parsed;
    // the one appended to the packed reply at buffer6_send reached the client.
    assert!(q["options"].as_array().unwrap().contains(&json!(65001)), "{solicit}");
    assert!(advertise.options.contains(&(65002, b"se".to_vec())), "{advertise:?}");

    // kea-dhcp6 registered a callout at every point it has.
    let mut points = vec![
        "buffer6_receive", "pkt6_receive", "subnet6_select", "host6_identifier", "lease6_select", "lease6_renew",
        "lease6_rebind", "lease6_release", "lease6_decline", "leases6_committed", "pkt6_send", "buffer6_send",
        "lease6_expire", "lease6_recover", "ddns6_update", "dhcp6_srv_configured", "cb6_updated", "command_processed",
    ];
    if kea_hooks_tests::kea_hooks_version() >= 30000 {
        points.push("addr6_register");
    }
    let log = kea.log();
    let loaded = log.lines().find(|l| l.contains("probe6: loaded (Kea hooks API")).unwrap_or_else(|| panic!("{log}"));
    let registered: Vec<&str> = loaded.split("callouts: ").nth(1).unwrap().split(", commands").next().unwrap().split(' ').collect();
    let mut want = points.clone();
    want.sort();
    let mut got = registered.clone();
    got.sort();
    assert_eq!(got, want, "{loaded}");

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

    // The lease database and the configuration, from a command handler.
    let subnets = kea.command("probe6-subnets", None);
    assert_eq!(subnets["arguments"][0]["id"], 1, "{subnets}");
    assert_eq!(subnets["arguments"][0]["total-nas"], "256", "{subnets}");
    let one = |args: serde_json::Value| {
        let answer = kea.command("probe6-leases", Some(args.clone()));
        assert_eq!(answer["result"], 0, "{args}: {answer}");
        let found: Vec<_> = answer["arguments"].as_array().unwrap().iter().filter(|l| l["address"] == addr.to_string()).cloned().collect();
        assert_eq!(found.len(), 1, "{args}: {answer}");
        found[0].clone()
    };
    let stored = one(json!({ "by": "address", "address": addr }));
    assert_eq!((stored["duid"].as_str(), stored["iaid"].as_u64(), stored["valid"].as_u64()), (Some(duid_ll(mac).as_str()), Some(1), Some(2000)), "{stored}");
    assert_eq!(stored["hostname"], "probe6.example.", "{stored}");
    one(json!({ "by": "duid-iaid", "duid": duid_ll(mac), "iaid": 1 }));
    one(json!({ "by": "duid", "duid": duid_ll(mac) }));
    one(json!({ "by": "subnet", "subnet-id": 1 }));
    one(json!({ "by": "pages", "size": 1 }));

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

/// Next steps in kea-dhcp6, each with one Kea reloaded between checks:
/// `Drop` at pkt6_receive gets no answer and is counted in
/// `pkt6-receive-drop`; `Skip` at lease6_select leaves the IA without an
/// address; a subnet cleared at subnet6_select gives none either; `Drop`
/// at pkt6_send sends nothing; `Skip` at pkt6_send is refused (the callout
/// fails, and the packet continues under `on-error: continue`).
#[test]
fn next_steps_at_dhcp6_points_do_what_kea_does_with_them() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe6(&pair, KeaConfig::new6(&pair), json!({ "drop-at": ["pkt6_receive"] }));
    let quick = Duration::from_millis(700);

    let c = Client6::new(&pair, "02:c6:00:00:02:01").with_timeout(quick);
    assert!(c.solicit().is_none(), "an answer to a query dropped at pkt6_receive");
    assert_eq!(kea.statistic("pkt6-receive-drop"), 1, "the drop is counted");

    let reload = |kea: &mut kea_hooks_tests::Kea, params: serde_json::Value| {
        let mut params = params;
        params["out"] = json!(out);
        let answer = kea.reload_with_hook_parameters(0, params);
        assert_eq!(answer["result"], 0, "{answer}");
    };

    // Drop at buffer6_receive: the same, counted once more.
    reload(&mut kea, json!({ "drop-at": ["buffer6_receive"] }));
    assert!(Client6::new(&pair, "02:c6:00:00:02:07").with_timeout(quick).solicit().is_none());
    assert_eq!(kea.statistic("pkt6-receive-drop"), 2, "the drop at buffer6_receive is counted");

    // Skip at lease6_select: the IA gets no address (NoAddrsAvail, 2).
    reload(&mut kea, json!({ "skip-at": ["lease6_select"] }));
    let c = Client6::new(&pair, "02:c6:00:00:02:02");
    let adv = c.solicit().expect("an ADVERTISE");
    assert_eq!((adv.address(), adv.ia_status), (None, Some(2)), "{adv:?}");

    // No subnet at subnet6_select: no address either.
    reload(&mut kea, json!({ "select-subnet": 0 }));
    let adv = Client6::new(&pair, "02:c6:00:00:02:03").solicit().expect("an ADVERTISE");
    assert_eq!(adv.address(), None, "{adv:?}");
    let r = wait_for_record(&out, "subnet6_select", 1, |r| r["query"]["client_id"] == duid_ll("02:c6:00:00:02:03"));
    assert_eq!(r["subnet"]["id"], 1, "Kea's choice, seen before the hook cleared it: {r}");
    assert_eq!(r["ids"], json!([1]), "{r}");

    // Subnet 1 selected explicitly: served.
    reload(&mut kea, json!({ "select-subnet": 1 }));
    assert!(Client6::new(&pair, "02:c6:00:00:02:04").sarr().and_then(|r| r.address()).is_some());

    // Skip at lease6_release: the lease stays, the IA says UnspecFail (1).
    reload(&mut kea, json!({ "skip-at": ["lease6_release"] }));
    let c = Client6::new(&pair, "02:c6:00:00:02:08");
    let reply = c.sarr().expect("a REPLY");
    let addr = reply.address().expect("an address");
    let released = c.release(&reply).expect("a REPLY to the RELEASE");
    assert_eq!(released.ia_status, Some(1), "{released:?}");
    let row = kea.lease6_rows().into_iter().find(|r| r.address == addr);
    assert_eq!(row.map(|r| (r.state, r.valid_lifetime)), Some((0, 3600)), "the skipped release reached the lease file");

    // Skip at lease6_decline: not declined; Drop: not declined, no REPLY.
    reload(&mut kea, json!({ "skip-at": ["lease6_decline"] }));
    let c = Client6::new(&pair, "02:c6:00:00:02:09");
    let reply = c.sarr().expect("a REPLY");
    let addr = reply.address().expect("an address");
    assert!(c.decline(&reply).is_some(), "a REPLY to the skipped DECLINE");
    reload(&mut kea, json!({ "drop-at": ["lease6_decline"] }));
    assert!(Client6::new(&pair, "02:c6:00:00:02:09").with_timeout(quick).decline(&reply).is_none(), "a REPLY to a dropped DECLINE");
    let row = kea.lease6_rows().into_iter().find(|r| r.address == addr);
    assert_eq!(row.map(|r| r.state), Some(0), "a skipped or dropped decline reached the lease file");

    // Drop at pkt6_send: nothing is sent.
    reload(&mut kea, json!({ "drop-at": ["pkt6_send"] }));
    assert!(Client6::new(&pair, "02:c6:00:00:02:05").with_timeout(quick).solicit().is_none());

    // Skip at pkt6_send is refused; with on-error continue the reply goes out.
    reload(&mut kea, json!({ "skip-at": ["pkt6_send"], "on-error": "continue" }));
    assert!(Client6::new(&pair, "02:c6:00:00:02:06").solicit().is_some(), "{}", kea.log());
    assert!(kea.log().contains("Skip is not a next step Kea honours at pkt6_send"), "{}", kea.log());
}

/// A REPLY parked at leases6_committed is held until the hook resumes it
/// (here: the probe6-resume command hands the token to a worker thread of
/// the hook, which resumes it through the SDK's main-thread queue), and
/// then sent.
#[test]
fn a_reply_parked_at_leases6_committed_waits_for_the_hook() {
    if !require_root_and_kea() {
        return;
    }
    for mt in [false, true] {
        let pair = NetPair::new();
        let (kea, out) =
            with_probe6(&pair, KeaConfig::new6(&pair).multi_threading(mt), json!({ "park-committed": true }));
        let client = Client6::new(&pair, "02:c6:00:00:03:01").with_timeout(Duration::from_secs(20));
        let advertise = client.solicit().expect("an ADVERTISE (a SOLICIT commits nothing)");
        let (reply, resumed_at) = std::thread::scope(|s| {
            let waiting = s.spawn(|| (client.request(&advertise), Instant::now()));
            wait_for_record(&out, "leases6_committed", 1, |r| r["type"] == "REQUEST");
            // Parked: the REPLY has not come, and comes only when resumed.
            std::thread::sleep(Duration::from_millis(300));
            assert!(!waiting.is_finished(), "the REPLY came while parked (mt {mt})");
            let resumed_at = Instant::now();
            let answer = kea.command("probe6-resume", None);
            assert_eq!(answer["arguments"]["resumed"], 1, "{answer}");
            let (reply, at) = waiting.join().unwrap();
            assert!(at >= resumed_at);
            (reply, resumed_at)
        });
        let reply = reply.unwrap_or_else(|| panic!("no REPLY after the resume (mt {mt}):\n{}", kea.log()));
        assert!(reply.address().is_some(), "{reply:?}");
        let _ = resumed_at;
    }
}

/// On Kea 2.6+, a query parked at subnet6_select waits for the hook too,
/// and is resumed in the subnet the hook chooses.
#[test]
fn a_query_parked_at_subnet6_select_resumes_in_the_hooks_subnet() {
    if !require_root_and_kea() {
        return;
    }
    if kea_hooks_tests::kea_hooks_version() < 20600 {
        eprintln!("Kea parks at subnet6_select from 2.6 on; this is {}", kea_hooks_tests::kea_hooks_version());
        return;
    }
    let pair = NetPair::new();
    let second = json!({ "subnet6": [
        { "id": 1, "subnet": pair.subnet6(), "pools": [{ "pool": pair.pool6() }], "interface": pair.server_if() },
        { "id": 2, "subnet": "2001:2:0:fffe::/64", "pools": [{ "pool": "2001:2:0:fffe::100-2001:2:0:fffe::1ff" }] },
    ] });
    let (kea, out) = with_probe6(&pair, KeaConfig::new6(&pair).merge(second), json!({ "park-select": 2 }));
    let client = Client6::new(&pair, "02:c6:00:00:06:01").with_timeout(Duration::from_secs(20));
    let advertise = std::thread::scope(|s| {
        let waiting = s.spawn(|| client.solicit());
        wait_for_record(&out, "subnet6_select", 1, |_| true);
        std::thread::sleep(Duration::from_millis(300));
        assert!(!waiting.is_finished(), "the ADVERTISE came while parked");
        let answer = kea.command("probe6-resume", None);
        assert_eq!(answer["arguments"]["resumed"], 1, "{answer}");
        waiting.join().unwrap()
    });
    let advertise = advertise.unwrap_or_else(|| panic!("no ADVERTISE after the resume:\n{}", kea.log()));
    let addr = advertise.address().expect("an address");
    assert_eq!(addr.segments()[..4], [0x2001, 2, 0, 0xfffe], "resumed in subnet 2: {addr}");
}

/// The seal in kea-dhcp6, twin of the DHCPv4 tests: a panic or an error in
/// a callout drops the query (or lets it continue, as the hook says) and
/// never takes Kea down; bad parameters fail the load naming the field;
/// the library listed twice is refused; a DHCPv6-only hook is refused by
/// kea-dhcp4; a reload under traffic keeps serving.
#[test]
fn the_seal_holds_in_kea_dhcp6() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let quick = Duration::from_millis(700);
    let (mut kea, out) = with_probe6(&pair, KeaConfig::new6(&pair), json!({ "panic-at": ["pkt6_receive"] }));
    assert!(Client6::new(&pair, "02:c6:00:00:04:01").with_timeout(quick).solicit().is_none(), "a panicking callout's query was answered");
    assert!(kea.is_alive());
    let log = kea.log();
    let line = log.lines().find(|l| l.contains("probe6: callout pkt6_receive panicked: probe6 was asked to panic at pkt6_receive"));
    assert!(line.is_some_and(|l| l.contains("ERROR") && l.ends_with("; packet dropped")), "{log}");

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "panic-at": ["pkt6_receive"], "on-panic": "continue" }));
    assert_eq!(answer["result"], 0, "{answer}");
    assert!(Client6::new(&pair, "02:c6:00:00:04:02").solicit().is_some(), "on-panic continue should answer");

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "error-at": ["lease6_select"] }));
    assert_eq!(answer["result"], 0, "{answer}");
    let adv = Client6::new(&pair, "02:c6:00:00:04:03").solicit().expect("an ADVERTISE");
    assert_eq!(adv.address(), None, "an error at lease6_select skips the lease: {adv:?}");
    assert!(kea.log().contains("probe6: callout lease6_select failed: probe6 was asked to fail at lease6_select; step skipped"), "{}", kea.log());

    // A reload under traffic: a client keeps being served across it.
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out }));
    assert_eq!(answer["result"], 0);
    std::thread::scope(|s| {
        let traffic = s.spawn(|| {
            // (Like a real client, each tries again when a query goes
            // unanswered: kea-dhcp6 reopens its sockets while it reconfigures.)
            (0..20u8)
                .filter(|i| {
                    let c = Client6::new(&pair, &format!("02:c6:00:00:05:{i:02x}")).with_timeout(Duration::from_millis(500));
                    (0..4).any(|_| c.sarr().and_then(|r| r.address()).is_some())
                })
                .count()
        });
        for generation in 0..3 {
            let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "add-class": format!("gen{generation}") }));
            assert_eq!(answer["result"], 0, "{answer}");
        }
        assert_eq!(traffic.join().unwrap(), 20, "a client went unserved across reloads:\n{}", kea.log());
    });
    assert!(kea.is_alive());
    drop(kea);

    // Bad parameters: the load fails naming the field.
    let cfg = KeaConfig::new6(&pair);
    let bad = json!({ "out": cfg.dir().join("p.jsonl"), "lifetimes": "long" });
    let failure = cfg.hook(&common::probe6(), Some(bad)).start(&pair).err().expect("bad parameters were accepted");
    let line = common::load_failure_line(&failure, "kea-dhcp6.probe6");
    assert!(line.contains("lifetimes"), "{line}");

    // Listed twice.
    let cfg = KeaConfig::new6(&pair);
    let o = cfg.dir().join("p.jsonl");
    let failure = cfg
        .hook(&common::probe6(), Some(json!({ "out": o })))
        .hook(&common::probe6(), Some(json!({ "out": o })))
        .start(&pair)
        .err()
        .expect("kea-dhcp6 loaded the same library twice");
    assert!(failure.log.contains("the same library file is listed twice"), "{}", failure.log);

    // A DHCPv6-only hook in kea-dhcp4.
    let cfg = KeaConfig::new(&pair);
    let o = cfg.dir().join("p.jsonl");
    let failure = cfg.hook(&common::probe6(), Some(json!({ "out": o }))).start(&pair).err().expect("kea-dhcp4 loaded a DHCPv6 hook");
    let line = common::load_failure_line(&failure, "kea-dhcp4.probe6");
    assert!(line.contains("kea-dhcp4 has none of the hook points it has callouts for (buffer6_receive"), "{line}");
}

/// `Skip` at lease6_select for a client's reserved address: Kea up to
/// 3.0.3 pushes the null lease it gets and then dereferences it (read in
/// its allocation engine, fixed in 3.0.4 and 3.2.0). The SDK keeps Kea up:
/// the client gets its reserved address (the skip is refused, and logged),
/// where Kea would crash.
#[test]
fn skip_at_lease6_select_for_a_reserved_address_never_takes_kea_down() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let mac = "02:c6:00:00:07:01";
    let reserved = format!("{}300", pair.subnet6().trim_end_matches("/64"));
    let duid: String = duid_ll(mac).as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(":");
    let cfg = KeaConfig::new6(&pair).merge(json!({ "subnet6": [{
        "id": 1, "subnet": pair.subnet6(), "interface": pair.server_if(), "pools": [{ "pool": pair.pool6() }],
        "reservations": [{ "duid": duid, "ip-addresses": [reserved] }],
    }] }));
    let (mut kea, _out) = with_probe6(&pair, cfg, json!({ "skip-at": ["lease6_select"] }));
    let client = Client6::new(&pair, mac).with_timeout(Duration::from_secs(2));
    let advertise = client.solicit();
    assert!(kea.is_alive(), "Kea died:\n{}", kea.log());
    if kea_hooks_tests::kea_hooks_version() < 30004 {
        let advertise = advertise.expect("an ADVERTISE");
        assert_eq!(advertise.address().map(|a| a.to_string()), Some(reserved.clone()), "{advertise:?}");
        assert!(kea.log().contains("probe6: callout lease6_select: Skip refused: the lease is reserved to a host"), "{}", kea.log());
    }
    // An address that is not reserved is skipped as asked.
    let other = Client6::new(&pair, "02:c6:00:00:07:02").solicit().expect("an ADVERTISE");
    assert_eq!(other.address(), None, "{other:?}");
    assert!(kea.is_alive());
}

/// A relayed query for an address and a prefix (IA_NA and IA_PD) through
/// a relay that adds interface-id, remote-id and subscriber-id: the views
/// show the relay chain with its options, the IA_PD, the prefix lease and
/// the subnet's PD pool; lifetimes written at lease6_select and
/// lease6_renew reach both the IAADDR and the IAPREFIX.
#[test]
fn relayed_queries_and_prefix_delegation_show_in_the_views() {
    if !require_root_and_kea() {
        return;
    }
    use kea_hooks_tests::{opt6, Ias6, Relay6};
    let pair = NetPair::new();
    // Subnet 2 lies away from the pair's link: Kea picks it by the relay's
    // link address. Its PD pool delegates /64s from 2001:2:0:ff00::/56.
    let cfg = KeaConfig::new6(&pair).merge(json!({ "subnet6": [
        { "id": 1, "subnet": pair.subnet6(), "interface": pair.server_if(), "pools": [{ "pool": pair.pool6() }] },
        { "id": 2, "subnet": "2001:2:0:fd00::/64", "pools": [{ "pool": "2001:2:0:fd00::100-2001:2:0:fd00::1ff" }],
          "pd-pools": [{ "prefix": "2001:2:0:ff00::", "prefix-len": 56, "delegated-len": 64 }] },
    ] }));
    let (kea, out) = with_probe6(&pair, cfg, json!({ "lifetimes": [1000, 2000] }));
    let link: std::net::Ipv6Addr = "2001:2:0:fd00::1".parse().unwrap();
    let relay = Relay6::new(link).interface_id(b"olt-1/port-7").remote_id(4491, &[0x0a, 0x0b]).subscriber_id(b"sub-42");
    let mac = "02:c6:00:00:08:01";
    let client = Client6::new(&pair, mac).asking_for(Ias6::NaPd).via(std::slice::from_ref(&relay));
    let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    let addr = reply.address().expect("an address");
    let (prefix, len) = reply.prefix().expect("a prefix");
    assert_eq!(addr.segments()[..4], [0x2001, 2, 0, 0xfd00], "from subnet 2: {reply:?}");
    assert_eq!((&prefix.segments()[..3], prefix.segments()[3] & 0xff00, len), (&[0x2001u16, 2, 0][..], 0xff00, 64), "{reply:?}");
    assert_eq!((reply.prefixes[0].preferred, reply.prefixes[0].valid), (1000, 2000), "written at lease6_select: {reply:?}");
    assert_eq!(reply.relays[0].option(opt6::INTERFACE_ID), Some(&b"olt-1/port-7"[..]), "Kea echoes the interface-id: {reply:?}");

    let r = wait_for_record(&out, "pkt6_receive", 1, |r| r["query"]["type"] == "REQUEST");
    let q = &r["query"];
    assert_eq!(q["relayed"], true, "{r}");
    assert_eq!(q["relays"][0]["link"], link.to_string(), "{r}");
    assert_eq!(q["relays"][0]["level"], 0, "{r}");
    assert_eq!(q["interface_id"], hex(b"olt-1/port-7"), "{r}");
    assert_eq!(q["remote_id"], json!([4491, "0a0b"]), "{r}");
    assert!(q["relays"][0]["options"].as_array().unwrap().contains(&json!([38, hex(b"sub-42")])), "{r}");
    assert_eq!(q["client_id"], duid_ll(mac), "the client's own message, unwrapped: {r}");
    assert_eq!(q["ia_pd"][0]["iaid"], reply.ia(opt6::IA_PD).expect("an IA_PD").iaid, "{r}");
    assert_eq!(q["ia_pd"].as_array().map(Vec::len), Some(1), "{r}");

    let pd = wait_for_record(&out, "lease6_select", 1, |r| r["lease"]["type"] == "IA_PD" && r["fake"] == false);
    assert_eq!(pd["lease"]["address"], prefix.to_string(), "{pd}");
    assert_eq!(pd["lease"]["prefix_len"], 64, "{pd}");
    assert_eq!(pd["subnet"]["id"], 2, "{pd}");
    let pools = pd["subnet"]["pools"].as_array().unwrap();
    let pd_pool = pools.iter().find(|p| p["type"] == "IA_PD").unwrap_or_else(|| panic!("{pd}"));
    assert_eq!((pd_pool["delegated_len"].as_u64(), pd_pool["prefix_len"].as_u64(), pd_pool["capacity"].as_str()), (Some(64), Some(56), Some("256")), "{pd}");
    let row = wait_until(|| kea.lease6_rows().into_iter().find(|r| r.address == prefix && r.lease_type == 2));
    assert_eq!(row.map(|r| (r.prefix_len, r.valid_lifetime)), Some((64, 2000)), "the prefix's lease row");

    // Renew: the prefix's lease6_renew has the reply's IA_PD.
    let renewed = client.renew(&reply).expect("a REPLY to the RENEW");
    assert_eq!(renewed.prefix(), Some((prefix, 64)), "{renewed:?}");
    let renew = wait_for_record(&out, "lease6_renew", 1, |r| r["lease"]["type"] == "IA_PD");
    assert_eq!(renew["ia"]["iaid"], renew["lease"]["iaid"], "{renew}");
    assert_eq!((renewed.prefixes[0].preferred, renewed.prefixes[0].valid), (1000, 2000), "{renewed:?}");
}

/// host6_identifier: a relay's remote-id as the flex-id finds a
/// reservation (and `Skip` makes Kea ignore it); ddns6_update: the host
/// name the hook sets is what the client's FQDN option comes back with.
#[test]
fn flex_id_and_ddns_writes_reach_the_client() {
    if !require_root_and_kea() {
        return;
    }
    use kea_hooks_tests::Relay6;
    let pair = NetPair::new();
    let prefix = pair.subnet6().trim_end_matches("/64").to_owned();
    let reserved = format!("{prefix}250");
    let cfg = KeaConfig::new6(&pair).merge(json!({
        "host-reservation-identifiers": ["flex-id", "duid"],
        "subnet6": [{
            "id": 1, "subnet": pair.subnet6(), "interface": pair.server_if(), "pools": [{ "pool": pair.pool6() }],
            "reservations": [{ "flex-id": "'olt-9'", "ip-addresses": [reserved] }],
        }],
        "ddns-send-updates": true,
    }));
    let (mut kea, out) = with_probe6(&pair, cfg, json!({ "flex-id-from-remote-id": true, "skip-at": ["host6_identifier"] }));
    let relay = Relay6::new(format!("{prefix}1").parse().unwrap()).remote_id(4491, b"olt-9");
    let skipped = Client6::new(&pair, "02:c6:00:00:09:01").via(std::slice::from_ref(&relay)).sarr().expect("a REPLY");
    assert_ne!(skipped.address().map(|a| a.to_string()), Some(reserved.clone()), "Skip at host6_identifier was not honoured");
    let r = wait_for_record(&out, "host6_identifier", 1, |_| true);
    assert_eq!(r["kind"], "flex-id", "{r}");

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "flex-id-from-remote-id": true, "ddns-hostname": "renamed.example.org." }));
    assert_eq!(answer["result"], 0, "{answer}");
    // FQDN (39): flags S=1, then probe.example. in DNS wire form.
    let fqdn = b"\x01\x05probe\x07example\x00";
    let reply = Client6::new(&pair, "02:c6:00:00:09:02")
        .via(std::slice::from_ref(&relay))
        .with_option(39, fqdn)
        .sarr()
        .unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    assert_eq!(reply.address().map(|a| a.to_string()), Some(reserved), "the flex-id reservation was not used: {reply:?}");
    let d = wait_for_record(&out, "ddns6_update", 1, |_| true);
    assert_eq!(d["hostname"], "probe.example.", "{d}");
    assert_eq!(d["subnet"], 1, "{d}");
    let echoed = reply.options.iter().find(|(c, _)| *c == 39).map(|(_, v)| v.clone()).expect("an FQDN option in the REPLY");
    assert!(echoed.windows(7).any(|w| w == b"renamed"), "the name set at ddns6_update: {echoed:?}");
}

/// Reclamation in kea-dhcp6: an expired lease reaches lease6_expire (and
/// is reclaimed); with `Skip` there, Kea leaves it as it was.
#[test]
fn expired_leases_reach_lease6_expire_and_skip_keeps_them() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new6(&pair).valid_lifetime(3).merge(json!({ "expired-leases-processing": { "reclaim-timer-wait-time": 1 } }));
    let (mut kea, out) = with_probe6(&pair, cfg, json!({}));
    let reply = Client6::new(&pair, "02:c6:00:00:0a:01").sarr().expect("a REPLY");
    let addr = reply.address().expect("an address").to_string();
    let r = wait_for_record(&out, "lease6_expire", 1, |r| r["lease"]["address"] == addr.as_str());
    assert_eq!((r["lease"]["valid"].as_u64(), r["lease"]["duid"].as_str()), (Some(3), Some(duid_ll("02:c6:00:00:0a:01").as_str())), "{r}");
    assert_eq!(r["remove"], false, "reclaimed leases are kept by default: {r}");
    let reclaimed = wait_until(|| kea.lease6_rows().into_iter().find(|l| l.address.to_string() == addr && l.state == 2));
    assert!(reclaimed.is_some(), "not reclaimed: {:?}", kea.lease6_rows());

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "skip-at": ["lease6_expire"] }));
    assert_eq!(answer["result"], 0, "{answer}");
    let reply = Client6::new(&pair, "02:c6:00:00:0a:02").sarr().expect("a REPLY");
    let addr = reply.address().expect("an address").to_string();
    // Asked at least twice (each reclamation asks again), and kept as it was.
    let duid2 = duid_ll("02:c6:00:00:0a:02");
    wait_for_record(&out, "lease6_expire", 2, |r| r["lease"]["address"] == addr.as_str() && r["lease"]["duid"] == duid2.as_str());
    let row = kea.lease6_rows().into_iter().find(|l| l.address.to_string() == addr);
    assert_eq!(row.map(|l| l.state), Some(0), "Skip at lease6_expire did not keep the lease");
}

/// addr6_register (Kea 3.0+): a client registers an address it configured
/// itself (ADDR-REG-INFORM, through a relay whose link and peer address
/// are that address); the callout sees it, Kea writes a lease in state
/// `registered`; with `Skip` no lease is written and the client still gets
/// its ADDR-REG-REPLY.
#[test]
fn an_address_registration_reaches_addr6_register() {
    if !require_root_and_kea() {
        return;
    }
    if kea_hooks_tests::kea_hooks_version() < 30000 {
        eprintln!("addr6_register is Kea 3.0+; this is {}", kea_hooks_tests::kea_hooks_version());
        return;
    }
    use kea_hooks_tests::Relay6;
    let pair = NetPair::new();
    let prefix = pair.subnet6().trim_end_matches("/64").to_owned();
    let (mut kea, out) = with_probe6(&pair, KeaConfig::new6(&pair), json!({}));
    let mine: std::net::Ipv6Addr = format!("{prefix}77").parse().unwrap();
    let client = Client6::new(&pair, "02:c6:00:00:0b:01").via(&[Relay6::new(mine).peer(mine)]);
    let reply = client.addr_reg_inform(mine).unwrap_or_else(|| panic!("no ADDR-REG-REPLY:\n{}", kea.log()));
    assert_eq!(reply.message_type, kea_hooks_tests::msg6::ADDR_REG_REPLY, "{reply:?}");
    let r = wait_for_record(&out, "addr6_register", 1, |_| true);
    assert_eq!(r["address"], mine.to_string(), "{r}");
    let row = wait_until(|| kea.lease6_rows().into_iter().find(|l| l.address == mine));
    assert_eq!(row.map(|l| l.state), Some(4), "a registered lease");

    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "skip-at": ["addr6_register"] }));
    assert_eq!(answer["result"], 0, "{answer}");
    let other: std::net::Ipv6Addr = format!("{prefix}78").parse().unwrap();
    let client = Client6::new(&pair, "02:c6:00:00:0b:02").via(&[Relay6::new(other).peer(other)]);
    assert!(client.addr_reg_inform(other).is_some(), "a skipped registration still gets its reply");
    wait_for_record(&out, "addr6_register", 1, |r| r["address"] == other.to_string());
    assert!(kea.lease6_rows().iter().all(|l| l.address != other), "Skip at addr6_register wrote a lease");
}
