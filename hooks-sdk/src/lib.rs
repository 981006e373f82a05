//! Write [ISC Kea](https://www.isc.org/kea/) DHCP hook libraries in safe Rust.
//!
//! A hook is a type that implements [`Hook`] (how it is built from its
//! `parameters`) and [`Callout<P>`] for each hook point `P` it wants, such as
//! [`dhcp4::Pkt4Receive`] (kea-dhcp4) or [`dhcp6::Pkt6Receive`] (kea-dhcp6). One [`kea_hook!`] line turns the crate (built as a
//! `cdylib`) into a library Kea loads through `hooks-libraries`:
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Params {
//!     /// Drop DISCOVERs from this exact hardware address.
//!     block: String,
//! }
//!
//! struct Blocker {
//!     block: String,
//! }
//!
//! impl Hook for Blocker {
//!     const NAME: &'static str = "blocker";
//!     type Params = Params;
//!     fn load(params: Params, _cx: &LoadContext) -> Result<Self, Error> {
//!         Ok(Blocker { block: params.block.to_lowercase() })
//!     }
//! }
//!
//! impl Callout<dhcp4::Pkt4Receive> for Blocker {
//!     fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
//!         let query = cx.query()?;
//!         if query.hwaddr().to_string() == self.block {
//!             tracing::debug!(xid = query.xid(), "blocked");
//!             cx.set_next_step(NextStep::Drop)?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! kea_hooks::kea_hook!(Blocker);
//! ```
//!
//! # What the SDK guarantees
//! * Nothing crosses the boundary: every entry point catches Rust panics, and
//!   every C++ call that can throw returns a [`Result`] (`Error` of kind
//!   [`ErrorKind::Kea`]). A panicking callout, or one that returns `Err`, is
//!   logged once and the packet gets the hook's [`Hook::on_panic`] or
//!   [`Hook::on_error`] outcome: refused by default (fail closed).
//! * Views ([`dhcp4::Pkt4`], [`dhcp4::Lease4`], [`dhcp4::Subnet4`], and
//!   [`dhcp6::Pkt6`], [`dhcp6::Lease6`], [`dhcp6::Subnet6`]) borrow Kea's
//!   objects for the callout's duration only; no raw pointers leak.
//! * `tracing` events go to Kea's logger `kea-dhcp4.<NAME>` (or
//!   `kea-dhcp6.<NAME>`) with Kea's
//!   severities; see [`log`].
//! * Parameters are deserialized with serde; a bad one fails the load with a
//!   message naming the field; see [`params`].
//! * Reload (`config-reload`, SIGHUP) drops the hook value (its `Drop` runs:
//!   join your threads there) and builds a new one from the new parameters;
//!   a rebuilt library file is picked up (see [Reload](#reload)).
//!
//! # The one rule: no unbounded wait on Kea's behalf
//! A DHCP server that stops answering is an outage. So nothing a hook does
//! on Kea's main thread (`load`, `unload`, commands, `dhcp4_srv_configured`,
//! and with multi-threading off every callout), on a packet thread (a
//! callout), or in `Drop` at unload may wait **without a bound** on
//! anything a client, a script, a remote end or the hook's own threads
//! control. The SDK's own waits follow it, and give hooks the tools to:
//! * [`threads::main_thread::call_timeout`] bounds a wait for the main
//!   thread; never hold a lock across [`threads::main_thread::call`] that
//!   the main thread may want (a command, a callout), or the two wait for
//!   each other;
//! * [`threads::JobQueue::push`] never blocks a callout; `push_timeout`
//!   waits at most as long as it is told;
//! * a [`threads::Worker`] is joined at unload: its loop must notice its
//!   [`threads::StopToken`] promptly, so every wait in it is bounded or
//!   woken by the stop ([`threads::StopToken::on_stop`],
//!   [`process::Waker`]): a blocking read on a peer's socket or pipe is
//!   not (use non-blocking I/O and [`process::poll`], or [`http`]'s
//!   server, which stops at once whatever its clients do);
//! * [`process`] children are waited for with deadlines, killed with their
//!   process group, and reaped within a bounded time;
//! * [`net::resolve`] and [`net::TcpConnection`] keep a name lookup and a
//!   TCP exchange within one [`net::Deadline`], cut short at unload by a
//!   [`net::Interrupt`];
//! * a `Parked` token used early never makes Kea's main thread spin or
//!   wait (see [`parking`]).
//!
//! SIGPIPE is ignored from `load` on (a cdylib gets no Rust start-up), so
//! a writer whose peer vanishes gets `EPIPE`, never Kea killed; children
//! start with it back at its default.
//!
//! # Beyond callouts
//! * [`command`]: control commands with serde arguments and answers, and
//!   running any of Kea's in Kea ([`command::execute`]);
//! * [`stats`]: the hook's own statistics in Kea's, and Kea's, one by one
//!   or all of them a bounded page at a time ([`stats::read_all`]);
//! * [`parking`]: hold a packet while a thread of the hook waits for
//!   something, then resume or drop it;
//! * [`threads`]: worker threads joined at unload, job queues, work for
//!   Kea's main thread;
//! * [`http`]: a small HTTP endpoint (a metrics or status page) whose
//!   clients cannot hold up Kea: a deadline per request, a bounded number
//!   of clients, stopped at once at unload;
//! * [`process`]: programs started without forking Kea, waited for with
//!   timeouts, never left behind;
//! * [`net`]: name lookups and TCP connections bounded by one deadline
//!   and cut short at unload (a DNS server or a peer that hangs never
//!   holds up a reload);
//! * [`kea`]: Kea's configuration (subnets, pools) and lease database,
//!   read-only, on the threads Kea allows;
//! * [`Hook::check`]: parameter checks that `kea-hooks-check` (this kit's
//!   pre-deploy checker) runs on a configuration file before Kea does.
//!
//! # Reload
//! Kea unloads a hook, closes its library and opens it again. glibc
//! unmaps the library only when nothing pins it, and one thing pins it for
//! good: a Rust `thread_local!` **with a destructor** (a type with `Drop`:
//! `RefCell<Vec<_>>`, `Option<Arc<_>>`, ...) first touched on one of Kea's
//! own threads, which never exit (the main thread, and since Kea 2.4 the
//! packet workers, which are paused, not joined, across a reload). Kea then
//! runs the library that was loaded before, even if its file was replaced,
//! and its statics are not reset. The SDK keeps no such thread-local on its
//! own paths. In a hook's callouts, avoid them, and the std and crate calls
//! that make one: `std::thread::current()` (on a thread Rust did not
//! start), `tracing::subscriber::with_default` / `set_default`, thread-local
//! caches of other crates. Keep per-hook state in the hook value; `const`
//! thread-locals of types without `Drop` (`Cell<u64>`) are fine, and a
//! hook's own threads may use anything, since they are joined in unload.
//!
//! # Kea releases
//! The SDK is built against one Kea release (see [`KEA_VERSION`]), and
//! offers what that release has: items that need a later release than 2.2
//! exist only when built against it, under the cfgs `kea_2_4`, `kea_2_6`
//! and `kea_3_0` ("this release or newer"; in a hook, use
//! [`since_kea_2_6!`] and [`since_kea_3_0!`]). Their documentation starts
//! with the release they need, **Kea 2.6+.** or **Kea 3.0+.**, and items
//! that Kea dropped start with **Kea before 3.0.** This documentation, when
//! built with `DOCS_RS` set (as on docs.rs, without Kea), shows every item
//! of every release, and its version constants name the newest release.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
// Inside an `unsafe fn`, each unsafe operation still needs its own block
// and `// SAFETY:` reason (edition 2021 allows it by default).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod callout;
pub mod command;
pub mod dhcp4;
pub mod dhcp6;
mod error;
#[allow(unsafe_code)]
mod ffi;
mod guard;
pub mod ha;
mod hook;
pub mod http;
pub mod hwaddr;
pub mod kea;
pub mod lease;
mod load;
pub mod log;
mod macros;
pub mod net;
pub mod option;
pub mod params;
pub mod parking;
mod points;
pub mod process;
pub mod stats;
pub mod threads;

pub use callout::{Callout, Context, HookPoint, NextStep};
pub use error::{Error, ErrorKind};
pub use hook::{script_path, Hook, LoadContext, OnFailure, OnPanic, Server};

/// The `tracing` crate the SDK logs through (so a hook can use the same version).
pub use tracing;

include!(concat!(env!("OUT_DIR"), "/kea_version.rs"));

/// What a hook author needs in scope.
pub mod prelude {
    pub use crate::callout::{Callout, Context, NextStep};
    pub use crate::command::{Answer, CommandContext, Commands};
    pub use crate::dhcp4;
    pub use crate::dhcp4::LeaseWrites;
    pub use crate::dhcp6;
    pub use crate::dhcp6::LeaseWrites6;
    pub use crate::error::{Error, ErrorKind};
    pub use crate::hook::{Hook, LoadContext, OnFailure, OnPanic};
    pub use crate::params::NoParameters;
}

/// Support for [`kea_hook!`]; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::callout::{CalloutEntry, NotRegistered, Probe, Registered};
    pub use crate::ffi::{CheckReport, RawLibraryHandle};
    pub use crate::hook::{new_slot, HasSlot, HookSlot};
    pub use crate::load::{check_parameters, load, unload};
    pub use crate::KEA_HOOKS_VERSION;
}

#[cfg(test)]
mod tests {
    /// The `kea_X_Y` cfgs from build.rs agree with the headers' version.
    #[test]
    fn release_cfgs_match_the_hooks_version() {
        let v = super::KEA_HOOKS_VERSION;
        assert_eq!(cfg!(kea_2_4), v >= 20400, "{v}");
        assert_eq!(cfg!(kea_2_6), v >= 20600, "{v}");
        assert_eq!(cfg!(kea_3_0), v >= 30000, "{v}");
        let (major, minor, patch) = (v / 10000, v / 100 % 100, v % 100);
        assert_eq!(super::KEA_VERSION, format!("{major}.{minor}.{patch}"));
    }
}
