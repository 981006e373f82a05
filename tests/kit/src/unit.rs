//! Unit tests of a hook's callouts without a daemon: the hook library is
//! loaded into the test process by Kea's own `HooksManager`, and its
//! callouts run on packets, leases, subnets and commands built by Kea's own
//! code.
//! Plain `cargo test`: no root, no network namespace, no kea-dhcp4, a few
//! milliseconds per call.
//!
//! ```
//! use kea_hooks_test::unit::{Kea4, NextStep, Query4};
//! use kea_hooks_test::{build_hook, msg, Profile};
//! # if std::env::var_os("CARGO_TARGET_DIR").is_none() {
//! #     // A doctest runs from a temporary directory: name the workspace's target.
//! #     std::env::set_var("CARGO_TARGET_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/../../target"));
//! # }
//!
//! let library = build_hook("kea-hook-mac-acl", "dhcp_mac_acl", Profile::current());
//! let mut kea = Kea4::load(&library, serde_json::json!({ "deny": ["02:00:00"] })).unwrap();
//! let query = Query4::new(msg::DISCOVER, "02:00:00:00:00:01").bytes();
//! let outcome = kea.pkt4_receive(&query).unwrap();
//! assert_eq!(outcome.status, NextStep::Drop, "{}", kea.log());
//! ```
//!
//! # What happens, step by step
//!
//! * [`Kea4::load`] (or [`Kea6::load`]) sets Kea's root logger name to
//!   `kea-dhcp4` (`kea-dhcp6`), registers that server's hook points with
//!   `ServerHooks` (those of the Kea release the kit was built against) and
//!   calls `HooksManager::loadLibraries` with the library and its
//!   `parameters`, exactly as the server does at start-up: Kea dlopens the
//!   library, checks `version()` and (Kea 2.4+, multi-threading on as by
//!   default) `multi_threading_compatible()`, and calls `load()`. A refusal
//!   comes back as a [`LoadError`] holding Kea's and the hook's log lines
//!   (a bad parameter, a wrong release, ...).
//! * [`Kea4::call`] makes a callout handle (`HooksManager::createCalloutHandle`),
//!   sets the arguments you give ([`Call`]): packets are built from wire bytes
//!   by `Pkt4`/`Pkt6` and `unpack()`ed, leases by the `Lease4`/`Lease6`
//!   constructors, subnets by `Subnet4::create`/`Subnet6::create` (with
//!   their pools). [`Call::run`] calls `HooksManager::callCallouts` for the
//!   point and reads back what the callouts left: the next-step status, the
//!   packets (re-packed by Kea's `pack()`, with their client classes), the
//!   leases, the subnets (a `subnet4_select` callout may replace or clear
//!   one), the flags.
//! * [`Kea4::command`] calls the handler a hook registered for a control
//!   command (`HooksManager::callCommandHandlers`) with the command as the
//!   server would pass it, and returns the `response` it set.
//! * Dropping the [`Kea4`] unloads the library (`prepareUnloadLibraries`,
//!   `unloadLibraries`: the hook's `unload()` runs, its library is closed).
//!
//! # What it can show, and what it cannot
//!
//! It runs the hook's real callouts through the real hooks framework, on
//! Kea's real objects, in the Kea release the tests link: what a callout
//! decides (drop, skip, park), what it changes in a packet or a lease, how
//! it reads its parameters, what its command handlers answer, what it logs.
//!
//! It is not a server. There is no allocation engine (a lease exists only
//! if the test passes one), no lease database or host database (a hook
//! that queries the lease database gets an error: the SDK's `lease_db()`
//! says none is open), no
//! configuration (`CfgMgr` holds an empty one: no subnets, options or
//! classes from a `Dhcp4` map; the subnets a test passes ([`Call::subnet4`],
//! [`Subnet4`]) are real Kea subnets with their id, prefix, lifetimes and
//! pools, but belong to no configuration, so a hook that looks a subnet up
//! by id, lists the configured ones or selects one by id at
//! `subnet4_select` finds none; on Kea 2.2 the `subnet4collection`
//! argument of that point is not set), no network (packets never leave the process and
//! no interface is opened), no statistics a server would have set up, no
//! multi-threading (callouts run on the test's thread; Kea's thread pool
//! and critical sections never start; work a hook's own threads queue for
//! Kea's main thread never runs, as nothing polls the queue), and no point is called unless the
//! test calls it, in the order the test chooses: nothing checks that the
//! arguments are the ones the server passes at that point in that release
//! (see the SDK's table of points). Parked packets are never resumed.
//! `dhcp4_srv_configured`/`dhcp6_srv_configured` cannot be given what the
//! server passes there (its IOService, the staging configuration), so a
//! hook's work at those points, and anything that needs Kea's IOService
//! (timers, ISC's asynchronous hooks), is out of reach.
//! Whether the server then does what the status asks (drops the packet,
//! skips the step), whether a hook keeps up under load, survives a
//! reconfiguration, or behaves with Kea's threads: the integration tests
//! with a real server ([`crate::KeaConfig`]) show those.
//!
//! # One hook at a time per process
//!
//! `HooksManager`, `ServerHooks` and Kea's logger are process-wide
//! singletons, and cargo runs a test binary's tests in parallel threads. So
//! a loaded [`Kea4`]/[`Kea6`] holds a process-wide lock until it is
//! dropped: the tests of one binary that use this module run one after the
//! other (the others wait in `load`), and a test must drop one before it
//! loads the next (loading a second one on the same thread panics instead
//! of waiting forever). A test that panics still unloads its library while
//! it unwinds.
//!
//! The hook point names of both families stay registered with
//! `ServerHooks` once both were used in a process; the SDK decides which
//! server it is in from the root logger's name, as in the daemon.
//!
//! # Logging
//!
//! Kea's logger is set up once per process at DEBUG (level 99), to a file
//! of its own: [`Kea4::log`] returns what Kea and the hook logged since the
//! library was loaded, with Kea's usual line format (`... DEBUG
//! [kea-dhcp4.mac-acl/...] ...`). The file is deleted at once (it is read
//! through an open descriptor) unless `KEEP_TEST_DIRS` is set, when its
//! path is printed.
//!
//! # Building
//!
//! The C++ half is compiled by this crate's build script against the Kea it
//! finds (as the SDK does: `KEA_PREFIX`, `KEA_INCLUDE_DIR`, pkg-config,
//! `/usr/include/kea`, `/usr/local/include/kea`), and the test binaries
//! that use the kit link Kea's libraries: build the hook under test and the
//! tests against the same Kea (Kea refuses a library of another release,
//! and says so in the [`LoadError`]).

mod ffi;
mod objects;
mod subnet;
mod wire;

pub use objects::{Lease4, Lease6, Lease6Type, Packet};
pub use subnet::{Subnet4, Subnet6};
pub use wire::{Query4, Query6};

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::marker::PhantomData;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::ThreadId;

use cxx::UniquePtr;
use serde_json::Value;

use ffi::bridge;

/// What the callouts asked the server to do next (`CalloutHandle`'s
/// `CalloutNextStep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// `NEXT_STEP_CONTINUE`: go on as usual.
    Continue,
    /// `NEXT_STEP_SKIP`: skip the step the point precedes (its meaning
    /// depends on the point).
    Skip,
    /// `NEXT_STEP_DROP`: drop the packet.
    Drop,
    /// `NEXT_STEP_PARK`: park the packet until the hook resumes it.
    Park,
}

impl NextStep {
    fn from_kea(status: i32) -> Result<NextStep, Error> {
        match status {
            0 => Ok(NextStep::Continue),
            1 => Ok(NextStep::Skip),
            2 => Ok(NextStep::Drop),
            3 => Ok(NextStep::Park),
            other => Err(Error(format!("Kea returned next-step status {other}, which this kit does not know"))),
        }
    }
}

/// An error of this module: what went wrong, with Kea's message.
#[derive(Debug, Clone)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<cxx::Exception> for Error {
    fn from(e: cxx::Exception) -> Error {
        Error(e.what().to_owned())
    }
}

/// Kea did not load the library: `HooksManager::loadLibraries` refused it.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// The library that was to be loaded.
    pub library: PathBuf,
    /// Why, in a line: the ERROR/FATAL lines Kea and the hook logged while
    /// loading (`HOOKS_LOAD_ERROR ...`, `mac-acl: load failed: ...`), or
    /// the exception a step threw.
    pub reason: String,
    /// Everything logged during the attempt.
    pub log: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kea did not load {}: {}", self.library.display(), self.reason)
    }
}

impl std::error::Error for LoadError {}

// ---- the process-wide state ----

/// Held by a loaded `Kea4`/`Kea6`: one hook in `HooksManager` at a time.
static LOADED: Mutex<()> = Mutex::new(());
/// The thread holding `LOADED`, to refuse a second load on it (it would
/// wait for itself).
static OWNER: Mutex<Option<ThreadId>> = Mutex::new(None);
/// Kea's log file, opened for reading (set up once).
static LOG: OnceLock<Result<Mutex<File>, String>> = OnceLock::new();

fn log_file() -> Result<&'static Mutex<File>, Error> {
    let log = LOG.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("kea-hooks-test-unit-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let path_text = path.to_str().ok_or_else(|| format!("{} is not UTF-8", path.display()))?;
        bridge::logging_init(path_text).map_err(|e| format!("setting up Kea's logging to {}: {}", path.display(), e.what()))?;
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("opening Kea's log {}: {e}", path.display()))?;
        if std::env::var_os("KEEP_TEST_DIRS").is_some() {
            eprintln!("kea-hooks-test::unit: Kea's log is {}", path.display());
        } else {
            let _ = std::fs::remove_file(&path);
        }
        Ok(Mutex::new(file))
    });
    log.as_ref().map_err(|e| Error(e.clone()))
}

/// The log's length now.
fn log_mark() -> Result<u64, Error> {
    let file = log_file()?.lock().unwrap_or_else(PoisonError::into_inner);
    file.metadata().map(|m| m.len()).map_err(|e| Error(format!("reading Kea's log: {e}")))
}

/// What was logged from `mark` on.
fn log_since(mark: u64) -> String {
    let Ok(file) = log_file() else { return String::new() };
    let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
    let mut text = String::new();
    if file.seek(SeekFrom::Start(mark)).is_ok() {
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    text
}

/// The lock, refusing a second load on the thread that holds it.
fn lock() -> MutexGuard<'static, ()> {
    let me = std::thread::current().id();
    if *OWNER.lock().unwrap_or_else(PoisonError::into_inner) == Some(me) {
        panic!(
            "kea_hooks_test::unit: this thread already has a hook loaded (a Kea4 or Kea6 not yet dropped); \
             Kea's HooksManager holds one set of libraries per process: drop the first before loading another"
        );
    }
    // A test that panicked while holding it has unloaded its library
    // while unwinding: the state is clean, the poison is not news.
    let guard = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    *OWNER.lock().unwrap_or_else(PoisonError::into_inner) = Some(me);
    guard
}

/// A library loaded into this process's `HooksManager`, either family.
struct Loaded {
    library: PathBuf,
    family: u8,
    log_from: u64,
    unloaded: bool,
    // Last: released after the unload in `drop`.
    _guard: MutexGuard<'static, ()>,
}

impl Loaded {
    fn load(family: u8, library: &Path, parameters: &Value) -> Result<Loaded, LoadError> {
        let guard = lock();
        let fail = |reason: String, log: String| LoadError { library: library.to_path_buf(), reason, log };
        let release = || *OWNER.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let mark = match log_mark() {
            Ok(m) => m,
            Err(e) => {
                release();
                return Err(fail(e.to_string(), String::new()));
            }
        };
        // Kea resolves nothing itself: give it the absolute path, as a
        // server configuration would.
        let path = std::fs::canonicalize(library).unwrap_or_else(|_| library.to_path_buf());
        let json = if parameters.is_null() { String::new() } else { parameters.to_string() };
        let loaded = match path.to_str() {
            None => Err(format!("{} is not UTF-8", path.display())),
            Some(p) => bridge::library_load(family, p, &json).map_err(|e| e.what().to_owned()),
        };
        match loaded {
            Ok(true) => Ok(Loaded { library: path, family, log_from: mark, unloaded: false, _guard: guard }),
            Ok(false) => {
                let log = log_since(mark);
                let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ") || l.contains(" FATAL ")).collect();
                let reason = if errors.is_empty() { format!("loadLibraries failed; Kea logged:\n{log}") } else { errors.join("\n") };
                // loadLibraries has already unloaded whatever it opened.
                release();
                Err(fail(reason, log))
            }
            Err(e) => {
                let log = log_since(mark);
                let _ = bridge::library_unload();
                release();
                Err(fail(e, log))
            }
        }
    }

    fn log(&self) -> String {
        log_since(self.log_from)
    }

    fn unload(&mut self) -> Result<(), Error> {
        if self.unloaded {
            return Ok(());
        }
        self.unloaded = true;
        let result = bridge::library_unload().map_err(Error::from);
        *OWNER.lock().unwrap_or_else(PoisonError::into_inner) = None;
        result
    }

    fn call(&mut self, point: &str) -> Call<'_> {
        match bridge::handle_new() {
            Ok(handle) => new_call(&handle, point, self.family),
            Err(e) => Call::broken(point, self.family, format!("{point}: {}", e.what())),
        }
    }

    fn exchange(&mut self) -> Exchange<'_> {
        let (handle, error) = match bridge::handle_new() {
            Ok(h) => (h, None),
            Err(e) => (UniquePtr::null(), Some(e.what().to_owned())),
        };
        Exchange { handle, error, family: self.family, _kea: PhantomData }
    }

    fn command(&mut self, name: &str, arguments: Option<Value>) -> Result<Value, Error> {
        if !bridge::command_present(name)? {
            return Err(Error(format!("no library registered a handler for command '{name}'")));
        }
        let mut command = serde_json::json!({ "command": name });
        if let Some(args) = arguments {
            command["arguments"] = args;
        }
        let text = bridge::command_call(name, &command.to_string())?;
        serde_json::from_str(&text).map_err(|e| Error(format!("the response to '{name}' is not JSON ({e}): {text}")))
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        if let Err(e) = self.unload() {
            eprintln!("kea_hooks_test::unit: unloading {}: {e}", self.library.display());
        }
    }
}

macro_rules! loaded_common {
    ($kea:ident, $family:literal, $server:literal) => {
        impl $kea {
            #[doc = concat!("Loads hook library `library` into this process as ", $server, " would, with ")]
            /// `parameters` (its `"parameters"` map; `Value::Null` for none),
            /// and waits for any other loaded hook of this process to be
            /// dropped first (see the module's documentation).
            ///
            /// Fails with Kea's and the hook's log lines when Kea refuses the
            /// library: it cannot be opened, was built against another Kea
            /// release, or its `load()` failed (e.g. on a bad parameter).
            pub fn load(library: impl AsRef<Path>, parameters: Value) -> Result<$kea, LoadError> {
                Loaded::load($family, library.as_ref(), &parameters).map(|inner| $kea { inner })
            }

            /// Starts a call of hook point `point` (`"pkt4_receive"`, ...):
            /// set its arguments, then [`Call::run`]. A point this server
            /// does not have fails at `run`.
            pub fn call(&mut self, point: &str) -> Call<'_> {
                self.inner.call(point)
            }

            /// Starts an exchange: calls of several points on one callout
            /// handle, as the server makes them for one query (see
            /// [`Exchange`]).
            pub fn exchange(&mut self) -> Exchange<'_> {
                self.inner.exchange()
            }

            /// Runs the handler a hook registered for control command `name`
            /// with `arguments`, and returns the `response` it set (Kea's
            /// `{"result": 0, "text": ...}` map). Fails when no library
            /// registered the command or the handler threw.
            pub fn command(&mut self, name: &str, arguments: Option<Value>) -> Result<Value, Error> {
                self.inner.command(name, arguments)
            }

            /// What Kea and the hook logged since the library was loaded
            /// (DEBUG and up, Kea's line format).
            pub fn log(&self) -> String {
                self.inner.log()
            }

            /// Unloads the library (the hook's `unload()` runs) and returns
            /// everything logged since it was loaded, unload included.
            /// Dropping does the same without the log.
            pub fn unload(mut self) -> Result<String, Error> {
                self.inner.unload()?;
                Ok(self.inner.log())
            }

            /// The library's path, as given to Kea.
            pub fn library(&self) -> &Path {
                &self.inner.library
            }
        }

        impl fmt::Debug for $kea {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($kea)).field("library", &self.inner.library).finish()
            }
        }
    };
}

/// A hook library loaded into this process as kea-dhcp4 loads it; see the
/// module's documentation. Dropping it unloads the library.
pub struct Kea4 {
    inner: Loaded,
}

loaded_common!(Kea4, 4, "kea-dhcp4");

impl Kea4 {
    /// `pkt4_receive` on `query` (wire bytes, unpacked by Kea).
    pub fn pkt4_receive(&mut self, query: &[u8]) -> Result<Outcome, Error> {
        self.call("pkt4_receive").query4(query).run()
    }

    /// `buffer4_receive` on `query` (wire bytes Kea has not unpacked, as
    /// the server passes them).
    pub fn buffer4_receive(&mut self, query: &[u8]) -> Result<Outcome, Error> {
        self.call("buffer4_receive").packet4("query4", query, false).run()
    }

    /// `pkt4_send` on `response` answering `query`, with a null `subnet4`
    /// from Kea 2.6 on (the server passes the selected subnet there).
    pub fn pkt4_send(&mut self, query: &[u8], response: &[u8]) -> Result<Outcome, Error> {
        let call = self.call("pkt4_send").query4(query).response4(response);
        if cfg!(kea_unit_2_6) { call.no_subnet4() } else { call }.run()
    }
}

/// A hook library loaded into this process as kea-dhcp6 loads it; see the
/// module's documentation. Dropping it unloads the library.
pub struct Kea6 {
    inner: Loaded,
}

loaded_common!(Kea6, 6, "kea-dhcp6");

impl Kea6 {
    /// `pkt6_receive` on `query` (wire bytes, unpacked by Kea).
    pub fn pkt6_receive(&mut self, query: &[u8]) -> Result<Outcome, Error> {
        self.call("pkt6_receive").query6(query).run()
    }

    /// `buffer6_receive` on `query` (wire bytes Kea has not unpacked).
    pub fn buffer6_receive(&mut self, query: &[u8]) -> Result<Outcome, Error> {
        self.call("buffer6_receive").packet6("query6", query, false).run()
    }

    /// `pkt6_send` on `response` answering `query`, with a null `subnet6`
    /// from Kea 2.6 on.
    pub fn pkt6_send(&mut self, query: &[u8], response: &[u8]) -> Result<Outcome, Error> {
        let call = self.call("pkt6_send").query6(query).response6(response);
        if cfg!(kea_unit_2_6) { call.no_subnet6() } else { call }.run()
    }
}

/// Where a packet came from and arrived: Kea's `Pkt::setIface`,
/// `setIndex`, `setRemoteAddr`/`Port`, `setLocalAddr`/`Port`.
///
/// Without one, a query gets interface `eth0` (index 1) and, for DHCPv4,
/// remote `0.0.0.0:68` (the relay's `giaddr:67` when `giaddr` is set),
/// local `255.255.255.255:67`; for DHCPv6 remote `[fe80::1]:546` (`:547`
/// for a RELAY-FORW), local `[ff02::1:2]:547`. A response (an argument
/// named `response*`) gets the same with remote and local swapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The interface's name.
    pub iface: String,
    /// The interface's index.
    pub ifindex: u32,
    /// The remote end (the client or relay of a query).
    pub remote: SocketAddr,
    /// The local end (the server's).
    pub local: SocketAddr,
}

impl Via {
    fn default_for(family: u8, wire: &[u8], response: bool) -> Via {
        let (remote, local): (SocketAddr, SocketAddr) = if family == 6 {
            let relayed = wire.first() == Some(&12);
            let client: Ipv6Addr = "fe80::1".parse().unwrap();
            let servers: Ipv6Addr = "ff02::1:2".parse().unwrap();
            ((client, if relayed { 547 } else { 546 }).into(), (servers, 547).into())
        } else {
            let giaddr = wire.get(24..28).map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3])).unwrap_or(Ipv4Addr::UNSPECIFIED);
            let remote = if giaddr.is_unspecified() { (Ipv4Addr::UNSPECIFIED, 68) } else { (giaddr, 67) };
            (remote.into(), (Ipv4Addr::BROADCAST, 67).into())
        };
        let (remote, local) = if response { (local, remote) } else { (remote, local) };
        Via { iface: "eth0".into(), ifindex: 1, remote, local }
    }

    fn to_ffi(&self) -> bridge::Peer {
        bridge::Peer {
            iface: self.iface.clone(),
            ifindex: self.ifindex,
            remote_addr: self.remote.ip().to_string(),
            remote_port: self.remote.port(),
            local_addr: self.local.ip().to_string(),
            local_port: self.local.port(),
        }
    }
}

fn new_call<'k>(handle: &bridge::Handle, point: &str, family: u8) -> Call<'k> {
    match bridge::call_new(handle, point) {
        Ok(h) => Call {
            point: point.to_owned(),
            family,
            handle: h,
            error: None,
            via: None,
            set: Vec::new(),
            _kea: PhantomData,
        },
        Err(e) => Call::broken(point, family, format!("{point}: {}", e.what())),
    }
}

/// Calls of several hook points for one query on one callout handle, as
/// the server makes them: before each call the previous call's arguments
/// are deleted and the status reset (what Kea's `ScopedCalloutHandleState`
/// does), and the callout contexts a hook set on the handle stay, so a
/// value a hook keeps for the packet (the SDK's `set_packet_value`) at
/// `pkt6_receive` is there at `lease6_select`. Made by [`Kea4::exchange`]
/// / [`Kea6::exchange`]; [`Kea4::call`] uses a fresh handle for each call.
///
/// ```no_run
/// # use kea_hooks_test::unit::{Kea6, Lease6, Query6};
/// # use kea_hooks_test::msg6;
/// # let mut kea = Kea6::load("/path/libdhcp_my_hook.so", serde_json::Value::Null).unwrap();
/// let query = Query6::new(msg6::REQUEST, &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1]).ia_na(1).bytes();
/// let mut exchange = kea.exchange();
/// exchange.call("pkt6_receive").query6(&query).run().unwrap();
/// let lease = Lease6::new("2001:2::10".parse().unwrap(), &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
/// let outcome = exchange.call("lease6_select").query6(&query).no_subnet6()
///     .arg_bool("fake_allocation", false).lease6(&lease).run().unwrap();
/// ```
pub struct Exchange<'k> {
    handle: UniquePtr<bridge::Handle>,
    error: Option<String>,
    family: u8,
    _kea: PhantomData<&'k mut ()>,
}

impl Exchange<'_> {
    /// Starts a call of hook point `point` on this exchange's handle (see
    /// [`Call`]).
    pub fn call(&mut self, point: &str) -> Call<'_> {
        match (&self.error, self.handle.as_ref()) {
            (None, Some(handle)) => new_call(handle, point, self.family),
            (e, _) => Call::broken(point, self.family, format!("{point}: {}", e.as_deref().unwrap_or("no callout handle"))),
        }
    }
}

impl fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange").field("family", &self.family).finish_non_exhaustive()
    }
}

/// What kind of argument a call was given, to read it back after the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pkt4,
    Pkt6,
    Lease4,
    Lease6,
    Leases4,
    Leases6,
    Subnet4,
    Subnet6,
    Bool,
    U32,
    Other,
}

/// One call of a hook point being set up: its arguments, then [`run`](Call::run).
/// Made by [`Kea4::call`] / [`Kea6::call`].
///
/// Each setter names the argument as Kea does at the points that have it
/// (`query4`, `response4`, `lease4`, ...); the `*_as`/generic ones take the
/// name. A setter that fails (a packet Kea cannot unpack, an address that
/// does not parse) makes `run` fail with Kea's message.
///
/// ```no_run
/// # use kea_hooks_test::unit::{Kea4, Lease4, Query4, Subnet4};
/// # use kea_hooks_test::msg;
/// # let mut kea = Kea4::load("/path/libdhcp_my_hook.so", serde_json::Value::Null).unwrap();
/// let query = Query4::new(msg::REQUEST, "02:00:00:00:00:01").bytes();
/// let lease = Lease4::new("198.18.0.10".parse().unwrap(), &[2, 0, 0, 0, 0, 1]);
/// let outcome = kea
///     .call("lease4_select")
///     .query4(&query)
///     .subnet4(&Subnet4::new("198.18.0.0/24", 1))
///     .arg_bool("fake_allocation", false)
///     .lease4(&lease)
///     .run()
///     .unwrap();
/// let after = outcome.lease4().expect("the lease is still there");
/// assert_eq!(after.valid_lifetime, 3600);
/// ```
pub struct Call<'k> {
    point: String,
    family: u8,
    handle: UniquePtr<bridge::Call>,
    error: Option<String>,
    via: Option<Via>,
    set: Vec<(String, Kind)>,
    _kea: PhantomData<&'k mut ()>,
}

impl<'k> Call<'k> {
    fn broken(point: &str, family: u8, error: String) -> Call<'k> {
        Call {
            point: point.to_owned(),
            family,
            handle: UniquePtr::null(),
            error: Some(error),
            via: None,
            set: Vec::new(),
            _kea: PhantomData,
        }
    }

    fn with(mut self, name: &str, kind: Kind, f: impl FnOnce(std::pin::Pin<&mut bridge::Call>) -> Result<(), cxx::Exception>) -> Self {
        if self.error.is_some() {
            return self;
        }
        match f(self.handle.pin_mut()) {
            Ok(()) => {
                self.set.retain(|(n, _)| n != name);
                self.set.push((name.to_owned(), kind));
            }
            Err(e) => self.error = Some(format!("{}: argument {name}: {}", self.point, e.what())),
        }
        self
    }

    /// Sets where the packets set after this come from and arrive (see
    /// [`Via`] for the defaults).
    pub fn via(mut self, via: Via) -> Self {
        self.via = Some(via);
        self
    }

    fn peer(&self, family: u8, name: &str, wire: &[u8]) -> bridge::Peer {
        self.via.clone().unwrap_or_else(|| Via::default_for(family, wire, name.starts_with("response"))).to_ffi()
    }

    /// Argument `name`: a `Pkt4` made from `wire` (a whole DHCPv4 message,
    /// from the BOOTP header on), `unpack()`ed by Kea when `unpack` is true.
    pub fn packet4(self, name: &str, wire: &[u8], unpack: bool) -> Self {
        let peer = self.peer(4, name, wire);
        self.with(name, Kind::Pkt4, |c| bridge::call_set_pkt4(c, name, wire, unpack, &peer))
    }

    /// Argument `name`: a `Pkt6` made from `wire` (a whole DHCPv6 message,
    /// relay encapsulation included), `unpack()`ed when `unpack` is true.
    pub fn packet6(self, name: &str, wire: &[u8], unpack: bool) -> Self {
        let peer = self.peer(6, name, wire);
        self.with(name, Kind::Pkt6, |c| bridge::call_set_pkt6(c, name, wire, unpack, &peer))
    }

    /// `query4`: the query, unpacked.
    pub fn query4(self, wire: &[u8]) -> Self {
        self.packet4("query4", wire, true)
    }

    /// `response4`: the server's answer, unpacked from `wire` (build it as
    /// a BOOTREPLY, e.g. with [`Query4::reply`]).
    pub fn response4(self, wire: &[u8]) -> Self {
        self.packet4("response4", wire, true)
    }

    /// `query6`: the query, unpacked.
    pub fn query6(self, wire: &[u8]) -> Self {
        self.packet6("query6", wire, true)
    }

    /// `response6`: the server's answer, unpacked.
    pub fn response6(self, wire: &[u8]) -> Self {
        self.packet6("response6", wire, true)
    }

    /// `lease4`: a lease built by Kea's `Lease4` constructor.
    pub fn lease4(self, lease: &Lease4) -> Self {
        self.lease4_as("lease4", Some(lease))
    }

    /// Argument `name`: a `Lease4Ptr`, null for `None`.
    pub fn lease4_as(self, name: &str, lease: Option<&Lease4>) -> Self {
        let data = lease.map(Lease4::to_ffi).unwrap_or_else(|| Ok(Lease4::absent()));
        match data {
            Ok(d) => self.with(name, Kind::Lease4, |c| bridge::call_set_lease4(c, name, &d)),
            Err(e) => self.failed(name, e),
        }
    }

    /// Argument `name` (`leases4`, `deleted_leases4`): a
    /// `Lease4CollectionPtr` holding `leases`.
    pub fn leases4(self, name: &str, leases: &[Lease4]) -> Self {
        match leases.iter().map(Lease4::to_ffi).collect::<Result<Vec<_>, _>>() {
            Ok(d) => self.with(name, Kind::Leases4, |c| bridge::call_set_leases4(c, name, &d)),
            Err(e) => self.failed(name, e),
        }
    }

    /// `lease6`: a lease built by Kea's `Lease6` constructor.
    pub fn lease6(self, lease: &Lease6) -> Self {
        self.lease6_as("lease6", Some(lease))
    }

    /// Argument `name`: a `Lease6Ptr`, null for `None`.
    pub fn lease6_as(self, name: &str, lease: Option<&Lease6>) -> Self {
        let data = lease.map(Lease6::to_ffi).unwrap_or_else(|| Ok(Lease6::absent()));
        match data {
            Ok(d) => self.with(name, Kind::Lease6, |c| bridge::call_set_lease6(c, name, &d)),
            Err(e) => self.failed(name, e),
        }
    }

    /// Argument `name` (`leases6`, `deleted_leases6`): a
    /// `Lease6CollectionPtr` holding `leases`.
    pub fn leases6(self, name: &str, leases: &[Lease6]) -> Self {
        match leases.iter().map(Lease6::to_ffi).collect::<Result<Vec<_>, _>>() {
            Ok(d) => self.with(name, Kind::Leases6, |c| bridge::call_set_leases6(c, name, &d)),
            Err(e) => self.failed(name, e),
        }
    }

    /// Puts packet argument `name` (set before) in client classes
    /// `classes` (Kea's `addClass`), as the server's classification would
    /// have: the kit evaluates no `client-classes` (it has no
    /// configuration), not even the built-in `ALL`.
    pub fn classify(self, name: &str, classes: &[&str]) -> Self {
        let family = match self.set.iter().find(|(n, _)| n == name) {
            Some((_, Kind::Pkt4)) => 4,
            Some((_, Kind::Pkt6)) => 6,
            _ => {
                let point = self.point.clone();
                return self.failed(name, Error(format!("{point}: classify: no packet argument {name:?} was set before")));
            }
        };
        let classes: Vec<String> = classes.iter().map(|c| (*c).to_owned()).collect();
        let kind = if family == 6 { Kind::Pkt6 } else { Kind::Pkt4 };
        self.with(name, kind, |c| bridge::call_add_classes(c, name, family, &classes))
    }

    /// `subnet4`: a subnet built by Kea's `Subnet4::create` (with its
    /// pools), passed as the pointer type this Kea passes (`Subnet4Ptr`,
    /// `ConstSubnet4Ptr` from 3.0). Read back after the run
    /// ([`Outcome::subnet4`]): a `subnet4_select` callout may have replaced
    /// or cleared it.
    pub fn subnet4(self, subnet: &Subnet4) -> Self {
        self.subnet4_as("subnet4", Some(subnet))
    }

    /// `subnet4` as a null subnet pointer of the type this Kea passes
    /// (no subnet selected).
    pub fn no_subnet4(self) -> Self {
        self.subnet4_as("subnet4", None)
    }

    /// Argument `name`: a `Subnet4` pointer, null for `None`.
    pub fn subnet4_as(self, name: &str, subnet: Option<&Subnet4>) -> Self {
        let data = Subnet4::to_ffi(subnet);
        self.with(name, Kind::Subnet4, |c| bridge::call_set_subnet4(c, name, &data))
    }

    /// `subnet6`: a subnet built by Kea's `Subnet6::create` (see
    /// [`subnet4`](Call::subnet4)).
    pub fn subnet6(self, subnet: &Subnet6) -> Self {
        self.subnet6_as("subnet6", Some(subnet))
    }

    /// `subnet6` as a null subnet pointer (see [`no_subnet4`](Call::no_subnet4)).
    pub fn no_subnet6(self) -> Self {
        self.subnet6_as("subnet6", None)
    }

    /// Argument `name`: a `Subnet6` pointer, null for `None`.
    pub fn subnet6_as(self, name: &str, subnet: Option<&Subnet6>) -> Self {
        let data = Subnet6::to_ffi(subnet);
        self.with(name, Kind::Subnet6, |c| bridge::call_set_subnet6(c, name, &data))
    }

    /// Argument `name` as a `bool` (`fake_allocation`, `remove_lease`, ...).
    pub fn arg_bool(self, name: &str, value: bool) -> Self {
        self.with(name, Kind::Bool, |c| bridge::call_set_bool(c, name, value))
    }

    /// Argument `name` as a `uint32_t` (`offer_lft`, ...).
    pub fn arg_u32(self, name: &str, value: u32) -> Self {
        self.with(name, Kind::U32, |c| bridge::call_set_u32(c, name, value))
    }

    /// Argument `name` as a `std::string` (not read back).
    pub fn arg_string(self, name: &str, value: &str) -> Self {
        self.with(name, Kind::Other, |c| bridge::call_set_string(c, name, value))
    }

    fn failed(mut self, name: &str, e: Error) -> Self {
        if self.error.is_none() {
            self.error = Some(format!("{}: argument {name}: {e}", self.point));
        }
        self
    }

    /// Calls the point's callouts (`HooksManager::callCallouts`) and reads
    /// back the status and every argument that was set. Fails when a setter
    /// failed, the point does not exist, or Kea threw (a callout's
    /// exception is caught and logged by Kea itself, as in the server).
    pub fn run(mut self) -> Result<Outcome, Error> {
        if let Some(e) = self.error.take() {
            return Err(Error(e));
        }
        let status = NextStep::from_kea(bridge::call_run(self.handle.pin_mut())?)?;
        let mut outcome = Outcome { point: self.point.clone(), family: self.family, status, ..Outcome::default() };
        let call = &*self.handle;
        let read = |name: &str, e: cxx::Exception| Error(format!("{}: reading argument {name} back: {}", self.point, e.what()));
        for (name, kind) in &self.set {
            let name = name.as_str();
            match kind {
                Kind::Pkt4 => {
                    let p = bridge::call_get_pkt4(call, name).map_err(|e| read(name, e))?;
                    outcome.packets.insert(name.to_owned(), Packet::from_ffi(p));
                }
                Kind::Pkt6 => {
                    let p = bridge::call_get_pkt6(call, name).map_err(|e| read(name, e))?;
                    outcome.packets.insert(name.to_owned(), Packet::from_ffi(p));
                }
                Kind::Lease4 => {
                    let l = bridge::call_get_lease4(call, name).map_err(|e| read(name, e))?;
                    outcome.leases4.insert(name.to_owned(), Lease4::from_ffi(l));
                }
                Kind::Lease6 => {
                    let l = bridge::call_get_lease6(call, name).map_err(|e| read(name, e))?;
                    outcome.leases6.insert(name.to_owned(), Lease6::from_ffi(l));
                }
                Kind::Leases4 => {
                    let all = bridge::call_get_leases4(call, name).map_err(|e| read(name, e))?;
                    outcome.lease_lists4.insert(name.to_owned(), all.into_iter().filter_map(Lease4::from_ffi).collect());
                }
                Kind::Leases6 => {
                    let all = bridge::call_get_leases6(call, name).map_err(|e| read(name, e))?;
                    outcome.lease_lists6.insert(name.to_owned(), all.into_iter().filter_map(Lease6::from_ffi).collect());
                }
                Kind::Subnet4 => {
                    let d = bridge::call_get_subnet4(call, name).map_err(|e| read(name, e))?;
                    outcome.subnets4.insert(name.to_owned(), Subnet4::from_ffi(d));
                }
                Kind::Subnet6 => {
                    let d = bridge::call_get_subnet6(call, name).map_err(|e| read(name, e))?;
                    outcome.subnets6.insert(name.to_owned(), Subnet6::from_ffi(d));
                }
                Kind::Bool => {
                    outcome.bools.insert(name.to_owned(), bridge::call_get_bool(call, name).map_err(|e| read(name, e))?);
                }
                Kind::U32 => {
                    outcome.u32s.insert(name.to_owned(), bridge::call_get_u32(call, name).map_err(|e| read(name, e))?);
                }
                Kind::Other => {}
            }
        }
        Ok(outcome)
    }
}

/// What one call left: the status the callouts set and the arguments as
/// they are after the callouts (those the call set).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    point: String,
    family: u8,
    /// The callouts' next-step status.
    pub status: NextStep,
    packets: BTreeMap<String, Option<Packet>>,
    leases4: BTreeMap<String, Option<Lease4>>,
    leases6: BTreeMap<String, Option<Lease6>>,
    lease_lists4: BTreeMap<String, Vec<Lease4>>,
    lease_lists6: BTreeMap<String, Vec<Lease6>>,
    subnets4: BTreeMap<String, Option<Subnet4>>,
    subnets6: BTreeMap<String, Option<Subnet6>>,
    bools: BTreeMap<String, bool>,
    u32s: BTreeMap<String, u32>,
}

impl Default for NextStep {
    fn default() -> NextStep {
        NextStep::Continue
    }
}

impl Outcome {
    fn get<'a, T>(&self, map: &'a BTreeMap<String, T>, name: &str) -> &'a T {
        map.get(name).unwrap_or_else(|| panic!("{}: the call set no argument {name:?} of that kind", self.point))
    }

    /// Packet argument `name` after the callouts: `None` when a callout set
    /// it to null. Panics when the call did not set `name`.
    pub fn packet(&self, name: &str) -> Option<&Packet> {
        self.get(&self.packets, name).as_ref()
    }

    /// `query4` (or `query6` for DHCPv6) after the callouts: `None` when a
    /// callout set it to null. Panics when the call did not set it.
    pub fn query(&self) -> Option<&Packet> {
        self.packet(if self.family == 6 { "query6" } else { "query4" })
    }

    /// `response4` (`response6`) after the callouts; see [`query`](Outcome::query).
    pub fn response(&self) -> Option<&Packet> {
        self.packet(if self.family == 6 { "response6" } else { "response4" })
    }

    /// `lease4` after the callouts (`None`: null). Panics when not set.
    pub fn lease4(&self) -> Option<&Lease4> {
        self.lease4_named("lease4")
    }

    /// Lease argument `name` after the callouts. Panics when not set.
    pub fn lease4_named(&self, name: &str) -> Option<&Lease4> {
        self.get(&self.leases4, name).as_ref()
    }

    /// `lease6` after the callouts (`None`: null). Panics when not set.
    pub fn lease6(&self) -> Option<&Lease6> {
        self.lease6_named("lease6")
    }

    /// Lease argument `name` after the callouts. Panics when not set.
    pub fn lease6_named(&self, name: &str) -> Option<&Lease6> {
        self.get(&self.leases6, name).as_ref()
    }

    /// Lease collection `name` (`leases4`, ...) after the callouts (a null
    /// collection reads as empty). Panics when not set.
    pub fn leases4(&self, name: &str) -> &[Lease4] {
        self.get(&self.lease_lists4, name).as_slice()
    }

    /// Lease collection `name` (`leases6`, ...) after the callouts.
    /// Panics when not set.
    pub fn leases6(&self, name: &str) -> &[Lease6] {
        self.get(&self.lease_lists6, name).as_slice()
    }

    /// `subnet4` after the callouts (`None`: null, e.g. a `subnet4_select`
    /// callout selected none). Panics when the call did not set it.
    pub fn subnet4(&self) -> Option<&Subnet4> {
        self.subnet4_named("subnet4")
    }

    /// Subnet argument `name` after the callouts. Panics when not set.
    pub fn subnet4_named(&self, name: &str) -> Option<&Subnet4> {
        self.get(&self.subnets4, name).as_ref()
    }

    /// `subnet6` after the callouts (`None`: null). Panics when not set.
    pub fn subnet6(&self) -> Option<&Subnet6> {
        self.subnet6_named("subnet6")
    }

    /// Subnet argument `name` after the callouts. Panics when not set.
    pub fn subnet6_named(&self, name: &str) -> Option<&Subnet6> {
        self.get(&self.subnets6, name).as_ref()
    }

    /// Boolean argument `name` after the callouts. Panics when not set.
    pub fn arg_bool(&self, name: &str) -> bool {
        *self.get(&self.bools, name)
    }

    /// `uint32_t` argument `name` after the callouts. Panics when not set.
    pub fn arg_u32(&self, name: &str) -> u32 {
        *self.get(&self.u32s, name)
    }
}
