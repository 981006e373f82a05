//! Catching panics at the boundary: [`guard`] runs a hook's code and turns
//! a panic into a [`PanicMessage`], which the entry point that caught it
//! logs once. Below every module that runs a hook's code (`callout`,
//! `command`, `threads`, `http`, `load`), which all use it.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::ffi::{self, ThreadBox};
use crate::log::{self as klog, Severity};

// ---- panics -----------------------------------------------------------------
//
// A cdylib has its own copy of std, so the panic hook set here sees only
// this library's panics. It records what happened (message, location,
// thread) for the thread that panicked, and logs nothing. A `guard` that
// catches the panic takes the record and its caller logs one line, with the
// hook point and the outcome. A record nobody takes (a panic on a hook's
// own thread, which ends the thread) logs itself when the thread exits. So
// the callouts' fast path touches no thread-local at all, and there is no
// backtrace: symbolizing one took Kea's packet thread 85 ms when
// RUST_BACKTRACE was set.
//
// The per-thread record lives in a POSIX thread-specific key
// (`PANIC_RECORDS`, an `ffi::ThreadBox`), not in a Rust `thread_local!`: a Rust
// thread-local with a destructor, once touched on one of Kea's threads
// (which live as long as Kea), registers that destructor with glibc, which
// then keeps the library mapped for good, so a `config-reload` would run
// the old build of the library again. A thread-specific key holds no
// reference to the library; unload deletes it (after the hook's threads
// were joined). For the same reason the thread's name is read from the
// system, not from `std::thread::current()`.

/// A panic as the panic hook saw it.
pub(crate) struct PanicRecord {
    panic: PanicMessage,
    thread: String,
}

/// This library's panic records, one per thread at most.
pub(crate) static PANIC_RECORDS: ThreadBox<PanicRecord> = ThreadBox::new();

impl ffi::OnThreadExit for PanicRecord {
    /// Logs a record no guard took: the panic ended a hook's own thread.
    fn on_thread_exit(self) {
        let line = format!("panic on thread '{}': {}", self.thread, self.panic);
        if !klog::emit(Severity::Error, 0, &line) {
            // The hook's logger is closed or off: still say it.
            ffi::write_stderr_line(&line);
        }
    }
}

/// A caught panic: its message and where it happened.
pub(crate) struct PanicMessage {
    message: String,
    location: Option<String>,
}

impl fmt::Display for PanicMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(at) = &self.location {
            write!(f, " (at {at})")?;
        }
        Ok(())
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let message = payload_text(info.payload());
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
            let thread = ffi::current_thread_name().unwrap_or_else(|| "unnamed".to_owned());
            let record = PanicRecord { panic: PanicMessage { message, location }, thread };
            // A record left from an earlier panic on this thread is
            // dropped unlogged: that panic was caught (by the hook's own
            // code, since no guard took it), or the thread would not be
            // panicking again.
            drop(PANIC_RECORDS.replace(Box::new(record)));
        }));
    });
}

/// Takes the panic hook's record of the panic `guard` just caught, as a
/// [`PanicMessage`] (the payload's text when there is no record, or when
/// the record is of another panic: `resume_unwind` runs no panic hook, so a
/// record left from a panic the hook caught itself would be stale).
#[cold]
#[inline(never)]
fn caught(payload: Box<dyn Any + Send>) -> PanicMessage {
    let text = payload_text(&*payload);
    match PANIC_RECORDS.take() {
        Some(record) if record.panic.message == text => record.panic,
        _ => PanicMessage { message: text, location: None },
    }
}

/// Runs `f`, turning a panic into a [`PanicMessage`]. Nothing but the
/// unwinding landing pad is added to `f`'s fast path.
#[inline(always)]
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Result<R, PanicMessage> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(caught)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_reports_message_and_location() {
        install_panic_hook();
        PANIC_RECORDS.open();
        let err = guard(|| -> u32 { panic!("boom {}", 7) }).err().unwrap();
        let text = err.to_string();
        assert!(text.starts_with("boom 7 (at "), "{text}");
        assert!(text.contains("guard.rs:"), "{text}");
        assert_eq!(guard(|| 5).ok(), Some(5));
    }

    /// `resume_unwind` runs no panic hook: a record left by a panic the
    /// code caught itself must not be reported for it.
    #[test]
    fn resume_unwind_is_reported_without_a_stale_record() {
        install_panic_hook();
        PANIC_RECORDS.open();
        let err = guard(|| {
            let _ = panic::catch_unwind(|| panic!("first, caught by the hook itself"));
            panic::resume_unwind(Box::new("second, resumed"));
        })
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "second, resumed");
    }
}
