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
//! `timeout-ms` bounds the whole notification: looking the host name up
//! (on one of glibc's threads, so a DNS server that never answers costs
//! `timeout-ms`, not resolv.conf's minutes; see `kea_hooks::net`),
//! connecting, sending and the answer's status line. At unload (reload,
//! shutdown) a notification in flight is cut short at once, whatever the
//! endpoint does, and its packet dropped, as Kea drops every parked one
//! then. The host may be a name, an IPv4 address or an IPv6 address in
//! brackets (`http://[2001:db8::1]:8080/leases`).
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

// Hook code needs no unsafe: the SDK holds it all (kea_hook! allows it
// for the symbols it emits; `forbid` would refuse that).
#![deny(unsafe_code)]

use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kea_hooks::dhcp4::{self, Lease4};
use kea_hooks::net::{self, Deadline, Interrupt, TcpConnection};
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
    /// `http://HOST[:PORT][/PATH]` (plain HTTP; an IPv6 HOST in brackets).
    url: String,
    /// How long a notification may take, name lookup and connecting
    /// included.
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
    /// A name, or an IP address (an IPv6 one without its brackets).
    host: String,
    port: u16,
    path: String,
}

impl Target {
    /// Parses `http://HOST[:PORT][/PATH]`, HOST a name, an IPv4 address or
    /// an IPv6 address in brackets (`http://[2001:db8::1]:8080/leases`);
    /// the error names what is wrong.
    fn parse(url: &str) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or("only http:// URLs are supported")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err("user information (user@host) is not supported".into());
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (ip, after) = bracketed.split_once(']').ok_or("an IPv6 address must end with ']'")?;
            ip.parse::<Ipv6Addr>().map_err(|_| format!("[{ip}] is not an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| format!("unexpected {p:?} after [{ip}]"))?),
            };
            (ip, port)
        } else {
            match authority.split_once(':') {
                Some((h, _)) if authority.matches(':').count() > 1 => {
                    return Err(format!("an IPv6 address goes in brackets: http://[{authority}]/... (not {h:?}...)"));
                }
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| format!("bad port {p:?}"))?,
            None => 80,
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        Ok(Target { host: host.to_owned(), port, path: path.to_owned() })
    }

    /// The `Host` header's value: `name:port`, `[v6]:port`.
    fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// POSTs `body` and returns the answer's status code, all of it (name
/// lookup, connect, request, status line) within `deadline`, which also
/// ends at once at unload (its interrupt).
fn post(target: &Target, body: &str, deadline: &Deadline) -> Result<u16, Error> {
    let addrs = net::resolve(&target.host, target.port, deadline)?;
    let mut conn = TcpConnection::connect(&addrs, deadline)?;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        target.path,
        target.host_header(),
        body.len()
    );
    conn.write_all(request.as_bytes(), deadline)?;
    // The status line is all that is needed.
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = conn.read(&mut buf, deadline)?;
        if n == 0 {
            return Err(Error::msg("the endpoint closed the connection without answering"));
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 8192 {
            return Err(Error::msg("no status line"));
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Error::msg(format!("bad status line {:?}", line.lines().next().unwrap_or(""))))
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
    /// Ends the workers' waits on the endpoint (and on DNS) at unload.
    interrupt: Interrupt,
    queue: JobQueue<Notification>,
    _workers: Vec<Worker>,
}

impl Drop for LeaseNotifier {
    /// Unload: a worker waiting on the endpoint or on a lookup returns at
    /// once (its packet is dropped, as unload drops every parked one), so
    /// joining the workers (next, as the fields drop) waits for nobody.
    fn drop(&mut self) {
        self.interrupt.fire();
    }
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
        let interrupt = Interrupt::new()?;
        let (on_failure, worker_counts, worker_interrupt) = (p.on_failure, Arc::clone(&counts), interrupt.clone());
        let (queue, workers) =
            JobQueue::with_workers("notifier", p.workers, p.queue_size, move |n: Notification, stop: &StopToken| {
                if stop.is_stopped() {
                    return; // unloading: the packet is dropped with its token
                }
                worker_counts.in_flight.fetch_add(1, Ordering::Relaxed);
                let deadline = Deadline::after(timeout).or_interrupt(&worker_interrupt);
                let outcome = post(&target, &n.body, &deadline);
                worker_counts.in_flight.fetch_sub(1, Ordering::Relaxed);
                match outcome {
                    Err(e) if e.kind() == ErrorKind::Interrupted => {
                        // Unloading: the packet is dropped with its token.
                        tracing::debug!(xid = n.parked.xid(), "notification cut short by unload");
                    }
                    Ok(code) if (200..300).contains(&code) => {
                        worker_counts.notified.fetch_add(1, Ordering::Relaxed);
                        count("lease-notifier.notified");
                        n.parked.resume();
                    }
                    other => {
                        let why = match other {
                            Ok(code) => format!("status {code}"),
                            Err(e) => e.to_string(),
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
        Ok(LeaseNotifier { url: p.url, on_failure: p.on_failure, counts, interrupt, queue, _workers: workers })
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
        assert!(Target::parse("http://x:0/").is_err());
    }

    #[test]
    fn ipv6_urls_take_brackets_and_keep_them_in_the_host_header() {
        let t = Target::parse("http://[2001:2::1]:8080/leases").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("2001:2::1", 8080, "/leases"));
        assert_eq!(t.host_header(), "[2001:2::1]:8080");
        let t = Target::parse("http://[::1]").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str(), t.host_header().as_str()), ("::1", 80, "/", "[::1]:80"));
        assert_eq!(Target::parse("http://ipam.example:81/x").unwrap().host_header(), "ipam.example:81");
        let e = Target::parse("http://2001:2::1:8080/leases").unwrap_err();
        assert!(e.contains("in brackets"), "{e}");
        assert!(Target::parse("http://[2001:2::1/leases").unwrap_err().contains("']'"));
        assert!(Target::parse("http://[not-v6]:80/").unwrap_err().contains("not an IPv6 address"));
        assert!(Target::parse("http://[::1]x/").is_err());
        assert!(Target::parse("http://[::1]:/").is_err());
        assert!(Target::parse("http://u@host/").is_err());
    }
}
