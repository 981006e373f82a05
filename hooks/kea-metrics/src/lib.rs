//! `libdhcp_kea_metrics.so`: every statistic of kea-dhcp4 or kea-dhcp6 on
//! a Prometheus endpoint served from inside Kea. A drop-in for
//! kea-exporter (PyPI `kea-exporter` 0.7) that needs no control agent and
//! no polling of Kea's JSON:
//!
//! ```json
//! "hooks-libraries": [{
//!     "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_kea_metrics.so",
//!     "parameters": { "listen": "127.0.0.1:9547" }
//! }]
//! ```
//!
//! * `listen`: `address:port` of the endpoint (`GET /metrics`). Without
//!   it the hook serves nothing (and says so in Kea's log); an address
//!   that is not one, or is taken, fails the load.
//! * `page-size`: statistics read per step (default 1000, 1 to 100000):
//!   while Kea runs single-threaded, each step is one turn of Kea's main
//!   thread, between its own work.
//!
//! The page (`page.rs`): kea-exporter's families with its names, label
//! names and label values (`exporter.rs`); every other statistic under
//! `kea_dhcp4_<name>`, `kea_dhcp4_subnet_<name>`, `kea_dhcp4_pool_<name>`
//! (by pool id), `kea_dhcp6_pd_pool_<name>` (`page::generic_name`);
//! `kea_dhcp4_subnet_info` (each subnet's shared network) and
//! `kea_dhcp4_pool_info`; `kea_up`, `kea_build_info`,
//! `kea_hook_library_info`, `kea_ha_state` (with the HA hook: its part of
//! `status-get`, asked per scrape); and the
//! scrape's own cost (`kea_metrics_*`).
//!
//! Threads and bounds: requests are served by the SDK's
//! [`http::Server`] (a deadline of 10 s per
//! request, 4 at once, 16 waiting, 16 KiB of request head; unload stops it
//! at once). Statistics are read with
//! [`stats::read_all`]; the subnets and hook
//! libraries are read on Kea's threads when Kea configures
//! (`dhcpX_srv_configured`), after commands that change subnets, and
//! after a configuration backend's update.

// Hook code needs no unsafe: the SDK holds it all (kea_hook! allows it
// for the symbols it emits; `forbid` would refuse that).
#![deny(unsafe_code)]

mod exporter;
mod page;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kea_hooks::command;
use kea_hooks::ha::HaState;
use kea_hooks::http::{self, Limits, Response, Server};
use kea_hooks::kea::KeaAccess;
use kea_hooks::prelude::*;
use kea_hooks::stats;
use kea_hooks::threads::main_thread;
use serde::Deserialize;

use exporter::Tables;
use page::{labels, FamilyOut, Families, Topology};

/// The hook's `parameters`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Params {
    #[serde(default)]
    listen: Option<String>,
    #[serde(default = "default_page_size")]
    page_size: usize,
}

fn default_page_size() -> usize {
    1000
}

/// The endpoint's bounds.
const LIMITS: Limits = Limits { deadline: Duration::from_secs(10), max_clients: 4, backlog: 16, max_request_bytes: 16 * 1024 };

/// How long a request may spend reading Kea (the statistics, and the
/// subnets when no callout has read them yet: see [`Shared::config`]):
/// while Kea runs single-threaded, each step waits for a turn of its main
/// thread, and a main thread busy past this (a long command, a
/// reconfiguration) costs the scrape a 503, well within Prometheus'
/// default scrape timeout (10 s), rather than a hung scrape.
const READ_BUDGET: Duration = Duration::from_secs(5);

/// The configuration as the page labels it.
#[derive(Debug, Default)]
struct Config {
    topology: Arc<Topology>,
    libraries: Arc<Vec<String>>,
}

/// What the endpoint and the callouts share.
struct Shared {
    v6: bool,
    page_size: usize,
    /// `None` until Kea's threads have read it.
    config: Mutex<Option<Config>>,
}

impl Shared {
    fn tables(&self) -> &'static Tables {
        if self.v6 { &exporter::DHCP6 } else { &exporter::DHCP4 }
    }

    fn daemon(&self) -> &'static str {
        if self.v6 { "dhcp6" } else { "dhcp4" }
    }

    /// Reads the subnets and hook libraries (on one of Kea's threads).
    fn read_config(&self, kea: &KeaAccess<'_>) -> Result<(), Error> {
        let topology = if self.v6 {
            Topology::from_json(&kea.subnets6_json()?, &kea.shared_networks6_json()?, true)
        } else {
            Topology::from_json(&kea.subnets4_json()?, &kea.shared_networks4_json()?, false)
        };
        let libraries = kea.hook_libraries()?;
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = Some(Config { topology: Arc::new(topology), libraries: Arc::new(libraries) });
        Ok(())
    }

    /// The subnets and libraries: as last read, or read now on Kea's main
    /// thread (a hook loaded by `libreload`, which configures nothing),
    /// waiting at most `wait`.
    fn config(self: &Arc<Self>, wait: Duration) -> Result<(Arc<Topology>, Arc<Vec<String>>), Error> {
        if let Some(c) = self.config.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            return Ok((Arc::clone(&c.topology), Arc::clone(&c.libraries)));
        }
        let me = Arc::clone(self);
        main_thread::call_with_kea_timeout(wait, move |kea| me.read_config(kea))??;
        self.config(Duration::ZERO)
    }

    /// The page, Kea read by `deadline` at the latest.
    fn render(self: &Arc<Self>, deadline: Instant) -> Result<String, Error> {
        let t0 = Instant::now();
        let deadline = deadline.min(t0 + READ_BUDGET);
        let (topology, libraries) = self.config(deadline.saturating_duration_since(t0))?;
        let snap = stats::read_all(self.page_size, deadline)?;
        // The HA hook's state of this server: its part of `status-get`,
        // asked on Kea's main thread (one short step).
        let ha_states = if libraries.iter().any(|l| l.contains("libdhcp_ha.")) {
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = main_thread::call_timeout(left, || command::execute("status-get", None))??;
            HaState::from_status_get(&answer)
        } else {
            Vec::new()
        };
        let read = t0.elapsed();
        let tables = self.tables();
        let daemon = self.daemon();
        let prefix = format!("kea_{daemon}_");
        let mut out = String::with_capacity(snap.statistics.len() * 96 + 4096);
        Families::from_statistics(&snap.statistics, &topology, tables).write(&mut out, &prefix, tables);

        let d = [("daemon", daemon)];
        let mut subnet_info = FamilyOut::new("gauge", "Each configured subnet (value 1), with its shared network (\"\" for none).");
        let mut pool_info = FamilyOut::new("gauge", "Each configured pool (value 1), with its pool-id (0 when none is configured: Kea counts such pools together).");
        let mut pd_pool_info = FamilyOut::new("gauge", "Each configured prefix-delegation pool (value 1), with its pool-id and delegated length.");
        for (id, s) in &topology.subnets {
            let id = id.to_string();
            subnet_info.set(labels(&[("subnet_id", &id), ("subnet", &s.prefix), ("shared_network", s.shared_network.as_deref().unwrap_or(""))]), "1".into());
            for p in &s.pools {
                pool_info.set(labels(&[("subnet_id", &id), ("subnet", &s.prefix), ("pool_id", &p.id.to_string()), ("pool", &p.text)]), "1".into());
            }
            for p in &s.pd_pools {
                let dl = p.delegated_len.map(|l| l.to_string()).unwrap_or_default();
                pd_pool_info.set(labels(&[("subnet_id", &id), ("subnet", &s.prefix), ("pool_id", &p.id.to_string()), ("pool", &p.text), ("delegated_len", &dl)]), "1".into());
            }
        }
        subnet_info.write(&mut out, &format!("{prefix}subnet_info"));
        pool_info.write(&mut out, &format!("{prefix}pool_info"));
        pd_pool_info.write(&mut out, &format!("{prefix}pd_pool_info"));

        let mut up = FamilyOut::new("gauge", "1: the Kea server answering is up (its own hook serves this page).");
        up.set(labels(&d), "1".into());
        up.write(&mut out, "kea_up");
        let mut build = FamilyOut::new("gauge", "The Kea release serving (value 1).");
        build.set(labels(&[("daemon", daemon), ("version", kea_hooks::KEA_VERSION)]), "1".into());
        build.write(&mut out, "kea_build_info");
        let mut hooks = FamilyOut::new("gauge", "Each hook library Kea has loaded (value 1), in the configuration's order (position).");
        for (i, lib) in libraries.iter().enumerate() {
            hooks.set(labels(&[("daemon", daemon), ("library", lib), ("position", &i.to_string())]), "1".into());
        }
        hooks.write(&mut out, "kea_hook_library_info");
        let mut ha = FamilyOut::new("gauge", "This server's HA state (value 1) in its relationship with partner (\"\": the only one before Kea 3.0), as status-get shows it.");
        for (partner, state) in &ha_states {
            ha.set(labels(&[("daemon", daemon), ("partner", partner.as_deref().unwrap_or("")), ("state", state.name())]), "1".into());
        }
        ha.write(&mut out, "kea_ha_state");

        let mut own = String::new();
        let _ = writeln!(own, "# HELP kea_metrics_statistics Kea's statistics read for this page.\n# TYPE kea_metrics_statistics gauge\nkea_metrics_statistics {}", snap.statistics.len());
        let _ = writeln!(own, "# HELP kea_metrics_read_pages Steps the statistics were read in (page-size each).\n# TYPE kea_metrics_read_pages gauge\nkea_metrics_read_pages {}", snap.pages);
        let _ = writeln!(own, "# HELP kea_metrics_main_thread_pages Steps that ran on Kea's main thread (Kea single-threaded).\n# TYPE kea_metrics_main_thread_pages gauge\nkea_metrics_main_thread_pages {}", snap.main_thread_pages);
        let _ = writeln!(own, "# HELP kea_metrics_longest_main_thread_step_seconds The longest step on Kea's main thread.\n# TYPE kea_metrics_longest_main_thread_step_seconds gauge\nkea_metrics_longest_main_thread_step_seconds {}", page::float(snap.longest_main_thread_page.as_secs_f64()));
        let _ = writeln!(own, "# HELP kea_metrics_read_seconds Time to read the statistics and configuration for this page.\n# TYPE kea_metrics_read_seconds gauge\nkea_metrics_read_seconds {}", page::float(read.as_secs_f64()));
        let _ = writeln!(own, "# HELP kea_metrics_scrape_seconds Time to make this page.\n# TYPE kea_metrics_scrape_seconds gauge\nkea_metrics_scrape_seconds {}", page::float(t0.elapsed().as_secs_f64()));
        out.push_str(&own);
        Ok(out)
    }
}

/// The hook: the endpoint, and what its pages label statistics with.
struct KeaMetrics {
    shared: Arc<Shared>,
    _http: Option<Server>,
}

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Hook for KeaMetrics {
    const NAME: &'static str = "kea-metrics";
    type Params = Params;

    fn check(p: &Params) -> Result<(), Error> {
        if let Some(listen) = &p.listen {
            listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| Error::msg(format!("at 'listen': {listen:?} is not an address:port (e.g. \"127.0.0.1:9547\")")))?;
        }
        if !(1..=100_000).contains(&p.page_size) {
            return Err(Error::msg("at 'page-size': must be 1 to 100000"));
        }
        Ok(())
    }

    fn load(p: Params, cx: &LoadContext) -> Result<Self, Error> {
        let shared = Arc::new(Shared { v6: cx.server() == kea_hooks::Server::Dhcp6, page_size: p.page_size, config: Mutex::new(None) });
        let Some(listen) = &p.listen else {
            tracing::warn!("no 'listen' in the parameters: no metrics endpoint");
            return Ok(KeaMetrics { shared, _http: None });
        };
        let listener = http::bind(listen).map_err(|e| e.context("at 'listen'"))?;
        let page_shared = Arc::clone(&shared);
        let server = Server::start("kea-metrics", listener, LIMITS, move |request| {
            if request.path() != "/metrics" {
                return Response::text(404, "kea-metrics: see /metrics\n");
            }
            match page_shared.render(request.deadline()) {
                Ok(page) => Response::new(200, CONTENT_TYPE, page),
                Err(e) => {
                    tracing::warn!(error = %e, "no metrics page");
                    Response::text(503, format!("kea-metrics: {e}\n"))
                }
            }
        })?;
        tracing::info!(%listen, "metrics at http://{listen}/metrics");
        Ok(KeaMetrics { shared, _http: Some(server) })
    }

    fn callouts_required(&self) -> bool {
        false
    }

    // An observer: a failure here must never cost a client its lease.
    fn on_panic(&self) -> OnFailure {
        OnFailure::Continue
    }
    fn on_error(&self) -> OnFailure {
        OnFailure::Continue
    }
}

impl KeaMetrics {
    /// After a command: reads the subnets again when it changed them (the
    /// subnet_cmds hook's `subnetN-*`, `networkN-*`), on Kea's main thread
    /// (the callout may run on another: HA's listener, an HTTP control
    /// socket's), before its next turn ends.
    fn after_command(&self, name: &str) {
        let family = if self.shared.v6 { ["subnet6-", "network6-"] } else { ["subnet4-", "network4-"] };
        if family.iter().any(|p| name.starts_with(p)) && !name.ends_with("-list") && !name.ends_with("-get") {
            let shared = Arc::clone(&self.shared);
            let _ = main_thread::post(move || {
                if let Err(e) = main_thread::call_with_kea(move |kea| shared.read_config(kea)).and_then(|r| r) {
                    tracing::warn!(error = %e, "could not read the subnets after a subnet command");
                }
            });
        }
    }
}

impl Callout<dhcp4::Dhcp4SrvConfigured> for KeaMetrics {
    fn call(&self, cx: &Context<'_, dhcp4::Dhcp4SrvConfigured>) -> Result<(), Error> {
        self.shared.read_config(&cx.kea())
    }
}

impl Callout<dhcp6::Dhcp6SrvConfigured> for KeaMetrics {
    fn call(&self, cx: &Context<'_, dhcp6::Dhcp6SrvConfigured>) -> Result<(), Error> {
        self.shared.read_config(&cx.kea())
    }
}

impl Callout<dhcp4::Cb4Updated> for KeaMetrics {
    fn call(&self, cx: &Context<'_, dhcp4::Cb4Updated>) -> Result<(), Error> {
        self.shared.read_config(&cx.kea())
    }
}

impl Callout<dhcp6::Cb6Updated> for KeaMetrics {
    fn call(&self, cx: &Context<'_, dhcp6::Cb6Updated>) -> Result<(), Error> {
        self.shared.read_config(&cx.kea())
    }
}

impl Callout<dhcp4::CommandProcessed> for KeaMetrics {
    fn call(&self, cx: &Context<'_, dhcp4::CommandProcessed>) -> Result<(), Error> {
        self.after_command(&cx.name()?);
        Ok(())
    }
}

kea_hooks::kea_hook!(KeaMetrics);
