//! The entry points Kea calls for the library as a whole: `load()` builds
//! the hook and registers its callouts and commands, `unload()` tears it
//! down, the command callout answers its commands; and the parameter check
//! `kea-hooks-check` runs. The top of the SDK: it brings together the
//! hook ([`crate::hook`]), its callouts, commands and threads.

use std::ffi::c_int;

use crate::callout::CalloutEntry;
use crate::command::{answer, Answer, CommandTable, Commands};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, CalloutHandle, RawCalloutHandle, RawLibraryHandle};
use crate::guard::{guard, install_panic_hook, PANIC_RECORDS};
use crate::hook::{HasSlot, Hook, LoadContext, Policy, Server};
use crate::log::{self as klog, Severity};

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
    let cx = LoadContext::new(server, format!("{root}.{}", H::NAME));
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

// ---- commands ----

/// The callout `load()` registers for each of hook `H`'s commands. Kea
/// passes the command as argument `command` and sends what the callout
/// leaves in `response`. Nothing unwinds out of it.
pub(crate) extern "C" fn command_callout<H: Hook + HasSlot>(handle: Option<&mut RawCalloutHandle>) -> c_int {
    let Some(raw) = handle else { return 0 };
    let handle = raw.callout_handle();
    let shared: &CalloutHandle = &handle;
    let done = guard(|| {
        let answer = match ffi::arg_element_json(shared, "command") {
            Ok(json) => H::slot()
                .with_extra(|hook, table| answer(H::NAME, hook, table, &json))
                .unwrap_or_else(|| Answer::error(format!("{}: the hook is not loaded", H::NAME))),
            Err(e) => Answer::error(format!("bad arguments: {}", e.what())),
        };
        ffi::arg_set_element(shared, "response", &answer.to_json()).is_ok()
    });
    match done {
        Ok(true) => 0,
        _ => 1,
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
}
