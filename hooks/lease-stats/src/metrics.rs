//! The metrics endpoint: the tracker's figures in the Prometheus text
//! format (version 0.0.4), over plain HTTP from a thread of the hook's own.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use kea_hooks::threads::{StopToken, Worker};
use kea_hooks::Error;

use crate::query::{utilization, KeaFigures};
use crate::tracker::{Figures, Tracker};

/// How long one client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

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

/// Binds `listen` (`address:port`); the error says what went wrong.
pub fn bind(listen: &str) -> Result<TcpListener, String> {
    let addr: SocketAddr = listen.parse().map_err(|_| format!("{listen:?} is not an address:port (e.g. \"127.0.0.1:9100\")"))?;
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// Serves `GET /metrics` on `listener` from a worker thread until the
/// worker is stopped (dropped); `page` makes the body (`None`: 503).
pub fn serve(listener: TcpListener, page: impl Fn() -> Option<String> + Send + 'static) -> Result<Worker, Error> {
    let local = listener.local_addr().map_err(|e| Error::msg(format!("metrics listener: {e}")))?;
    // Stopping wakes the blocking accept with a connection of its own.
    let wake = match local {
        SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, a.port())),
        SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, a.port())),
        other => other,
    };
    Worker::spawn("lease-stats-http", move |stop: &StopToken| {
        stop.on_stop(move || {
            let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        });
        for conn in listener.incoming() {
            if stop.is_stopped() {
                break;
            }
            match conn {
                Ok(mut stream) => {
                    if let Err(e) = answer(&mut stream, &page) {
                        tracing::debug!(error = %e, "metrics client");
                    }
                }
                // Out of descriptors, say: do not spin.
                Err(_) => {
                    stop.sleep(Duration::from_millis(50));
                }
            }
        }
        tracing::debug!(%local, "metrics endpoint stopped");
    })
}

/// Reads one request and answers it.
fn answer(stream: &mut TcpStream, page: &impl Fn() -> Option<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 16 * 1024 {
            return respond(stream, "431 Request Header Fields Too Large", "text/plain", "request too large\n");
        }
    }
    let line = String::from_utf8_lossy(&head);
    let mut words = line.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => match page() {
            Some(body) => respond(stream, "200 OK", "text/plain; version=0.0.4; charset=utf-8", &body),
            None => respond(stream, "503 Service Unavailable", "text/plain", "the server is reconfiguring\n"),
        },
        (_, "/metrics") => respond(stream, "405 Method Not Allowed", "text/plain", "GET only\n"),
        _ => respond(stream, "404 Not Found", "text/plain", "the metrics are at /metrics\n"),
    }
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &str) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::{Cause, Held};
    use kea_hooks::kea::{Pool4Config, Subnet4Config};

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
    fn bad_listen_values_are_explained() {
        assert!(bind("localhost").unwrap_err().contains("is not an address:port"));
        assert!(bind("127.0.0.1:99999").unwrap_err().contains("is not an address:port"));
    }
}
