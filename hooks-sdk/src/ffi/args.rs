//! Callout arguments: the shim returns raw pointers, turned here into
//! references bounded by the borrow of the callout handle.

use super::shim::bridge::*;
use super::shim::bridge::{Arg, CalloutHandle};
use super::shim4::bridge::*;
use super::shim6::bridge::*;

// // The shim returns raw pointers into objects that the callout handle's
// argument map keeps alive through `boost::shared_ptr`s. The map only
// changes through `setArgument`/`deleteArgument`, which this crate never
// exposes, and Kea does not touch a handle's arguments while one of its
// callouts runs. Tying the returned reference to the borrow of the handle
// is therefore sound: the pointee outlives `'a`. Null becomes `None`.

impl Arg {
    /// Kea's name of the argument.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Arg::Query4 => "query4",
            Arg::Response4 => "response4",
            Arg::Lease4 => "lease4",
            Arg::Subnet4 => "subnet4",
            Arg::Leases4 => "leases4",
            Arg::DeletedLeases4 => "deleted_leases4",
            Arg::FakeAllocation => "fake_allocation",
            Arg::OfferLifetime => "offer_lifetime",
            Arg::OldLease => "old_lease",
            Arg::Query6 => "query6",
            Arg::Response6 => "response6",
            Arg::Lease6 => "lease6",
            Arg::Subnet6 => "subnet6",
            Arg::Leases6 => "leases6",
            Arg::DeletedLeases6 => "deleted_leases6",
            _ => "unknown",
        }
    }
}

/// Which argument to fetch: one the SDK names, or any name.
#[derive(Clone, Copy)]
pub(crate) enum ArgRef<'n> {
    Known(Arg),
    Named(&'n str),
}

impl<'n> ArgRef<'n> {
    /// `name`, as the argument the SDK knows by that name if it is one: its
    /// key string is built once (a name is copied into a new string for
    /// every read).
    #[inline]
    pub(crate) fn by_name(name: &'n str) -> ArgRef<'n> {
        const KNOWN: [Arg; 12] = [
            Arg::Query4,
            Arg::Response4,
            Arg::Lease4,
            Arg::Subnet4,
            Arg::Leases4,
            Arg::DeletedLeases4,
            Arg::Query6,
            Arg::Response6,
            Arg::Lease6,
            Arg::Subnet6,
            Arg::Leases6,
            Arg::DeletedLeases6,
        ];
        match KNOWN.iter().find(|a| a.name() == name) {
            Some(a) => ArgRef::Known(*a),
            None => ArgRef::Named(name),
        }
    }
}

macro_rules! arg_ref {
    ($(#[$doc:meta])* $fn:ident -> $ty:ty, $known:ident, $named:ident) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $fn<'a>(h: &'a CalloutHandle, arg: ArgRef<'_>) -> Result<Option<&'a $ty>, cxx::Exception> {
            #[cold]
            #[inline(never)]
            fn refetch(h: &CalloutHandle, arg: Arg) -> Result<*const $ty, cxx::Exception> {
                $named(h, arg.name())
            }
            let p = match arg {
                ArgRef::Known(a) => {
                    let mut ok = false;
                    let p = $known(h, a, &mut ok);
                    if ok { p } else { refetch(h, a)? }
                }
                ArgRef::Named(n) => $named(h, n)?,
            };
            // SAFETY: see the comment above this group of functions.
            Ok(unsafe { p.as_ref() })
        }
    };
}

arg_ref!(
    /// The argument as a `Pkt4`, `None` when Kea passed a null pointer.
    arg_pkt4_ref -> Pkt4, known_arg_pkt4, arg_pkt4
);
arg_ref!(
    /// The argument as a `Lease4`.
    arg_lease4_ref -> Lease4, known_arg_lease4, arg_lease4
);
arg_ref!(
    /// The argument as a `Subnet4`.
    arg_subnet4_ref -> Subnet4, known_arg_subnet4, arg_subnet4
);
arg_ref!(
    /// The argument as a `Lease4Collection`.
    arg_lease4_collection_ref -> Lease4Collection, known_arg_lease4_collection, arg_lease4_collection
);

arg_ref!(
    /// The argument as a `Pkt6`, `None` when Kea passed a null pointer.
    arg_pkt6_ref -> Pkt6, known_arg_pkt6, arg_pkt6
);
arg_ref!(
    /// The argument as a `Lease6`.
    arg_lease6_ref -> Lease6, known_arg_lease6, arg_lease6
);
arg_ref!(
    /// The argument as a `Subnet6`.
    arg_subnet6_ref -> Subnet6, known_arg_subnet6, arg_subnet6
);
arg_ref!(
    /// The argument as a `Lease6Collection`.
    arg_lease6_collection_ref -> Lease6Collection, known_arg_lease6_collection, arg_lease6_collection
);

/// Element `index` of a DHCPv6 lease collection.
#[inline]
pub(crate) fn lease6_collection_at(leases: &Lease6Collection, index: usize) -> Option<&Lease6> {
    let p = lease6_collection_get(leases, index);
    // SAFETY: as for `lease4_collection_at`: the collection holds the
    // lease and stays borrowed; null past the end.
    unsafe { p.as_ref() }
}

/// Argument `arg` as a boolean.
#[inline]
pub(crate) fn arg_bool_known(h: &CalloutHandle, arg: Arg) -> Result<bool, cxx::Exception> {
    let mut ok = false;
    let value = known_arg_bool(h, arg, &mut ok);
    if ok {
        Ok(value)
    } else {
        arg_bool(h, arg.name())
    }
}

/// Element `index` of a lease collection.
#[inline]
pub(crate) fn lease4_collection_at(leases: &Lease4Collection, index: usize) -> Option<&Lease4> {
    let p = lease4_collection_get(leases, index);
    // SAFETY: the element is held by a `Lease4Ptr` inside the collection,
    // which the reference `leases` keeps borrowed (and so unchanged and
    // alive); the shim returns null for an index out of range.
    unsafe { p.as_ref() }
}

/// Argument `name` as a client identifier (`None` when Kea passed null).
pub(crate) fn arg_client_id_ref<'a>(h: &'a CalloutHandle, name: &str) -> Result<Option<&'a ClientId>, cxx::Exception> {
    let p = arg_client_id(h, name)?;
    // SAFETY: as for the arguments above: the handle's argument map keeps
    // the object alive and unchanged for the borrow of the handle.
    Ok(unsafe { p.as_ref() })
}

/// Argument `name` as a hardware address (`None` when Kea passed null).
pub(crate) fn arg_hwaddr_ref<'a>(h: &'a CalloutHandle, name: &str) -> Result<Option<&'a HWAddr>, cxx::Exception> {
    let p = arg_hwaddr(h, name)?;
    // SAFETY: as for the arguments above.
    Ok(unsafe { p.as_ref() })
}

/// Sets argument `name` to `value` as a Kea data element, built value by
/// value (Kea's text parser reads a character at a time through an
/// iostream; this is several times cheaper for a command's answer).
/// Integers beyond `i64` (Kea's integer element) go through the text
/// parser, as they did before.
pub(crate) fn arg_set_element(handle: &CalloutHandle, name: &str, value: &serde_json::Value) -> Result<(), cxx::Exception> {
    fn fits(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n.is_i64() || n.is_f64(),
            serde_json::Value::Array(a) => a.iter().all(fits),
            serde_json::Value::Object(m) => m.values().all(fits),
            _ => true,
        }
    }
    fn build(mut b: std::pin::Pin<&mut ElementBuilder>, v: &serde_json::Value) -> Result<(), cxx::Exception> {
        use serde_json::Value;
        match v {
            Value::Null => element_null(b),
            Value::Bool(x) => element_bool(b, *x),
            Value::Number(n) => match n.as_i64() {
                Some(i) => element_int(b, i),
                None => element_float(b, n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => element_string(b, s),
            Value::Array(items) => {
                element_begin_list(b.as_mut())?;
                for item in items {
                    build(b.as_mut(), item)?;
                }
                element_end(b)
            }
            Value::Object(map) => {
                element_begin_map(b.as_mut())?;
                for (k, item) in map {
                    element_key(b.as_mut(), k)?;
                    build(b.as_mut(), item)?;
                }
                element_end(b)
            }
        }
    }
    if crate::command::has_big_integer(value) {
        return arg_set_element_json(handle, name, &crate::command::expand_big_integers(&value.to_string()));
    }
    if !fits(value) {
        return arg_set_element_json(handle, name, &value.to_string());
    }
    let mut builder = element_builder_new();
    build(builder.pin_mut(), value)?;
    arg_set_element_built(handle, name, &builder)
}
