//! Test harness: real kea-dhcp4 daemons in network namespaces, real DHCP
//! traffic from perfdhcp and dhclient, the real control socket.
//!
//! Every test that uses it starts with
//! `if !require_root_and_kea() { return; }`: outside CI a test that cannot
//! run says why and returns; with `CI` set it fails.

mod env;
mod kea;
mod netns;
mod traffic;

pub use env::{require_root_and_kea, TestDir};
pub use kea::{Kea, KeaConfig, LeaseRow, StartFailure};
pub use netns::NetPair;
pub use traffic::{dhclient, perfdhcp, perfdhcp_on_cpu, perfdhcp_spawn, Exchange, PerfdhcpReport};
