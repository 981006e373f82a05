//! The crate's only FFI layer, and its bottom: everything that talks to
//! C++ or to the C library, each `unsafe` with its `// SAFETY:` reason. It
//! depends on nothing above it (the hook, callout and view modules build on
//! it), and is split by concept:
//!
//! * [`shim`]: the cxx bridge to the family-neutral C++ shim
//!   (`cpp-shim/shim.h`; its functions in one .cc per concept, named
//!   after the Rust module they serve: `params.cc`, `parking.cc`,
//!   `main_queue.cc`, `lease_db.cc`, `stats.cc`, `args.cc`, `context.cc`,
//!   `log.cc`);
//! * [`shim4`]: the bridge to its DHCPv4 half (`shim4.h`, `shim4.cc`);
//! * [`shim6`]: the bridge to its DHCPv6 half (`shim6.h`, `shim6.cc`);
//! * `args`: callout arguments as references bounded by the callout;
//! * `context`: the hook's per-packet values in Kea's callout context;
//! * `main_queue`: work queued for Kea's main thread from any thread;
//! * `net`: a TCP connect that does not block, glibc's `getaddrinfo_a`;
//! * [`slot`]: the static that holds a hook's value while it is loaded;
//! * [`thread_key`]: per-thread values that do not pin the library;
//! * `process`: signals, stderr, the thread's name;
//! * `fd`: `poll`, eventfds, non-blocking descriptors;
//! * `spawn`: child processes (a `vfork`-style clone, pidfds, `waitid`);
//! * `type_names`: C++ type names shared with Kea.

mod args;
pub(crate) mod context;
pub(crate) mod fd;
pub(crate) mod lease_gate;
pub(crate) mod main_queue;
pub(crate) mod net;
mod process;
pub(crate) mod shim;
pub(crate) mod shim4;
pub(crate) mod shim6;
pub(crate) mod spawn;
pub(crate) mod slot;
pub(crate) mod thread_key;
mod type_names;

use std::ffi::c_int;
use std::marker::{PhantomData, PhantomPinned};
use std::pin::Pin;

pub(crate) use args::*;
pub(crate) use process::*;
pub use process::CheckReport;
pub(crate) use shim::bridge::*;
// The family bridges name the shared types too (as aliases): these say
// which to use.
pub(crate) use shim::bridge::{Arg, CalloutHandle};
pub(crate) use shim4::bridge::*;
pub(crate) use shim6::bridge::*;
pub use slot::Slot;
pub(crate) use thread_key::{OnThreadExit, ThreadBox};

// SAFETY: a ParkedPacket holds only shared pointers (to the parking lot
// handle, the query and its callout handle), whose reference counts are
// atomic, and Kea's parking lot locks its own mutex in every operation the
// SDK calls (reference, unpark, drop); the query and its callout handle are
// not used by Kea while the packet is parked. So it may be used from, and
// dropped on, another thread than the one that created it.
unsafe impl Send for ParkedPacket {}

/// What Kea calls: its callout signature, `int (*)(isc::hooks::CalloutHandle&)`
/// (the reference is a non-null pointer in the C ABI).
pub(crate) type RawCallout = extern "C" fn(Option<&mut RawCalloutHandle>) -> c_int;

/// Kea's `isc::hooks::LibraryHandle` as the exported `load` function
/// receives it (a C++ reference, a non-null pointer in the ABI).
///
/// Only [`kea_hook!`](crate::kea_hook) names this type; it cannot be
/// created, moved out of, or sent to another thread.
#[repr(C)]
pub struct RawLibraryHandle {
    _opaque: [u8; 0],
    _not_send_or_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

impl RawLibraryHandle {
    /// The same object, as the bridge's opaque C++ type.
    pub(crate) fn library_handle(&mut self) -> Pin<&mut LibraryHandle> {
        // SAFETY: a `RawLibraryHandle` only ever exists behind the reference
        // Kea passes to `load(LibraryHandle&)`, so the pointer is a live,
        // exclusive `LibraryHandle` for the duration of this borrow. Both
        // types are opaque to Rust and the object is never moved (it stays
        // pinned where Kea allocated it).
        unsafe { Pin::new_unchecked(&mut *(self as *mut RawLibraryHandle).cast::<LibraryHandle>()) }
    }
}

/// Kea's `isc::hooks::CalloutHandle` as Kea passes it to a callout (a C++
/// reference, a non-null pointer in the ABI). Only the SDK's callouts name
/// this type.
#[repr(C)]
pub struct RawCalloutHandle {
    _opaque: [u8; 0],
    _not_send_or_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

impl RawCalloutHandle {
    /// The same object, as the bridge's opaque C++ type.
    #[inline(always)]
    pub(crate) fn callout_handle(&mut self) -> Pin<&mut CalloutHandle> {
        // SAFETY: a `RawCalloutHandle` only ever exists behind the reference
        // Kea passes to a callout (`int (*)(CalloutHandle&)`), which is live
        // and not used by Kea while the callout runs; the object stays where
        // Kea allocated it.
        unsafe { Pin::new_unchecked(&mut *(self as *mut RawCalloutHandle).cast::<CalloutHandle>()) }
    }
}

/// Registers `callout` for hook point `name` (Kea calls it by pointer).
pub(crate) fn register_callout(
    handle: Pin<&mut LibraryHandle>,
    name: &str,
    callout: RawCallout,
) -> Result<(), cxx::Exception> {
    // The shim casts the address back to Kea's `CalloutPtr`, whose ABI is
    // `RawCallout`'s: `int (*)(CalloutHandle&)`.
    shim::bridge::register_callout(handle, name, callout as usize)
}

/// Registers `callout` as the handler of control command `name`.
pub(crate) fn register_command(
    handle: Pin<&mut LibraryHandle>,
    name: &str,
    callout: RawCallout,
) -> Result<(), cxx::Exception> {
    // As in `register_callout`: Kea calls command handlers as callouts.
    shim::bridge::register_command(handle, name, callout as usize)
}
