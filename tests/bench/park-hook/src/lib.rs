//! `libdhcp_bench_park.so`: the parking benchmark's hook.
//!
//! With `"park": true` it parks every query at leases4_committed, hands it
//! to a worker thread, which resumes it at once: the whole round trip of a
//! parked packet (park, a thread hop, Kea's main thread, unpark) with no
//! work in between. With `"park": false` it has the same callouts and does
//! the same bookkeeping without parking: the unparked baseline. Either way
//! it times each query from leases4_committed to its pkt4_send (the
//! round trip, when parked), and answers `bench-park-stats` with the count,
//! mean and percentiles, in nanoseconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kea_hooks::parking::Parked;
use kea_hooks::dhcp4;
use kea_hooks::prelude::*;
use kea_hooks::threads::{JobQueue, Worker};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    park: bool,
}

/// Latency histogram: bucket i counts samples in [2^i, 2^(i+1)) ns.
struct Histogram {
    buckets: [AtomicU64; 40],
    sum: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Histogram { buckets: std::array::from_fn(|_| AtomicU64::new(0)), sum: AtomicU64::new(0), count: AtomicU64::new(0) }
    }

    fn add(&self, ns: u64) {
        let i = (63 - ns.max(1).leading_zeros() as usize).min(39);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The upper bound of the bucket holding quantile `q`.
    fn quantile(&self, q: f64) -> u64 {
        let n = self.count.load(Ordering::Relaxed);
        let want = ((n as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= want.max(1) {
                return 1u64 << (i + 1);
            }
        }
        0
    }
}

/// When the query reached leases4_committed.
#[derive(Clone, Copy)]
struct Committed(Instant);

struct BenchPark {
    queue: Option<JobQueue<Parked<dhcp4::Leases4Committed>>>,
    _worker: Option<Worker>,
    rtt: Arc<Histogram>,
}

impl Hook for BenchPark {
    const NAME: &'static str = "bench-park";
    type Params = Params;

    fn load(p: Params, _: &LoadContext) -> Result<Self, Error> {
        let (queue, worker) = if p.park {
            let (q, w) = JobQueue::with_worker("bench-park", 4096, |parked: Parked<_>, _| parked.resume())?;
            (Some(q), Some(w))
        } else {
            (None, None)
        };
        Ok(BenchPark { queue, _worker: worker, rtt: Arc::new(Histogram::new()) })
    }

    fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
        commands.add("bench-park-stats", |h: &Self, _: &CommandContext<'_>, _: Option<serde_json::Value>| {
            let n = h.rtt.count.load(Ordering::Relaxed);
            let mean = h.rtt.sum.load(Ordering::Relaxed).checked_div(n).unwrap_or(0);
            Answer::success("round trips").with_arguments(json!({
                "count": n, "mean-ns": mean, "p50-ns": h.rtt.quantile(0.5), "p99-ns": h.rtt.quantile(0.99),
            }))
        })?;
        Ok(())
    }
}

impl Callout<dhcp4::Leases4Committed> for BenchPark {
    fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
        cx.set_packet_value(Committed(Instant::now()))?;
        if let Some(queue) = &self.queue {
            if let Err(parked) = queue.push(cx.park()?) {
                parked.resume();
            }
        }
        Ok(())
    }
}

impl Callout<dhcp4::Pkt4Send> for BenchPark {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
        if let Some(Committed(at)) = cx.take_packet_value::<Committed>()? {
            self.rtt.add(at.elapsed().as_nanos() as u64);
        }
        Ok(())
    }
}

kea_hooks::kea_hook!(BenchPark);
