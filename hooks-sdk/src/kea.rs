//! Kea's configuration and lease database, read-only.
//!
//! Both are Kea's own state, and Kea says which threads may read it:
//!
//! | What | Where | Why |
//! |---|---|---|
//! | [`KeaAccess::subnets4`] (the running configuration) | Kea's threads only: callouts, command handlers, `load`, and [`main_thread`](crate::threads::main_thread) work | Kea swaps its configuration on the main thread during a reload, with its packet threads stopped; a thread of the hook's own is not stopped |
//! | [`LeaseDb`] queries | callouts, command handlers, main-thread work; a hook's own thread while Kea's multi-threading is on ([`LeaseDb::for_this_thread`]) | Kea's lease backends lock themselves only with multi-threading on |
//!
//! The types enforce it: a [`KeaAccess`] comes only from a callout's
//! [`Context::kea`](crate::Context::kea), a command's
//! [`CommandContext::kea`](crate::command::CommandContext::kea), the
//! [`LoadContext`](crate::LoadContext) or a closure run by
//! [`main_thread::call_with_kea`](crate::threads::main_thread::call_with_kea)
//! (the running configuration),
//! and neither it nor a [`LeaseDb`] can leave the thread (`!Send`). A
//! hook's own thread asks [`LeaseDb::for_this_thread`], which checks at run
//! time, or hands the work to the main thread. Kea replaces its lease
//! database at a reconfiguration and destroys it at shutdown before it
//! unloads hooks: a query from a hook's thread then waits for the one in
//! flight and fails (`ErrorKind::WrongThread`) rather than reach it.
//!
//! What comes back is copied out ([`Subnet4Config`], [`StoredLease4`]:
//! DHCPv4's, in [`crate::dhcp4`]), so it can go anywhere.
//!
//! When: Kea loads hooks while it applies a configuration, and calls
//! `dhcp4_srv_configured` before it makes it the running one. So in `load`
//! and `dhcp4_srv_configured`, [`KeaAccess::subnets4`] gives the
//! configuration being applied. The lease database of that configuration
//! is opened after `load` and before `dhcp4_srv_configured`: in `load` it
//! is the previous one (none at start-up, an error); read leases from
//! `dhcp4_srv_configured` on.
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! # struct H;
//! # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
//! #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
//! impl Callout<dhcp4::Dhcp4SrvConfigured> for H {
//!     fn call(&self, cx: &Context<'_, dhcp4::Dhcp4SrvConfigured>) -> Result<(), Error> {
//!         let kea = cx.kea();
//!         for subnet in kea.subnets4()? {
//!             let leases = kea.lease_db().leases4_by_subnet(subnet.id)?;
//!             tracing::info!(id = subnet.id, size = subnet.total_addresses(), leases = leases.len(), "subnet");
//!         }
//!         Ok(())
//!     }
//! }
//! # kea_hooks::kea_hook!(H);
//! ```

use std::marker::PhantomData;
use std::net::Ipv4Addr;


use crate::dhcp4::{config::parse_subnets4, stored::rows, Pages4, StoredLease4, Subnet4Config};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, LeaseRow4};
use crate::hwaddr::HwAddr;

/// Access to Kea's configuration and lease database from one of Kea's
/// threads, for as long as `'a` (see the [module docs](self)).
#[derive(Debug)]
pub struct KeaAccess<'a> {
    /// Whether "the configuration" is the one being applied (in `load` and
    /// `dhcp4_srv_configured`, before Kea commits it).
    staging: bool,
    _not_send: PhantomData<&'a *const ()>,
}

impl KeaAccess<'_> {
    /// Only the SDK hands these out, on threads where they are allowed.
    pub(crate) fn new(staging: bool) -> Self {
        KeaAccess { staging, _not_send: PhantomData }
    }

    /// The subnets of the configuration (shared networks' included), in
    /// its order: in `load` and `dhcp4_srv_configured`, those of the
    /// configuration being applied; elsewhere the running one's.
    pub fn subnets4(&self) -> Result<Vec<Subnet4Config>, Error> {
        let text = ffi::config_subnets4_json(self.staging)?;
        parse_subnets4(&text)
    }

    /// Whether "the configuration" is the one being applied (for the
    /// family modules' accessors).
    pub(crate) fn staging(&self) -> bool {
        self.staging
    }

    /// The lease database.
    pub fn lease_db(&self) -> LeaseDb<'_> {
        LeaseDb { gated: false, _not_send: PhantomData }
    }
}

/// Kea's lease database (whichever backend is configured), read-only: see
/// the [module docs](self) for where it may be used.
#[derive(Debug)]
pub struct LeaseDb<'a> {
    /// From [`LeaseDb::for_this_thread`] on a hook's own thread: each
    /// query waits out Kea's critical sections (see `ffi::lease_gate`).
    gated: bool,
    _not_send: PhantomData<&'a *const ()>,
}

impl LeaseDb<'static> {
    /// The lease database for a hook's own thread: allowed while Kea's
    /// multi-threading is on (its backends lock themselves then), and on
    /// Kea's main thread; otherwise `Err(ErrorKind::WrongThread)` (hand
    /// the work to [`main_thread`](crate::threads::main_thread)).
    ///
    /// While Kea reconfigures or shuts down (it replaces, then destroys,
    /// the database before it unloads hooks), a query from a hook's thread
    /// waits for the query in flight and then fails with
    /// `ErrorKind::WrongThread` instead of reaching a database being torn
    /// down.
    pub fn for_this_thread() -> Result<LeaseDb<'static>, Error> {
        if ffi::multi_threading_enabled() || ffi::on_main_thread() {
            Ok(LeaseDb { gated: !ffi::on_main_thread(), _not_send: PhantomData })
        } else {
            Err(Error::new(
                ErrorKind::WrongThread,
                "Kea's lease database may be read from a hook's own thread only while Kea's multi-threading is on",
            ))
        }
    }
}

impl LeaseDb<'_> {
    /// Runs one query of Kea's (of either family), through the gate when
    /// on a hook's thread.
    pub(crate) fn run<R>(&self, q: impl FnOnce() -> Result<R, cxx::Exception>) -> Result<R, Error> {
        let found = if self.gated {
            ffi::lease_gate::while_open(q).ok_or_else(|| {
                Error::new(ErrorKind::WrongThread, "Kea is reconfiguring or shutting down: its lease database is not available now")
            })?
        } else {
            q()
        };
        Ok(found?)
    }

    /// Runs one DHCPv4 query.
    fn query(&self, q: impl FnOnce() -> Result<Vec<LeaseRow4>, cxx::Exception>) -> Result<Vec<StoredLease4>, Error> {
        Ok(rows(self.run(q)?))
    }

    /// The lease of `address`, if any.
    pub fn lease4(&self, address: Ipv4Addr) -> Result<Option<StoredLease4>, Error> {
        Ok(self.query(|| ffi::leases4_by_address(u32::from(address)))?.pop())
    }

    /// The leases of hardware address `hwaddr` (one per subnet at most).
    pub fn leases4_by_hwaddr(&self, hwaddr: HwAddr<'_>) -> Result<Vec<StoredLease4>, Error> {
        self.query(|| ffi::leases4_by_hwaddr(hwaddr.as_bytes(), hwaddr.htype()))
    }

    /// The leases of client identifier `client_id` (option 61's bytes).
    pub fn leases4_by_client_id(&self, client_id: &[u8]) -> Result<Vec<StoredLease4>, Error> {
        if client_id.is_empty() {
            return Err(Error::new(ErrorKind::Invalid, "an empty client identifier"));
        }
        self.query(|| ffi::leases4_by_client_id(client_id))
    }

    /// Every lease of subnet `subnet_id`, in every state. (At once: for a
    /// large subnet, [`pages4`](Self::pages4) keeps memory bounded.)
    pub fn leases4_by_subnet(&self, subnet_id: u32) -> Result<Vec<StoredLease4>, Error> {
        self.query(|| ffi::leases4_by_subnet(subnet_id))
    }

    /// Up to `size` leases (1 or more) with addresses above `after`, in
    /// address order: Kea's paged query (`0.0.0.0` to start).
    pub fn page4(&self, after: Ipv4Addr, size: u32) -> Result<Vec<StoredLease4>, Error> {
        if size == 0 {
            return Err(Error::new(ErrorKind::Invalid, "a page of 0 leases"));
        }
        self.query(|| ffi::leases4_page(u32::from(after), size))
    }

    /// All leases, `size` at a time, in address order: each item is one
    /// page (an `Err` ends the iteration).
    pub fn pages4(&self, size: u32) -> Pages4<impl FnMut(Ipv4Addr, u32) -> Result<Vec<StoredLease4>, Error> + '_> {
        Pages4::new(size, move |after, n| self.page4(after, n))
    }
}
