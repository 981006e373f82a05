//! The hook itself: how it is built at `load()` and torn down at `unload()`.

use std::any::Any;
use std::ffi::c_int;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use serde::de::DeserializeOwned;

use crate::callout::CalloutEntry;
use crate::command::{command_callout, CommandTable, Commands};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, RawLibraryHandle, Slot, ThreadBox};
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

    /// Checks the parameters beyond what deserializing them checks (a
    /// pattern that must parse, a range, two fields that exclude each
    /// other), without starting anything. Called before [`load`](Self::load),
    /// where an `Err` fails the load as a deserializing error does (`bad
    /// parameters: ` and the error: name the field, `at 'deny[1]': ...`),
    /// and by `kea-hooks-check`, which runs it for every SDK hook in a Kea
    /// configuration file before it is deployed (Kea's own `-t` never calls
    /// a hook). Put every validation that needs no running Kea here rather
    /// than in `load` (a file that must exist, a script's place: see
    /// [`script_path`]; an address that must parse), so that the checker
    /// reports what `load` would refuse. Default: no further checks.
    fn check(params: &Self::Params) -> Result<(), Error> {
        let _ = params;
        Ok(())
    }

    /// Builds the hook from its parameters. An `Err` fails the load and Kea
    /// refuses the configuration; the error is logged with the hook's name.
    fn load(params: Self::Params, cx: &LoadContext) -> Result<Self, Error>;

    /// What the packet gets when a callout panics; asked once, right after
    /// `load`. Default: [`OnFailure::Drop`]. A hook that makes policy
    /// decisions should fail closed (the client retries; an unchecked packet
    /// is not served); a hook that only observes can return
    /// [`OnFailure::Continue`], or take it from its parameters.
    fn on_panic(&self) -> OnFailure {
        OnFailure::Drop
    }

    /// What the packet gets when a callout returns `Err`; asked once, right
    /// after `load`. Default: [`OnFailure::Drop`], as for a panic: an error
    /// means the callout could not decide, and a hook that decides must not
    /// let an undecided packet through. What "drop" means at each hook
    /// point (some cannot drop, and skip instead) is on each marker in
    /// [`crate::dhcp4`].
    fn on_error(&self) -> OnFailure {
        OnFailure::Drop
    }

    /// Whether the load must fail when the server has none of the hook
    /// points this hook has callouts for (for example a DHCPv4 hook listed
    /// in kea-dhcp6's configuration, where it would silently do nothing).
    /// Default: true. Return false for a hook that registers no callouts on
    /// purpose there (a hook that only answers control commands, say).
    fn callouts_required(&self) -> bool {
        true
    }

    /// Whether to register this hook's callout at `point` (a hook point it
    /// implements [`Callout`](crate::Callout) for), asked once after
    /// `load`. Default: all of them. Return false for one this
    /// configuration does not need: Kea prepares for every registered
    /// callout (with one at `leases4_committed` or `lease4_offer` it parks
    /// each query before calling it), so an unneeded one still costs.
    fn wants_callout(&self, point: &str) -> bool {
        let _ = point;
        true
    }

    /// The control commands the hook answers: add each to `commands` (see
    /// [`crate::command`]). Called once, right after `load`; an `Err`
    /// fails the load. Default: none.
    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        let _ = commands;
        Ok(())
    }
}

/// What a packet gets when a callout fails (panics, or returns `Err`): see
/// [`Hook::on_panic`] and [`Hook::on_error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Refuse the packet: drop it, or at a point that cannot drop, skip
    /// the step the point guards (at `lease4_select`: no lease is handed
    /// out). Each marker in [`crate::dhcp4`] says which.
    Drop,
    /// Leave the next step as it was and let Kea carry on. After an `Err`,
    /// a step the callout set before failing stands.
    Continue,
}

/// The former name of [`OnFailure`], kept so that `OnPanic::Drop` still
/// compiles.
pub type OnPanic = OnFailure;

/// What a failing callout's packet gets, as the hook answered at load.
#[derive(Debug, Clone, Copy)]
#[doc(hidden)]
pub struct Policy {
    pub(crate) on_panic: OnFailure,
    pub(crate) on_error: OnFailure,
}

/// The hook's slot, as [`kea_hook!`](crate::kea_hook) defines it in the
/// hook's crate.
#[doc(hidden)]
pub type HookSlot<H> = Slot<H, Policy, CommandTable<H>>;

/// An empty [`HookSlot`] (fail closed until the hook says otherwise).
#[doc(hidden)]
pub const fn new_slot<H>() -> HookSlot<H> {
    Slot::new(Policy { on_panic: OnFailure::Drop, on_error: OnFailure::Drop })
}

/// Implemented for a hook by [`kea_hook!`](crate::kea_hook): the hook's
/// [`HookSlot`], a static in the hook's crate.
///
/// # Safety
///
/// `slot()` must return the same static every time, used by no other type.
#[doc(hidden)]
// Declares a contract; does nothing unsafe itself.
#[allow(unsafe_code)]
pub unsafe trait HasSlot: Sized + 'static {
    /// The slot.
    fn slot() -> &'static HookSlot<Self>;
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

    /// [`script_path`]: where Kea lets this hook run the script `name`
    /// from.
    pub fn script_path(&self, name: &str) -> Result<std::path::PathBuf, Error> {
        script_path(name)
    }

    /// `KEA_HOOKS_VERSION` of the Kea this library was built against.
    pub fn kea_hooks_version(&self) -> i32 {
        crate::KEA_HOOKS_VERSION
    }

    /// Kea's configuration and lease database (see [`crate::kea`]): in
    /// `load`, the configuration being applied, and the lease database of
    /// the one before (none at start-up).
    pub fn kea(&self) -> crate::kea::KeaAccess<'_> {
        crate::kea::KeaAccess::new(true)
    }
}

/// Where Kea lets a hook run the script `name` from, as Kea's own hooks
/// (run_script, the forensic log's rotate scripts) check it: on Kea 3.0+
/// a script must sit in the hook-scripts directory
/// (`KEA_HOOK_SCRIPTS_PATH`, default `<prefix>/share/kea/scripts`; Kea's
/// `-X` lifts the rule), and a bare file name means a file there. Before
/// 3.0, `name` as given. The error names the allowed directory.
///
/// It asks Kea's own checker (through the libraries the hook is linked
/// with), so it answers the same in [`Hook::load`] and in
/// [`Hook::check`], which `kea-hooks-check` runs outside Kea: there it
/// reads `KEA_HOOK_SCRIPTS_PATH` from the checker's environment, which
/// must then be Kea's (and the checker cannot know about `-X`).
pub fn script_path(name: &str) -> Result<std::path::PathBuf, Error> {
    Ok(ffi::hook_script_path(name)?.into())
}

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
static PANIC_RECORDS: ThreadBox<PanicRecord> = ThreadBox::new();

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

fn install_panic_hook() {
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
///
/// # Safety
///
/// Only the `load` function that [`kea_hook!`](crate::kea_hook) exports may
/// call this, and only Kea may call that: on its main thread, while no
/// callout of this library runs. (Called anywhere else it could free the
/// hook under a running callout.)
#[doc(hidden)]
// Declares a contract; does nothing unsafe itself.
#[allow(unsafe_code)]
pub unsafe fn load<H: Hook + HasSlot>(handle: Option<&mut RawLibraryHandle>, entries: &[Option<CalloutEntry>]) -> c_int {
    ffi::ignore_sigpipe();
    ffi::record_main_thread();
    install_panic_hook();
    PANIC_RECORDS.open();
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
        // Never a panic: stderr may be a closed pipe.
        ffi::write_stderr_line(&line);
    }
}

fn load_inner<H: Hook + HasSlot>(handle: &mut RawLibraryHandle, entries: &[Option<CalloutEntry>]) -> Result<(), Error> {
    check_name(H::NAME)?;
    let slot = H::slot();
    if slot.is_loaded() {
        // Kea unloads a library before it loads it again, so a loaded hook
        // means the same library file is listed twice in hooks-libraries:
        // both entries share this one mapping, so they cannot be two
        // independent hooks. Kea calls `unload()` after a failed `load()`;
        // the slot remembers that this one must leave the first alone.
        slot.refuse_load();
        return Err(Error::msg(
            "this library is already loaded: the same library file is listed twice in hooks-libraries; \
             list it once (a library file can hold only one instance of its hook)",
        ));
    }
    let root = ffi::server_root_logger()?;
    ffi::log_open(H::NAME, &message_id(H::NAME))?;
    klog::install_subscriber();

    let server = match root.as_str() {
        "kea-dhcp4" => Server::Dhcp4,
        "kea-dhcp6" => Server::Dhcp6,
        _ => Server::Other,
    };
    let json = ffi::library_parameters_json(handle.library_handle())
        .map_err(|e| Error::new(ErrorKind::Parameters, format!("bad parameters: {}", e.what())))?;
    let params = parse_and_check::<H>(&json)?;
    if matches!(server, Server::Dhcp4 | Server::Dhcp6) {
        // Work for Kea's main thread (crate::threads::main_thread).
        ffi::main_queue::open().map_err(|e| Error::new(ErrorKind::Kea, format!("opening the main-thread queue: {e}")))?;
        // Hook threads' lease queries wait out Kea's critical sections.
        ffi::lease_gate::register().map_err(|e| Error::new(ErrorKind::Kea, e))?;
    }
    let cx = LoadContext { server, logger: format!("{root}.{}", H::NAME) };
    let hook = H::load(params, &cx)?;
    if matches!(server, Server::Dhcp4 | Server::Dhcp6) && crate::threads::any_running() {
        // Threads of the hook's own are what queue work for the main
        // thread: have Kea watch the queue now, so none of it waits.
        ffi::main_queue::prepare();
    }
    let mut commands = Commands::default();
    hook.commands(&mut commands)?;

    let mut registered = Vec::new();
    let mut absent = Vec::new();
    // Callouts at points only one server has (pkt4_receive, ...) say which
    // server the hook is written for; those every server has
    // (command_processed) do not.
    let mut registered_specific = false;
    for entry in entries.iter().flatten() {
        if !hook.wants_callout(entry.name) {
            continue;
        }
        if !entry.servers.contains(&server) || !ffi::server_has_hook(entry.name)? {
            if entry.servers.len() == 1 {
                absent.push(entry.name);
            }
            continue;
        }
        ffi::register_callout(handle.library_handle(), entry.name, entry.callout)
            .map_err(|e| Error::new(ErrorKind::Kea, format!("registering {}: {}", entry.name, e.what())))?;
        registered.push(entry.name);
        registered_specific |= entry.servers.len() == 1;
    }
    for name in commands.names() {
        ffi::register_command(handle.library_handle(), name, command_callout::<H>)
            .map_err(|e| Error::new(ErrorKind::Kea, format!("registering command {name}: {}", e.what())))?;
    }
    let nothing = registered.is_empty() && commands.is_empty();
    if (nothing || (!registered_specific && !absent.is_empty())) && hook.callouts_required() {
        // (Kea removes whatever a failed load registered.)
        let what = if absent.is_empty() {
            "the hook implements no Callout".to_owned()
        } else {
            format!("{root} has none of the hook points it has callouts for ({})", absent.join(", "))
        };
        return Err(Error::msg(format!(
            "{what}, so it would do nothing here; load it into the server it is written for \
             (a hook that registers no callouts on purpose says so with Hook::callouts_required)"
        )));
    }
    // Kea calls no callout before `load()` returns, so publishing the
    // instance last is in time.
    let policy = Policy { on_panic: hook.on_panic(), on_error: hook.on_error() };
    let command_names = commands.names().collect::<Vec<_>>().join(" ");
    slot.install(hook, policy, CommandTable::new(commands));
    let commands_part = if command_names.is_empty() { String::new() } else { format!(", commands: {command_names}") };
    klog::emit(
        Severity::Debug,
        40,
        &format!(
            "{}: loaded (Kea hooks API {}), callouts: {}{commands_part}",
            H::NAME,
            crate::KEA_HOOKS_VERSION,
            registered.join(" ")
        ),
    );
    Ok(())
}

/// The hook's parameters from their JSON text (empty: none), deserialized
/// and checked with [`Hook::check`]; what `load()` and
/// `kea-hooks-check` run.
fn parse_and_check<H: Hook>(json: &str) -> Result<H::Params, Error> {
    let params: H::Params = crate::params::parse(json).map_err(|e| e.context("bad parameters"))?;
    H::check(&params).map_err(|e| e.context("bad parameters"))?;
    Ok(params)
}

/// What `kea-hooks-check` learns about a hook library: a JSON object
/// `{"hook", "kea", "hooks_version", "error"}` (`error` null when the
/// parameters are good).
fn check_report<H: Hook>(json: &str) -> (bool, String) {
    let error = match guard(|| parse_and_check::<H>(json).map(drop)) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(panic) => Some(format!("bad parameters: the check panicked: {panic}")),
    };
    let ok = error.is_none();
    let report = serde_json::json!({
        "hook": H::NAME,
        "kea": crate::KEA_VERSION,
        "hooks_version": crate::KEA_HOOKS_VERSION,
        "error": error,
    });
    (ok, report.to_string())
}

/// `kea_hooks_check_parameters()`, the function
/// [`kea_hook!`](crate::kea_hook) exports for `kea-hooks-check`: checks the
/// parameters (`len` bytes of JSON text at `json`) as `load()` would, and
/// passes the report (see `check_report`) to `report(ctx, text, len)`.
/// Returns 0 when they are good, 1 when not, 2 when the text is not UTF-8.
///
/// # Safety
///
/// `json` must point to `len` readable bytes (it may be null when `len` is
/// 0), and `report`, when given, must be callable with `ctx`.
#[doc(hidden)]
// Declares a contract; the raw parts are handled in `ffi`.
#[allow(unsafe_code)]
pub unsafe fn check_parameters<H: Hook>(json: *const u8, len: usize, report: ffi::CheckReport, ctx: *mut std::ffi::c_void) -> c_int {
    // SAFETY: this function's own contract.
    let bytes = unsafe { ffi::raw_bytes(json, len) };
    let Ok(text) = std::str::from_utf8(bytes) else { return 2 };
    let (ok, text) = check_report::<H>(text);
    ffi::send_report(report, ctx, &text);
    if ok {
        0
    } else {
        1
    }
}

/// `unload()`; called by the function [`kea_hook!`](crate::kea_hook) exports.
///
/// Drops the hook value (its `Drop` joins the hook's threads), then detaches
/// the logger and forgets the panic records. After a `load()` refused
/// because the library was already loaded, it leaves that loaded hook alone.
/// SIGPIPE stays ignored: restoring it could expose another library, or
/// Kea, that relies on it being ignored.
///
/// # Safety
///
/// As for [`load`]: only the `unload` function that
/// [`kea_hook!`](crate::kea_hook) exports may call this, and only Kea may
/// call that, while no callout of this library runs (it drops the hook the
/// callouts borrow).
#[doc(hidden)]
// Declares a contract; does nothing unsafe itself.
#[allow(unsafe_code)]
pub unsafe fn unload<H: Hook + HasSlot>() -> c_int {
    let slot = H::slot();
    if slot.take_refused_load() {
        return 0;
    }
    // First the main-thread queue: work still in it is dropped unrun, and
    // a worker waiting in main_thread::call is released, so that dropping
    // the hook below can join it.
    ffi::main_queue::close();
    ffi::lease_gate::unregister();
    let result = guard(|| slot.release());
    if let Err(panic) = &result {
        klog::emit(Severity::Error, 0, &format!("{}: panicked while unloading: {panic}", H::NAME));
    }
    let _ = guard(crate::threads::join_leftovers);
    ffi::log_close();
    // The hook's threads are joined (or the process is lost anyway once
    // Kea unmaps the library): no thread can need its panic record now.
    PANIC_RECORDS.close();
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
        PANIC_RECORDS.open();
        let err = guard(|| -> u32 { panic!("boom {}", 7) }).err().unwrap();
        let text = err.to_string();
        assert!(text.starts_with("boom 7 (at "), "{text}");
        assert!(text.contains("hook.rs:"), "{text}");
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
