//! What both families' leases share.

use std::borrow::Cow;
use std::fmt;

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

    /// The name Kea and ISC run_script use: `default`, `declined`,
    /// `expired-reclaimed`, `released`, `registered`, or the number.
    pub fn name(self) -> Cow<'static, str> {
        match self.0 {
            0 => "default".into(),
            1 => "declined".into(),
            2 => "expired-reclaimed".into(),
            3 => "released".into(),
            4 => "registered".into(),
            n => n.to_string().into(),
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
