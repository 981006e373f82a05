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
//! What comes back is copied out ([`Subnet4Config`], [`StoredLease4`]), so
//! it can go anywhere.
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

use serde_json::Value;

use crate::dhcp4::LeaseState;
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

    /// The lease database.
    pub fn lease_db(&self) -> LeaseDb<'_> {
        LeaseDb { gated: false, _not_send: PhantomData }
    }
}

/// A subnet of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet4Config {
    /// Its `id`.
    pub id: u32,
    /// The network address.
    pub prefix: Ipv4Addr,
    /// The prefix length.
    pub prefix_len: u8,
    /// Its pools, in order.
    pub pools: Vec<Pool4Config>,
}

impl Subnet4Config {
    /// The number of addresses in its pools (what Kea's statistic
    /// `subnet[id].total-addresses` counts).
    pub fn total_addresses(&self) -> u64 {
        self.pools.iter().map(Pool4Config::size).sum()
    }

    /// Whether `address` lies in the subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        let mask = if self.prefix_len == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix_len.min(32))) };
        u32::from(address) & mask == u32::from(self.prefix) & mask
    }

    /// The pool holding `address`, if any.
    pub fn pool_of(&self, address: Ipv4Addr) -> Option<&Pool4Config> {
        self.pools.iter().find(|p| p.contains(address))
    }
}

/// An address pool: `first` to `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool4Config {
    /// The first address.
    pub first: Ipv4Addr,
    /// The last address.
    pub last: Ipv4Addr,
}

impl Pool4Config {
    /// The number of addresses.
    pub fn size(&self) -> u64 {
        u64::from(u32::from(self.last)).saturating_sub(u64::from(u32::from(self.first))) + 1
    }

    /// Whether `address` lies in the pool.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&address)
    }
}

fn bad_config(what: String) -> Error {
    Error::new(ErrorKind::Kea, format!("Kea's configuration: {what}"))
}

/// Parses Kea's `subnet4` list (its `toElement()` form).
fn parse_subnets4(text: &str) -> Result<Vec<Subnet4Config>, Error> {
    let list: Vec<Value> = serde_json::from_str(text).map_err(|e| bad_config(format!("subnet list: {e}")))?;
    list.iter().map(parse_subnet4).collect()
}

fn parse_subnet4(v: &Value) -> Result<Subnet4Config, Error> {
    let id = v["id"].as_u64().and_then(|i| u32::try_from(i).ok()).ok_or_else(|| bad_config(format!("a subnet without an id: {v}")))?;
    let text = v["subnet"].as_str().ok_or_else(|| bad_config(format!("subnet {id} has no prefix")))?;
    let (prefix, prefix_len) = parse_prefix(text).ok_or_else(|| bad_config(format!("subnet {id}: bad prefix {text:?}")))?;
    let pools = v["pools"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let t = p["pool"].as_str().unwrap_or_default();
                    parse_pool(t).ok_or_else(|| bad_config(format!("subnet {id}: bad pool {t:?}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(Subnet4Config { id, prefix, prefix_len, pools })
}

fn parse_prefix(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, l) = text.trim().split_once('/')?;
    let len: u8 = l.trim().parse().ok().filter(|l| *l <= 32)?;
    Some((a.trim().parse().ok()?, len))
}

/// `a.b.c.d - e.f.g.h` (spaces optional) or `a.b.c.d/len`.
fn parse_pool(text: &str) -> Option<Pool4Config> {
    if let Some((a, b)) = text.split_once('-') {
        let (first, last): (Ipv4Addr, Ipv4Addr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return (first <= last).then_some(Pool4Config { first, last });
    }
    let (prefix, len) = parse_prefix(text)?;
    let host_bits = 32 - u32::from(len);
    let first = u32::from(prefix) & if len == 0 { 0 } else { u32::MAX << host_bits };
    let last = first | if host_bits == 32 { u32::MAX } else { (1u32 << host_bits) - 1 };
    Some(Pool4Config { first: Ipv4Addr::from(first), last: Ipv4Addr::from(last) })
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
    /// Runs one query of Kea's, through the gate when on a hook's thread.
    fn query(&self, q: impl FnOnce() -> Result<Vec<LeaseRow4>, cxx::Exception>) -> Result<Vec<StoredLease4>, Error> {
        let found = if self.gated {
            ffi::lease_gate::while_open(q).ok_or_else(|| {
                Error::new(ErrorKind::WrongThread, "Kea is reconfiguring or shutting down: its lease database is not available now")
            })?
        } else {
            q()
        };
        Ok(rows(found?))
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

/// All leases, `size` at a time, in address order, from Kea's paged query
/// however it is reached: [`LeaseDb::pages4`], or `fetch(after, size)`
/// given to [`Pages4::new`], for example a page at a time through the main
/// thread from a hook's own thread:
///
/// ```no_run
/// use kea_hooks::kea::Pages4;
/// use kea_hooks::threads::main_thread;
/// let pages = Pages4::new(100, |after, n| {
///     main_thread::call_with_kea(move |kea| kea.lease_db().page4(after, n))?
/// });
/// for page in pages {
///     let _leases = page?;
/// }
/// # Ok::<(), kea_hooks::Error>(())
/// ```
///
/// A page shorter than `size` (or empty, or ending at 255.255.255.255) is
/// the last one; an `Err` ends the iteration.
pub struct Pages4<F> {
    fetch: F,
    /// Where the next page starts; `None` when done.
    after: Option<Ipv4Addr>,
    size: u32,
}

impl<F> Pages4<F>
where
    F: FnMut(Ipv4Addr, u32) -> Result<Vec<StoredLease4>, Error>,
{
    /// Pages of `size` leases, each fetched with `fetch(after, size)`
    /// (Kea's paged query: the leases above `after`, in address order).
    pub fn new(size: u32, fetch: F) -> Self {
        Pages4 { fetch, after: Some(Ipv4Addr::UNSPECIFIED), size }
    }
}

impl<F> std::fmt::Debug for Pages4<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages4").field("after", &self.after).field("size", &self.size).finish_non_exhaustive()
    }
}

impl<F> Iterator for Pages4<F>
where
    F: FnMut(Ipv4Addr, u32) -> Result<Vec<StoredLease4>, Error>,
{
    type Item = Result<Vec<StoredLease4>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let after = self.after?;
        match (self.fetch)(after, self.size) {
            Ok(page) if page.is_empty() => {
                self.after = None;
                None
            }
            Ok(page) => {
                let last = page.last().map(|l| l.address);
                // A short page is the last one; so is one ending at the top.
                self.after = last.filter(|a| page.len() as u32 == self.size && *a != Ipv4Addr::BROADCAST);
                Some(Ok(page))
            }
            Err(e) => {
                self.after = None;
                Some(Err(e))
            }
        }
    }
}

/// A lease as the lease database holds it (a copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLease4 {
    /// The leased address.
    pub address: Ipv4Addr,
    /// The client's hardware type and address, if recorded.
    pub hwaddr: Option<(u16, Vec<u8>)>,
    /// The client identifier, if recorded.
    pub client_id: Option<Vec<u8>>,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Client last transmission time, seconds since the epoch.
    pub cltt: i64,
    /// The subnet's id.
    pub subnet_id: u32,
    /// The host name, as Kea stored it (lossily decoded if not UTF-8).
    pub hostname: String,
    /// The state.
    pub state: LeaseState,
    /// Whether forward and reverse DNS were updated.
    pub fqdn: (bool, bool),
}

impl StoredLease4 {
    /// When the lease expires, seconds since the epoch.
    pub fn expires(&self) -> i64 {
        self.cltt + i64::from(self.valid_lifetime)
    }

    /// The hardware address, if recorded.
    pub fn hwaddr(&self) -> Option<HwAddr<'_>> {
        self.hwaddr.as_ref().map(|(t, b)| HwAddr::new(*t, b))
    }
}

fn rows(rows: Vec<LeaseRow4>) -> Vec<StoredLease4> {
    rows.into_iter()
        .map(|r| StoredLease4 {
            address: Ipv4Addr::from(r.address),
            hwaddr: r.has_hwaddr.then_some((r.htype, r.hwaddr)),
            client_id: r.has_client_id.then_some(r.client_id),
            valid_lifetime: r.valid_lft,
            cltt: r.cltt,
            subnet_id: r.subnet_id,
            hostname: String::from_utf8_lossy(&r.hostname).into_owned(),
            state: LeaseState(r.state),
            fqdn: (r.fqdn_fwd, r.fqdn_rev),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_pools_parse_in_both_forms() {
        let s = parse_subnets4(
            r#"[{"id": 7, "subnet": "198.18.0.0/24", "pools": [{"pool": "198.18.0.10-198.18.0.20"},
                {"pool": "198.18.0.128/25"}, {"pool": "198.18.0.30 - 198.18.0.30"}]},
                {"id": 8, "subnet": "198.19.0.0/16"}]"#,
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].id, s[0].prefix_len), (7, 24));
        assert_eq!(s[0].pools.iter().map(Pool4Config::size).collect::<Vec<_>>(), [11, 128, 1]);
        assert_eq!(s[0].total_addresses(), 140);
        assert!(s[0].contains("198.18.0.200".parse().unwrap()));
        assert!(!s[0].contains("198.18.1.1".parse().unwrap()));
        assert_eq!(s[0].pool_of("198.18.0.200".parse().unwrap()).unwrap().first, "198.18.0.128".parse::<Ipv4Addr>().unwrap());
        assert!(s[1].pools.is_empty());
        assert!(parse_subnets4(r#"[{"subnet": "198.18.0.0/24"}]"#).is_err());
        assert!(parse_pool("198.18.0.20-198.18.0.10").is_none());
        assert_eq!(parse_pool("0.0.0.0/0").unwrap().size(), 1 << 32);
    }
}
