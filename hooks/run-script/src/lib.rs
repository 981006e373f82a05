//! `libdhcp_run_script.so` built with kea-hooks: a drop-in for ISC's
//! run_script hook that never forks Kea and never waits for a script on a
//! packet thread.
//!
//! The same parameters (`name`, `sync`), hook points, arguments
//! (`[name, "<hook_point>"]`) and environment (exactly the variables ISC's
//! hook exports, nothing of Kea's) as ISC's library, so a user swaps the
//! library path and keeps the script. What differs is how it runs:
//!
//! * a callout only builds the event's variables and queues them (a
//!   bounded queue; `on-full` says whether a full one drops and counts,
//!   the default, or makes the callout wait, up to `queue-wait-ms`);
//! * a spawner thread starts scripts with `posix_spawn` (no copy of Kea's
//!   address space), at most `max-running` at once, and a reaper thread
//!   collects their exits, kills those past `timeout-ms` with what they
//!   started, and logs their output (`output: log`) at debug level;
//! * `mode: stream` keeps one long-running program instead, which reads
//!   one JSON object per event on its standard input and answers each with
//!   a line (see [`stream`]);
//! * `sync: true` parks the packet at `leases4_committed` (and
//!   `lease4_offer` on Kea 2.6+), or in kea-dhcp6 at `leases6_committed`,
//!   until the script has exited: exit 0 lets Kea answer, anything else
//!   drops the packet.
//!
//! One library serves kea-dhcp4 and kea-dhcp6: each server registers the
//! callouts of its own family (ISC's points in each: see [`env4`] and
//! [`env6`] for the variables).
//!
//! Counters (`run-script.queued`, `.run`, `.failed`, `.timed-out`,
//! `.dropped`, `.lost`, `.protocol-errors`) are Kea statistics and answer
//! `run-script-status`.

// Hook code needs no unsafe: the SDK holds it all (kea_hook! allows it
// for the symbols it emits; `forbid` would refuse that).
#![deny(unsafe_code)]

pub mod env;
pub mod env4;
pub mod env6;
pub mod exec;
pub mod stream;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use kea_hooks::{dhcp4, dhcp6};
use kea_hooks::parking::{Parkable, Parked};
use kea_hooks::prelude::*;
use kea_hooks::process::Output;
use kea_hooks::stats;
use kea_hooks::threads::main_thread;
use serde::Deserialize;
use serde_json::{json, Value};

use env::Vars;

/// The hook's `parameters`: ISC's two, then ours (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Params {
    /// The script (ISC's `name`). On Kea 3.0+ it must sit in Kea's
    /// hook-scripts directory, as ISC's hook requires.
    pub name: String,
    /// ISC's `sync` (which ISC's hook parses and ignores): park packets
    /// where Kea allows it until the script has exited.
    #[serde(default)]
    pub sync: bool,
    /// `exec` (a process per event, as ISC's) or `stream`.
    #[serde(default)]
    pub mode: Mode,
    /// Events that may wait to be run.
    #[serde(default = "default_queue_size")]
    pub queue_size: usize,
    /// What a callout does when the queue is full.
    #[serde(default)]
    pub on_full: OnFull,
    /// With `on-full: wait`, how long a callout waits for room before it
    /// drops the event (and counts it).
    #[serde(default = "default_queue_wait_ms")]
    pub queue_wait_ms: u64,
    /// Scripts running at once (exec mode).
    #[serde(default = "default_max_running")]
    pub max_running: usize,
    /// A script (or, in stream mode, an answer) taking longer is killed and
    /// counted as timed out; 0: no limit.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// At unload (reload, shutdown), how long queued events may still run
    /// and running scripts may still end; then the rest are dropped or
    /// killed, counted and logged.
    #[serde(default = "default_grace_ms")]
    pub grace_ms: u64,
    /// Where scripts' standard output and error go.
    #[serde(default)]
    pub output: OutputMode,
    /// Bytes of each script's output kept for the log (`output: log`).
    #[serde(default = "default_output_limit")]
    pub output_limit: usize,
    /// With `sync`, what a script that times out does to its packet.
    #[serde(default)]
    pub sync_timeout: SyncTimeout,
}

/// How scripts run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A process per event (ISC's way, without forking Kea).
    #[default]
    Exec,
    /// One long-running process reading events on its standard input.
    Stream,
}

/// What a callout does with an event when the queue is full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFull {
    /// Wait for room, up to `queue-wait-ms`, then drop: nothing lost while
    /// scripts keep up on average, but Kea slows to their pace (and a hung
    /// script holds each packet for `queue-wait-ms`).
    Wait,
    /// Drop at once (and count): a slow or hung script never slows Kea.
    #[default]
    Drop,
}

/// Where a script's standard output and error go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputMode {
    /// Kept up to `output-limit` bytes and logged at debug level.
    #[default]
    Log,
    /// Discarded.
    Discard,
    /// Kea's own standard output and error (what ISC's forked children get).
    Inherit,
}

impl OutputMode {
    /// Where a script's (or the stream program's) output goes.
    pub fn child_output(self) -> Output {
        match self {
            OutputMode::Log => Output::Pipe,
            OutputMode::Discard => Output::Null,
            OutputMode::Inherit => Output::Inherit,
        }
    }
}

/// What a timed-out script does to a parked packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncTimeout {
    /// Drop the packet (as any failure does).
    #[default]
    Drop,
    /// Let Kea answer.
    Continue,
}

fn default_queue_size() -> usize {
    4096
}
fn default_queue_wait_ms() -> u64 {
    1000
}
fn default_max_running() -> usize {
    64
}
fn default_timeout_ms() -> u64 {
    60_000
}
fn default_grace_ms() -> u64 {
    5000
}
fn default_output_limit() -> usize {
    4096
}

/// What the runners need of the parameters, with the script's path as
/// Kea allows it.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub timeout: Option<Duration>,
    pub grace: Duration,
    pub max_running: usize,
    pub output: OutputMode,
    pub output_limit: usize,
    pub sync_timeout: SyncTimeout,
}

/// When the hook's unload began: both runners go on with queued and
/// running work until `grace` after it.
#[derive(Debug)]
pub struct Unload {
    began: OnceLock<Instant>,
    grace: Duration,
}

impl Unload {
    pub fn new(grace: Duration) -> Unload {
        Unload { began: OnceLock::new(), grace }
    }

    /// Notes that the unload begins now (once).
    pub fn begin(&self) {
        let _ = self.began.set(Instant::now());
    }

    /// Whether the unload has begun.
    pub fn begun(&self) -> bool {
        self.began.get().is_some()
    }

    /// Whether the grace time after the unload is over.
    pub fn past_grace(&self) -> bool {
        self.began.get().is_some_and(|t| t.elapsed() >= self.grace)
    }

    /// When the grace time ends, once the unload has begun.
    pub fn grace_ends(&self) -> Option<Instant> {
        self.began.get().map(|t| *t + self.grace)
    }
}

// ---- counters -----------------------------------------------------------------

/// The hook's counters. Every event is either `queued` or `dropped` at
/// once (queue full); every queued one ends as `run` (exit 0), `failed`
/// (no start, non-zero exit, killed by a signal), `timed-out`, `lost`
/// (stream mode: unanswered twice by a crashing stream process) or, at
/// unload past the grace time, `dropped`.
#[derive(Debug, Default)]
pub struct Counters {
    pub queued: AtomicU64,
    pub run: AtomicU64,
    pub failed: AtomicU64,
    pub timed_out: AtomicU64,
    pub dropped: AtomicU64,
    pub lost: AtomicU64,
    /// Stream mode: answer lines that were not answers (see [`stream`]).
    pub protocol_errors: AtomicU64,
    /// Stream mode: processes started after the first.
    pub restarts: AtomicU64,
    /// Queued events that have ended one way or another (so `queued -
    /// finished` are waiting or running).
    pub finished: AtomicU64,
    /// What Kea's statistics have been told so far.
    published: Mutex<[u64; 7]>,
    publish_pending: AtomicBool,
}

const STATS: [&str; 7] = [
    "run-script.queued",
    "run-script.run",
    "run-script.failed",
    "run-script.timed-out",
    "run-script.dropped",
    "run-script.lost",
    "run-script.protocol-errors",
];

impl Counters {
    fn values(&self) -> [u64; 7] {
        [&self.queued, &self.run, &self.failed, &self.timed_out, &self.dropped, &self.lost, &self.protocol_errors]
            .map(|c| c.load(Ordering::Relaxed))
    }

    /// Adds one to `counter` and has Kea's statistics follow.
    pub fn bump(self: &Arc<Self>, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
        self.request_publish();
    }

    /// Brings Kea's statistics up to date on Kea's main thread (where they
    /// may be written whether multi-threading is on or off), at most one
    /// request waiting at a time.
    fn request_publish(self: &Arc<Self>) {
        if self.publish_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = Arc::clone(self);
        if main_thread::post(move || me.publish()).is_err() {
            self.publish_pending.store(false, Ordering::Release);
        }
    }

    /// Adds what changed since the last call to Kea's statistics (main
    /// thread).
    pub fn publish(&self) {
        // A swap, not a store: a bump whose request found this one still
        // pending (its swap came first) is then seen by the loads below,
        // and a later bump finds it cleared and asks again. (With a store,
        // the loads could run before the bump's count became visible, and
        // that count would wait for the next bump, as seen on x86: its
        // store buffer lets the loads pass the store.)
        self.publish_pending.swap(false, Ordering::AcqRel);
        let now = self.values();
        let mut told = self.published.lock().unwrap_or_else(|e| e.into_inner());
        for (i, name) in STATS.iter().enumerate() {
            if now[i] != told[i] && stats::add_integer(name, now[i] as i64 - told[i] as i64).is_ok() {
                told[i] = now[i];
            }
        }
    }

    fn status(&self) -> Value {
        // `finished` first: an event's outcome is counted before it is
        // counted as finished (`Event::finish`), so once this load sees it
        // finished, the loads below see its outcome. (Loaded after them, it
        // could show an event finished with no outcome yet: seen in CI.)
        let finished = self.finished.load(Ordering::Acquire);
        let v = self.values();
        json!({
            "queued": v[0], "run": v[1], "failed": v[2], "timed-out": v[3], "dropped": v[4], "lost": v[5],
            "protocol-errors": v[6],
            "restarts": self.restarts.load(Ordering::Relaxed),
            "unfinished": v[0].saturating_sub(finished),
        })
    }
}

// ---- events -------------------------------------------------------------------

/// A packet parked until its script has run (`sync`).
pub trait Hold: Send {
    /// Lets Kea go on with the packet (`pass`), or drops it.
    fn settle(self: Box<Self>, pass: bool);
}

impl<P: Parkable> Hold for Parked<P> {
    fn settle(self: Box<Self>, pass: bool) {
        if pass {
            self.resume()
        } else {
            self.drop_packet()
        }
    }
}

/// One script invocation to be: the hook point (the script's argument)
/// and the variables. An event dropped before it ran counts itself as
/// `dropped` (a full queue at unload, a runner that stopped) and drops
/// its parked packet.
pub struct Event {
    pub point: &'static str,
    pub vars: Vars,
    hold: Option<Box<dyn Hold>>,
    counters: Arc<Counters>,
    settled: bool,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event").field("point", &self.point).field("parked", &self.hold.is_some()).finish()
    }
}

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Run,
    Failed,
    TimedOut,
    Lost,
}

impl Event {
    /// Counts how the event ended and settles its parked packet: exit 0
    /// passes; a timeout as `sync-timeout` says; anything else drops.
    pub fn finish(mut self, outcome: Outcome, sync_timeout: SyncTimeout) {
        self.settled = true;
        let c = &self.counters;
        let (counter, pass) = match outcome {
            Outcome::Run => (&c.run, true),
            Outcome::Failed => (&c.failed, false),
            Outcome::TimedOut => (&c.timed_out, sync_timeout == SyncTimeout::Continue),
            Outcome::Lost => (&c.lost, false),
        };
        c.bump(counter);
        c.finished.fetch_add(1, Ordering::AcqRel);
        if let Some(hold) = self.hold.take() {
            hold.settle(pass);
        }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        if !self.settled {
            tracing::warn!(point = self.point, "event dropped before its script ran (unload past the grace time)");
            self.counters.bump(&self.counters.dropped);
            self.counters.finished.fetch_add(1, Ordering::AcqRel);
        }
        // An unsettled hold drops its packet as it goes.
    }
}

// ---- the hook -----------------------------------------------------------------

/// Where events go.
enum Runner {
    Exec(exec::Exec),
    Stream(stream::Stream),
}

impl Runner {
    fn push(&self, event: Event, wait: Duration) -> Result<(), Event> {
        match self {
            Runner::Exec(e) => e.queue.push_timeout(event, wait),
            Runner::Stream(s) => s.queue.push_timeout(event, wait),
        }
    }

    fn status(&self) -> Value {
        match self {
            Runner::Exec(e) => json!({ "pending": e.queue.len(), "running": e.running() }),
            Runner::Stream(s) => json!({ "pending": s.queue.len(), "in-flight": s.in_flight(), "pid": s.pid() }),
        }
    }
}

pub struct RunScript {
    sync: bool,
    mode: Mode,
    queue_wait: Duration,
    counters: Arc<Counters>,
    /// Taken (drained and stopped) in `Drop`.
    runner: Option<Runner>,
    path: PathBuf,
}

impl RunScript {
    /// Queues the event the callout built; a parked packet goes with it.
    fn submit(&self, point: &'static str, vars: Vars, hold: Option<Box<dyn Hold>>) {
        let event = Event { point, vars, hold, counters: Arc::clone(&self.counters), settled: false };
        // Counted before it can be seen running, so `queued - finished`
        // never misses it.
        self.counters.queued.fetch_add(1, Ordering::AcqRel);
        let pushed = match &self.runner {
            Some(runner) => runner.push(event, self.queue_wait),
            None => Err(event),
        };
        match pushed {
            Ok(()) => self.counters.request_publish(),
            Err(mut event) => {
                event.settled = true;
                self.counters.queued.fetch_sub(1, Ordering::AcqRel);
                self.counters.bump(&self.counters.dropped);
                tracing::debug!(point, "queue full: event dropped");
                // A parked packet whose event cannot run goes on unchecked
                // rather than waiting for nothing: drop it, as a failure.
                if let Some(hold) = event.hold.take() {
                    hold.settle(false);
                }
            }
        }
    }

    fn status(&self, _cx: &CommandContext<'_>, _args: Option<Value>) -> Result<Answer, Error> {
        let mut v = self.counters.status();
        let extra = self.runner.as_ref().map(Runner::status).unwrap_or_default();
        if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
            obj.insert("mode".into(), json!(if self.mode == Mode::Exec { "exec" } else { "stream" }));
            obj.insert("name".into(), json!(self.path));
            obj.insert("sync".into(), json!(self.sync));
        }
        Answer::success("run-script status").with_arguments(v)
    }
}

/// ISC's hook does nothing at a point whose packet another callout has
/// already dropped or skipped.
fn skipped<P: kea_hooks::HookPoint>(cx: &Context<'_, P>) -> bool {
    matches!(cx.next_step(), NextStep::Skip | NextStep::Drop)
}

impl Hook for RunScript {
    const NAME: &'static str = "run-script";
    type Params = Params;

    fn check(p: &Params) -> Result<(), Error> {
        if p.name.is_empty() {
            return Err(Error::msg("at 'name': the script's path is empty"));
        }
        if p.queue_size == 0 {
            return Err(Error::msg("at 'queue-size': must be at least 1"));
        }
        if p.max_running == 0 {
            return Err(Error::msg("at 'max-running': must be at least 1"));
        }
        // Kea's rule for where scripts may be (3.0+), then ISC's checks:
        // here, so that kea-hooks-check reports what load would refuse.
        let path = kea_hooks::script_path(&p.name).map_err(|e| Error::msg(format!("at 'name': {e}")))?;
        kea_hooks::process::check_executable(&path).map_err(|e| Error::msg(format!("at 'name': {e}")))?;
        Ok(())
    }

    fn load(p: Params, cx: &LoadContext) -> Result<Self, Error> {
        // `check` has validated the script (the SDK runs it before load).
        let path = cx.script_path(&p.name).map_err(|e| Error::msg(format!("at 'name': {e}")))?;
        let config = Config {
            path: path.clone(),
            timeout: (p.timeout_ms > 0).then(|| Duration::from_millis(p.timeout_ms)),
            grace: Duration::from_millis(p.grace_ms),
            max_running: p.max_running,
            output: p.output,
            output_limit: p.output_limit,
            sync_timeout: p.sync_timeout,
        };
        for name in STATS {
            stats::declare_integer(name)?;
        }
        let counters = Arc::new(Counters::default());
        let runner = match p.mode {
            Mode::Exec => Runner::Exec(exec::Exec::start(config, p.queue_size)?),
            Mode::Stream => Runner::Stream(stream::Stream::start(config, p.queue_size, Arc::clone(&counters))?),
        };
        let queue_wait = match p.on_full {
            OnFull::Wait => Duration::from_millis(p.queue_wait_ms),
            OnFull::Drop => Duration::ZERO,
        };
        tracing::info!(script = %path.display(), mode = ?p.mode, sync = p.sync, "run-script loaded");
        Ok(RunScript { sync: p.sync, mode: p.mode, queue_wait, counters, runner: Some(runner), path })
    }

    // lease4_offer only gates OFFERs (with `sync`): without it, no
    // callout there, so Kea does not park every DISCOVER for it.
    fn wants_callout(&self, point: &str) -> bool {
        point != "lease4_offer" || self.sync
    }

    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        commands.add("run-script-status", Self::status)?;
        Ok(())
    }

    // An observer: a failure here must never cost a client its lease.
    // With sync the script decides, and a callout that could not ask it
    // (an error, a panic) must not let the packet through: fail closed.
    fn on_panic(&self) -> OnFailure {
        self.on_error()
    }
    fn on_error(&self) -> OnFailure {
        if self.sync {
            OnFailure::Drop
        } else {
            OnFailure::Continue
        }
    }
}

impl Drop for RunScript {
    fn drop(&mut self) {
        // The runner drains and stops in its own Drop (first, as it is
        // replaced here); then Kea's statistics get the final counts
        // (unload runs on Kea's main thread).
        drop(self.runner.take());
        self.counters.publish();
    }
}

impl Callout<dhcp4::Lease4Renew> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Renew>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env4::pkt4(&mut v, "QUERY4", cx.argument_pkt4("query4")?);
        env4::subnet4(&mut v, "SUBNET4", cx.argument_subnet4("subnet4")?);
        v.id("PKT4_CLIENT_ID", cx.client_id()?);
        v.hwaddr("PKT4_HWADDR", cx.hwaddr()?);
        env4::lease4(&mut v, "LEASE4", cx.argument_lease4("lease4")?.as_ref());
        self.submit("lease4_renew", v, None);
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Expire> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Expire>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env4::lease4(&mut v, "LEASE4", cx.argument_lease4("lease4")?.as_ref());
        v.boolean("REMOVE_LEASE", cx.remove_lease()?);
        self.submit("lease4_expire", v, None);
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Recover> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Recover>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env4::lease4(&mut v, "LEASE4", cx.argument_lease4("lease4")?.as_ref());
        self.submit("lease4_recover", v, None);
        Ok(())
    }
}

impl Callout<dhcp4::Leases4Committed> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env4::pkt4(&mut v, "QUERY4", cx.argument_pkt4("query4")?);
        env4::leases4(&mut v, "LEASES4", &cx.argument_leases4("leases4")?);
        env4::leases4(&mut v, "DELETED_LEASES4", &cx.argument_leases4("deleted_leases4")?);
        let hold = self.park(cx)?;
        self.submit("leases4_committed", v, hold);
        Ok(())
    }
}

impl RunScript {
    /// With `sync`, parks the packet for its event. Where Kea refuses to
    /// park it, the packet cannot wait for the script's verdict: the error
    /// fails the callout, which with `sync` drops the packet (the client
    /// asks again), and no script runs for it.
    fn park<P: Parkable>(&self, cx: &Context<'_, P>) -> Result<Option<Box<dyn Hold>>, Error> {
        if !self.sync {
            return Ok(None);
        }
        let parked = cx.park().map_err(|e| e.context("sync: cannot hold the packet for its script"))?;
        Ok(Some(Box::new(parked)))
    }

    /// `QUERY4_*` and `LEASE4_*`: what `lease4_release` and
    /// `lease4_decline` export.
    fn query_and_lease(&self, point: &'static str, query: Option<dhcp4::Pkt4<'_>>, lease: Option<dhcp4::Lease4<'_>>) {
        let mut v = Vars::new();
        env4::pkt4(&mut v, "QUERY4", query);
        env4::lease4(&mut v, "LEASE4", lease.as_ref());
        self.submit(point, v, None);
    }
}

impl Callout<dhcp4::Lease4Release> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Release>) -> Result<(), Error> {
        if !skipped(cx) {
            self.query_and_lease("lease4_release", cx.argument_pkt4("query4")?, cx.argument_lease4("lease4")?);
        }
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Decline> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Decline>) -> Result<(), Error> {
        if !skipped(cx) {
            self.query_and_lease("lease4_decline", cx.argument_pkt4("query4")?, cx.argument_lease4("lease4")?);
        }
        Ok(())
    }
}

kea_hooks::since_kea_2_6! {
    /// ISC's hook has no `lease4_offer` callout: this one is registered
    /// only with `sync` (see `wants_callout`), to let the script decide
    /// whether the OFFER goes out (argument `lease4_offer`, the same
    /// variables as `leases4_committed` without the deleted leases).
    impl Callout<dhcp4::Lease4Offer> for RunScript {
        fn call(&self, cx: &Context<'_, dhcp4::Lease4Offer>) -> Result<(), Error> {
            if skipped(cx) {
                return Ok(());
            }
            let mut v = Vars::new();
            env4::pkt4(&mut v, "QUERY4", cx.argument_pkt4("query4")?);
            env4::leases4(&mut v, "LEASES4", &cx.argument_leases4("leases4")?);
            let hold = self.park(cx)?;
            self.submit("lease4_offer", v, hold);
            Ok(())
        }
    }
}

// ---- DHCPv6 ------------------------------------------------------------------

impl RunScript {
    /// `QUERY6_*`, `LEASE6_*` and `PKT6_IA_*`: what `lease6_renew` and
    /// `lease6_rebind` export. The IA is the argument ISC's hook reads
    /// for the lease's type (`ia_na` for an address, else `ia_pd`).
    fn renewal6(
        &self,
        point: &'static str,
        query: Option<dhcp6::Pkt6<'_>>,
        lease: Option<dhcp6::Lease6<'_>>,
        ia: impl FnOnce() -> Result<Option<dhcp6::Ia>, Error>,
    ) -> Result<(), Error> {
        let mut v = Vars::new();
        env6::pkt6(&mut v, "QUERY6", query)?;
        env6::lease6(&mut v, "LEASE6", lease.as_ref());
        let ia = if lease.is_some() { ia()? } else { None };
        let code = lease.map(|l| env6::ia_option_code(l.lease_type())).unwrap_or_default();
        env6::ia(&mut v, "PKT6_IA", ia.as_ref().map(|ia| (code, ia)));
        self.submit(point, v, None);
        Ok(())
    }

    /// `QUERY6_*` and `LEASE6_*`: what `lease6_release` and
    /// `lease6_decline` export.
    fn query_and_lease6(
        &self,
        point: &'static str,
        query: Option<dhcp6::Pkt6<'_>>,
        lease: Option<dhcp6::Lease6<'_>>,
    ) -> Result<(), Error> {
        let mut v = Vars::new();
        env6::pkt6(&mut v, "QUERY6", query)?;
        env6::lease6(&mut v, "LEASE6", lease.as_ref());
        self.submit(point, v, None);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Renew> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Renew>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        self.renewal6("lease6_renew", cx.argument_pkt6("query6")?, cx.argument_lease6("lease6")?, || cx.ia())
    }
}

impl Callout<dhcp6::Lease6Rebind> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Rebind>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        self.renewal6("lease6_rebind", cx.argument_pkt6("query6")?, cx.argument_lease6("lease6")?, || cx.ia())
    }
}

impl Callout<dhcp6::Lease6Expire> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Expire>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env6::lease6(&mut v, "LEASE6", cx.argument_lease6("lease6")?.as_ref());
        v.boolean("REMOVE_LEASE", cx.remove_lease()?);
        self.submit("lease6_expire", v, None);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Recover> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Recover>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env6::lease6(&mut v, "LEASE6", cx.argument_lease6("lease6")?.as_ref());
        self.submit("lease6_recover", v, None);
        Ok(())
    }
}

impl Callout<dhcp6::Leases6Committed> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Leases6Committed>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        let mut v = Vars::new();
        env6::pkt6(&mut v, "QUERY6", cx.argument_pkt6("query6")?)?;
        env6::leases6(&mut v, "LEASES6", &cx.argument_leases6("leases6")?);
        env6::leases6(&mut v, "DELETED_LEASES6", &cx.argument_leases6("deleted_leases6")?);
        let hold = self.park(cx)?;
        self.submit("leases6_committed", v, hold);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Release> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Release>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        self.query_and_lease6("lease6_release", cx.argument_pkt6("query6")?, cx.argument_lease6("lease6")?)
    }
}

impl Callout<dhcp6::Lease6Decline> for RunScript {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Decline>) -> Result<(), Error> {
        if skipped(cx) {
            return Ok(());
        }
        self.query_and_lease6("lease6_decline", cx.argument_pkt6("query6")?, cx.argument_lease6("lease6")?)
    }
}

kea_hooks::since_kea_3_0! {
    /// `addr6_register` (Kea 3.0+, as ISC's hook): `QUERY6_*`,
    /// `ADDRESS6`, `OLD_LEASE6_*` only when there is an old lease, and
    /// `NEW_LEASE6_*`.
    impl Callout<dhcp6::Addr6Register> for RunScript {
        fn call(&self, cx: &Context<'_, dhcp6::Addr6Register>) -> Result<(), Error> {
            if skipped(cx) {
                return Ok(());
            }
            let mut v = Vars::new();
            env6::pkt6(&mut v, "QUERY6", cx.argument_pkt6("query6")?)?;
            v.string("ADDRESS6", cx.address()?.to_string());
            if let Some(old) = cx.old_lease()? {
                env6::lease6(&mut v, "OLD_LEASE6", Some(&old));
            }
            env6::lease6(&mut v, "NEW_LEASE6", cx.new_lease()?.as_ref());
            self.submit("addr6_register", v, None);
            Ok(())
        }
    }
}

kea_hooks::kea_hook!(RunScript);
