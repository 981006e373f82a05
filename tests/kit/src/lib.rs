//! A test kit for Kea hook libraries written with `kea-hooks`: a test
//! builds the hook, starts a real kea-dhcp4 or kea-dhcp6 with it in a pair
//! of network namespaces it creates, sends real DHCP traffic (the kit's own
//! clients, dhclient or udhcpc, perfdhcp) and asserts on the replies, Kea's
//! lease file, its log and its control socket.
//!
//! # Requirements
//!
//! Linux, run as root (network namespaces), with `kea-dhcp4` (Debian:
//! kea-dhcp4-server; kea-dhcp6-server for DHCPv6), `perfdhcp` (kea-admin),
//! `ip` (iproute2) and a DHCPv4 client, `dhclient` (isc-dhcp-client) or
//! `udhcpc` (udhcpc, or busybox). Building a hook needs Kea's headers
//! (kea-dev, libboost-dev, liblog4cplus-dev; see `kea-hooks`). Kea from
//! source (docker-kea's layout, `/usr/local`) is found too: set
//! `KEA_PREFIX=/usr/local` as for building the hook.
//!
//! Every test starts with `if !require_root_and_kea() { return; }`
//! ([`require_root_and_kea`]): where something is missing, the test prints
//! what and returns, so `cargo test` on a workstation without root passes
//! with a notice; with the `CI` environment variable set (non-empty, as CI
//! services set it) it panics instead, so a CI job cannot pass by skipping.
//!
//! # A worked example
//!
//! A hook crate (`cargo new --lib dhcp-hello`, or `kea-hooks-check new
//! dhcp-hello`, which writes all of this) with its library and the kit:
//!
//! ```toml
//! [lib]
//! name = "dhcp_hello"
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! kea-hooks = "0.1"
//!
//! [dev-dependencies]
//! kea-hooks-test = "0.1"
//!
//! [profile.dev]     # cargo test builds the hook with it
//! panic = "unwind"
//! ```
//!
//! and `tests/dhcp.rs`, for a hook that drops DISCOVERs from hardware
//! addresses under its `deny` prefixes (run as root: `sudo -E env "PATH=$PATH" cargo test`):
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use kea_hooks_test::serde_json::json;
//! use kea_hooks_test::{build_hook, msg, require_root_and_kea, Client4, KeaConfig, NetPair, Profile};
//!
//! #[test]
//! fn denied_clients_get_no_offer() {
//!     if !require_root_and_kea() {
//!         return;
//!     }
//!     // `cargo build -p dhcp-hello` in this crate: target/debug/libdhcp_hello.so.
//!     let library = build_hook("dhcp-hello", "dhcp_hello", Profile::current());
//!     // Two fresh network namespaces joined by a veth pair (198.18.X.0/24).
//!     let pair = NetPair::new();
//!     // kea-dhcp4 serving the pair's subnet on the server end, with the hook.
//!     let kea = KeaConfig::new(&pair)
//!         .hook(&library, Some(json!({ "deny": ["02:de:ad"] })))
//!         .start(&pair)
//!         .expect("kea-dhcp4 starts with the hook");
//!
//!     // The kit's DHCPv4 client on the other end: DISCOVER, OFFER, REQUEST, ACK.
//!     let ack = Client4::new(&pair, "02:00:00:00:00:01").dora().expect("an ACK");
//!     assert_eq!(ack.message_type, msg::ACK);
//!     assert!(kea.leases().iter().any(|l| l.address == ack.yiaddr), "{:?}", kea.leases());
//!
//!     // A denied client's DISCOVER is dropped: no OFFER within 2 s.
//!     let denied = Client4::new(&pair, "02:de:ad:00:00:01").with_timeout(Duration::from_secs(2));
//!     assert!(denied.discover(None).is_none(), "a denied client got an offer");
//!
//!     // The hook's log lines are in Kea's log.
//!     let log = kea.log();
//!     assert!(log.contains("denied: dropping"), "{log}");
//! } // Dropping `kea` and `pair` stops Kea and deletes the namespaces.
//! # fn main() {}
//! ```
//!
//! # What is in it
//!
//! | for | items |
//! |---|---|
//! | the network | [`NetPair`] (two namespaces, a veth pair, IPv4 and IPv6 addresses), [`in_netns`], [`run_in_ns`] |
//! | Kea | [`KeaConfig`] (the configuration builder: hooks, loggers, [`merge`](KeaConfig::merge) for anything else), [`Kea`] (the running server: [`log`](Kea::log), [`command`](Kea::command) on the control socket, [`statistic`](Kea::statistic), [`config_reload`](Kea::config_reload), [`stop`](Kea::stop)), [`StartFailure`], [`unix_command`] |
//! | leases | [`Kea::leases`] and [`Kea::lease6_rows`] (the memfile), [`write_memfile4`]/[`write_memfile6`] (a lease file to start from) |
//! | the hook | [`build_hook`], [`target_dir`], [`Profile`], [`kea_hooks_version`] (which Kea the tests run) |
//! | ISC's hooks beside yours | [`isc_hook`], [`hooks_together`] (Kea 2.6+ loads hooks from one directory) |
//! | DHCP traffic | [`Client4`] (DORA, renew, rebind, release, decline, option 82), [`Client6`] (SARR, PD, relays), [`dhclient`]/[`dhclient6`], [`perfdhcp`]/[`perfdhcp6`] |
//! | the machine | [`require_root_and_kea`], [`require_programs`], [`skip`], [`find_program`], [`TestDir`] |
//! | more | HA pairs ([`HaPair`]), SQL lease databases ([`PgServer`], [`MariaDbServer`]), [`Prometheus`], [`SilentDns`], [`SystemUser`] (Kea as non-root), [`curl_get`], [`prom_text`] |
//!
//! # Running tests
//!
//! Everything a test creates is unique per process and call (namespaces,
//! interfaces, directories), so tests run in parallel threads and
//! concurrent test processes do not collide; each is removed when its
//! owner is dropped, and Kea and the clients are stopped by pid.
//! `KEEP_TEST_DIRS=1` keeps the directories (configuration, log, lease
//! file) and prints their paths; a failing test prints the end of Kea's
//! output. `KEA_TEST_SKIP_LOG=FILE` appends each skip notice to FILE
//! (cargo counts a test that returned early as passed).
//! [`build_hook`] runs `cargo build` from inside the test: give cargo
//! `CARGO_NET_OFFLINE=true` rather than `--offline` when working offline,
//! so that the inner build sees it too.

#![warn(missing_docs)]

mod build;
mod client4;
mod client6;
mod db;
mod dhclient;
mod dns;
mod env;
mod ha;
mod http;
mod kea;
mod netns;
mod perfdhcp;
pub mod prom_text;
mod prometheus;
pub mod unit;
mod user;

pub use build::{build_hook, hooks_together, isc_hook, kea_dirs, kea_hooks_version, target_dir, Profile};
pub use client4::{msg, Client4, Relay, Reply};
pub use client6::{msg6, opt6, Client6, Ia6, IaAddr6, IaPrefix6, Ias6, Relay6, RelayReply6, Reply6, Status6};
pub use db::{sql_backends, sql_config_backend_hook, sql_lease_backend_hooks, MariaDbServer, PgServer};
pub use dhclient::{dhclient, dhclient6, Dhcp6Lease};
pub use dns::SilentDns;
pub use ha::{ha_hook, HaMode, HaNet, HaPair, HA_PORT, HA_SERVERS, HEARTBEAT_DELAY_MS, MAX_RESPONSE_DELAY_MS};
pub use env::{find_program, require_programs, require_root_and_kea, skip, TestDir};
pub use http::{curl_get, Endpoint, FullListener, HttpAnswer};
pub use kea::{unix_command, unix_command_within, write_memfile4, write_memfile6, Family, Kea, KeaConfig, Lease6Row, LeaseRow, StartFailure};
pub use netns::{in_netns, run_in_ns, NetPair};
pub use prometheus::{Prometheus, PROMETHEUS_JOB};
pub use user::SystemUser;
/// serde_json, whose `Value` the configuration builder and the control
/// socket take and give: `kea_hooks_test::serde_json::json!({...})` needs no
/// dependency of the test's own.
pub use serde_json;
pub use perfdhcp::{perfdhcp, perfdhcp6, perfdhcp6_start, perfdhcp_on_cpu, perfdhcp_spawn, perfdhcp_start, Exchange, PerfdhcpReport, PerfdhcpRun};
