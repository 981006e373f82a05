//! `libdhcp_bench_lease_points_rust.so`: lease-stats' callouts
//! (leases4_committed, lease4_release, lease4_decline, lease4_expire,
//! lease4_recover, command_processed, dhcp4_srv_configured) reading what
//! lease-stats reads there (each lease's address, subnet id and state) and
//! counting nothing: the Rust twin of
//! `tests/bench/cpp-hook/lease_points_hook.cc`, so that side by side the
//! two differ only in the SDK's cost of these points and of reading lease
//! collections.

use std::sync::atomic::{AtomicU64, Ordering};

use kea_hooks::dhcp4;
use kea_hooks::prelude::*;

struct LeasePoints {
    checksum: AtomicU64,
}

impl Hook for LeasePoints {
    const NAME: &'static str = "bench-lease-points";
    type Params = NoParameters;

    fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> {
        Ok(LeasePoints { checksum: AtomicU64::new(0) })
    }
}

impl LeasePoints {
    fn read_lease(&self, lease: &dhcp4::Lease4<'_>) {
        let v = u32::from(lease.address()) ^ lease.subnet_id() ^ lease.state().0;
        self.checksum.fetch_add(u64::from(v), Ordering::Relaxed);
    }
}

impl Callout<dhcp4::Leases4Committed> for LeasePoints {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        for l in cx.deleted_leases()?.iter() {
            self.read_lease(&l);
        }
        for l in cx.leases()?.iter() {
            self.read_lease(&l);
        }
        Ok(())
    }
}

/// lease4_release, lease4_decline, lease4_expire, lease4_recover: the lease.
macro_rules! lease_point {
    ($($point:ident),*) => {$(
        impl Callout<dhcp4::$point> for LeasePoints {
            fn call(&self, cx: &Context<'_, dhcp4::$point>) -> Result<(), Error> {
                self.read_lease(&cx.lease()?);
                Ok(())
            }
        }
    )*};
}
lease_point!(Lease4Release, Lease4Decline, Lease4Expire, Lease4Recover);

impl Callout<dhcp4::CommandProcessed> for LeasePoints {
    fn call(&self, _: &Context<'_, dhcp4::CommandProcessed>) -> Result<(), Error> {
        Ok(())
    }
}

impl Callout<dhcp4::Dhcp4SrvConfigured> for LeasePoints {
    fn call(&self, _: &Context<'_, dhcp4::Dhcp4SrvConfigured>) -> Result<(), Error> {
        Ok(())
    }
}

kea_hooks::kea_hook!(LeasePoints);
