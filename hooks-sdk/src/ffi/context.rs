//! The per-packet context: the hook's typed values, kept in the packet's
//! callout handle (Kea's `setContext`), so that they live exactly as long
//! as the packet and go with it, on whatever thread lets it go.

use std::any::{Any, TypeId};
use std::panic::{self, AssertUnwindSafe};

use super::process::write_stderr_line;
use super::shim::bridge::{handle_context, CalloutHandle};

/// The values one library keeps for one packet, one per type.
///
/// The shim holds it in a `rust::Box` inside the handle's context; Kea
/// destroys the context with the packet, which drops this box through
/// cxx's drop glue (an `extern "C"` function, which must not unwind).
/// The first value sits in the struct itself (most hooks keep one or two
/// per packet: one allocation less than a list for them).
#[derive(Default)]
pub(crate) struct PacketValues {
    first: Option<(TypeId, Box<dyn Any + Send>)>,
    more: Vec<(TypeId, Box<dyn Any + Send>)>,
}

impl PacketValues {
    /// Puts `value` in, returning the value of the same type it replaces.
    pub(crate) fn insert<T: Any + Send>(&mut self, value: T) -> Option<T> {
        let id = TypeId::of::<T>();
        let old = self.take::<T>();
        let entry: (TypeId, Box<dyn Any + Send>) = (id, Box::new(value));
        if self.first.is_none() {
            self.first = Some(entry);
        } else {
            self.more.push(entry);
        }
        old
    }

    /// The value of type `T`, if there is one.
    pub(crate) fn get<T: Any + Send>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.first.iter().chain(self.more.iter()).find(|(t, _)| *t == id).and_then(|(_, v)| v.downcast_ref())
    }

    /// Takes the value of type `T` out.
    pub(crate) fn take<T: Any + Send>(&mut self) -> Option<T> {
        let id = TypeId::of::<T>();
        let boxed = if self.first.as_ref().is_some_and(|(t, _)| *t == id) {
            // The next one (if any) takes its place.
            let (_, boxed) = self.first.take()?;
            self.first = self.more.pop();
            boxed
        } else {
            let at = self.more.iter().position(|(t, _)| *t == id)?;
            self.more.swap_remove(at).1
        };
        // SAFETY: every value is stored by `insert::<T>` beside
        // `TypeId::of::<T>()`, and this one's id is `T`'s: the box holds a
        // `T` (what `Box::downcast` would check again, through the value's
        // vtable).
        Some(*unsafe { Box::from_raw(Box::into_raw(boxed).cast::<T>()) })
    }
}

/// Drops a value inside Kea (a context's destructor runs through an
/// `extern "C"` function): a panic in the value's own `Drop` stops here.
fn drop_value(value: Box<dyn Any + Send>) {
    if panic::catch_unwind(AssertUnwindSafe(move || drop(value))).is_err() {
        write_stderr_line("kea-hooks: a per-packet value panicked while it was dropped (ignored)");
    }
}

impl Drop for PacketValues {
    fn drop(&mut self) {
        // Most often nothing is left (a hook takes what it stored).
        if let Some((_, value)) = self.first.take() {
            drop_value(value);
        }
        if !self.more.is_empty() {
            for (_, value) in self.more.drain(..) {
                drop_value(value);
            }
        }
    }
}

/// A new, empty set of values: the shim makes one when a callout first
/// stores a value for a packet (see `handle_context`).
pub(crate) fn packet_values_new() -> Box<PacketValues> {
    Box::default()
}

/// Runs `f` on this library's values in the packet's context, creating
/// them (empty) when `create` and there are none yet; returns `None`
/// without calling `f` when there are none and `create` is false.
///
/// `f` must not reach this function again (the SDK's callers are short,
/// non-reentrant closures that return whatever they take out, so that a
/// value's `Drop` never runs while the values are borrowed).
pub(crate) fn with_packet_values<R>(
    handle: &CalloutHandle,
    create: bool,
    f: impl FnOnce(&mut PacketValues) -> R,
) -> Result<Option<R>, cxx::Exception> {
    // One call: the shim finds this library's values in the handle's
    // context, or (`create`) makes them and puts them there.
    let ptr = handle_context(handle, create)?;
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` points to the `PacketValues` owned by this library's
    // entry in the handle's context. The entry is replaced only by
    // `handle_context` (before this borrow) and destroyed only with the
    // handle, which the caller borrows for longer than this call; Kea runs
    // one callout at a time on a handle, and `f` does not come back here,
    // so this is the only reference to the values while it lives.
    let values = unsafe { &mut *ptr };
    Ok(Some(f(values)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_one_per_type_whatever_the_order() {
        let mut v = PacketValues::default();
        assert_eq!(v.insert(1u8), None);
        assert_eq!(v.insert("two"), None);
        assert_eq!(v.insert(3u32), None);
        assert_eq!(v.insert(4u8), Some(1), "the same type replaces");
        assert_eq!((v.get::<u8>(), v.get::<&str>(), v.get::<u32>()), (Some(&4), Some(&"two"), Some(&3)));
        // Taking the one in the first place moves another there.
        assert_eq!(v.take::<&str>(), Some("two"));
        assert_eq!(v.take::<&str>(), None);
        assert_eq!(v.take::<u8>(), Some(4));
        assert_eq!(v.take::<u32>(), Some(3));
        assert_eq!((v.get::<u8>(), v.get::<u32>()), (None, None));
        assert_eq!(v.insert(5u64), None);
        assert_eq!(v.get::<u64>(), Some(&5));
    }
}
