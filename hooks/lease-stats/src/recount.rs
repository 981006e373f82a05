//! The recount protocol, written once for both trackers ([`Tracker`] for
//! DHCPv4, [`crate::tracker6::Tracker6`] for DHCPv6; see
//! [`crate::tracker`]'s module docs): one recount steps through a tracker
//! at a time, under its recount lock ([`Recounts`]). A recount on Kea's main thread
//! ([`Recountable::recount_pages`]) holds the lock throughout; a
//! [`Background`] one takes it for one bounded step at a time (a chunk of
//! a page, some state words, one shard), so a main-thread recount
//! supersedes it between two steps and every later step fails with
//! [`Superseded`]. A recount opens (a new number and epoch, each shard's
//! event count), clears the last recount's marks, settles the pages and
//! sweeps what the database no longer holds; an `Err` page ends it where
//! it was (what it settled stays).
//!
//! The module is private: its items are `pub` only to appear in the
//! interface of [`Background`] (the public [`crate::tracker::Background`]
//! and [`crate::tracker6::Background6`]); nothing outside the crate can
//! name or implement [`Recountable`].

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::{AcqRel, Relaxed}};
use std::sync::Mutex;

use crate::tracker::{lock, Recount, Superseded, Tracker};

/// How much one step of a [`Background`] recount does while it holds the
/// recount lock: leases of a page, and state words looked at.
pub const STEP_LEASES: usize = 1024;
/// See [`STEP_LEASES`].
pub const STEP_WORDS: usize = 64 * 1024;

/// A tracker's recount state: its recount lock, epoch and corrections.
#[derive(Debug, Default)]
pub struct Recounts {
    /// The latest recount's number: events stamp or record it.
    pub epoch: AtomicU32,
    /// Addresses (or leases) recounts have corrected since the hook
    /// loaded.
    pub corrections: AtomicU64,
    /// Which recount may take steps: held by a recount on the calling
    /// thread throughout, by a [`Background`] recount one step at a time.
    runs: Mutex<Runs>,
}

impl Recounts {
    /// Counts `n` addresses (or leases) `run` corrected.
    pub fn corrected(&self, run: &mut Run, n: u64) {
        run.result.corrected += n;
        self.corrections.fetch_add(n, Relaxed);
    }
}

/// The recount in progress (behind a tracker's recount lock).
#[derive(Debug, Default)]
struct Runs {
    /// Its number (0: none); a recount whose number is not this one was
    /// superseded.
    active: u64,
    /// The last number given.
    last: u64,
}

/// A recount begun and not finished: its scope, epoch and the shards'
/// event counts when it began.
#[derive(Debug)]
pub struct Run {
    id: u64,
    /// The subnet it counts (`None`: all).
    pub only: Option<u32>,
    /// Its epoch.
    pub epoch: u32,
    /// Each shard's event count when it began.
    pub starts: Vec<u64>,
    /// What it has counted so far.
    result: Recount,
}

/// Where a pass over the state words of a recount's subnets has got to:
/// a subnet (by index) and an entry of its block bitmap.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor {
    /// The subnet (its index).
    pub subnet: usize,
    /// The entry of its block bitmap.
    pub entry: usize,
}

/// Where the end of a recount has got to: the pass over the state words
/// (DHCPv4's), then the shards, one a step.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sweep {
    /// The pass over the state words.
    pub words: Cursor,
    /// Whether that pass is over.
    pub words_done: bool,
    /// The next shard to sweep.
    pub shard: usize,
}

/// What the recount protocol needs of a tracker: its [`Recounts`], and
/// the steps that differ between the families (its leases, its marks,
/// its sweep).
pub trait Recountable {
    /// A lease as the database's pages hold it.
    type Lease;

    /// Its recount lock, epoch and corrections.
    fn recounts(&self) -> &Recounts;

    /// Each shard's event count now.
    fn shard_events(&self) -> Vec<u64>;

    /// Clears the marks the last recount left on the subnets in scope,
    /// from `cursor` on, until about `budget` words were looked at; true
    /// once all were. (By default there are none.)
    fn clear_seen(&self, _only: Option<u32>, _cursor: &mut Cursor, _budget: usize) -> bool {
        true
    }

    /// The subnet of `lease`, if a lease of its type counts at all.
    fn subnet_of(lease: &Self::Lease) -> Option<u32>;

    /// Applies what the database holds for `lease` (one that counts)
    /// unless an event is newer; returns whether the count changed.
    fn settle_lease(&self, lease: &Self::Lease, run: &Run) -> bool;

    /// One step of the end of a recount, from `at` on (about `budget`
    /// state words, or one shard): what the database did not mention and
    /// no event touched since the recount began is dropped; true once all
    /// was looked at.
    fn sweep_step(&self, run: &mut Run, at: &mut Sweep, budget: usize) -> bool;

    /// Settles each lease of `page` in the run's scope.
    fn settle_all(&self, run: &mut Run, page: &[Self::Lease]) {
        for lease in page {
            match Self::subnet_of(lease) {
                Some(s) if run.only.is_none_or(|only| only == s) => {}
                _ => continue,
            }
            run.result.leases += 1;
            if self.settle_lease(lease, run) {
                self.recounts().corrected(run, 1);
            }
        }
    }

    /// A whole recount on the calling thread, holding the recount lock
    /// throughout (see [`Tracker::recount`]): supersedes a background
    /// recount in progress (the `bool` says whether there was one); an
    /// `Err` from `pages` ends it where it was.
    fn recount_pages<E>(
        &self,
        only: Option<u32>,
        pages: impl IntoIterator<Item = Result<Vec<Self::Lease>, E>>,
    ) -> Result<(Recount, bool), E> {
        let mut runs = lock(&self.recounts().runs);
        let superseded = runs.active != 0;
        let mut run = open(self, &mut runs, only);
        self.clear_seen(only, &mut Cursor::default(), usize::MAX);
        let outcome = (|| {
            for page in pages {
                self.settle_all(&mut run, &page?);
            }
            Ok(())
        })();
        if let Err(e) = outcome {
            runs.active = 0;
            return Err(e);
        }
        let mut at = Sweep::default();
        while !self.sweep_step(&mut run, &mut at, usize::MAX) {}
        runs.active = 0;
        Ok((run.result, superseded))
    }
}

/// Numbers a new recount of `tracker`, makes it the one that steps, starts
/// its epoch and notes each shard's event count.
fn open<T: Recountable + ?Sized>(tracker: &T, runs: &mut Runs, only: Option<u32>) -> Run {
    runs.last += 1;
    runs.active = runs.last;
    let epoch = tracker.recounts().epoch.fetch_add(1, AcqRel).wrapping_add(1);
    // Each shard's event count now: what events wrote after it is newer
    // than anything this recount reads.
    let starts = tracker.shard_events();
    Run { id: runs.active, only, epoch, starts, result: Recount::default() }
}

/// A recount of every subnet taken a step at a time from a thread of the
/// hook's own, between which it holds no lock: begin it with
/// [`Tracker::background`] (or [`crate::tracker6::Tracker6::background`]),
/// [`feed`](Self::feed) it the database's pages as it gets them (from
/// Kea's main thread), then [`finish`](Self::finish) it. Each step holds
/// the recount lock for a bounded amount of work (at most 1,024 leases of
/// a page, some 64 Ki state words, or one shard's sweep); a recount on
/// Kea's main thread ([`Tracker::recount`], [`crate::tracker6::Tracker6::recount`])
/// supersedes it between two steps, and every later step fails with
/// [`Superseded`].
#[derive(Debug)]
pub struct Background<'t, T: Recountable = Tracker> {
    tracker: &'t T,
    run: Run,
}

impl<'t, T: Recountable> Background<'t, T> {
    /// Opens a recount of every subnet, superseding any background
    /// recount in progress.
    pub(crate) fn begin(tracker: &'t T) -> Self {
        let run = open(tracker, &mut lock(&tracker.recounts().runs), None);
        Background { tracker, run }
    }

    /// Runs one step under the recount lock unless the recount was
    /// superseded.
    pub(crate) fn step<R>(&mut self, f: impl FnOnce(&T, &mut Run) -> R) -> Result<R, Superseded> {
        let runs = lock(&self.tracker.recounts().runs);
        if runs.active != self.run.id {
            return Err(Superseded);
        }
        let r = f(self.tracker, &mut self.run);
        drop(runs);
        Ok(r)
    }

    /// Settles the leases of one page of the database.
    pub fn feed(&mut self, page: &[T::Lease]) -> Result<(), Superseded> {
        for chunk in page.chunks(STEP_LEASES) {
            self.step(|t, run| t.settle_all(run, chunk))?;
        }
        Ok(())
    }

    /// Drops what the database no longer holds and ends the recount.
    pub fn finish(mut self) -> Result<Recount, Superseded> {
        let mut at = Sweep::default();
        while !self.step(|t, run| t.sweep_step(run, &mut at, STEP_WORDS))? {}
        let mut runs = lock(&self.tracker.recounts().runs);
        if runs.active != self.run.id {
            return Err(Superseded);
        }
        runs.active = 0;
        Ok(self.run.result)
    }
}
