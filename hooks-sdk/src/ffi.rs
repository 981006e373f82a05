//! The cxx bridge to the C++ shim (`cpp-shim/`): the crate's only FFI layer.
//!
//! Every C++ function that can reach a throwing Kea call is declared
//! `-> Result<..>`; the shim overrides cxx's `trycatch` so that any exception
//! (not only `std::exception`) becomes a Rust `Err`. The functions declared
//! without `Result` never throw.
//!
//! Raw pointers returned by the `arg_*` functions point into objects owned by
//! the callout handle's arguments; [`crate::callout`] turns them into
//! references bounded by the callout's lifetime, in one audited place.

#[cxx::bridge(namespace = "kea_shim")]
pub(crate) mod bridge {
    /// The callout arguments the SDK names itself. The shim keeps each
    /// name as a ready-made `std::string`, so fetching one of these costs
    /// no string conversion (the `&str` variants serve any other name).
    #[derive(Debug)]
    #[repr(u8)]
    enum Arg {
        Query4,
        Response4,
        Lease4,
        Subnet4,
        Leases4,
        DeletedLeases4,
        FakeAllocation,
        OfferLifetime,
        OldLease,
    }

    unsafe extern "C++" {
        include!("shim.h");

        #[namespace = "isc::hooks"]
        type CalloutHandle;
        #[namespace = "isc::hooks"]
        type LibraryHandle;
        #[namespace = "isc::dhcp"]
        type Pkt4;
        #[namespace = "isc::dhcp"]
        type Lease4;
        #[namespace = "isc::dhcp"]
        type Lease4Collection;
        #[namespace = "isc::dhcp"]
        type Subnet4;

        // ---- library handle / load ----
        /// The `parameters` map as JSON text (written by the shim, not by
        /// Kea's `Element::str()`); empty when there is none. Throws, naming
        /// the field, for text that is not UTF-8.
        fn library_parameters_json(handle: Pin<&mut LibraryHandle>) -> Result<String>;
        fn server_has_hook(name: &str) -> Result<bool>;
        fn server_root_logger() -> Result<String>;
        /// `callout` is the address of a [`RawCallout`](crate::callout::RawCallout).
        fn register_callout(handle: Pin<&mut LibraryHandle>, name: &str, callout: usize) -> Result<()>;

        // ---- statistics ----
        /// Adds `value` to Kea's integer statistic `name` (creating it).
        fn statistic_add(name: &str, value: i64) -> Result<()>;

        // ---- callout handle ----
        fn handle_status(handle: &CalloutHandle) -> i32;
        fn handle_set_status(handle: Pin<&mut CalloutHandle>, status: i32);
        fn handle_argument_names(handle: &CalloutHandle) -> Result<Vec<String>>;
        fn arg_pkt4(handle: &CalloutHandle, name: &str) -> Result<*const Pkt4>;
        fn arg_lease4(handle: &CalloutHandle, name: &str) -> Result<*const Lease4>;
        fn arg_subnet4(handle: &CalloutHandle, name: &str) -> Result<*const Subnet4>;
        fn arg_lease4_collection(handle: &CalloutHandle, name: &str)
            -> Result<*const Lease4Collection>;
        fn arg_bool(handle: &CalloutHandle, name: &str) -> Result<bool>;
        fn arg_u32(handle: &CalloutHandle, name: &str) -> Result<u32>;
        // Fast path for the arguments the SDK names: no exception handling
        // on the way back. `ok` is false when Kea threw; the caller then
        // fetches by name through the `Result` function above to get the
        // exception's message.
        fn known_arg_pkt4(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Pkt4;
        fn known_arg_lease4(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Lease4;
        fn known_arg_subnet4(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Subnet4;
        fn known_arg_lease4_collection(handle: &CalloutHandle, arg: Arg, ok: &mut bool)
            -> *const Lease4Collection;
        fn known_arg_bool(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> bool;

        // ---- Pkt4 ----
        fn pkt4_type(pkt: &Pkt4) -> Result<u8>;
        fn pkt4_transid(pkt: &Pkt4) -> u32;
        fn pkt4_hwaddr<'a>(pkt: &'a Pkt4, htype: &mut u16) -> &'a [u8];
        fn pkt4_ciaddr(pkt: &Pkt4) -> u32;
        fn pkt4_yiaddr(pkt: &Pkt4) -> u32;
        fn pkt4_siaddr(pkt: &Pkt4) -> u32;
        fn pkt4_giaddr(pkt: &Pkt4) -> u32;
        fn pkt4_remote_addr(pkt: &Pkt4) -> u32;
        fn pkt4_local_addr(pkt: &Pkt4) -> u32;
        fn pkt4_remote_port(pkt: &Pkt4) -> u16;
        fn pkt4_local_port(pkt: &Pkt4) -> u16;
        fn pkt4_iface(pkt: &Pkt4) -> Result<String>;
        fn pkt4_iface_index(pkt: &Pkt4) -> i32;
        fn pkt4_hops(pkt: &Pkt4) -> u8;
        fn pkt4_secs(pkt: &Pkt4) -> u16;
        fn pkt4_flags(pkt: &Pkt4) -> u16;
        fn pkt4_relayed(pkt: &Pkt4) -> Result<bool>;
        fn pkt4_has_option(pkt: &Pkt4, code: u16) -> bool;
        fn pkt4_option(pkt: &Pkt4, code: u16, out: &mut Vec<u8>) -> Result<bool>;
        fn pkt4_in_class(pkt: &Pkt4, name: &str) -> Result<bool>;
        fn pkt4_label(pkt: &Pkt4) -> Result<String>;

        // ---- Lease4 ----
        fn lease4_addr(lease: &Lease4) -> u32;
        fn lease4_htype(lease: &Lease4) -> u16;
        fn lease4_hwaddr(lease: &Lease4) -> &[u8];
        fn lease4_has_hwaddr(lease: &Lease4) -> bool;
        fn lease4_client_id(lease: &Lease4) -> &[u8];
        fn lease4_has_client_id(lease: &Lease4) -> bool;
        fn lease4_valid_lft(lease: &Lease4) -> u32;
        fn lease4_cltt(lease: &Lease4) -> i64;
        fn lease4_subnet_id(lease: &Lease4) -> u32;
        fn lease4_hostname(lease: &Lease4) -> &[u8];
        fn lease4_state(lease: &Lease4) -> u32;
        fn lease4_fqdn_fwd(lease: &Lease4) -> bool;
        fn lease4_fqdn_rev(lease: &Lease4) -> bool;

        // ---- Lease4Collection ----
        fn lease4_collection_len(leases: &Lease4Collection) -> usize;
        fn lease4_collection_get(leases: &Lease4Collection, index: usize) -> *const Lease4;

        // ---- Subnet4 ----
        fn subnet4_id(subnet: &Subnet4) -> u32;
        fn subnet4_prefix(subnet: &Subnet4) -> u32;
        fn subnet4_prefix_len(subnet: &Subnet4) -> u8;

        // ---- logging ----
        fn log_open(logger_name: &str, message_id: &str) -> Result<()>;
        fn log_close();
        fn log_enabled(severity: u8, debug_level: i32) -> bool;
        fn log_emit(severity: u8, debug_level: i32, message: &str) -> Result<()>;
    }
}


use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::marker::{PhantomData, PhantomPinned};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

pub(crate) use bridge::*;

use crate::callout::RawCallout;
use crate::hook::{OnFailure, PanicRecord};

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
    bridge::register_callout(handle, name, callout as usize)
}

// ---- callout arguments ------------------------------------------------------
//
// The shim returns raw pointers into objects that the callout handle's
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

// ---- the loaded hook -----------------------------------------------------------

/// Where a hook library keeps its hook value: a static that
/// [`kea_hook!`](crate::kea_hook) defines in the hook's own crate, so that a
/// callout reaches the hook with one load relative to its own code, no
/// GOT entry or heap block in between (a C++ hook's globals are reached the
/// same way). Every step of a callout that waits on a load whose address
/// came from the previous one costs a full cache miss when the line is
/// cold, which it is between two packets: end to end, such a chain of
/// three loads and two calls cost an empty C++ callout ~1% of kea-dhcp4's
/// throughput (`kea-bench --side-by-side`).
///
/// Written only by `load()` and `unload()`, which Kea calls on its main
/// thread and never while a callout of this library runs: packet processing
/// is stopped for reconfiguration and shutdown (on worker threads by Kea's
/// multi-threading critical section). Both are `unsafe fn`s that only the
/// functions [`kea_hook!`](crate::kea_hook) exports call, so safe code in a
/// hook's crate cannot empty the slot under a callout's borrow:
///
/// ```compile_fail
/// # use kea_hooks::prelude::*;
/// # struct H;
/// # impl Hook for H {
/// #     const NAME: &'static str = "h";
/// #     type Params = NoParameters;
/// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) }
/// # }
/// # impl Callout<dhcp4::Pkt4Receive> for H {
/// #     fn call(&self, _: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> { Ok(()) }
/// # }
/// # kea_hooks::kea_hook!(H);
/// #[forbid(unsafe_code)]
/// fn free_the_hook() {
///     kea_hooks::__private::unload::<H>(); // error: call to unsafe function
/// }
/// ```
///
/// Nor can it reach the slot's contents: `install` and `release` are
/// private to the SDK, and [`HasSlot`] is an `unsafe trait`.
#[doc(hidden)]
#[repr(C, align(64))]
pub struct Slot<H> {
    /// Whether `hook` holds a value.
    loaded: AtomicBool,
    /// The hook's failure policies, asked once at load.
    policy: UnsafeCell<Policy>,
    /// Loads refused because the hook was loaded already (the same library
    /// listed twice), each owed one `unload()` that must not release it.
    refused_loads: AtomicU32,
    hook: UnsafeCell<MaybeUninit<H>>,
}

/// What a failing callout's packet gets, per [`crate::Hook`]'s answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) on_panic: OnFailure,
    pub(crate) on_error: OnFailure,
}

// SAFETY: the slot hands out `&H` to any thread (H: Sync) and moves an `H`
// in and out on Kea's main thread (H: Send); its cells are written only
// while no callout runs (see the type's docs), and `loaded` is stored
// after the writes with Release and read with Acquire.
unsafe impl<H: Send + Sync> Sync for Slot<H> {}

impl<H> Slot<H> {
    /// An empty slot.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Slot {
            loaded: AtomicBool::new(false),
            policy: UnsafeCell::new(Policy { on_panic: OnFailure::Drop, on_error: OnFailure::Drop }),
            refused_loads: AtomicU32::new(0),
            hook: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Whether a hook is loaded.
    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Notes a `load()` refused because a hook is loaded already: Kea
    /// follows it with an `unload()` that must leave that hook alone.
    pub(crate) fn refuse_load(&self) {
        self.refused_loads.fetch_add(1, Ordering::AcqRel);
    }

    /// True (once per refused load) when this `unload()` follows a refused
    /// `load()`.
    pub(crate) fn take_refused_load(&self) -> bool {
        self.refused_loads.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok()
    }

    /// Stores the hook built by `load()`. Only `load()` calls this, after
    /// checking that the slot is empty.
    pub(crate) fn install(&self, hook: H, policy: Policy) {
        // Not reached: load() refuses to build a hook while one is loaded.
        self.release();
        // SAFETY: the slot is empty and no callout of this library runs
        // during `load()` (see the type's docs), so nothing reads the cells.
        unsafe {
            (*self.hook.get()).write(hook);
            *self.policy.get() = policy;
        }
        self.loaded.store(true, Ordering::Release);
    }

    /// Drops the hook, if one is loaded. Only `unload()` calls this (and
    /// `install`). If the hook's `Drop` panics, the slot is empty all the
    /// same.
    pub(crate) fn release(&self) {
        if self.loaded.swap(false, Ordering::AcqRel) {
            // SAFETY: `loaded` was true, so the cell holds an `H` that
            // nothing else owns; no callout runs during `unload()` (see the
            // type's docs), so no `&H` is alive; clearing `loaded` first
            // means it is dropped once even if its `Drop` panics.
            unsafe { (*self.hook.get()).assume_init_drop() }
        }
    }

    /// Runs `f` with the hook and its failure policies, if one is loaded.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&H, Policy) -> R) -> Option<R> {
        if !self.loaded.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `loaded` is true, so both cells were written before it was
        // set (Release/Acquire), and they are not written again until
        // `release` during `unload()`, which never overlaps a callout (see
        // the type's docs): the shared borrows outlive `f`.
        let (hook, policy) = unsafe { ((*self.hook.get()).assume_init_ref(), *self.policy.get()) };
        Some(f(hook, policy))
    }
}

/// Implemented for a hook by [`kea_hook!`](crate::kea_hook): the hook's
/// [`Slot`], a static in the hook's crate.
///
/// # Safety
///
/// `slot()` must return the same static every time, used by no other type.
#[doc(hidden)]
pub unsafe trait HasSlot: Sized + 'static {
    /// The slot.
    fn slot() -> &'static Slot<Self>;
}

// ---- signals ----------------------------------------------------------------------

/// Sets SIGPIPE to "ignore", as Rust's own start-up does for executables
/// (a cdylib never runs it). Writing to a closed pipe or socket then
/// returns `EPIPE` instead of killing Kea.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: `signal` with SIG_IGN installs no handler code, so there is no
    // async-signal-safety concern; it only changes the disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Writes `line` and a newline to file descriptor 2, ignoring every error.
/// `eprintln!` panics when stderr is a closed pipe (EPIPE, since SIGPIPE is
/// ignored), and a panic in a thread-local's destructor or in `load()`
/// would abort Kea; `std::io::stderr()` also takes a lock keyed by the
/// thread. This takes nothing and can fail only silently.
pub(crate) fn write_stderr_line(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    // SAFETY: `bytes` is a live buffer of `bytes.len()` bytes for the
    // duration of the call; write(2) reads at most that many.
    let _ = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

/// The calling thread's name as the system knows it (what
/// `std::thread::Builder::name` set, cut to 15 bytes), without touching
/// `std::thread::current()`, which on a thread Rust did not start creates
/// a thread-local with a destructor (see [`panic_records`]).
pub(crate) fn current_thread_name() -> Option<String> {
    let mut buf = [0u8; 64];
    // SAFETY: pthread_self() is the calling thread; `buf` is writable for
    // its length, and glibc NUL-terminates within it.
    let rc = unsafe { libc::pthread_getname_np(libc::pthread_self(), buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    (len > 0).then(|| String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// One [`PanicRecord`] per thread, in a POSIX thread-specific key rather
/// than a Rust `thread_local!`.
///
/// A Rust thread-local with a destructor, once touched on a thread, makes
/// glibc keep the library mapped until that thread exits; Kea's own
/// threads (the main thread, and on Kea 2.4+ its packet workers, which are
/// paused rather than joined across a reconfiguration) never do, so after
/// one panic on them a `config-reload` would silently run the old build of
/// the library again. A key's destructor pins nothing: [`close`] deletes
/// the key at unload, after the hook's threads were joined, so no thread
/// can run it after the library is unmapped.
pub(crate) mod panic_records {
    use super::*;

    /// The key plus one (0: none).
    static KEY: AtomicUsize = AtomicUsize::new(0);

    fn key() -> Option<libc::pthread_key_t> {
        match KEY.load(Ordering::Acquire) {
            0 => None,
            k => Some((k - 1) as libc::pthread_key_t),
        }
    }

    /// The key's destructor: a thread exits with a record no guard took.
    extern "C" fn thread_exit(record: *mut libc::c_void) {
        if record.is_null() {
            return;
        }
        // SAFETY: only `replace` stores values under the key, each a
        // pointer from `Box::into_raw(Box<PanicRecord>)`, and glibc hands a
        // value to the destructor once, after clearing it.
        let record = unsafe { Box::from_raw(record.cast::<PanicRecord>()) };
        // Nothing may unwind out of a key destructor.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| record.log_untaken()));
    }

    /// Creates the key, unless it exists (the library stayed mapped since
    /// an earlier load). Called by `load()` on Kea's main thread.
    pub(crate) fn open() {
        if key().is_some() {
            return;
        }
        let mut k: libc::pthread_key_t = 0;
        // SAFETY: `k` is a valid out-pointer; `thread_exit` has the C ABI
        // and signature pthread_key_create expects.
        if unsafe { libc::pthread_key_create(&mut k, Some(thread_exit)) } == 0 {
            KEY.store(k as usize + 1, Ordering::Release);
        }
    }

    /// Deletes the key (no destructor runs after this; records still held
    /// by threads are leaked, a few bytes each). Called by `unload()`.
    pub(crate) fn close() {
        let k = KEY.swap(0, Ordering::AcqRel);
        if k != 0 {
            // SAFETY: `k - 1` is a key `open` created and nothing deleted.
            unsafe { libc::pthread_key_delete((k - 1) as libc::pthread_key_t) };
        }
    }

    /// Stores this thread's record, returning the one it replaces.
    pub(crate) fn replace(record: Box<PanicRecord>) -> Option<Box<PanicRecord>> {
        let k = key()?;
        let old = take_with(k);
        let raw = Box::into_raw(record);
        // SAFETY: `k` is a live key; the value is a pointer `thread_exit`
        // or `take` turns back into the Box.
        if unsafe { libc::pthread_setspecific(k, raw.cast()) } != 0 {
            // SAFETY: not stored, so still ours.
            drop(unsafe { Box::from_raw(raw) });
        }
        old
    }

    /// Takes this thread's record, if any.
    pub(crate) fn take() -> Option<Box<PanicRecord>> {
        key().and_then(take_with)
    }

    fn take_with(k: libc::pthread_key_t) -> Option<Box<PanicRecord>> {
        // SAFETY: `k` is a live key; values under it are null or pointers
        // from `Box::into_raw` (see `replace`), which this clears before
        // owning, so each is turned back into a Box once.
        unsafe {
            let raw = libc::pthread_getspecific(k).cast::<PanicRecord>();
            if raw.is_null() {
                return None;
            }
            libc::pthread_setspecific(k, std::ptr::null());
            Some(Box::from_raw(raw))
        }
    }
}

// ---- C++ type names shared with Kea ---------------------------------------------
//
// Kea's `CalloutHandle::getArgument<T>` ends in `boost::any_cast`, which
// compares `typeid(T)`s: libstdc++ compares the type-name pointers, then
// falls back to `strcmp` of the names. rustc's version script for a cdylib
// makes every C++ symbol of the shim local, so the shim's `typeid`s would
// point at private copies of the names and every argument fetch would pay
// the `strcmp`. Exporting the names of the argument types the shim fetches
// lets the dynamic linker bind the shim's references to Kea's own copies
// (Kea's libraries export them, and come first in the lookup order), so the
// pointer comparison succeeds as it does for a hook written in C++. Where
// Kea does not export a name, this definition is used, with the same text,
// and the comparison falls back to `strcmp` as before.

macro_rules! cxx_type_name {
    ($($(#[$cfg:meta])* $sym:ident = $text:literal;)*) => {$(
        $(#[$cfg])*
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static $sym: [u8; $text.len()] = *$text;
    )*};
}

cxx_type_name! {
    _ZTSN5boost10shared_ptrIN3isc4dhcp4Pkt4EEE = b"N5boost10shared_ptrIN3isc4dhcp4Pkt4EEE\0";
    _ZTSN5boost10shared_ptrIN3isc4dhcp6Lease4EEE = b"N5boost10shared_ptrIN3isc4dhcp6Lease4EEE\0";
    #[cfg(not(kea_3_0))]
    _ZTSN5boost10shared_ptrIN3isc4dhcp7Subnet4EEE = b"N5boost10shared_ptrIN3isc4dhcp7Subnet4EEE\0";
    #[cfg(kea_3_0)]
    _ZTSN5boost10shared_ptrIKN3isc4dhcp7Subnet4EEE = b"N5boost10shared_ptrIKN3isc4dhcp7Subnet4EEE\0";
}
