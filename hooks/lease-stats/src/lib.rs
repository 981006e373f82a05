//! `libdhcp_lease_stats.so`: how full each subnet and pool of kea-dhcp4 is,
//! answered in constant time.
//!
//! ISC's stat_cmds answers `stat-lease4-get` by counting the lease database
//! on every call. This hook keeps the counts as leases change, and answers
//! `lease-stats-get` (the same arguments, the same answer) from them:
//!
//! * every address the database holds as assigned or declined is tracked
//!   from Kea's lease events on the packet path (`leases4_committed`,
//!   `lease4_release`, `lease4_decline`, `lease4_expire`,
//!   `lease4_recover`; `lease4_offer` with an offer lifetime and
//!   `lease4_server_decline` on 2.6+), one atomic state word per
//!   address of each subnet, so an event takes no lock (see [`tracker`]);
//! * leases written by lease_cmds (`lease4-add`, `-update`, `-del`,
//!   `-wipe`) are read back from the database as soon as the
//!   command is answered (`command_processed`);
//! * the database is counted when the server is configured (every start
//!   and reconfiguration), and again every `recount-interval` seconds from
//!   a thread of the hook's own, a page at a time through Kea's main thread,
//!   so changes behind Kea's back (another server on a shared database, an
//!   HA sync) show; `lease-stats-recount` forces one.
//! * In a High Availability pair (ISC's `libdhcp_ha.so`), the partner's
//!   lease updates arrive as lease_cmds commands (`lease4-update`,
//!   `lease4-del`; `lease6-bulk-apply` in kea-dhcp6) on HA's listener
//!   threads and are read back like an operator's, at once. What a server
//!   *syncs* from its partner (starting, or back after a failure; or an
//!   operator's `ha-sync`) is written behind every hook point's back: the
//!   hook recounts in the background when the server's own HA state, as
//!   the answers to its partner's heartbeats show it
//!   ([`kea_hooks::ha::HaStateWatch`]), changes into a state that follows
//!   a sync (`ready`, `hot-standby`, `load-balancing`, `partner-down`, ...),
//!   and after `ha-sync` and `ha-sync-complete-notify`. So the counts agree
//!   with the database within `heartbeat-delay` plus one recount of a
//!   sync's end, whatever `recount-interval` is.
//!
//! Nothing here makes Kea's main thread wait on the hook's threads or on a
//! client: the background recount holds no lock while it waits for a page
//! (see [`tracker`]), so a recount on the main thread (the command, a
//! `lease4-wipe` read back, the count at configuration) waits at most for
//! one bounded step of it and then supersedes it; and the metrics endpoint
//! waits for the main thread with a bound and answers 503 past it (see
//! [`metrics`]).
//!
//! ```json
//! { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_stats.so",
//!   "parameters": { "recount-interval": 300, "listen": "127.0.0.1:9100" } }
//! ```
//!
//! With `listen`, `GET /metrics` there serves the figures in the Prometheus
//! text format (see [`metrics`]).
//!
//! In kea-dhcp6 the same library answers `lease-stats-get` as stat_cmds'
//! `stat-lease6-get` (see [`query6`]), counting addresses and delegated
//! prefixes apart (see [`tracker6`]) from `leases6_committed`,
//! `lease6_release`, `lease6_decline`, `lease6_expire` and
//! `lease6_recover`, reading lease_cmds' `lease6-*` writes back at
//! `command_processed`, with the same recounts and endpoint.

// Hook code needs no unsafe: the SDK holds it all (kea_hook! allows it
// for the symbols it emits; `forbid` would refuse that).
#![deny(unsafe_code)]

pub mod metrics;
pub mod query;
pub mod query6;
mod recount;
pub mod tracker;
pub mod tracker6;

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use kea_hooks::dhcp4;
use kea_hooks::dhcp6::{self, LeaseType, Pages6};
use kea_hooks::http::Server;
use kea_hooks::dhcp4::Pages4;
use kea_hooks::ha::{HaState, HaStateWatch};
use kea_hooks::kea::KeaAccess;
use kea_hooks::prelude::*;
use kea_hooks::stats;
use kea_hooks::threads::{main_thread, StopToken, Worker};
use serde::Deserialize;
use serde_json::{json, Value};

use query::KeaFigures;
use query6::KeaFigures6;
use tracker::{Cause, Held, Recount, Superseded, Tracker};
use tracker6::Tracker6;

/// The hook's `parameters`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Params {
    /// Seconds between background recounts; 0: none (only at
    /// configuration and on `lease-stats-recount`).
    #[serde(default = "default_interval")]
    recount_interval: u64,
    /// Leases read at a time by recounts.
    #[serde(default = "default_page")]
    page_size: u32,
    /// `address:port` of the metrics endpoint; none by default.
    #[serde(default)]
    listen: Option<String>,
    /// On an SQL lease database: milliseconds between readings of the
    /// database's own lease statistics (see [`align_with_database`]).
    #[serde(default = "default_database_refresh")]
    database_refresh_ms: u64,
}

fn default_database_refresh() -> u64 {
    1000
}
/// The most `database-refresh-ms` may be: its README (and docs/ha-and-sql.md)
/// promises lease-stats agrees with stat_cmds on SQL databases within 10 s.
const MAX_DATABASE_REFRESH_MS: u64 = 5000;

fn default_interval() -> u64 {
    300
}
/// Before Kea 3.0 the memfile backend walks each page from its start for
/// every lease it adds (quadratic in the page size): small pages there.
fn default_page() -> u32 {
    if kea_hooks::KEA_HOOKS_VERSION >= 30000 {
        1000
    } else {
        100
    }
}

/// The command answering like `stat-lease4-get`.
const GET: &str = "lease-stats-get";

/// Kea statistics of the hook's own: recounts done (background and
/// `lease-stats-recount`; not the count at configuration) and the
/// addresses they found miscounted.
const STAT_RECOUNTS: &str = "lease-stats.recounts";
const STAT_CORRECTED: &str = "lease-stats.corrected-addresses";

/// Adds a recount's result to the hook's statistics (on Kea's main thread,
/// or a thread Kea allows).
fn count_recount(r: &Recount) {
    let _ = stats::add_integer(STAT_RECOUNTS, 1);
    let _ = stats::add_integer(STAT_CORRECTED, r.corrected as i64);
}

/// What the hook's threads share.
struct Shared {
    /// The counts. Kea loads a hook anew for every configuration, so the
    /// subnets and pools of one instance never change: the packet path
    /// reaches them without a lock.
    tracker: Tracker,
    /// The DHCPv6 counts (in kea-dhcp6; `tracker` is empty there, and
    /// this one in kea-dhcp4).
    tracker6: Tracker6,
    /// Whether the server is kea-dhcp6.
    v6: bool,
    /// Whether the database has been counted once.
    seeded: AtomicBool,
    /// Whether the lease database is an SQL one (known from the count at
    /// configuration on): then the subnet gauges follow its statistics.
    sql: AtomicBool,
    /// Set to ask the recount thread for a recount now.
    wake: (Mutex<bool>, Condvar),
    page_size: u32,
    /// The server's own HA state, from the answers to the partner's
    /// heartbeats (and to `status-get`).
    ha: HaStateWatch,
}

impl Shared {
    /// Asks the recount thread for a recount now (or once it has finished
    /// the one it is taking).
    fn request_recount(&self) {
        let (flag, cv) = &self.wake;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }
}

struct LeaseStats {
    shared: Arc<Shared>,
    // Dropped (stopped and joined) with the hook.
    _recounter: Option<Worker>,
    _refresher: Option<Worker>,
    _metrics: Option<Server>,
}

/// Kea's figures of a subnet (stat_cmds' `total-addresses` and
/// `cumulative-assigned-addresses` columns); main thread, or
/// multi-threading on.
fn kea_figures(id: u32) -> KeaFigures {
    let stat = |name: &str| stats::get_integer(&format!("subnet[{id}].{name}")).ok().flatten().unwrap_or(0);
    KeaFigures { total: stat("total-addresses"), cumulative: stat("cumulative-assigned-addresses") }
}

/// Kea's figures of a DHCPv6 subnet (stat_cmds' `total-nas`,
/// `cumulative-assigned-nas`, `total-pds`, `cumulative-assigned-pds`:
/// integers on 2.2, the totals big integers from 2.4); main thread, or
/// multi-threading on.
fn kea_figures6(id: u32) -> KeaFigures6 {
    let stat = |name: &str| match stats::get(&format!("subnet[{id}].{name}")).ok().flatten() {
        Some(stats::StatValue::Integer(v)) => i128::from(v),
        Some(stats::StatValue::BigInteger(v)) => v,
        _ => 0,
    };
    KeaFigures6 {
        total_nas: stat("total-nas"),
        cumulative_nas: stat("cumulative-assigned-nas") as i64,
        total_pds: stat("total-pds"),
        cumulative_pds: stat("cumulative-assigned-pds") as i64,
    }
}

/// A lease_cmds command's `subnet-id` argument, when it names a subnet
/// (1 or more).
fn subnet_arg(args: &Value) -> Option<u32> {
    args.get("subnet-id").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0)
}

/// Counts the leases of every subnet (or of subnet `only`), on a thread of
/// Kea's (the main thread: configuration, commands), a subnet at a time:
/// Kea's by-subnet query is linear in the leases on every release. A
/// background recount in progress is superseded (this waits at most for
/// the step it is taking: see [`tracker::Background`]); when this one
/// counted one subnet only, the background one starts again.
fn recount_here(shared: &Shared, kea: &KeaAccess<'_>, only: Option<u32>) -> Result<Recount, Error> {
    let db = kea.lease_db();
    let (r, superseded) = if shared.v6 {
        let tracker = &shared.tracker6;
        match only {
            Some(id) => tracker.recount(Some(id), [db.leases6_by_subnet(id)])?,
            None => tracker.recount(None, tracker.subnets().iter().map(|s| db.leases6_by_subnet(s.id)))?,
        }
    } else {
        let tracker = &shared.tracker;
        match only {
            Some(id) => tracker.recount(Some(id), [db.leases4_by_subnet(id)])?,
            None => tracker.recount(None, tracker.subnets().iter().map(|s| db.leases4_by_subnet(s.id)))?,
        }
    };
    if superseded {
        tracing::debug!(subnet = ?only, "a recount on Kea's main thread superseded the background recount in progress");
        if only.is_some() {
            shared.request_recount();
        }
    }
    Ok(r)
}

/// On an SQL lease database: aligns each subnet's gauges with the
/// database's own lease statistics (what stat_cmds answers from there),
/// so leases this server's events never showed (another server's on the
/// shared database) count. One query over the statistics tables the
/// database keeps, not over the leases. (Pools, and the event counters
/// of `extended`, still come from this server's events and recounts.)
fn align_with_database(shared: &Shared, kea: &KeaAccess<'_>) -> Result<(), Error> {
    use kea_hooks::lease::LeaseState;
    let db = kea.lease_db();
    if shared.v6 {
        // Per subnet: assigned and declined addresses, assigned and
        // declined prefixes.
        let mut counts: HashMap<u32, [i64; 4]> = HashMap::new();
        for c in db.lease_counts6(None)? {
            let at = match (c.lease_type, c.state) {
                (LeaseType::Na, LeaseState::DEFAULT) => 0,
                (LeaseType::Na, LeaseState::DECLINED) => 1,
                (LeaseType::Pd, LeaseState::DEFAULT) => 2,
                (LeaseType::Pd, LeaseState::DECLINED) => 3,
                _ => continue,
            };
            counts.entry(c.subnet_id).or_default()[at] += c.count;
        }
        for s in shared.tracker6.subnets() {
            let [na, na_declined, pd, pd_declined] = counts.get(&s.id).copied().unwrap_or_default();
            s.na.align(na, na_declined);
            s.pd.align(pd, pd_declined);
        }
    } else {
        let mut counts: HashMap<u32, [i64; 2]> = HashMap::new();
        for c in db.lease_counts4(None)? {
            let at = match c.state {
                LeaseState::DEFAULT => 0,
                LeaseState::DECLINED => 1,
                _ => continue,
            };
            counts.entry(c.subnet_id).or_default()[at] += c.count;
        }
        for s in shared.tracker.subnets() {
            let [assigned, declined] = counts.get(&s.id).copied().unwrap_or_default();
            s.counters.align(assigned, declined);
        }
    }
    Ok(())
}

/// Why a background recount did not finish.
enum Unfinished {
    /// A recount on Kea's main thread took over.
    Superseded,
    /// The hook is unloading.
    Stopped,
    Failed(Error),
}

impl From<Superseded> for Unfinished {
    fn from(_: Superseded) -> Self {
        Unfinished::Superseded
    }
}

impl From<Error> for Unfinished {
    fn from(e: Error) -> Self {
        Unfinished::Failed(e)
    }
}

/// Counts everything in the database from the hook's own thread: each page
/// is read on Kea's main thread (which works with multi-threading on or
/// off), so the main thread is held a page at a time and a single-threaded
/// Kea serves packets between pages; the tracker's work on each page, and
/// its passes over the state words, run here, in bounded steps, holding no
/// lock while the next page is awaited.
/// (The longest time a page held the main thread is returned beside the
/// result, for the log.)
fn recount_from_worker(tracker: &Tracker, page: u32, stop: &StopToken) -> Result<(Recount, Duration), Unfinished> {
    let mut run = tracker.background()?;
    let mut longest = Duration::ZERO;
    let pages = Pages4::new(page, |after, n| {
        if stop.is_stopped() {
            return Ok(Vec::new()); // ends the count
        }
        let (page, held) = main_thread::call_with_kea(move |kea| {
            let t0 = Instant::now();
            (kea.lease_db().page4(after, n), t0.elapsed())
        })?;
        longest = longest.max(held);
        page
    });
    for page in pages {
        run.feed(&page?)?;
    }
    if stop.is_stopped() {
        return Err(Unfinished::Stopped);
    }
    Ok((run.finish()?, longest))
}

/// [`recount_from_worker`] for kea-dhcp6's leases.
fn recount6_from_worker(tracker: &Tracker6, page: u32, stop: &StopToken) -> Result<(Recount, Duration), Unfinished> {
    let mut run = tracker.background();
    let mut longest = Duration::ZERO;
    let pages = Pages6::new(page, |after: Ipv6Addr, n| {
        if stop.is_stopped() {
            return Ok(Vec::new()); // ends the count
        }
        let (page, held) = main_thread::call_with_kea(move |kea| {
            let t0 = Instant::now();
            (kea.lease_db().page6(after, n), t0.elapsed())
        })?;
        longest = longest.max(held);
        page
    });
    for page in pages {
        run.feed(&page?)?;
    }
    if stop.is_stopped() {
        return Err(Unfinished::Stopped);
    }
    Ok((run.finish()?, longest))
}

impl LeaseStats {
    fn get(&self, _cx: &CommandContext<'_>, args: Option<Value>) -> Result<Answer, Error> {
        let q = match query::parse(args.as_ref()) {
            Ok(q) => q,
            Err(e) => return Ok(Answer::error(e)),
        };
        let ts = query::timestamp_now();
        let answer = if self.shared.v6 {
            query6::answer(GET, &q, query::DECLINED_IN_ASSIGNED, &self.shared.tracker6, kea_figures6, ts)
        } else {
            query::answer(GET, &q, query::DECLINED_IN_ASSIGNED, &self.shared.tracker, kea_figures, ts)
        };
        match answer {
            Ok((text, arguments)) => Answer::success(text).with_arguments(arguments),
            Err(text) => Answer::empty(text).with_arguments(json!({})),
        }
    }

    /// `lease-stats-recount`: recounts all subnets (or `subnet-id`) here,
    /// on Kea's main thread, and answers with what it found. A background
    /// recount in progress does not make it wait: it waits at most for the
    /// bounded step that recount is taking, then supersedes it (that one
    /// stops; it starts again at once after a recount of one subnet). The
    /// answer is always this command's own count.
    fn recount(&self, cx: &CommandContext<'_>, args: Option<Value>) -> Result<Answer, Error> {
        let only = match args.as_ref().and_then(|a| a.get("subnet-id")) {
            None => None,
            Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0) {
                Some(id) => Some(id),
                None => return Ok(Answer::error("'subnet-id' must be an integer from 1 to 4294967295")),
            },
        };
        let known = |id: u32| if self.shared.v6 { self.shared.tracker6.subnet(id).is_some() } else { self.shared.tracker.subnet(id).is_some() };
        if only.is_some_and(|id| !known(id)) {
            return Ok(Answer::empty(format!("subnet-id: {} does not exist", only.unwrap_or(0))));
        }
        let t0 = Instant::now();
        let r = recount_here(&self.shared, &cx.kea(), only)?;
        count_recount(&r);
        Answer::success(format!("{} leases counted, {} addresses corrected", r.leases, r.corrected)).with_arguments(json!({
            "leases": r.leases,
            "corrected": r.corrected,
            "duration-ms": t0.elapsed().as_millis() as u64,
        }))
    }

    /// After a lease_cmds command: reads back what it changed.
    fn after_command(&self, kea: &KeaAccess<'_>, name: &str, args: &Value) -> Result<(), Error> {
        let tracker = &self.shared.tracker;
        let db = kea.lease_db();
        let address = |v: &Value| v.get("ip-address").and_then(Value::as_str).and_then(|s| s.parse::<Ipv4Addr>().ok());
        let reread = |a: Ipv4Addr| -> Result<(), Error> {
            tracker.truth(a, db.lease4(a)?.as_ref());
            Ok(())
        };
        let subnet = subnet_arg(args);
        match name {
            "lease4-add" | "lease4-update" | "lease4-del" => match (address(args), subnet) {
                (Some(a), _) => reread(a)?,
                // lease4-del by identifier names the subnet.
                (None, Some(id)) => drop(recount_here(&self.shared, kea, Some(id))?),
                (None, None) => drop(recount_here(&self.shared, kea, None)?),
            },
            "lease4-wipe" => drop(recount_here(&self.shared, kea, subnet)?),
            // An HA sync writes the database directly: recount soon.
            "ha-sync" | "ha-sync-complete-notify" => self.shared.request_recount(),
            _ => {}
        }
        Ok(())
    }

    /// After a lease_cmds command in kea-dhcp6: reads back what it changed
    /// (`lease6-add`, `-update`, `-del` by address: that lease; by
    /// identifier, `lease6-wipe`: the subnet, or all; `lease6-bulk-apply`:
    /// each lease it names).
    fn after_command6(&self, kea: &KeaAccess<'_>, name: &str, args: &Value) -> Result<(), Error> {
        let tracker = &self.shared.tracker6;
        let db = kea.lease_db();
        // The lease an entry names: its type (IA_NA by default) and address;
        // `Some(None)` for an IA_TA lease (not counted), `None` when it
        // names none (then its subnet, or everything, is recounted).
        let lease = |v: &Value| -> Option<Option<(LeaseType, Ipv6Addr)>> {
            let a = v.get("ip-address").and_then(Value::as_str)?.parse().ok()?;
            match v.get("type").and_then(Value::as_str) {
                None | Some("IA_NA") => Some(Some((LeaseType::Na, a))),
                Some("IA_PD") => Some(Some((LeaseType::Pd, a))),
                Some("IA_TA") => Some(None),
                Some(_) => None,
            }
        };
        let reread = |(t, a): (LeaseType, Ipv6Addr)| -> Result<(), Error> {
            tracker.truth(t, a, db.lease6(t, a)?.as_ref());
            Ok(())
        };
        let subnet = subnet_arg(args);
        match name {
            "lease6-add" | "lease6-update" | "lease6-del" => match (lease(args), subnet) {
                (Some(l), _) => l.map(reread).transpose().map(drop)?,
                (None, Some(id)) => drop(recount_here(&self.shared, kea, Some(id))?),
                (None, None) => drop(recount_here(&self.shared, kea, None)?),
            },
            "lease6-bulk-apply" => {
                let listed = ["deleted-leases", "leases"].iter().flat_map(|k| args.get(*k).and_then(Value::as_array).into_iter().flatten());
                let named: Option<Vec<_>> = listed.map(lease).collect();
                match named {
                    Some(leases) => {
                        for l in leases.into_iter().flatten() {
                            reread(l)?;
                        }
                    }
                    None => drop(recount_here(&self.shared, kea, None)?),
                }
            }
            "lease6-wipe" => drop(recount_here(&self.shared, kea, subnet)?),
            "ha-sync" | "ha-sync-complete-notify" => self.shared.request_recount(),
            _ => {}
        }
        Ok(())
    }

    /// On an SQL lease database, every `every`: aligns the subnet gauges
    /// with the database's statistics (one query, on Kea's main thread,
    /// which serves packets between readings when it runs single-threaded).
    fn start_database_refresh(shared: &Arc<Shared>, every: Duration) -> Result<Worker, Error> {
        let shared = Arc::clone(shared);
        Worker::spawn("lease-stats-db", move |stop: &StopToken| {
            while stop.sleep(every) {
                // `sql` is set before `seeded`, at configuration, for good:
                // Kea loads the hook anew for every configuration. So once
                // seeded on another backend, this thread has nothing to do.
                let seeded = shared.seeded.load(Ordering::Acquire);
                if !shared.sql.load(Ordering::Acquire) {
                    if seeded {
                        return;
                    }
                    continue;
                }
                let target = Arc::clone(&shared);
                match main_thread::call_with_kea(move |kea| align_with_database(&target, kea)) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) | Err(e) if stop.is_stopped() => tracing::debug!(error = %e, "database reading interrupted by unload"),
                    Ok(Err(e)) | Err(e) => tracing::warn!(error = %e, "reading the database's lease statistics failed"),
                }
            }
        })
    }

    fn start_recounter(shared: &Arc<Shared>, interval: u64) -> Result<Worker, Error> {
        let shared = Arc::clone(shared);
        let interval = (interval > 0).then(|| Duration::from_secs(interval));
        Worker::spawn("lease-stats-cnt", move |stop: &StopToken| {
            let wake = Arc::clone(&shared);
            stop.on_stop(move || wake.request_recount());
            loop {
                {
                    let (flag, cv) = &shared.wake;
                    let mut requested = flag.lock().unwrap_or_else(|e| e.into_inner());
                    let deadline = interval.map(|i| Instant::now() + i);
                    while !*requested && !stop.is_stopped() {
                        let wait = match deadline {
                            Some(d) if Instant::now() >= d => break,
                            Some(d) => d - Instant::now(),
                            None => Duration::from_secs(3600),
                        };
                        requested = cv.wait_timeout(requested, wait).unwrap_or_else(|e| e.into_inner()).0;
                    }
                    *requested = false;
                }
                if stop.is_stopped() {
                    return;
                }
                if !shared.seeded.load(Ordering::Acquire) {
                    continue; // the server is not configured yet
                }
                let t0 = Instant::now();
                let done = if shared.v6 {
                    recount6_from_worker(&shared.tracker6, shared.page_size, stop)
                } else {
                    recount_from_worker(&shared.tracker, shared.page_size, stop)
                };
                match done {
                    Ok((r, longest)) => {
                        let ms = t0.elapsed().as_millis() as u64;
                        // How long one page held Kea's main thread, at most.
                        let page_us = longest.as_micros() as u64;
                        if r.corrected > 0 {
                            tracing::info!(leases = r.leases, corrected = r.corrected, ms, page_us, "recount corrected the counts");
                        } else {
                            tracing::debug!(leases = r.leases, ms, page_us, "recounted");
                        }
                        let _ = main_thread::post(move || count_recount(&r));
                    }
                    Err(Unfinished::Superseded) => {
                        tracing::debug!("background recount superseded by one on Kea's main thread")
                    }
                    Err(Unfinished::Stopped) => tracing::debug!("recount interrupted by unload"),
                    Err(Unfinished::Failed(e)) if stop.is_stopped() => {
                        tracing::debug!(error = %e, "recount interrupted by unload")
                    }
                    Err(Unfinished::Failed(e)) => tracing::warn!(error = %e, "recount failed"),
                }
            }
        })
    }
}

impl Hook for LeaseStats {
    const NAME: &'static str = "lease-stats";
    type Params = Params;

    fn check(p: &Params) -> Result<(), Error> {
        if let Some(listen) = &p.listen {
            listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| Error::msg(format!("at 'listen': {listen:?} is not an address:port (e.g. \"127.0.0.1:9100\")")))?;
        }
        if !(100..=MAX_DATABASE_REFRESH_MS).contains(&p.database_refresh_ms) {
            return Err(Error::msg(format!("at 'database-refresh-ms': must be 100 to {MAX_DATABASE_REFRESH_MS}")));
        }
        if !(1..=1_000_000).contains(&p.page_size) {
            return Err(Error::msg("at 'page-size': must be 1 to 1000000"));
        }
        Ok(())
    }

    fn load(p: Params, cx: &LoadContext) -> Result<Self, Error> {
        // The subnets and pools of the configuration being applied;
        // counted at dhcp4_srv_configured, when its lease database is open.
        let v6 = cx.server() == kea_hooks::Server::Dhcp6;
        let (tracker, tracker6) = if v6 {
            (Tracker::new(&[]), Tracker6::new(&cx.kea().subnets6()?))
        } else {
            (Tracker::new(&cx.kea().subnets4()?), Tracker6::new(&[]))
        };
        let shared = Arc::new(Shared {
            tracker,
            tracker6,
            v6,
            seeded: AtomicBool::new(false),
            sql: AtomicBool::new(false),
            wake: (Mutex::new(false), Condvar::new()),
            page_size: p.page_size,
            ha: HaStateWatch::new(),
        });
        let metrics = match &p.listen {
            None => None,
            Some(listen) => {
                let listener = kea_hooks::http::bind(listen).map_err(|e| e.context("at 'listen'"))?;
                let page_shared = Arc::clone(&shared);
                let server = metrics::serve(listener, move |time_left| {
                    // Kea's figures come from the main thread: a bounded
                    // wait, so a busy main thread costs the client a 503.
                    let wait = time_left.min(metrics::MAIN_THREAD_WAIT);
                    if page_shared.v6 {
                        let tracker = &page_shared.tracker6;
                        let ids: Vec<u32> = tracker.subnets().iter().map(|s| s.id).collect();
                        let kea = main_thread::call_timeout(wait, move || {
                            ids.into_iter().map(|id| (id, kea_figures6(id))).collect::<HashMap<_, _>>()
                        })
                        .ok()?;
                        return Some(metrics::render6(tracker, &kea));
                    }
                    let tracker = &page_shared.tracker;
                    let ids: Vec<u32> = tracker.subnets().iter().map(|s| s.id).collect();
                    let kea = main_thread::call_timeout(wait, move || {
                        ids.into_iter().map(|id| (id, kea_figures(id))).collect::<HashMap<_, _>>()
                    })
                    .ok()?;
                    Some(metrics::render(tracker, &kea))
                })?;
                tracing::info!(%listen, "metrics at http://{listen}/metrics");
                Some(server)
            }
        };
        for name in [STAT_RECOUNTS, STAT_CORRECTED] {
            stats::declare_integer(name)?;
        }
        let recounter = Some(Self::start_recounter(&shared, p.recount_interval)?);
        let refresher = Some(Self::start_database_refresh(&shared, Duration::from_millis(p.database_refresh_ms))?);
        Ok(LeaseStats { shared, _recounter: recounter, _refresher: refresher, _metrics: metrics })
    }

    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        commands.add(GET, Self::get)?;
        commands.add("lease-stats-recount", Self::recount)?;
        Ok(())
    }

    // An observer: a failure here must never cost a client its lease.
    fn on_panic(&self) -> OnFailure {
        OnFailure::Continue
    }
    fn on_error(&self) -> OnFailure {
        OnFailure::Continue
    }
}

impl LeaseStats {
    /// At `dhcpX_srv_configured`: counts the lease database for the
    /// subnets load() saw (Kea loads hooks anew for each configuration),
    /// warning when `configured` (the subnet ids Kea now has) differs.
    fn configured(&self, kea: &KeaAccess<'_>, mut configured: Vec<u32>, known: Vec<u32>) -> Result<(), Error> {
        configured.sort_unstable();
        configured.dedup();
        if configured != known {
            tracing::warn!("the configured subnets differ from those at load; counting those of load");
        }
        let t0 = Instant::now();
        let backend = kea.lease_db().backend()?;
        if backend.is_sql() {
            // The subnets' counts come from the database's statistics at
            // once; the per-address count (pools, what events compare
            // against) from a background recount, a page at a time,
            // instead of reading every lease here while Kea waits (1.4 s
            // at a million leases in PostgreSQL).
            align_with_database(&self.shared, kea)?;
            self.shared.sql.store(true, Ordering::Release);
            self.shared.seeded.store(true, Ordering::Release);
            self.shared.request_recount();
            tracing::info!(?backend, ms = t0.elapsed().as_millis() as u64, "read the lease database's statistics; counting its leases in the background");
            return Ok(());
        }
        let r = recount_here(&self.shared, kea, None)?;
        self.shared.seeded.store(true, Ordering::Release);
        tracing::info!(leases = r.leases, ?backend, ms = t0.elapsed().as_millis() as u64, "counted the lease database");
        Ok(())
    }
}

impl Callout<dhcp4::Dhcp4SrvConfigured> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::Dhcp4SrvConfigured>) -> Result<(), Error> {
        let kea = cx.kea();
        let configured = kea.subnets4()?.iter().map(|s| s.id).collect();
        self.configured(&kea, configured, self.shared.tracker.subnets().iter().map(|s| s.id).collect())
    }
}

fn lease_event(tracker: &Tracker, l: &dhcp4::Lease4<'_>, held: Option<Held>, cause: Cause) {
    tracker.event(l.address(), l.subnet_id(), held, cause);
}

impl Callout<dhcp4::Leases4Committed> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        let tracker = &self.shared.tracker;
        // Replaced leases first: the new ones may reuse an address.
        for l in cx.deleted_leases()?.iter() {
            lease_event(tracker, &l, None, Cause::Committed);
        }
        for l in cx.leases()?.iter() {
            lease_event(tracker, &l, Held::of(l.state()), Cause::Committed);
        }
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Release> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Release>) -> Result<(), Error> {
        lease_event(&self.shared.tracker, &cx.lease()?, None, Cause::Released);
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Decline> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Decline>) -> Result<(), Error> {
        lease_event(&self.shared.tracker, &cx.lease()?, Some(Held::Declined), Cause::Declined);
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Expire> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Expire>) -> Result<(), Error> {
        lease_event(&self.shared.tracker, &cx.lease()?, None, Cause::Reclaimed);
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Recover> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Recover>) -> Result<(), Error> {
        lease_event(&self.shared.tracker, &cx.lease()?, None, Cause::Reclaimed);
        Ok(())
    }
}

impl Callout<dhcp4::CommandProcessed> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp4::CommandProcessed>) -> Result<(), Error> {
        let name = cx.name()?;
        if HaState::shown_by(&name) {
            // (On HA's listener thread for a heartbeat: a lookup in the
            // watch's short list, and a recount requested, not taken, on a
            // change.)
            let changes = self.shared.ha.observe_command(cx)?;
            let mut recount = false;
            for change in &changes {
                let after_sync = change.to.follows_sync();
                tracing::debug!(partner = ?change.partner, from = ?change.from.map(HaState::name), to = change.to.name(), after_sync, "HA state");
                recount |= after_sync;
            }
            if recount {
                self.shared.request_recount();
            }
            return Ok(());
        }
        let family = if self.shared.v6 { "lease6-" } else { "lease4-" };
        if !(name.starts_with(family) || name.starts_with("ha-sync")) {
            return Ok(());
        }
        let args = cx.arguments()?;
        if self.shared.v6 {
            self.after_command6(&cx.kea(), &name, &args)
        } else {
            self.after_command(&cx.kea(), &name, &args)
        }
    }
}

kea_hooks::since_kea_2_6! {
    impl Callout<dhcp4::Lease4Offer> for LeaseStats {
        fn call(&self, cx: &Context<'_, dhcp4::Lease4Offer>) -> Result<(), Error> {
            // Only with an offer lifetime is the offered lease written.
            if cx.offer_lifetime()? == 0 {
                return Ok(());
            }
            let tracker = &self.shared.tracker;
            for l in cx.leases()?.iter() {
                lease_event(tracker, &l, Held::of(l.state()), Cause::Committed);
            }
            Ok(())
        }
    }

    impl Callout<dhcp4::Lease4ServerDecline> for LeaseStats {
        fn call(&self, cx: &Context<'_, dhcp4::Lease4ServerDecline>) -> Result<(), Error> {
            lease_event(&self.shared.tracker, &cx.lease()?, Some(Held::Declined), Cause::Declined);
            Ok(())
        }
    }
}

impl Callout<dhcp6::Dhcp6SrvConfigured> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp6::Dhcp6SrvConfigured>) -> Result<(), Error> {
        let kea = cx.kea();
        let configured = kea.subnets6()?.iter().map(|s| s.id).collect();
        self.configured(&kea, configured, self.shared.tracker6.subnets().iter().map(|s| s.id).collect())
    }
}

fn lease6_event(tracker: &Tracker6, l: &dhcp6::Lease6<'_>, held: Option<Held>, cause: Cause) {
    tracker.event(l.lease_type(), l.address(), l.subnet_id(), held, cause);
}

impl Callout<dhcp6::Leases6Committed> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp6::Leases6Committed>) -> Result<(), Error> {
        let tracker = &self.shared.tracker6;
        for l in cx.deleted_leases()?.iter() {
            lease6_event(tracker, &l, None, Cause::Committed);
        }
        for l in cx.leases()?.iter() {
            lease6_event(tracker, &l, Held::of(l.state()), Cause::Committed);
        }
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Release> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Release>) -> Result<(), Error> {
        lease6_event(&self.shared.tracker6, &cx.lease()?, None, Cause::Released);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Decline> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Decline>) -> Result<(), Error> {
        lease6_event(&self.shared.tracker6, &cx.lease()?, Some(Held::Declined), Cause::Declined);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Expire> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Expire>) -> Result<(), Error> {
        lease6_event(&self.shared.tracker6, &cx.lease()?, None, Cause::Reclaimed);
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Recover> for LeaseStats {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Recover>) -> Result<(), Error> {
        lease6_event(&self.shared.tracker6, &cx.lease()?, None, Cause::Reclaimed);
        Ok(())
    }
}

kea_hooks::kea_hook!(LeaseStats);

