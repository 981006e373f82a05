//! Shared by the lease-stats test files (DHCPv4 and DHCPv6): the query
//! forms compared with stat_cmds, and the waits around them.

#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kea_hooks_tests::Kea;
use serde_json::{json, Value};

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Waits (up to 30 s) until Kea has reclaimed every expired lease in its
/// file: until `pending(now)` (the leases in state default or declined
/// past their expiry) is 0.
pub fn wait_for_reclamation(kea: &Kea, pending: impl Fn(u64) -> usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = pending(now());
        if left == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{left} expired leases still not reclaimed:\n{}", kea.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every query form tooling sends, the errors included, for a layout with
/// subnets 1 to 4 and 7, none of 5, 6 or 8 and above.
pub fn query_forms() -> Vec<Option<Value>> {
    let range = |a: i64, b: i64| json!({ "subnet-range": { "first-subnet-id": a, "last-subnet-id": b } });
    vec![
        None,
        Some(json!({})),
        Some(json!({ "subnet-id": 1 })),
        Some(json!({ "subnet-id": 2 })),
        Some(json!({ "subnet-id": 3 })),
        Some(json!({ "subnet-id": 4 })),
        Some(json!({ "subnet-id": 7 })),
        Some(json!({ "subnet-id": 8 })),
        Some(range(1, 3)),
        Some(range(3, 7)),
        Some(range(5, 6)),
        Some(range(8, 100)),
        Some(json!({ "subnet-id": "2" })),
        Some(json!({ "subnet-id": 2.0 })),
        Some(json!({ "subnet-id": 0 })),
        Some(json!({ "subnet-id": -4 })),
        Some(json!({ "subnet-id": 1, "subnet-range": { "first-subnet-id": 1, "last-subnet-id": 2 } })),
        Some(range(3, 2)),
        Some(json!({ "subnet-range": { "first-subnet-id": 2 } })),
        Some(json!({ "subnet-range": { "first-subnet-id": 0, "last-subnet-id": 2 } })),
        Some(json!({ "subnet-range": 5 })),
        Some(json!({ "bogus": 1 })),
    ]
}

/// Asserts a command's result is 0 (success).
pub fn ok(answer: &Value) {
    assert_eq!(answer["result"], 0, "{answer}");
}
