//! Statistics: a hook's own figures in Kea's statistics manager, and
//! Kea's.
//!
//! What a hook sets here is what `statistic-get`, `statistic-get-all` and
//! every exporter reading Kea's statistics see, next to Kea's own
//! (`pkt4-received`, `subnet[1].assigned-addresses`, ...), which a hook can
//! read too. Kea keeps a statistic until someone removes it (a reload of
//! the hook does not): name yours after the hook (`notifier.sent`), and
//! remove those that stop meaning anything.
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! use kea_hooks::stats;
//! # struct H;
//! # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
//! #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
//!
//! impl Callout<dhcp4::Leases4Committed> for H {
//!     fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
//!         stats::add_integer("notifier.committed", cx.leases()?.len() as i64)?;
//!         let assigned = stats::get_integer("subnet[1].assigned-addresses")?.unwrap_or(0);
//!         tracing::debug!(assigned, "subnet 1");
//!         Ok(())
//!     }
//! }
//! # kea_hooks::kea_hook!(H);
//! ```
//!
//! # Threads
//! Kea's statistics manager locks itself only while Kea's multi-threading
//! is on. So these functions run on any thread when it is on (the default
//! since Kea 2.4), and otherwise only on Kea's main thread, where Kea
//! itself and every callout, command handler and `load` run then: called
//! from a hook's own thread with multi-threading off, they fail with
//! [`ErrorKind::WrongThread`] and touch nothing.

use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::ffi::{self, StatKind};
use crate::threads::main_thread;

/// A statistic's latest value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StatValue {
    /// An integer (Kea's counters and gauges).
    Integer(i64),
    /// A 128-bit integer (Kea 2.6+, for example the size of an IPv6 pool).
    BigInteger(i128),
    /// A floating-point value.
    Float(f64),
    /// A duration.
    Duration(Duration),
    /// Text.
    String(String),
}

/// Fails unless Kea's statistics manager may be used on this thread.
fn check_thread() -> Result<(), Error> {
    if ffi::multi_threading_enabled() || ffi::on_main_thread() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::WrongThread,
            "Kea's statistics may be used only on its main thread while its multi-threading is off",
        ))
    }
}

/// Sets integer statistic `name` to `value`, creating it if needed (a
/// statistic of another type under that name is replaced).
pub fn set_integer(name: &str, value: i64) -> Result<(), Error> {
    check_thread()?;
    Ok(ffi::statistic_set_integer(name, value)?)
}

/// Creates integer statistic `name` at 0 unless Kea has it already, so
/// that it shows from the hook's load on and a reload keeps its count
/// (the usual start for a hook's own counters).
pub fn declare_integer(name: &str) -> Result<(), Error> {
    if get(name)?.is_none() {
        set_integer(name, 0)?;
    }
    Ok(())
}

/// Adds `value` (may be negative) to integer statistic `name`, creating it
/// at `value` if needed. Fails (a Kea error) when `name` holds another
/// type.
pub fn add_integer(name: &str, value: i64) -> Result<(), Error> {
    check_thread()?;
    Ok(ffi::statistic_add(name, value)?)
}

/// Sets floating-point statistic `name` to `value`, creating it if needed.
pub fn set_float(name: &str, value: f64) -> Result<(), Error> {
    check_thread()?;
    Ok(ffi::statistic_set_float(name, value)?)
}

/// Adds `value` to floating-point statistic `name`, creating it if needed.
pub fn add_float(name: &str, value: f64) -> Result<(), Error> {
    check_thread()?;
    Ok(ffi::statistic_add_float(name, value)?)
}

/// Sets text statistic `name` to `value`, creating it if needed.
pub fn set_string(name: &str, value: &str) -> Result<(), Error> {
    check_thread()?;
    Ok(ffi::statistic_set_string(name, value)?)
}

/// Removes statistic `name`; false when there was none.
pub fn remove(name: &str) -> Result<bool, Error> {
    check_thread()?;
    Ok(ffi::statistic_remove(name)?)
}

/// Resets statistic `name` to zero (of its type); false when there is none.
pub fn reset(name: &str) -> Result<bool, Error> {
    check_thread()?;
    Ok(ffi::statistic_reset(name)?)
}

/// The latest value of statistic `name`, `None` when there is none.
pub fn get(name: &str) -> Result<Option<StatValue>, Error> {
    check_thread()?;
    value_of(name, ffi::statistic_get(name)?)
}

/// A reading of the shim's as a [`StatValue`] (`None`: no such statistic).
fn value_of(name: &str, r: ffi::StatReading) -> Result<Option<StatValue>, Error> {
    Ok(match r.kind {
        StatKind::Integer => Some(StatValue::Integer(r.integer)),
        StatKind::BigInteger => Some(StatValue::BigInteger(r.text.parse().map_err(|_| {
            Error::new(ErrorKind::Kea, format!("statistic {name}: {:?} is not a 128-bit integer", r.text))
        })?)),
        StatKind::Float => Some(StatValue::Float(r.float_)),
        StatKind::Duration => {
            Some(StatValue::Duration(Duration::from_micros(u64::try_from(r.integer).unwrap_or(0))))
        }
        StatKind::String => Some(StatValue::String(r.text)),
        _ => None,
    })
}

/// One of Kea's statistics: its name and latest value.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistic {
    /// Its name (`pkt4-received`, `subnet[1].assigned-addresses`,
    /// `subnet[1].pool[0].total-addresses`, a hook's `run-script.run`).
    pub name: String,
    /// Its latest value.
    pub value: StatValue,
}

/// How many statistics Kea has.
pub fn count() -> Result<usize, Error> {
    check_thread()?;
    Ok(ffi::statistic_count()?)
}

/// Up to `max` of Kea's statistics, in name order: from the first (`after`
/// `None`) or those whose names sort after `after`. A page costs
/// O(`max` + log n), whatever the number n of statistics, so walking all
/// of them a page at a time (the next page after the last name of this
/// one) keeps each step short; statistics added or removed between pages
/// show or go as they would in one sweep of a sorted list. A statistic of
/// a type the SDK does not know is left out.
pub fn page(after: Option<&str>, max: usize) -> Result<Vec<Statistic>, Error> {
    Ok(raw_page(after, max)?.0)
}

/// [`page`], with the number of statistics Kea gave (those of unknown
/// types included) and the last name among them: where the next page
/// starts.
fn raw_page(after: Option<&str>, max: usize) -> Result<(Vec<Statistic>, usize, Option<String>), Error> {
    check_thread()?;
    let rows = ffi::statistics_page(after.unwrap_or(""), after.is_none(), max)?;
    let (given, last) = (rows.len(), rows.last().map(|r| r.name.clone()));
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(value) = value_of(&row.name, row.value)? {
            out.push(Statistic { name: row.name, value });
        }
    }
    Ok((out, given, last))
}

/// Every statistic, read by [`read_all`], and what the reading cost.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The statistics, in name order.
    pub statistics: Vec<Statistic>,
    /// How many pages were read.
    pub pages: usize,
    /// How many of them ran on Kea's main thread (all while Kea's
    /// multi-threading is off; none while it is on).
    pub main_thread_pages: usize,
    /// The longest a page held Kea's main thread (zero when none ran
    /// there).
    pub longest_main_thread_page: Duration,
}

/// Every statistic, read from any thread under Kea's threading rules, a
/// page of `page_size` at a time (see [`page`]), by `deadline`.
///
/// While Kea's multi-threading is on, the pages are read on this thread,
/// each under the statistics manager's own lock (held for one page, so
/// Kea's packet threads wait at most that long to count). While it is off,
/// each page runs on Kea's main thread
/// ([`main_thread::call_timeout`]),
/// between Kea's own work, so no step holds a packet up longer than one
/// page; a main thread that does not take a page by the deadline fails
/// the reading with [`ErrorKind::TimedOut`]. On Kea's main thread itself
/// (a callout, a command handler) it reads directly.
pub fn read_all(page_size: usize, deadline: Instant) -> Result<Snapshot, Error> {
    let page_size = page_size.max(1);
    let mut snap = Snapshot::default();
    let mut after: Option<String> = None;
    loop {
        let (rows, given, last) = if ffi::multi_threading_enabled() || ffi::on_main_thread() {
            raw_page(after.as_deref(), page_size)?
        } else {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(ErrorKind::TimedOut, "reading Kea's statistics: past the deadline"));
            }
            let from = after.clone();
            let (page, took) = main_thread::call_timeout(left, move || {
                let t0 = Instant::now();
                raw_page(from.as_deref(), page_size).map(|page| (page, t0.elapsed()))
            })??;
            snap.main_thread_pages += 1;
            snap.longest_main_thread_page = snap.longest_main_thread_page.max(took);
            page
        };
        snap.pages += 1;
        snap.statistics.extend(rows);
        if given < page_size {
            return Ok(snap);
        }
        after = last;
        if Instant::now() >= deadline {
            return Err(Error::new(ErrorKind::TimedOut, "reading Kea's statistics: past the deadline"));
        }
    }
}

/// The latest value of integer statistic `name` (a big integer that fits
/// too), `None` when there is none; fails when it holds another type.
pub fn get_integer(name: &str) -> Result<Option<i64>, Error> {
    match get(name)? {
        None => Ok(None),
        Some(StatValue::Integer(v)) => Ok(Some(v)),
        Some(StatValue::BigInteger(v)) => i64::try_from(v)
            .map(Some)
            .map_err(|_| Error::new(ErrorKind::Invalid, format!("statistic {name} ({v}) does not fit in an i64"))),
        Some(other) => Err(Error::new(ErrorKind::Invalid, format!("statistic {name} is not an integer: {other:?}"))),
    }
}
