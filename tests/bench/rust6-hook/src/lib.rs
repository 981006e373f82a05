//! `libdhcp_bench6_rust.so`: the Rust side of the SDK's DHCPv6 benchmark.
//!
//! It does what the C++ fixture (`tests/bench/cpp-hook/bench6_hook.cc`)
//! does, callout for callout: read a few fields of the packet or lease and
//! count them, so the measured difference is the SDK's overhead. With the
//! parameter `"options": true` (the options variant), pkt6_send also reads
//! the query's ORO (its length into the checksum) and sets option 23 (a DNS
//! server) on the response.

use std::sync::atomic::{AtomicU64, Ordering};

use kea_hooks::dhcp6;
use kea_hooks::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    options: bool,
}

/// 2001:2::53.
const DNS: [u8; 16] = [0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];

struct Bench6 {
    options: bool,
    received: AtomicU64,
    selected: AtomicU64,
    sent: AtomicU64,
    checksum: AtomicU64,
}

impl Hook for Bench6 {
    const NAME: &'static str = "bench6-rust";
    type Params = Params;

    fn load(p: Params, _: &LoadContext) -> Result<Self, Error> {
        Ok(Bench6 {
            options: p.options,
            received: AtomicU64::new(0),
            selected: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            checksum: AtomicU64::new(0),
        })
    }
}

impl Callout<dhcp6::Pkt6Receive> for Bench6 {
    fn call(&self, cx: &Context<'_, dhcp6::Pkt6Receive>) -> Result<(), Error> {
        let q = cx.query()?;
        self.checksum.fetch_add(u64::from(q.xid()) ^ u64::from(q.message_type().0), Ordering::Relaxed);
        self.received.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Select> for Bench6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Select>) -> Result<(), Error> {
        let lease = cx.lease()?;
        let v = (u64::from(lease.iaid()) ^ u64::from(lease.prefix_len())) + u64::from(lease.valid_lifetime());
        self.checksum.fetch_add(v, Ordering::Relaxed);
        self.selected.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Callout<dhcp6::Pkt6Send> for Bench6 {
    fn call(&self, cx: &Context<'_, dhcp6::Pkt6Send>) -> Result<(), Error> {
        let r = cx.response()?;
        self.checksum.fetch_add(u64::from(r.xid()) ^ u64::from(r.message_type().0), Ordering::Relaxed);
        if self.options {
            if let Some(oro) = cx.query()?.option(dhcp6::code::ORO)? {
                self.checksum.fetch_add(oro.len() as u64, Ordering::Relaxed);
            }
            r.set_option(dhcp6::code::DNS_SERVERS, DNS)?;
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Bench6 {
    fn drop(&mut self) {
        tracing::info!(
            received = self.received.load(Ordering::Relaxed),
            selected = self.selected.load(Ordering::Relaxed),
            sent = self.sent.load(Ordering::Relaxed),
            checksum = self.checksum.load(Ordering::Relaxed),
            "bench6 hook unloading"
        );
    }
}

kea_hooks::kea_hook!(Bench6);
