//! DHCPv6 leases as the lease database holds them, copied out (see
//! [`LeaseDb`]), and paging through all of them.

use std::net::Ipv6Addr;

use super::{LeaseState, LeaseType};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, LeaseRow6};
use crate::hwaddr::HwAddr;
use crate::kea::LeaseDb;

/// How many DHCPv6 leases of a type of a subnet are in a state: one row
/// of Kea's lease statistics query ([`LeaseDb::lease_counts6`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseCount6 {
    /// The subnet.
    pub subnet_id: u32,
    /// Addresses (NA, TA) or delegated prefixes (PD).
    pub lease_type: LeaseType,
    /// The state.
    pub state: LeaseState,
    /// How many leases of the type of the subnet are in it.
    pub count: i64,
}

/// The DHCPv6 queries (empty answers in kea-dhcp4, whose lease database
/// holds no DHCPv6 leases).
impl LeaseDb<'_> {
    /// DHCPv6's [`lease_counts4`](LeaseDb::lease_counts4): how many leases
    /// of each type each subnet has in each state, from Kea's lease
    /// statistics query (on SQL backends the database's statistics table).
    pub fn lease_counts6(&self, subnets: Option<std::ops::RangeInclusive<u32>>) -> Result<Vec<LeaseCount6>, Error> {
        let (first, last) = crate::dhcp4::stored::subnet_range(subnets)?;
        self.check_stats_query()?;
        let rows = self.query(|| ffi::lease_stats_query(true, first, last))?;
        Ok(rows
            .into_iter()
            .map(|r| LeaseCount6 { subnet_id: r.subnet_id, lease_type: LeaseType::from_raw(r.lease_type), state: LeaseState(r.state), count: r.count })
            .collect())
    }

    fn query6(&self, q: impl FnOnce() -> Result<Vec<LeaseRow6>, cxx::Exception>) -> Result<Vec<StoredLease6>, Error> {
        Ok(rows6(self.query(q)?))
    }

    /// The lease of `address` (or delegated prefix) of type `kind`, if any.
    pub fn lease6(&self, kind: LeaseType, address: Ipv6Addr) -> Result<Option<StoredLease6>, Error> {
        Ok(self.query6(|| ffi::leases6_by_address(kind.raw(), &address.octets()))?.pop())
    }

    /// The leases of type `kind` of the client with DUID `duid` in its IA
    /// `iaid` (one per subnet at most, per address or prefix).
    pub fn leases6_by_duid_iaid(&self, kind: LeaseType, duid: &[u8], iaid: u32) -> Result<Vec<StoredLease6>, Error> {
        if duid.is_empty() {
            return Err(Error::new(ErrorKind::Invalid, "an empty DUID"));
        }
        self.query6(|| ffi::leases6_by_duid_iaid(kind.raw(), duid, iaid))
    }

    /// Every lease of the client with DUID `duid`.
    pub fn leases6_by_duid(&self, duid: &[u8]) -> Result<Vec<StoredLease6>, Error> {
        if duid.is_empty() {
            return Err(Error::new(ErrorKind::Invalid, "an empty DUID"));
        }
        self.query6(|| ffi::leases6_by_duid(duid))
    }

    /// Every lease of subnet `subnet_id`, in every state.
    pub fn leases6_by_subnet(&self, subnet_id: u32) -> Result<Vec<StoredLease6>, Error> {
        self.query6(|| ffi::leases6_by_subnet(subnet_id))
    }

    /// Up to `size` leases (1 or more) with addresses above `after`, in
    /// address order: Kea's paged query (`::` to start).
    pub fn page6(&self, after: Ipv6Addr, size: u32) -> Result<Vec<StoredLease6>, Error> {
        if size == 0 {
            return Err(Error::new(ErrorKind::Invalid, "a page of 0 leases"));
        }
        self.query6(|| ffi::leases6_page(&after.octets(), size))
    }

    /// All DHCPv6 leases, `size` at a time, in address order.
    pub fn pages6(&self, size: u32) -> Pages6<impl FnMut(Ipv6Addr, u32) -> Result<Vec<StoredLease6>, Error> + '_> {
        Pages6::new(size, move |after, n| self.page6(after, n))
    }
}

/// All DHCPv6 leases, `size` at a time, in address order, from Kea's paged
/// query however it is reached (as [`Pages4`](crate::dhcp4::Pages4): the
/// family-neutral [`Pages`](crate::lease::Pages) for DHCPv6 leases).
pub type Pages6<F> = crate::lease::Pages<StoredLease6, F>;

/// A DHCPv6 lease as the lease database holds it (a copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLease6 {
    /// Address (NA, TA) or delegated prefix (PD).
    pub lease_type: LeaseType,
    /// The address, or the delegated prefix.
    pub address: Ipv6Addr,
    /// 128 for an address; the delegated prefix's length.
    pub prefix_len: u8,
    /// The IAID of the client's IA.
    pub iaid: u32,
    /// The client's DUID.
    pub duid: Vec<u8>,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Client last transmission time, seconds since the epoch.
    pub cltt: i64,
    /// The subnet's id.
    pub subnet_id: u32,
    /// The pool's id (Kea 2.6+; 0 when none).
    pub pool_id: u32,
    /// The host name (lossily decoded if not UTF-8).
    pub hostname: String,
    /// The state.
    pub state: LeaseState,
    /// Whether forward and reverse DNS were updated.
    pub fqdn: (bool, bool),
    /// The client's hardware type and address, if recorded.
    pub hwaddr: Option<(u16, Vec<u8>)>,
}

impl StoredLease6 {
    /// When the lease expires, seconds since the epoch.
    pub fn expires(&self) -> i64 {
        self.cltt + i64::from(self.valid_lifetime)
    }

    /// The hardware address, if recorded.
    pub fn hwaddr(&self) -> Option<HwAddr<'_>> {
        self.hwaddr.as_ref().map(|(t, b)| HwAddr::new(*t, b))
    }
}

fn rows6(rows: Vec<LeaseRow6>) -> Vec<StoredLease6> {
    rows.into_iter()
        .map(|r| StoredLease6 {
            lease_type: LeaseType::from_raw(r.lease_type),
            address: r.address.into(),
            prefix_len: r.prefix_len,
            iaid: r.iaid,
            duid: r.duid,
            preferred_lifetime: r.preferred_lft,
            valid_lifetime: r.valid_lft,
            cltt: r.cltt,
            subnet_id: r.subnet_id,
            pool_id: r.pool_id,
            hostname: String::from_utf8_lossy(&r.hostname).into_owned(),
            state: LeaseState(r.state),
            fqdn: (r.fqdn_fwd, r.fqdn_rev),
            hwaddr: r.has_hwaddr.then_some((r.htype, r.hwaddr)),
        })
        .collect()
}
