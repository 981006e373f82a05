//! The harness's DHCPv6 client against a real kea-dhcp6 serving the pair's
//! IPv6 subnet: each message it sends does to Kea's lease database what a
//! client's would. The DHCPv6 hook tests drive Kea with it. Run as root;
//! see the README.

use std::time::{Duration, Instant};

use kea_hooks_tests::{msg6, require_root_and_kea, Client6, KeaConfig, NetPair};

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
