//! A test kit for Kea hook libraries written with `kea-hooks`: real kea-dhcp4 and kea-dhcp6 daemons in network namespaces, real DHCP
//! traffic from perfdhcp and dhclient, the real control socket.
//!
//! Every test that uses it starts with
//! `if !require_root_and_kea() { return; }`: outside CI a test that cannot
//! run says why and returns; with `CI` set it fails.
//!
//! ```no_run
//! use kea_hooks_test::{perfdhcp, require_root_and_kea, KeaConfig, NetPair};
//! if require_root_and_kea() {
//!     let pair = NetPair::new();
//!     let kea = KeaConfig::new(&pair).start(&pair).unwrap();
//!     let report = perfdhcp(&pair, &["-r", "10", "-R", "10", "-n", "10", "-W", "1000000"]);
//!     assert!(report.received > 0);
//!     assert!(!kea.leases().is_empty());
//! }
//! ```
//!
//! Everything a test creates is unique per process and call (namespaces,
//! interfaces, directories), so tests run in parallel threads and
//! concurrent test processes do not collide. `KEEP_TEST_DIRS=1` keeps the
//! directories (config, log, leases) and prints their paths.

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
pub use perfdhcp::{perfdhcp, perfdhcp6, perfdhcp6_start, perfdhcp_on_cpu, perfdhcp_spawn, perfdhcp_start, Exchange, PerfdhcpReport, PerfdhcpRun};
