//! `libdhcp_bench_rust.so`: the Rust side of the SDK's benchmark.
//!
//! It does what the C++ fixture (`tests/bench/cpp-hook/bench_hook.cc`) does,
//! callout for callout: read a few fields of the packet or lease and count
//! them, so the measured difference is the SDK's overhead. With the
//! parameter `"options": true` (the options variant), pkt4_send also reads
//! the query's option 55 (its length into the checksum) and sets option
//! 252 (a WPAD URL) on the response.

use std::sync::atomic::{AtomicU64, Ordering};

use kea_hooks::dhcp4;
use kea_hooks::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    options: bool,
}

const WPAD: &[u8] = b"http://198.18.0.1/wpad.dat";

struct Bench {
    options: bool,
    received: AtomicU64,
    selected: AtomicU64,
    sent: AtomicU64,
    checksum: AtomicU64,
}

impl Hook for Bench {
    const NAME: &'static str = "bench-rust";
    type Params = Params;

    fn load(p: Params, _: &LoadContext) -> Result<Self, Error> {
        Ok(Bench {
            options: p.options,
            received: AtomicU64::new(0),
            selected: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            checksum: AtomicU64::new(0),
        })
    }
}

impl Callout<dhcp4::Pkt4Receive> for Bench {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
        let q = cx.query()?;
        let hw = q.hwaddr();
        let last = hw.as_bytes().last().copied().unwrap_or(0);
        self.checksum.fetch_add(u64::from(q.xid()) ^ u64::from(last), Ordering::Relaxed);
        self.received.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Select> for Bench {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Select>) -> Result<(), Error> {
        let lease = cx.lease()?;
        self.checksum.fetch_add(u64::from(u32::from(lease.address())), Ordering::Relaxed);
        self.selected.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Callout<dhcp4::Pkt4Send> for Bench {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
        let r = cx.response()?;
        self.checksum.fetch_add(u64::from(u32::from(r.yiaddr())), Ordering::Relaxed);
        if self.options {
            if let Some(prl) = cx.query()?.option(55)? {
                self.checksum.fetch_add(prl.len() as u64, Ordering::Relaxed);
            }
            r.set_option(252, WPAD)?;
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        tracing::info!(
            received = self.received.load(Ordering::Relaxed),
            selected = self.selected.load(Ordering::Relaxed),
            sent = self.sent.load(Ordering::Relaxed),
            checksum = self.checksum.load(Ordering::Relaxed),
            "bench hook unloading"
        );
    }
}

kea_hooks::kea_hook!(Bench);
