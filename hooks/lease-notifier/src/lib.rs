//! `libdhcp_lease_notifier.so`: tells an HTTP endpoint about every lease
//! kea-dhcp4 grants, and holds the client's DHCPACK until the endpoint has
//! acknowledged it (an IPAM, a firewall that must open first, an audit
//! log that must not miss a lease).
//!
//! At `leases4_committed` the query is parked and a JSON document goes to
//! `url` with an HTTP POST from one of the hook's worker threads; a 2xx
//! answer resumes the query (Kea sends the ACK). A failed or late answer
//! (`timeout-ms`) applies `on-failure`: `resume` (send the ACK anyway, the
//! default) or `drop` (no ACK; the client asks again). So does a full
//! queue (`queue-size` notifications waiting). Kea's packet threads never
//! wait on the endpoint.
//!
//! ```json
//! { "library": "libdhcp_lease_notifier.so",
//!   "parameters": { "url": "http://127.0.0.1:8080/leases", "timeout-ms": 2000,
//!                   "on-failure": "resume", "workers": 4, "queue-size": 256 } }
//! ```
//!
//! The POSTed document:
//! `{"xid": 305419896, "query": "DHCPREQUEST", "hwaddr": "02:aa:00:00:00:01",
//! "leases": [{"address": "198.18.0.10", "hwaddr": "02:aa:00:00:00:01",
//! "valid-lifetime": 3600, "subnet-id": 1, "hostname": ""}],
//! "deleted-leases": []}`.
//!
//! Statistics (in Kea's `statistic-get`): `lease-notifier.notified`,
//! `lease-notifier.failed`, `lease-notifier.overflow`. Command
//! `lease-notifier-status`: those counts, the notifications queued and in
//! flight, and the URL.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kea_hooks::dhcp4::{self, Lease4};
use kea_hooks::parking::Parked;
use kea_hooks::prelude::*;
use kea_hooks::stats;
use kea_hooks::threads::{main_thread, JobQueue, StopToken, Worker};
use serde::Deserialize;
use serde_json::{json, Value};

/// The hook's `parameters`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Params {
    /// `http://HOST:PORT/PATH` (plain HTTP).
    url: String,
    /// How long a notification may take, connecting included.
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    /// What a failed, late or unqueued notification does to the ACK.
    #[serde(default)]
    on_failure: OnNotifyFailure,
    /// Worker threads (notifications in flight at once).
    #[serde(default = "default_workers")]
    workers: usize,
    /// Notifications that may wait for a worker.
    #[serde(default = "default_queue")]
    queue_size: usize,
}

fn default_timeout() -> u64 {
    2000
}
fn default_workers() -> usize {
    4
}
fn default_queue() -> usize {
    256
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum OnNotifyFailure {
    /// Send the ACK anyway.
    #[default]
    Resume,
    /// Send nothing: the client will ask again.
    Drop,
}

/// Where to POST.
#[derive(Debug, Clone)]
struct Target {
    host: String,
    port: u16,
    path: String,
}

impl Target {
    /// Parses `http://HOST[:PORT][/PATH]`; the error names what is wrong.
    fn parse(url: &str) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or("only http:// URLs are supported")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("bad port {p:?}"))?),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        Ok(Target { host: host.to_owned(), port, path: path.to_owned() })
    }

    fn addrs(&self) -> Result<Vec<SocketAddr>, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map(|a| a.collect())
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))
    }
}

/// POSTs `body` and returns the answer's status code, within `timeout`.
fn post(target: &Target, body: &str, timeout: Duration) -> Result<u16, String> {
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let addr = *target.addrs()?.first().ok_or("no address")?;
    let mut stream = TcpStream::connect_timeout(&addr, left()).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_write_timeout(Some(left())).map_err(|e| e.to_string())?;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        target.path,
        target.host,
        target.port,
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    // The status line is all that is needed.
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") {
        stream.set_read_timeout(Some(left())).map_err(|e| e.to_string())?;
        let n = stream.read(&mut buf).map_err(|e| format!("answer: {e}"))?;
        if n == 0 {
            return Err("the endpoint closed the connection without answering".into());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 8192 {
            return Err("no status line".into());
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line {:?}", line.lines().next().unwrap_or("")))
}

/// One lease event waiting to be told.
struct Notification {
    parked: Parked<dhcp4::Leases4Committed>,
    body: String,
}

/// Counters shared with the workers.
#[derive(Default)]
struct Counts {
    notified: AtomicU64,
    failed: AtomicU64,
    overflow: AtomicU64,
    in_flight: AtomicU64,
}

/// Adds to one of the hook's statistics: at once where Kea allows it, else
/// (multi-threading off, on a worker) from Kea's main thread.
fn count(name: &'static str) {
    if stats::add_integer(name, 1).is_err() {
        let _ = main_thread::post(move || {
            let _ = stats::add_integer(name, 1);
        });
    }
}

struct LeaseNotifier {
    url: String,
    on_failure: OnNotifyFailure,
    counts: Arc<Counts>,
    queue: JobQueue<Notification>,
    _workers: Vec<Worker>,
}

impl LeaseNotifier {
    /// Applies the failure policy to a notification that did not go through.
    fn fail(on_failure: OnNotifyFailure, parked: Parked<dhcp4::Leases4Committed>) {
        match on_failure {
            OnNotifyFailure::Resume => parked.resume(),
            OnNotifyFailure::Drop => parked.drop_packet(),
        }
    }

    fn status(&self, _cx: &CommandContext<'_>, _args: Option<Value>) -> Result<Answer, Error> {
        let c = &self.counts;
        Answer::success("lease-notifier status").with_arguments(json!({
            "url": self.url,
            "queued": self.queue.len(),
            "in-flight": c.in_flight.load(Ordering::Relaxed),
            "notified": c.notified.load(Ordering::Relaxed),
            "failed": c.failed.load(Ordering::Relaxed),
            "overflow": c.overflow.load(Ordering::Relaxed),
        }))
    }
}

fn lease_json(l: &Lease4<'_>) -> Value {
    json!({
        "address": l.address().to_string(),
        "hwaddr": l.hwaddr().map(|h| h.to_string()),
        "valid-lifetime": l.valid_lifetime(),
        "subnet-id": l.subnet_id(),
        "hostname": l.hostname(),
    })
}

impl Hook for LeaseNotifier {
    const NAME: &'static str = "lease-notifier";
    type Params = Params;

    fn check(p: &Params) -> Result<(), Error> {
        Target::parse(&p.url).map_err(|e| Error::msg(format!("at 'url': {e}")))?;
        if p.timeout_ms == 0 {
            return Err(Error::msg("at 'timeout-ms': must be 1 or more"));
        }
        if p.workers == 0 || p.workers > 64 {
            return Err(Error::msg("at 'workers': must be 1 to 64"));
        }
        if p.queue_size == 0 {
            return Err(Error::msg("at 'queue-size': must be 1 or more"));
        }
        Ok(())
    }

    fn load(p: Params, _cx: &LoadContext) -> Result<Self, Error> {
        let target = Target::parse(&p.url).map_err(Error::msg)?;
        let timeout = Duration::from_millis(p.timeout_ms);
        let counts = Arc::new(Counts::default());
        let (on_failure, worker_counts) = (p.on_failure, Arc::clone(&counts));
        let (queue, workers) =
            JobQueue::with_workers("notifier", p.workers, p.queue_size, move |n: Notification, stop: &StopToken| {
                if stop.is_stopped() {
                    return; // unloading: the packet is dropped with its token
                }
                worker_counts.in_flight.fetch_add(1, Ordering::Relaxed);
                let outcome = post(&target, &n.body, timeout);
                worker_counts.in_flight.fetch_sub(1, Ordering::Relaxed);
                match outcome {
                    Ok(code) if (200..300).contains(&code) => {
                        worker_counts.notified.fetch_add(1, Ordering::Relaxed);
                        count("lease-notifier.notified");
                        n.parked.resume();
                    }
                    other => {
                        let why = match other {
                            Ok(code) => format!("status {code}"),
                            Err(e) => e,
                        };
                        tracing::warn!(xid = n.parked.xid(), %why, "notification failed");
                        worker_counts.failed.fetch_add(1, Ordering::Relaxed);
                        count("lease-notifier.failed");
                        LeaseNotifier::fail(on_failure, n.parked);
                    }
                }
            })?;
        // The statistics exist (at 0) from the start.
        for name in ["lease-notifier.notified", "lease-notifier.failed", "lease-notifier.overflow"] {
            stats::declare_integer(name)?;
        }
        tracing::info!(url = %p.url, workers = p.workers, "lease notifier ready");
        Ok(LeaseNotifier { url: p.url, on_failure: p.on_failure, counts, queue, _workers: workers })
    }

    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        commands.add("lease-notifier-status", Self::status)?;
        Ok(())
    }
}

impl Callout<dhcp4::Leases4Committed> for LeaseNotifier {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        let leases = cx.leases()?;
        if leases.is_empty() {
            // Nothing committed (a release, a decline, or on Kea 3.0+ a
            // lease reused unchanged): nothing to tell, no ACK to hold.
            return Ok(());
        }
        let query = cx.query()?;
        let body = json!({
            "xid": query.xid(),
            "query": query.message_type()?.to_string(),
            "hwaddr": query.hwaddr().to_string(),
            "leases": leases.iter().map(|l| lease_json(&l)).collect::<Vec<_>>(),
            "deleted-leases": cx.deleted_leases()?.iter().map(|l| lease_json(&l)).collect::<Vec<_>>(),
        })
        .to_string();
        let parked = cx.park()?;
        if let Err(n) = self.queue.push(Notification { parked, body }) {
            self.counts.overflow.fetch_add(1, Ordering::Relaxed);
            count("lease-notifier.overflow");
            LeaseNotifier::fail(self.on_failure, n.parked);
        }
        Ok(())
    }
}

kea_hooks::kea_hook!(LeaseNotifier);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("http://127.0.0.1:8080/leases").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("127.0.0.1", 8080, "/leases"));
        let t = Target::parse("http://ipam.example").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        assert!(Target::parse("https://x/").is_err());
        assert!(Target::parse("http://x:port/").is_err());
        assert!(Target::parse("http:///p").is_err());
    }
}
