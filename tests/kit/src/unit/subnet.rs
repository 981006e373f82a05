//! Subnets a call passes and reads back (converted to and from the
//! bridge's struct, which Kea's `Subnet4::create`/`Subnet6::create` and
//! `Pool4`/`Pool6` in cpp/unit.cc turn into Kea's objects).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::ffi::bridge;

/// `"a.b.c.d/len"` (or an IPv6 prefix) split, panicking with `what` on bad text.
fn split_prefix<A: std::str::FromStr>(text: &str, what: &str, max_len: u8) -> (A, u8) {
    let parsed = text.split_once('/').and_then(|(a, l)| Some((a.parse::<A>().ok()?, l.parse::<u8>().ok()?)));
    match parsed {
        Some((a, l)) if l <= max_len => (a, l),
        _ => panic!("kea_hooks_test::unit::{what}::new: {text:?} is not a prefix like {}", if max_len == 32 { "\"198.18.0.0/24\"" } else { "\"2001:2::/64\"" }),
    }
}

fn lifetime(seconds: Option<u32>) -> u32 {
    seconds.unwrap_or(0)
}

fn specified(seconds: u32) -> Option<u32> {
    (seconds != 0).then_some(seconds)
}

/// A DHCPv4 subnet, given to a call (built by Kea's `Subnet4::create`,
/// its pools by `Pool4`) and read back after it. It is not part of any
/// configuration: Kea's `CfgMgr` in a unit test stays empty, so a hook
/// that looks subnets up by id there does not find it.
///
/// ```
/// use kea_hooks_test::unit::Subnet4;
/// let subnet = Subnet4::new("198.18.0.0/24", 7).with_valid_lifetime(600).with_pool("198.18.0.10".parse().unwrap(), "198.18.0.99".parse().unwrap());
/// assert_eq!((subnet.prefix, subnet.prefix_len), ("198.18.0.0".parse().unwrap(), 24));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet4 {
    /// The subnet id (`getID()`).
    pub id: u32,
    /// The prefix's address.
    pub prefix: Ipv4Addr,
    /// The prefix length.
    pub prefix_len: u8,
    /// The subnet's own valid lifetime, seconds (`None`: unspecified, what
    /// a server would inherit from the global level; the kit has none).
    pub valid_lifetime: Option<u32>,
    /// Address pools, first and last address (both in the subnet).
    pub pools: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl Subnet4 {
    /// Subnet `prefix` (`"198.18.0.0/24"`) with id `id`, no lifetime of its
    /// own, no pools. Panics when `prefix` is not `address/length`.
    pub fn new(prefix: &str, id: u32) -> Subnet4 {
        let (prefix, prefix_len) = split_prefix(prefix, "Subnet4", 32);
        Subnet4 { id, prefix, prefix_len, valid_lifetime: None, pools: Vec::new() }
    }

    /// With valid lifetime `seconds` (0 reads as unspecified).
    pub fn with_valid_lifetime(mut self, seconds: u32) -> Subnet4 {
        self.valid_lifetime = Some(seconds);
        self
    }

    /// With a pool from `first` to `last` (Kea refuses one outside the
    /// subnet: the call's `run` then fails with its message).
    pub fn with_pool(mut self, first: Ipv4Addr, last: Ipv4Addr) -> Subnet4 {
        self.pools.push((first, last));
        self
    }

    pub(super) fn to_ffi(subnet: Option<&Subnet4>) -> bridge::SubnetData {
        match subnet {
            None => absent(),
            Some(s) => bridge::SubnetData {
                present: true,
                id: s.id,
                prefix: s.prefix.to_string(),
                prefix_len: s.prefix_len,
                valid_lifetime: lifetime(s.valid_lifetime),
                preferred_lifetime: 0,
                pools: s.pools.iter().map(|(f, l)| bridge::PoolData { first: f.to_string(), last: l.to_string() }).collect(),
            },
        }
    }

    pub(super) fn from_ffi(d: bridge::SubnetData) -> Option<Subnet4> {
        d.present.then(|| Subnet4 {
            id: d.id,
            prefix: parse(&d.prefix),
            prefix_len: d.prefix_len,
            valid_lifetime: specified(d.valid_lifetime),
            pools: d.pools.iter().map(|p| (parse(&p.first), parse(&p.last))).collect(),
        })
    }
}

/// A DHCPv6 subnet, given to a call (built by Kea's `Subnet6::create`,
/// its pools by `Pool6` of type NA) and read back after it. Like
/// [`Subnet4`], it is in no configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet6 {
    /// The subnet id (`getID()`).
    pub id: u32,
    /// The prefix's address.
    pub prefix: Ipv6Addr,
    /// The prefix length.
    pub prefix_len: u8,
    /// The subnet's own preferred lifetime, seconds (`None`: unspecified).
    pub preferred_lifetime: Option<u32>,
    /// The subnet's own valid lifetime, seconds (`None`: unspecified).
    pub valid_lifetime: Option<u32>,
    /// Address (IA_NA) pools, first and last address.
    pub pools: Vec<(Ipv6Addr, Ipv6Addr)>,
}

impl Subnet6 {
    /// Subnet `prefix` (`"2001:2::/64"`) with id `id`, no lifetimes of its
    /// own, no pools. Panics when `prefix` is not `address/length`.
    pub fn new(prefix: &str, id: u32) -> Subnet6 {
        let (prefix, prefix_len) = split_prefix(prefix, "Subnet6", 128);
        Subnet6 { id, prefix, prefix_len, preferred_lifetime: None, valid_lifetime: None, pools: Vec::new() }
    }

    /// With preferred lifetime `preferred` and valid lifetime `valid`,
    /// seconds (0 reads as unspecified).
    pub fn with_lifetimes(mut self, preferred: u32, valid: u32) -> Subnet6 {
        self.preferred_lifetime = Some(preferred);
        self.valid_lifetime = Some(valid);
        self
    }

    /// With an address pool from `first` to `last` (see [`Subnet4::with_pool`]).
    pub fn with_pool(mut self, first: Ipv6Addr, last: Ipv6Addr) -> Subnet6 {
        self.pools.push((first, last));
        self
    }

    pub(super) fn to_ffi(subnet: Option<&Subnet6>) -> bridge::SubnetData {
        match subnet {
            None => absent(),
            Some(s) => bridge::SubnetData {
                present: true,
                id: s.id,
                prefix: s.prefix.to_string(),
                prefix_len: s.prefix_len,
                valid_lifetime: lifetime(s.valid_lifetime),
                preferred_lifetime: lifetime(s.preferred_lifetime),
                pools: s.pools.iter().map(|(f, l)| bridge::PoolData { first: f.to_string(), last: l.to_string() }).collect(),
            },
        }
    }

    pub(super) fn from_ffi(d: bridge::SubnetData) -> Option<Subnet6> {
        d.present.then(|| Subnet6 {
            id: d.id,
            prefix: parse(&d.prefix),
            prefix_len: d.prefix_len,
            preferred_lifetime: specified(d.preferred_lifetime),
            valid_lifetime: specified(d.valid_lifetime),
            pools: d.pools.iter().map(|p| (parse(&p.first), parse(&p.last))).collect(),
        })
    }
}

fn absent() -> bridge::SubnetData {
    bridge::SubnetData {
        present: false,
        id: 0,
        prefix: String::new(),
        prefix_len: 0,
        valid_lifetime: 0,
        preferred_lifetime: 0,
        pools: Vec::new(),
    }
}

fn parse<A: std::str::FromStr>(text: &str) -> A
where
    A::Err: std::fmt::Display,
{
    text.parse().unwrap_or_else(|e| panic!("Kea's subnet address {text:?}: {e}"))
}
