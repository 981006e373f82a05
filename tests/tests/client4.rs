//! The harness's DHCPv4 client against a real kea-dhcp4: each message it
//! sends does to Kea's lease database what a client's would. The hook
//! tests drive renewals, rebinds, releases, declines and relayed queries
//! with it. Run as root; see the README.

use kea_hooks_tests::{msg, require_root_and_kea, Client4, KeaConfig, NetPair, Relay};

#[test]
fn the_test_client_renews_rebinds_releases_declines_and_relays() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let kea = KeaConfig::new(&pair).start(&pair).unwrap();

    let client = Client4::new(&pair, "02:c1:00:00:00:01");
    let ack = client.dora().expect("an ACK");
    assert_eq!(ack.message_type, msg::ACK);
    assert_eq!(ack.server_id, Some(pair.server_addr()));
    assert_eq!(ack.lease_time, Some(3600));
    let row = |addr| kea.lease_rows().into_iter().find(|r| r.address == addr);
    let lease = row(ack.yiaddr).expect("the lease is in the lease file");
    assert_eq!((lease.hwaddr.as_str(), lease.state, lease.valid_lifetime), ("02:c1:00:00:00:01", 0, 3600));

    let renewed = client.renew(&ack).expect("an ACK to the renewal");
    assert_eq!((renewed.message_type, renewed.yiaddr), (msg::ACK, ack.yiaddr));
    let rebound = client.rebind(&ack).expect("an ACK to the rebind");
    assert_eq!((rebound.message_type, rebound.yiaddr), (msg::ACK, ack.yiaddr));

    client.release(&ack);
    let released = wait_for(|| row(ack.yiaddr).filter(|r| r.valid_lifetime == 0 || r.state != 0));
    assert!(released.is_some(), "the release did not reach the lease file: {:?}", row(ack.yiaddr));

    let decliner = Client4::new(&pair, "02:c1:00:00:00:02");
    let ack2 = decliner.dora().expect("an ACK");
    decliner.decline(&ack2);
    let declined = wait_for(|| row(ack2.yiaddr).filter(|r| r.state == 1));
    assert!(declined.is_some(), "the decline did not reach the lease file: {:?}", row(ack2.yiaddr));

    let relayed = Client4::new(&pair, "02:c1:00:00:00:03");
    let relay = Relay { circuit_id: b"port-7".to_vec(), remote_id: b"switch-a".to_vec() };
    let ack3 = relayed.dora_relayed(&relay).expect("an ACK through the relay");
    assert_eq!(ack3.message_type, msg::ACK);
    // Kea echoes the relay agent's option 82 in its answer to the relay.
    assert_eq!(ack3.options.get(&82), Some(&relay.option82()), "{ack3:?}");
    let lease3 = row(ack3.yiaddr).expect("the relayed lease is in the lease file");
    assert_eq!((lease3.hwaddr.as_str(), lease3.subnet_id), ("02:c1:00:00:00:03", 1));
}

/// Polls `f` for up to 5 s (Kea writes the lease file after answering).
fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
