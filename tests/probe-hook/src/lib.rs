//! `libdhcp_probe.so`: a hook for the SDK's own integration tests.
//!
//! It records what every callout sees as JSON lines in the file named by
//! `out`, so tests can compare the hook's view with Kea's lease file, and
//! misbehaves on demand: panics, errors, a Kea call that throws, a
//! background thread that must be joined at unload.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use kea_hooks::dhcp4::{self, Lease4, Pkt4};
use kea_hooks::prelude::*;
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
}

struct Probe {
    /// The `thread_panic` thread, joined at unload.
    panicker: Option<JoinHandle<()>>,
    out: Mutex<File>,
    generation: u32,
    panic_hwaddr: Option<String>,
    error_hwaddr: Option<String>,
    on_panic: OnPanic,
    missing_argument: bool,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    calls: AtomicU64,
}

impl Probe {
    fn record(&self, mut v: Value) {
        v["generation"] = json!(self.generation);
        v["thread"] = json!(format!("{:?}", std::thread::current().id()));
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
        "option53": p.option(53)?,
        "option61": p.option(61)?,
        "relayed": p.is_relayed()?,
    }))
}

fn lease(l: &Lease4<'_>) -> Value {
    json!({
        "address": l.address().to_string(),
        "hwaddr": l.hwaddr().map(|h| h.to_string()),
        "client_id": l.client_id().map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")),
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
        let on_panic = match p.on_panic.as_deref() {
            None | Some("drop") => OnPanic::Drop,
            Some("continue") => OnPanic::Continue,
            Some(other) => return Err(Error::msg(format!("bad parameters: at 'on-panic': {other:?} is not drop or continue"))),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let thread = p.background_thread.then(|| {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("probe-bg".into())
                .spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Acquire) {
                        n += 1;
                        tracing::trace!(n, "background tick");
                        std::thread::sleep(Duration::from_millis(5));
                    }
                })
                .expect("spawn")
        });
        let panicker = p.thread_panic.then(|| {
            std::thread::Builder::new()
                .name("probe-panicker".into())
                .spawn(|| panic!("probe thread panics"))
                .expect("spawn")
        });
        let probe = Probe {
            panicker,
            out: Mutex::new(out),
            generation: p.generation,
            panic_hwaddr: p.panic_hwaddr.map(|s| s.to_lowercase()),
            error_hwaddr: p.error_hwaddr.map(|s| s.to_lowercase()),
            on_panic,
            missing_argument: p.missing_argument,
            stop,
            thread,
            calls: AtomicU64::new(0),
        };
        probe.record(json!({"point": "load", "server": format!("{:?}", cx.server()), "logger": cx.logger_name(), "version": cx.kea_hooks_version()}));
        tracing::info!(generation = probe.generation, "probe loaded");
        Ok(probe)
    }

    fn on_panic(&self) -> OnPanic {
        self.on_panic
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
        self.record(json!({"point": "unload", "calls": self.calls.load(Ordering::Relaxed)}));
    }
}

impl Callout<dhcp4::Pkt4Receive> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
        let q = cx.query()?;
        let hw = q.hwaddr().to_string();
        let mut rec = json!({"point": cx.hook_point(), "query": pkt(&q)?});
        if self.missing_argument {
            match cx.argument_pkt4("no-such-argument") {
                Ok(_) => rec["missing_argument"] = json!({"ok": true}),
                Err(e) => rec["missing_argument"] = json!({"kind": format!("{:?}", e.kind()), "message": e.to_string()}),
            }
        }
        self.record(rec);
        if self.panic_hwaddr.as_deref() == Some(hw.as_str()) {
            panic!("probe panics for {hw}");
        }
        if self.error_hwaddr.as_deref() == Some(hw.as_str()) {
            return Err(Error::msg(format!("probe error for {hw}")));
        }
        Ok(())
    }
}

impl Callout<dhcp4::Subnet4Select> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Subnet4Select>) -> Result<(), Error> {
        let s = cx.subnet()?;
        self.record(json!({
            "point": cx.hook_point(),
            "query": pkt(&cx.query()?)?,
            "subnet": s.map(|s| json!({"id": s.id(), "prefix": s.prefix().to_string(), "prefix_len": s.prefix_len(), "text": s.to_string()})),
        }));
        Ok(())
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
        Ok(())
    }
}

impl Callout<dhcp4::Leases4Committed> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        self.record(json!({
            "point": cx.hook_point(),
            "query": pkt(&cx.query()?)?,
            "leases": cx.leases()?.iter().map(|l| lease(&l)).collect::<Vec<_>>(),
            "deleted_leases": cx.deleted_leases()?.iter().map(|l| lease(&l)).collect::<Vec<_>>(),
            "arguments": cx.argument_names()?,
            // response4 exists here from Kea 3.0 on.
            "response": kea_hooks::since_kea_3_0!({
                match cx.response()? { Some(r) => pkt(&r)?, None => Value::Null }
            } else {
                Value::Null
            }),
        }));
        Ok(())
    }
}

impl Callout<dhcp4::Pkt4Send> for Probe {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
        self.record(json!({
            "point": cx.hook_point(),
            "response": pkt(&cx.response()?)?,
            "query": pkt(&cx.query()?)?,
            "next_step": format!("{:?}", cx.next_step()),
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
            Ok(())
        }
    }
}

kea_hooks::kea_hook!(Probe);
