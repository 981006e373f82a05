//! Network calls with a bound, for a hook's own threads: name lookups and
//! TCP connections whose every wait ends at a [`Deadline`], or at once when
//! an [`Interrupt`] fires (at unload).
//!
//! A hook's threads are joined at unload (see [`crate::threads`]), so a
//! thread stuck on a remote end holds up Kea's reload or shutdown, and a
//! packet parked for it waits as long. std's calls bound each step at best
//! (`connect_timeout`, `set_read_timeout`: a peer that trickles bytes
//! renews the timeout on every read), and name resolution (`ToSocketAddrs`,
//! glibc's `getaddrinfo`) has no bound the caller sets at all: a DNS server
//! that does not answer holds the thread for as long as `resolv.conf`'s
//! `timeout` and `attempts` allow, minutes at worst, and nothing can cut
//! it short. Here one [`Deadline`] bounds the whole exchange, lookup
//! included, and an [`Interrupt`] fired from another thread (the hook's
//! `Drop`, before its workers are joined) ends every wait on it at once.
//!
//! ```no_run
//! use kea_hooks::net::{self, Deadline, Interrupt, TcpConnection};
//! use std::time::Duration;
//!
//! fn ping(host: &str, interrupt: &Interrupt) -> Result<Vec<u8>, kea_hooks::Error> {
//!     // 2 s for all of it, and not a moment once the hook unloads.
//!     let deadline = Deadline::after(Duration::from_secs(2)).or_interrupt(interrupt);
//!     let addrs = net::resolve(host, 7, &deadline)?;
//!     let mut conn = TcpConnection::connect(&addrs, &deadline)?;
//!     conn.write_all(b"ping\n", &deadline)?;
//!     let mut answer = vec![0; 64];
//!     let n = conn.read(&mut answer, &deadline)?;
//!     answer.truncate(n);
//!     Ok(answer)
//! }
//! ```
//!
//! # Name lookups
//! [`resolve`] reads an IP address itself, without any lookup, and looks
//! a name up with glibc's `getaddrinfo_a`: glibc runs the lookup (files,
//! DNS, whatever `nsswitch.conf` says) on a thread of its own, and the
//! caller waits for it with `gai_suspend` (in slices of 20 ms, to see its
//! interrupt) until the deadline. A lookup
//! that has not ended by then is cancelled if glibc has not started it,
//! else abandoned to glibc: its few hundred bytes stay allocated until
//! glibc is done with it and are freed by a later `resolve`. While
//! [`MAX_ABANDONED`] abandoned lookups still run, `resolve` fails at once
//! rather than give a resolver that hangs more work.
//!
//! Why this design: a thread of the hook's own in `getaddrinfo` would be
//! joined at unload (the unload then waits for DNS) or left running the
//! library's code after Kea unmaps it (a crash). glibc's threads run only
//! C library code and are given no callback (no pointer into the library),
//! so abandoning a lookup to them is safe across unload and reload. A
//! killable helper process per lookup would cost a process start each
//! time and a program to ship; resolving once at load would not follow
//! DNS changes, and would move the wait onto Kea's main thread.
//!
//! # Writes and SIGPIPE
//! Writes use `send` with `MSG_NOSIGNAL` (as std's `TcpStream` does): a
//! peer that vanished mid-write is an error (`EPIPE`, `ECONNRESET`), never
//! a signal, whatever SIGPIPE's disposition (the SDK also ignores it at
//! load).

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::ffi::net::{self as sys, Abandoned, Lookup};
use crate::ffi::spawn::{eventfd, poll};
use crate::threads::StopToken;

/// How many lookups [`resolve`] may have abandoned to glibc, still
/// running, at once (per loaded instance of the library); past it,
/// `resolve` of a name fails at once.
pub const MAX_ABANDONED: usize = 16;

/// Ends waits on the network from another thread: every wait of a
/// [`Deadline`] that names it returns [`ErrorKind::Interrupted`] as soon
/// as it fires, and every later one at once. Clones fire together.
///
/// Keep one in the hook and fire it first thing in the hook's `Drop`,
/// before the fields holding its workers are dropped (and joined); or tie
/// it to a worker's stop token with [`fire_on_stop`](Self::fire_on_stop).
#[derive(Clone)]
pub struct Interrupt(Arc<InterruptInner>);

struct InterruptInner {
    fired: AtomicBool,
    /// An eventfd, readable once fired (never read back).
    wake: File,
}

impl Interrupt {
    /// A new interrupt, not fired. Fails only when the process is out of
    /// file descriptors.
    pub fn new() -> Result<Interrupt, Error> {
        let fd = eventfd().map_err(|e| Error::new(ErrorKind::Hook, format!("cannot make an interrupt (eventfd): {e}")))?;
        Ok(Interrupt(Arc::new(InterruptInner { fired: AtomicBool::new(false), wake: File::from(fd) })))
    }

    /// Fires: every wait on it ends now, and every later one at once.
    pub fn fire(&self) {
        if !self.0.fired.swap(true, Ordering::AcqRel) {
            // An eventfd counter cannot overflow from one write of 1.
            let _ = (&self.0.wake).write(&1u64.to_ne_bytes());
        }
    }

    /// Whether it has fired.
    pub fn is_fired(&self) -> bool {
        self.0.fired.load(Ordering::Acquire)
    }

    /// Fires it when `token`'s worker is asked to stop (at once if it
    /// was). Call it once per worker (each call registers a callback that
    /// lives as long as the token).
    pub fn fire_on_stop(&self, token: &StopToken) {
        let me = self.clone();
        token.on_stop(move || me.fire());
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.0.wake.as_fd()
    }
}

impl fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interrupt").field("fired", &self.is_fired()).finish()
    }
}

/// When network waits give up: at an instant, or earlier when an
/// [`Interrupt`] fires. One deadline is meant to bound a whole exchange:
/// pass the same one to every call.
#[derive(Clone, Debug)]
pub struct Deadline {
    at: Instant,
    interrupt: Option<Interrupt>,
}

impl Deadline {
    /// Waits end at `at`.
    pub fn at(at: Instant) -> Deadline {
        Deadline { at, interrupt: None }
    }

    /// Waits end `timeout` from now.
    pub fn after(timeout: Duration) -> Deadline {
        Deadline::at(Instant::now() + timeout)
    }

    /// Waits also end when `interrupt` fires.
    pub fn or_interrupt(mut self, interrupt: &Interrupt) -> Deadline {
        self.interrupt = Some(interrupt.clone());
        self
    }

    /// The instant waits end at.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// The time left (zero once passed).
    pub fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether the interrupt, if any, has fired.
    pub fn is_interrupted(&self) -> bool {
        self.interrupt.as_ref().is_some_and(Interrupt::is_fired)
    }

    /// The time left, or why there is none: `what` names the wait.
    fn remaining(&self, what: &dyn Fn() -> String) -> Result<Duration, Error> {
        if self.is_interrupted() {
            return Err(Error::new(ErrorKind::Interrupted, format!("{}: interrupted", what())));
        }
        let left = self.left();
        if left.is_zero() {
            return Err(Error::new(ErrorKind::TimedOut, format!("{}: timed out", what())));
        }
        Ok(left)
    }

    /// Waits until `fd` has one of `events` (or an error or hang-up, for
    /// the next call on it to report), the deadline passes or the
    /// interrupt fires.
    fn wait_for(&self, fd: BorrowedFd<'_>, events: i16, what: &dyn Fn() -> String) -> Result<(), Error> {
        loop {
            let left = self.remaining(what)?;
            let ms = i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
            let mut fds = vec![(fd, events, 0i16)];
            if let Some(i) = &self.interrupt {
                fds.push((i.fd(), libc::POLLIN, 0));
            }
            poll(&mut fds, ms).map_err(|e| Error::new(ErrorKind::Network, format!("{}: poll: {e}", what())))?;
            if fds[0].2 != 0 {
                return Ok(());
            }
            // Timed out or interrupted: `remaining` says which.
        }
    }
}

impl From<Instant> for Deadline {
    fn from(at: Instant) -> Deadline {
        Deadline::at(at)
    }
}

// ---- name lookups ----

/// Lookups given up while glibc still runs them (see the module docs).
static ABANDONED: Mutex<Vec<Abandoned>> = Mutex::new(Vec::new());

/// How often a wait for a lookup looks at its interrupt (glibc's
/// `gai_suspend` cannot wait on a file descriptor) and at the lookup's
/// status (so a wake-up `gai_suspend` missed costs no more than this).
const LOOKUP_SLICE: Duration = Duration::from_millis(20);

/// The addresses of `host` (an IPv4 or IPv6 address, brackets allowed
/// around the latter, or a name) with `port`, within `deadline`.
///
/// An address is read without any lookup. A name is looked up as
/// `getaddrinfo` would (`/etc/hosts`, DNS, ... as `nsswitch.conf` says),
/// but on one of glibc's threads: the caller waits no longer than the
/// deadline, and returns at once when its interrupt fires (see the module
/// docs). Fails ([`ErrorKind::TimedOut`], [`ErrorKind::Interrupted`], or
/// [`ErrorKind::Network`] naming glibc's reason) when there is no address
/// in time, and at once while [`MAX_ABANDONED`] earlier lookups still hang.
pub fn resolve(host: &str, port: u16, deadline: &Deadline) -> Result<Vec<SocketAddr>, Error> {
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let what = || format!("looking up {host}");
    deadline.remaining(&what)?;
    {
        let mut abandoned = ABANDONED.lock().unwrap_or_else(|e| e.into_inner());
        abandoned.retain_mut(|a| !a.ended());
        if abandoned.len() >= MAX_ABANDONED {
            return Err(Error::new(
                ErrorKind::Network,
                format!("{}: {MAX_ABANDONED} earlier lookups that timed out are still running (the resolver hangs)", what()),
            ));
        }
    }
    let mut lookup = Lookup::start(host).map_err(|e| Error::new(ErrorKind::Network, format!("{}: {e}", what())))?;
    let answer = loop {
        let left = match deadline.remaining(&what) {
            Ok(left) => left,
            Err(e) => {
                if let Some(a) = lookup.abandon() {
                    ABANDONED.lock().unwrap_or_else(|e| e.into_inner()).push(a);
                }
                return Err(e);
            }
        };
        if let Some(answer) = lookup.wait(left.min(LOOKUP_SLICE)) {
            break answer;
        }
    };
    let mut addrs = answer.map_err(|e| Error::new(ErrorKind::Network, format!("{}: {e}", what())))?;
    if addrs.is_empty() {
        return Err(Error::new(ErrorKind::Network, format!("{}: no address", what())));
    }
    for a in &mut addrs {
        a.set_port(port);
    }
    Ok(addrs)
}

/// How many lookups [`resolve`] has abandoned that glibc still runs.
pub fn abandoned_lookups() -> usize {
    let mut abandoned = ABANDONED.lock().unwrap_or_else(|e| e.into_inner());
    abandoned.retain_mut(|a| !a.ended());
    abandoned.len()
}

// ---- TCP ----

/// A TCP connection whose every wait is bounded by a [`Deadline`].
#[derive(Debug)]
pub struct TcpConnection {
    stream: TcpStream,
    peer: SocketAddr,
}

impl TcpConnection {
    /// Connects to the first of `addrs` that accepts, trying them in
    /// order, all within `deadline`. The error names the last address
    /// tried ([`ErrorKind::TimedOut`], [`ErrorKind::Interrupted`], or
    /// [`ErrorKind::Network`] for a refusal and the like).
    pub fn connect(addrs: &[SocketAddr], deadline: &Deadline) -> Result<TcpConnection, Error> {
        let mut last = Error::new(ErrorKind::Network, "no address to connect to");
        for &peer in addrs {
            let what = || format!("connecting to {peer}");
            deadline.remaining(&what)?;
            match Self::connect_one(peer, deadline, &what) {
                Ok(conn) => return Ok(conn),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn connect_one(peer: SocketAddr, deadline: &Deadline, what: &dyn Fn() -> String) -> Result<TcpConnection, Error> {
        let network = |e: io::Error| Error::new(ErrorKind::Network, format!("{}: {e}", what()));
        let (stream, connected) = sys::connect_start(&peer).map_err(network)?;
        if !connected {
            deadline.wait_for(stream.as_fd(), libc::POLLOUT, what)?;
            if let Some(e) = stream.take_error().map_err(network)? {
                return Err(network(e));
            }
        }
        Ok(TcpConnection { stream, peer })
    }

    /// The address connected to.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Writes all of `data` within `deadline`. A peer that closed or reset
    /// the connection is an [`ErrorKind::Network`] error (never SIGPIPE).
    pub fn write_all(&mut self, mut data: &[u8], deadline: &Deadline) -> Result<(), Error> {
        let peer = self.peer;
        let what = || format!("writing to {peer}");
        while !data.is_empty() {
            deadline.remaining(&what)?;
            match self.stream.write(data) {
                Ok(0) => return Err(Error::new(ErrorKind::Network, format!("{}: the connection took no more", what()))),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => deadline.wait_for(self.stream.as_fd(), libc::POLLOUT, &what)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::new(ErrorKind::Network, format!("{}: {e}", what()))),
            }
        }
        Ok(())
    }

    /// Reads what has arrived (waiting within `deadline` until something
    /// has) into `buf`: how many bytes, 0 when the peer closed the
    /// connection.
    pub fn read(&mut self, buf: &mut [u8], deadline: &Deadline) -> Result<usize, Error> {
        let peer = self.peer;
        let what = || format!("reading from {peer}");
        loop {
            deadline.remaining(&what)?;
            match self.stream.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => deadline.wait_for(self.stream.as_fd(), libc::POLLIN, &what)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::new(ErrorKind::Network, format!("{}: {e}", what()))),
            }
        }
    }

    /// The connection as a std stream (non-blocking).
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

    #[test]
    fn addresses_are_read_without_a_lookup() {
        let far_past = Deadline::at(Instant::now() - Duration::from_secs(1));
        // A deadline already passed still gives an address: nothing waits.
        assert_eq!(resolve("198.18.0.1", 80, &far_past).unwrap(), vec![SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80))]);
        let v6: Ipv6Addr = "2001:2::1".parse().unwrap();
        assert_eq!(resolve("[2001:2::1]", 8080, &far_past).unwrap(), vec![SocketAddr::from((v6, 8080))]);
        assert_eq!(resolve("2001:2::1", 1, &far_past).unwrap(), vec![SocketAddr::from((v6, 1))]);
        let e = resolve("localhost", 1, &far_past).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    }

    /// (`localhost` is in /etc/hosts: no query leaves the machine. A name
    /// that hangs is tested with a silent DNS server in a namespace, in
    /// tests/tests/lease_notifier.rs.)
    #[test]
    fn names_are_looked_up() {
        let addrs = resolve("localhost", 631, &Deadline::after(Duration::from_secs(10))).unwrap();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 631), "{addrs:?}");
        assert_eq!(abandoned_lookups(), 0);
    }

    #[test]
    fn a_fired_interrupt_ends_every_wait_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let interrupt = Interrupt::new().unwrap();
        let deadline = Deadline::after(Duration::from_secs(30)).or_interrupt(&interrupt);
        let mut conn = TcpConnection::connect(&[listener.local_addr().unwrap()], &deadline).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let fire = interrupt.clone();
        let started = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            fire.fire();
        });
        let e = conn.read(&mut [0; 16], &deadline).unwrap_err();
        t.join().unwrap();
        assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(resolve("localhost", 1, &deadline).unwrap_err().kind(), ErrorKind::Interrupted);
        assert_eq!(TcpConnection::connect(&[listener.local_addr().unwrap()], &deadline).unwrap_err().kind(), ErrorKind::Interrupted);
    }

    #[test]
    fn a_read_ends_at_the_deadline_and_data_flows() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut conn = TcpConnection::connect(&[listener.local_addr().unwrap()], &Deadline::after(Duration::from_secs(5))).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let started = Instant::now();
        let e = conn.read(&mut [0; 16], &Deadline::after(Duration::from_millis(200))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        conn.write_all(b"hello", &Deadline::after(Duration::from_secs(5))).unwrap();
        let mut got = [0; 5];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        server.write_all(b"back").unwrap();
        drop(server);
        let mut buf = [0; 16];
        let n = conn.read(&mut buf, &Deadline::after(Duration::from_secs(5))).unwrap();
        assert_eq!(&buf[..n], b"back");
        assert_eq!(conn.read(&mut buf, &Deadline::after(Duration::from_secs(5))).unwrap(), 0);
    }

    #[test]
    fn a_refused_connection_is_a_network_error() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = TcpConnection::connect(&[SocketAddr::from((Ipv4Addr::LOCALHOST, port))], &Deadline::after(Duration::from_secs(5)))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{e}");
        assert!(e.to_string().contains(&format!("connecting to 127.0.0.1:{port}")), "{e}");
    }
}
