//! Parking: hold a packet while something slow happens elsewhere, then let
//! Kea carry on with it (or drop it), from any thread.
//!
//! Where Kea allows it (`leases4_committed` on every release;
//! `lease4_offer` and `subnet4_select` on Kea 2.6+: the points that
//! implement [`Parkable`]), a callout calls [`Context::park`] and gets a
//! [`Parked`] token, which it hands to a thread of its own (see
//! [`crate::threads`]). Kea keeps the packet, and answers the client only
//! when the token is used:
//!
//! * [`Parked::resume`]: Kea goes on where it stopped (at
//!   `leases4_committed`, it sends the response);
//! * [`Parked::drop_packet`]: Kea forgets the packet (no response; counted
//!   in `pkt4-receive-drop`);
//! * dropping the token unused does the same as `drop_packet` (and says
//!   so in the hook's log at debug level 40): a packet is never parked for
//!   ever because a token got lost.
//!
//! Both consume the token, so a packet cannot be resumed twice. Tokens
//! still alive when the hook is unloaded (its value is dropped, with its
//! threads) drop their packets; Kea itself forgets every parked packet on
//! a reload, and resuming one after that does nothing.
//!
//! Kea limits how many packets may wait at each point
//! (`parked-packet-limit`, 256 by default); past it, Kea drops new queries
//! before the callouts run.
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! use kea_hooks::parking::Parked;
//! use kea_hooks::threads::{JobQueue, Worker};
//!
//! struct Notifier {
//!     queue: JobQueue<Parked<dhcp4::Leases4Committed>>,
//!     _worker: Worker,
//! }
//!
//! impl Hook for Notifier {
//!     const NAME: &'static str = "notifier";
//!     type Params = NoParameters;
//!     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> {
//!         let (queue, worker) = JobQueue::with_worker("notifier", 1024, |parked: Parked<_>, _stop| {
//!             // ... tell someone, slowly ...
//!             parked.resume();
//!         })?;
//!         Ok(Notifier { queue, _worker: worker })
//!     }
//! }
//!
//! impl Callout<dhcp4::Leases4Committed> for Notifier {
//!     fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
//!         let parked = cx.park()?;
//!         if let Err(parked) = self.queue.push(parked) {
//!             parked.resume(); // the queue is full: answer without waiting
//!         }
//!         Ok(())
//!     }
//! }
//! # kea_hooks::kea_hook!(Notifier);
//! ```
//!
//! # When a resumed packet goes on
//! `resume` never blocks: the SDK queues the packet for Kea's main thread
//! (see [`crate::threads::main_thread`]), which resumes it as soon as it is
//! free and not before the callout that parked it has returned. With
//! Kea's multi-threading on, Kea then hands the rest of the packet's
//! processing to its packet threads. The main thread is also where Kea
//! reconfigures, so no packet is resumed in the middle of a reload: one
//! still queued when the hook is unloaded is dropped.
//!
//! A token used while the callout that parked its packet still runs (by
//! the callout itself, or from another thread) is not carried out yet.
//! Where the callout runs on a packet thread (Kea's multi-threading on),
//! the SDK keeps what the token asked for, and the callout's return
//! carries it out (queues the resume for the main thread, or drops the
//! packet) once Kea's status for the callout says the packet is parked.
//! Where it runs on Kea's main thread (multi-threading off), every use,
//! drops too, goes through the main-thread queue, which that thread runs
//! only between packets, so after the callout has returned: nothing to
//! keep, and no lock per parked packet. Either way nothing waits for the
//! callout meanwhile, and the main thread does no work for the packet
//! before then. When the callout does not leave the packet parked (it
//! failed, panicked, or chose another step), Kea goes on with the packet,
//! or drops it, itself, and the token's use does nothing (with
//! multi-threading off, a debug line at level 40 says the packet was no
//! longer parked).

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::callout::{Context, HookPoint, NextStep};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, main_queue, ParkedPacket};
use crate::log::{self as klog, Severity};

/// A hook point where Kea lets a callout park the packet: see
/// [`Context::park`]. (Only such a point's [`Context`] has room for a
/// parked packet's gate.)
pub trait Parkable: HookPoint<Gate = std::cell::Cell<Option<GateOpener>>> {
    /// How the point parks and resumes its packet.
    #[doc(hidden)]
    const PARKING: Parking;
}

/// How a point parks and resumes its packet: what the shim keeps when it
/// parks (the shim's `kind`), and what [`Parked::resume`] does there.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Parking {
    /// Kea resumes where it stopped: nothing to set first.
    Plain = 0,
    /// lease4_offer: the query's `offer_address_in_use` is set first.
    Offer = 1,
    /// subnet4_select: the subnet selected when the packet was parked is
    /// left for Kea first.
    SubnetSelect = 2,
    /// As `Plain`, for a DHCPv6 query.
    Plain6 = 3,
    /// subnet6_select, as `SubnetSelect`.
    SubnetSelect6 = 4,
}

impl Parking {
    /// What a plain [`Parked::resume`] does at such a point.
    const fn resume(self) -> Action {
        match self {
            Parking::Plain | Parking::Plain6 => Action::Resume,
            Parking::Offer => Action::ResumeOffer { address_in_use: false },
            Parking::SubnetSelect | Parking::SubnetSelect6 => Action::ResumeInSubnet { by_id: false, id: 0 },
        }
    }
}

/// Whether a parked packet may be used yet, and what its token asked for
/// while the callout that parked it still ran.
pub(crate) struct ParkGate(Mutex<GateState>);

enum GateState {
    /// The callout that parked the packet is still running (on a packet
    /// thread, with Kea's multi-threading on). Holds what the token asked
    /// for meanwhile: the callout's return carries it out.
    Pending(Option<Use>),
    /// It returned with the packet parked: the token's use is carried out
    /// at once.
    Open,
    /// It returned without the packet parked (it failed, or chose another
    /// step): Kea went on or dropped it, and the token does nothing.
    Cancelled,
}

/// What the token asked for.
struct Use {
    packet: cxx::UniquePtr<ParkedPacket>,
    xid: u32,
    what: UseKind,
    /// The token's reference to the gate, if it has one, carried with the
    /// packet: a resume drops it on the main thread, where the gate was
    /// made (glibc frees a block on another thread than its own through
    /// its slow paths). None for a packet parked on Kea's main thread
    /// (see `Context::park`).
    gate: Option<Arc<ParkGate>>,
}

enum UseKind {
    Resume(Action),
    /// `forgotten`: the token was dropped unused.
    Drop { forgotten: bool },
}

impl ParkGate {
    /// A gate for a packet parked by a callout that still runs (out of
    /// line: only callouts on packet threads make one).
    #[inline(never)]
    fn pending() -> Arc<ParkGate> {
        Arc::new(ParkGate(Mutex::new(GateState::Pending(None))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Carries out `u` if the callout has returned with the packet parked;
    /// keeps it for the callout's return if the callout still runs; forgets
    /// it if the callout did not leave the packet parked. Never waits for
    /// the callout (the lock is held only for these few instructions).
    /// (Out of line: the gate-free path of `Parked::use_packet` stays short.)
    #[inline(never)]
    fn use_packet(&self, u: Use) {
        let mut state = self.lock();
        match &mut *state {
            GateState::Pending(early) => {
                // One token per gate, used once: nothing was kept before.
                *early = Some(u);
            }
            GateState::Open => {
                drop(state);
                u.carry_out();
            }
            GateState::Cancelled => {
                drop(state);
                drop(u);
            }
        }
    }
}

impl Use {
    /// Carries the use out: at once where the callout that parked the
    /// packet has returned (a gated use), else (a packet parked on the
    /// main thread) through the main-thread queue, which runs only once
    /// that callout has returned. A resume always goes through the queue.
    #[inline]
    fn carry_out(self) {
        match self.what {
            UseKind::Resume(action) => queue_on_main(self.packet, self.xid, action, self.gate),
            UseKind::Drop { forgotten } if self.gate.is_some() => drop_now(&self.packet, self.xid, forgotten),
            UseKind::Drop { forgotten } => queue_on_main(self.packet, self.xid, Action::Drop { forgotten }, None),
        }
    }
}

/// Settles a packet's gate when the callout that parked the packet
/// returns (kept in its [`Context`]); cancels it if dropped unsettled.
/// Empty for a packet parked on Kea's main thread, which has no gate.
#[doc(hidden)]
pub struct GateOpener(Option<Arc<ParkGate>>);

impl GateOpener {
    /// Whether there is a gate to settle.
    #[inline(always)]
    pub(crate) fn has_gate(&self) -> bool {
        self.0.is_some()
    }

    /// Opens the gate if the packet stayed parked, else cancels it; then
    /// carries out what the token asked for meanwhile, if anything (a
    /// resume is queued for the main thread; a drop is done here).
    pub(crate) fn settle(self, parked: bool) {
        self.set(parked);
    }

    fn set(&self, open: bool) {
        let Some(gate) = &self.0 else { return };
        let early = {
            let mut state = gate.lock();
            let GateState::Pending(early) = &mut *state else { return };
            let early = early.take();
            *state = if open { GateState::Open } else { GateState::Cancelled };
            early
        };
        if let Some(u) = early {
            if open {
                u.carry_out();
            }
        }
    }
}

impl Drop for GateOpener {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// A packet a callout at point `P` parked: see the [module docs](self).
///
/// `Send`, so it can go to any thread; using it ([`resume`](Self::resume),
/// [`drop_packet`](Self::drop_packet)) consumes it.
#[must_use = "a Parked that is dropped drops its packet: resume it"]
pub struct Parked<P> {
    /// The packet and its gate (if it has one), taken when the token is
    /// used.
    held: Option<(cxx::UniquePtr<ParkedPacket>, Option<Arc<ParkGate>>)>,
    xid: u32,
    _point: PhantomData<fn() -> P>,
}

impl<P: Parkable> fmt::Debug for Parked<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parked").field("point", &P::NAME).field("xid", &self.xid).finish()
    }
}

impl<'a, P: Parkable> Context<'a, P> {
    /// Parks the packet: Kea holds it (and sends nothing) until the
    /// returned token is used, from this thread or any other. The
    /// callout's next step becomes [`NextStep::Park`].
    ///
    /// Fails, changing nothing, when an earlier library dropped or skipped
    /// the packet, when this callout parked it already, and when Kea did
    /// not park it (a Kea error: its parking lot for the point is full).
    pub fn park(&self) -> Result<Parked<P>, Error> {
        let current = self.next_step();
        if matches!(current, NextStep::Skip | NextStep::Drop) {
            return Err(Error::new(ErrorKind::Invalid, format!("the packet's next step is {current:?} already: not parking it")));
        }
        let opener = self.park_gate.take();
        if opener.is_some() {
            self.park_gate.set(opener);
            return Err(Error::new(ErrorKind::Invalid, "this callout parked the packet already"));
        }
        // What resuming needs: lease4_offer's offer_address_in_use and
        // subnet4_select's subnet go through the query's callout handle.
        let mut xid = 0;
        let packet = ffi::handle_park(self.handle, P::PARKING as u8, &mut xid)?;
        // The resume goes through the main-thread queue: have Kea watch it
        // from now on (once; see `ffi::main_queue`).
        main_queue::prepare();
        // Remembered with the packet, for `resumed`, once the hook has
        // asked it (a write to the packet's context is not free).
        if RESUMED_ASKED.load(Ordering::Relaxed) {
            self.set_packet_value(ParkedHere::<P>(PhantomData))?;
        }
        // A token used while this callout runs must wait for its return.
        // On Kea's main thread (every callout, with Kea's multi-threading
        // off) the main-thread queue already waits: it runs only between
        // Kea's packets, so every use goes through it and needs no gate.
        // On a packet thread, the gate holds an early use for the return.
        let gate = if ffi::on_main_thread() { None } else { Some(ParkGate::pending()) };
        self.park_gate.set(Some(GateOpener(gate.clone())));
        self.step.set(Some(NextStep::Park));
        Ok(Parked { held: Some((packet, gate)), xid, _point: PhantomData })
    }
}

impl<'a, P: Parkable> Context<'a, P> {
    /// True when this hook parked this packet at this point before. (Kea
    /// 2.6 to 3.2 do not call `subnet4_select` again for a query resumed
    /// there: they take its subnet from what the SDK leaves for them. A
    /// callout that could see the same packet twice, after a resume, uses
    /// this not to park it a second time.)
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// # kea_hooks::since_kea_2_6! {
    /// impl Callout<dhcp4::Subnet4Select> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Subnet4Select>) -> Result<(), Error> {
    ///         if cx.resumed()? {
    ///             return Ok(()); // decided the first time round
    ///         }
    ///         let parked = cx.park()?;
    ///         // ... hand `parked` to a thread that asks someone, then resumes it ...
    ///         # parked.resume();
    ///         Ok(())
    ///     }
    /// }
    /// # }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    ///
    /// The SDK remembers which packets were parked only once the hook has
    /// called `resumed()` (at any point): call it before [`park`](Self::park),
    /// as above, and it answers for every packet; a hook that never asks
    /// costs no write per parked packet.
    pub fn resumed(&self) -> Result<bool, Error> {
        RESUMED_ASKED.store(true, Ordering::Relaxed);
        Ok(self.packet_value::<ParkedHere<P>>()?.is_some())
    }
}

/// Whether the hook has called [`Context::resumed`] (from then on, `park`
/// remembers each parked packet for it).
static RESUMED_ASKED: AtomicBool = AtomicBool::new(false);

/// The packet value that says a packet was parked at `P`.
struct ParkedHere<P>(PhantomData<fn() -> P>);

impl<P> Clone for ParkedHere<P> {
    fn clone(&self) -> Self {
        ParkedHere(PhantomData)
    }
}

impl<P: Parkable> Parked<P> {
    /// The transaction id of the parked query.
    pub fn xid(&self) -> u32 {
        self.xid
    }

    /// Lets Kea carry on with the packet where it parked it (after
    /// `subnet4_select`, in the subnet selected when it was parked; after
    /// `lease4_offer`, with the offered address free).
    pub fn resume(mut self) {
        self.use_packet(UseKind::Resume(P::PARKING.resume()));
    }

    /// Has Kea forget the packet: the client gets no answer (counted in
    /// `pkt4-receive-drop`).
    pub fn drop_packet(mut self) {
        self.use_packet(UseKind::Drop { forgotten: false });
    }
}

impl<P> Parked<P> {
    /// Resumes an OFFER's query with `offer_address_in_use` set (for
    /// `Parked<dhcp4::Lease4Offer>`).
    #[cfg(kea_2_6)]
    pub(crate) fn resume_offer_in_use(mut self) {
        self.use_packet(UseKind::Resume(Action::ResumeOffer { address_in_use: true }));
    }

    /// Resumes a query parked at subnet selection in configured subnet
    /// `subnet_id`, or with none (for the families' `resume_in_subnet`).
    #[cfg(kea_2_6)]
    pub(crate) fn resume_in_subnet_id(mut self, subnet_id: Option<u32>) {
        let action = match subnet_id {
            Some(id) => Action::ResumeInSubnet { by_id: true, id },
            None => Action::ResumeWithoutSubnet,
        };
        self.use_packet(UseKind::Resume(action));
    }
}

impl<P> Parked<P> {
    /// Hands the packet and what to do with it to the gate (once: the
    /// token is consumed, or being dropped).
    #[inline]
    fn use_packet(&mut self, what: UseKind) {
        if let Some((packet, gate)) = self.held.take() {
            match gate {
                // The use takes the token's reference along (see `Use::gate`).
                Some(gate) => Arc::clone(&gate).use_packet(Use { packet, xid: self.xid, what, gate: Some(gate) }),
                None => Use { packet, xid: self.xid, what, gate: None }.carry_out(),
            }
        }
    }
}

impl<P> Drop for Parked<P> {
    fn drop(&mut self) {
        self.use_packet(UseKind::Drop { forgotten: true });
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Resume,
    /// lease4_offer: sets `offer_address_in_use` first.
    ResumeOffer { address_in_use: bool },
    /// subnet4_select: leaves Kea the subnet (`id`, or the one selected
    /// when parked) first.
    ResumeInSubnet { by_id: bool, id: u32 },
    /// subnet4_select: no subnet.
    #[cfg_attr(not(kea_2_6), allow(dead_code))]
    ResumeWithoutSubnet,
    /// Drop the packet (`forgotten`: its token was dropped unused).
    Drop { forgotten: bool },
}

/// Resumes `packet` from Kea's main thread; called once the callout that
/// parked it has returned with it parked (so the job never has to wait for
/// it, or go round again: a job that re-queued itself while the callout
/// ran would keep the main thread busy for as long as the callout runs).
///
/// Always there, whatever the thread and Kea's multi-threading: with it
/// off, Kea's packet processing runs on the main thread only; with it on,
/// Kea reconfigures (and unloads hooks) on the main thread inside a
/// critical section that stops its packet threads, and a packet resumed
/// from another thread meanwhile would queue work in the stopped thread
/// pool that holds on to the old hook libraries (Kea then refuses the new
/// configuration: "some libraries are still opened"). On the main thread
/// no resume can run during a reconfiguration, and the ones still queued
/// when the hook is unloaded are dropped with their packets.
#[inline]
fn queue_on_main(packet: cxx::UniquePtr<ParkedPacket>, xid: u32, action: Action, gate: Option<Arc<ParkGate>>) {
    let work = main_queue::PacketWork {
        packet,
        xid,
        arg: action.encode(),
        _keep: gate.map(|g| g as Arc<dyn std::any::Any + Send + Sync>),
        run: |packet, xid, arg| apply(packet, xid, Action::decode(arg)),
    };
    if let Err(work) = main_queue::post_work(main_queue::Work::Packet(work)) {
        not_queued(work, action);
    }
}

/// The main-thread queue is closed (the hook is being unloaded): no callout
/// runs now, so a drop is done here; a resume is dropped with its work,
/// which leaves the packet to Kea, which forgets every parked packet when
/// it reloads.
#[cold]
#[inline(never)]
fn not_queued(work: main_queue::Work, action: Action) {
    if let (main_queue::Work::Packet(w), Action::Drop { forgotten }) = (&work, action) {
        drop_now(&w.packet, w.xid, forgotten);
    }
    drop(work);
}

impl Action {
    /// As the main-thread queue carries it (see `main_queue::PacketWork`).
    #[inline]
    fn encode(self) -> u64 {
        match self {
            Action::Resume => 0,
            Action::ResumeOffer { address_in_use } => 1 | u64::from(address_in_use) << 8,
            Action::ResumeInSubnet { by_id, id } => 2 | u64::from(by_id) << 8 | u64::from(id) << 32,
            Action::ResumeWithoutSubnet => 3,
            Action::Drop { forgotten } => 4 | u64::from(forgotten) << 8,
        }
    }

    #[inline]
    fn decode(arg: u64) -> Action {
        let flag = (arg >> 8) & 1 == 1;
        match arg & 0xff {
            1 => Action::ResumeOffer { address_in_use: flag },
            2 => Action::ResumeInSubnet { by_id: flag, id: (arg >> 32) as u32 },
            3 => Action::ResumeWithoutSubnet,
            4 => Action::Drop { forgotten: flag },
            _ => Action::Resume,
        }
    }
}

/// Carries out `action` on Kea's main thread; the packet is let go of
/// there (a resume hands it to the shim, which lets go of it as it
/// resumes).
fn apply(packet: cxx::UniquePtr<ParkedPacket>, xid: u32, action: Action) {
    if action != Action::Resume && !prepare_resume(&packet, xid, action) {
        return;
    }
    match ffi::parked_resume(packet) {
        Ok(true) => {}
        Ok(false) => no_longer_parked(xid),
        Err(e) => resume_failed(xid, &e),
    }
}

// The rare outcomes of `apply`, out of its way (cold: the resume path
// stays a few cache lines long; measured in L1i misses per parked
// exchange).

/// What Kea reads when the packet goes on, set on the main thread outside
/// any callout (where Kea reads it); a drop is done here. False when the
/// packet is not to be resumed (dropped, or Kea refused what was set: it is
/// dropped then).
#[cold]
#[inline(never)]
fn prepare_resume(packet: &ParkedPacket, xid: u32, action: Action) -> bool {
    let prepared = match action {
        Action::Resume => Ok(()),
        Action::ResumeOffer { address_in_use } => ffi::parked_set_bool(packet, "offer_address_in_use", address_in_use),
        Action::ResumeInSubnet { by_id, id } => ffi::parked_set_subnet(packet, by_id, id),
        Action::ResumeWithoutSubnet => ffi::parked_clear_subnet(packet),
        Action::Drop { forgotten } => {
            drop_now(packet, xid, forgotten);
            return false;
        }
    };
    match prepared {
        Ok(()) => true,
        Err(e) => {
            klog::emit(Severity::Error, 0, &format!("parked packet xid 0x{xid:08x}: cannot resume it ({}); dropped", e.what()));
            drop_now(packet, xid, false);
            false
        }
    }
}

/// Kea's unpark found the packet no longer parked.
#[cold]
#[inline(never)]
fn no_longer_parked(xid: u32) {
    klog::emit(
        Severity::Debug,
        40,
        &format!("parked packet xid 0x{xid:08x}: no longer parked (Kea dropped it, or reloaded); not resumed"),
    );
}

#[cold]
#[inline(never)]
fn resume_failed(xid: u32, e: &cxx::Exception) {
    klog::emit(Severity::Error, 0, &format!("resuming parked packet xid 0x{xid:08x} failed: {}", e.what()));
}

/// Drops `packet` from its parking lot (Kea's drop is safe on any thread)
/// and counts it; `forgotten`: its token was dropped unused. Called once
/// the callout that parked it has returned with it parked.
#[cold]
#[inline(never)]
fn drop_now(packet: &ParkedPacket, xid: u32, forgotten: bool) {
    match ffi::parked_drop(packet) {
        Ok(true) => {
            if forgotten {
                klog::emit(
                    Severity::Debug,
                    40,
                    &format!("parked packet xid 0x{xid:08x}: its Parked token was dropped unused; packet dropped"),
                );
            }
            count_drop();
        }
        Ok(false) => {}
        Err(e) => {
            klog::emit(Severity::Error, 0, &format!("dropping parked packet xid 0x{xid:08x} failed: {}", e.what()));
        }
    }
}

fn count_drop() {
    if crate::stats::add_integer("pkt4-receive-drop", 1).is_err() {
        // Not allowed on this thread now: count it from the main thread.
        let _ = main_queue::post(Box::new(|| {
            let _ = crate::stats::add_integer("pkt4-receive-drop", 1);
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn an_action_goes_through_the_queue_unchanged() {
        let actions = [
            Action::Resume,
            Action::ResumeOffer { address_in_use: false },
            Action::ResumeOffer { address_in_use: true },
            Action::ResumeInSubnet { by_id: false, id: 0 },
            Action::ResumeInSubnet { by_id: true, id: u32::MAX },
            Action::ResumeInSubnet { by_id: true, id: 7 },
            Action::ResumeWithoutSubnet,
            Action::Drop { forgotten: false },
            Action::Drop { forgotten: true },
        ];
        for a in actions {
            assert_eq!(Action::decode(a.encode()), a);
        }
    }
}
