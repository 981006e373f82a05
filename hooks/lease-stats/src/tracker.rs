//! The counts: every address the lease database holds in a counted state
//! (assigned or declined), kept from lease events as they happen and
//! reconciled with the database by recounts.
//!
//! An address's state is absolute, not a delta: an event says "198.18.0.10
//! is now assigned in subnet 1", and the counters move by the difference
//! from what the tracker held for it. So an event seen twice (Kea fires
//! `lease4_expire` and `lease4_recover` for one declined lease) or a
//! renewal (assigned to assigned) changes nothing, and a lost event is
//! repaired by the next recount, which reads the truth from the database.
//!
//! Each subnet (of a /8 or longer prefix, within a budget) keeps one atomic
//! 16-bit word per address of its prefix: what the address counts as, and
//! what recounts need to know. An event is one compare-and-swap on its
//! address's word, then the counters (atomics) move: no lock, one short
//! chain of loads, 2 bytes per address of the subnet (128 KiB for a /16).
//! Addresses no such word covers (a lease whose address lies outside its
//! subnet's prefix, a subnet too large) live in 64 shards of hash maps
//! behind mutexes instead.
//!
//! A recount reads the database page by page while events go on. It never
//! overwrites an address an event touched after the recount started (the
//! event is newer than the page), nor one an event touched just before
//! (`pending`: Kea calls `lease4_release`, `lease4_decline` and
//! `lease4_expire` before it writes the database, so for a moment the
//! database is older than the event); those are left for the next recount.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicI64, AtomicU16, AtomicU32, AtomicU64, Ordering::{AcqRel, Acquire, Relaxed}};
use std::sync::Mutex;

use kea_hooks::dhcp4::LeaseState;
use kea_hooks::kea::{StoredLease4, Subnet4Config};

/// What an address counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A lease in state `default` (active, or expired and not reclaimed
    /// yet: stat_cmds counts those as assigned too).
    Assigned,
    /// A lease in state `declined` (in probation).
    Declined,
}

impl Held {
    /// What a lease in `state` counts as (`None`: not counted, e.g.
    /// expired-reclaimed or released).
    pub fn of(state: LeaseState) -> Option<Held> {
        match state {
            LeaseState::DEFAULT => Some(Held::Assigned),
            LeaseState::DECLINED => Some(Held::Declined),
            _ => None,
        }
    }

    fn code(held: Option<Held>) -> u8 {
        match held {
            None => 0,
            Some(Held::Assigned) => 1,
            Some(Held::Declined) => 2,
        }
    }

    fn from_code(code: u8) -> Option<Held> {
        match code {
            1 => Some(Held::Assigned),
            2 => Some(Held::Declined),
            _ => None,
        }
    }
}

/// Why an address changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Kea committed a lease (a grant, a renewal, an offer written with an
    /// offer lifetime) or a command wrote one.
    Committed,
    /// The client released it.
    Released,
    /// The client (or the server, `lease4_server_decline`) declined it.
    Declined,
    /// Reclamation of an expired lease, or recovery of a declined one.
    Reclaimed,
    /// A recount found the database different.
    Recount,
}

impl Cause {
    /// Events Kea reports before it writes the database.
    fn precedes_write(self) -> bool {
        matches!(self, Cause::Released | Cause::Declined | Cause::Reclaimed)
    }
}

/// The counters of one subnet or pool.
#[derive(Debug, Default)]
pub struct Counters {
    assigned: AtomicI64,
    declined: AtomicI64,
    granted: AtomicU64,
    released: AtomicU64,
    reclaimed: AtomicU64,
    reclaimed_declined: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Addresses leased (state default).
    pub assigned: i64,
    /// Addresses declined.
    pub declined: i64,
    /// Addresses that became assigned through lease events since the hook
    /// loaded (grants, not renewals).
    pub granted: u64,
    /// Releases since the hook loaded.
    pub released: u64,
    /// Expired leases reclaimed since the hook loaded.
    pub reclaimed: u64,
    /// Declined addresses recovered since the hook loaded.
    pub reclaimed_declined: u64,
}

impl Counters {
    /// The current values.
    pub fn figures(&self) -> Figures {
        Figures {
            assigned: self.assigned.load(Relaxed),
            declined: self.declined.load(Relaxed),
            granted: self.granted.load(Relaxed),
            released: self.released.load(Relaxed),
            reclaimed: self.reclaimed.load(Relaxed),
            reclaimed_declined: self.reclaimed_declined.load(Relaxed),
        }
    }

    fn gauge(&self, held: Held) -> &AtomicI64 {
        match held {
            Held::Assigned => &self.assigned,
            Held::Declined => &self.declined,
        }
    }

    fn leave(&self, held: Held, cause: Cause) {
        self.gauge(held).fetch_sub(1, Relaxed);
        match (cause, held) {
            (Cause::Released, Held::Assigned) => self.released.fetch_add(1, Relaxed),
            (Cause::Reclaimed, Held::Assigned) => self.reclaimed.fetch_add(1, Relaxed),
            (Cause::Reclaimed, Held::Declined) => self.reclaimed_declined.fetch_add(1, Relaxed),
            _ => 0,
        };
    }

    fn enter(&self, held: Held, cause: Cause, was: Option<Held>) {
        self.gauge(held).fetch_add(1, Relaxed);
        if cause == Cause::Committed && held == Held::Assigned && was != Some(Held::Assigned) {
            self.granted.fetch_add(1, Relaxed);
        }
    }
}

/// An address pool of a subnet.
#[derive(Debug)]
pub struct Pool {
    /// First address.
    pub first: Ipv4Addr,
    /// Last address.
    pub last: Ipv4Addr,
    /// Its counters.
    pub counters: Counters,
}

impl Pool {
    /// How many addresses it holds.
    pub fn size(&self) -> u64 {
        u64::from(u32::from(self.last)) - u64::from(u32::from(self.first)) + 1
    }

    /// As Kea writes a pool: `first-last`.
    pub fn text(&self) -> String {
        format!("{}-{}", self.first, self.last)
    }
}

/// A subnet of the configuration.
#[derive(Debug)]
pub struct Subnet {
    /// Its id.
    pub id: u32,
    /// `prefix/len`.
    pub prefix: String,
    /// Its pools, in address order.
    pub pools: Vec<Pool>,
    /// Its counters (every lease of the subnet, in a pool or not).
    pub counters: Counters,
    /// The state word of each address of its prefix (see [`Dense`]).
    dense: Option<Dense>,
}

/// The state words of a subnet's prefix, one per address:
/// bits 0-1 what it counts as ([`Held::code`]), bit 2 `pending` (an event
/// Kea reports before it writes the database), bit 3 `seen` (by the
/// running recount), bits 4-15 the recount epoch (mod 4096) in force when
/// an event last wrote it.
#[derive(Debug)]
struct Dense {
    first: u32,
    words: Box<[AtomicU16]>,
}

const HELD_BITS: u16 = 0b11;
const PENDING: u16 = 1 << 2;
const SEEN: u16 = 1 << 3;
const STAMP_SHIFT: u16 = 4;
const STAMP_MASK: u32 = 0xfff;

/// The largest prefix given state words (a /8: 32 MiB), and the most
/// words in all (128 MiB); beyond, the hash maps.
const DENSE_MIN_PREFIX: u8 = 8;
const DENSE_BUDGET: u64 = 64 << 20;

impl Dense {
    fn word(&self, address: u32) -> Option<&AtomicU16> {
        self.words.get(address.wrapping_sub(self.first) as usize).filter(|_| address >= self.first)
    }
}

fn held_of_word(w: u16) -> Option<Held> {
    Held::from_code((w & HELD_BITS) as u8)
}

impl Figures {
    /// Addresses taken: assigned or declined.
    pub fn used(&self) -> i64 {
        self.assigned + self.declined
    }
}

impl Subnet {
    /// Addresses in its pools (Kea's `total-addresses`).
    pub fn total(&self) -> u64 {
        self.pools.iter().map(Pool::size).sum()
    }

    /// Pool addresses taken (assigned or declined); leases outside the
    /// pools are not among them.
    pub fn used_in_pools(&self) -> i64 {
        self.pools.iter().map(|p| p.counters.figures().used()).sum()
    }

    /// The pool holding `address`.
    pub fn pool_of(&self, address: u32) -> Option<&Pool> {
        let i = self.pools.partition_point(|p| u32::from(p.first) <= address);
        self.pools[..i].last().filter(|p| u32::from(p.last) >= address)
    }
}

/// A hasher for IPv4 addresses (one multiply; the std default hashes a
/// u32 an order of magnitude slower, and nothing here is attacker-sized:
/// the keys are leased addresses).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u32(u32::from(*b) ^ (self.0 as u32));
        }
    }
    fn write_u32(&mut self, n: u32) {
        let p = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = p ^ (p >> 32);
    }
}

type AddressMap = HashMap<u32, Entry, BuildHasherDefault<AddressHasher>>;

/// One shard: its addresses and how many events it has seen.
#[derive(Debug, Default)]
struct Shard {
    map: AddressMap,
    /// Counts the shard's events (under its lock): an entry's `gen` says
    /// when an event last wrote it.
    events: u64,
}

/// What the tracker holds for one address.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The shard's event count when an event last wrote it (recounts
    /// write the count at their start).
    gen: u64,
    subnet: u32,
    /// The recount that last saw it in the database.
    epoch: u32,
    /// `Held` as a code; 0 (not counted) marks an address an event took
    /// away, kept until a recount has seen the database agree.
    held: u8,
    /// Touched by an event Kea reports before it writes the database.
    pending: bool,
}

const SHARDS: usize = 64;

/// The result of a recount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recount {
    /// Leases read from the database.
    pub leases: u64,
    /// Addresses whose count the recount changed.
    pub corrected: u64,
}

/// Every counted address and the counters of each subnet and pool.
#[derive(Debug)]
pub struct Tracker {
    /// Subnets, by id.
    subnets: Vec<Subnet>,
    /// Addresses without a state word.
    shards: Box<[Mutex<Shard>]>,
    /// The latest recount's number: events stamp it into state words.
    epoch: AtomicU32,
    corrections: AtomicU64,
    /// One recount at a time.
    recounting: Mutex<()>,
}

impl Tracker {
    /// A tracker for these subnets, counting nothing yet.
    pub fn new(config: &[Subnet4Config]) -> Tracker {
        let mut budget = DENSE_BUDGET;
        let mut subnets: Vec<Subnet> = config
            .iter()
            .map(|s| {
                let mut pools: Vec<Pool> =
                    s.pools.iter().map(|p| Pool { first: p.first, last: p.last, counters: Counters::default() }).collect();
                pools.sort_by_key(|p| p.first);
                let size = 1u64 << (32 - u32::from(s.prefix_len.min(32)));
                let dense = (s.prefix_len >= DENSE_MIN_PREFIX && size <= budget).then(|| {
                    budget -= size;
                    let mask = if s.prefix_len == 0 { 0 } else { u32::MAX << (32 - u32::from(s.prefix_len)) };
                    Dense { first: u32::from(s.prefix) & mask, words: (0..size).map(|_| AtomicU16::new(0)).collect() }
                });
                Subnet {
                    id: s.id,
                    prefix: format!("{}/{}", s.prefix, s.prefix_len),
                    pools,
                    counters: Counters::default(),
                    dense,
                }
            })
            .collect();
        subnets.sort_by_key(|s| s.id);
        subnets.dedup_by_key(|s| s.id);
        Tracker {
            subnets,
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            epoch: AtomicU32::new(0),
            corrections: AtomicU64::new(0),
            recounting: Mutex::new(()),
        }
    }

    /// The subnets, by id.
    pub fn subnets(&self) -> &[Subnet] {
        &self.subnets
    }

    /// Subnet `id`.
    pub fn subnet(&self, id: u32) -> Option<&Subnet> {
        self.subnets.binary_search_by_key(&id, |s| s.id).ok().map(|i| &self.subnets[i])
    }

    /// Addresses recounts have corrected since the hook loaded.
    pub fn corrections(&self) -> u64 {
        self.corrections.load(Relaxed)
    }

    /// Addresses counted (as assigned or declined).
    pub fn addresses(&self) -> usize {
        let dense: usize = self
            .subnets
            .iter()
            .filter_map(|s| s.dense.as_ref())
            .map(|d| d.words.iter().filter(|w| w.load(Relaxed) & HELD_BITS != 0).count())
            .sum();
        dense + self.shards.iter().map(|s| lock(s).map.values().filter(|e| e.held != 0).count()).sum::<usize>()
    }

    /// The stamp events write now (1 to 4095; 0 is "never").
    fn stamp(epoch: u32) -> u16 {
        (epoch.wrapping_sub(1) % STAMP_MASK + 1) as u16
    }

    /// The state word of `address` in subnet `subnet`, if it has one.
    fn word(&self, subnet: u32, address: u32) -> Option<&AtomicU16> {
        self.subnet(subnet)?.dense.as_ref()?.word(address)
    }

    /// The state word of `address` in whichever subnet's prefix holds it.
    fn any_word(&self, address: u32) -> Option<(u32, &AtomicU16)> {
        self.subnets.iter().find_map(|s| Some((s.id, s.dense.as_ref()?.word(address)?)))
    }

    fn shard_index(address: u32) -> usize {
        let h = u64::from(address).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 58) as usize % SHARDS
    }

    fn shard(&self, address: u32) -> &Mutex<Shard> {
        &self.shards[Self::shard_index(address)]
    }

    /// Moves `address` from `old` to `new` (subnet, what) in the counters.
    fn move_counts(&self, address: u32, old: Option<(u32, Held)>, new: Option<(u32, Held)>, cause: Cause) {
        if old == new {
            return;
        }
        if let Some((s, held)) = old {
            if let Some(subnet) = self.subnet(s) {
                subnet.counters.leave(held, cause);
                if let Some(pool) = subnet.pool_of(address) {
                    pool.counters.leave(held, cause);
                }
            }
        }
        if let Some((s, held)) = new {
            let was = old.filter(|(o, _)| *o == s).map(|(_, h)| h);
            if let Some(subnet) = self.subnet(s) {
                subnet.counters.enter(held, cause, was);
                if let Some(pool) = subnet.pool_of(address) {
                    pool.counters.enter(held, cause, was);
                }
            }
        }
    }

    /// A lease event: `address` (of subnet `subnet`) is now `held`.
    pub fn event(&self, address: Ipv4Addr, subnet: u32, held: Option<Held>, cause: Cause) {
        let address = u32::from(address);
        if let Some(w) = self.word(subnet, address) {
            return self.write_word(w, subnet, address, held, cause);
        }
        let mut shard = lock(self.shard(address));
        shard.events += 1;
        let entry = Entry { gen: shard.events, subnet, epoch: 0, held: Held::code(held), pending: cause.precedes_write() };
        let old = match shard.map.entry(address) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let was = *e.get();
                *e.get_mut() = entry;
                Held::from_code(was.held).map(|h| (was.subnet, h))
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(entry);
                None
            }
        };
        self.move_counts(address, old, held.map(|h| (subnet, h)), cause);
    }

    /// An event on a state word: `held` now, stamped with the current
    /// recount (and `pending` for an event Kea reports before it writes
    /// the database); the recount's `seen` mark stays.
    fn write_word(&self, w: &AtomicU16, subnet: u32, address: u32, held: Option<Held>, cause: Cause) {
        let stamp = Self::stamp(self.epoch.load(Acquire));
        let pending = if cause.precedes_write() { PENDING } else { 0 };
        let bits = u16::from(Held::code(held)) | pending | (stamp << STAMP_SHIFT);
        let old = w.fetch_update(AcqRel, Acquire, |old| Some(bits | (old & SEEN))).unwrap_or_else(|old| old);
        self.move_counts(address, held_of_word(old).map(|h| (subnet, h)), held.map(|h| (subnet, h)), cause);
    }

    /// Reads the database's truth about one address (after a command
    /// changed it): applied at once, as an event.
    pub fn truth(&self, address: Ipv4Addr, lease: Option<&StoredLease4>) {
        match lease {
            Some(l) => self.event(address, l.subnet_id, Held::of(l.state), Cause::Committed),
            None => {
                let a = u32::from(address);
                if let Some((subnet, w)) = self.any_word(a) {
                    self.write_word(w, subnet, a, None, Cause::Recount);
                }
                let mut shard = lock(self.shard(a));
                shard.events += 1;
                let gen = shard.events;
                if let Some(e) = shard.map.get_mut(&a) {
                    let was = Held::from_code(e.held).map(|h| (e.subnet, h));
                    *e = Entry { gen, held: 0, pending: false, ..*e };
                    self.move_counts(a, was, None, Cause::Recount);
                }
            }
        }
    }

    /// Recounts from the database: `pages` yields the leases (all of them,
    /// or those of subnet `only`), then addresses the database no longer
    /// holds are dropped. Events may go on meanwhile.
    pub fn recount<E>(
        &self,
        only: Option<u32>,
        pages: impl IntoIterator<Item = Result<Vec<StoredLease4>, E>>,
    ) -> Result<Recount, E> {
        let _one = lock(&self.recounting);
        let epoch = self.epoch.fetch_add(1, AcqRel).wrapping_add(1);
        let stamp = Self::stamp(epoch);
        let in_scope = |s: &&Subnet| only.is_none_or(|id| id == s.id);
        for d in self.subnets.iter().filter(in_scope).filter_map(|s| s.dense.as_ref()) {
            for w in d.words.iter() {
                w.fetch_and(!SEEN, AcqRel);
            }
        }
        // Each shard's event count now: what events wrote after it is
        // newer than anything this recount reads.
        let starts: Vec<u64> = self.shards.iter().map(|s| lock(s).events).collect();
        let mut result = Recount::default();
        for page in pages {
            for lease in page? {
                if only.is_some_and(|s| s != lease.subnet_id) {
                    continue;
                }
                result.leases += 1;
                if self.settle(lease.address, Held::of(lease.state).map(|h| (lease.subnet_id, h)), &starts, epoch) {
                    result.corrected += 1;
                }
            }
        }
        // Words the database did not mention and no event wrote since the
        // recount began: nothing is leased there.
        for subnet in self.subnets.iter().filter(in_scope) {
            let Some(d) = &subnet.dense else { continue };
            for (i, w) in d.words.iter().enumerate() {
                let address = d.first.wrapping_add(i as u32);
                let mut old = w.load(Acquire);
                loop {
                    if old & SEEN != 0 || (old >> STAMP_SHIFT) == stamp {
                        break;
                    }
                    let (new, gone) = if old & PENDING != 0 {
                        (old & !PENDING, None)
                    } else if let Some(held) = held_of_word(old) {
                        (old & !HELD_BITS, Some(held))
                    } else {
                        break;
                    };
                    match w.compare_exchange(old, new, AcqRel, Acquire) {
                        Ok(_) => {
                            if let Some(held) = gone {
                                self.move_counts(address, Some((subnet.id, held)), None, Cause::Recount);
                                result.corrected += 1;
                            }
                            break;
                        }
                        Err(now) => old = now,
                    }
                }
            }
        }
        for (shard, &start) in self.shards.iter().zip(&starts) {
            lock(shard).map.retain(|&address, e| {
                if only.is_some_and(|s| s != e.subnet) || e.epoch == epoch || e.gen > start {
                    return true;
                }
                if e.pending {
                    e.pending = false;
                    return true;
                }
                // Not in the database, not touched since the recount began.
                if let Some(held) = Held::from_code(e.held) {
                    self.move_counts(address, Some((e.subnet, held)), None, Cause::Recount);
                    result.corrected += 1;
                }
                false
            });
        }
        self.corrections.fetch_add(result.corrected, Relaxed);
        Ok(result)
    }

    /// Applies what the database holds for `address` unless an event is
    /// newer; returns whether the count changed.
    fn settle(&self, address: Ipv4Addr, truth: Option<(u32, Held)>, starts: &[u64], epoch: u32) -> bool {
        let a = u32::from(address);
        let word = match truth {
            Some((subnet, _)) => self.word(subnet, a).map(|w| (subnet, w)),
            None => self.any_word(a),
        };
        if let Some((subnet, w)) = word {
            let stamp = Self::stamp(epoch);
            let mut old = w.load(Acquire);
            loop {
                let (new, settles) = if (old >> STAMP_SHIFT) == stamp {
                    (old | SEEN, false) // an event wrote it during this recount
                } else if old & PENDING != 0 {
                    (old & !PENDING | SEEN, false)
                } else {
                    ((old & !HELD_BITS) | u16::from(Held::code(truth.map(|t| t.1))) | SEEN, true)
                };
                match w.compare_exchange(old, new, AcqRel, Acquire) {
                    Ok(_) if settles => {
                        let was = held_of_word(old).map(|h| (subnet, h));
                        self.move_counts(a, was, truth, Cause::Recount);
                        return was != truth;
                    }
                    Ok(_) => return false,
                    Err(now) => old = now,
                }
            }
        }
        let start = starts[Self::shard_index(a)];
        let mut shard = lock(self.shard(a));
        let map = &mut shard.map;
        let held = match map.get_mut(&a) {
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
        self.move_counts(a, held, truth, Cause::Recount);
        match truth {
            Some((subnet, h)) => {
                map.insert(a, Entry { gen: start, subnet, epoch, held: Held::code(Some(h)), pending: false });
            }
            None => {
                map.remove(&a);
            }
        }
        changed
    }
}

/// Locks, ignoring poisoning (the counters stay consistent: every update
/// is complete before anything can panic).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kea_hooks::kea::Pool4Config;
    use std::convert::Infallible;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn tracker() -> Tracker {
        Tracker::new(&[
            Subnet4Config {
                id: 2,
                prefix: ip("198.18.2.0"),
                prefix_len: 24,
                pools: vec![Pool4Config { first: ip("198.18.2.10"), last: ip("198.18.2.19") }],
            },
            Subnet4Config {
                id: 1,
                prefix: ip("198.18.1.0"),
                prefix_len: 24,
                pools: vec![
                    Pool4Config { first: ip("198.18.1.100"), last: ip("198.18.1.103") },
                    Pool4Config { first: ip("198.18.1.10"), last: ip("198.18.1.19") },
                ],
            },
        ])
    }

    fn lease(a: &str, subnet: u32, state: LeaseState) -> StoredLease4 {
        StoredLease4 {
            address: ip(a),
            hwaddr: None,
            client_id: None,
            valid_lifetime: 3600,
            cltt: 0,
            subnet_id: subnet,
            hostname: String::new(),
            state,
            fqdn: (false, false),
        }
    }

    fn figures(t: &Tracker, subnet: u32) -> (i64, i64) {
        let f = t.subnet(subnet).unwrap().counters.figures();
        (f.assigned, f.declined)
    }

    fn recount(t: &Tracker, only: Option<u32>, leases: Vec<StoredLease4>) -> Recount {
        t.recount(only, [Ok::<_, Infallible>(leases)]).unwrap()
    }

    #[test]
    fn layout_is_by_id_with_pools_in_address_order() {
        let t = tracker();
        assert_eq!(t.subnets().iter().map(|s| s.id).collect::<Vec<_>>(), [1, 2]);
        let s1 = t.subnet(1).unwrap();
        assert_eq!(s1.total(), 14);
        assert_eq!(s1.pools[0].text(), "198.18.1.10-198.18.1.19");
        assert_eq!(s1.pool_of(u32::from(ip("198.18.1.101"))).unwrap().first, ip("198.18.1.100"));
        assert!(s1.pool_of(u32::from(ip("198.18.1.50"))).is_none());
        assert!(s1.pool_of(u32::from(ip("198.18.1.9"))).is_none());
    }

    #[test]
    fn events_move_counts_by_state_not_by_delta() {
        let t = tracker();
        let a = ip("198.18.1.10");
        t.event(a, 1, Some(Held::Assigned), Cause::Committed);
        t.event(a, 1, Some(Held::Assigned), Cause::Committed); // a renewal
        assert_eq!(figures(&t, 1), (1, 0));
        t.event(a, 1, Some(Held::Declined), Cause::Declined);
        assert_eq!(figures(&t, 1), (0, 1));
        t.event(a, 1, None, Cause::Reclaimed); // lease4_expire, then
        t.event(a, 1, None, Cause::Reclaimed); // lease4_recover: once
        assert_eq!(figures(&t, 1), (0, 0));
        let f = t.subnet(1).unwrap().counters.figures();
        assert_eq!((f.granted, f.reclaimed_declined, f.reclaimed), (1, 1, 0));
        let pool = t.subnet(1).unwrap().pool_of(u32::from(a)).unwrap().counters.figures();
        assert_eq!((pool.assigned, pool.granted, pool.reclaimed_declined), (0, 1, 1));
        // Out of every pool: counted in the subnet only.
        t.event(ip("198.18.1.50"), 1, Some(Held::Assigned), Cause::Committed);
        assert_eq!(figures(&t, 1), (1, 0));
        t.event(ip("198.18.1.50"), 1, None, Cause::Released);
        assert_eq!(t.subnet(1).unwrap().counters.figures().released, 1);
        // An address outside its subnet's prefix (the hash maps): counted.
        t.event(ip("198.18.7.7"), 2, Some(Held::Declined), Cause::Declined);
        assert_eq!(figures(&t, 2), (0, 1));
        t.event(ip("198.18.7.7"), 2, None, Cause::Reclaimed);
        assert_eq!(figures(&t, 2), (0, 0));
        // Unknown subnets are not counted.
        t.event(ip("198.18.9.1"), 9, Some(Held::Assigned), Cause::Committed);
        assert_eq!((figures(&t, 1), figures(&t, 2)), ((0, 0), (0, 0)));
    }

    #[test]
    fn a_recount_corrects_what_events_missed_and_keeps_newer_events() {
        let t = tracker();
        t.event(ip("198.18.1.11"), 1, Some(Held::Assigned), Cause::Committed); // gone from the db
        let r = recount(
            &t,
            None,
            vec![
                lease("198.18.1.10", 1, LeaseState::DEFAULT),
                lease("198.18.1.12", 1, LeaseState::DECLINED),
                lease("198.18.1.13", 1, LeaseState::EXPIRED_RECLAIMED),
                lease("198.18.2.10", 2, LeaseState::DEFAULT),
            ],
        );
        assert_eq!(r, Recount { leases: 4, corrected: 4 });
        assert_eq!((figures(&t, 1), figures(&t, 2)), ((1, 1), (1, 0)));
        assert_eq!(t.addresses(), 3);
        // Agreeing: nothing to correct.
        let same = || {
            vec![
                lease("198.18.1.10", 1, LeaseState::DEFAULT),
                lease("198.18.1.12", 1, LeaseState::DECLINED),
                lease("198.18.2.10", 2, LeaseState::DEFAULT),
            ]
        };
        assert_eq!(recount(&t, None, same()).corrected, 0);
        // A release Kea has not written yet: the recount leaves it alone
        // once, then believes the database.
        t.event(ip("198.18.1.10"), 1, None, Cause::Released);
        assert_eq!(recount(&t, None, same()).corrected, 0);
        assert_eq!(figures(&t, 1), (0, 1));
        assert_eq!(recount(&t, None, vec![lease("198.18.1.12", 1, LeaseState::DECLINED), lease("198.18.2.10", 2, LeaseState::DEFAULT)]).corrected, 0);
        assert_eq!(t.addresses(), 2, "the released address is forgotten once the database agrees");
        // Only one subnet: the others are untouched.
        let r = recount(&t, Some(2), vec![]);
        assert_eq!(r.corrected, 1);
        assert_eq!((figures(&t, 1), figures(&t, 2)), ((0, 1), (0, 0)));
        assert_eq!(t.corrections(), 5);
    }

    #[test]
    fn events_during_a_recount_win() {
        let t = tracker();
        let pages = (0..2).map(|i| {
            if i == 1 {
                // Between two pages, a client takes 198.18.1.15 and
                // releases 198.18.1.10 (the page read before said assigned).
                t.event(ip("198.18.1.15"), 1, Some(Held::Assigned), Cause::Committed);
                t.event(ip("198.18.1.10"), 1, None, Cause::Released);
                Ok::<_, Infallible>(vec![lease("198.18.1.16", 1, LeaseState::DEFAULT)])
            } else {
                Ok(vec![lease("198.18.1.10", 1, LeaseState::DEFAULT)])
            }
        });
        t.recount(None, pages).unwrap();
        assert_eq!(figures(&t, 1), (2, 0), "1.15 (event) and 1.16 (database)");
    }

    #[test]
    fn a_command_reads_the_truth_of_one_address() {
        let t = tracker();
        t.truth(ip("198.18.2.11"), Some(&lease("198.18.2.11", 2, LeaseState::DECLINED)));
        assert_eq!(figures(&t, 2), (0, 1));
        t.truth(ip("198.18.2.11"), None);
        assert_eq!(figures(&t, 2), (0, 0));
    }
}
