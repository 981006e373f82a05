//! The harness's DHCPv6 clients against a real kea-dhcp6 (no hook) serving
//! the pair's IPv6 subnet: each message Client6 sends, directly or relayed,
//! for an address or a delegated prefix, does to Kea's lease database what
//! a client's would; perfdhcp -6 and dhclient -6 (udhcpc6 on sid) complete
//! their exchanges. The DHCPv6 hook tests drive Kea with these. Run as
//! root; see the README.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use kea_hooks_tests::{
    dhclient6, msg6, opt6, perfdhcp6, require_root_and_kea, Client6, Ias6, Kea, KeaConfig, Lease6Row, NetPair, Relay6, Reply6,
};
use serde_json::json;

#[test]
fn the_test_client_gets_renews_rebinds_releases_and_declines_an_address() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let kea = KeaConfig::new6(&pair).start(&pair).unwrap();
    let row = |addr| kea.lease6_rows().into_iter().find(|r| r.address == addr);

    let client = Client6::new(&pair, "02:c6:00:00:00:01");
    let advertise = client.solicit().unwrap_or_else(|| panic!("no ADVERTISE:\n{}", kea.log()));
    assert_eq!(advertise.message_type, msg6::ADVERTISE);
    let reply = client.request(&advertise).unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    assert_eq!((reply.message_type, reply.status, reply.ia_status), (msg6::REPLY, None, None), "{reply:?}");
    let addr = reply.address().expect("an address in the IA_NA");
    assert_eq!(Some(addr), advertise.address(), "the address advertised is the one leased");
    let (_, preferred, valid) = reply.addresses[0];
    assert_eq!((preferred, valid), (3000, 3600));
    let pool = 0x100..=0x1ff;
    assert!(addr.segments()[..4] == pair.server_addr6().segments()[..4] && pool.contains(&addr.segments()[7]), "{addr} is not in {}", pair.pool6());
    let lease = wait_for(|| row(addr)).expect("the lease is in the lease file");
    assert_eq!(
        (lease.duid.as_str(), lease.lease_type, lease.iaid, lease.prefix_len, lease.subnet_id, lease.state, lease.valid_lifetime),
        (client.duid_text().as_str(), 0, 1, 128, 1, 0, 3600)
    );

    let renewed = client.renew(&reply).expect("a REPLY to the RENEW");
    assert_eq!((renewed.message_type, renewed.address()), (msg6::REPLY, Some(addr)));
    let rebound = client.rebind(&reply).expect("a REPLY to the REBIND");
    assert_eq!((rebound.message_type, rebound.address()), (msg6::REPLY, Some(addr)));

    let released = client.release(&reply).expect("a REPLY to the RELEASE");
    assert_eq!(released.message_type, msg6::REPLY);
    let gone = wait_for(|| row(addr).filter(|r| r.valid_lifetime == 0 || r.state != 0));
    assert!(gone.is_some(), "the release did not reach the lease file: {:?}", row(addr));

    let decliner = Client6::new(&pair, "02:c6:00:00:00:02");
    let reply2 = decliner.sarr().expect("a REPLY");
    let addr2 = reply2.address().expect("an address");
    assert_ne!(addr2, addr, "a second client got the first one's address");
    decliner.decline(&reply2).expect("a REPLY to the DECLINE");
    let declined = wait_for(|| row(addr2).filter(|r| r.state == 1));
    assert!(declined.is_some(), "the decline did not reach the lease file: {:?}", row(addr2));
}

/// `net` (a /64 prefix) with last group `last`.
fn at(net: Ipv6Addr, last: u16) -> Ipv6Addr {
    let s = net.segments();
    Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, last)
}

/// A `subnet6` entry for `net`/64 with id `id`, a pool of ::100 - ::1ff,
/// and `extra` merged in.
fn subnet(id: u32, net: Ipv6Addr, extra: serde_json::Value) -> serde_json::Value {
    let mut s = json!({ "id": id, "subnet": format!("{net}/64"), "pools": [{ "pool": format!("{} - {}", at(net, 0x100), at(net, 0x1ff)) }] });
    for (k, v) in extra.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

fn in_net(addr: Ipv6Addr, net: Ipv6Addr) -> bool {
    addr.segments()[..4] == net.segments()[..4]
}

/// The lease file's row for `addr` of `lease_type`, once Kea wrote it.
fn lease(kea: &Kea, addr: Ipv6Addr, lease_type: u8) -> Option<Lease6Row> {
    wait_for(|| kea.lease6_rows().into_iter().find(|r| r.address == addr && r.lease_type == lease_type))
}

#[test]
fn relayed_queries_get_the_subnet_of_their_link_address_interface_id_or_relay() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (by_link, by_interface_id, by_relay, relay_address_net) = (pair.relay_net6(1), pair.relay_net6(2), pair.relay_net6(3), pair.relay_net6(4));
    let kea = KeaConfig::new6(&pair)
        .subnet6(subnet(2, by_link, json!({})))
        .subnet6(subnet(3, by_interface_id, json!({ "interface-id": "port-3" })))
        .subnet6(subnet(4, by_relay, json!({ "relay": { "ip-addresses": [at(relay_address_net, 1).to_string()] } })))
        .start(&pair)
        .unwrap();
    let ll = pair.client_link_local();

    // By link address, with every kind of relay option.
    let relay = Relay6::new(at(by_link, 1))
        .interface_id(b"port-1")
        .remote_id(32473, b"modem-1")
        .subscriber_id(b"subscriber-1")
        .option(65001, b"anything");
    let client = Client6::new(&pair, "02:c6:00:00:01:01").via(std::slice::from_ref(&relay));
    let advertise = client.solicit().unwrap_or_else(|| panic!("no relayed ADVERTISE:\n{}", kea.log()));
    assert_eq!(advertise.message_type, msg6::ADVERTISE);
    let reply = client.request(&advertise).unwrap_or_else(|| panic!("no relayed REPLY:\n{}", kea.log()));
    let addr = reply.address().unwrap_or_else(|| panic!("no address: {reply:?}"));
    assert!(in_net(addr, by_link), "{addr} is not from the link address's subnet {by_link}/64: {reply:?}");
    assert_eq!(reply.relays.len(), 1, "{reply:?}");
    let echo = &reply.relays[0];
    assert_eq!((echo.hop_count, echo.link_address, echo.peer_address), (0, at(by_link, 1), ll), "{echo:?}");
    assert_eq!(echo.option(opt6::INTERFACE_ID), Some(&b"port-1"[..]), "the interface-id is not echoed: {echo:?}");
    let row = lease(&kea, addr, 0).expect("the relayed lease is in the lease file");
    assert_eq!((row.subnet_id, row.duid), (2, client.duid_text()));
    drop(client);

    // By interface-id, which Kea matches before the link address.
    let client = Client6::new(&pair, "02:c6:00:00:01:02").via(&[Relay6::new(at(by_link, 1)).interface_id(b"port-3")]);
    let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY by interface-id:\n{}", kea.log()));
    let addr = reply.address().expect("an address");
    assert!(in_net(addr, by_interface_id), "{addr} is not from the interface-id's subnet: {reply:?}");
    assert_eq!(reply.relays[0].option(opt6::INTERFACE_ID), Some(&b"port-3"[..]));
    drop(client);

    // By the relay's address (`relay.ip-addresses`), outside every subnet.
    let client = Client6::new(&pair, "02:c6:00:00:01:03").via(&[Relay6::new(at(relay_address_net, 1))]);
    let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY by relay address:\n{}", kea.log()));
    let addr = reply.address().expect("an address");
    assert!(in_net(addr, by_relay), "{addr} is not from the subnet naming the relay: {reply:?}");
    assert!(reply.relays[0].option(opt6::INTERFACE_ID).is_none(), "an interface-id nobody sent: {reply:?}");
    drop(client);

    // Two relays: the one next to the client chooses; each Relay-reply
    // echoes its own relay.
    let inner = Relay6::new(at(by_link, 1)).interface_id(b"inner");
    let outer = Relay6::new(pair.client_addr6()).hops(1).peer(at(by_link, 1)).interface_id(b"outer");
    let client = Client6::new(&pair, "02:c6:00:00:01:04").via(&[inner, outer]);
    let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY through two relays:\n{}", kea.log()));
    assert!(in_net(reply.address().expect("an address"), by_link), "{reply:?}");
    let hops: Vec<_> = reply.relays.iter().map(|r| (r.hop_count, r.option(opt6::INTERFACE_ID).map(<[u8]>::to_vec))).collect();
    assert_eq!(hops, [(1, Some(b"outer".to_vec())), (0, Some(b"inner".to_vec()))], "{reply:?}");
    let renewed = client.renew(&reply).expect("a relayed REPLY to the RENEW");
    assert_eq!(renewed.address(), reply.address());
    assert_eq!(client.release(&reply).map(|r| r.message_type), Some(msg6::REPLY));
}

#[test]
fn the_test_client_gets_renews_and_releases_a_delegated_prefix() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (space, _) = pair.pd_space6();
    let kea = KeaConfig::new6(&pair).pd_pool(space, 56, 64).start(&pair).unwrap();
    let in_pool = |(p, len): (Ipv6Addr, u8)| len == 64 && p.segments()[..3] == space.segments()[..3] && p.segments()[3] >> 8 == 0x80;

    let client = Client6::new(&pair, "02:c6:00:00:02:01").asking_for(Ias6::NaPd);
    let advertise = client.solicit().unwrap_or_else(|| panic!("no ADVERTISE:\n{}", kea.log()));
    assert!(advertise.prefix().is_some() && advertise.address().is_some(), "{advertise:?}");
    let reply = client.request(&advertise).unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    let prefix = reply.prefix().unwrap_or_else(|| panic!("no prefix: {reply:?}"));
    assert!(in_pool(prefix), "{prefix:?} is not a /64 of {space}/56");
    assert_eq!(reply.prefix(), advertise.prefix(), "the prefix advertised is the one delegated");
    let pd = reply.ia(opt6::IA_PD).expect("an IA_PD");
    assert_eq!((pd.iaid, pd.status.as_ref(), pd.prefixes[0].preferred, pd.prefixes[0].valid), (1, None, 3000, 3600), "{pd:?}");
    assert!(reply.address().is_some(), "the IA_NA of the same REPLY has no address: {reply:?}");
    let row = lease(&kea, prefix.0, 2).unwrap_or_else(|| panic!("no prefix row: {:?}", kea.lease6_rows()));
    assert_eq!((row.prefix_len, row.iaid, row.subnet_id, row.state, row.duid), (64, 1, 1, 0, client.duid_text()));
    assert!(lease(&kea, reply.address().unwrap(), 0).is_some(), "no address row: {:?}", kea.lease6_rows());

    let renewed = client.renew(&reply).expect("a REPLY to the RENEW");
    assert_eq!((renewed.prefix(), renewed.address()), (reply.prefix(), reply.address()), "{renewed:?}");
    let rebound = client.rebind(&reply).expect("a REPLY to the REBIND");
    assert_eq!(rebound.prefix(), reply.prefix(), "{rebound:?}");

    let released = client.release(&reply).expect("a REPLY to the RELEASE");
    assert_eq!(released.message_type, msg6::REPLY);
    let gone = wait_for(|| kea.lease6_rows().into_iter().find(|r| r.address == prefix.0 && r.lease_type == 2 && (r.valid_lifetime == 0 || r.state != 0)));
    assert!(gone.is_some(), "the release did not reach the lease file: {:?}", kea.lease6_rows());
    drop(client);

    // Prefix only, with a length hint.
    let client = Client6::new(&pair, "02:c6:00:00:02:02").asking_for(Ias6::Pd).with_prefix_hint(Ipv6Addr::UNSPECIFIED, 64);
    let reply = client.sarr().unwrap_or_else(|| panic!("no REPLY:\n{}", kea.log()));
    assert!(reply.ia(opt6::IA_NA).is_none() && reply.prefix().is_some_and(in_pool), "{reply:?}");
}

#[test]
fn extra_options_rapid_commit_and_status_messages() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let dns = at(pair.relay_net6(9), 53);
    let kea = KeaConfig::new6(&pair)
        .subnet6_merge(json!({ "rapid-commit": true, "option-data": [{ "name": "dns-servers", "data": dns.to_string() }] }))
        .start(&pair)
        .unwrap();

    // ORO, user class, vendor class, vendor options and rapid commit in
    // one SOLICIT: a REPLY at once, with the DNS servers asked for.
    let user_class = [0, 4, b't', b'e', b's', b't'];
    let mut vendor_class = 32473u32.to_be_bytes().to_vec();
    vendor_class.extend_from_slice(&[0, 3, b'k', b'h', b't']);
    // (Enterprise 32473: RFC 5612, for documentation. Kea parses 4491's
    // (DOCSIS) sub-options and drops a query with one it cannot parse:
    // "DHCP6_PACKET_DROP_PARSE_FAIL ... OptionIntArray 1 truncated".)
    let mut vendor_opts = 32473u32.to_be_bytes().to_vec();
    vendor_opts.extend_from_slice(&[0, 1, 0, 1, 7]);
    let client = Client6::new(&pair, "02:c6:00:00:03:01")
        .asking_for(Ias6::NaPd)
        .with_option(opt6::ORO, &opt6::DNS_SERVERS.to_be_bytes())
        .with_option(opt6::USER_CLASS, &user_class)
        .with_option(opt6::VENDOR_CLASS, &vendor_class)
        .with_option(opt6::VENDOR_OPTS, &vendor_opts)
        .with_option(opt6::RAPID_COMMIT, &[]);
    let reply: Reply6 = client.solicit().unwrap_or_else(|| panic!("no answer to the SOLICIT:\n{}", kea.log()));
    assert_eq!(reply.message_type, msg6::REPLY, "rapid commit did not skip the ADVERTISE: {reply:?}");
    assert_eq!(reply.option(opt6::RAPID_COMMIT), Some(&[][..]));
    assert_eq!(reply.option(opt6::DNS_SERVERS), Some(&dns.octets()[..]), "{reply:?}");
    assert!(reply.address().is_some(), "{reply:?}");
    // No pd-pool: the IA_PD comes back with NoPrefixAvail and a message.
    let pd = reply.ia(opt6::IA_PD).unwrap_or_else(|| panic!("no IA_PD: {reply:?}"));
    let status = pd.status.as_ref().unwrap_or_else(|| panic!("no status in the IA_PD: {pd:?}"));
    assert_eq!(status.code, 6, "{status:?}");
    assert!(!status.message.is_empty(), "{status:?}");
    assert!(pd.prefixes.is_empty(), "{pd:?}");
}

/// perfdhcp -6 `-e mode` completes `n` 4-way exchanges for `n` clients of
/// its own (MACs from `base_mac`, in their DUIDs) with no drops, after which
/// the lease file holds `leases` active leases of each type (0 address, 2
/// prefix).
fn perfdhcp6_completes(pair: &NetPair, kea: &Kea, n: u64, mode: &str, base_mac: &str, leases: &[(u8, usize)]) {
    let count = n.to_string();
    let base = format!("mac={base_mac}");
    // Two -n: perfdhcp 2.2 counts both exchanges against a single one.
    let report = perfdhcp6(pair, &["-e", mode, "-b", &base, "-r", "50", "-R", &count, "-n", &count, "-n", &count, "-W", "1000000"]);
    let get = |name| report.exchange(name).cloned().unwrap_or_else(|| panic!("no {name} in:\n{}", report.stdout));
    let (sa, rr) = (get("SOLICIT-ADVERTISE"), get("REQUEST-REPLY"));
    assert_eq!((sa.sent, sa.received, sa.drops), (n, n, 0), "{mode}:\n{}", report.stdout);
    assert_eq!((rr.sent, rr.received, rr.drops), (n, n, 0), "{mode}:\n{}", report.stdout);
    assert_eq!(report.exit_code, 0, "{mode}:\n{}", report.stdout);
    for &(t, want) in leases {
        let active = || kea.lease6_rows().iter().filter(|r| r.lease_type == t && r.state == 0 && r.valid_lifetime > 0).count();
        let got = wait_for(|| Some(active()).filter(|k| *k >= want));
        assert_eq!(got, Some(want), "{mode}: type {t} leases: {:?}", kea.lease6_rows());
    }
}

#[test]
fn perfdhcp6_completes_address_prefix_and_both_exchanges() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (space, _) = pair.pd_space6();
    let kea = KeaConfig::new6(&pair).severity("WARN").pd_pool(space, 56, 64).start(&pair).unwrap();
    perfdhcp6_completes(&pair, &kea, 20, "address-only", "02:c6:00:00:05:00", &[(0, 20), (2, 0)]);
    perfdhcp6_completes(&pair, &kea, 20, "prefix-only", "02:c6:00:00:06:00", &[(0, 20), (2, 20)]);
    perfdhcp6_completes(&pair, &kea, 20, "address-and-prefix", "02:c6:00:00:07:00", &[(0, 40), (2, 40)]);
    let prefixes: Vec<Lease6Row> = kea.lease6_rows().into_iter().filter(|r| r.lease_type == 2).collect();
    assert!(prefixes.iter().all(|r| r.prefix_len == 64 && r.address.segments()[3] >> 8 == 0x80), "{prefixes:?}");
}

#[test]
fn dhclient6_gets_an_address_and_a_prefix() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (space, _) = pair.pd_space6();
    let kea = KeaConfig::new6(&pair).pd_pool(space, 56, 64).start(&pair).unwrap();
    pair.set_client_mac("02:c6:00:00:04:01");
    let got = dhclient6(&pair, Ias6::NaPd, Duration::from_secs(15));
    let addr = got.address.unwrap_or_else(|| panic!("no address bound: {got:?}\n{}", kea.log()));
    let (prefix, len) = got.prefix.unwrap_or_else(|| panic!("no prefix bound: {got:?}\n{}", kea.log()));
    assert!(in_net(addr, pair.server_addr6()), "{addr}: {got:?}");
    assert_eq!(len, 64, "{got:?}");
    let row = lease(&kea, addr, 0).unwrap_or_else(|| panic!("no lease for {addr}: {:?}", kea.lease6_rows()));
    assert!(row.duid.ends_with("02:c6:00:00:04:01"), "not the client's DUID-LL: {row:?}");
    assert!(lease(&kea, prefix, 2).is_some(), "no lease for {prefix}/{len}: {:?}", kea.lease6_rows());
}

/// Polls `f` for up to 5 s (Kea writes the lease file after answering).
fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
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
