//! The metrics endpoint: the tracker's figures in the Prometheus text
//! format (version 0.0.4), over plain HTTP from threads of the hook's own
//! ([`kea_hooks::http::Server`]).
//!
//! Its bounds ([`LIMITS`]): each scrape has 10 s from its connection to
//! the last byte of the page (a client that trickles its request, or does
//! not read the page, is cut off then); 4 scrapes are served at once and
//! 16 more connections may wait, beyond which a connection gets 503 at
//! once. Kea's own figures of each subnet come from Kea's main thread,
//! waited for at most [`MAIN_THREAD_WAIT`] (503 past it). Unload stops the
//! endpoint at once, whatever its clients do.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::time::Duration;

use kea_hooks::http::{Limits, Response, Server};
use kea_hooks::Error;

use crate::query::{utilization, KeaFigures};
use crate::query6::KeaFigures6;
use crate::tracker::{Figures, Tracker};
use crate::tracker6::Tracker6;

/// The endpoint's bounds.
pub const LIMITS: Limits = Limits { deadline: Duration::from_secs(10), max_clients: 4, backlog: 16, max_request_bytes: 16 * 1024 };

/// How long a scrape waits for Kea's main thread.
pub const MAIN_THREAD_WAIT: Duration = Duration::from_secs(2);

/// One metric family of the subnet or pool figures.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
}

const fn family(name: &'static str, kind: &'static str, help: &'static str) -> Family {
    Family { name, kind, help }
}

/// The families, each for subnets (`kea_lease_stats_subnet_*`) and pools
/// (`kea_lease_stats_pool_*`), in this order.
const FAMILIES: [Family; 9] = [
    family("total_addresses", "gauge", "Addresses in the pools."),
    family("assigned_addresses", "gauge", "Leases in state default (as stat_cmds counts them)."),
    family("declined_addresses", "gauge", "Leases in state declined."),
    family("free_addresses", "gauge", "Pool addresses neither assigned nor declined."),
    family("utilization", "gauge", "Share of the pool addresses assigned or declined (0 to 1)."),
    family(
        "cumulative_assigned_addresses_total",
        "counter",
        "Addresses granted: for subnets Kea's cumulative-assigned-addresses, for pools grants seen since the hook loaded.",
    ),
    family("released_addresses_total", "counter", "Releases since the hook loaded."),
    family("reclaimed_addresses_total", "counter", "Expired leases reclaimed since the hook loaded."),
    family("reclaimed_declined_addresses_total", "counter", "Declined addresses recovered since the hook loaded."),
];

/// The values of [`FAMILIES`] for one subnet or pool.
fn values(total: u64, used: i64, cumulative: u64, f: &Figures) -> [String; 9] {
    [
        total.to_string(),
        f.assigned.to_string(),
        f.declined.to_string(),
        (i128::from(total) - i128::from(used)).max(0).to_string(),
        utilization(total, used).to_string(),
        cumulative.to_string(),
        f.released.to_string(),
        f.reclaimed.to_string(),
        f.reclaimed_declined.to_string(),
    ]
}

/// A label value, escaped as the text format wants.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The page: every family for every subnet and pool of `tracker`; `kea`
/// has Kea's figures of each subnet.
pub fn render(tracker: &Tracker, kea: &HashMap<u32, KeaFigures>) -> String {
    // (labels, values) per subnet and per pool.
    let mut subnets = Vec::new();
    let mut pools = Vec::new();
    for s in tracker.subnets() {
        let labels = format!("subnet_id=\"{}\",prefix=\"{}\"", s.id, escape(&s.prefix));
        let k = kea.get(&s.id).copied().unwrap_or_default();
        subnets.push((labels.clone(), values(s.total(), s.used_in_pools(), k.cumulative.max(0) as u64, &s.counters.figures())));
        for p in &s.pools {
            let f = p.counters.figures();
            let labels = format!("{labels},pool=\"{}\"", escape(&p.text()));
            pools.push((labels, values(p.size(), f.used(), f.granted, &f)));
        }
    }
    let mut out = String::new();
    for (scope, rows) in [("subnet", &subnets), ("pool", &pools)] {
        for (i, fam) in FAMILIES.iter().enumerate() {
            let name = format!("kea_lease_stats_{scope}_{}", fam.name);
            let _ = writeln!(out, "# HELP {name} {} (per {scope})", fam.help);
            let _ = writeln!(out, "# TYPE {name} {}", fam.kind);
            for (labels, v) in rows.iter() {
                let _ = writeln!(out, "{name}{{{labels}}} {}", v[i]);
            }
        }
    }
    let _ = writeln!(out, "# HELP kea_lease_stats_recount_corrections_total Addresses whose count a recount changed.");
    let _ = writeln!(out, "# TYPE kea_lease_stats_recount_corrections_total counter");
    let _ = writeln!(out, "kea_lease_stats_recount_corrections_total {}", tracker.corrections());
    out
}

/// The DHCPv6 families, for subnets (`kea_lease_stats_subnet_*`, both
/// kinds), address pools (`kea_lease_stats_pool_*`, the `_nas` ones) and
/// prefix-delegation pools (`kea_lease_stats_pd_pool_*`, the `_pds` ones),
/// in this order; the second of each pair says whether it is of addresses.
const FAMILIES6: [(Family, bool); 16] = [
    (family("total_nas", "gauge", "Addresses in the pools."), true),
    (family("assigned_nas", "gauge", "Address leases in state default (as stat_cmds counts them)."), true),
    (family("declined_nas", "gauge", "Address leases in state declined."), true),
    (family("free_nas", "gauge", "Pool addresses neither assigned nor declined."), true),
    (family("utilization_nas", "gauge", "Share of the pool addresses assigned or declined (0 to 1)."), true),
    (
        family(
            "cumulative_assigned_nas_total",
            "counter",
            "Addresses granted: for subnets Kea's cumulative-assigned-nas, for pools grants seen since the hook loaded.",
        ),
        true,
    ),
    (family("released_nas_total", "counter", "Address releases since the hook loaded."), true),
    (family("reclaimed_nas_total", "counter", "Expired address leases reclaimed since the hook loaded."), true),
    (family("reclaimed_declined_nas_total", "counter", "Declined addresses recovered since the hook loaded."), true),
    (family("total_pds", "gauge", "Prefixes the prefix-delegation pools delegate."), false),
    (family("assigned_pds", "gauge", "Delegated prefixes in state default (as stat_cmds counts them)."), false),
    (family("free_pds", "gauge", "Pool prefixes not delegated."), false),
    (family("utilization_pds", "gauge", "Share of the pool prefixes delegated (0 to 1)."), false),
    (
        family(
            "cumulative_assigned_pds_total",
            "counter",
            "Prefixes delegated: for subnets Kea's cumulative-assigned-pds, for pools grants seen since the hook loaded.",
        ),
        false,
    ),
    (family("released_pds_total", "counter", "Prefix releases since the hook loaded."), false),
    (family("reclaimed_pds_total", "counter", "Expired prefix leases reclaimed since the hook loaded."), false),
];

/// The values of one kind of [`FAMILIES6`] for a subnet or pool: `total`
/// pool size, `used` of it, `cumulative` grants.
fn values6(nas: bool, total: u128, used: i64, cumulative: u64, f: &Figures) -> Vec<String> {
    let free = (total.min(i128::MAX as u128) as i128 - i128::from(used)).max(0).to_string();
    let share = crate::query6::utilization(total, used).to_string();
    if nas {
        vec![
            total.to_string(),
            f.assigned.to_string(),
            f.declined.to_string(),
            free,
            share,
            cumulative.to_string(),
            f.released.to_string(),
            f.reclaimed.to_string(),
            f.reclaimed_declined.to_string(),
        ]
    } else {
        vec![
            total.to_string(),
            f.assigned.to_string(),
            free,
            share,
            cumulative.to_string(),
            f.released.to_string(),
            f.reclaimed.to_string(),
        ]
    }
}

/// The DHCPv6 page: every family of [`FAMILIES6`] for every subnet and
/// pool of `tracker`; `kea` has Kea's figures of each subnet (the subnet
/// totals are the hook's own pool sizes, exact where Kea 2.2's are not).
pub fn render6(tracker: &Tracker6, kea: &HashMap<u32, KeaFigures6>) -> String {
    // (labels, NA values, PD values) per subnet; (labels, values) per pool.
    let mut subnets = Vec::new();
    let mut pools = Vec::new();
    let mut pd_pools = Vec::new();
    for s in tracker.subnets() {
        let labels = format!("subnet_id=\"{}\",prefix=\"{}\"", s.id, escape(&s.prefix));
        let k = kea.get(&s.id).copied().unwrap_or_default();
        let na = values6(true, s.total_nas(), s.used_nas_in_pools(), k.cumulative_nas.max(0) as u64, &s.na.figures());
        let pd = values6(false, s.total_pds(), s.used_pds_in_pools(), k.cumulative_pds.max(0) as u64, &s.pd.figures());
        subnets.push((labels.clone(), na, pd));
        for p in &s.pools {
            let f = p.counters.figures();
            pools.push((format!("{labels},pool=\"{}\"", escape(&p.text())), values6(true, p.size(), f.used(), f.granted, &f)));
        }
        for p in &s.pd_pools {
            let f = p.counters.figures();
            pd_pools.push((format!("{labels},pool=\"{}\"", escape(&p.text())), values6(false, p.size(), f.used(), f.granted, &f)));
        }
    }
    let mut out = String::new();
    let head = |out: &mut String, name: &str, fam: &Family, scope: &str| {
        let _ = writeln!(out, "# HELP {name} {} (per {scope})", fam.help);
        let _ = writeln!(out, "# TYPE {name} {}", fam.kind);
    };
    let (mut na_i, mut pd_i) = (0, 0);
    for (fam, nas) in FAMILIES6.iter() {
        let name = format!("kea_lease_stats_subnet_{}", fam.name);
        head(&mut out, &name, fam, "subnet");
        let i = if *nas { na_i } else { pd_i };
        for (labels, na, pd) in &subnets {
            let _ = writeln!(out, "{name}{{{labels}}} {}", if *nas { &na[i] } else { &pd[i] });
        }
        if *nas {
            na_i += 1;
        } else {
            pd_i += 1;
        }
    }
    for (scope, prefix, rows, nas) in [("address pool", "pool", &pools, true), ("prefix-delegation pool", "pd_pool", &pd_pools, false)] {
        for (i, (fam, _)) in FAMILIES6.iter().filter(|(_, n)| *n == nas).enumerate() {
            let name = format!("kea_lease_stats_{prefix}_{}", fam.name);
            head(&mut out, &name, fam, scope);
            for (labels, v) in rows.iter() {
                let _ = writeln!(out, "{name}{{{labels}}} {}", v[i]);
            }
        }
    }
    let _ = writeln!(out, "# HELP kea_lease_stats_recount_corrections_total Leases whose count a recount changed.");
    let _ = writeln!(out, "# TYPE kea_lease_stats_recount_corrections_total counter");
    let _ = writeln!(out, "kea_lease_stats_recount_corrections_total {}", tracker.corrections());
    out
}

/// Serves `GET /metrics` on `listener` until the returned server is
/// dropped; `page(time_left)` makes the body (`None`: 503), within
/// `time_left`.
pub fn serve(listener: TcpListener, page: impl Fn(Duration) -> Option<String> + Send + Sync + 'static) -> Result<Server, Error> {
    Server::start("lstats-http", listener, LIMITS, move |request| match request.path() {
        "/metrics" => match page(request.time_left()) {
            Some(body) => Response::new(200, "text/plain; version=0.0.4; charset=utf-8", body),
            None => Response::text(503, "Kea's main thread is busy or the server is reconfiguring; try again\n"),
        },
        _ => Response::text(404, "the metrics are at /metrics\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::{Cause, Held};
    use kea_hooks::dhcp4::{Pool4Config, Subnet4Config};

    #[test]
    fn the_page_has_help_type_and_labelled_samples() {
        let ip = |s: &str| s.parse().unwrap();
        let t = Tracker::new(&[Subnet4Config {
            id: 3,
            prefix: ip("198.18.3.0"),
            prefix_len: 24,
            pools: vec![Pool4Config { first: ip("198.18.3.10"), last: ip("198.18.3.13") }],
        }]);
        t.event(ip("198.18.3.10"), 3, Some(Held::Assigned), Cause::Committed);
        let page = render(&t, &HashMap::from([(3, KeaFigures { total: 4, cumulative: 9 })]));
        for line in [
            "# TYPE kea_lease_stats_subnet_assigned_addresses gauge",
            "kea_lease_stats_subnet_assigned_addresses{subnet_id=\"3\",prefix=\"198.18.3.0/24\"} 1",
            "kea_lease_stats_subnet_cumulative_assigned_addresses_total{subnet_id=\"3\",prefix=\"198.18.3.0/24\"} 9",
            "kea_lease_stats_pool_free_addresses{subnet_id=\"3\",prefix=\"198.18.3.0/24\",pool=\"198.18.3.10-198.18.3.13\"} 3",
            "kea_lease_stats_pool_utilization{subnet_id=\"3\",prefix=\"198.18.3.0/24\",pool=\"198.18.3.10-198.18.3.13\"} 0.25",
            "kea_lease_stats_recount_corrections_total 0",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} not in\n{page}");
        }
    }

    #[test]
    fn the_dhcpv6_page_has_address_and_prefix_families() {
        use kea_hooks::dhcp6::{LeaseType, PdPool6Config, Pool6Config, Subnet6Config};
        let ip = |s: &str| s.parse().unwrap();
        let t = Tracker6::new(&[Subnet6Config {
            id: 6,
            prefix: ip("2001:2:0:6::"),
            prefix_len: 64,
            pools: vec![Pool6Config { first: ip("2001:2:0:6::"), last: ip("2001:2:0:6:ffff:ffff:ffff:ffff"), id: 0 }],
            pd_pools: vec![PdPool6Config { prefix: ip("2001:2:1::"), prefix_len: 48, delegated_len: 56, id: 0 }],
        }]);
        t.event(LeaseType::Na, ip("2001:2:0:6::5"), 6, Some(Held::Assigned), Cause::Committed);
        t.event(LeaseType::Pd, ip("2001:2:1:100::"), 6, Some(Held::Assigned), Cause::Committed);
        let page = render6(&t, &HashMap::from([(6, KeaFigures6 { cumulative_nas: 4, cumulative_pds: 2, ..Default::default() })]));
        let l = "subnet_id=\"6\",prefix=\"2001:2:0:6::/64\"";
        for line in [
            "# TYPE kea_lease_stats_subnet_total_nas gauge".to_string(),
            format!("kea_lease_stats_subnet_total_nas{{{l}}} 18446744073709551616"),
            format!("kea_lease_stats_subnet_assigned_nas{{{l}}} 1"),
            format!("kea_lease_stats_subnet_cumulative_assigned_pds_total{{{l}}} 2"),
            format!("kea_lease_stats_subnet_free_pds{{{l}}} 255"),
            format!("kea_lease_stats_pool_free_nas{{{l},pool=\"2001:2:0:6::-2001:2:0:6:ffff:ffff:ffff:ffff\"}} 18446744073709551615"),
            format!("kea_lease_stats_pd_pool_utilization_pds{{{l},pool=\"2001:2:1::/48 delegated /56\"}} 0.0039"),
            format!("kea_lease_stats_pd_pool_assigned_pds{{{l},pool=\"2001:2:1::/48 delegated /56\"}} 1"),
        ] {
            assert!(page.lines().any(|x| x == line), "{line} not in\n{page}");
        }
        assert!(!page.contains("kea_lease_stats_pd_pool_declined"), "{page}");
    }

    #[test]
    fn bad_listen_values_are_explained() {
        for bad in ["localhost", "127.0.0.1:99999"] {
            let e = kea_hooks::http::bind(bad).unwrap_err().context("at 'listen'");
            assert!(e.to_string().starts_with("at 'listen': ") && e.to_string().contains("is not an address:port"), "{e}");
        }
    }
}
