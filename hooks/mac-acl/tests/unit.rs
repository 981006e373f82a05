//! mac-acl's `pkt4_receive` callout run in-process by Kea's HooksManager
//! (kea_hooks_test::unit): no root, no daemon. tests/tests/mac_acl.rs
//! shows the same decisions with a real kea-dhcp4 and real clients.

use kea_hooks_test::unit::{Kea4, NextStep, Query4};
use kea_hooks_test::{build_hook, msg, Profile};
use serde_json::json;

/// The hook library, built once per test binary.
fn library() -> &'static std::path::Path {
    static LIBRARY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    LIBRARY.get_or_init(|| build_hook("kea-hook-mac-acl", "dhcp_mac_acl", Profile::current()))
}

fn load(parameters: serde_json::Value) -> Kea4 {
    Kea4::load(library(), parameters).unwrap_or_else(|e| panic!("{e}\n{}", e.log))
}

#[test]
fn a_denied_client_is_dropped_and_an_allowed_one_goes_on() {
    let mut kea = load(json!({ "allow": ["02:00:00"], "deny": ["02:00:00:66"] }));

    let denied = Query4::new(msg::DISCOVER, "02:00:00:66:00:01").bytes();
    let outcome = kea.pkt4_receive(&denied).unwrap();
    assert_eq!(outcome.status, NextStep::Drop, "a DISCOVER under a deny prefix was not dropped\n{}", kea.log());

    let allowed = Query4::new(msg::REQUEST, "02:00:00:01:00:01").bytes();
    let outcome = kea.pkt4_receive(&allowed).unwrap();
    assert_eq!(outcome.status, NextStep::Continue, "a REQUEST under an allow prefix was not let through\n{}", kea.log());
    let query = outcome.query().expect("the query is still there");
    assert_eq!(query.hwaddr(), [2, 0, 0, 1, 0, 1], "the callout changed the query's hardware address");
    assert_eq!(query.message_type, msg::REQUEST);

    let other = Query4::new(msg::DISCOVER, "0a:00:00:00:00:01").bytes();
    let outcome = kea.pkt4_receive(&other).unwrap();
    assert_eq!(outcome.status, NextStep::Drop, "with an allow list, an unlisted client is denied by default");

    let log = kea.unload().unwrap();
    assert!(log.contains("denied: dropping") && log.contains("02:00:00:66:00:01"), "no debug line for the denied client:\n{log}");
    assert!(log.contains("allowed=1") && log.contains("denied=2"), "the unload counts are not 1 allowed, 2 denied:\n{log}");
}

#[test]
fn a_denied_client_may_still_release() {
    let mut kea = load(json!({ "deny": ["02:00:00:66"] }));
    let release = Query4::new(msg::RELEASE, "02:00:00:66:00:01").ciaddr("198.18.0.10".parse().unwrap()).bytes();
    let outcome = kea.pkt4_receive(&release).unwrap();
    assert_eq!(outcome.status, NextStep::Continue, "a RELEASE was filtered\n{}", kea.log());
    let discover = Query4::new(msg::DISCOVER, "02:00:00:66:00:01").bytes();
    assert_eq!(kea.pkt4_receive(&discover).unwrap().status, NextStep::Drop, "the same client's DISCOVER was not dropped");
}

#[test]
fn a_bad_prefix_fails_the_load_naming_the_field() {
    let err = Kea4::load(library(), json!({ "deny": ["02:00", "zz"] })).expect_err("a bad prefix was accepted");
    assert!(err.reason.contains("at 'deny[1]'"), "the load error does not name the field: {err}\n{}", err.log);
}
