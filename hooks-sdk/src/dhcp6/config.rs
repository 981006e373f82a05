//! DHCPv6 subnets and pools as Kea's configuration holds them, copied out
//! (see [`KeaAccess::subnets6`](crate::kea::KeaAccess::subnets6)).

use std::net::Ipv6Addr;

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::ffi;
use crate::kea::KeaAccess;

impl KeaAccess<'_> {
    /// The DHCPv6 subnets of the configuration (shared networks' included),
    /// in its order: in `load` and `dhcp6_srv_configured`, those of the
    /// configuration being applied; elsewhere the running one's. Empty in
    /// kea-dhcp4.
    pub fn subnets6(&self) -> Result<Vec<Subnet6Config>, Error> {
        let text = ffi::config_subnets6_json(self.staging())?;
        parse_subnets6(&text)
    }

    /// The same subnets as Kea writes them (`config-get`'s `subnet6`
    /// entries, shared networks' subnets included): every parameter,
    /// for what [`Subnet6Config`] does not carry (pool texts as Kea
    /// prints them, `pool-id`s, user contexts).
    pub fn subnets6_json(&self) -> Result<Value, Error> {
        let text = ffi::config_subnets6_json(self.staging())?;
        serde_json::from_str(&text).map_err(|e| bad_config(format!("subnet list: {e}")))
    }

    /// The shared networks of the same configuration as Kea writes them
    /// (`config-get`'s `shared-networks`, each with its `name` and its
    /// `subnet6` list).
    pub fn shared_networks6_json(&self) -> Result<Value, Error> {
        let text = ffi::config_shared_networks6_json(self.staging())?;
        serde_json::from_str(&text).map_err(|e| bad_config(format!("shared network list: {e}")))
    }
}

/// A DHCPv6 subnet of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet6Config {
    /// Its `id`.
    pub id: u32,
    /// The network prefix.
    pub prefix: Ipv6Addr,
    /// The prefix length.
    pub prefix_len: u8,
    /// Its address pools (`pools`), in order.
    pub pools: Vec<Pool6Config>,
    /// Its prefix-delegation pools (`pd-pools`), in order.
    pub pd_pools: Vec<PdPool6Config>,
}

impl Subnet6Config {
    /// The number of addresses in its pools (Kea's `total-nas`: a /64 pool
    /// has 2^64, so this is a `u128`).
    pub fn total_nas(&self) -> u128 {
        self.pools.iter().map(Pool6Config::size).fold(0, u128::saturating_add)
    }

    /// The number of prefixes its PD pools delegate (Kea's `total-pds`).
    pub fn total_pds(&self) -> u128 {
        self.pd_pools.iter().map(PdPool6Config::size).fold(0, u128::saturating_add)
    }

    /// Whether `address` lies in the subnet.
    pub fn contains(&self, address: Ipv6Addr) -> bool {
        within(address, self.prefix, self.prefix_len)
    }

    /// The address pool holding `address`, if any.
    pub fn pool_of(&self, address: Ipv6Addr) -> Option<&Pool6Config> {
        self.pools.iter().find(|p| p.contains(address))
    }

    /// The PD pool a delegated prefix comes from, if any.
    pub fn pd_pool_of(&self, prefix: Ipv6Addr) -> Option<&PdPool6Config> {
        self.pd_pools.iter().find(|p| p.contains(prefix))
    }
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

fn within(address: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> bool {
    u128::from(address) & mask(len) == u128::from(prefix) & mask(len)
}

/// An address pool: `first` to `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool6Config {
    /// The first address.
    pub first: Ipv6Addr,
    /// The last address.
    pub last: Ipv6Addr,
    /// Its `pool-id` (Kea 2.6+), 0 when it has none.
    pub id: u64,
}

impl Pool6Config {
    /// The number of addresses.
    pub fn size(&self) -> u128 {
        u128::from(self.last).saturating_sub(u128::from(self.first)).saturating_add(1)
    }

    /// Whether `address` lies in the pool.
    pub fn contains(&self, address: Ipv6Addr) -> bool {
        (self.first..=self.last).contains(&address)
    }
}

/// A prefix-delegation pool: prefixes of `delegated_len` bits carved from
/// `prefix/prefix_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdPool6Config {
    /// The pool's prefix.
    pub prefix: Ipv6Addr,
    /// The pool's prefix length.
    pub prefix_len: u8,
    /// The length of the prefixes it delegates.
    pub delegated_len: u8,
    /// Its `pool-id` (Kea 2.6+), 0 when it has none.
    pub id: u64,
}

impl PdPool6Config {
    /// The number of prefixes it delegates (2^(delegated_len - prefix_len)).
    pub fn size(&self) -> u128 {
        let bits = u32::from(self.delegated_len.saturating_sub(self.prefix_len));
        if bits >= 128 {
            u128::MAX
        } else {
            1u128 << bits
        }
    }

    /// Whether delegated prefix `prefix` comes from the pool.
    pub fn contains(&self, prefix: Ipv6Addr) -> bool {
        within(prefix, self.prefix, self.prefix_len)
    }
}

fn bad_config(what: String) -> Error {
    Error::new(ErrorKind::Kea, format!("Kea's configuration: {what}"))
}

/// Parses Kea's `subnet6` list (its `toElement()` form).
pub(crate) fn parse_subnets6(text: &str) -> Result<Vec<Subnet6Config>, Error> {
    let list: Vec<Value> = serde_json::from_str(text).map_err(|e| bad_config(format!("subnet list: {e}")))?;
    list.iter().map(parse_subnet6).collect()
}

fn parse_subnet6(v: &Value) -> Result<Subnet6Config, Error> {
    let id = v["id"].as_u64().and_then(|i| u32::try_from(i).ok()).ok_or_else(|| bad_config(format!("a subnet without an id: {v}")))?;
    let text = v["subnet"].as_str().ok_or_else(|| bad_config(format!("subnet {id} has no prefix")))?;
    let (prefix, prefix_len) = parse_prefix(text).ok_or_else(|| bad_config(format!("subnet {id}: bad prefix {text:?}")))?;
    let list = |key: &str| v[key].as_array().cloned().unwrap_or_default();
    let pools = list("pools")
        .iter()
        .map(|p| {
            let t = p["pool"].as_str().unwrap_or_default();
            let (first, last) = parse_pool(t).ok_or_else(|| bad_config(format!("subnet {id}: bad pool {t:?}")))?;
            Ok(Pool6Config { first, last, id: p["pool-id"].as_u64().unwrap_or(0) })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let pd_pools = list("pd-pools")
        .iter()
        .map(|p| {
            let bad = || bad_config(format!("subnet {id}: bad pd-pool {p}"));
            let prefix: Ipv6Addr = p["prefix"].as_str().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
            let prefix_len = p["prefix-len"].as_u64().and_then(|l| u8::try_from(l).ok()).filter(|l| *l <= 128).ok_or_else(bad)?;
            let delegated_len =
                p["delegated-len"].as_u64().and_then(|l| u8::try_from(l).ok()).filter(|l| (prefix_len..=128).contains(l)).ok_or_else(bad)?;
            Ok(PdPool6Config { prefix, prefix_len, delegated_len, id: p["pool-id"].as_u64().unwrap_or(0) })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Subnet6Config { id, prefix, prefix_len, pools, pd_pools })
}

fn parse_prefix(text: &str) -> Option<(Ipv6Addr, u8)> {
    let (a, l) = text.trim().split_once('/')?;
    let len: u8 = l.trim().parse().ok().filter(|l| *l <= 128)?;
    Some((a.trim().parse().ok()?, len))
}

/// `a::b - c::d` (spaces optional) or `a::/len`.
fn parse_pool(text: &str) -> Option<(Ipv6Addr, Ipv6Addr)> {
    if let Some((a, b)) = text.split_once('-') {
        let (first, last): (Ipv6Addr, Ipv6Addr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return (first <= last).then_some((first, last));
    }
    let (prefix, len) = parse_prefix(text)?;
    let first = u128::from(prefix) & mask(len);
    Some((Ipv6Addr::from(first), Ipv6Addr::from(first | !mask(len))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_address_and_pd_pools_parse_and_count_as_kea_does() {
        let s = parse_subnets6(
            r#"[{"id": 7, "subnet": "2001:2::/48", "pools": [{"pool": "2001:2::100-2001:2::1ff", "pool-id": 3},
                {"pool": "2001:2:0:1::/64"}],
                "pd-pools": [{"prefix": "2001:2:0:100::", "prefix-len": 56, "delegated-len": 64}]}]"#,
        )
        .unwrap();
        assert_eq!(s[0].pools[0].size(), 256);
        assert_eq!(s[0].pools[0].id, 3);
        assert_eq!(s[0].pools[1].size(), 1u128 << 64);
        assert_eq!(s[0].total_nas(), (1u128 << 64) + 256);
        assert_eq!(s[0].total_pds(), 256);
        assert!(s[0].contains("2001:2:0:ffff::1".parse().unwrap()));
        assert!(s[0].pd_pool_of("2001:2:0:1ff::".parse().unwrap()).is_some());
        assert!(s[0].pd_pool_of("2001:2:0:200::".parse().unwrap()).is_none());
        assert!(parse_subnets6(r#"[{"id": 1, "subnet": "2001:2::/64", "pd-pools": [{"prefix": "2001:2::", "prefix-len": 64, "delegated-len": 60}]}]"#).is_err());
    }
}
