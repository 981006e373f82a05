//! Callouts: the functions Kea calls at hook points.
//!
//! A hook implements [`Callout<P>`] once for each hook point `P` it wants
//! (the markers live in [`crate::dhcp4`]). [`kea_hook!`](crate::kea_hook)
//! finds those implementations at compile time and `load()` registers a
//! callout for exactly those points, and only when the running server has
//! them.
//!
//! Each call gets a [`Context`], which borrows the callout's arguments for
//! the call's duration and carries the [`NextStep`] the callout chooses.
//!
//! # Errors and panics
//! * A callout that returns `Err` is logged (one `ERROR` line naming the hook
//!   and point); the next step it set before failing stands.
//! * A callout that panics is logged the same way (message and location, no
//!   backtrace) and the packet gets the hook's [`Hook::on_panic`] outcome.
//!
//! Neither reaches Kea: the callout returns success to Kea in both cases so
//! that Kea does not log a second, less precise error.

use std::cell::Cell;
use std::ffi::c_int;
use std::fmt;
use std::marker::PhantomData;

use crate::error::Error;
use crate::ffi::{self, CalloutHandle, HasSlot, RawCalloutHandle};
use crate::hook::{guard, Hook, OnPanic, PanicMessage};
use crate::log::{self as klog, Severity};

/// What Kea does with the packet after the callouts of a hook point.
///
/// The exact meaning depends on the point; see each marker's docs in
/// [`crate::dhcp4`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NextStep {
    /// Carry on normally.
    Continue,
    /// Skip the step the point guards (for example, do not select a lease).
    Skip,
    /// Drop the packet.
    Drop,
    /// The packet was parked by another library. This SDK does not park
    /// packets yet; [`Context::set_next_step`] ignores it.
    Park,
}

impl NextStep {
    fn from_status(status: i32) -> NextStep {
        match status {
            1 => NextStep::Skip,
            2 => NextStep::Drop,
            3 => NextStep::Park,
            _ => NextStep::Continue,
        }
    }

    fn status(self) -> i32 {
        match self {
            NextStep::Continue => 0,
            NextStep::Skip => 1,
            NextStep::Drop => 2,
            NextStep::Park => 3,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A Kea hook point, such as [`crate::dhcp4::Pkt4Receive`].
///
/// Implemented by the SDK's marker types only.
pub trait HookPoint: Sealed + Sized + 'static {
    /// Kea's name for the point, for example `"pkt4_receive"`.
    const NAME: &'static str;
    /// The next step that drops the packet (or, where a point cannot drop,
    /// its closest refusal), used for [`OnPanic::Drop`].
    #[doc(hidden)]
    const REFUSE: NextStep;
}

/// A hook's callout for hook point `P`.
///
/// ```no_run
/// # use kea_hooks::prelude::*;
/// # struct Counter(std::sync::atomic::AtomicU64);
/// # impl Hook for Counter {
/// #     const NAME: &'static str = "counter";
/// #     type Params = NoParameters;
/// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(Counter(Default::default())) }
/// # }
/// impl Callout<dhcp4::Pkt4Send> for Counter {
///     fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         tracing::debug!(xid = cx.response()?.xid(), "sending");
///         Ok(())
///     }
/// }
/// # kea_hooks::kea_hook!(Counter);
/// ```
///
/// Callouts run on Kea's packet threads, several at once when Kea's
/// multi-threading is on: they take `&self`, so shared state needs atomics
/// or locks.
pub trait Callout<P: HookPoint>: Hook {
    /// Handles one call of the hook point.
    fn call(&self, cx: &Context<'_, P>) -> Result<(), Error>;
}

/// One call of hook point `P`: its arguments, borrowed for `'a`, and the
/// next step the callout chooses.
///
/// The per-point argument accessors (`query()`, `lease()`, ...) are on
/// `Context<'_, P>` for each marker in [`crate::dhcp4`].
pub struct Context<'a, P> {
    pub(crate) handle: &'a CalloutHandle,
    step: Cell<Option<NextStep>>,
    _point: PhantomData<fn() -> P>,
}

impl<'a, P: HookPoint> Context<'a, P> {
    fn new(handle: &'a CalloutHandle) -> Self {
        Context { handle, step: Cell::new(None), _point: PhantomData }
    }

    /// Kea's name of the hook point.
    pub fn hook_point(&self) -> &'static str {
        P::NAME
    }

    /// The next step as it stands: what this callout set, else what earlier
    /// callouts (of other libraries) left.
    pub fn next_step(&self) -> NextStep {
        self.step.get().unwrap_or_else(|| NextStep::from_status(ffi::handle_status(self.handle)))
    }

    /// Chooses what Kea does next. Takes effect when the callout returns
    /// (also when it returns `Err`). [`NextStep::Park`] is ignored.
    pub fn set_next_step(&self, step: NextStep) {
        if step != NextStep::Park {
            self.step.set(Some(step));
        }
    }

    /// The names of the arguments Kea passed (useful to explore a point).
    pub fn argument_names(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::handle_argument_names(self.handle)?)
    }

    /// Reads argument `name` as a boolean. Fails (a Kea error) when there
    /// is no such argument or it is of another type.
    pub fn argument_bool(&self, name: &str) -> Result<bool, Error> {
        Ok(ffi::arg_bool(self.handle, name)?)
    }

    /// Reads argument `name` as an unsigned 32-bit integer (Kea's
    /// `uint32_t`, e.g. lifetimes).
    pub fn argument_u32(&self, name: &str) -> Result<u32, Error> {
        Ok(ffi::arg_u32(self.handle, name)?)
    }
}

impl<P> fmt::Debug for Context<'_, P>
where
    P: HookPoint,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("hook_point", &P::NAME).field("next_step", &self.step.get()).finish()
    }
}

// ---- registration -------------------------------------------------------------

/// A callout the hook implements, as `load()` registers it.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct CalloutEntry {
    pub(crate) name: &'static str,
    pub(crate) callout: RawCallout,
}

/// Compile-time probe used by [`kea_hook!`](crate::kea_hook): `(&&Probe::<H,
/// P>::new()).entry()` is `Some` exactly when `H: Callout<P>`.
#[doc(hidden)]
pub struct Probe<H, P>(PhantomData<fn() -> (H, P)>);

impl<H, P> Probe<H, P> {
    /// Creates the probe.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

/// Chosen by method resolution when `H: Callout<P>`.
#[doc(hidden)]
pub trait Registered {
    /// The entry to register.
    fn entry(&self) -> Option<CalloutEntry>;
}

impl<H: Callout<P> + HasSlot, P: HookPoint> Registered for &Probe<H, P> {
    fn entry(&self) -> Option<CalloutEntry> {
        Some(CalloutEntry { name: P::NAME, callout: callout::<H, P> })
    }
}

/// The fallback when `H` does not implement `Callout<P>`.
#[doc(hidden)]
pub trait NotRegistered {
    /// Nothing to register.
    fn entry(&self) -> Option<CalloutEntry>;
}

impl<H, P> NotRegistered for Probe<H, P> {
    fn entry(&self) -> Option<CalloutEntry> {
        None
    }
}

// ---- dispatch -----------------------------------------------------------------

/// What Kea calls: its callout signature, `int (*)(isc::hooks::CalloutHandle&)`
/// (the reference is a non-null pointer in the C ABI).
pub(crate) type RawCallout = extern "C" fn(Option<&mut RawCalloutHandle>) -> c_int;

/// The callout `load()` registers for hook `H` at point `P`; Kea calls it
/// directly, so there is no table or dynamic dispatch between Kea and
/// `H::call` (the ngx-rust pattern: a generic `extern "C"` trampoline per
/// handler).
///
/// The fast path reads the hook's [`Slot`](crate::ffi::Slot) (a static in
/// the hook's crate), calls `H::call` inside one panic guard, and writes
/// the status only when the callout chose a step. Nothing outside the guard
/// can panic, and the panic path's logging guards itself, so nothing
/// unwinds into Kea.
extern "C" fn callout<H: Callout<P> + HasSlot, P: HookPoint>(handle: Option<&mut RawCalloutHandle>) -> c_int {
    let Some(raw) = handle else { return 0 };
    let mut handle = raw.callout_handle();
    let step = H::slot().with(|hook, on_panic| {
        let shared: &CalloutHandle = &handle;
        match guard(|| run::<H, P>(hook, shared)) {
            Ok(step) => step,
            Err(panic) => callout_panicked(H::NAME, on_panic, P::NAME, P::REFUSE, &panic),
        }
    })
    .flatten();
    if let Some(step) = step {
        ffi::handle_set_status(handle.as_mut(), step.status());
    }
    0
}

/// Runs `H`'s callout for `P` and returns the next step it chose. An `Err`
/// is logged here (off the fast path), so what crosses the panic guard is a
/// single byte.
#[inline(always)]
fn run<H: Callout<P>, P: HookPoint>(hook: &H, handle: &CalloutHandle) -> Option<NextStep> {
    let cx = Context::<P>::new(handle);
    if let Err(e) = hook.call(&cx) {
        callout_failed(H::NAME, P::NAME, &e);
    }
    cx.step.get()
}

/// Logs a callout's `Err` (one line). Never panics: a `Display` of the
/// author's error that panics is caught here and named as such.
#[cold]
#[inline(never)]
fn callout_failed(hook: &str, point: &str, e: &Error) {
    let text = guard(|| e.to_string()).unwrap_or_else(|_| "(its Display implementation panicked)".to_owned());
    klog::emit(Severity::Error, 0, &format!("{hook}: callout {point} failed: {text}"));
}

/// Logs a callout's panic (one line, with the outcome) and returns the step
/// the hook's [`OnPanic`] policy gives the packet (`refuse` is the point's
/// [`HookPoint::REFUSE`]).
#[cold]
#[inline(never)]
fn callout_panicked(
    hook: &str,
    on_panic: OnPanic,
    point: &str,
    refuse: NextStep,
    panic: &PanicMessage,
) -> Option<NextStep> {
    let outcome = match on_panic {
        OnPanic::Drop => Some(refuse),
        OnPanic::Continue => None,
    };
    let what = match outcome {
        Some(NextStep::Drop) => "packet dropped",
        Some(_) => "step skipped",
        None => "packet continues",
    };
    // Formatting the message cannot reach the boundary either.
    let _ = guard(|| {
        klog::emit(Severity::Error, 0, &format!("{hook}: callout {point} panicked: {panic}; {what}"));
    });
    outcome
}
