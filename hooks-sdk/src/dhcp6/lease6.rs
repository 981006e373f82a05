//! DHCPv6 leases: addresses (NA, TA) and delegated prefixes (PD).

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::{Error, ErrorKind};
use crate::ffi;
use crate::hwaddr::HwAddr;
pub use crate::lease::LeaseState;

/// What a DHCPv6 lease holds (Kea's `Lease::Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LeaseType {
    /// A non-temporary address (IA_NA).
    Na,
    /// A temporary address (IA_TA).
    Ta,
    /// A delegated prefix (IA_PD).
    Pd,
}

impl LeaseType {
    pub(crate) fn from_raw(raw: u8) -> LeaseType {
        match raw {
            1 => LeaseType::Ta,
            2 => LeaseType::Pd,
            _ => LeaseType::Na,
        }
    }

    pub(crate) fn raw(self) -> u8 {
        match self {
            LeaseType::Na => 0,
            LeaseType::Ta => 1,
            LeaseType::Pd => 2,
        }
    }

    /// The name ISC run_script uses: `IA_NA`, `IA_TA`, `IA_PD`.
    pub fn name(self) -> &'static str {
        match self {
            LeaseType::Na => "IA_NA",
            LeaseType::Ta => "IA_TA",
            LeaseType::Pd => "IA_PD",
        }
    }
}

impl fmt::Display for LeaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A DHCPv6 lease, borrowed for the callout.
#[derive(Clone, Copy)]
pub struct Lease6<'a> {
    lease: &'a ffi::Lease6,
}

impl<'a> Lease6<'a> {
    #[inline]
    pub(crate) fn new(lease: &'a ffi::Lease6) -> Self {
        Lease6 { lease }
    }

    /// The Kea object, for the SDK's own writes.
    #[inline]
    pub(crate) fn raw(&self) -> &'a ffi::Lease6 {
        self.lease
    }

    /// Address (NA, TA) or delegated prefix (PD).
    #[inline]
    pub fn lease_type(&self) -> LeaseType {
        LeaseType::from_raw(ffi::lease6_type(self.lease))
    }

    /// The leased address, or the delegated prefix.
    #[inline]
    pub fn address(&self) -> Ipv6Addr {
        ffi::lease6_addr(self.lease).into()
    }

    /// The prefix length: of the delegated prefix for PD, 128 for an
    /// address.
    #[inline]
    pub fn prefix_len(&self) -> u8 {
        ffi::lease6_prefix_len(self.lease)
    }

    /// The IAID of the client's IA the lease belongs to.
    #[inline]
    pub fn iaid(&self) -> u32 {
        ffi::lease6_iaid(self.lease)
    }

    /// The client's DUID (empty when the lease records none: a declined
    /// address's lease has Kea's placeholder DUID `00`).
    #[inline]
    pub fn duid(&self) -> &'a [u8] {
        ffi::lease6_duid(self.lease)
    }

    /// The preferred lifetime in seconds.
    #[inline]
    pub fn preferred_lifetime(&self) -> u32 {
        ffi::lease6_preferred_lft(self.lease)
    }

    /// The valid lifetime in seconds.
    #[inline]
    pub fn valid_lifetime(&self) -> u32 {
        ffi::lease6_valid_lft(self.lease)
    }

    /// Client last transmission time, seconds since the Unix epoch.
    #[inline]
    pub fn cltt(&self) -> i64 {
        ffi::lease6_cltt(self.lease)
    }

    /// The id of the subnet the lease belongs to.
    #[inline]
    pub fn subnet_id(&self) -> u32 {
        ffi::lease6_subnet_id(self.lease)
    }

    /// **Kea 2.6+.**
    /// The id of the pool the lease is from (`pool-id`, Kea 2.6+; 0 when
    /// the pool has none).
    #[cfg(kea_2_6)]
    #[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
    #[inline]
    pub fn pool_id(&self) -> u32 {
        ffi::lease6_pool_id(self.lease)
    }

    /// The hostname (empty when none), with invalid UTF-8 replaced. A
    /// copy: callouts may change it.
    pub fn hostname(&self) -> String {
        String::from_utf8_lossy(ffi::lease6_hostname(self.lease)).into_owned()
    }

    /// The lease state.
    #[inline]
    pub fn state(&self) -> LeaseState {
        LeaseState(ffi::lease6_state(self.lease))
    }

    /// Whether forward DNS is updated for the lease.
    #[inline]
    pub fn fqdn_fwd(&self) -> bool {
        ffi::lease6_fqdn_fwd(self.lease)
    }

    /// Whether reverse DNS is updated for the lease.
    #[inline]
    pub fn fqdn_rev(&self) -> bool {
        ffi::lease6_fqdn_rev(self.lease)
    }

    /// The client's hardware address, where Kea found one (from the
    /// client's link-local address, the DUID, or a relay option, as
    /// `mac-sources` says).
    #[inline]
    pub fn hwaddr(&self) -> Option<HwAddr<'a>> {
        let (mut htype, mut present) = (0, false);
        let bytes = ffi::lease6_hwaddr(self.lease, &mut htype, &mut present);
        present.then(|| HwAddr::new(htype, bytes))
    }

    /// The lease's user context (`null` when it has none).
    pub fn user_context(&self) -> Result<serde_json::Value, Error> {
        let text = ffi::lease6_user_context(self.lease)?;
        if text.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| Error::new(ErrorKind::Kea, format!("the lease's user context did not parse: {e}")))
    }
}

impl fmt::Debug for Lease6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease6")
            .field("type", &self.lease_type())
            .field("address", &format_args!("{}/{}", self.address(), self.prefix_len()))
            .field("iaid", &self.iaid())
            .field("subnet_id", &self.subnet_id())
            .field("valid_lifetime", &self.valid_lifetime())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// A collection of DHCPv6 leases (`leases6`, `deleted_leases6`), borrowed
/// for the callout.
#[derive(Clone, Copy)]
pub struct Leases6<'a> {
    leases: Option<&'a ffi::Lease6Collection>,
}

impl<'a> Leases6<'a> {
    #[inline]
    pub(crate) fn new(leases: Option<&'a ffi::Lease6Collection>) -> Self {
        Leases6 { leases }
    }

    /// The number of leases.
    #[inline]
    pub fn len(&self) -> usize {
        self.leases.map_or(0, ffi::lease6_collection_len)
    }

    /// True when there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lease `index`.
    #[inline]
    pub fn get(&self, index: usize) -> Option<Lease6<'a>> {
        self.leases.and_then(|c| ffi::lease6_collection_at(c, index)).map(Lease6::new)
    }

    /// The leases in order.
    pub fn iter(&self) -> Leases6Iter<'a> {
        Leases6Iter { leases: *self, next: 0 }
    }
}

impl<'a> IntoIterator for Leases6<'a> {
    type Item = Lease6<'a>;
    type IntoIter = Leases6Iter<'a>;
    fn into_iter(self) -> Leases6Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Leases6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Leases6`].
#[derive(Debug, Clone)]
pub struct Leases6Iter<'a> {
    leases: Leases6<'a>,
    next: usize,
}

impl<'a> Iterator for Leases6Iter<'a> {
    type Item = Lease6<'a>;
    fn next(&mut self) -> Option<Lease6<'a>> {
        let lease = self.leases.get(self.next)?;
        self.next += 1;
        Some(lease)
    }
}
