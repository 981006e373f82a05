//! A DHCPv4 subnet, read-only.

use std::fmt;
use std::net::Ipv4Addr;

use crate::ffi;

/// A DHCPv4 subnet from Kea's configuration, borrowed for the callout.
#[derive(Clone, Copy)]
pub struct Subnet4<'a> {
    subnet: &'a ffi::Subnet4,
}

impl<'a> Subnet4<'a> {
    #[inline]
    pub(crate) fn new(subnet: &'a ffi::Subnet4) -> Self {
        Subnet4 { subnet }
    }

    /// The subnet id (`id` in the configuration).
    #[inline]
    pub fn id(&self) -> u32 {
        ffi::subnet4_id(self.subnet)
    }

    /// The network address.
    #[inline]
    pub fn prefix(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::subnet4_prefix(self.subnet))
    }

    /// The prefix length.
    #[inline]
    pub fn prefix_len(&self) -> u8 {
        ffi::subnet4_prefix_len(self.subnet)
    }
}

/// `a.b.c.d/len`, as in Kea's configuration.
impl fmt::Display for Subnet4<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix(), self.prefix_len())
    }
}

impl fmt::Debug for Subnet4<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subnet4({}, {self})", self.id())
    }
}
