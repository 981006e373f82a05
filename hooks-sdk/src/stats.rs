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

use std::time::Duration;

use crate::error::{Error, ErrorKind};
use crate::ffi::{self, StatKind};

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
    let r = ffi::statistic_get(name)?;
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
