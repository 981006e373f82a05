//! The process and the calling thread: signals, stderr, the thread's name.

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
/// a thread-local with a destructor (see [`super::thread_key`]).
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

/// Kea's main thread, as `load()` saw it (0 before the first load).
static MAIN_THREAD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The calling thread's id (its `pthread_t`).
pub(crate) fn current_thread_id() -> usize {
    // SAFETY: pthread_self() only returns the calling thread's id.
    unsafe { libc::pthread_self() as usize }
}

/// Notes the calling thread as Kea's main thread; `load()` calls this
/// (Kea calls `load()`, `unload()`, command handlers and, with
/// multi-threading off, every callout on its main thread).
pub(crate) fn record_main_thread() {
    MAIN_THREAD.store(current_thread_id(), std::sync::atomic::Ordering::Relaxed);
}

/// Whether the calling thread is Kea's main thread.
pub(crate) fn on_main_thread() -> bool {
    MAIN_THREAD.load(std::sync::atomic::Ordering::Relaxed) == current_thread_id()
}

/// The callback `kea-hooks-check` passes to a hook library's
/// `kea_hooks_check_parameters`: `report(ctx, text, len)`.
pub type CheckReport = Option<extern "C" fn(ctx: *mut std::ffi::c_void, text: *const u8, len: usize)>;

/// The `len` bytes at `ptr` (none for a null pointer).
///
/// # Safety
///
/// `ptr` must be null or point to `len` bytes that stay readable and
/// unchanged for `'a`.
pub(crate) unsafe fn raw_bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the caller's contract: `len` readable bytes at `ptr` for 'a.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// Calls `report` (if any) with `text`, which it may read during the call.
pub(crate) fn send_report(report: CheckReport, ctx: *mut std::ffi::c_void, text: &str) {
    if let Some(f) = report {
        f(ctx, text.as_ptr(), text.len());
    }
}
