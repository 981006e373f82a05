//! `libdhcp_probe.so`: a hook for the SDK's own integration tests.
//!
//! It records what every callout sees as JSON lines in the file named by
//! `out`, so tests can compare the hook's view with Kea's lease file, and
//! misbehaves on demand: panics, errors, a Kea call that throws, a
//! background thread that must be joined at unload.
//!
//! It carries a build id ([`BUILD_ID`]) that the reload test rewrites in a
//! copy of the library file, to tell which file Kea really runs.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use kea_hooks::dhcp4::{self, Lease4, Leases4, OptionData, Pkt4};
use kea_hooks::prelude::*;
use kea_hooks::parking::{Parkable, Parked};
use kea_hooks::stats;
use kea_hooks::threads::{JobQueue, Worker};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Params {
    /// File to append JSON lines to.
    out: String,
    /// A tag written into every record (tells loads apart across reloads).
    #[serde(default)]
    generation: u32,
    /// Panic in pkt4_receive for this hardware address.
    #[serde(default)]
    panic_hwaddr: Option<String>,
    /// Return an error from pkt4_receive for this hardware address.
    #[serde(default)]
    error_hwaddr: Option<String>,
    /// `drop` (default) or `continue`.
    #[serde(default)]
    on_panic: Option<String>,
    /// In pkt4_receive, ask Kea for an argument that does not exist and
    /// record the error.
    #[serde(default)]
    missing_argument: bool,
    /// Run a thread that logs until unload.
    #[serde(default)]
    background_thread: bool,
    /// Run a thread (named `probe-panicker`) that panics right away.
    #[serde(default)]
    thread_panic: bool,
    /// Recorded at load exactly as it arrived (any JSON).
    #[serde(default)]
    echo: Option<Value>,
    /// Logged at load at INFO, as the message and as a field `text`.
    #[serde(default)]
    log_text: Option<String>,
    /// `drop` (default) or `continue`, for a callout's `Err`.
    #[serde(default)]
    on_error: Option<String>,
    /// Call `set_next_step(Continue)` in these callouts (hook point names),
    /// and `Skip` in pkt4_send if `pkt4_send_skip`.
    #[serde(default)]
    continue_at: Vec<String>,
    #[serde(default)]
    pkt4_send_skip: bool,
    /// Call `set_next_step(Skip)` in these callouts.
    #[serde(default)]
    skip_at: Vec<String>,
    /// Call `set_next_step(Drop)` in these callouts.
    #[serde(default)]
    drop_at: Vec<String>,
    /// Load even where the server has none of the probe's hook points.
    #[serde(default)]
    no_callouts_ok: bool,
    /// At pkt4_receive, put the query in this client class.
    #[serde(default)]
    add_class: Option<String>,
    /// At pkt4_send, set these options on the response.
    #[serde(default)]
    pkt4_send_set: Vec<OptSpec>,
    /// At pkt4_send, remove these options from the response.
    #[serde(default)]
    pkt4_send_remove: Vec<u8>,
    /// At pkt4_send, set siaddr, sname and file.
    #[serde(default)]
    pkt4_send_siaddr: Option<std::net::Ipv4Addr>,
    #[serde(default)]
    pkt4_send_sname: Option<String>,
    #[serde(default)]
    pkt4_send_file: Option<String>,
    /// At lease4_select and lease4_renew, write these into the lease.
    #[serde(default)]
    lease_set: Option<LeaseSet>,
    /// At subnet4_select, select this subnet id (null: none).
    #[serde(default)]
    select_subnet: Option<Value>,
    /// Store a value with each packet at pkt4_receive, drop queries whose
    /// xid is a multiple of `context_drop_every` at subnet4_select, and
    /// check the value at pkt4_send; counts go in the unload record.
    #[serde(default)]
    context: bool,
    #[serde(default)]
    context_drop_every: Option<u32>,
    /// At host4_identifier, use option 82's remote id as the flex-id.
    #[serde(default)]
    flex_id_from_remote_id: bool,
    /// At command_processed, append this to version-get's answer text.
    #[serde(default)]
    command_text_suffix: Option<String>,
    /// At dhcp4_srv_configured, refuse the configuration with this text.
    #[serde(default)]
    reject_config: Option<String>,
    /// At buffer4_send, write this into the wire form's sname field.
    #[serde(default)]
    wire_sname: Option<String>,
    /// At ddns4_update, set this host name.
    #[serde(default)]
    ddns_hostname: Option<String>,
    /// Answer the control commands probe-echo, probe-fail, probe-panic,
    /// probe-stats, probe-parked, probe-leases, probe-sleep and
    /// probe-subnets.
    #[serde(default)]
    commands: bool,
    /// Park packets (see ParkSpec).
    #[serde(default)]
    park: Option<ParkSpec>,
    /// Record only load and unload (for load tests).
    #[serde(default)]
    quiet: bool,
    /// Start a Worker (`probe-leaked`) and leak it: the SDK must stop and
    /// join it at unload.
    #[serde(default)]
    leak_worker: bool,
    /// Start a Worker (`probe-queries`) that queries the lease database
    /// from its own thread (LeaseDb::for_this_thread) in a loop until
    /// unload; the unload record counts the answers.
    #[serde(default)]
    query_loop: bool,
}

/// What the query loop got.
#[derive(Default)]
struct QueryCounts {
    ok: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

/// What to do with parked packets: each is parked at `point` and handed to
/// the probe's worker thread, which after `delay-us` drops the packet if
/// xid % drop-every == 0, drops the token unused if xid % forget-every ==
/// 1, keeps it (until probe-parked) with `hold`, tells Kea the address is
/// in use with `address-in-use` (lease4_offer), and otherwise resumes it.
/// With `inline`, the callout resumes it itself, at once. With
/// `callout-ms`, the callout goes on for that long after handing the token
/// over (so the worker's resume comes before the callout returns).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ParkSpec {
    point: String,
    #[serde(default)]
    delay_us: u64,
    #[serde(default)]
    drop_every: Option<u32>,
    #[serde(default)]
    forget_every: Option<u32>,
    #[serde(default)]
    hold: bool,
    #[serde(default)]
    address_in_use: bool,
    #[serde(default)]
    inline: bool,
    #[serde(default = "default_queue")]
    queue: usize,
    #[serde(default)]
    callout_ms: u64,
    /// subnet4_select: resume in this subnet (resume_in_subnet; Kea 2.6+).
    #[serde(default)]
    #[allow(dead_code)] // read on Kea 2.6+ only
    resume_subnet: Option<u32>,
}

fn default_queue() -> usize {
    4096
}

/// A parked packet of any parkable point.
type ParkJob = Box<dyn ParkedAny>;

trait ParkedAny: Send {
    fn xid(&self) -> u32;
    fn resume(self: Box<Self>, address_in_use: bool);
    fn drop_packet(self: Box<Self>);
}

impl<P: Parkable> ParkedAny for Parked<P> {
    fn xid(&self) -> u32 {
        Parked::xid(self)
    }
    fn resume(self: Box<Self>, _: bool) {
        Parked::resume(*self)
    }
    fn drop_packet(self: Box<Self>) {
        Parked::drop_packet(*self)
    }
}

fn park_job<P: Parkable>(p: Parked<P>) -> ParkJob {
    Box::new(p)
}

kea_hooks::since_kea_2_6! {
    /// A parked OFFER, which can also be resumed with the address in use.
    struct OfferJob(Parked<dhcp4::Lease4Offer>);

    impl ParkedAny for OfferJob {
        fn xid(&self) -> u32 {
            self.0.xid()
        }
        fn resume(self: Box<Self>, address_in_use: bool) {
            if !address_in_use {
                return self.0.resume();
            }
            self.0.resume_address_in_use()
        }
        fn drop_packet(self: Box<Self>) {
            self.0.drop_packet()
        }
    }

    fn offer_job(p: Parked<dhcp4::Lease4Offer>) -> ParkJob {
        Box::new(OfferJob(p))
    }

    /// A parked subnet4_select query, resumed in a chosen subnet if any.
    struct SelectJob(Parked<dhcp4::Subnet4Select>, Option<u32>);

    impl ParkedAny for SelectJob {
        fn xid(&self) -> u32 {
            self.0.xid()
        }
        fn resume(self: Box<Self>, _: bool) {
            match self.1 {
                Some(id) => self.0.resume_in_subnet(Some(id)),
                None => self.0.resume(),
            }
        }
        fn drop_packet(self: Box<Self>) {
            self.0.drop_packet()
        }
    }
}

/// The parking counters, shared with the worker.
#[derive(Default)]
struct ParkCounts {
    parked: AtomicU64,
    resumed: AtomicU64,
    dropped: AtomicU64,
    forgotten: AtomicU64,
    refused: AtomicU64,
    held: Mutex<Vec<ParkJob>>,
}

impl ParkCounts {
    fn json(&self) -> Value {
        json!({
            "parked": self.parked.load(Ordering::SeqCst),
            "resumed": self.resumed.load(Ordering::SeqCst),
            "dropped": self.dropped.load(Ordering::SeqCst),
            "forgotten": self.forgotten.load(Ordering::SeqCst),
            "refused": self.refused.load(Ordering::SeqCst),
            "held": self.held.lock().map(|h| h.len()).unwrap_or(0),
        })
    }

    /// What the worker does with a parked packet.
    fn settle(&self, spec: &ParkSpec, job: ParkJob) {
        let xid = job.xid();
        if spec.hold {
            self.held.lock().unwrap().push(job);
        } else if spec.drop_every.is_some_and(|n| xid % n == 0) {
            self.dropped.fetch_add(1, Ordering::SeqCst);
            job.drop_packet();
        } else if spec.forget_every.is_some_and(|n| xid % n == 1) {
            self.forgotten.fetch_add(1, Ordering::SeqCst);
            drop(job);
        } else {
            self.resumed.fetch_add(1, Ordering::SeqCst);
            job.resume(spec.address_in_use);
        }
    }
}

/// probe-leases's arguments: one query of the lease database.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "by", rename_all = "kebab-case", rename_all_fields = "kebab-case")]
enum LeaseQuery {
    Address { address: std::net::Ipv4Addr },
    Hwaddr { hwaddr: String },
    ClientId { client_id: String },
    Subnet { subnet_id: u32 },
    Pages { size: u32 },
    /// From a thread of the hook's own: all leases in pages of `size`
    /// (LeaseDb::for_this_thread), and the subnets through the main thread.
    Thread { size: u32 },
    /// Kea's lease statistics query (LeaseDb::lease_counts4): every subnet,
    /// or `first` to `last`.
    Counts { first: Option<u32>, last: Option<u32> },
}

fn count_json(c: &kea_hooks::dhcp4::LeaseCount4) -> Value {
    json!({ "subnet_id": c.subnet_id, "state": c.state.name(), "count": c.count })
}

fn subnet_json(s: &kea_hooks::dhcp4::Subnet4Config) -> Value {
    json!({
        "id": s.id, "prefix": format!("{}/{}", s.prefix, s.prefix_len), "total": s.total_addresses(),
        "pools": s.pools.iter().map(|p| json!([p.first.to_string(), p.last.to_string(), p.size()])).collect::<Vec<_>>(),
    })
}

fn stored_json(l: &kea_hooks::dhcp4::StoredLease4) -> Value {
    json!({
        "address": l.address.to_string(),
        "hwaddr": l.hwaddr().map(|h| h.to_string()),
        "client_id": l.client_id.as_deref().map(colon_hex),
        "valid_lifetime": l.valid_lifetime,
        "expire": l.expires(),
        "subnet_id": l.subnet_id,
        "hostname": l.hostname,
        "state": l.state.0,
    })
}

fn all_pages(db: &kea_hooks::kea::LeaseDb<'_>, size: u32) -> Result<Value, Error> {
    let pages = db.pages4(size).collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "pages": pages.len(),
        "leases": pages.iter().flatten().map(stored_json).collect::<Vec<_>>(),
    }))
}

/// probe-parked's arguments: what to do with the held packets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
enum ParkedAction {
    Count,
    Resume,
    Drop,
    Forget,
}

/// probe-echo's arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoArgs {
    text: String,
    #[serde(default = "one")]
    times: u32,
}

/// probe-sleep's arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SleepArgs {
    ms: u64,
}

fn one() -> u32 {
    1
}

/// probe-stats's arguments: one operation of `kea_hooks::stats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "op", rename_all = "kebab-case")]
enum StatsOp {
    SetInteger { name: String, value: i64 },
    AddInteger { name: String, value: i64 },
    SetFloat { name: String, value: f64 },
    SetString { name: String, value: String },
    Remove { name: String },
    Reset { name: String },
    Get { name: String },
    /// add-integer 1 from a thread of the hook's own.
    FromThread { name: String },
}

/// An option to set: `hex` bytes, `text`, or `subs` (sub-options
/// `[code, hex]`), with `vendor` (an enterprise number) for option 125.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptSpec {
    code: u8,
    #[serde(default)]
    hex: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    subs: Option<Vec<(u8, String)>>,
    #[serde(default)]
    vendor: Option<u32>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LeaseSet {
    #[serde(default)]
    valid_lifetime: Option<u32>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    fqdn: Option<(bool, bool)>,
}

fn unhex(s: &str) -> Result<Vec<u8>, Error> {
    let s: String = s.chars().filter(|c| *c != ':').collect();
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16)
                .map_err(|e| Error::msg(format!("bad hex {s:?}: {e}")))
        })
        .collect()
}

impl OptSpec {
    fn data(&self) -> Result<OptionData, Error> {
        if let Some(h) = &self.hex {
            return Ok(OptionData::from(unhex(h)?));
        }
        if let Some(t) = &self.text {
            return Ok(OptionData::from_text(t));
        }
        let subs = self.subs.as_deref().unwrap_or_default();
        let owned: Vec<(u8, Vec<u8>)> = subs
            .iter()
            .map(|(c, h)| Ok((*c, unhex(h)?)))
            .collect::<Result<_, Error>>()?;
        let borrowed: Vec<(u8, &[u8])> = owned.iter().map(|(c, d)| (*c, d.as_slice())).collect();
        match self.vendor {
            Some(enterprise) => OptionData::vendor_identifying(&[(enterprise, &borrowed)]),
            None => OptionData::from_sub_options(&borrowed),
        }
    }
}

/// A value the probe keeps with each packet (with `context`), counted
/// while it is alive.
struct Token {
    xid: u32,
}

static TOKENS_LIVE: AtomicI64 = AtomicI64::new(0);

impl Token {
    fn new(xid: u32) -> Self {
        TOKENS_LIVE.fetch_add(1, Ordering::SeqCst);
        Token { xid }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        TOKENS_LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A marker a test can find in the library file and rewrite (same length)
/// in a copy, to make a distinguishable build without compiling again.
#[used]
static BUILD_ID: [u8; 32] = *b"PROBE-BUILD-ID:00000000000000000";

/// The 17 characters after the marker's prefix, read from memory:
/// `black_box` hides where the reference points, so the compiler cannot
/// fold the static's contents into the code.
fn build_id() -> String {
    let bytes: &[u8; 32] = std::hint::black_box(&BUILD_ID);
    String::from_utf8_lossy(&bytes[15..]).into_owned()
}

struct Probe {
    /// The `thread_panic` thread, joined at unload.
    panicker: Option<JoinHandle<()>>,
    out: Mutex<File>,
    generation: u32,
    panic_hwaddr: Option<String>,
    error_hwaddr: Option<String>,
    on_panic: OnFailure,
    on_error: OnFailure,
    continue_at: Vec<String>,
    pkt4_send_skip: bool,
    skip_at: Vec<String>,
    drop_at: Vec<String>,
    no_callouts_ok: bool,
    missing_argument: bool,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    calls: AtomicU64,
    add_class: Option<String>,
    pkt4_send_set: Vec<(u8, OptionData)>,
    pkt4_send_remove: Vec<u8>,
    pkt4_send_siaddr: Option<std::net::Ipv4Addr>,
    pkt4_send_sname: Option<String>,
    pkt4_send_file: Option<String>,
    lease_set: Option<LeaseSet>,
    select_subnet: Option<Value>,
    context: bool,
    context_drop_every: Option<u32>,
    context_set: AtomicU64,
    context_seen: AtomicU64,
    context_mismatch: AtomicU64,
    context_dropped: AtomicU64,
    flex_id_from_remote_id: bool,
    command_text_suffix: Option<String>,
    reject_config: Option<String>,
    wire_sname: Option<String>,
    ddns_hostname: Option<String>,
    commands: bool,
    quiet: bool,
    park: Option<ParkSpec>,
    park_counts: Arc<ParkCounts>,
    park_queue: Option<JobQueue<ParkJob>>,
    park_worker: Option<Worker>,
    lease_threads: Mutex<Vec<JoinHandle<()>>>,
    query_counts: Arc<QueryCounts>,
    query_worker: Option<Worker>,
}

impl Probe {
    fn record(&self, mut v: Value) {
        if self.quiet && v["point"] != "load" && v["point"] != "unload" {
            return;
        }
        v["generation"] = json!(self.generation);
        // The kernel's thread id: std::thread::current() on one of Kea's
        // threads may create a thread-local with a destructor, which would
        // keep the library mapped across reloads (see the SDK's docs).
        // SAFETY: gettid has no preconditions.
        v["thread"] = json!(unsafe { libc::gettid() });
        self.calls.fetch_add(1, Ordering::Relaxed);
        let line = format!("{v}\n");
        if let Ok(mut f) = self.out.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

fn pkt(p: &Pkt4<'_>) -> Result<Value, Error> {
    Ok(json!({
        "type": p.message_type()?.name(),
        "xid": p.xid(),
        "hwaddr": p.hwaddr().to_string(),
        "htype": p.hwaddr().htype(),
        "ciaddr": p.ciaddr().to_string(),
        "yiaddr": p.yiaddr().to_string(),
        "siaddr": p.siaddr().to_string(),
        "giaddr": p.giaddr().to_string(),
        "remote_addr": p.remote_addr().to_string(),
        "local_addr": p.local_addr().to_string(),
        "iface": p.iface()?,
        "option53": p.option(53)?.map(OptionData::into_bytes),
        "option61": p.option(61)?.map(OptionData::into_bytes),
        "option82": option82(p)?,
        "classes": p.classes()?,
        "relayed": p.is_relayed()?,
    }))
}

/// Option 82's sub-options as `{code: hex}`, or the error for a malformed one.
fn option82(p: &Pkt4<'_>) -> Result<Value, Error> {
    let Some(rai) = p.option(82)? else {
        return Ok(Value::Null);
    };
    Ok(match rai.sub_options() {
        Ok(subs) => Value::Object(
            subs.iter()
                .map(|s| (s.code.to_string(), json!(colon_hex(s.data))))
                .collect(),
        ),
        Err(e) => json!({"error": format!("{:?}: {e}", e.kind())}),
    })
}

/// The leases of a collection, checking that its iterator and `len()` agree.
fn leases(ls: &Leases4<'_>) -> Value {
    let all: Vec<Value> = ls.iter().map(|l| lease(&l)).collect();
    json!({ "len": ls.len(), "items": all })
}

/// A failure policy from the parameters.
fn policy(name: &str, value: Option<&str>) -> Result<OnFailure, Error> {
    match value {
        None | Some("drop") => Ok(OnFailure::Drop),
        Some("continue") => Ok(OnFailure::Continue),
        Some(other) => Err(Error::msg(format!(
            "bad parameters: at '{name}': {other:?} is not drop or continue"
        ))),
    }
}

/// The error the probe returns for `error-hwaddr`: with a cause, so the
/// log line shows the chain.
#[derive(Debug)]
struct ProbeError {
    hwaddr: String,
    cause: std::io::Error,
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "probe error for {}", self.hwaddr)
    }
}

impl std::error::Error for ProbeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl Probe {
    /// Writes what `lease-set` asks for into the lease (lease4_select,
    /// lease4_renew).
    fn write_lease<'a>(&self, cx: &impl LeaseWrites<'a>) -> Result<(), Error> {
        let Some(set) = &self.lease_set else { return Ok(()) };
        if let Some(v) = set.valid_lifetime {
            cx.set_valid_lifetime(v)?;
        }
        if let Some(h) = &set.hostname {
            cx.set_hostname(h)?;
        }
        if let Some((f, r)) = set.fqdn {
            cx.set_fqdn_flags(f, r)?;
        }
        Ok(())
    }

    /// Parks the packet if the parameters ask for it at this point.
    fn maybe_park<P: Parkable>(&self, cx: &Context<'_, P>, wrap: impl FnOnce(Parked<P>) -> ParkJob) -> Result<(), Error> {
        let Some(spec) = self.park.as_ref().filter(|s| s.point == cx.hook_point()) else { return Ok(()) };
        if cx.resumed()? {
            // A packet this hook parked here before is not parked again.
            return Ok(());
        }
        let parked = match cx.park() {
            Ok(p) => p,
            Err(e) => {
                self.park_counts.refused.fetch_add(1, Ordering::SeqCst);
                return Err(e);
            }
        };
        self.park_counts.parked.fetch_add(1, Ordering::SeqCst);
        let job = wrap(parked);
        match &self.park_queue {
            _ if spec.inline => self.park_counts.settle(spec, job),
            Some(queue) => {
                if let Err(job) = queue.push(job) {
                    self.park_counts.resumed.fetch_add(1, Ordering::SeqCst);
                    job.resume(spec.address_in_use);
                }
            }
            None => unreachable!("a queue exists unless inline"),
        }
        if spec.callout_ms > 0 {
            // A slow callout (on a packet thread, with multi-threading on):
            // the token is used meanwhile.
            std::thread::sleep(Duration::from_millis(spec.callout_ms));
        }
        Ok(())
    }

    /// Sets `Continue`, `Skip` or `Drop` if the parameters ask for it at this point.
    fn maybe_continue<P: kea_hooks::HookPoint>(&self, cx: &Context<'_, P>) -> Result<(), Error> {
        if self.continue_at.iter().any(|p| p == cx.hook_point()) {
            cx.set_next_step(NextStep::Continue)?;
        }
        if self.skip_at.iter().any(|p| p == cx.hook_point()) {
            cx.set_next_step(NextStep::Skip)?;
        }
        if self.drop_at.iter().any(|p| p == cx.hook_point()) {
            cx.set_next_step(NextStep::Drop)?;
        }
        Ok(())
    }
}

/// Bytes as lowercase colon-separated hex, as Kea's lease file writes ids.
fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn lease(l: &Lease4<'_>) -> Value {
    json!({
        "address": l.address().to_string(),
        "hwaddr": l.hwaddr().map(|h| h.to_string()),
        "client_id": l.client_id().map(colon_hex),
        "valid_lifetime": l.valid_lifetime(),
        "cltt": l.cltt(),
        "subnet_id": l.subnet_id(),
        "hostname": l.hostname(),
        "state": l.state().name(),
    })
}

impl Hook for Probe {
    const NAME: &'static str = "probe";
    type Params = Params;

    fn load(p: Params, cx: &LoadContext) -> Result<Self, Error> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p.out)
            .map_err(|e| Error::msg(format!("cannot open {}: {e}", p.out)))?;
        let on_panic = policy("on-panic", p.on_panic.as_deref())?;
        let on_error = policy("on-error", p.on_error.as_deref())?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = if p.background_thread {
            let stop = stop.clone();
            // The thread writes its own records, so the test can see that
            // its last one comes before this generation's unload record.
            let mut out = out
                .try_clone()
                .map_err(|e| Error::msg(format!("cannot share {}: {e}", p.out)))?;
            let generation = p.generation;
            let thread = std::thread::Builder::new()
                .name("probe-bg".into())
                .spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Acquire) {
                        n += 1;
                        tracing::trace!(n, "background tick");
                        if n == 1 {
                            let _ = out.write_all(
                                format!(
                                    "{}\n",
                                    json!({"point": "bg_start", "generation": generation})
                                )
                                .as_bytes(),
                            );
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let _ = out.write_all(
                        format!(
                            "{}\n",
                            json!({"point": "bg_exit", "generation": generation, "ticks": n})
                        )
                        .as_bytes(),
                    );
                });
            Some(
                thread
                    .map_err(|e| Error::msg(format!("cannot start the background thread: {e}")))?,
            )
        } else {
            None
        };
        let panicker = p.thread_panic.then(|| {
            std::thread::Builder::new()
                .name("probe-panicker".into())
                .spawn(|| panic!("probe thread panics"))
                .expect("spawn")
        });
        if p.leak_worker {
            let worker = Worker::spawn("probe-leaked", |stop| while stop.sleep(Duration::from_millis(10)) {})?;
            std::mem::forget(worker);
        }
        let query_counts = Arc::new(QueryCounts::default());
        let query_worker = if p.query_loop {
            let counts = Arc::clone(&query_counts);
            Some(Worker::spawn("probe-queries", move |stop| {
                while !stop.is_stopped() {
                    let got = kea_hooks::kea::LeaseDb::for_this_thread()
                        .and_then(|db| db.page4(std::net::Ipv4Addr::UNSPECIFIED, 10));
                    let counter = match got {
                        Ok(_) => &counts.ok,
                        Err(e) if e.kind() == ErrorKind::WrongThread => &counts.refused,
                        Err(_) => &counts.failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    // Often, but leaving the CPU to Kea and other tests.
                    stop.sleep(Duration::from_micros(200));
                }
            })?)
        } else {
            None
        };
        let park_counts = Arc::new(ParkCounts::default());
        let (park_queue, park_worker) = match &p.park {
            Some(spec) if !spec.inline => {
                let (counts, spec) = (Arc::clone(&park_counts), spec.clone());
                let (queue, worker) = JobQueue::with_worker("probe-park", spec.queue, move |job: ParkJob, stop| {
                    if spec.delay_us > 0 && !stop.sleep(Duration::from_micros(spec.delay_us)) {
                        // Unloading: the token goes unused (its packet is
                        // dropped), as those still queued do.
                        return;
                    }
                    counts.settle(&spec, job);
                })?;
                (Some(queue), Some(worker))
            }
            _ => (None, None),
        };
        let probe = Probe {
            panicker,
            out: Mutex::new(out),
            generation: p.generation,
            panic_hwaddr: p.panic_hwaddr.map(|s| s.to_lowercase()),
            error_hwaddr: p.error_hwaddr.map(|s| s.to_lowercase()),
            on_panic,
            on_error,
            continue_at: p.continue_at,
            skip_at: p.skip_at,
            drop_at: p.drop_at,
            pkt4_send_skip: p.pkt4_send_skip,
            no_callouts_ok: p.no_callouts_ok,
            missing_argument: p.missing_argument,
            stop,
            thread,
            calls: AtomicU64::new(0),
            add_class: p.add_class,
            pkt4_send_set: p
                .pkt4_send_set
                .iter()
                .map(|o| Ok((o.code, o.data()?)))
                .collect::<Result<_, Error>>()?,
            pkt4_send_remove: p.pkt4_send_remove,
            pkt4_send_siaddr: p.pkt4_send_siaddr,
            pkt4_send_sname: p.pkt4_send_sname,
            pkt4_send_file: p.pkt4_send_file,
            lease_set: p.lease_set,
            select_subnet: p.select_subnet,
            context: p.context,
            context_drop_every: p.context_drop_every,
            context_set: AtomicU64::new(0),
            context_seen: AtomicU64::new(0),
            context_mismatch: AtomicU64::new(0),
            context_dropped: AtomicU64::new(0),
            flex_id_from_remote_id: p.flex_id_from_remote_id,
            command_text_suffix: p.command_text_suffix,
            reject_config: p.reject_config,
            wire_sname: p.wire_sname,
            ddns_hostname: p.ddns_hostname,
            commands: p.commands,
            quiet: p.quiet,
            park: p.park.clone(),
            park_counts,
            park_queue,
            park_worker,
            lease_threads: Mutex::new(Vec::new()),
            query_counts,
            query_worker,
        };
        // The configuration being applied, as load sees it.
        let subnets = match cx.kea().subnets4() {
            Ok(s) => json!(s.iter().map(subnet_json).collect::<Vec<_>>()),
            Err(e) => json!(e.to_string()),
        };
        probe.record(json!({
            "point": "load", "server": format!("{:?}", cx.server()), "logger": cx.logger_name(),
            "version": cx.kea_hooks_version(), "build_id": build_id(), "echo": p.echo,
            "subnets4": subnets,
        }));
        tracing::info!(generation = probe.generation, build_id = %build_id(), "probe loaded");
        if let Some(text) = &p.log_text {
            tracing::info!(text = %text, "{text}");
        }
        Ok(probe)
    }

    fn on_panic(&self) -> OnFailure {
        self.on_panic
    }

    fn on_error(&self) -> OnFailure {
        self.on_error
    }

    fn callouts_required(&self) -> bool {
        !self.no_callouts_ok
    }

    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        if !self.commands {
            return Ok(());
        }
        commands.add("probe-echo", Self::echo)?;
        commands.add("probe-fail", |_: &Self, _: &CommandContext<'_>, _: Value| -> Result<Answer, Error> {
            Err(Error::msg("probe says no").context("probe-fail"))
        })?;
        commands.add("probe-panic", |_: &Self, _: &CommandContext<'_>, _: Option<Value>| -> Result<Answer, Error> {
            panic!("probe-panic was asked to panic")
        })?;
        commands.add("probe-stats", Self::stats)?;
        commands.add("probe-parked", Self::parked)?;
        commands.add("probe-leases", Self::leases)?;
        // Keeps Kea's main thread busy (a stand-in for a long command or a
        // slow reconfiguration): `{"ms": N}`, at most 30 s.
        commands.add("probe-sleep", |_: &Self, _: &CommandContext<'_>, args: SleepArgs| -> Result<Answer, Error> {
            std::thread::sleep(Duration::from_millis(args.ms.min(30_000)));
            Ok(Answer::success(format!("slept {} ms", args.ms)))
        })?;
        commands.add("probe-subnets", |_: &Self, cx: &CommandContext<'_>, _: Option<Value>| -> Result<Answer, Error> {
            let subnets = cx.kea().subnets4()?;
            Answer::success("subnets").with_arguments(subnets.iter().map(subnet_json).collect::<Vec<_>>())
        })?;
        Ok(())
    }
}

fn stat_json(v: Option<stats::StatValue>) -> Value {
    match v {
        None => Value::Null,
        Some(stats::StatValue::Integer(i)) => json!({ "integer": i }),
        Some(stats::StatValue::BigInteger(i)) => json!({ "big-integer": i.to_string() }),
        Some(stats::StatValue::Float(f)) => json!({ "float": f }),
        Some(stats::StatValue::Duration(d)) => json!({ "duration-us": d.as_micros() as u64 }),
        Some(stats::StatValue::String(t)) => json!({ "string": t }),
        Some(other) => json!({ "other": format!("{other:?}") }),
    }
}

impl Probe {
    fn echo(&self, cx: &CommandContext<'_>, args: Option<EchoArgs>) -> Result<Answer, Error> {
        let Some(args) = args else {
            return Ok(Answer::empty("nothing to echo"));
        };
        Answer::success(format!("{} echoes", cx.name()))
            .with_arguments(json!({ "echo": args.text.repeat(args.times as usize) }))
    }

    fn leases(&self, cx: &CommandContext<'_>, query: LeaseQuery) -> Result<Answer, Error> {
        let kea = cx.kea();
        let db = kea.lease_db();
        let list = |l: Vec<kea_hooks::dhcp4::StoredLease4>| json!(l.iter().map(stored_json).collect::<Vec<_>>());
        let value = match query {
            LeaseQuery::Address { address } => json!(db.lease4(address)?.as_ref().map(stored_json)),
            LeaseQuery::Hwaddr { hwaddr } => {
                let bytes = unhex(&hwaddr)?;
                list(db.leases4_by_hwaddr(kea_hooks::hwaddr::HwAddr::new(1, &bytes))?)
            }
            LeaseQuery::ClientId { client_id } => list(db.leases4_by_client_id(&unhex(&client_id)?)?),
            LeaseQuery::Subnet { subnet_id } => list(db.leases4_by_subnet(subnet_id)?),
            LeaseQuery::Pages { size } => all_pages(&db, size)?,
            LeaseQuery::Counts { first, last } => {
                let range = first.zip(last).map(|(a, b)| a..=b);
                json!(db.lease_counts4(range)?.iter().map(count_json).collect::<Vec<_>>())
            }
            LeaseQuery::Thread { size } => {
                // Not joined here: the thread waits for the main thread,
                // which runs this handler. It records its findings (a
                // `lease_thread` record) and is joined at unload.
                let out = self.out.lock().unwrap().try_clone().map_err(|e| Error::msg(format!("out: {e}")))?;
                let generation = self.generation;
                let handle = std::thread::Builder::new()
                    .name("probe-leases".into())
                    .spawn(move || {
                        let err = |e: Error| json!(format!("{:?}: {e}", e.kind()));
                        let (leases, counts) = match kea_hooks::kea::LeaseDb::for_this_thread() {
                            Ok(db) => (
                                all_pages(&db, size).unwrap_or_else(err),
                                db.lease_counts4(None).map(|c| json!(c.iter().map(count_json).collect::<Vec<_>>())).unwrap_or_else(err),
                            ),
                            Err(e) => (json!(format!("{:?}: {e}", e.kind())), err(e)),
                        };
                        let subnets = match kea_hooks::threads::main_thread::call_with_kea(|kea| {
                            kea.subnets4().map(|s| s.iter().map(subnet_json).collect::<Vec<_>>())
                        }) {
                            Ok(Ok(s)) => json!(s),
                            Ok(Err(e)) | Err(e) => json!(format!("{:?}: {e}", e.kind())),
                        };
                        let rec = json!({ "point": "lease_thread", "generation": generation, "leases": leases, "counts": counts, "subnets": subnets });
                        let mut out = out;
                        let _ = out.write_all(format!("{rec}\n").as_bytes());
                    })
                    .map_err(|e| Error::msg(format!("spawn: {e}")))?;
                self.lease_threads.lock().unwrap().push(handle);
                json!("started")
            }
        };
        Answer::success("leases").with_arguments(value)
    }

    fn parked(&self, _cx: &CommandContext<'_>, action: ParkedAction) -> Result<Answer, Error> {
        let c = &self.park_counts;
        let held = match action {
            ParkedAction::Count => Vec::new(),
            _ => std::mem::take(&mut *c.held.lock().unwrap()),
        };
        let n = held.len() as u64;
        let address_in_use = self.park.as_ref().is_some_and(|s| s.address_in_use);
        for job in held {
            match action {
                ParkedAction::Resume => job.resume(address_in_use),
                ParkedAction::Drop => job.drop_packet(),
                _ => drop(job),
            }
        }
        match action {
            ParkedAction::Resume => c.resumed.fetch_add(n, Ordering::SeqCst),
            ParkedAction::Drop => c.dropped.fetch_add(n, Ordering::SeqCst),
            ParkedAction::Forget => c.forgotten.fetch_add(n, Ordering::SeqCst),
            ParkedAction::Count => 0,
        };
        Answer::success("parked").with_arguments(c.json())
    }

    fn stats(&self, _cx: &CommandContext<'_>, op: StatsOp) -> Result<Answer, Error> {
        let value = match op {
            StatsOp::SetInteger { name, value } => { stats::set_integer(&name, value)?; stat_json(stats::get(&name)?) }
            StatsOp::AddInteger { name, value } => { stats::add_integer(&name, value)?; stat_json(stats::get(&name)?) }
            StatsOp::SetFloat { name, value } => { stats::set_float(&name, value)?; stat_json(stats::get(&name)?) }
            StatsOp::SetString { name, value } => { stats::set_string(&name, &value)?; stat_json(stats::get(&name)?) }
            StatsOp::Remove { name } => json!({ "removed": stats::remove(&name)? }),
            StatsOp::Reset { name } => json!({ "reset": stats::reset(&name)? }),
            StatsOp::Get { name } => stat_json(stats::get(&name)?),
            StatsOp::FromThread { name } => {
                let outcome = std::thread::Builder::new()
                    .name("probe-stats".into())
                    .spawn(move || stats::add_integer(&name, 1).map_err(|e| format!("{:?}: {e}", e.kind())))
                    .map_err(|e| Error::msg(format!("spawn: {e}")))?
                    .join()
                    .map_err(|_| Error::msg("the stats thread panicked"))?;
                match outcome {
                    Ok(()) => json!({ "thread": "ok" }),
                    Err(e) => json!({ "thread": e }),
                }
            }
        };
        Answer::success("done").with_arguments(json!({ "value": value }))
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(t) = self.panicker.take() {
            let _ = t.join();
        }
        // Stop the parking worker first: the tokens it still has drop
        // their packets, and the counts are final.
        drop(self.park_worker.take());
        drop(self.query_worker.take());
        for t in std::mem::take(&mut *self.lease_threads.lock().unwrap()) {
            let _ = t.join();
        }
        self.record(json!({
            "point": "unload",
            "park": self.park_counts.json(),
            "calls": self.calls.load(Ordering::Relaxed),
            "queries": {
                "ok": self.query_counts.ok.load(Ordering::Relaxed),
                "refused": self.query_counts.refused.load(Ordering::Relaxed),
                "failed": self.query_counts.failed.load(Ordering::Relaxed),
            },
            "context": {
                "set": self.context_set.load(Ordering::SeqCst),
                "seen": self.context_seen.load(Ordering::SeqCst),
                "mismatch": self.context_mismatch.load(Ordering::SeqCst),
                "dropped": self.context_dropped.load(Ordering::SeqCst),
                "live": TOKENS_LIVE.load(Ordering::SeqCst),
            },
        }));
    }
}

impl Callout<dhcp4::Pkt4Receive> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
        let q = cx.query()?;
        let hw = q.hwaddr().to_string();
        tracing::debug!(hwaddr = %hw, xid = q.xid(), "pkt4_receive");
        let mut rec = json!({"point": cx.hook_point(), "query": pkt(&q)?});
        if self.missing_argument {
            match cx.argument_pkt4("no-such-argument") {
                Ok(_) => rec["missing_argument"] = json!({"ok": true}),
                Err(e) => {
                    rec["missing_argument"] =
                        json!({"kind": format!("{:?}", e.kind()), "message": e.to_string()})
                }
            }
        }
        if let Some(class) = &self.add_class {
            q.add_class(class)?;
        }
        if self.context {
            if cx.set_packet_value(Token::new(q.xid()))?.is_some() {
                self.context_mismatch.fetch_add(1, Ordering::SeqCst);
            }
            self.context_set.fetch_add(1, Ordering::SeqCst);
        }
        if !self.context {
            self.record(rec);
        }
        if self.panic_hwaddr.as_deref() == Some(hw.as_str()) {
            panic!("probe panics for {hw}");
        }
        if self.error_hwaddr.as_deref() == Some(hw.as_str()) {
            return Err(ProbeError {
                hwaddr: hw,
                cause: std::io::Error::other("the cause below"),
            }
            .into());
        }
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Subnet4Select> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Subnet4Select>) -> Result<(), Error> {
        if self.context {
            let xid = cx.query()?.xid();
            if self.context_drop_every.is_some_and(|n| xid % n == 0) {
                self.context_dropped.fetch_add(1, Ordering::SeqCst);
                cx.set_next_step(NextStep::Drop)?;
            }
            return Ok(());
        }
        let s = cx.subnet()?;
        let mut rec = json!({
            "point": cx.hook_point(),
            "query": pkt(&cx.query()?)?,
            "subnet": s.map(|s| json!({"id": s.id(), "prefix": s.prefix().to_string(), "prefix_len": s.prefix_len(), "text": s.to_string()})),
        });
        if let Some(sel) = &self.select_subnet {
            rec["subnet_ids"] = match cx.subnet_ids() { Ok(ids) => json!(ids), Err(e) => json!(e.to_string()) };
            let id = sel.as_u64().map(|i| i as u32);
            rec["select"] = match cx.select_subnet(id) {
                Ok(()) => json!("ok"),
                Err(e) => json!(format!("{:?}: {e}", e.kind())),
            };
        }
        self.record(rec);
        kea_hooks::since_kea_2_6!({{
            let subnet = self.park.as_ref().and_then(|s| s.resume_subnet);
            self.maybe_park(cx, move |p| Box::new(SelectJob(p, subnet)) as ParkJob)
        }} else {
            Ok(())
        })
    }
}

impl Callout<dhcp4::Lease4Select> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Select>) -> Result<(), Error> {
        let s = cx.subnet()?;
        self.record(json!({
            "point": cx.hook_point(),
            "query": pkt(&cx.query()?)?,
            "lease": lease(&cx.lease()?),
            "subnet": {"id": s.id(), "text": s.to_string()},
            "fake_allocation": cx.fake_allocation()?,
        }));
        self.write_lease(cx)
    }
}

impl Callout<dhcp4::Leases4Committed> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        self.record(json!({
            "point": cx.hook_point(),
            "query": pkt(&cx.query()?)?,
            "leases": cx.leases()?.iter().map(|l| lease(&l)).collect::<Vec<_>>(),
            "deleted_leases": cx.deleted_leases()?.iter().map(|l| lease(&l)).collect::<Vec<_>>(),
            "leases_view": leases(&cx.leases()?),
            "next_step_before": format!("{:?}", cx.next_step()),
            "arguments": cx.argument_names()?,
            // response4 exists here from Kea 3.0 on.
            "response": kea_hooks::since_kea_3_0!({
                match cx.response()? { Some(r) => pkt(&r)?, None => Value::Null }
            } else {
                Value::Null
            }),
        }));
        self.maybe_park(cx, park_job)?;
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Pkt4Send> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
        if self.context {
            let xid = cx.query()?.xid();
            match cx.take_packet_value::<Token>()? {
                Some(t) if t.xid == xid => self.context_seen.fetch_add(1, Ordering::SeqCst),
                _ => self.context_mismatch.fetch_add(1, Ordering::SeqCst),
            };
            return Ok(());
        }
        let r = cx.response()?;
        for (code, data) in &self.pkt4_send_set {
            r.set_option(*code, data)?;
        }
        for code in &self.pkt4_send_remove {
            r.remove_option(*code)?;
        }
        if let Some(a) = self.pkt4_send_siaddr {
            r.set_siaddr(a);
        }
        if let Some(v) = &self.pkt4_send_sname {
            r.set_sname(v)?;
        }
        if let Some(v) = &self.pkt4_send_file {
            r.set_file(v)?;
        }
        let skip = if self.pkt4_send_skip {
            Some(match cx.set_next_step(NextStep::Skip) {
                Ok(()) => "accepted".to_owned(),
                Err(e) => e.to_string(),
            })
        } else {
            None
        };
        self.record(json!({
            "point": cx.hook_point(),
            "response": pkt(&cx.response()?)?,
            "query": pkt(&cx.query()?)?,
            "next_step": format!("{:?}", cx.next_step()),
            "skip": skip,
            "sname": String::from_utf8_lossy(&cx.response()?.sname()?),
            "file": String::from_utf8_lossy(&cx.response()?.file()?),
            // subnet4 exists here from Kea 2.6 on.
            "subnet": kea_hooks::since_kea_2_6!({
                cx.subnet()?.map(|s| json!({ "id": s.id(), "prefix": format!("{}/{}", s.prefix(), s.prefix_len()) }))
            } else {
                None::<Value>
            }),
        }));
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Renew> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Renew>) -> Result<(), Error> {
        let s = cx.subnet()?;
        self.record(json!({
            "point": cx.hook_point(),
            "query": pkt(&cx.query()?)?,
            "lease": lease(&cx.lease()?),
            "subnet": {"id": s.id(), "text": s.to_string()},
            "client_id": cx.client_id()?.map(colon_hex),
            "hwaddr": cx.hwaddr()?.map(|h| h.to_string()),
        }));
        self.write_lease(cx)?;
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Lease4Release> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Release>) -> Result<(), Error> {
        self.record(json!({"point": cx.hook_point(), "query": pkt(&cx.query()?)?, "lease": lease(&cx.lease()?)}));
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Lease4Decline> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Decline>) -> Result<(), Error> {
        self.record(json!({"point": cx.hook_point(), "query": pkt(&cx.query()?)?, "lease": lease(&cx.lease()?)}));
        self.maybe_continue(cx)
    }
}

kea_hooks::since_kea_2_6! {
    impl Callout<dhcp4::Lease4Offer> for Probe {
        fn call(&self, cx: &Context<'_, dhcp4::Lease4Offer>) -> Result<(), Error> {
            self.record(json!({
                "point": cx.hook_point(),
                "query": pkt(&cx.query()?)?,
                "leases": cx.leases()?.iter().map(|l| lease(&l)).collect::<Vec<_>>(),
                "offer_lifetime": cx.offer_lifetime()?,
                "old_lease": cx.old_lease()?.map(|l| lease(&l)),
                "response": kea_hooks::since_kea_3_0!({ pkt(&cx.response()?)? } else { Value::Null }),
                "arguments": cx.argument_names()?,
            }));
            self.maybe_park(cx, offer_job)
        }
    }
}

impl Callout<dhcp4::Buffer4Receive> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Buffer4Receive>) -> Result<(), Error> {
        if self.context {
            return Ok(());
        }
        let b = cx.buffer()?;
        let q = cx.query()?;
        self.record(json!({
            "point": cx.hook_point(), "len": b.len(), "op": b.first(), "xid": b.get(4..8).map(colon_hex),
            "remote_addr": q.remote_addr().to_string(), "iface": q.iface()?,
        }));
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Buffer4Send> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Buffer4Send>) -> Result<(), Error> {
        if self.context {
            return Ok(());
        }
        let mut b = cx.buffer()?;
        self.record(json!({"point": cx.hook_point(), "len": b.len(), "op": b.first(), "xid": cx.response()?.xid()}));
        if let Some(name) = &self.wire_sname {
            // sname is bytes 44..108 of the fixed header.
            if b.len() >= 108 && name.len() < 64 {
                b[44..108].fill(0);
                b[44..44 + name.len()].copy_from_slice(name.as_bytes());
                cx.set_buffer(&b)?;
            }
        }
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Lease4Expire> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Expire>) -> Result<(), Error> {
        self.record(json!({"point": cx.hook_point(), "lease": lease(&cx.lease()?), "remove_lease": cx.remove_lease()?}));
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Lease4Recover> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Recover>) -> Result<(), Error> {
        self.record(json!({"point": cx.hook_point(), "lease": lease(&cx.lease()?)}));
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Host4Identifier> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Host4Identifier>) -> Result<(), Error> {
        let q = cx.query()?;
        let (kind, value) = cx.identifier()?;
        self.record(json!({"point": cx.hook_point(), "query": pkt(&q)?, "id_type": kind.name(), "id_value": colon_hex(&value)}));
        if self.flex_id_from_remote_id {
            if let Some(remote_id) = q
                .option(82)?
                .as_ref()
                .map(|o| o.sub_options())
                .transpose()?
                .and_then(|s| s.get(2))
            {
                cx.set_identifier(dhcp4::HostIdentifierType::Flex, remote_id)?;
            }
        }
        self.maybe_continue(cx)
    }
}

impl Callout<dhcp4::Ddns4Update> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Ddns4Update>) -> Result<(), Error> {
        let (fwd, rev) = cx.dns_updates()?;
        self.record(json!({
            "point": cx.hook_point(), "query": pkt(&cx.query()?)?, "hostname": cx.hostname()?,
            "fwd": fwd, "rev": rev, "subnet": cx.subnet()?.map(|s| s.id()),
            "response_type": cx.response()?.message_type()?.name(),
        }));
        if let Some(h) = &self.ddns_hostname {
            cx.set_hostname(h)?;
            cx.set_dns_updates(false, false)?;
        }
        Ok(())
    }
}

impl Callout<dhcp4::Dhcp4SrvConfigured> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Dhcp4SrvConfigured>) -> Result<(), Error> {
        let config = cx.json_config()?;
        let kea = cx.kea();
        // What the running configuration and the lease database say now.
        let subnets = kea.subnets4()?;
        let leases = match subnets.iter().map(|s| kea.lease_db().leases4_by_subnet(s.id).map(|l| l.len())).sum::<Result<usize, _>>() {
            Ok(n) => json!(n),
            Err(e) => json!(e.to_string()),
        };
        self.record(json!({
            "point": cx.hook_point(),
            "subnets": config["subnet4"].as_array().map(|a| a.len()),
            "keys": config.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            "subnets4": subnets.iter().map(subnet_json).collect::<Vec<_>>(),
            "leases": leases,
        }));
        if let Some(reason) = &self.reject_config {
            cx.reject(reason)?;
        }
        Ok(())
    }
}

/// The typed audit entries of a `cb4_updated`, as the test reads them.
fn audit_json(entries: &[dhcp4::AuditEntry]) -> Value {
    entries
        .iter()
        .map(|e| {
            let time = e.modification_time.duration_since(std::time::UNIX_EPOCH).map_or(-1, |d| d.as_secs() as i64);
            json!({
                "object_type": e.object_type, "object_id": e.object_id, "modification": e.modification.name(),
                "modification_time": time, "revision_id": e.revision_id, "log_message": e.log_message,
            })
        })
        .collect()
}

impl Callout<dhcp4::Cb4Updated> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Cb4Updated>) -> Result<(), Error> {
        let main_thread = kea_hooks::threads::main_thread::is_current();
        // An entry the SDK cannot read is recorded, for the test to show.
        match cx.audit_entries() {
            Ok(entries) => self.record(json!({"point": cx.hook_point(), "entries": entries.len(), "audit": audit_json(&entries), "main_thread": main_thread})),
            Err(e) => self.record(json!({"point": cx.hook_point(), "audit_error": e.to_string(), "main_thread": main_thread})),
        }
        Ok(())
    }
}

impl Callout<dhcp4::CommandProcessed> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::CommandProcessed>) -> Result<(), Error> {
        let name = cx.name()?;
        let mut response = cx.response()?;
        // The SDK's reading of HA's commands: who sent it, and this
        // server's own HA state if the answer shows it.
        let origin = format!("{:?}", cx.origin()?);
        let own_ha_state = cx.own_ha_state()?.map(|s| s.name());
        self.record(json!({"point": cx.hook_point(), "name": name, "arguments": cx.arguments()?, "response": response,
                           "origin": origin, "own-ha-state": own_ha_state}));
        if let (Some(suffix), "version-get") = (&self.command_text_suffix, name.as_str()) {
            let text = format!("{}{suffix}", response["text"].as_str().unwrap_or_default());
            response["text"] = json!(text);
            cx.set_response(&response)?;
        }
        Ok(())
    }
}

kea_hooks::since_kea_2_6! {
    impl Callout<dhcp4::Lease4ServerDecline> for Probe {
        fn call(&self, cx: &Context<'_, dhcp4::Lease4ServerDecline>) -> Result<(), Error> {
            self.record(json!({"point": cx.hook_point(), "query": pkt(&cx.query()?)?, "lease": lease(&cx.lease()?)}));
            Ok(())
        }
    }
}

kea_hooks::kea_hook!(Probe);
