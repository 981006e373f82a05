//! DHCPv4 subnets and pools as Kea's configuration holds them, copied out
//! (see [`KeaAccess::subnets4`](crate::kea::KeaAccess::subnets4)).

use std::net::Ipv4Addr;

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::ffi;
use crate::kea::KeaAccess;

/// DHCPv4's configuration (see [`crate::kea`] for where a [`KeaAccess`]
/// may be used).
impl KeaAccess<'_> {
    /// The subnets of the configuration (shared networks' included), in
    /// its order: in `load` and `dhcp4_srv_configured`, those of the
    /// configuration being applied; elsewhere the running one's.
    pub fn subnets4(&self) -> Result<Vec<Subnet4Config>, Error> {
        let text = ffi::config_subnets4_json(self.staging())?;
        parse_subnets4(&text)
    }

    /// The same subnets as Kea writes them (`config-get`'s `subnet4`
    /// entries, shared networks' subnets included): every parameter,
    /// for what [`Subnet4Config`] does not carry (pool texts as Kea
    /// prints them, `pool-id`s, user contexts).
    pub fn subnets4_json(&self) -> Result<Value, Error> {
        let text = ffi::config_subnets4_json(self.staging())?;
        serde_json::from_str(&text).map_err(|e| bad_config(format!("subnet list: {e}")))
    }

    /// The shared networks of the same configuration as Kea writes them
    /// (`config-get`'s `shared-networks`, each with its `name` and its
    /// `subnet4` list).
    pub fn shared_networks4_json(&self) -> Result<Value, Error> {
        let text = ffi::config_shared_networks4_json(self.staging())?;
        serde_json::from_str(&text).map_err(|e| bad_config(format!("shared network list: {e}")))
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
pub(crate) fn parse_subnets4(text: &str) -> Result<Vec<Subnet4Config>, Error> {
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
