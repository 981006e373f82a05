//! Callouts: the functions Kea calls at hook points.
//!
//! A hook implements [`Callout<P>`] once for each hook point `P` it wants
//! (the markers live in [`crate::dhcp4`] and [`crate::dhcp6`]). [`kea_hook!`](crate::kea_hook)
//! finds those implementations at compile time and `load()` registers a
//! callout for exactly those points, and only when the running server has
//! them.
//!
//! Each call gets a [`Context`], which borrows the callout's arguments for
//! the call's duration and carries the [`NextStep`] the callout chooses.
//!
//! # Errors and panics
//! Both fail closed by default, and neither reaches Kea (the callout returns
//! success to Kea, so Kea logs no second, less precise error):
//! * A callout that returns `Err` is logged (one `ERROR` line naming the hook
//!   and point, with the error's whole `source()` chain and the outcome),
//!   and the packet gets the hook's [`Hook::on_error`] outcome: by default
//!   it is refused (dropped, or where the point cannot drop, its step
//!   skipped: see each marker).
//! * A callout that panics is logged the same way (message and location, no
//!   backtrace) and the packet gets the hook's [`Hook::on_panic`] outcome.
//!
//! # Next steps
//! [`Context::set_next_step`] accepts only the steps Kea honours at the
//! point (each marker in [`crate::dhcp4`] lists them and says what they
//! do) and never weakens what an earlier library chose at the same point:
//! the outcome is the strongest of the two, `Continue` < `Skip` < `Drop`,
//! and a `Park` set by another library (HA at `leases4_committed`,
//! ping_check at `lease4_offer`) always stands, since that library will
//! resume the packet.

use std::any::Any;
use std::cell::Cell;
use std::ffi::c_int;
use std::fmt;
use std::marker::PhantomData;

use crate::error::Error;
use crate::ffi::{self, CalloutHandle, RawCallout, RawCalloutHandle};
use crate::error::ErrorKind;
use crate::guard::{guard, PanicMessage};
use crate::hook::{HasSlot, Hook, OnFailure, Server};
use crate::parking::GateOpener;
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
    /// The packet is parked: Kea holds it until the library that parked it
    /// resumes it. A callout parks with [`Context::park`] (where the point
    /// allows it), never through [`Context::set_next_step`], which refuses
    /// it.
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

    /// Which of two steps wins: a later library's choice never weakens an
    /// earlier one's (Kea's status codes are in that order).
    fn strength(self) -> i32 {
        self.status()
    }
}

/// Declares a hook point's marker type and its [`HookPoint`] impl (for
/// the family modules, `dhcp4` and `dhcp6`, which have the same shape):
/// the point's name, the step a refused callout gives the packet, the
/// steps Kea honours there, the servers that have it, and where they apply
/// the drop statistic, whether it can park, whether it runs while a
/// configuration is applied, and whether a null query drops the packet.
macro_rules! hook_point {
    ($(#[$doc:meta])* $ty:ident, $name:literal, refuse: $refuse:ident, steps: [$($step:ident),*],
     servers: [$($server:ident),*] $(, drop_statistic: $stat:expr)? $(, can_park: $park:expr)?
     $(, applies_config: $applies:expr)? $(, null_query_drops: $nq:expr)? $(, skip_reserved6_guard: $sg:expr)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub enum $ty {}
        impl $crate::callout::Sealed for $ty {}
        impl $crate::callout::HookPoint for $ty {
            const NAME: &'static str = $name;
            const REFUSE: $crate::callout::NextStep = $crate::callout::NextStep::$refuse;
            const STEPS: &'static [$crate::callout::NextStep] = &[$($crate::callout::NextStep::$step),*];
            const SERVERS: &'static [$crate::Server] = &[$($crate::Server::$server),*];
            $(const DROP_STATISTIC: Option<&'static str> = $stat;)?
            type Gate = <$crate::callout::Parks<{ false $(|| $park)? }> as $crate::callout::GateFor>::Slot;
            $(const APPLIES_CONFIG: bool = $applies;)?
            $(const NULL_QUERY_DROPS: bool = $nq;)?
            $(const SKIP_RESERVED6_GUARD: bool = $sg;)?
        }
    };
}
pub(crate) use hook_point;

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
    /// its closest refusal), used for [`OnFailure::Drop`].
    #[doc(hidden)]
    const REFUSE: NextStep;
    /// The steps other than `Continue` that Kea honours at this point and
    /// the SDK lets a callout choose.
    #[doc(hidden)]
    const STEPS: &'static [NextStep];
    /// The servers that call this point. (kea-dhcp6 registers some DHCPv4
    /// points too, such as `lease4_select`, as both link the same lease
    /// allocation library, but never calls them.)
    #[doc(hidden)]
    const SERVERS: &'static [Server];
    /// The statistic of dropped queries that a callout dropping one here
    /// must count itself (Kea counts drops it decides, never a hook's; its
    /// 3.2 documentation makes that the hook's job): `pkt4-receive-drop`
    /// at `pkt4_receive`.
    #[doc(hidden)]
    const DROP_STATISTIC: Option<&'static str> = None;
    /// What a callout's [`Context`] keeps for parking here: a slot for the
    /// parked packet's gate where Kea lets a callout park the packet (see
    /// [`crate::parking`]), nothing (`()`) elsewhere, so a point that
    /// cannot park carries no parking state.
    #[doc(hidden)]
    type Gate: GateSlot;
    /// Whether Kea calls the point with a configuration it has not yet
    /// made the running one (`dhcp4_srv_configured`).
    #[doc(hidden)]
    const APPLIES_CONFIG: bool = false;
    /// Whether a null `query4` here means an earlier library dropped the
    /// query by clearing the argument (`buffer4_receive`, `pkt4_receive`:
    /// Kea 3.2 then returns silently, while 2.2 to 3.0 go on with the null
    /// query and crash). A callout that finds it so has its packet
    /// dropped with status `Drop` (see [`crate::dhcp4::Pkt4Receive`]).
    #[doc(hidden)]
    const NULL_QUERY_DROPS: bool = false;
    /// Whether `Skip` must not be written when the callout's `lease6` is
    /// reserved to a host (`lease6_select` on Kea up to 3.0.3, which
    /// crashes then: see [`crate::dhcp6::Lease6Select`]).
    #[doc(hidden)]
    const SKIP_RESERVED6_GUARD: bool = false;
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

/// A [`Context`]'s parking state (see [`HookPoint::Gate`]): `()` where
/// the point cannot park, so that neither the context nor the trampoline
/// carries anything for it there.
#[doc(hidden)]
pub trait GateSlot: Default {
    /// What the trampoline gets back: the gate a `park()` left, if any.
    type Opener;
    /// No gate (a callout that panicked: its context's gate, if any, was
    /// cancelled as it dropped).
    fn no_opener() -> Self::Opener;
    /// Takes the gate a `park()` left here.
    fn take_opener(&self) -> Self::Opener;
    /// Settles it once the callout's status is written.
    fn settle(opener: Self::Opener, hook: &str, point: &str, parked: bool);
}

impl GateSlot for () {
    type Opener = ();
    #[inline(always)]
    fn no_opener() {}
    #[inline(always)]
    fn take_opener(&self) {}
    #[inline(always)]
    fn settle(_: (), _: &str, _: &str, _: bool) {}
}

impl GateSlot for Cell<Option<GateOpener>> {
    type Opener = Option<GateOpener>;
    #[inline(always)]
    fn no_opener() -> Option<GateOpener> {
        None
    }
    #[inline(always)]
    fn take_opener(&self) -> Option<GateOpener> {
        // A packet parked on Kea's main thread has no gate to settle.
        self.take().filter(GateOpener::has_gate)
    }
    #[inline(always)]
    fn settle(opener: Option<GateOpener>, hook: &str, point: &str, parked: bool) {
        if let Some(opener) = opener {
            settle_gate(hook, point, opener, parked);
        }
    }
}

/// Picks a point's [`HookPoint::Gate`] from whether it can park:
/// `<Parks<true> as GateFor>::Slot` where it can.
#[doc(hidden)]
pub struct Parks<const CAN: bool>;

/// See [`Parks`].
#[doc(hidden)]
pub trait GateFor {
    /// The slot.
    type Slot: GateSlot;
}

impl GateFor for Parks<false> {
    type Slot = ();
}

impl GateFor for Parks<true> {
    type Slot = Cell<Option<GateOpener>>;
}

/// One call of hook point `P`: its arguments, borrowed for `'a`, and the
/// next step the callout chooses.
///
/// The per-point argument accessors (`query()`, `lease()`, ...) are on
/// `Context<'_, P>` for each marker in [`crate::dhcp4`]. Each call reads
/// the argument from Kea, as a C++ hook's `getArgument` does (a lookup by
/// name in the handle's argument map, a type check and a shared pointer's
/// two atomic counts: ~270 instructions): call it once per callout and
/// keep the view (`let query = cx.query()?;`), which borrows for the
/// whole callout.
pub struct Context<'a, P: HookPoint> {
    pub(crate) handle: &'a CalloutHandle,
    pub(crate) step: Cell<Option<NextStep>>,
    /// The gate of the packet this callout parked (where the point can
    /// park), settled by the callout trampoline once the callout returned
    /// and its status is written (cancelled as it drops if it panicked).
    pub(crate) park_gate: P::Gate,
    /// Set when the callout found `query4` null where that means an
    /// earlier library dropped the query ([`HookPoint::NULL_QUERY_DROPS`]).
    pub(crate) query_gone: Cell<bool>,
    _point: PhantomData<fn() -> P>,
}

impl<'a, P: HookPoint> Context<'a, P> {
    fn new(handle: &'a CalloutHandle) -> Self {
        Context {
            handle,
            step: Cell::new(None),
            park_gate: P::Gate::default(),
            query_gone: Cell::new(false),
            _point: PhantomData,
        }
    }

    /// Kea's name of the hook point.
    pub fn hook_point(&self) -> &'static str {
        P::NAME
    }

    /// The next step as it stands: what earlier callouts (of other
    /// libraries) left, or what this callout set if that is stronger (as
    /// it will be applied; see [`Context::set_next_step`]).
    pub fn next_step(&self) -> NextStep {
        let earlier = NextStep::from_status(ffi::handle_status(self.handle));
        match self.step.get() {
            Some(mine) if mine.strength() > earlier.strength() => mine,
            _ => earlier,
        }
    }

    /// Chooses what Kea does next; takes effect when the callout returns
    /// (also when it returns `Err`, unless [`Hook::on_error`] refuses the
    /// packet).
    ///
    /// Fails, changing nothing, for a step Kea does not honour at this
    /// point (for example `Skip` at `pkt4_send`, where Kea would send an
    /// empty packet, or `Drop` at `lease4_select`) and for
    /// [`NextStep::Park`]; each marker in [`crate::dhcp4`] lists the steps
    /// it takes. The step never weakens what an earlier library chose at
    /// this point (see the [module docs](self#next-steps)): `Continue`
    /// after another library's `Drop` leaves the packet dropped.
    pub fn set_next_step(&self, step: NextStep) -> Result<(), Error> {
        if step != NextStep::Continue && !P::STEPS.contains(&step) {
            return Err(Error::new(
                ErrorKind::Hook,
                format!("{step:?} is not a next step Kea honours at {} (it takes {:?})", P::NAME, P::STEPS),
            ));
        }
        self.step.set(Some(step));
        Ok(())
    }

    /// Stores `value` with the packet this callout handles, replacing
    /// (and returning) the value of the same type stored before; a later
    /// callout of this hook for the same packet reads it back with
    /// [`packet_value`](Self::packet_value) or
    /// [`take_packet_value`](Self::take_packet_value).
    ///
    /// This is Kea's per-packet callout context: the value lives exactly
    /// as long as the packet (a query's callouts, from `buffer4_receive`
    /// to `pkt4_send`, share one) and is dropped with it, also when the
    /// packet is dropped halfway, on whatever thread lets it go (hence
    /// `Send`). Each hook library sees only its own values, one per type:
    /// use a type of your own (a newtype) as the key.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// #[derive(Clone)]
    /// struct Tenant(String);
    ///
    /// impl Callout<dhcp4::Pkt4Receive> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
    ///         cx.set_packet_value(Tenant("blue".into()))?;
    ///         Ok(())
    ///     }
    /// }
    /// impl Callout<dhcp4::Pkt4Send> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
    ///         if let Some(Tenant(name)) = cx.take_packet_value::<Tenant>()? {
    ///             cx.response()?.set_option(15, name.as_bytes())?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    pub fn set_packet_value<T: Any + Send>(&self, value: T) -> Result<Option<T>, Error> {
        let old = ffi::context::with_packet_values(self.handle, true, |v| v.insert(value))?;
        Ok(old.flatten())
    }

    /// A copy of the packet's value of type `T`, if a callout stored one.
    pub fn packet_value<T: Any + Send + Clone>(&self) -> Result<Option<T>, Error> {
        let v = ffi::context::with_packet_values(self.handle, false, |v| v.get::<T>().cloned())?;
        Ok(v.flatten())
    }

    /// Takes the packet's value of type `T` out (it is no longer stored).
    pub fn take_packet_value<T: Any + Send>(&self) -> Result<Option<T>, Error> {
        let v = ffi::context::with_packet_values(self.handle, false, |v| v.take::<T>())?;
        Ok(v.flatten())
    }

    /// Runs `f` on the packet's value of type `T` in place (for values that
    /// are costly to copy), returning what `f` returns, or `None` when
    /// there is none. The value is taken out while `f` runs and put back
    /// afterwards, so `f` may use this context freely (if `f` panics, the
    /// value is dropped).
    pub fn with_packet_value<T: Any + Send, R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<Option<R>, Error> {
        let Some(mut value) = self.take_packet_value::<T>()? else {
            return Ok(None);
        };
        let r = f(&mut value);
        self.set_packet_value(value)?;
        Ok(Some(r))
    }

    /// Kea's configuration and lease database, for this callout (see
    /// [`crate::kea`]; at `dhcp4_srv_configured`, the configuration being
    /// applied).
    pub fn kea(&self) -> crate::kea::KeaAccess<'a> {
        crate::kea::KeaAccess::new(P::APPLIES_CONFIG)
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
    pub(crate) servers: &'static [Server],
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
        Some(CalloutEntry { name: P::NAME, servers: P::SERVERS, callout: callout::<H, P> })
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
///
/// Where the point can park, the packet the callout parked may be used
/// (resumed, dropped) only from here on, after its status is written: the
/// gate opens if it stays parked, and is cancelled otherwise (the callout
/// failed, panicked, or chose another step), which makes its token do
/// nothing. A token used earlier, from another thread while the callout
/// still ran, is carried out now.
extern "C" fn callout<H: Callout<P> + HasSlot, P: HookPoint>(handle: Option<&mut RawCalloutHandle>) -> c_int {
    let Some(raw) = handle else { return 0 };
    let mut handle = raw.callout_handle();
    // Where the point cannot park, `P::Gate` and its opener are `()`:
    // nothing of parking is left in this function.
    let (step, opener) = H::slot()
        .with_hook(|hook| {
            let shared: &CalloutHandle = &handle;
            match guard(|| run::<H, P>(hook, shared)) {
                Ok(done) => done,
                Err(panic) => {
                    let on_panic = H::slot().meta().on_panic;
                    (callout_panicked(H::NAME, P::NAME, &panic, on_panic, P::REFUSE), P::Gate::no_opener())
                }
            }
        })
        .unwrap_or_else(|| (None, P::Gate::no_opener()));
    if let Some(step) = step {
        if P::SKIP_RESERVED6_GUARD && step == NextStep::Skip && skip_would_crash(H::NAME, P::NAME, &handle) {
            // (Logged there; the lease goes ahead.)
        } else {
            set_status(handle.as_mut(), step, P::DROP_STATISTIC);
        }
    }
    P::Gate::settle(opener, H::NAME, P::NAME, step == Some(NextStep::Park));
    0
}

/// Settles the gate of a packet the callout parked (and carries out what
/// its token asked for meanwhile), guarded: nothing unwinds into Kea.
#[cold]
#[inline(never)]
fn settle_gate(hook: &str, point: &str, opener: GateOpener, parked: bool) {
    if let Err(panic) = guard(|| opener.settle(parked)) {
        let _ = guard(|| klog::emit(Severity::Error, 0, &format!("{hook}: settling a packet parked at {point} panicked: {panic}")));
    }
}

/// Runs `H`'s callout for `P` and returns the next step it chose, and the
/// gate of a packet it parked (never one where `P` cannot park). An `Err`
/// is handled here (off the fast path), so what crosses the panic guard is
/// a byte and, where the point parks, a pointer.
#[inline(always)]
fn run<H: Callout<P> + HasSlot, P: HookPoint>(hook: &H, handle: &CalloutHandle) -> (Option<NextStep>, <P::Gate as GateSlot>::Opener) {
    let cx = Context::<P>::new(handle);
    let result = hook.call(&cx);
    // (`NULL_QUERY_DROPS` is a constant: elsewhere this test compiles away.)
    let step = if P::NULL_QUERY_DROPS && cx.query_gone.get() {
        query_gone(H::NAME, P::NAME)
    } else {
        match result {
            Ok(()) => cx.step.get(),
            Err(e) => callout_failed(H::NAME, P::NAME, &e, H::slot().meta().on_error, P::REFUSE, cx.step.get()),
        }
    };
    (step, cx.park_gate.take_opener())
}

/// Whether writing `Skip` at `lease6_select` would crash this Kea (up to
/// 3.0.3, for a lease reserved to a host: Kea keeps the null lease it then
/// gets and dereferences it). If so, logs that the skip is refused. An
/// error asking Kea counts as "would crash": the lease goes ahead.
#[cold]
#[inline(never)]
fn skip_would_crash(hook: &str, point: &str, handle: &CalloutHandle) -> bool {
    let crash = ffi::lease6_skip_would_crash(handle).unwrap_or(true);
    if crash {
        let _ = guard(|| {
            klog::emit(
                Severity::Error,
                0,
                &format!(
                    "{hook}: callout {point}: Skip refused: the lease is reserved to a host, and Kea {} crashes on a \
                     skipped reserved lease (fixed in 3.0.4); the lease is allocated",
                    crate::KEA_VERSION
                ),
            )
        });
    }
    crash
}

/// Writes `step` as the callout handle's status unless what an earlier
/// library set there is at least as strong (a `Park` always stands). When
/// this drops the query at a point with a drop statistic (`Skip` drops it
/// there too), counts it: the hook made the decision, so it counts it.
#[cold]
#[inline(never)]
fn set_status(mut handle: std::pin::Pin<&mut CalloutHandle>, step: NextStep, drop_statistic: Option<&str>) {
    let current = NextStep::from_status(ffi::handle_status(&handle));
    if step.strength() > current.strength() {
        ffi::handle_set_status(handle.as_mut(), step.status());
        if let Some(name) = drop_statistic {
            if current == NextStep::Continue && matches!(step, NextStep::Skip | NextStep::Drop) {
                // A statistic of another type under this name is Kea's
                // business; the drop stands either way.
                let _ = ffi::statistic_add(name, 1);
            }
        }
    }
}

/// What the packet gets under `policy`: the point's refusal, or `chosen`
/// (what the callout had set, if anything), and how the log line says it.
fn outcome(policy: OnFailure, refuse: NextStep, chosen: Option<NextStep>) -> (Option<NextStep>, &'static str) {
    let step = match policy {
        OnFailure::Drop => Some(refuse),
        OnFailure::Continue => chosen,
    };
    let what = match step {
        Some(NextStep::Drop) => "packet dropped",
        Some(NextStep::Skip) => "step skipped",
        _ => "packet continues",
    };
    (step, what)
}

/// Logs a callout's `Err` (one line, with its source chain and the
/// outcome) and returns the step the hook's [`Hook::on_error`] policy gives
/// the packet. Never panics: a `Display` of the author's error that panics
/// is caught here and named as such.
#[cold]
#[inline(never)]
fn callout_failed(
    hook: &str,
    point: &str,
    e: &Error,
    on_error: OnFailure,
    refuse: NextStep,
    chosen: Option<NextStep>,
) -> Option<NextStep> {
    let (step, what) = outcome(on_error, refuse, chosen);
    let text = guard(|| format!("{e:#}")).unwrap_or_else(|_| "(its Display implementation panicked)".to_owned());
    let _ = guard(|| klog::emit(Severity::Error, 0, &format!("{hook}: callout {point} failed: {text}; {what}")));
    step
}

/// The step for a query an earlier library dropped by setting `query4` to
/// null, which the callout found: `Drop`, whatever the callout returned or
/// its hook's error policy (Kea 2.2 to 3.0 would go on with the null query
/// and crash; 3.2 would return silently, uncounted). Logged at debug level:
/// the drop was the other library's decision, not a failure of this hook.
#[cold]
#[inline(never)]
fn query_gone(hook: &str, point: &str) -> Option<NextStep> {
    let _ = guard(|| {
        klog::emit(
            Severity::Debug,
            crate::log::DEBUG_LEVEL,
            &format!("{hook}: callout {point}: query4 is null (an earlier hook library dropped the query by clearing it); packet dropped"),
        )
    });
    Some(NextStep::Drop)
}

/// Logs a callout's panic (one line, with the outcome) and returns the step
/// the hook's [`Hook::on_panic`] policy gives the packet (`refuse` is the
/// point's [`HookPoint::REFUSE`]).
#[cold]
#[inline(never)]
fn callout_panicked(hook: &str, point: &str, panic: &PanicMessage, on_panic: OnFailure, refuse: NextStep) -> Option<NextStep> {
    let (step, what) = outcome(on_panic, refuse, None);
    // Formatting the message cannot reach the boundary either.
    let _ = guard(|| {
        klog::emit(Severity::Error, 0, &format!("{hook}: callout {point} panicked: {panic}; {what}"));
    });
    step
}
