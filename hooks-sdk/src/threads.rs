//! Threads: slow work off Kea's packet threads, and work handed to Kea's
//! main thread.
//!
//! A callout must not wait for anything slow (a script, a web service, a
//! database): Kea's packet threads would wait with it. A hook does that on
//! threads of its own:
//!
//! * [`Worker`]: a named thread the hook starts in `load` and keeps in its
//!   value. It gets a [`StopToken`]; dropping the `Worker` (with the hook,
//!   at unload) stops it and **joins** it, which Kea needs, since it unmaps
//!   the library right after `unload()`. A worker the hook leaked (with
//!   `mem::forget`) is stopped and joined by the SDK after the hook value
//!   is dropped, so unload never leaves a thread running the library's
//!   code.
//! * [`JobQueue`]: a bounded queue that callouts push to without blocking,
//!   served by a `Worker` ([`JobQueue::with_worker`]).
//! * [`main_thread`]: runs a closure on Kea's main thread, where Kea wants
//!   some things done while its multi-threading is off (see
//!   [`crate::stats`], [`crate::parking`]).
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! use kea_hooks::threads::Worker;
//! use std::time::Duration;
//!
//! struct Ticker {
//!     _worker: Worker,
//! }
//!
//! impl Hook for Ticker {
//!     const NAME: &'static str = "ticker";
//!     type Params = NoParameters;
//!     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> {
//!         let worker = Worker::spawn("ticker", |stop| {
//!             // Returns false as soon as the hook is unloaded.
//!             while stop.sleep(Duration::from_secs(10)) {
//!                 tracing::info!("tick");
//!             }
//!         })?;
//!         Ok(Ticker { _worker: worker })
//!     }
//!     fn callouts_required(&self) -> bool {
//!         false
//!     }
//! }
//! # kea_hooks::kea_hook!(Ticker);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::ffi::{self, main_queue};
use crate::log::{self as klog, Severity};

// ---- stop tokens ---------------------------------------------------------------

struct StopState {
    stopped: bool,
    /// Called once when the token is stopped (a JobQueue's wake-up).
    on_stop: Vec<Box<dyn FnOnce() + Send>>,
}

struct StopShared {
    state: Mutex<StopState>,
    changed: Condvar,
}

impl StopShared {
    fn new() -> Arc<Self> {
        Arc::new(StopShared { state: Mutex::new(StopState { stopped: false, on_stop: Vec::new() }), changed: Condvar::new() })
    }

    fn stop(&self) {
        let callbacks = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.stopped {
                return;
            }
            state.stopped = true;
            std::mem::take(&mut state.on_stop)
        };
        self.changed.notify_all();
        for f in callbacks {
            f();
        }
    }
}

/// Tells a [`Worker`]'s thread when to stop: check it between pieces of
/// work, and wait with [`sleep`](Self::sleep), which wakes at once when the
/// worker is stopped.
#[derive(Clone)]
pub struct StopToken(Arc<StopShared>);

impl StopToken {
    /// Whether the worker was asked to stop.
    pub fn is_stopped(&self) -> bool {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner()).stopped
    }

    /// Sleeps for `duration` or until the worker is asked to stop; true if
    /// the whole duration passed (keep going), false if stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.stopped {
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            state = self.0.changed.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        false
    }

    /// Runs `f` once when the worker is asked to stop (at once if it was):
    /// to wake a thread blocked elsewhere (close a socket, say).
    pub fn on_stop(&self, f: impl FnOnce() + Send + 'static) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.stopped {
            drop(state);
            f();
        } else {
            state.on_stop.push(Box::new(f));
        }
    }
}

impl fmt::Debug for StopToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopToken").field("stopped", &self.is_stopped()).finish()
    }
}

// ---- workers -------------------------------------------------------------------

/// The workers of this library that are running, by id: what the SDK stops
/// and joins at unload if the hook did not (a leaked [`Worker`]).
static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

/// A running worker, as the SDK keeps track of it.
struct Running {
    id: u64,
    name: String,
    stop: Arc<StopShared>,
    handle: JoinHandle<()>,
}
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A thread of the hook's own, stopped and joined when dropped.
pub struct Worker {
    id: u64,
    name: String,
    stop: Arc<StopShared>,
}

impl Worker {
    /// Starts thread `name` (at most 15 bytes show in `top` and
    /// `/proc/<pid>/task/*/comm`) running `f`, which must return soon
    /// after its [`StopToken`] is stopped. A panic in `f` ends the thread
    /// and is logged.
    pub fn spawn(name: &str, f: impl FnOnce(&StopToken) + Send + 'static) -> Result<Worker, Error> {
        let stop = StopShared::new();
        let token = StopToken(Arc::clone(&stop));
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || f(&token))
            .map_err(|e| Error::new(ErrorKind::Hook, format!("cannot start thread {name}: {e}")))?;
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(Running { id, name: name.to_owned(), stop: Arc::clone(&stop), handle });
        Ok(Worker { id, name: name.to_owned(), stop })
    }

    /// The thread's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Asks the thread to stop (without waiting for it).
    pub fn stop(&self) {
        self.stop.stop();
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        let running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.iter().find(|w| w.id == self.id).is_none_or(|w| w.handle.is_finished())
    }
}

impl Drop for Worker {
    /// Stops the thread and waits for it to end.
    fn drop(&mut self) {
        self.stop.stop();
        let entry = {
            let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
            running.iter().position(|w| w.id == self.id).map(|i| running.swap_remove(i))
        };
        if let Some(w) = entry {
            join(&w.name, w.handle);
        }
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish()
    }
}

fn join(name: &str, handle: JoinHandle<()>) {
    if handle.join().is_err() {
        // The panic itself was logged when the thread ended.
        klog::emit(Severity::Debug, 40, &format!("thread {name} had ended with a panic"));
    }
}

/// Whether any worker of this library runs (`load()` asks, after the
/// hook's `load`: see `ffi::main_queue`).
pub(crate) fn any_running() -> bool {
    !RUNNING.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
}

/// Stops and joins the workers the hook left running; `unload()` calls
/// this after dropping the hook value.
pub(crate) fn join_leftovers() {
    let leftovers = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for w in leftovers {
        klog::emit(
            Severity::Warn,
            0,
            &format!("thread {} was still running at unload (its Worker was leaked): stopping and joining it", w.name),
        );
        w.stop.stop();
        join(&w.name, w.handle);
    }
}

// ---- job queues ----------------------------------------------------------------

struct QueueState<T> {
    jobs: VecDeque<T>,
    closed: bool,
    /// Workers waiting on `ready`, and pushers waiting on `room`: a
    /// condvar is signalled only when someone waits on it (a signal is a
    /// system call, and `push` runs on packet threads).
    idle_workers: usize,
    waiting_pushers: usize,
}

struct QueueShared<T> {
    state: Mutex<QueueState<T>>,
    ready: Condvar,
    /// Signalled when a job leaves the queue (room for `push_timeout`).
    room: Condvar,
    capacity: usize,
}

/// A bounded queue of jobs for a [`Worker`]: [`push`](Self::push) never
/// blocks (a full or closed queue hands the job back), so callouts can
/// use it. Cloning gives another handle to the same queue.
pub struct JobQueue<T> {
    shared: Arc<QueueShared<T>>,
}

impl<T> Clone for JobQueue<T> {
    fn clone(&self) -> Self {
        JobQueue { shared: Arc::clone(&self.shared) }
    }
}

impl<T> fmt::Debug for JobQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobQueue").field("len", &self.len()).field("capacity", &self.shared.capacity).finish()
    }
}

impl<T: Send + 'static> JobQueue<T> {
    /// A queue of at most `capacity` jobs, and the worker thread `name`
    /// that runs `handler` on each, in order. When the worker is stopped
    /// (the `Worker` dropped), the queue closes and the jobs still in it
    /// are dropped, unrun, after the handler's current job.
    pub fn with_worker(
        name: &str,
        capacity: usize,
        handler: impl FnMut(T, &StopToken) + Send + 'static,
    ) -> Result<(JobQueue<T>, Worker), Error> {
        let queue = JobQueue::new(capacity);
        let worker = queue.serve(name, Duration::ZERO, handler)?;
        Ok((queue, worker))
    }

    /// As [`with_worker`](Self::with_worker), but nothing accepted is
    /// dropped unseen: when the worker is stopped, the queue closes to new
    /// jobs and the worker goes on handling those still in it (its
    /// [`StopToken`] says it is stopped) until none is left or `grace` has
    /// passed since the stop; only then are the rest dropped, unrun (their
    /// `Drop` runs, so a job type can count or log itself).
    pub fn with_draining_worker(
        name: &str,
        capacity: usize,
        grace: Duration,
        handler: impl FnMut(T, &StopToken) + Send + 'static,
    ) -> Result<(JobQueue<T>, Worker), Error> {
        let queue = JobQueue::new(capacity);
        let worker = queue.serve(name, grace, handler)?;
        Ok((queue, worker))
    }

    /// The same with `count` worker threads (`name-0`, `name-1`, ...)
    /// taking jobs from one queue, for work that waits (on a network peer,
    /// say) and can go on in parallel; jobs start in order but may finish
    /// in any order.
    pub fn with_workers(
        name: &str,
        count: usize,
        capacity: usize,
        handler: impl Fn(T, &StopToken) + Send + Sync + 'static,
    ) -> Result<(JobQueue<T>, Vec<Worker>), Error> {
        let queue = JobQueue::new(capacity);
        let handler = Arc::new(handler);
        let workers = (0..count.max(1))
            .map(|i| {
                let h = Arc::clone(&handler);
                queue.serve(&format!("{name}-{i}"), Duration::ZERO, move |job, stop| h(job, stop))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((queue, workers))
    }

    fn new(capacity: usize) -> JobQueue<T> {
        JobQueue {
            shared: Arc::new(QueueShared {
                state: Mutex::new(QueueState { jobs: VecDeque::new(), closed: false, idle_workers: 0, waiting_pushers: 0 }),
                ready: Condvar::new(),
                room: Condvar::new(),
                capacity: capacity.max(1),
            }),
        }
    }

    /// Starts a worker thread taking jobs from this queue; once stopped, it
    /// goes on with queued jobs for up to `drain`.
    fn serve(&self, name: &str, drain: Duration, mut handler: impl FnMut(T, &StopToken) + Send + 'static) -> Result<Worker, Error> {
        let shared = Arc::clone(&self.shared);
        Worker::spawn(name, move |stop| {
            let wake = Arc::clone(&shared);
            stop.on_stop(move || {
                wake.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
                wake.ready.notify_all();
                wake.room.notify_all();
            });
            let mut drain_until: Option<std::time::Instant> = None;
            loop {
                let (job, pusher_waits) = {
                    let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                    let job = loop {
                        if state.closed {
                            let until = *drain_until.get_or_insert_with(|| std::time::Instant::now() + drain);
                            if std::time::Instant::now() >= until {
                                break None;
                            }
                            break state.jobs.pop_front();
                        }
                        if let Some(job) = state.jobs.pop_front() {
                            break Some(job);
                        }
                        state.idle_workers += 1;
                        state = shared.ready.wait(state).unwrap_or_else(|e| e.into_inner());
                        state.idle_workers -= 1;
                    };
                    (job, state.waiting_pushers > 0)
                };
                if pusher_waits {
                    shared.room.notify_one();
                }
                match job {
                    Some(job) => handler(job, stop),
                    None => break,
                }
            }
            let left = std::mem::take(&mut shared.state.lock().unwrap_or_else(|e| e.into_inner()).jobs);
            drop(left);
        })
    }

    /// Queues `job`; gives it back when the queue is full or closed.
    pub fn push(&self, job: T) -> Result<(), T> {
        self.push_timeout(job, Duration::ZERO)
    }

    /// Queues `job`, waiting up to `wait` for room while the queue is
    /// full; gives it back when there is still none, or the queue is
    /// closed. (A callout that waits here holds up its packet thread: bound
    /// the wait.)
    pub fn push_timeout(&self, job: T, wait: Duration) -> Result<(), T> {
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.jobs.len() >= self.shared.capacity && !state.closed && !wait.is_zero() {
            let deadline = std::time::Instant::now() + wait;
            while state.jobs.len() >= self.shared.capacity && !state.closed {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                state.waiting_pushers += 1;
                state = self.shared.room.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
                state.waiting_pushers -= 1;
            }
        }
        if state.closed || state.jobs.len() >= self.shared.capacity {
            return Err(job);
        }
        state.jobs.push_back(job);
        let worker_waits = state.idle_workers > 0;
        drop(state);
        if worker_waits {
            self.shared.ready.notify_one();
        }
        Ok(())
    }
}

impl<T> JobQueue<T> {
    /// How many jobs wait.
    pub fn len(&self) -> usize {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).jobs.len()
    }

    /// Whether no job waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ---- Kea's main thread ---------------------------------------------------------

/// Work for Kea's main thread.
///
/// Kea watches the hook's queue with its DHCP sockets, so queued work runs
/// as soon as the main thread is free (between two packets when
/// multi-threading is off), in order. Available from `load` to `unload`
/// in kea-dhcp4 and kea-dhcp6.
///
/// Watching a descriptor costs Kea a little on every packet, so the SDK
/// hands the queue to Kea only for hooks that use it: at load when the
/// hook has started threads of its own (a [`Worker`], a [`JobQueue`]'s,
/// an [`http`](crate::http) server's), when a callout parks a packet, or
/// else at the first `post`/`call`. Work queued that first time from
/// another thread may wait for the select Kea's main thread is in to end
/// (the next packet, or at most its one-second timeout).
///
/// # The rule: Kea's main thread never waits without a bound
///
/// Kea's main thread receives packets (with multi-threading off), answers
/// control commands, and reconfigures and shuts the server down. Nothing a
/// hook does there (a callout, a command handler, `load`, `unload`, work
/// queued here) may wait without a bound on anything a thread of the
/// hook's own, a client, a script or a remote end controls. In particular:
///
/// * never hold a lock across [`call`](main_thread::call) (or
///   [`call_timeout`](main_thread::call_timeout)) that Kea's main thread
///   may also take: the main thread would wait for the lock, the lock's
///   holder for the main thread, and Kea stops answering for good;
/// * a thread that serves outside clients (an HTTP endpoint, say) waits
///   for the main thread with
///   [`call_timeout`](main_thread::call_timeout), so a busy main thread
///   costs its client an error answer, not a hang;
/// * what `unload` joins (a [`Worker`] dropped with the hook) must stop
///   promptly whatever its peers do: wait on them with deadlines, or in a
///   `poll` that the stop also wakes (as [`crate::http::Server`] does).
pub mod main_thread {
    use super::*;

    fn closed() -> Error {
        Error::new(ErrorKind::WrongThread, "Kea's main thread takes no work now (the hook is not loaded in a DHCP server)")
    }

    /// Whether the calling thread is Kea's main thread.
    pub fn is_current() -> bool {
        ffi::on_main_thread()
    }

    /// Runs `f` on Kea's main thread, later; fails when the hook is not
    /// loaded (then `f` is dropped unrun). A panic in `f` is logged.
    pub fn post(f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
        let job = Box::new(move || {
            if let Err(panic) = crate::guard::guard(f) {
                klog::emit(Severity::Error, 0, &format!("work queued for Kea's main thread panicked: {panic}"));
            }
        });
        main_queue::post(job).map_err(|_| closed())
    }

    /// [`call`] with access to Kea's configuration and lease database
    /// (see [`crate::kea`]), for a thread of the hook's own:
    /// `main_thread::call_with_kea(|kea| kea.subnets4())??`.
    pub fn call_with_kea<R: Send + 'static>(
        f: impl FnOnce(&crate::kea::KeaAccess<'_>) -> R + Send + 'static,
    ) -> Result<R, Error> {
        call(move || f(&crate::kea::KeaAccess::new(false)))
    }

    /// [`call_timeout`] with access to Kea's configuration and lease
    /// database (see [`crate::kea`]), for a thread that must answer in
    /// bounded time.
    pub fn call_with_kea_timeout<R: Send + 'static>(
        timeout: Duration,
        f: impl FnOnce(&crate::kea::KeaAccess<'_>) -> R + Send + 'static,
    ) -> Result<R, Error> {
        call_timeout(timeout, move || f(&crate::kea::KeaAccess::new(false)))
    }

    /// Runs `f` on Kea's main thread and returns what it returns: at once
    /// when called there, else by queueing it and waiting. Fails when the
    /// hook is unloaded first (the SDK closes the queue before it drops the
    /// hook, so a worker waiting here at unload is released, and can see
    /// its stop token), or when `f` panicked.
    ///
    /// For the hook's own threads: never call it from a callout. With
    /// multi-threading on, callouts run on Kea's packet threads, and a
    /// reconfiguration makes the main thread wait for those threads while
    /// such a callout would wait for the main thread. (A callout has what
    /// it needs in its [`Context`](crate::Context); use [`post`] for work
    /// that must happen on the main thread.)
    pub fn call<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, Error> {
        if is_current() {
            return crate::guard::guard(f).map_err(|p| Error::msg(format!("panicked: {p}")));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        post(move || {
            let _ = tx.send(f());
        })?;
        rx.recv().map_err(|_| unloaded())
    }

    fn unloaded() -> Error {
        Error::new(ErrorKind::WrongThread, "the hook was unloaded (or the work panicked) before it ran")
    }

    /// [`call`], waiting at most `timeout` for the main thread: for a
    /// thread that must answer someone in bounded time (a client of an
    /// HTTP endpoint, say) whatever Kea's main thread is busy with (a long
    /// command, a reconfiguration). Past `timeout` it fails with
    /// [`ErrorKind::TimedOut`], and `f` is dropped unrun when the main
    /// thread gets to it (if it had already started, it runs to its end and
    /// what it returns is dropped). Fails as [`call`] does otherwise; on
    /// the main thread itself it runs `f` at once.
    ///
    /// ```no_run
    /// use kea_hooks::threads::main_thread;
    /// use std::time::Duration;
    /// // From a thread of the hook's own:
    /// match main_thread::call_timeout(Duration::from_secs(1), || kea_hooks::stats::get_integer("pkt4-received")) {
    ///     Ok(count) => println!("{count:?}"),
    ///     Err(e) => println!("no answer from Kea's main thread: {e}"),
    /// }
    /// ```
    pub fn call_timeout<R: Send + 'static>(timeout: Duration, f: impl FnOnce() -> R + Send + 'static) -> Result<R, Error> {
        if is_current() {
            return call(f);
        }
        let abandoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let skip = Arc::clone(&abandoned);
        post(move || {
            if !skip.load(std::sync::atomic::Ordering::Acquire) {
                let _ = tx.send(f());
            }
        })?;
        match rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                abandoned.store(true, std::sync::atomic::Ordering::Release);
                Err(Error::new(
                    ErrorKind::TimedOut,
                    format!("Kea's main thread did not get to the work within {} ms", timeout.as_millis()),
                ))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(unloaded()),
        }
    }
}
