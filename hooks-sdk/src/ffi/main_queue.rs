//! Work for Kea's main thread, queued from any thread.
//!
//! An eventfd that Kea's interface manager watches beside its DHCP sockets
//! (see `main_queue_open` in the shim): the select that waits for packets
//! on Kea's main thread returns when it is readable and calls
//! [`run_main_queue`] there, which runs what was queued. Open from
//! `load()` to `unload()`; a queue closed (or never opened) refuses work.
//!
//! Kea pays for every descriptor it watches on every turn of its packet
//! loop (it copies the watch list, adds each descriptor to the select set
//! and tests it: about 450 instructions and 40 branch mispredictions per
//! DHCPv4 exchange, measured). So the descriptor is handed to Kea only
//! when the hook first needs the queue: at load when the hook started
//! threads of its own (they are what queues work), else at the first
//! [`post`] or [`prepare`] (parking). A hook that never uses it costs Kea
//! nothing. Kea's interface manager takes its own lock to add a
//! descriptor (2.2 to 3.2), so any thread may do it; work queued from
//! another thread while Kea's main thread already waits in a select
//! without the descriptor runs when that select ends (the next packet, at
//! the latest its one-second timeout): only the first use can wait so.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::shim::bridge;

/// A piece of work for the main thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// What the queue holds: any job, or work on a parked packet (the
/// commonest work, queued once per parked packet: kept unboxed, so queueing
/// it allocates nothing on the thread that resumes and frees nothing on
/// the main thread; glibc serves a block freed on another thread than its
/// own through its slow paths, measured at ~1,000 instructions per parked
/// exchange for the box and the queue's buffer).
pub(crate) enum Work {
    Run(Job),
    Packet(PacketWork),
}

/// `run(packet, xid, arg)` on the main thread, which lets go of `packet`
/// there; then `keep` is dropped there too. (The parking layer says what
/// `arg` means: this layer knows nothing above it.)
pub(crate) struct PacketWork {
    pub(crate) packet: cxx::UniquePtr<super::ParkedPacket>,
    pub(crate) xid: u32,
    pub(crate) arg: u64,
    /// Freed on the main thread, with the packet.
    pub(crate) _keep: Option<Arc<dyn std::any::Any + Send + Sync>>,
    pub(crate) run: fn(cxx::UniquePtr<super::ParkedPacket>, u32, u64),
}

struct Queue {
    fd: OwnedFd,
    jobs: Mutex<VecDeque<Work>>,
    /// The main thread's buffer, empty between runs: `run_main_queue`
    /// swaps it with `jobs`, so the two buffers keep their capacity and go
    /// back and forth (taking `jobs` would leave the next `post` to
    /// allocate a new one).
    spare: Mutex<VecDeque<Work>>,
    /// Whether Kea watches `fd`: set once, under `watch`.
    watched: AtomicBool,
    /// Serializes handing `fd` to Kea and taking it back; true once the
    /// queue is closed (nothing may hand it to Kea then).
    watch: Mutex<bool>,
}

impl Queue {
    /// Has Kea watch the queue's descriptor, once; false when the queue
    /// is closed (or Kea refused it).
    #[inline]
    fn watch(&self) -> bool {
        self.watched.load(Ordering::Acquire) || self.watch_now()
    }

    /// `watch`'s first time (cold: once per load).
    #[cold]
    #[inline(never)]
    fn watch_now(&self) -> bool {
        let closed = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        if *closed {
            return false;
        }
        if self.watched.load(Ordering::Acquire) {
            return true;
        }
        match bridge::main_queue_open(self.fd.as_raw_fd()) {
            Ok(()) => {
                self.watched.store(true, Ordering::Release);
                WATCHED.store(true, Ordering::Release);
                true
            }
            Err(e) => {
                super::write_stderr_line(&format!("kea-hooks: Kea refused the main-thread queue's descriptor: {}", e.what()));
                false
            }
        }
    }
}

/// The open queue. A `Mutex<Option<_>>`, not a `OnceLock`: each load opens
/// a new one, each unload closes it (a library can stay mapped across a
/// reload, with its statics as they were).
static QUEUE: Mutex<Option<Arc<Queue>>> = Mutex::new(None);

fn current() -> Option<Arc<Queue>> {
    QUEUE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Opens the queue (Kea does not watch it yet: see the module docs);
/// `load()` calls this on Kea's main thread.
pub(crate) fn open() -> Result<(), String> {
    close();
    // SAFETY: eventfd(2) takes no pointers; the descriptor it returns is
    // owned by the OwnedFd below and by nothing else.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if raw < 0 {
        return Err(format!("eventfd: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let queue = Queue {
        fd,
        jobs: Mutex::new(VecDeque::new()),
        spare: Mutex::new(VecDeque::new()),
        watched: AtomicBool::new(false),
        watch: Mutex::new(false),
    };
    *QUEUE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(queue));
    Ok(())
}

/// Has Kea watch the queue now, ahead of its first use (work queued later
/// then never waits for a select to end). Called at every park: once Kea
/// watches the open queue, this is one load.
#[inline]
pub(crate) fn prepare() {
    if !WATCHED.load(Ordering::Acquire) {
        prepare_now();
    }
}

#[cold]
#[inline(never)]
fn prepare_now() {
    if let Some(q) = current() {
        q.watch();
    }
}

/// Whether Kea watches the open queue's descriptor (`Queue::watched` of
/// the queue in `QUEUE`): `prepare`'s fast path. Only a hint: what posts
/// work checks its own queue.
static WATCHED: AtomicBool = AtomicBool::new(false);

/// Closes the queue, if open: Kea stops watching it, and the jobs still in
/// it are dropped without running. `unload()` calls this on Kea's main
/// thread (so no `run_main_queue` runs meanwhile).
pub(crate) fn close() {
    let Some(queue) = QUEUE.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    {
        let mut closed = queue.watch.lock().unwrap_or_else(|e| e.into_inner());
        *closed = true;
        WATCHED.store(false, Ordering::Release);
        if queue.watched.swap(false, Ordering::AcqRel) {
            let _ = bridge::main_queue_close(queue.fd.as_raw_fd());
        }
    }
    let jobs = std::mem::take(&mut *queue.jobs.lock().unwrap_or_else(|e| e.into_inner()));
    drop(jobs);
}

/// Queues `job` for the main thread; gives it back when the queue is
/// closed.
pub(crate) fn post(job: Job) -> Result<(), Job> {
    post_work(Work::Run(job)).map_err(|w| match w {
        Work::Run(job) => job,
        Work::Packet(_) => unreachable!("post_work gives back what it was given"),
    })
}

/// Queues `work` for the main thread; gives it back when the queue is
/// closed.
///
/// Wakes the main thread only when the queue was empty: `run_main_queue`
/// reads the eventfd before it takes the queue, so work queued after the
/// take finds the queue empty and wakes it again, and work queued before
/// the take (without a wake of its own) is taken with the rest.
pub(crate) fn post_work(work: Work) -> Result<(), Work> {
    let Some(queue) = current() else { return Err(work) };
    if !queue.watch() {
        return Err(work);
    }
    let was_empty = {
        let mut jobs = queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let was_empty = jobs.is_empty();
        jobs.push_back(work);
        was_empty
    };
    if was_empty {
        let one: u64 = 1;
        // SAFETY: writes the 8 bytes of `one`, which outlives the call, to
        // the queue's eventfd (owned by `queue`, which this Arc keeps
        // open). The only failure, EAGAIN at a counter near 2^64, leaves it
        // readable.
        unsafe { libc::write(queue.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
    Ok(())
}

/// Runs the queued jobs, on Kea's main thread (Kea calls it through the
/// shim). Jobs come wrapped by the layer above, which catches and logs
/// their panics; a panic that still gets here is caught too (and said on
/// stderr), and the rest still run: nothing unwinds into Kea.
///
/// Runs only the jobs queued when it starts: those queued meanwhile (by
/// other threads, or by a job) wake the main thread again and run at its
/// next turn, so threads that keep queueing cannot keep the main thread
/// here, away from Kea's sockets and commands.
pub(crate) fn run_main_queue() {
    let Some(queue) = current() else { return };
    let mut count: u64 = 0;
    // SAFETY: reads at most 8 bytes into `count`, which outlives the call,
    // from the queue's eventfd (kept open by `queue`). It resets the
    // counter; EAGAIN (nothing to read) leaves `count` alone.
    unsafe { libc::read(queue.fd.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
    // Only the main thread takes `spare` (never contended), which holds
    // nothing between runs: the queued work moves there, the empty buffer
    // goes back to `jobs`, and both keep their capacity. (No job comes back
    // here: they run on the main thread, from Kea's packet loop.)
    let mut batch = queue.spare.lock().unwrap_or_else(|e| e.into_inner());
    std::mem::swap(&mut *queue.jobs.lock().unwrap_or_else(|e| e.into_inner()), &mut *batch);
    while let Some(work) = batch.pop_front() {
        let ran = match work {
            Work::Run(job) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)),
            Work::Packet(w) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (w.run)(w.packet, w.xid, w.arg))),
        };
        if ran.is_err() {
            super::write_stderr_line("kea-hooks: a job queued for Kea's main thread panicked");
        }
    }
}
