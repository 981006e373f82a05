//! The lease-notifier hook (hooks/lease-notifier) in a real kea-dhcp4,
//! with an HTTP endpoint in the server's namespace: each ACK waits for the
//! endpoint's answer; a late or failed answer resumes or drops as
//! configured; the counts show in Kea's statistics and the hook's status
//! command; under multi-threaded load every ACK follows a notification.
//! Run as root; see the README.

mod common;

use std::time::{Duration, Instant};

use kea_hooks_tests::{perfdhcp, require_root_and_kea, Client4, Endpoint, HttpAnswer, KeaConfig, NetPair};
use serde_json::json;

use common::hook_library;

fn notifier() -> std::path::PathBuf {
    hook_library("kea-hook-lease-notifier", "dhcp_lease_notifier")
}

#[test]
fn acks_wait_for_the_endpoint_and_failures_follow_the_policy() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let endpoint = Endpoint::start(&pair.server_ns());
    let mut params = json!({ "url": endpoint.url(), "timeout-ms": 700 });
    let mut kea = KeaConfig::new(&pair).hook(&notifier(), Some(params.clone())).start(&pair).unwrap_or_else(|e| panic!("{e}"));

    // Acknowledged: the ACK comes, and the endpoint has the lease.
    let ack = Client4::new(&pair, "02:c9:00:00:00:01").dora().expect("ACK");
    let got = endpoint.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0]["query"], "DHCPREQUEST", "{got:?}");
    assert_eq!(got[0]["hwaddr"], "02:c9:00:00:00:01");
    assert_eq!(got[0]["leases"][0]["address"], ack.yiaddr.to_string());
    assert_eq!(got[0]["leases"][0]["subnet-id"], 1);

    // Held by the endpoint: no ACK until it answers.
    endpoint.answer(HttpAnswer::Hold);
    std::thread::scope(|s| {
        let client = s.spawn(|| Client4::new(&pair, "02:c9:00:00:00:02").with_timeout(Duration::from_secs(10)).dora());
        endpoint.wait_for(2, Duration::from_secs(5));
        let status = kea.command("lease-notifier-status", None);
        assert_eq!(status["arguments"]["in-flight"], 1, "{status}");
        // The REQUEST reached the endpoint; its ACK is parked meanwhile.
        std::thread::sleep(Duration::from_millis(300));
        assert!(!client.is_finished(), "the ACK went out before the endpoint answered");
        endpoint.release();
        assert!(client.join().unwrap().is_some(), "no ACK after the endpoint answered");
    });

    // No answer within timeout-ms: the ACK goes out anyway (on-failure:
    // resume), after the timeout.
    endpoint.answer(HttpAnswer::Never);
    let started = Instant::now();
    assert!(Client4::new(&pair, "02:c9:00:00:00:03").dora().is_some(), "no ACK after a timeout");
    assert!(started.elapsed() >= Duration::from_millis(700), "{:?}", started.elapsed());

    // An error status with on-failure: drop: no ACK; counted as dropped.
    params["on-failure"] = json!("drop");
    assert_eq!(kea.reload_with_hook_parameters(0, params)["result"], 0);
    endpoint.answer(HttpAnswer::Status(503));
    let drops = kea.statistic("pkt4-receive-drop");
    let quiet = Client4::new(&pair, "02:c9:00:00:00:04").with_timeout(Duration::from_millis(1500));
    let offer = quiet.discover(None).expect("OFFER (not held)");
    assert!(quiet.request(&offer, None).is_none(), "an ACK despite a failed notification and on-failure drop");
    assert_eq!(kea.statistic("pkt4-receive-drop"), drops + 1);

    // Kea's statistics kept counting across the reload; the status command
    // counts for the hook as loaded now.
    assert_eq!(kea.statistic("lease-notifier.notified"), 2);
    assert_eq!(kea.statistic("lease-notifier.failed"), 2);
    let status = kea.command("lease-notifier-status", None);
    assert_eq!(status["arguments"]["failed"], 1, "{status}");
    assert_eq!(status["arguments"]["url"], endpoint.url());
    assert!(kea.is_alive());
}

/// Under multi-threaded load: every ACK follows exactly one acknowledged
/// notification. (Each client is new: Kea 3.0+ reuses a returning client's
/// unchanged lease without committing it, and then there is nothing to
/// notify nor to hold.)
#[test]
fn every_ack_under_load_follows_a_notification() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::wide();
    let endpoint = Endpoint::start(&pair.server_ns());
    let params = json!({ "url": endpoint.url(), "workers": 8, "queue-size": 1024 });
    let kea = KeaConfig::new(&pair)
        .multi_threading(true)
        .severity("WARN")
        .hook(&notifier(), Some(params))
        .start(&pair)
        .unwrap_or_else(|e| panic!("{e}"));
    let report = perfdhcp(&pair, &["-r", "300", "-R", "60000", "-n", "1500", "-p", "30", "-W", "2000000"]);
    let acks = report.acks();
    assert!(acks >= 1000, "{}", report.stdout);
    assert_eq!(kea.statistic("lease-notifier.notified"), acks, "{}", report.stdout);
    assert_eq!(endpoint.received().len() as u64, acks);
    assert_eq!(kea.statistic("lease-notifier.failed"), 0);
    assert_eq!(kea.statistic("lease-notifier.overflow"), 0);
}
