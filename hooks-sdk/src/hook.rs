//! The hook itself: the [`Hook`] trait, what it is given at load
//! ([`LoadContext`]) and where the loaded hook is kept (its slot). `load()`
//! and `unload()` themselves are in `load.rs`, above the callouts and
//! commands they register; this module is below them.

use serde::de::DeserializeOwned;

use crate::command::{CommandTable, Commands};
use crate::error::Error;
use crate::ffi::{self, Slot};
use crate::kea::KeaAccess;

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
    pub(crate) fn new(server: Server, logger: String) -> Self {
        LoadContext { server, logger }
    }

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
    pub fn kea(&self) -> KeaAccess<'_> {
        KeaAccess::new(true)
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
