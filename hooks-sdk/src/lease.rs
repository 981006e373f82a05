//! What both families' leases share.

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;

/// A lease's state.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseState(pub u32);

impl LeaseState {
    /// Assigned (`default`).
    pub const DEFAULT: LeaseState = LeaseState(0);
    /// Declined by the client.
    pub const DECLINED: LeaseState = LeaseState(1);
    /// Expired and reclaimed.
    pub const EXPIRED_RECLAIMED: LeaseState = LeaseState(2);
    /// Released (Kea 3.0+).
    pub const RELEASED: LeaseState = LeaseState(3);
    /// Registered (Kea 3.0+, DHCPv6 address registration).
    pub const REGISTERED: LeaseState = LeaseState(4);

    /// The name Kea gives the state in this build's release (and ISC's
    /// run_script writes): `default`, `declined`, `expired-reclaimed`,
    /// from Kea 3.0 `released` and `registered`, else `unknown (<n>)`.
    pub fn name(self) -> Cow<'static, str> {
        self.name_at(crate::KEA_HOOKS_VERSION)
    }

    /// [`LeaseState::name`] as Kea `version` (a `KEA_HOOKS_VERSION`)
    /// names it.
    fn name_at(self, version: i32) -> Cow<'static, str> {
        match self.0 {
            0 => "default".into(),
            1 => "declined".into(),
            2 => "expired-reclaimed".into(),
            3 if version >= 30000 => "released".into(),
            4 if version >= 30000 => "registered".into(),
            n => format!("unknown ({n})").into(),
        }
    }
}

impl fmt::Display for LeaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Debug for LeaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LeaseState({})", self.name())
    }
}


mod sealed {
    pub trait Sealed {}
}

/// A lease the lease database pages through by address
/// ([`StoredLease4`](crate::dhcp4::StoredLease4),
/// [`StoredLease6`](crate::dhcp6::StoredLease6)).
pub trait PagedLease: sealed::Sealed {
    /// The address type the pages are keyed by.
    type Address: Copy + PartialEq + fmt::Debug;
    /// Where the first page starts (`0.0.0.0`, `::`).
    const START: Self::Address;
    /// The highest address: a page ending there is the last one.
    const TOP: Self::Address;
    /// The lease's address, where the next page starts.
    fn page_key(&self) -> Self::Address;
}

impl sealed::Sealed for crate::dhcp4::StoredLease4 {}
impl PagedLease for crate::dhcp4::StoredLease4 {
    type Address = std::net::Ipv4Addr;
    const START: Self::Address = std::net::Ipv4Addr::UNSPECIFIED;
    const TOP: Self::Address = std::net::Ipv4Addr::BROADCAST;
    fn page_key(&self) -> Self::Address {
        self.address
    }
}

impl sealed::Sealed for crate::dhcp6::StoredLease6 {}
impl PagedLease for crate::dhcp6::StoredLease6 {
    type Address = std::net::Ipv6Addr;
    const START: Self::Address = std::net::Ipv6Addr::UNSPECIFIED;
    const TOP: Self::Address = std::net::Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff);
    fn page_key(&self) -> Self::Address {
        self.address
    }
}

/// All leases of a family, `size` at a time, in address order, from Kea's
/// paged query however it is reached: `fetch(after, size)` returns the
/// leases above `after` (see [`Pages4`](crate::dhcp4::Pages4) and
/// [`Pages6`](crate::dhcp6::Pages6), this type for each family). A page
/// shorter than `size` (or empty, or ending at the highest address) is the
/// last one; an `Err` ends the iteration.
pub struct Pages<L: PagedLease, F> {
    fetch: F,
    /// Where the next page starts; `None` when done.
    after: Option<L::Address>,
    size: u32,
}

impl<L: PagedLease, F> Pages<L, F>
where
    F: FnMut(L::Address, u32) -> Result<Vec<L>, Error>,
{
    /// Pages of `size` leases, each fetched with `fetch(after, size)`
    /// (Kea's paged query: the leases above `after`, in address order).
    pub fn new(size: u32, fetch: F) -> Self {
        Pages { fetch, after: Some(L::START), size }
    }
}

impl<L: PagedLease, F> fmt::Debug for Pages<L, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").field("after", &self.after).field("size", &self.size).finish_non_exhaustive()
    }
}

impl<L: PagedLease, F> Iterator for Pages<L, F>
where
    F: FnMut(L::Address, u32) -> Result<Vec<L>, Error>,
{
    type Item = Result<Vec<L>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let after = self.after?;
        match (self.fetch)(after, self.size) {
            Ok(page) if page.is_empty() => {
                self.after = None;
                None
            }
            Ok(page) => {
                let last = page.last().map(PagedLease::page_key);
                // A short page is the last one; so is one ending at the top.
                self.after = last.filter(|a| page.len() as u32 == self.size && *a != L::TOP);
                Some(Ok(page))
            }
            Err(e) => {
                self.after = None;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod state_tests {
    use super::LeaseState;

    #[test]
    fn state_names_follow_the_release() {
        assert_eq!(LeaseState::EXPIRED_RECLAIMED.name_at(20200), "expired-reclaimed");
        assert_eq!(LeaseState::RELEASED.name_at(20603), "unknown (3)");
        assert_eq!(LeaseState::RELEASED.name_at(30000), "released");
        assert_eq!(LeaseState::REGISTERED.name_at(30200), "registered");
        assert_eq!(LeaseState(9).name_at(30200), "unknown (9)");
    }
}
