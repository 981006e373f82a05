//! The hook itself: how it is built at `load()` and torn down at `unload()`.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_int;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use serde::de::DeserializeOwned;

use crate::callout::CalloutEntry;
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, HasSlot, RawLibraryHandle};
use crate::log::{self as klog, Severity};

/// A Kea hook library written in Rust.
///
/// The value `load` returns lives until Kea unloads the library (at
/// shutdown, and before every reload through `config-reload` or SIGHUP,
/// which then calls `load` again with the new parameters). Its `Drop` is
/// the place to stop and **join** any thread the hook started: Kea unmaps
/// the library right after `unload()`.
///
/// Implement [`Callout<P>`](crate::Callout) for the hook points you want and
/// finish the crate with [`kea_hook!`](crate::kea_hook).
pub trait Hook: Sized + Send + Sync + 'static {
    /// The hook's name: its logger is `kea-dhcp4.<NAME>` (or `kea-dhcp6.`),
    /// and it prefixes every message the SDK logs for it. At most 31
    /// characters, letters, digits, `-` and `_`.
    const NAME: &'static str;

    /// The `parameters` map of the hook's `hooks-libraries` entry; use
    /// [`NoParameters`](crate::params::NoParameters) when there are none.
    type Params: DeserializeOwned;

    /// Builds the hook from its parameters. An `Err` fails the load and Kea
    /// refuses the configuration; the error is logged with the hook's name.
    fn load(params: Self::Params, cx: &LoadContext) -> Result<Self, Error>;

    /// What the packet gets when a callout panics; asked once, right after
    /// `load`. Default: [`OnPanic::Drop`]. A hook that makes policy
    /// decisions should fail closed (the client retries; an unchecked packet
    /// is not served); a hook that only observes can return
    /// [`OnPanic::Continue`], or take it from its parameters.
    fn on_panic(&self) -> OnPanic {
        OnPanic::Drop
    }
}

/// What a packet gets when a callout panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPanic {
    /// Drop the packet (at `lease4_select`, which cannot drop: skip the
    /// lease selection, so no lease is handed out).
    Drop,
    /// Leave the next step as it was and let Kea carry on.
    Continue,
}

/// The DHCP server a hook is loaded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Server {
    /// kea-dhcp4.
    Dhcp4,
    /// kea-dhcp6.
    Dhcp6,
    /// Another Kea daemon (for example kea-ctrl-agent), by its logger name.
    Other,
}

/// What `load` may want to know about where it runs.
#[derive(Debug)]
pub struct LoadContext {
    server: Server,
    logger: String,
}

impl LoadContext {
    /// The server loading the hook.
    pub fn server(&self) -> Server {
        self.server
    }

    /// The name of the hook's logger, e.g. `kea-dhcp4.mac-acl`: what to put
    /// under `loggers` in Kea's configuration to control its output.
    pub fn logger_name(&self) -> &str {
        &self.logger
    }

    /// `KEA_HOOKS_VERSION` of the Kea this library was built against.
    pub fn kea_hooks_version(&self) -> i32 {
        crate::KEA_HOOKS_VERSION
    }
}

// ---- panics -----------------------------------------------------------------
//
// A cdylib has its own copy of std, so the panic hook set here sees only
// this library's panics. It records what happened (message, location,
// thread) in a thread-local, and logs nothing. A `guard` that catches the
// panic takes the record and its caller logs one line, with the hook point
// and the outcome. A record nobody takes (a panic on a hook's own thread,
// which ends the thread) logs itself when the thread-local is dropped: at
// the thread's exit, or when the thread's next panic replaces it. So the
// callouts' fast path touches no thread-local at all (a flag set around
// each call, as before, was two calls and a dependent chain of loads, ~0.3%
// of kea-dhcp4's throughput), and there is no backtrace: symbolizing one
// took Kea's packet thread 85 ms when RUST_BACKTRACE was set.

/// A panic as the panic hook saw it. Dropped untaken, it logs itself.
struct PanicRecord {
    /// `None` once `guard` took it (its caller logs it).
    panic: Option<PanicMessage>,
    thread: String,
}

impl Drop for PanicRecord {
    fn drop(&mut self) {
        let Some(panic) = &self.panic else { return };
        let line = format!("panic on thread '{}': {panic}", self.thread);
        if !klog::emit(Severity::Error, 0, &line) {
            // The hook's logger is closed (after unload); still say it.
            eprintln!("{line}");
        }
    }
}

thread_local! {
    // Written by the panic hook; taken by `guard` after it caught a panic.
    static LAST_PANIC: RefCell<Option<PanicRecord>> = const { RefCell::new(None) };
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

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let message = payload_text(info.payload());
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
            let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
            let record = PanicRecord { panic: Some(PanicMessage { message, location }), thread };
            // A record left from an earlier panic is dropped here, which
            // logs it. If the thread-local is gone (the thread is exiting),
            // the record is dropped, and logs, right away.
            let _ = LAST_PANIC.try_with(|last| last.replace(Some(record)));
        }));
    });
}

/// Takes the panic hook's record of the panic `guard` just caught, as a
/// [`PanicMessage`] (the payload's text when there is no record).
#[cold]
#[inline(never)]
fn caught(payload: Box<dyn Any + Send>) -> PanicMessage {
    let record = LAST_PANIC.try_with(|last| last.borrow_mut().take()).ok().flatten();
    record
        .and_then(|mut record| record.panic.take())
        .unwrap_or_else(|| PanicMessage { message: payload_text(&*payload), location: None })
}

/// Runs `f`, turning a panic into a [`PanicMessage`]. Nothing but the
/// unwinding landing pad is added to `f`'s fast path.
#[inline(always)]
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Result<R, PanicMessage> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(caught)
}

// ---- load / unload ------------------------------------------------------------

fn message_id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

fn check_name(name: &str) -> Result<(), Error> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.is_empty() || name.len() > 31 || !ok_chars {
        return Err(Error::msg(format!(
            "Hook::NAME {name:?} must be 1 to 31 characters of letters, digits, '-' and '_'"
        )));
    }
    Ok(())
}

/// `load()` for hook `H`; called by the function [`kea_hook!`](crate::kea_hook) exports.
#[doc(hidden)]
pub fn load<H: Hook + HasSlot>(handle: Option<&mut RawLibraryHandle>, entries: &[Option<CalloutEntry>]) -> c_int {
    ffi::ignore_sigpipe();
    install_panic_hook();
    let Some(handle) = handle else { return 1 };
    match guard(|| load_inner::<H>(handle, entries)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            report_load_failure(H::NAME, &e.to_string());
            1
        }
        Err(panic) => {
            report_load_failure(H::NAME, &format!("panicked: {panic}"));
            1
        }
    }
}

fn report_load_failure(name: &str, text: &str) {
    let line = format!("{name}: load failed: {text}");
    if !klog::emit(Severity::Error, 0, &line) {
        // No logger (it could not be created, or ERROR is disabled): make
        // sure the operator still sees why Kea refused the configuration.
        eprintln!("{line}");
    }
}

fn load_inner<H: Hook + HasSlot>(handle: &mut RawLibraryHandle, entries: &[Option<CalloutEntry>]) -> Result<(), Error> {
    check_name(H::NAME)?;
    // Kea unloads before it loads again, so a hook still loaded is not
    // expected; drop it rather than keep it.
    release_hook::<H>();
    let root = ffi::server_root_logger()?;
    ffi::log_open(H::NAME, &message_id(H::NAME))?;
    klog::install_subscriber();

    let server = match root.as_str() {
        "kea-dhcp4" => Server::Dhcp4,
        "kea-dhcp6" => Server::Dhcp6,
        _ => Server::Other,
    };
    let json = ffi::library_parameters(handle.library_handle())?;
    let params: H::Params = crate::params::parse(&json).map_err(|e| e.context("bad parameters"))?;
    let cx = LoadContext { server, logger: format!("{root}.{}", H::NAME) };
    let hook = H::load(params, &cx)?;

    let mut registered = Vec::new();
    for entry in entries.iter().flatten() {
        if !ffi::server_has_hook(entry.name)? {
            continue;
        }
        ffi::register_callout(handle.library_handle(), entry.name, entry.callout)
            .map_err(|e| Error::new(ErrorKind::Kea, format!("registering {}: {}", entry.name, e.what())))?;
        registered.push(entry.name);
    }
    // Kea calls no callout before `load()` returns, so publishing the
    // instance last is in time.
    let on_panic = hook.on_panic();
    if H::slot().install(hook, on_panic).is_err() {
        // Not reached: `release_hook` above emptied the slot.
        return Err(Error::msg("a hook is already loaded"));
    }
    klog::emit(
        Severity::Debug,
        40,
        &format!("{}: loaded (Kea hooks API {}), callouts: {}", H::NAME, crate::KEA_HOOKS_VERSION, registered.join(" ")),
    );
    Ok(())
}

/// Drops the loaded hook, if any (its `Drop` joins the hook's threads).
fn release_hook<H: Hook + HasSlot>() {
    if let Err(panic) = guard(|| H::slot().release()) {
        klog::emit(Severity::Error, 0, &format!("{}: panicked while unloading: {panic}", H::NAME));
    }
}

/// `unload()`; called by the function [`kea_hook!`](crate::kea_hook) exports.
///
/// Drops the hook value (its `Drop` joins the hook's threads), then detaches
/// the logger. SIGPIPE stays ignored: restoring it could expose another
/// library, or Kea, that relies on it being ignored.
#[doc(hidden)]
pub fn unload<H: Hook + HasSlot>() -> c_int {
    let result = guard(release_hook::<H>);
    ffi::log_close();
    if result.is_ok() {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert!(check_name("mac-acl").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a.b").is_err());
        assert!(check_name(&"x".repeat(32)).is_err());
        assert_eq!(message_id("mac-acl"), "MAC_ACL");
    }

    #[test]
    fn guard_reports_message_and_location() {
        install_panic_hook();
        let err = guard(|| -> u32 { panic!("boom {}", 7) }).err().unwrap();
        let text = err.to_string();
        assert!(text.starts_with("boom 7 (at "), "{text}");
        assert!(text.contains("hook.rs:"), "{text}");
        assert_eq!(guard(|| 5).ok(), Some(5));
    }
}
