//! A DNS server that never answers, for the resolver of processes started
//! in a test's network namespace.

use std::fs;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::in_netns;

/// Receives DNS queries on 127.0.0.1:53 (UDP) in a network namespace and
/// never answers, and is that namespace's only name server: `ip netns
/// exec NS` bind-mounts `/etc/netns/NS/resolv.conf` over `/etc/resolv.conf`
/// for what it starts (so a Kea started after this looks names up here),
/// and this writes one naming 127.0.0.1 with glibc's longest `timeout`
/// and `attempts` (30 s, 5): a lookup of a name that is not in
/// `/etc/hosts` hangs for minutes. Removes the file when dropped.
pub struct SilentDns {
    dir: PathBuf,
    queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentDns {
    /// Starts it for namespace `ns`; start it before the process that is
    /// to use it.
    pub fn start(ns: &str) -> SilentDns {
        let socket = in_netns(ns, || UdpSocket::bind("127.0.0.1:53").expect("bind 127.0.0.1:53 in the namespace"));
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let dir = PathBuf::from("/etc/netns").join(ns);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:30 attempts:5\n").unwrap();
        let (queries, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (q, s) = (Arc::clone(&queries), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Relaxed) {
                if socket.recv_from(&mut buf).is_ok() {
                    q.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        SilentDns { dir, queries, stop, thread: Some(thread) }
    }

    /// How many queries it has received.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// Waits until it has received more than `n` queries; false if it has
    /// not within `timeout`.
    pub fn wait_for_more_than(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.queries() <= n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for SilentDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = fs::remove_dir_all(&self.dir);
        // /etc/netns itself, if no other test uses it.
        let _ = fs::remove_dir(self.dir.parent().unwrap());
    }
}
