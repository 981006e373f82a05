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
//! This module is the same for both families: each family's accessors are
//! defined beside its types, DHCPv4's in [`crate::dhcp4`]
//! ([`KeaAccess::subnets4`], [`LeaseDb::lease4`], ...). What comes back is
//! copied out ([`Subnet4Config`](crate::dhcp4::Subnet4Config),
//! [`StoredLease4`](crate::dhcp4::StoredLease4)), so it can go anywhere.
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

use crate::error::{Error, ErrorKind};
use crate::ffi;

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

    /// Whether "the configuration" is the one being applied (for each
    /// family's accessors, e.g. `subnets4` in `dhcp4/config.rs`).
    pub(crate) fn staging(&self) -> bool {
        self.staging
    }

    /// The hook libraries of the server's configuration, in its order, as
    /// the paths its `hooks-libraries` name (this hook's own among them).
    /// In `load` Kea may still be loading the later ones: ask from a
    /// callout, a command handler or
    /// [`main_thread`](crate::threads::main_thread) work for the whole list.
    pub fn hook_libraries(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::hook_library_names()?)
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

/// The kind of lease database Kea has open (see [`LeaseDb::backend`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseBackend {
    /// Kea's in-memory database with its CSV file (`"type": "memfile"`).
    Memfile,
    /// PostgreSQL (`"type": "postgresql"`).
    Postgresql,
    /// MySQL or MariaDB (`"type": "mysql"`).
    Mysql,
    /// Another backend, by the name Kea gives it.
    Other(String),
}

impl LeaseBackend {
    /// Whether it is an SQL database: one that other servers may share,
    /// and whose lease statistics ([`LeaseDb::lease_counts4`]) the
    /// database keeps itself, so reading them is cheap.
    pub fn is_sql(&self) -> bool {
        matches!(self, LeaseBackend::Postgresql | LeaseBackend::Mysql)
    }
}

impl LeaseDb<'_> {
    /// Which backend holds the leases (from Kea's lease manager: valid from
    /// `dhcp4_srv_configured`/`dhcp6_srv_configured` on, as every query).
    pub fn backend(&self) -> Result<LeaseBackend, Error> {
        let name = self.query(ffi::lease_backend_type)?;
        Ok(match name.as_str() {
            "memfile" => LeaseBackend::Memfile,
            "postgresql" => LeaseBackend::Postgresql,
            "mysql" => LeaseBackend::Mysql,
            _ => LeaseBackend::Other(name),
        })
    }

    /// Kea's lease statistics query may run here: before Kea 2.4 the
    /// memfile backend runs it without its lock (stat_cmds stops the
    /// packet threads around it), so from a hook's own thread it is
    /// refused there; hand it to the main thread.
    pub(crate) fn check_stats_query(&self) -> Result<(), Error> {
        if self.gated && crate::KEA_HOOKS_VERSION < 20400 && self.backend()? == LeaseBackend::Memfile {
            return Err(Error::new(
                ErrorKind::WrongThread,
                "before Kea 2.4 the memfile backend's lease statistics query may run only on Kea's main thread",
            ));
        }
        Ok(())
    }

    /// Runs one query of Kea's, through the gate when on a hook's thread
    /// (each family's queries, e.g. `lease4` in `dhcp4/stored.rs`, go
    /// through it).
    pub(crate) fn query<T>(&self, q: impl FnOnce() -> Result<T, cxx::Exception>) -> Result<T, Error> {
        let found = if self.gated {
            ffi::lease_gate::while_open(q).ok_or_else(|| {
                Error::new(ErrorKind::WrongThread, "Kea is reconfiguring or shutting down: its lease database is not available now")
            })?
        } else {
            q()
        };
        Ok(found?)
    }
}
