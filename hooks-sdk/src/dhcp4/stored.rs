//! DHCPv4 leases as the lease database holds them, copied out (see
//! [`LeaseDb`](crate::kea::LeaseDb)), and paging through all of them.

use std::net::Ipv4Addr;

use super::LeaseState;
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, LeaseRow4};
use crate::hwaddr::HwAddr;
use crate::kea::LeaseDb;

/// All leases, `size` at a time, in address order, from Kea's paged query
/// however it is reached: [`LeaseDb::pages4`](crate::kea::LeaseDb::pages4), or `fetch(after, size)`
/// given to `Pages4::new`, for example a page at a time through the main
/// thread from a hook's own thread:
///
/// ```no_run
/// use kea_hooks::dhcp4::Pages4;
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
/// the last one; an `Err` ends the iteration. (The family-neutral
/// [`Pages`](crate::lease::Pages) for DHCPv4 leases.)
pub type Pages4<F> = crate::lease::Pages<StoredLease4, F>;

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

pub(crate) fn rows(rows: Vec<LeaseRow4>) -> Vec<StoredLease4> {
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

/// How many DHCPv4 leases of a subnet are in a state: one row of Kea's
/// lease statistics query ([`LeaseDb::lease_counts4`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseCount4 {
    /// The subnet.
    pub subnet_id: u32,
    /// The state.
    pub state: LeaseState,
    /// How many leases of the subnet are in it.
    pub count: i64,
}

/// `(first, last)` for the shim: `(0, 0)` for every subnet.
pub(crate) fn subnet_range(subnets: Option<std::ops::RangeInclusive<u32>>) -> Result<(u32, u32), Error> {
    match subnets {
        None => Ok((0, 0)),
        Some(r) if *r.start() == 0 || r.start() > r.end() => {
            Err(Error::new(ErrorKind::Invalid, format!("subnet range {}..={}: ids start at 1, first <= last", r.start(), r.end())))
        }
        Some(r) => Ok((*r.start(), *r.end())),
    }
}

/// DHCPv4's lease queries (see [`crate::kea`] for where a [`LeaseDb`] may
/// be used).
impl LeaseDb<'_> {
    /// How many leases each subnet has in each state (states without
    /// leases may be left out), for every subnet or those in `subnets`:
    /// Kea's lease statistics query, what stat_cmds answers from. On the
    /// SQL backends it reads the statistics table the database keeps up
    /// to date (cheap, and it includes leases other servers sharing the
    /// database wrote); on memfile it walks the leases. (Before Kea 2.4,
    /// on memfile, only on Kea's main thread: `ErrorKind::WrongThread`
    /// from a hook's own thread.) [`LeaseDb::backend`] tells which.
    pub fn lease_counts4(&self, subnets: Option<std::ops::RangeInclusive<u32>>) -> Result<Vec<LeaseCount4>, Error> {
        let (first, last) = subnet_range(subnets)?;
        self.check_stats_query()?;
        let rows = self.query(|| ffi::lease_stats_query(false, first, last))?;
        Ok(rows.into_iter().map(|r| LeaseCount4 { subnet_id: r.subnet_id, state: LeaseState(r.state), count: r.count }).collect())
    }

    /// The lease of `address`, if any.
    pub fn lease4(&self, address: Ipv4Addr) -> Result<Option<StoredLease4>, Error> {
        Ok(rows(self.query(|| ffi::leases4_by_address(u32::from(address)))?).pop())
    }

    /// The leases of hardware address `hwaddr` (one per subnet at most).
    pub fn leases4_by_hwaddr(&self, hwaddr: HwAddr<'_>) -> Result<Vec<StoredLease4>, Error> {
        self.query(|| ffi::leases4_by_hwaddr(hwaddr.as_bytes(), hwaddr.htype())).map(rows)
    }

    /// The leases of client identifier `client_id` (option 61's bytes).
    pub fn leases4_by_client_id(&self, client_id: &[u8]) -> Result<Vec<StoredLease4>, Error> {
        if client_id.is_empty() {
            return Err(Error::new(ErrorKind::Invalid, "an empty client identifier"));
        }
        self.query(|| ffi::leases4_by_client_id(client_id)).map(rows)
    }

    /// Every lease of subnet `subnet_id`, in every state. (At once: for a
    /// large subnet, [`pages4`](Self::pages4) keeps memory bounded.)
    pub fn leases4_by_subnet(&self, subnet_id: u32) -> Result<Vec<StoredLease4>, Error> {
        self.query(|| ffi::leases4_by_subnet(subnet_id)).map(rows)
    }

    /// Up to `size` leases (1 or more) with addresses above `after`, in
    /// address order: Kea's paged query (`0.0.0.0` to start).
    pub fn page4(&self, after: Ipv4Addr, size: u32) -> Result<Vec<StoredLease4>, Error> {
        if size == 0 {
            return Err(Error::new(ErrorKind::Invalid, "a page of 0 leases"));
        }
        self.query(|| ffi::leases4_page(u32::from(after), size)).map(rows)
    }

    /// All leases, `size` at a time, in address order: each item is one
    /// page (an `Err` ends the iteration).
    pub fn pages4(&self, size: u32) -> Pages4<impl FnMut(Ipv4Addr, u32) -> Result<Vec<StoredLease4>, Error> + '_> {
        Pages4::new(size, move |after, n| self.page4(after, n))
    }
}
