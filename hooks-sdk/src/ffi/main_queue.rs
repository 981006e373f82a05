//! Work for Kea's main thread, queued from any thread.
//!
//! An eventfd that Kea's interface manager watches beside its DHCP sockets
//! (see `main_queue_open` in the shim): the select that waits for packets
//! on Kea's main thread returns when it is readable and calls
//! [`run_main_queue`] there, which runs what was queued. Open from
//! `load()` to `unload()`; a queue closed (or never opened) refuses work.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use super::shim::bridge;

/// A piece of work for the main thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

struct Queue {
    fd: OwnedFd,
    jobs: Mutex<VecDeque<Job>>,
}

/// The open queue. A `Mutex<Option<_>>`, not a `OnceLock`: each load opens
/// a new one, each unload closes it (a library can stay mapped across a
/// reload, with its statics as they were).
static QUEUE: Mutex<Option<Arc<Queue>>> = Mutex::new(None);

fn current() -> Option<Arc<Queue>> {
    QUEUE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Opens the queue; `load()` calls this on Kea's main thread.
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
    bridge::main_queue_open(fd.as_raw_fd()).map_err(|e| format!("Kea refused the queue's descriptor: {}", e.what()))?;
    *QUEUE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Queue { fd, jobs: Mutex::new(VecDeque::new()) }));
    Ok(())
}

/// Closes the queue, if open: Kea stops watching it, and the jobs still in
/// it are dropped without running. `unload()` calls this on Kea's main
/// thread (so no `run_main_queue` runs meanwhile).
pub(crate) fn close() {
    let Some(queue) = QUEUE.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    let _ = bridge::main_queue_close(queue.fd.as_raw_fd());
    let jobs = std::mem::take(&mut *queue.jobs.lock().unwrap_or_else(|e| e.into_inner()));
    drop(jobs);
}

/// Queues `job` for the main thread; gives it back when the queue is
/// closed.
pub(crate) fn post(job: Job) -> Result<(), Job> {
    let Some(queue) = current() else { return Err(job) };
    queue.jobs.lock().unwrap_or_else(|e| e.into_inner()).push_back(job);
    let one: u64 = 1;
    // SAFETY: writes the 8 bytes of `one`, which outlives the call, to the
    // queue's eventfd (owned by `queue`, which this Arc keeps open). The
    // only failure, EAGAIN at a counter near 2^64, leaves it readable.
    unsafe { libc::write(queue.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
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
    let jobs = std::mem::take(&mut *queue.jobs.lock().unwrap_or_else(|e| e.into_inner()));
    for job in jobs {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
            super::write_stderr_line("kea-hooks: a job queued for Kea's main thread panicked");
        }
    }
}
