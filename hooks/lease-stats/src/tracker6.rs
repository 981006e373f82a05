//! The DHCPv6 counts: every address (IA_NA) and delegated prefix (IA_PD)
//! the lease database holds in a counted state, kept from kea-dhcp6's lease
//! events and reconciled with the database by recounts, as [`crate::tracker`]
//! does for DHCPv4 (the same rules: an event states what a lease now is,
//! not a delta; a recount never overwrites what an event touched after it
//! began, nor a `pending` one Kea reports before it writes the database;
//! one recount steps at a time, and one on Kea's main thread supersedes a
//! background one between two of its bounded steps).
//!
//! A DHCPv6 subnet is too large for a state word per address (a /64 pool
//! holds 2^64), so every lease lives in hash maps behind mutexes, 64
//! shards for addresses and 64 for delegated prefixes, keyed by the
//! address (two `u64`s: 40 bytes a bucket with its entry): an event locks
//! one shard for a hash-map update, then moves atomic counters.
//!
//! What counts, as stat_cmds' `stat-lease6-get` counts it (read in Kea's
//! memfile statistics query, 2.2 to 3.2): an IA_NA lease in state default
//! is an assigned address, in state declined a declined one; an IA_PD lease
//! in state default an assigned prefix. IA_TA leases are counted nowhere
//! (so not tracked), nor are leases in other states (expired-reclaimed,
//! released, registered). A declined IA_PD lease (only a command can write
//! one) counts as a declined prefix, which no column of stat_cmds shows.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv6Addr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

use kea_hooks::dhcp6::{LeaseType, StoredLease6, Subnet6Config};

use crate::recount::{Recountable, Recounts, Run, Sweep};
use crate::tracker::{lock, Background, Cause, Counters, Held, Recount};

/// What a tracked DHCPv6 lease holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An address (IA_NA).
    Na,
    /// A delegated prefix (IA_PD).
    Pd,
}

impl Kind {
    /// The kind Kea's lease type counts as; `None` for IA_TA (not counted).
    pub fn of(t: LeaseType) -> Option<Kind> {
        match t {
            LeaseType::Na => Some(Kind::Na),
            LeaseType::Pd => Some(Kind::Pd),
            _ => None,
        }
    }
}

/// An address pool of a subnet.
#[derive(Debug)]
pub struct Pool6 {
    /// First address.
    pub first: Ipv6Addr,
    /// Last address.
    pub last: Ipv6Addr,
    /// Its counters.
    pub counters: Counters,
}

impl Pool6 {
    /// How many addresses it holds (a /64 pool: 2^64).
    pub fn size(&self) -> u128 {
        (u128::from(self.last) - u128::from(self.first)).saturating_add(1)
    }

    /// As Kea writes a pool: `first-last`.
    pub fn text(&self) -> String {
        format!("{}-{}", self.first, self.last)
    }
}

/// A prefix-delegation pool of a subnet.
#[derive(Debug)]
pub struct PdPool6 {
    /// The pool's prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub prefix_len: u8,
    /// The length of the prefixes it delegates.
    pub delegated_len: u8,
    /// Its counters.
    pub counters: Counters,
}

impl PdPool6 {
    /// How many prefixes it delegates.
    pub fn size(&self) -> u128 {
        let bits = u32::from(self.delegated_len.saturating_sub(self.prefix_len));
        if bits >= 128 {
            u128::MAX
        } else {
            1 << bits
        }
    }

    /// `prefix/len delegated /len`.
    pub fn text(&self) -> String {
        format!("{}/{} delegated /{}", self.prefix, self.prefix_len, self.delegated_len)
    }

    fn contains(&self, prefix: u128) -> bool {
        let mask = if self.prefix_len == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix_len.min(128))) };
        prefix & mask == u128::from(self.prefix) & mask
    }
}

/// A DHCPv6 subnet of the configuration.
#[derive(Debug)]
pub struct Subnet6 {
    /// Its id.
    pub id: u32,
    /// `prefix/len`.
    pub prefix: String,
    /// Its address pools, in address order.
    pub pools: Vec<Pool6>,
    /// Its prefix-delegation pools, in configuration order.
    pub pd_pools: Vec<PdPool6>,
    /// Its address counters (every IA_NA lease of the subnet, in a pool or not).
    pub na: Counters,
    /// Its delegated-prefix counters.
    pub pd: Counters,
}

impl Subnet6 {
    /// Addresses in its pools (saturating at 2^128 - 1).
    pub fn total_nas(&self) -> u128 {
        self.pools.iter().map(Pool6::size).fold(0, u128::saturating_add)
    }

    /// Prefixes its PD pools delegate.
    pub fn total_pds(&self) -> u128 {
        self.pd_pools.iter().map(PdPool6::size).fold(0, u128::saturating_add)
    }

    /// Pool addresses taken (assigned or declined).
    pub fn used_nas_in_pools(&self) -> i64 {
        self.pools.iter().map(|p| p.counters.figures().used()).sum()
    }

    /// PD pool prefixes taken.
    pub fn used_pds_in_pools(&self) -> i64 {
        self.pd_pools.iter().map(|p| p.counters.figures().used()).sum()
    }

    /// The counters of a kind.
    pub fn counters(&self, kind: Kind) -> &Counters {
        match kind {
            Kind::Na => &self.na,
            Kind::Pd => &self.pd,
        }
    }

    /// The pool holding address (or delegated prefix) `a` of `kind`.
    fn pool_counters(&self, kind: Kind, a: u128) -> Option<&Counters> {
        match kind {
            Kind::Na => {
                let i = self.pools.partition_point(|p| u128::from(p.first) <= a);
                self.pools[..i].last().filter(|p| u128::from(p.last) >= a).map(|p| &p.counters)
            }
            Kind::Pd => self.pd_pools.iter().find(|p| p.contains(a)).map(|p| &p.counters),
        }
    }
}

/// A hasher for address keys: the address's two halves folded and
/// multiplied (nothing here is attacker-sized: the keys are leases).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        let p = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = p ^ (p >> 29);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64((n >> 64) as u64 ^ (n as u64).rotate_left(17));
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
}

/// An address or delegated prefix (its high and low 64 bits) and its
/// kind, which picks the shard.
type Key = (Kind, u128);
type MapKey = (u64, u64);
type LeaseMap = HashMap<MapKey, Entry, BuildHasherDefault<KeyHasher>>;

fn map_key(a: u128) -> MapKey {
    ((a >> 64) as u64, a as u64)
}

fn from_map_key(k: MapKey) -> u128 {
    (u128::from(k.0) << 64) | u128::from(k.1)
}

#[derive(Debug, Default)]
struct Shard {
    map: LeaseMap,
    /// Counts the shard's events (under its lock).
    events: u64,
}

/// What the tracker holds for one lease (as [`crate::tracker`]'s entries).
#[derive(Debug, Clone, Copy)]
struct Entry {
    gen: u64,
    subnet: u32,
    epoch: u32,
    held: u8,
    pending: bool,
}

/// Shards per kind ([`Kind::Na`]'s first, then [`Kind::Pd`]'s).
const SHARDS: usize = 64;
const ALL_SHARDS: usize = 2 * SHARDS;

/// Every counted DHCPv6 lease and the counters of each subnet and pool.
#[derive(Debug)]
pub struct Tracker6 {
    subnets: Vec<Subnet6>,
    shards: Box<[Mutex<Shard>]>,
    recounts: Recounts,
}

impl Tracker6 {
    /// A tracker for these subnets, counting nothing yet.
    pub fn new(config: &[Subnet6Config]) -> Tracker6 {
        let mut subnets: Vec<Subnet6> = config
            .iter()
            .map(|s| {
                let mut pools: Vec<Pool6> =
                    s.pools.iter().map(|p| Pool6 { first: p.first, last: p.last, counters: Counters::default() }).collect();
                pools.sort_by_key(|p| p.first);
                let pd_pools = s
                    .pd_pools
                    .iter()
                    .map(|p| PdPool6 {
                        prefix: p.prefix,
                        prefix_len: p.prefix_len,
                        delegated_len: p.delegated_len,
                        counters: Counters::default(),
                    })
                    .collect();
                Subnet6 {
                    id: s.id,
                    prefix: format!("{}/{}", s.prefix, s.prefix_len),
                    pools,
                    pd_pools,
                    na: Counters::default(),
                    pd: Counters::default(),
                }
            })
            .collect();
        subnets.sort_by_key(|s| s.id);
        subnets.dedup_by_key(|s| s.id);
        Tracker6 {
            subnets,
            shards: (0..ALL_SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            recounts: Recounts::default(),
        }
    }

    /// The subnets, by id.
    pub fn subnets(&self) -> &[Subnet6] {
        &self.subnets
    }

    /// Subnet `id`.
    pub fn subnet(&self, id: u32) -> Option<&Subnet6> {
        self.subnets.binary_search_by_key(&id, |s| s.id).ok().map(|i| &self.subnets[i])
    }

    /// Leases recounts have corrected since the hook loaded.
    pub fn corrections(&self) -> u64 {
        self.recounts.corrections.load(Relaxed)
    }

    /// Leases counted (as assigned or declined).
    pub fn leases(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.values().filter(|e| e.held != 0).count()).sum()
    }

    fn shard_index(key: &Key) -> usize {
        let a = key.1;
        let h = ((a >> 64) as u64 ^ a as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let base = match key.0 {
            Kind::Na => 0,
            Kind::Pd => SHARDS,
        };
        base + (h >> 58) as usize % SHARDS
    }

    /// The kind of shard `i`'s leases.
    fn shard_kind(i: usize) -> Kind {
        if i < SHARDS {
            Kind::Na
        } else {
            Kind::Pd
        }
    }

    fn shard(&self, key: &Key) -> &Mutex<Shard> {
        &self.shards[Self::shard_index(key)]
    }

    /// Moves lease `key` from `old` to `new` (subnet, what) in the counters.
    fn move_counts(&self, key: Key, old: Option<(u32, Held)>, new: Option<(u32, Held)>, cause: Cause) {
        if old == new {
            return;
        }
        let (kind, a) = key;
        if let Some((s, held)) = old {
            if let Some(subnet) = self.subnet(s) {
                subnet.counters(kind).leave(held, cause);
                if let Some(pool) = subnet.pool_counters(kind, a) {
                    pool.leave(held, cause);
                }
            }
        }
        if let Some((s, held)) = new {
            let was = old.filter(|(o, _)| *o == s).map(|(_, h)| h);
            if let Some(subnet) = self.subnet(s) {
                subnet.counters(kind).enter(held, cause, was);
                if let Some(pool) = subnet.pool_counters(kind, a) {
                    pool.enter(held, cause, was);
                }
            }
        }
    }

    /// A lease event: the lease of type `t` at `address` (of subnet
    /// `subnet`) is now `held`. IA_TA leases are ignored.
    pub fn event(&self, t: LeaseType, address: Ipv6Addr, subnet: u32, held: Option<Held>, cause: Cause) {
        let Some(kind) = Kind::of(t) else { return };
        let key = (kind, u128::from(address));
        let mut shard = lock(self.shard(&key));
        shard.events += 1;
        let entry = Entry { gen: shard.events, subnet, epoch: 0, held: Held::code(held), pending: cause.precedes_write() };
        let old = shard.map.insert(map_key(key.1), entry).and_then(|was| Held::from_code(was.held).map(|h| (was.subnet, h)));
        self.move_counts(key, old, held.map(|h| (subnet, h)), cause);
    }

    /// Reads the database's truth about one lease (after a command changed
    /// it): applied at once, as an event.
    pub fn truth(&self, t: LeaseType, address: Ipv6Addr, lease: Option<&StoredLease6>) {
        match lease {
            Some(l) => self.event(l.lease_type, l.address, l.subnet_id, Held::of(l.state), Cause::Committed),
            None => {
                let Some(kind) = Kind::of(t) else { return };
                let key = (kind, u128::from(address));
                let mut shard = lock(self.shard(&key));
                shard.events += 1;
                let gen = shard.events;
                if let Some(e) = shard.map.get_mut(&map_key(key.1)) {
                    let was = Held::from_code(e.held).map(|h| (e.subnet, h));
                    *e = Entry { gen, held: 0, pending: false, ..*e };
                    self.move_counts(key, was, None, Cause::Recount);
                }
            }
        }
    }

    /// Recounts from the database on the calling thread (Kea's main thread),
    /// as [`crate::tracker::Tracker::recount`] does: `pages` yields the
    /// leases (all, or those of subnet `only`); the `bool` says whether it
    /// superseded a background recount.
    pub fn recount<E>(
        &self,
        only: Option<u32>,
        pages: impl IntoIterator<Item = Result<Vec<StoredLease6>, E>>,
    ) -> Result<(Recount, bool), E> {
        self.recount_pages(only, pages)
    }

    /// Begins a recount for a thread of the hook's own (see [`Background6`]),
    /// superseding any background recount in progress.
    pub fn background(&self) -> Background6<'_> {
        Background::begin(self)
    }

    /// Applies what the database holds for `key` unless an event is newer;
    /// returns whether the count changed.
    fn settle(&self, key: Key, truth: Option<(u32, Held)>, starts: &[u64], epoch: u32) -> bool {
        let i = Self::shard_index(&key);
        let start = starts[i];
        let mut shard = lock(&self.shards[i]);
        let map = &mut shard.map;
        let k = map_key(key.1);
        let held = match map.get_mut(&k) {
            Some(e) if e.gen > start || e.pending => {
                if e.gen <= start {
                    e.pending = false;
                }
                e.epoch = epoch;
                return false;
            }
            Some(e) => Held::from_code(e.held).map(|h| (e.subnet, h)),
            None => None,
        };
        let changed = held != truth;
        self.move_counts(key, held, truth, Cause::Recount);
        match truth {
            Some((subnet, h)) => {
                map.insert(k, Entry { gen: start, subnet, epoch, held: Held::code(Some(h)), pending: false });
            }
            None => {
                map.remove(&k);
            }
        }
        changed
    }

    /// The end of a recount over shard `i`: leases not in the database and
    /// not touched since the recount began are dropped.
    fn sweep_shard(&self, run: &mut Run, i: usize) {
        let (only, epoch, start) = (run.only, run.epoch, run.starts[i]);
        let mut corrected = 0;
        let kind = Self::shard_kind(i);
        lock(&self.shards[i]).map.retain(|&k, e| {
            let key = (kind, from_map_key(k));
            if only.is_some_and(|s| s != e.subnet) || e.epoch == epoch || e.gen > start {
                return true;
            }
            if e.pending {
                e.pending = false;
                return true;
            }
            if let Some(held) = Held::from_code(e.held) {
                self.move_counts(key, Some((e.subnet, held)), None, Cause::Recount);
                corrected += 1;
            }
            false
        });
        self.recounts.corrected(run, corrected);
    }
}

impl Recountable for Tracker6 {
    type Lease = StoredLease6;

    fn recounts(&self) -> &Recounts {
        &self.recounts
    }

    fn shard_events(&self) -> Vec<u64> {
        self.shards.iter().map(|s| lock(s).events).collect()
    }

    // No `clear_seen`: the hash maps' entries hold no marks of a recount
    // but its epoch.

    /// IA_TA leases do not count.
    fn subnet_of(lease: &StoredLease6) -> Option<u32> {
        Kind::of(lease.lease_type).map(|_| lease.subnet_id)
    }

    fn settle_lease(&self, lease: &StoredLease6, run: &Run) -> bool {
        let Some(kind) = Kind::of(lease.lease_type) else { return false };
        self.settle((kind, u128::from(lease.address)), Held::of(lease.state).map(|h| (lease.subnet_id, h)), &run.starts, run.epoch)
    }

    /// One shard a step (no state words).
    fn sweep_step(&self, run: &mut Run, at: &mut Sweep, _budget: usize) -> bool {
        self.sweep_shard(run, at.shard);
        at.shard += 1;
        at.shard == ALL_SHARDS
    }
}

/// A recount of every DHCPv6 subnet taken a step at a time from a thread
/// of the hook's own: [`crate::tracker::Background`] over a [`Tracker6`]
/// (begin it with [`Tracker6::background`]). Each step holds the recount
/// lock for at most 1,024 leases or one shard's sweep; a
/// [`Tracker6::recount`] supersedes it between two steps.
pub type Background6<'t> = Background<'t, Tracker6>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::Superseded;
    use kea_hooks::dhcp6::{LeaseState, PdPool6Config, Pool6Config};
    use std::convert::Infallible;

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn tracker() -> Tracker6 {
        Tracker6::new(&[
            Subnet6Config {
                id: 2,
                prefix: ip("2001:2:0:2::"),
                prefix_len: 64,
                pools: vec![Pool6Config { first: ip("2001:2:0:2::"), last: ip("2001:2:0:2:ffff:ffff:ffff:ffff"), id: 0 }],
                pd_pools: vec![],
            },
            Subnet6Config {
                id: 1,
                prefix: ip("2001:2::"),
                prefix_len: 48,
                pools: vec![
                    Pool6Config { first: ip("2001:2::200"), last: ip("2001:2::2ff"), id: 0 },
                    Pool6Config { first: ip("2001:2::100"), last: ip("2001:2::1ff"), id: 0 },
                ],
                pd_pools: vec![PdPool6Config { prefix: ip("2001:2:0:100::"), prefix_len: 56, delegated_len: 64, id: 0 }],
            },
        ])
    }

    fn lease(t: LeaseType, a: &str, subnet: u32, state: LeaseState) -> StoredLease6 {
        StoredLease6 {
            lease_type: t,
            address: ip(a),
            prefix_len: if t == LeaseType::Pd { 64 } else { 128 },
            iaid: 1,
            duid: vec![0, 1, 2, 3],
            preferred_lifetime: 1800,
            valid_lifetime: 3600,
            cltt: 0,
            subnet_id: subnet,
            pool_id: 0,
            hostname: String::new(),
            state,
            fqdn: (false, false),
            hwaddr: None,
        }
    }

    /// (assigned NAs, declined NAs, assigned PDs).
    fn figures(t: &Tracker6, subnet: u32) -> (i64, i64, i64) {
        let s = t.subnet(subnet).unwrap();
        let (na, pd) = (s.na.figures(), s.pd.figures());
        (na.assigned, na.declined, pd.assigned)
    }

    fn recount(t: &Tracker6, only: Option<u32>, leases: Vec<StoredLease6>) -> Recount {
        t.recount(only, [Ok::<_, Infallible>(leases)]).unwrap().0
    }

    #[test]
    fn layout_is_by_id_and_totals_are_big_integers() {
        let t = tracker();
        assert_eq!(t.subnets().iter().map(|s| s.id).collect::<Vec<_>>(), [1, 2]);
        let s1 = t.subnet(1).unwrap();
        assert_eq!((s1.total_nas(), s1.total_pds()), (512, 256));
        assert_eq!(s1.pools[0].text(), "2001:2::100-2001:2::1ff");
        assert_eq!(s1.pd_pools[0].text(), "2001:2:0:100::/56 delegated /64");
        assert_eq!(t.subnet(2).unwrap().total_nas(), 1u128 << 64);
    }

    #[test]
    fn addresses_and_prefixes_count_apart_by_state() {
        let t = tracker();
        let (na, pd, ta) = (LeaseType::Na, LeaseType::Pd, LeaseType::Ta);
        t.event(na, ip("2001:2::100"), 1, Some(Held::Assigned), Cause::Committed);
        t.event(na, ip("2001:2::100"), 1, Some(Held::Assigned), Cause::Committed); // a renewal
        t.event(pd, ip("2001:2:0:100::"), 1, Some(Held::Assigned), Cause::Committed);
        // The same address as a prefix and an address: two leases.
        t.event(pd, ip("2001:2::100"), 1, Some(Held::Assigned), Cause::Committed);
        t.event(ta, ip("2001:2::101"), 1, Some(Held::Assigned), Cause::Committed);
        assert_eq!(figures(&t, 1), (1, 0, 2));
        t.event(na, ip("2001:2::100"), 1, Some(Held::Declined), Cause::Declined);
        assert_eq!(figures(&t, 1), (0, 1, 2));
        t.event(na, ip("2001:2::100"), 1, None, Cause::Reclaimed); // expire, then
        t.event(na, ip("2001:2::100"), 1, None, Cause::Reclaimed); // recover: once
        t.event(pd, ip("2001:2::100"), 1, None, Cause::Released);
        assert_eq!(figures(&t, 1), (0, 0, 1));
        let s = t.subnet(1).unwrap();
        let (f, p) = (s.pools[0].counters.figures(), s.pd_pools[0].counters.figures());
        assert_eq!((f.granted, f.reclaimed_declined, f.assigned), (1, 1, 0));
        assert_eq!((p.assigned, p.granted), (1, 1), "the PD pool holds 2001:2:0:100::");
        assert_eq!(s.pd.figures().released, 1, "the prefix outside the PD pool counts in the subnet");
        // A /64 pool: no state words, the maps.
        t.event(na, ip("2001:2:0:2::abcd"), 2, Some(Held::Assigned), Cause::Committed);
        assert_eq!(figures(&t, 2), (1, 0, 0));
        assert_eq!(t.subnet(2).unwrap().used_nas_in_pools(), 1);
        // Unknown subnets are not counted.
        t.event(na, ip("2001:2:9::1"), 9, Some(Held::Assigned), Cause::Committed);
        assert_eq!(t.leases(), 3);
    }

    #[test]
    fn a_recount_corrects_what_events_missed_and_keeps_newer_events() {
        let t = tracker();
        let (na, pd) = (LeaseType::Na, LeaseType::Pd);
        t.event(na, ip("2001:2::111"), 1, Some(Held::Assigned), Cause::Committed); // gone from the db
        let db = || {
            vec![
                lease(na, "2001:2::110", 1, LeaseState::DEFAULT),
                lease(na, "2001:2::112", 1, LeaseState::DECLINED),
                lease(na, "2001:2::113", 1, LeaseState::EXPIRED_RECLAIMED),
                lease(pd, "2001:2:0:101::", 1, LeaseState::DEFAULT),
                lease(LeaseType::Ta, "2001:2::114", 1, LeaseState::DEFAULT),
                lease(na, "2001:2:0:2::1", 2, LeaseState::DEFAULT),
            ]
        };
        let r = recount(&t, None, db());
        assert_eq!(r, Recount { leases: 5, corrected: 5 }, "TA leases are not read as leases");
        assert_eq!((figures(&t, 1), figures(&t, 2)), ((1, 1, 1), (1, 0, 0)));
        assert_eq!(recount(&t, None, db()).corrected, 0);
        // A release Kea has not written yet: left alone once.
        t.event(pd, ip("2001:2:0:101::"), 1, None, Cause::Released);
        assert_eq!(recount(&t, None, db()).corrected, 0);
        assert_eq!(figures(&t, 1), (1, 1, 0));
        let mut after = db();
        after.remove(3);
        assert_eq!(recount(&t, None, after).corrected, 0);
        // One subnet only.
        assert_eq!(recount(&t, Some(2), vec![]).corrected, 1);
        assert_eq!((figures(&t, 1), figures(&t, 2)), ((1, 1, 0), (0, 0, 0)));
        // A command's truth about one lease.
        t.truth(pd, ip("2001:2:0:1ff::"), Some(&lease(pd, "2001:2:0:1ff::", 1, LeaseState::DEFAULT)));
        assert_eq!(figures(&t, 1), (1, 1, 1));
        t.truth(pd, ip("2001:2:0:1ff::"), None);
        assert_eq!(figures(&t, 1), (1, 1, 0));
    }

    #[test]
    fn events_during_a_recount_win_and_a_main_thread_recount_supersedes() {
        let t = tracker();
        let na = LeaseType::Na;
        let pages = (0..2).map(|i| {
            if i == 1 {
                t.event(na, ip("2001:2::115"), 1, Some(Held::Assigned), Cause::Committed);
                t.event(na, ip("2001:2::110"), 1, None, Cause::Released);
                Ok::<_, Infallible>(vec![lease(na, "2001:2::116", 1, LeaseState::DEFAULT)])
            } else {
                Ok(vec![lease(na, "2001:2::110", 1, LeaseState::DEFAULT)])
            }
        });
        t.recount(None, pages).unwrap();
        assert_eq!(figures(&t, 1).0, 2, "::115 (event) and ::116 (database)");

        let db = vec![lease(na, "2001:2::115", 1, LeaseState::DEFAULT), lease(na, "2001:2::116", 1, LeaseState::DEFAULT)];
        let mut bg = t.background();
        bg.feed(&db[..1]).unwrap();
        let (_, superseded) = t.recount(None, [Ok::<_, Infallible>(db.clone())]).unwrap();
        assert!(superseded);
        assert_eq!(bg.feed(&db[1..]), Err(Superseded));
        assert_eq!(bg.finish().unwrap_err(), Superseded);
        let mut bg = t.background();
        bg.feed(&db).unwrap();
        assert_eq!(bg.finish(), Ok(Recount { leases: 2, corrected: 0 }));
        assert_eq!(figures(&t, 1).0, 2);
    }
}
