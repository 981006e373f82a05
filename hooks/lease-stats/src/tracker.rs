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
//!
//! A recount also passes over the state words twice (to clear the `seen`
//! marks of the last one, and, at its end, to drop what the database no
//! longer holds). A bitmap beside the words, one bit per block of 64
//! addresses, marks the blocks that may hold a word in use (counted,
//! pending or seen); the passes skip the others, so a recount of a /8
//! with a few thousand leases looks at a few thousand words, not 16
//! million. Events mark their block after writing their word, and the end
//! of a recount unmarks a block only after finding it empty, then looks at
//! it once more (both in sequentially consistent order, so an event
//! racing with it either is seen by the second look or sees the bit
//! cleared and sets it again).
//!
//! One recount at a time steps through the tracker. [`Tracker::recount`]
//! (Kea's main thread: configuration, commands) runs whole while it holds
//! the recount lock; a [`Background`] recount (a thread of the hook's
//! own, reading pages through the main thread) takes the lock only for one
//! bounded step at a time (a chunk of a page, a few thousand state words)
//! and never while it waits for a page. So the main thread never waits for
//! the lock longer than one such step, and a recount on the main thread
//! supersedes a background one in progress: that one's next step fails
//! with [`Superseded`], and what it did so far stays consistent (a
//! recount that never ends has only settled addresses the database
//! showed).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, Ordering::{AcqRel, Acquire, Relaxed, SeqCst}};
use std::sync::Mutex;

use kea_hooks::dhcp4::LeaseState;
use kea_hooks::dhcp4::{StoredLease4, Subnet4Config};

pub use crate::recount::Background;
use crate::recount::{Cursor, Recountable, Recounts, Run, Sweep, STEP_WORDS};

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

    pub(crate) fn code(held: Option<Held>) -> u8 {
        match held {
            None => 0,
            Some(Held::Assigned) => 1,
            Some(Held::Declined) => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Held> {
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
    pub(crate) fn precedes_write(self) -> bool {
        matches!(self, Cause::Released | Cause::Declined | Cause::Reclaimed)
    }
}

/// The counters of one subnet or pool.
#[derive(Debug, Default)]
pub struct Counters {
    assigned: AtomicI64,
    declined: AtomicI64,
    /// What the lease database's own statistics add to `assigned` and
    /// `declined` (0 but on SQL backends: see [`Counters::align`]).
    db_assigned: AtomicI64,
    db_declined: AtomicI64,
    /// Whether the gauges follow the database's statistics (aligned once):
    /// then a recount's corrections move the per-address states behind
    /// them, not what they show.
    aligned: AtomicBool,
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
            assigned: self.assigned.load(Relaxed) + self.db_assigned.load(Relaxed),
            declined: self.declined.load(Relaxed) + self.db_declined.load(Relaxed),
            granted: self.granted.load(Relaxed),
            released: self.released.load(Relaxed),
            reclaimed: self.reclaimed.load(Relaxed),
            reclaimed_declined: self.reclaimed_declined.load(Relaxed),
        }
    }

    /// Aligns the gauges with what the lease database counts (`assigned`
    /// and `declined` leases, read just now): until the next alignment
    /// they are those counts plus what events change after this, so
    /// leases this server did not see (another server's on a shared SQL
    /// database, an HA sync's) count, and this server's own still count
    /// at once. (An event racing the read may count twice or not at all
    /// until the next alignment.)
    ///
    /// Once aligned, what a recount corrects no longer moves the gauges
    /// (the database's statistics are the truth for them); events still
    /// do.
    pub fn align(&self, assigned: i64, declined: i64) {
        self.aligned.store(true, Relaxed);
        self.db_assigned.store(assigned - self.assigned.load(Relaxed), Relaxed);
        self.db_declined.store(declined - self.declined.load(Relaxed), Relaxed);
    }

    fn db_gauge(&self, held: Held) -> &AtomicI64 {
        match held {
            Held::Assigned => &self.db_assigned,
            Held::Declined => &self.db_declined,
        }
    }

    fn gauge(&self, held: Held) -> &AtomicI64 {
        match held {
            Held::Assigned => &self.assigned,
            Held::Declined => &self.declined,
        }
    }

    pub(crate) fn leave(&self, held: Held, cause: Cause) {
        self.gauge(held).fetch_sub(1, Relaxed);
        if cause == Cause::Recount && self.aligned.load(Relaxed) {
            self.db_gauge(held).fetch_add(1, Relaxed);
        }
        match (cause, held) {
            (Cause::Released, Held::Assigned) => self.released.fetch_add(1, Relaxed),
            (Cause::Reclaimed, Held::Assigned) => self.reclaimed.fetch_add(1, Relaxed),
            (Cause::Reclaimed, Held::Declined) => self.reclaimed_declined.fetch_add(1, Relaxed),
            _ => 0,
        };
    }

    pub(crate) fn enter(&self, held: Held, cause: Cause, was: Option<Held>) {
        self.gauge(held).fetch_add(1, Relaxed);
        if cause == Cause::Recount && self.aligned.load(Relaxed) {
            self.db_gauge(held).fetch_sub(1, Relaxed);
        }
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
    /// One bit per block of [`BLOCK`] words, 64 blocks to an entry: set
    /// while a word of the block may be in use ([`in_use`]). Never clear
    /// while one is, but during the moment an event takes between writing
    /// its word and setting the bit.
    blocks: Box<[AtomicU64]>,
}

const HELD_BITS: u16 = 0b11;
const PENDING: u16 = 1 << 2;
const SEEN: u16 = 1 << 3;
const STAMP_SHIFT: u16 = 4;
const STAMP_MASK: u32 = 0xfff;

/// State words per bit of [`Dense::blocks`], and per entry.
const BLOCK: usize = 64;
const BLOCKS_PER_ENTRY: usize = 64;
const WORDS_PER_ENTRY: usize = BLOCK * BLOCKS_PER_ENTRY;

/// The largest prefix given state words (a /8: 32 MiB), and the most
/// words in all (128 MiB); beyond, the hash maps.
const DENSE_MIN_PREFIX: u8 = 8;
const DENSE_BUDGET: u64 = 64 << 20;

/// Whether a state word holds anything a recount must look at: counted,
/// pending or seen. (Its stamp alone matters only to the recount in
/// whose epoch an event wrote it, and the event marked its block then.)
fn in_use(w: u16) -> bool {
    w & (HELD_BITS | PENDING | SEEN) != 0
}

impl Dense {
    fn new(first: u32, size: usize) -> Dense {
        Dense {
            first,
            words: (0..size).map(|_| AtomicU16::new(0)).collect(),
            blocks: (0..size.div_ceil(WORDS_PER_ENTRY)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn index(&self, address: u32) -> Option<usize> {
        let i = address.wrapping_sub(self.first) as usize;
        (address >= self.first && i < self.words.len()).then_some(i)
    }

    /// Marks the block of word `i` as in use; called after the word was
    /// written (sequentially consistent, paired with [`Self::release`]).
    fn mark(&self, i: usize) {
        let (entry, bit) = (&self.blocks[i / WORDS_PER_ENTRY], 1u64 << (i / BLOCK % BLOCKS_PER_ENTRY));
        if entry.load(SeqCst) & bit == 0 {
            entry.fetch_or(bit, SeqCst);
        }
    }

    /// Unmarks block `b`, found with no word in use, unless a word of it
    /// is in use by now (an event between the look and the clear).
    fn release(&self, b: usize) {
        let (entry, bit) = (&self.blocks[b / BLOCKS_PER_ENTRY], 1u64 << (b % BLOCKS_PER_ENTRY));
        entry.fetch_and(!bit, SeqCst);
        if self.block(b).iter().any(|w| in_use(w.load(SeqCst))) {
            entry.fetch_or(bit, SeqCst);
        }
    }

    /// The words of block `b`.
    fn block(&self, b: usize) -> &[AtomicU16] {
        let start = b * BLOCK;
        &self.words[start..(start + BLOCK).min(self.words.len())]
    }

    /// The marked blocks of entry `e`.
    fn marked(&self, e: usize) -> impl Iterator<Item = usize> {
        let mut bits = self.blocks[e].load(SeqCst);
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                e * BLOCKS_PER_ENTRY + b
            })
        })
    }
}

/// A state word: its subnet's words and its index among them.
#[derive(Clone, Copy)]
struct Slot<'a> {
    dense: &'a Dense,
    i: usize,
}

impl Slot<'_> {
    fn word(&self) -> &AtomicU16 {
        &self.dense.words[self.i]
    }

    fn address(&self) -> u32 {
        self.dense.first.wrapping_add(self.i as u32)
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
    /// The recount lock (see the module docs: held by [`Tracker::recount`]
    /// throughout, by a [`Background`] recount one step at a time), the
    /// latest recount's number (events stamp it into state words) and the
    /// corrections.
    recounts: Recounts,
}

/// The error of a [`Background`] recount's step after a recount on Kea's
/// main thread superseded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superseded;

impl std::fmt::Display for Superseded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("superseded by a recount on Kea's main thread")
    }
}

impl std::error::Error for Superseded {}

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
                    Dense::new(u32::from(s.prefix) & mask, size as usize)
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
            recounts: Recounts::default(),
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
        self.recounts.corrections.load(Relaxed)
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

    /// Blocks of state words marked in use, in all subnets.
    #[cfg(test)]
    fn marked_blocks(&self) -> u32 {
        let dense = self.subnets.iter().filter_map(|s| s.dense.as_ref());
        dense.flat_map(|d| d.blocks.iter()).map(|e| e.load(Relaxed).count_ones()).sum()
    }

    /// The stamp events write now (1 to 4095; 0 is "never").
    fn stamp(epoch: u32) -> u16 {
        (epoch.wrapping_sub(1) % STAMP_MASK + 1) as u16
    }

    /// The state word of `address` in subnet `subnet`, if it has one.
    fn word(&self, subnet: u32, address: u32) -> Option<Slot<'_>> {
        let dense = self.subnet(subnet)?.dense.as_ref()?;
        Some(Slot { dense, i: dense.index(address)? })
    }

    /// The state word of `address` in whichever subnet's prefix holds it.
    fn any_word(&self, address: u32) -> Option<(u32, Slot<'_>)> {
        self.subnets.iter().find_map(|s| {
            let dense = s.dense.as_ref()?;
            Some((s.id, Slot { dense, i: dense.index(address)? }))
        })
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
        if let Some(slot) = self.word(subnet, address) {
            return self.write_word(slot, subnet, held, cause);
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
    fn write_word(&self, slot: Slot<'_>, subnet: u32, held: Option<Held>, cause: Cause) {
        let stamp = Self::stamp(self.recounts.epoch.load(Acquire));
        let pending = if cause.precedes_write() { PENDING } else { 0 };
        let bits = u16::from(Held::code(held)) | pending | (stamp << STAMP_SHIFT);
        let old = slot.word().fetch_update(SeqCst, SeqCst, |old| Some(bits | (old & SEEN))).unwrap_or_else(|old| old);
        if in_use(bits | (old & SEEN)) {
            slot.dense.mark(slot.i);
        }
        self.move_counts(slot.address(), held_of_word(old).map(|h| (subnet, h)), held.map(|h| (subnet, h)), cause);
    }

    /// Reads the database's truth about one address (after a command
    /// changed it): applied at once, as an event.
    pub fn truth(&self, address: Ipv4Addr, lease: Option<&StoredLease4>) {
        match lease {
            Some(l) => self.event(address, l.subnet_id, Held::of(l.state), Cause::Committed),
            None => {
                let a = u32::from(address);
                if let Some((subnet, slot)) = self.any_word(a) {
                    self.write_word(slot, subnet, None, Cause::Recount);
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

    /// Recounts from the database on the calling thread (Kea's main thread:
    /// configuration, commands): `pages` yields the leases (all of them,
    /// or those of subnet `only`), then addresses the database no longer
    /// holds are dropped. Events may go on meanwhile. It holds the recount
    /// lock throughout, so it waits at most for the step a [`Background`]
    /// recount is taking, and supersedes that recount; the `bool` says
    /// whether it did. An `Err` from `pages` ends it where it was (what it
    /// settled stays).
    pub fn recount<E>(
        &self,
        only: Option<u32>,
        pages: impl IntoIterator<Item = Result<Vec<StoredLease4>, E>>,
    ) -> Result<(Recount, bool), E> {
        self.recount_pages(only, pages)
    }

    /// Begins a recount for a thread of the hook's own (see
    /// [`Background`]), superseding any background recount in progress.
    /// Fails if a recount on Kea's main thread supersedes it while it
    /// clears the last recount's marks.
    pub fn background(&self) -> Result<Background<'_>, Superseded> {
        let mut bg = Background::begin(self);
        let mut cursor = Cursor::default();
        while !bg.step(|t, _| t.clear_seen(None, &mut cursor, STEP_WORDS))? {}
        Ok(bg)
    }

    /// Calls `f` on each entry of the block bitmaps of the subnets in
    /// scope, from `cursor` on, until about `budget` words were looked at
    /// (`f` says how many it looked at); true once all were.
    fn pass(
        &self,
        only: Option<u32>,
        cursor: &mut Cursor,
        budget: usize,
        mut f: impl FnMut(&Subnet, &Dense, usize) -> usize,
    ) -> bool {
        let mut spent = 0usize;
        while let Some(subnet) = self.subnets.get(cursor.subnet) {
            if let Some(d) = subnet.dense.as_ref().filter(|_| only.is_none_or(|id| id == subnet.id)) {
                while cursor.entry < d.blocks.len() {
                    if spent >= budget {
                        return false;
                    }
                    spent = spent.saturating_add(1 + f(subnet, d, cursor.entry));
                    cursor.entry += 1;
                }
            }
            cursor.subnet += 1;
            cursor.entry = 0;
        }
        true
    }

    /// The end of a recount over the state words: words the database did
    /// not mention and no event wrote since the recount began hold
    /// nothing; `seen` marks are cleared on the way, and blocks found with
    /// no word in use unmarked.
    fn sweep(&self, run: &mut Run, cursor: &mut Cursor, budget: usize) -> bool {
        let stamp = Self::stamp(run.epoch);
        let mut corrected = 0;
        let done = self.pass(run.only, cursor, budget, |subnet, d, e| {
            let mut looked = 0;
            for b in d.marked(e) {
                let mut used = false;
                for (k, w) in d.block(b).iter().enumerate() {
                    let mut old = w.load(SeqCst);
                    loop {
                        let (new, gone) = if old & SEEN != 0 || (old >> STAMP_SHIFT) == stamp {
                            (old & !SEEN, None)
                        } else if old & PENDING != 0 {
                            (old & !PENDING, None)
                        } else if let Some(held) = held_of_word(old) {
                            (old & !HELD_BITS, Some(held))
                        } else {
                            (old, None)
                        };
                        if new == old {
                            used |= in_use(old);
                            break;
                        }
                        match w.compare_exchange(old, new, SeqCst, SeqCst) {
                            Ok(_) => {
                                if let Some(held) = gone {
                                    let address = d.first.wrapping_add((b * BLOCK + k) as u32);
                                    self.move_counts(address, Some((subnet.id, held)), None, Cause::Recount);
                                    corrected += 1;
                                }
                                used |= in_use(new);
                                break;
                            }
                            Err(now) => old = now,
                        }
                    }
                }
                if !used {
                    d.release(b);
                }
                looked += BLOCK;
            }
            looked
        });
        self.recounts.corrected(run, corrected);
        done
    }

    /// The end of a recount over shard `i`: addresses not in the database
    /// and not touched since the recount began are dropped.
    fn sweep_shard(&self, run: &mut Run, i: usize) {
        let (only, epoch, start) = (run.only, run.epoch, run.starts[i]);
        let mut corrected = 0;
        lock(&self.shards[i]).map.retain(|&address, e| {
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
                corrected += 1;
            }
            false
        });
        self.recounts.corrected(run, corrected);
    }

    /// Applies what the database holds for `address` unless an event is
    /// newer; returns whether the count changed.
    fn settle(&self, address: Ipv4Addr, truth: Option<(u32, Held)>, starts: &[u64], epoch: u32) -> bool {
        let a = u32::from(address);
        let slot = match truth {
            Some((subnet, _)) => self.word(subnet, a).map(|w| (subnet, w)),
            None => self.any_word(a),
        };
        if let Some((subnet, slot)) = slot {
            let stamp = Self::stamp(epoch);
            let w = slot.word();
            let mut old = w.load(SeqCst);
            loop {
                let (new, settles) = if (old >> STAMP_SHIFT) == stamp {
                    (old | SEEN, false) // an event wrote it during this recount
                } else if old & PENDING != 0 {
                    (old & !PENDING | SEEN, false)
                } else {
                    ((old & !HELD_BITS) | u16::from(Held::code(truth.map(|t| t.1))) | SEEN, true)
                };
                match w.compare_exchange(old, new, SeqCst, SeqCst) {
                    Ok(_) => {
                        slot.dense.mark(slot.i);
                        if !settles {
                            return false;
                        }
                        let was = held_of_word(old).map(|h| (subnet, h));
                        self.move_counts(a, was, truth, Cause::Recount);
                        return was != truth;
                    }
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

impl Recountable for Tracker {
    type Lease = StoredLease4;

    fn recounts(&self) -> &Recounts {
        &self.recounts
    }

    fn shard_events(&self) -> Vec<u64> {
        self.shards.iter().map(|s| lock(s).events).collect()
    }

    /// Clears the `seen` marks (of the last recount) in the marked blocks
    /// of the subnets in scope.
    fn clear_seen(&self, only: Option<u32>, cursor: &mut Cursor, budget: usize) -> bool {
        self.pass(only, cursor, budget, |_, d, e| {
            let mut looked = 0;
            for b in d.marked(e) {
                for w in d.block(b) {
                    if w.load(Relaxed) & SEEN != 0 {
                        w.fetch_and(!SEEN, AcqRel);
                    }
                }
                looked += BLOCK;
            }
            looked
        })
    }

    fn subnet_of(lease: &StoredLease4) -> Option<u32> {
        Some(lease.subnet_id)
    }

    fn settle_lease(&self, lease: &StoredLease4, run: &Run) -> bool {
        self.settle(lease.address, Held::of(lease.state).map(|h| (lease.subnet_id, h)), &run.starts, run.epoch)
    }

    /// The state words first (as many steps as their budget takes), then
    /// one shard a step.
    fn sweep_step(&self, run: &mut Run, at: &mut Sweep, budget: usize) -> bool {
        if !at.words_done {
            at.words_done = self.sweep(run, &mut at.words, budget);
            return false;
        }
        self.sweep_shard(run, at.shard);
        at.shard += 1;
        at.shard == SHARDS
    }
}

/// Locks, ignoring poisoning (the counters stay consistent: every update
/// is complete before anything can panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kea_hooks::dhcp4::Pool4Config;
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
        t.recount(only, [Ok::<_, Infallible>(leases)]).unwrap().0
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

    #[test]
    fn a_recount_on_the_main_thread_supersedes_a_background_one() {
        let t = tracker();
        t.event(ip("198.18.1.11"), 1, Some(Held::Assigned), Cause::Committed); // gone from the db
        let db = vec![lease("198.18.1.10", 1, LeaseState::DEFAULT), lease("198.18.2.10", 2, LeaseState::DECLINED)];
        let mut bg = t.background().unwrap();
        bg.feed(&db[..1]).unwrap();
        // The command, between two pages of the background recount.
        let (r, superseded) = t.recount(None, [Ok::<_, Infallible>(db.clone())]).unwrap();
        assert!(superseded);
        assert_eq!(r, Recount { leases: 2, corrected: 2 }, "1.11 dropped, 2.10 added (1.10 the background one had settled)");
        assert_eq!(bg.feed(&db[1..]), Err(Superseded));
        assert_eq!(bg.finish().unwrap_err(), Superseded);
        assert_eq!((figures(&t, 1), figures(&t, 2)), ((1, 0), (0, 1)));
        assert_eq!(t.corrections(), 3, "what the superseded recount corrected counts too");
        // The next background recount runs to its end and agrees.
        let mut bg = t.background().unwrap();
        bg.feed(&db).unwrap();
        assert_eq!(bg.finish(), Ok(Recount { leases: 2, corrected: 0 }));
        assert!(!t.recount(None, [Ok::<_, Infallible>(db)]).unwrap().1, "nothing to supersede");
        // A recount of one subnet supersedes a background one too.
        let _bg = t.background().unwrap();
        assert!(t.recount(Some(2), [Ok::<_, Infallible>(vec![])]).unwrap().1);
        assert_eq!(figures(&t, 2), (0, 0));
    }

    #[test]
    fn a_background_recount_in_small_steps_counts_as_one_in_a_piece() {
        // A /16: 65,536 state words, so the passes take several steps.
        let t = Tracker::new(&[Subnet4Config {
            id: 5,
            prefix: ip("10.5.0.0"),
            prefix_len: 16,
            pools: vec![Pool4Config { first: ip("10.5.0.1"), last: ip("10.5.255.254") }],
        }]);
        let addr = |i: u32| Ipv4Addr::from(u32::from(ip("10.5.0.0")) + i);
        // Events missed: counted but not in the database.
        for i in (0..60_000).step_by(7) {
            t.event(addr(i), 5, Some(Held::Assigned), Cause::Committed);
        }
        let db: Vec<StoredLease4> = (0..60_000).step_by(5).map(|i| lease(&addr(i).to_string(), 5, LeaseState::DEFAULT)).collect();
        let mut bg = t.background().unwrap();
        for page in db.chunks(3000) {
            bg.feed(page).unwrap();
        }
        let r = bg.finish().unwrap();
        assert_eq!(r.leases, 12_000);
        assert_eq!(figures(&t, 5), (12_000, 0));
        let both = (0..60_000).filter(|i| i % 5 == 0 && i % 7 == 0).count() as u64;
        assert_eq!(r.corrected, (12_000 - both) + (8572 - both), "added, then dropped");
        assert_eq!(t.recount(None, [Ok::<_, Infallible>(db)]).unwrap().0.corrected, 0);
    }

    #[test]
    fn recounts_pass_over_the_blocks_in_use_only() {
        // A /8 (16 Mi state words) with leases in three blocks.
        let t = Tracker::new(&[Subnet4Config {
            id: 8,
            prefix: ip("10.0.0.0"),
            prefix_len: 8,
            pools: vec![Pool4Config { first: ip("10.0.0.1"), last: ip("10.255.255.254") }],
        }]);
        assert_eq!(t.marked_blocks(), 0);
        for a in ["10.0.0.1", "10.0.0.2", "10.128.0.1", "10.255.255.254"] {
            t.event(ip(a), 8, Some(Held::Assigned), Cause::Committed);
        }
        assert_eq!(t.marked_blocks(), 3);
        // The database has 10.0.0.1 and one lease the events missed.
        let db = || vec![lease("10.0.0.1", 8, LeaseState::DEFAULT), lease("10.64.0.1", 8, LeaseState::DEFAULT)];
        let r = recount(&t, None, db());
        assert_eq!(r, Recount { leases: 2, corrected: 4 });
        assert_eq!(figures(&t, 8), (2, 0));
        assert_eq!(t.marked_blocks(), 2, "the blocks left empty are unmarked, the new one marked");
        // A release: its block stays marked (the word is pending) until a
        // recount has looked at it.
        t.event(ip("10.64.0.1"), 8, None, Cause::Released);
        assert_eq!(t.marked_blocks(), 2);
        let db = || vec![lease("10.0.0.1", 8, LeaseState::DEFAULT)];
        assert_eq!(recount(&t, None, db()).corrected, 0);
        assert_eq!(t.marked_blocks(), 1);
        // A reclaimed lease in the database is seen, then unmarked.
        let r = recount(&t, None, vec![lease("10.0.0.1", 8, LeaseState::DEFAULT), lease("10.9.0.1", 8, LeaseState::EXPIRED_RECLAIMED)]);
        assert_eq!((r.corrected, t.marked_blocks()), (0, 1));
        assert_eq!(figures(&t, 8), (1, 0));
    }

    #[test]
    fn aligned_gauges_follow_the_database_and_events_not_recounts() {
        let c = Counters::default();
        c.enter(Held::Assigned, Cause::Committed, None);
        c.enter(Held::Assigned, Cause::Recount, None);
        assert_eq!(c.figures().assigned, 2, "not aligned: a recount's correction shows");
        // The database says 10 assigned and 1 declined (another server's).
        c.align(10, 1);
        assert_eq!((c.figures().assigned, c.figures().declined), (10, 1));
        c.enter(Held::Assigned, Cause::Committed, None);
        c.leave(Held::Declined, Cause::Reclaimed);
        assert_eq!((c.figures().assigned, c.figures().declined), (11, 0), "events show at once");
        c.enter(Held::Assigned, Cause::Recount, None);
        c.leave(Held::Assigned, Cause::Recount);
        c.enter(Held::Declined, Cause::Recount, None);
        assert_eq!((c.figures().assigned, c.figures().declined), (11, 0), "a recount moves what is behind them");
        c.align(12, 0);
        assert_eq!((c.figures().assigned, c.figures().declined), (12, 0));
    }
}
