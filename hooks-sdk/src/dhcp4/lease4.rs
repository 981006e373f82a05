//! DHCPv4 leases, read-only.

use std::fmt;
use std::net::Ipv4Addr;

use crate::ffi;
use crate::hwaddr::HwAddr;
pub use crate::lease::LeaseState;

/// A DHCPv4 lease, borrowed for the callout.
#[derive(Clone, Copy)]
pub struct Lease4<'a> {
    lease: &'a ffi::Lease4,
}

impl<'a> Lease4<'a> {
    #[inline]
    pub(crate) fn new(lease: &'a ffi::Lease4) -> Self {
        Lease4 { lease }
    }

    /// The Kea object, for the SDK's own writes.
    #[inline]
    pub(crate) fn raw(&self) -> &'a ffi::Lease4 {
        self.lease
    }

    /// The leased address.
    #[inline]
    pub fn address(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::lease4_addr(self.lease))
    }

    /// The client's hardware address, if the lease records one.
    #[inline]
    pub fn hwaddr(&self) -> Option<HwAddr<'a>> {
        ffi::lease4_has_hwaddr(self.lease).then(|| {
            HwAddr::new(
                ffi::lease4_htype(self.lease),
                ffi::lease4_hwaddr(self.lease),
            )
        })
    }

    /// The client identifier (option 61) bytes, if the client sent one.
    #[inline]
    pub fn client_id(&self) -> Option<&'a [u8]> {
        ffi::lease4_has_client_id(self.lease).then(|| ffi::lease4_client_id(self.lease))
    }

    /// The valid lifetime in seconds.
    #[inline]
    pub fn valid_lifetime(&self) -> u32 {
        ffi::lease4_valid_lft(self.lease)
    }

    /// Client last transmission time, seconds since the Unix epoch.
    #[inline]
    pub fn cltt(&self) -> i64 {
        ffi::lease4_cltt(self.lease)
    }

    /// The id of the subnet the lease belongs to.
    #[inline]
    pub fn subnet_id(&self) -> u32 {
        ffi::lease4_subnet_id(self.lease)
    }

    /// The hostname (empty when none), with invalid UTF-8 replaced. A
    /// copy: callouts may change the hostname (see
    /// [`LeaseWrites::set_hostname`](super::LeaseWrites::set_hostname)).
    pub fn hostname(&self) -> String {
        String::from_utf8_lossy(ffi::lease4_hostname(self.lease)).into_owned()
    }

    /// The hostname's raw bytes (a copy, as for [`hostname`](Self::hostname)).
    pub fn hostname_bytes(&self) -> Vec<u8> {
        ffi::lease4_hostname(self.lease).to_vec()
    }

    /// The lease state.
    #[inline]
    pub fn state(&self) -> LeaseState {
        LeaseState(ffi::lease4_state(self.lease))
    }

    /// Whether forward DNS is updated for the lease.
    #[inline]
    pub fn fqdn_fwd(&self) -> bool {
        ffi::lease4_fqdn_fwd(self.lease)
    }

    /// Whether reverse DNS is updated for the lease.
    #[inline]
    pub fn fqdn_rev(&self) -> bool {
        ffi::lease4_fqdn_rev(self.lease)
    }
}

impl fmt::Debug for Lease4<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease4")
            .field("address", &self.address())
            .field("hwaddr", &self.hwaddr())
            .field("subnet_id", &self.subnet_id())
            .field("valid_lifetime", &self.valid_lifetime())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// A collection of leases (`leases4`, `deleted_leases4`), borrowed for the
/// callout.
#[derive(Clone, Copy)]
pub struct Leases4<'a> {
    leases: Option<&'a ffi::Lease4Collection>,
}

impl<'a> Leases4<'a> {
    #[inline]
    pub(crate) fn new(leases: Option<&'a ffi::Lease4Collection>) -> Self {
        Leases4 { leases }
    }

    /// The number of leases.
    #[inline]
    pub fn len(&self) -> usize {
        self.leases.map_or(0, ffi::lease4_collection_len)
    }

    /// True when there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lease `index`.
    #[inline]
    pub fn get(&self, index: usize) -> Option<Lease4<'a>> {
        self.leases
            .and_then(|c| ffi::lease4_collection_at(c, index))
            .map(Lease4::new)
    }

    /// The leases in order.
    pub fn iter(&self) -> Leases4Iter<'a> {
        Leases4Iter {
            leases: *self,
            next: 0,
        }
    }
}

impl<'a> IntoIterator for Leases4<'a> {
    type Item = Lease4<'a>;
    type IntoIter = Leases4Iter<'a>;
    fn into_iter(self) -> Leases4Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Leases4<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Leases4`].
#[derive(Debug, Clone)]
pub struct Leases4Iter<'a> {
    leases: Leases4<'a>,
    next: usize,
}

impl<'a> Iterator for Leases4Iter<'a> {
    type Item = Lease4<'a>;
    fn next(&mut self) -> Option<Lease4<'a>> {
        let lease = self.leases.get(self.next)?;
        self.next += 1;
        Some(lease)
    }
}
