//! A DHCPv6 subnet and its pools, read-only.

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::Error;
use crate::ffi;

use super::LeaseType;

/// A DHCPv6 subnet from Kea's configuration, borrowed for the callout.
#[derive(Clone, Copy)]
pub struct Subnet6<'a> {
    subnet: &'a ffi::Subnet6,
}

impl<'a> Subnet6<'a> {
    #[inline]
    pub(crate) fn new(subnet: &'a ffi::Subnet6) -> Self {
        Subnet6 { subnet }
    }

    /// The subnet id (`id` in the configuration).
    #[inline]
    pub fn id(&self) -> u32 {
        ffi::subnet6_id(self.subnet)
    }

    /// The network prefix.
    #[inline]
    pub fn prefix(&self) -> Ipv6Addr {
        ffi::subnet6_prefix(self.subnet).into()
    }

    /// The prefix length.
    #[inline]
    pub fn prefix_len(&self) -> u8 {
        ffi::subnet6_prefix_len(self.subnet)
    }

    /// The subnet's pools: address pools (`pools`) and prefix-delegation
    /// pools (`pd-pools`), in that order.
    pub fn pools(&self) -> Result<Vec<Pool6>, Error> {
        Ok(ffi::subnet6_pools(self.subnet)?
            .into_iter()
            .map(|r| Pool6 {
                lease_type: LeaseType::from_raw(r.lease_type),
                first: r.first.into(),
                last: r.last.into(),
                delegated_len: r.delegated_len,
                id: r.id,
            })
            .collect())
    }
}

/// `prefix/len`, as in Kea's configuration.
impl fmt::Display for Subnet6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix(), self.prefix_len())
    }
}

impl fmt::Debug for Subnet6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subnet6({}, {self})", self.id())
    }
}

/// A pool of a DHCPv6 subnet (a copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool6 {
    /// What it hands out: addresses (`Na`, `Ta`) or prefixes (`Pd`).
    pub lease_type: LeaseType,
    /// Its first address (for PD: the first delegated prefix).
    pub first: Ipv6Addr,
    /// Its last address (for PD: the last address of the last prefix).
    pub last: Ipv6Addr,
    /// The length of the prefixes a PD pool delegates (128 for an
    /// address pool).
    pub delegated_len: u8,
    /// Its `pool-id` (Kea 2.6+; 0 when it has none, and before 2.6).
    pub id: u64,
}

impl Pool6 {
    /// The pool's own prefix length, when it is a whole prefix (a PD pool
    /// always is; an address pool given as `first - last` may not be).
    pub fn prefix_len(&self) -> Option<u8> {
        let (first, last) = (u128::from(self.first), u128::from(self.last));
        let span = first ^ last;
        let len = span.leading_zeros() as u8;
        let host = if len == 128 { 0 } else { u128::MAX >> len };
        (span == host && first & host == 0).then_some(len)
    }

    /// How many addresses (or, for PD, delegated prefixes) it holds, as
    /// Kea counts them (`total-nas`, `total-pds`); a /64 has 2^64.
    pub fn capacity(&self) -> u128 {
        let count = u128::from(self.last).wrapping_sub(u128::from(self.first));
        match self.lease_type {
            LeaseType::Pd => {
                let shift = 128 - u32::from(self.delegated_len.min(128));
                (count >> shift).saturating_add(1)
            }
            _ => count.saturating_add(1),
        }
    }
}
