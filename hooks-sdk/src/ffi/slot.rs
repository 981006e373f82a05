//! The static that holds a hook's value while it is loaded.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

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
/// private to the SDK, and `HasSlot` is an `unsafe trait`.
#[doc(hidden)]
#[repr(C, align(64))]
pub struct Slot<H, M, X = ()> {
    /// Whether `hook` holds a value.
    loaded: AtomicBool,
    /// What the SDK asked the hook once at load (its failure policies).
    meta: UnsafeCell<M>,
    /// Loads refused because the hook was loaded already (the same library
    /// listed twice), each owed one `unload()` that must not release it.
    refused_loads: AtomicU32,
    hook: UnsafeCell<MaybeUninit<H>>,
    /// What the SDK keeps beside the hook while it is loaded (its control
    /// commands); off the callouts' path, after the hook.
    extra: UnsafeCell<Option<X>>,
}

// SAFETY: the slot hands out `&H` to any thread (H: Sync) and moves an `H`
// in and out on Kea's main thread (H: Send); its cells are written only
// while no callout runs (see the type's docs), and `loaded` is stored
// after the writes with Release and read with Acquire.
unsafe impl<H: Send + Sync, M: Copy + Send + Sync, X: Send + Sync> Sync for Slot<H, M, X> {}

impl<H, M: Copy, X> Slot<H, M, X> {
    /// An empty slot; `meta` until a hook is installed.
    pub const fn new(meta: M) -> Self {
        Slot {
            loaded: AtomicBool::new(false),
            meta: UnsafeCell::new(meta),
            refused_loads: AtomicU32::new(0),
            hook: UnsafeCell::new(MaybeUninit::uninit()),
            extra: UnsafeCell::new(None),
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
    pub(crate) fn install(&self, hook: H, meta: M, extra: X) {
        // Not reached: load() refuses to build a hook while one is loaded.
        self.release();
        // SAFETY: the slot is empty and no callout of this library runs
        // during `load()` (see the type's docs), so nothing reads the cells.
        unsafe {
            (*self.hook.get()).write(hook);
            *self.meta.get() = meta;
            *self.extra.get() = Some(extra);
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
            // means it is dropped once even if its `Drop` panics. What the
            // SDK keeps beside it is taken out first, so it is dropped
            // (after the hook) even then.
            let extra = unsafe { (*self.extra.get()).take() };
            let _drop_extra_last = extra;
            // SAFETY: as above.
            unsafe { (*self.hook.get()).assume_init_drop() }
        }
    }

    /// Runs `f` with the hook, if one is loaded (what was asked of it at
    /// load is read apart, with [`meta`](Self::meta), on the paths that
    /// need it: the fast path of a callout carries nothing else).
    #[inline(always)]
    pub(crate) fn with_hook<R>(&self, f: impl FnOnce(&H) -> R) -> Option<R> {
        if !self.loaded.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `loaded` is true, so the hook's cell was written before it
        // was set (Release/Acquire), and it is not written again until
        // `release` during `unload()`, which never overlaps a callout (see
        // the type's docs): the shared borrow outlives `f`.
        let hook = unsafe { (*self.hook.get()).assume_init_ref() };
        Some(f(hook))
    }

    /// What was asked of the hook at load; meaningful while one is loaded
    /// (during a callout, say).
    pub(crate) fn meta(&self) -> M {
        // SAFETY: `meta` is written only by `install` and `new`, never
        // while a callout (or anything else that reads it) runs: see the
        // type's docs.
        unsafe { *self.meta.get() }
    }

    /// Runs `f` with the hook and what the SDK keeps beside it, if one is
    /// loaded.
    pub(crate) fn with_extra<R>(&self, f: impl FnOnce(&H, &X) -> R) -> Option<R> {
        if !self.loaded.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: as in `with_hook`: the cells were written before `loaded` was
        // set and stay as they are until `unload()`, which never overlaps a
        // call into the library from Kea.
        let (hook, extra) = unsafe { ((*self.hook.get()).assume_init_ref(), (*self.extra.get()).as_ref()) };
        extra.map(|x| f(hook, x))
    }
}
