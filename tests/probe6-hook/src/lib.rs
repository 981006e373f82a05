//! `libdhcp_probe6.so`: the DHCPv6 probe for the SDK's own integration
//! tests (the DHCPv4 one is `libdhcp_probe.so`).
//!
//! It implements a callout for every kea-dhcp6 hook point, records what
//! each sees as JSON lines in the file named by `out` (so tests compare
//! the hook's view with what the test client put on the wire and with
//! Kea's lease file), writes what it is told to (lifetimes, options,
//! classes, the subnet, next steps), parks REPLYs at `leases6_committed`
//! until the `probe6-resume` command, and misbehaves on demand (panics,
//! errors). It has no DHCPv4 callout, so kea-dhcp4 refuses it.
#![deny(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use kea_hooks::dhcp6::{self, Ia, Lease6, Leases6, Pkt6, Subnet6};
use kea_hooks::parking::Parked;
use kea_hooks::prelude::*;
use kea_hooks::stats;
use kea_hooks::threads::{JobQueue, StopToken, Worker};
use kea_hooks::HookPoint;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Params {
    /// File to append JSON lines to.
    out: String,
    /// Set these next steps in these callouts (hook point names).
    #[serde(default)]
    skip_at: Vec<String>,
    #[serde(default)]
    drop_at: Vec<String>,
    /// Panic, or return an error, in these callouts.
    #[serde(default)]
    panic_at: Vec<String>,
    #[serde(default)]
    error_at: Vec<String>,
    /// `drop` (default) or `continue`, for a panic and for an error.
    #[serde(default)]
    on_panic: Option<String>,
    #[serde(default)]
    on_error: Option<String>,
    /// At lease6_select, lease6_renew and lease6_rebind: [preferred, valid].
    #[serde(default)]
    lifetimes: Option<(u32, u32)>,
    /// At lease6_select, lease6_renew and lease6_rebind: the host name.
    #[serde(default)]
    hostname: Option<String>,
    /// At pkt6_send, set these options on the response.
    #[serde(default)]
    send_options: Vec<OptSpec>,
    /// At buffer6_receive and buffer6_send, append this option to the raw
    /// message (before Kea parses the query; after Kea packed the reply).
    #[serde(default)]
    wire_receive_option: Option<OptSpec>,
    #[serde(default)]
    wire_send_option: Option<OptSpec>,
    /// At pkt6_receive, put the query in this class.
    #[serde(default)]
    add_class: Option<String>,
    /// At subnet6_select, select this subnet id (0: none).
    #[serde(default)]
    select_subnet: Option<u32>,
    /// Park every query at leases6_committed until probe6-resume.
    #[serde(default)]
    park_committed: bool,
    /// Park every query at subnet6_select (Kea 2.6+) until probe6-resume,
    /// which resumes it in this subnet (0: the one selected).
    #[serde(default)]
    park_select: Option<u32>,
    /// At ddns6_update, set this host name.
    #[serde(default)]
    ddns_hostname: Option<String>,
    /// At host6_identifier, use the relay's remote-id as the flex-id.
    #[serde(default)]
    flex_id_from_remote_id: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptSpec {
    code: u16,
    /// The payload, as lowercase hex without separators.
    hex: String,
}

fn unhex(s: &str) -> Result<Vec<u8>, Error> {
    if s.len() % 2 != 0 {
        return Err(Error::msg(format!("odd hex length: {s}")));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| Error::msg(format!("{s}: {e}"))))
        .collect()
}

/// `message` with option `o` appended (a DHCPv6 message's options run to
/// its end).
fn with_option(mut message: Vec<u8>, o: &OptSpec) -> Result<Vec<u8>, Error> {
    message.extend(dhcp6::option::encode_options6(&[(o.code, unhex(&o.hex)?)])?);
    Ok(message)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Probe6 {
    out: Mutex<File>,
    params: Params,
    send_options: Vec<(u16, Vec<u8>)>,
    calls: AtomicU64,
    parked: Mutex<Vec<Box<dyn Resumable>>>,
    /// probe6-resume hands the parked queries to this worker thread, which
    /// resumes them (through the SDK's main-thread queue).
    resumer: JobQueue<(Box<dyn Resumable>, Option<u32>)>,
    _worker: Worker,
}

/// A parked query of either parking point.
trait Resumable: Send {
    fn resume_now(self: Box<Self>, subnet: Option<u32>);
}

impl Resumable for Parked<dhcp6::Leases6Committed> {
    fn resume_now(self: Box<Self>, _: Option<u32>) {
        self.resume()
    }
}

kea_hooks::since_kea_2_6! {
    impl Resumable for Parked<dhcp6::Subnet6Select> {
        fn resume_now(self: Box<Self>, subnet: Option<u32>) {
            match subnet {
                Some(id) if id != 0 => self.resume_in_subnet(Some(id)),
                _ => self.resume(),
            }
        }
    }
}

/// The packet's xid, stored at pkt6_receive and read back at pkt6_send.
#[derive(Clone)]
struct SeenAt(u32);

impl Probe6 {
    fn record(&self, v: Value) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let _ = stats::add_integer("probe6.callouts", 1);
        let line = format!("{v}\n");
        if let Ok(mut f) = self.out.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// Next steps and misbehaviour asked for at point `P`; a panic or an
    /// error here is the callout's.
    fn steer<P: HookPoint>(&self, cx: &Context<'_, P>) -> Result<(), Error> {
        let name = P::NAME.to_owned();
        if self.params.panic_at.contains(&name) {
            panic!("probe6 was asked to panic at {name}");
        }
        if self.params.error_at.contains(&name) {
            return Err(Error::msg(format!("probe6 was asked to fail at {name}")));
        }
        if self.params.skip_at.contains(&name) {
            cx.set_next_step(NextStep::Skip)?;
        }
        if self.params.drop_at.contains(&name) {
            cx.set_next_step(NextStep::Drop)?;
        }
        Ok(())
    }

    fn write_lease<'a>(&self, cx: &impl LeaseWrites6<'a>) -> Result<(), Error> {
        if let Some((preferred, valid)) = self.params.lifetimes {
            cx.set_lifetimes(preferred, valid)?;
        }
        if let Some(name) = &self.params.hostname {
            cx.set_hostname(name)?;
        }
        Ok(())
    }
}

fn ia_json(ia: &Ia) -> Result<Value, Error> {
    Ok(json!({
        "iaid": ia.iaid, "t1": ia.t1, "t2": ia.t2,
        "addresses": ia.addresses()?.iter().map(|a| json!([a.address.to_string(), a.preferred, a.valid])).collect::<Vec<_>>(),
        "prefixes": ia.prefixes()?.iter().map(|p| json!([format!("{}/{}", p.prefix, p.prefix_len), p.preferred, p.valid])).collect::<Vec<_>>(),
        "status": ia.status()?.map(|s| s.code),
    }))
}

fn pkt(p: &Pkt6<'_>) -> Result<Value, Error> {
    let relays = p
        .relays()
        .iter()
        .map(|r| {
            Ok(json!({
                "level": r.level(), "hops": r.hop_count(),
                "link": r.link_addr().to_string(), "peer": r.peer_addr().to_string(),
                "options": r.options()?.iter().map(|(c, d)| json!([c, hex(d.bytes())])).collect::<Vec<_>>(),
            }))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(json!({
        "type": p.message_type().name(),
        "type_code": p.message_type().0,
        "xid": p.xid(),
        "client_id": p.client_id()?.map(|d| hex(&d)),
        "remote_addr": p.remote_addr().to_string(),
        "local_addr": p.local_addr().to_string(),
        "remote_port": p.remote_port(),
        "local_port": p.local_port(),
        "iface": p.iface()?,
        "iface_index": p.iface_index(),
        "remote_hwaddr": p.remote_hwaddr().map(|h| h.to_string()),
        "mac": p.mac()?.map(|(t, b)| json!([t, hex(&b)])),
        "relayed": p.is_relayed(),
        "relays": relays,
        "interface_id": p.relay_option(dhcp6::code::INTERFACE_ID)?.map(|o| hex(o.bytes())),
        "remote_id": p.relay_option(dhcp6::code::REMOTE_ID)?.map(|o| o.remote_id().map(|(e, id)| json!([e, hex(id)]))).transpose()?,
        "options": p.all_options()?.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        "ia_na": p.ia_nas()?.iter().map(ia_json).collect::<Result<Vec<_>, _>>()?,
        "ia_pd": p.ia_pds()?.iter().map(ia_json).collect::<Result<Vec<_>, _>>()?,
        "oro": p.requested_options()?,
        "classes": p.classes()?,
    }))
}

fn lease(l: &Lease6<'_>) -> Value {
    json!({
        "type": l.lease_type().name(),
        "address": l.address().to_string(),
        "prefix_len": l.prefix_len(),
        "iaid": l.iaid(),
        "duid": hex(l.duid()),
        "preferred": l.preferred_lifetime(),
        "valid": l.valid_lifetime(),
        "cltt": l.cltt(),
        "subnet_id": l.subnet_id(),
        "hostname": l.hostname(),
        "state": l.state().name(),
        "fqdn": [l.fqdn_fwd(), l.fqdn_rev()],
        "hwaddr": l.hwaddr().map(|h| h.to_string()),
    })
}

fn leases(ls: &Leases6<'_>) -> Value {
    Value::Array(ls.iter().map(|l| lease(&l)).collect())
}

fn subnet(s: &Subnet6<'_>) -> Result<Value, Error> {
    Ok(json!({
        "id": s.id(),
        "prefix": s.to_string(),
        "pools": s.pools()?.iter().map(|p| json!({
            "type": p.lease_type.name(), "first": p.first.to_string(), "last": p.last.to_string(),
            "delegated_len": p.delegated_len, "prefix_len": p.prefix_len(), "capacity": p.capacity().to_string(),
        })).collect::<Vec<_>>(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "by", rename_all = "kebab-case", rename_all_fields = "kebab-case")]
enum LeaseQuery {
    Address { address: std::net::Ipv6Addr },
    DuidIaid { duid: String, iaid: u32 },
    Duid { duid: String },
    Subnet { subnet_id: u32 },
    Pages { size: u32 },
}

fn stored(l: &dhcp6::StoredLease6) -> Value {
    json!({
        "type": l.lease_type.name(), "address": l.address.to_string(), "prefix_len": l.prefix_len,
        "iaid": l.iaid, "duid": hex(&l.duid), "preferred": l.preferred_lifetime, "valid": l.valid_lifetime,
        "subnet_id": l.subnet_id, "state": l.state.name(), "hostname": l.hostname, "expires": l.expires(),
    })
}

fn policy(s: &Option<String>) -> OnFailure {
    match s.as_deref() {
        Some("continue") => OnFailure::Continue,
        _ => OnFailure::Drop,
    }
}

impl Probe6 {
    kea_hooks::since_kea_2_6! {
        fn park_select(&self, cx: &Context<'_, dhcp6::Subnet6Select>) -> Result<(), Error> {
            let parked = cx.park()?;
            self.parked.lock().map_err(|_| Error::msg("poisoned"))?.push(Box::new(parked));
            Ok(())
        }
    }
    kea_hooks::since_kea_2_6!({} else {
        fn park_select(&self, _: &Context<'_, dhcp6::Subnet6Select>) -> Result<(), Error> {
            Err(Error::msg("Kea parks at subnet6_select from 2.6 on"))
        }
    });
}

impl Hook for Probe6 {
    const NAME: &'static str = "probe6";
    type Params = Params;

    fn load(params: Params, cx: &LoadContext) -> Result<Self, Error> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&params.out)
            .map_err(|e| Error::msg(format!("out: {}: {e}", params.out)))?;
        let send_options =
            params.send_options.iter().map(|o| Ok((o.code, unhex(&o.hex)?))).collect::<Result<Vec<_>, Error>>()?;
        let (resumer, worker) = JobQueue::with_worker("probe6-resumer", 1024, |(p, subnet): (Box<dyn Resumable>, Option<u32>), _: &StopToken| {
            p.resume_now(subnet)
        })?;
        let probe = Probe6 {
            out: Mutex::new(out),
            params,
            send_options,
            calls: AtomicU64::new(0),
            parked: Mutex::new(Vec::new()),
            resumer,
            _worker: worker,
        };
        probe.record(json!({ "point": "load", "server": format!("{:?}", cx.server()) }));
        Ok(probe)
    }

    fn on_panic(&self) -> OnFailure {
        policy(&self.params.on_panic)
    }

    fn on_error(&self) -> OnFailure {
        policy(&self.params.on_error)
    }

    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        // Resumes every parked REPLY; answers how many.
        commands.add("probe6-resume", |probe: &Self, _: &CommandContext<'_>, _: Option<Value>| -> Result<Answer, Error> {
            let parked = std::mem::take(&mut *probe.parked.lock().map_err(|_| Error::msg("poisoned"))?);
            let n = parked.len();
            for p in parked {
                if probe.resumer.push((p, probe.params.park_select)).is_err() {
                    return Ok(Answer::error("the resumer's queue is full"));
                }
            }
            Answer::success(format!("{n} resumed")).with_arguments(json!({ "resumed": n }))
        })?;
        // The configuration's DHCPv6 subnets, as KeaAccess::subnets6 sees them.
        commands.add("probe6-subnets", |_: &Self, cx: &CommandContext<'_>, _: Option<Value>| -> Result<Answer, Error> {
            let subnets = cx.kea().subnets6()?;
            Answer::success("subnets").with_arguments(
                subnets
                    .iter()
                    .map(|s| {
                        json!({
                            "id": s.id, "prefix": format!("{}/{}", s.prefix, s.prefix_len),
                            "total-nas": s.total_nas().to_string(), "total-pds": s.total_pds().to_string(),
                            "pools": s.pools.iter().map(|p| json!([p.first.to_string(), p.last.to_string()])).collect::<Vec<_>>(),
                            "pd-pools": s.pd_pools.iter().map(|p| json!([format!("{}/{}", p.prefix, p.prefix_len), p.delegated_len])).collect::<Vec<_>>(),
                        })
                    })
                    .collect::<Vec<_>>(),
            )
        })?;
        // One query of the lease database: {"by": "address", "address": ..}
        // | {"by": "duid-iaid", "duid": hex, "iaid": n} | {"by": "duid", ..}
        // | {"by": "subnet", "subnet-id": n} | {"by": "pages", "size": n}.
        commands.add("probe6-leases", |_: &Self, cx: &CommandContext<'_>, q: LeaseQuery| -> Result<Answer, Error> {
            let kea = cx.kea();
            let db = kea.lease_db();
            let found = match q {
                LeaseQuery::Address { address } => db.lease6(dhcp6::LeaseType::Na, address)?.into_iter().collect(),
                LeaseQuery::DuidIaid { duid, iaid } => db.leases6_by_duid_iaid(dhcp6::LeaseType::Na, &unhex(&duid)?, iaid)?,
                LeaseQuery::Duid { duid } => db.leases6_by_duid(&unhex(&duid)?)?,
                LeaseQuery::Subnet { subnet_id } => db.leases6_by_subnet(subnet_id)?,
                LeaseQuery::Pages { size } => db.pages6(size).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect(),
            };
            Answer::success("leases").with_arguments(found.iter().map(stored).collect::<Vec<_>>())
        })?;
        commands.add("probe6-calls", |probe: &Self, _: &CommandContext<'_>, _: Option<Value>| -> Result<Answer, Error> {
            Answer::success("calls").with_arguments(json!({ "calls": probe.calls.load(Ordering::Relaxed) }))
        })?;
        Ok(())
    }
}

impl Drop for Probe6 {
    fn drop(&mut self) {
        self.record(json!({ "point": "unload", "calls": self.calls.load(Ordering::Relaxed) }));
    }
}

impl Callout<dhcp6::Buffer6Receive> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Buffer6Receive>) -> Result<(), Error> {
        let buffer = cx.buffer()?;
        let q = cx.query()?;
        self.record(json!({
            "point": "buffer6_receive", "len": buffer.len(), "type_code": buffer.first(),
            "remote_addr": q.remote_addr().to_string(), "remote_port": q.remote_port(), "iface": q.iface()?,
        }));
        if let Some(o) = &self.params.wire_receive_option {
            cx.set_buffer(&with_option(buffer, o)?)?;
        }
        self.steer(cx)
    }
}

impl Callout<dhcp6::Pkt6Receive> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Pkt6Receive>) -> Result<(), Error> {
        let q = cx.query()?;
        if let Some(class) = &self.params.add_class {
            q.add_class(class)?;
        }
        cx.set_packet_value(SeenAt(q.xid()))?;
        self.record(json!({ "point": "pkt6_receive", "query": pkt(&q)? }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Subnet6Select> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Subnet6Select>) -> Result<(), Error> {
        let chosen = cx.subnet()?.map(|s| subnet(&s)).transpose()?;
        self.record(json!({
            "point": "subnet6_select", "query": pkt(&cx.query()?)?, "subnet": chosen, "ids": cx.subnet_ids()?,
        }));
        if let Some(id) = self.params.select_subnet {
            cx.select_subnet((id != 0).then_some(id))?;
        }
        self.steer(cx)?;
        if self.params.park_select.is_some() {
            self.park_select(cx)?;
        }
        Ok(())
    }
}

impl Callout<dhcp6::Host6Identifier> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Host6Identifier>) -> Result<(), Error> {
        let (kind, value) = cx.identifier()?;
        self.record(json!({ "point": "host6_identifier", "kind": kind.name(), "value": hex(&value) }));
        if self.params.flex_id_from_remote_id {
            if let Some(o) = cx.query()?.relay_option(dhcp6::code::REMOTE_ID)? {
                let (_, id) = o.remote_id()?;
                cx.set_identifier(dhcp6::HostIdentifierType::Flex, id)?;
            }
        }
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Select> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Select>) -> Result<(), Error> {
        self.record(json!({
            "point": "lease6_select", "fake": cx.fake_allocation()?, "lease": lease(&cx.lease()?),
            "subnet": subnet(&cx.subnet()?)?, "xid": cx.query()?.xid(),
        }));
        self.write_lease(cx)?;
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Renew> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Renew>) -> Result<(), Error> {
        let ia = cx.ia()?.map(|ia| ia_json(&ia)).transpose()?;
        self.record(json!({ "point": "lease6_renew", "lease": lease(&cx.lease()?), "ia": ia, "xid": cx.query()?.xid() }));
        self.write_lease(cx)?;
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Rebind> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Rebind>) -> Result<(), Error> {
        let ia = cx.ia()?.map(|ia| ia_json(&ia)).transpose()?;
        self.record(json!({ "point": "lease6_rebind", "lease": lease(&cx.lease()?), "ia": ia, "xid": cx.query()?.xid() }));
        self.write_lease(cx)?;
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Release> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Release>) -> Result<(), Error> {
        self.record(json!({ "point": "lease6_release", "lease": lease(&cx.lease()?), "xid": cx.query()?.xid() }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Decline> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Decline>) -> Result<(), Error> {
        self.record(json!({ "point": "lease6_decline", "lease": lease(&cx.lease()?), "xid": cx.query()?.xid() }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Leases6Committed> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Leases6Committed>) -> Result<(), Error> {
        let q = cx.query()?;
        self.record(json!({
            "point": "leases6_committed", "xid": q.xid(), "type": q.message_type().name(),
            "leases": leases(&cx.leases()?), "deleted": leases(&cx.deleted_leases()?),
        }));
        self.steer(cx)?;
        if self.params.park_committed {
            let parked = cx.park()?;
            self.parked.lock().map_err(|_| Error::msg("poisoned"))?.push(Box::new(parked));
        }
        Ok(())
    }
}

impl Callout<dhcp6::Pkt6Send> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Pkt6Send>) -> Result<(), Error> {
        let r = cx.response()?;
        for (code, data) in &self.send_options {
            r.set_option(*code, data)?;
        }
        let seen = cx.take_packet_value::<SeenAt>()?.map(|s| s.0);
        self.record(json!({ "point": "pkt6_send", "response": pkt(&r)?, "query_xid": cx.query()?.xid(), "context_xid": seen }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Buffer6Send> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Buffer6Send>) -> Result<(), Error> {
        let buffer = cx.buffer()?;
        self.record(json!({ "point": "buffer6_send", "len": buffer.len(), "type_code": buffer.first() }));
        if let Some(o) = &self.params.wire_send_option {
            cx.set_buffer(&with_option(buffer, o)?)?;
        }
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Expire> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Expire>) -> Result<(), Error> {
        self.record(json!({ "point": "lease6_expire", "lease": lease(&cx.lease()?), "remove": cx.remove_lease()? }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Lease6Recover> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Recover>) -> Result<(), Error> {
        self.record(json!({ "point": "lease6_recover", "lease": lease(&cx.lease()?) }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Ddns6Update> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Ddns6Update>) -> Result<(), Error> {
        self.record(json!({
            "point": "ddns6_update", "hostname": cx.hostname()?, "updates": cx.dns_updates()?,
            "xid": cx.query()?.xid(), "subnet": cx.subnet()?.map(|s| s.id()),
        }));
        if let Some(name) = &self.params.ddns_hostname {
            cx.set_hostname(name)?;
        }
        self.steer(cx)
    }
}

impl Callout<dhcp6::Dhcp6SrvConfigured> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Dhcp6SrvConfigured>) -> Result<(), Error> {
        let config = cx.json_config()?;
        self.record(json!({ "point": "dhcp6_srv_configured", "subnets": config["subnet6"].as_array().map_or(0, Vec::len) }));
        self.steer(cx)
    }
}

impl Callout<dhcp6::Cb6Updated> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::Cb6Updated>) -> Result<(), Error> {
        let entries = match cx.audit_entries() {
            Ok(entries) => entries,
            Err(e) => {
                // An entry the SDK cannot read is recorded, for the test to show.
                self.record(json!({ "point": "cb6_updated", "audit_error": e.to_string() }));
                return Ok(());
            }
        };
        let audit: Vec<Value> = entries
            .iter()
            .map(|e| {
                let time = e.modification_time.duration_since(std::time::UNIX_EPOCH).map_or(-1, |d| d.as_secs() as i64);
                json!({
                    "object_type": e.object_type, "object_id": e.object_id, "modification": e.modification.name(),
                    "modification_time": time, "revision_id": e.revision_id, "log_message": e.log_message,
                })
            })
            .collect();
        let main_thread = kea_hooks::threads::main_thread::is_current();
        self.record(json!({ "point": "cb6_updated", "entries": entries.len(), "audit": audit, "main_thread": main_thread }));
        Ok(())
    }
}

impl Callout<dhcp6::CommandProcessed> for Probe6 {
    fn call(&self, cx: &Context<'_, dhcp6::CommandProcessed>) -> Result<(), Error> {
        self.record(json!({ "point": "command_processed", "name": cx.name()? }));
        Ok(())
    }
}

kea_hooks::since_kea_3_0! {
    impl Callout<dhcp6::Addr6Register> for Probe6 {
        fn call(&self, cx: &Context<'_, dhcp6::Addr6Register>) -> Result<(), Error> {
            self.record(json!({ "point": "addr6_register", "address": cx.address()?.to_string() }));
            self.steer(cx)
        }
    }
}

kea_hooks::kea_hook!(Probe6);
