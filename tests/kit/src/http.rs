//! A small HTTP endpoint inside a test's network namespace, for hooks that
//! call out over HTTP: it records every request body (JSON) and answers as
//! the test says, hostile answers included (none, a stalled read, a reset
//! mid-request); and [`FullListener`], whose connections never complete.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::netns::in_netns;

/// How the endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpAnswer {
    /// 200 at once.
    Ok,
    /// This status at once.
    Status(u16),
    /// 200 once [`Endpoint::release`] is called (or the endpoint dropped).
    Hold,
    /// Nothing: the connection stays open, unanswered, until the client
    /// closes it.
    Never,
    /// Reads nothing at all and answers nothing until the endpoint is
    /// dropped: a client with more to send than the sockets' buffers hold
    /// stays blocked in its write.
    Stall,
    /// Reads this many bytes of the request (all of it, if it is shorter),
    /// then resets the connection (RST): mid-write for a client still
    /// sending, mid-read for one waiting for the answer.
    ResetAfter(usize),
}

struct State {
    answer: HttpAnswer,
    received: Vec<Value>,
    /// The `Host` header of each request read in full.
    hosts: Vec<String>,
    /// Connections accepted.
    connections: usize,
    /// Bumped by `release`: held requests see it change.
    releases: u64,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

/// An HTTP endpoint in a network namespace (127.0.0.1 unless told
/// otherwise); stopped when dropped.
pub struct Endpoint {
    addr: SocketAddr,
    ns: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Endpoint {
    /// Listens on 127.0.0.1 (a free port) in namespace `ns`, answering
    /// [`HttpAnswer::Ok`] until told otherwise.
    pub fn start(ns: &str) -> Endpoint {
        Endpoint::start_on(ns, IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// Listens on `ip` (a free port) in namespace `ns` (the address must
    /// be configured there).
    pub fn start_on(ns: &str, ip: IpAddr) -> Endpoint {
        let listener = in_netns(ns, || TcpListener::bind((ip, 0)).expect("bind the endpoint"));
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                answer: HttpAnswer::Ok,
                received: Vec::new(),
                hosts: Vec::new(),
                connections: 0,
                releases: 0,
                stopping: false,
            }),
            changed: Condvar::new(),
        });
        let s = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.state.lock().unwrap_or_else(|e| e.into_inner()).stopping {
                    break;
                }
                let Ok(conn) = conn else { continue };
                s.state.lock().unwrap_or_else(|e| e.into_inner()).connections += 1;
                s.changed.notify_all();
                let s = Arc::clone(&s);
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Endpoint { addr, ns: ns.to_owned(), shared, acceptor: Some(acceptor) }
    }

    /// `http://ADDRESS:PORT/leases` (an IPv6 address in brackets).
    pub fn url(&self) -> String {
        format!("http://{}/leases", self.addr)
    }

    /// The `Host` headers of the requests read in full so far.
    pub fn hosts(&self) -> Vec<String> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).hosts.clone()
    }

    /// Waits until `n` connections have been accepted (panics after
    /// `timeout`).
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.connections < n {
            let now = Instant::now();
            assert!(now < deadline, "the endpoint accepted {} connections, not {n}", state.connections);
            state = self.shared.changed.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Sets how the next requests are answered.
    pub fn answer(&self, answer: HttpAnswer) {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).answer = answer;
    }

    /// Answers the requests held so far ([`HttpAnswer::Hold`]) with 200.
    pub fn release(&self) {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).releases += 1;
        self.shared.changed.notify_all();
    }

    /// The request bodies received so far.
    pub fn received(&self) -> Vec<Value> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).received.clone()
    }

    /// Waits until `n` requests have arrived (panics after `timeout`) and
    /// returns their bodies.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.received.len() < n {
            let now = Instant::now();
            assert!(now < deadline, "the endpoint got {} requests, not {n}", state.received.len());
            state = self.shared.changed.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        state.received.clone()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        {
            let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
            state.stopping = true;
            state.releases += 1;
        }
        self.shared.changed.notify_all();
        // Wake the acceptor.
        let addr = self.addr;
        let _ = in_netns(&self.ns, move || TcpStream::connect(addr));
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

/// Resets `conn` (RST rather than FIN) as it is dropped.
fn reset(conn: TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt on the open socket `conn` owns, with a pointer to
    // a linger struct of the size given, alive for the call.
    unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(conn);
}

/// Waits until the endpoint is stopped (dropped).
fn until_stopped(shared: &Shared) {
    let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    while !state.stopping {
        state = shared.changed.wait(state).unwrap_or_else(|e| e.into_inner());
    }
}

/// Reads one request, records its body, answers.
fn serve(mut conn: TcpStream, shared: &Shared) {
    let answer = shared.state.lock().unwrap_or_else(|e| e.into_inner()).answer;
    if answer == HttpAnswer::Stall {
        until_stopped(shared);
        return;
    }
    let limit = match answer {
        HttpAnswer::ResetAfter(n) => n,
        _ => usize::MAX,
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let mut request = None;
    while data.len() < limit {
        let want = buf.len().min(limit - data.len());
        let n = match conn.read(&mut buf[..want]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        data.extend_from_slice(&buf[..n]);
        let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&data[..i]).to_ascii_lowercase();
        let field = |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()));
        let length = field("content-length:").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
        if data.len() >= i + 4 + length {
            request = Some((i + 4, length, field("host:").unwrap_or_default()));
            break;
        }
    }
    if let HttpAnswer::ResetAfter(_) = answer {
        reset(conn);
        return;
    }
    let Some((head_len, length, host)) = request else { return };
    let body: Value = serde_json::from_slice(&data[head_len..head_len + length]).unwrap_or(Value::Null);
    {
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.received.push(body);
        state.hosts.push(host);
    }
    shared.changed.notify_all();
    let status = match answer {
        HttpAnswer::Ok => 200,
        HttpAnswer::Status(code) => code,
        HttpAnswer::Hold => {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            let seen = state.releases;
            while state.releases == seen {
                state = shared.changed.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            200
        }
        HttpAnswer::Never => {
            // Until the client gives up and closes.
            let _ = conn.read(&mut buf);
            return;
        }
        HttpAnswer::Stall | HttpAnswer::ResetAfter(_) => return,
    };
    let _ = conn.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
}

/// A TCP listener on 127.0.0.1 in a network namespace whose accept queue
/// is full (one connection the test made, never accepted, with a backlog
/// of 0): the kernel drops every further SYN, so a client's connect hangs,
/// retrying, until its own timeout. Closed when dropped.
pub struct FullListener {
    addr: SocketAddr,
    _listener: TcpListener,
    _filler: TcpStream,
}

impl FullListener {
    /// Listens on a free port in namespace `ns` and fills the queue.
    pub fn start(ns: &str) -> FullListener {
        in_netns(ns, || {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind the listener");
            // SAFETY: listen(2) again on the socket `listener` owns only
            // lowers its backlog; no memory is involved.
            let rc = unsafe { libc::listen(listener.as_raw_fd(), 0) };
            assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
            let addr = listener.local_addr().unwrap();
            let filler = TcpStream::connect(addr).expect("fill the accept queue");
            FullListener { addr, _listener: listener, _filler: filler }
        })
    }

    /// `http://127.0.0.1:PORT/leases`.
    pub fn url(&self) -> String {
        format!("http://{}/leases", self.addr)
    }
}

/// `GET url` with curl (as the tests scrape metrics pages), inside network
/// namespace `ns` or in this process's own, with `query`'s pairs
/// URL-encoded into the query string, within `timeout`: the body of a 2xx
/// answer, else curl's error (a refused connection, a 5xx, the timeout).
pub fn curl_get(ns: Option<&str>, url: &str, query: &[(&str, &str)], timeout: std::time::Duration) -> Result<String, String> {
    let curl = crate::env::program("curl", "curl");
    let mut args: Vec<String> = vec!["-sS".into(), "--fail".into(), "--max-time".into(), format!("{:.3}", timeout.as_secs_f64())];
    if !query.is_empty() {
        args.push("-G".into());
        for (k, v) in query {
            args.extend(["--data-urlencode".into(), format!("{k}={v}")]);
        }
    }
    args.push(url.to_owned());
    let mut cmd = match ns {
        Some(ns) => crate::netns::NetPair::command_in(ns, curl.to_str().unwrap()),
        None => std::process::Command::new(&curl),
    };
    let out = cmd.args(&args).stdin(std::process::Stdio::null()).output().map_err(|e| format!("run curl: {e}"))?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(|e| format!("GET {url}: not UTF-8: {e}"))
    } else {
        Err(format!("GET {url}: curl {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}
