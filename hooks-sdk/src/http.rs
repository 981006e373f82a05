//! A small HTTP/1.1 endpoint a hook serves from threads of its own: `GET`
//! requests answered by a closure (a metrics page, a status page), with
//! bounds that keep Kea safe from its clients.
//!
//! A hook starts a [`Server`] in `load` and keeps it in its value; dropping
//! it (with the hook, at unload or reload) stops it and joins its threads
//! at once, whatever its clients are doing: every thread of the server
//! waits in `poll` on its socket and on a stop eventfd together, so no
//! client (one that trickles its request a byte at a time, one that
//! connects and sends nothing, one that does not read its answer) can hold
//! up Kea's unload, and the stop never depends on connecting to itself.
//!
//! | Bound | Default ([`Limits`]) | What happens past it |
//! |---|---|---|
//! | a deadline per request, from the connection's acceptance to the last byte of the answer (reading the request, the handler, writing the answer) | 10 s | the connection is closed (`408 Request Timeout` first, if the request had not arrived) |
//! | requests served at once (one thread each) | 4 | further connections wait, accepted, for a free thread |
//! | connections waiting for a thread | 16 | a connection beyond gets `503 Service Unavailable` at once and is closed |
//! | the request's line and headers | 16 KiB | `431 Request Header Fields Too Large` |
//!
//! Only `GET` reaches the handler (anything else gets `405 Method Not
//! Allowed`; a request line that is not HTTP gets `400 Bad Request`); a
//! request body is not read. Every answer closes its connection
//! (`Connection: close`). The handler runs on a server thread, for one
//! request at a time per thread: it must itself return within the
//! request's deadline ([`Request::time_left`]). In particular it waits for
//! Kea's main thread with
//! [`main_thread::call_timeout`](crate::threads::main_thread::call_timeout),
//! never `call`, so a busy main thread costs the client a `503`, not a
//! hang. A panic in the handler answers `500 Internal Server Error` and is
//! logged; the thread goes on serving.
//!
//! Writes to a client that has gone (closed or reset) fail with an error
//! the server drops with the connection: sockets are written with
//! `MSG_NOSIGNAL`, and the SDK ignores SIGPIPE in any case.
//!
//! Plain HTTP, no authentication: bind it to loopback or a management
//! address.
//!
//! ```no_run
//! use kea_hooks::http::{self, Limits, Response, Server};
//! use kea_hooks::prelude::*;
//! use kea_hooks::threads::main_thread;
//!
//! struct Status {
//!     _http: Server,
//! }
//!
//! impl Hook for Status {
//!     const NAME: &'static str = "status";
//!     type Params = NoParameters;
//!     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> {
//!         let listener = http::bind("127.0.0.1:9100").map_err(|e| e.context("at 'listen'"))?;
//!         let server = Server::start("status-http", listener, Limits::default(), |request| {
//!             if request.path() != "/status" {
//!                 return Response::text(404, "see /status\n");
//!             }
//!             let count = main_thread::call_timeout(request.time_left(), || {
//!                 kea_hooks::stats::get_integer("pkt4-received")
//!             });
//!             match count {
//!                 Ok(Ok(n)) => Response::text(200, format!("pkt4-received {}\n", n.unwrap_or(0))),
//!                 _ => Response::text(503, "Kea is busy\n"),
//!             }
//!         })?;
//!         Ok(Status { _http: server })
//!     }
//!     fn callouts_required(&self) -> bool {
//!         false
//!     }
//! }
//! # kea_hooks::kea_hook!(Status);
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::ffi::fd as sys;
use crate::threads::{JobQueue, StopToken, Worker};

/// The bounds a [`Server`] keeps (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long one request may take, from its connection's acceptance to
    /// the last byte of its answer. Default 10 s.
    pub deadline: Duration,
    /// Requests served at once (one thread each). Default 4; at least 1.
    pub max_clients: usize,
    /// Accepted connections that may wait for a free thread; a connection
    /// beyond gets `503` at once. Default 16; at least 1.
    pub backlog: usize,
    /// The largest request line and headers, bytes. Default 16 KiB.
    pub max_request_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { deadline: Duration::from_secs(10), max_clients: 4, backlog: 16, max_request_bytes: 16 * 1024 }
    }
}

/// A `GET` request, as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    deadline: Instant,
}

impl Request {
    /// The method: always `GET` (the server answers others itself).
    pub fn method(&self) -> &str {
        "GET"
    }

    /// The target's path (`/metrics`), as sent (not percent-decoded).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The target's query, after `?`, as sent; `None` without a `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The value of header `name` (any case), the first if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// When the request's time is up (see [`Limits::deadline`]).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How much of the request's time is left: bound the handler's waits
    /// by it (zero once the deadline has passed).
    pub fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// An answer: a status, headers and a body (`Content-Length` and
/// `Connection: close` are added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// Status `status` (100 to 999; anything else is sent as 500) with a
    /// body of type `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: Vec::new(), body: body.into() }.with_header("Content-Type", content_type)
    }

    /// A `text/plain; charset=utf-8` answer.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into())
    }

    /// Adds header `name: value`. A name or value with a CR, LF or NUL in
    /// it, or a name that is empty or has a space or colon in it, is left
    /// out (it would end the header early).
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        let bad = |s: &str| s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0));
        let bad_name = name.is_empty() || name.bytes().any(|b| matches!(b, b' ' | b'\t' | b':'));
        if !bad(name) && !bad(value) && !bad_name {
            self.headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Status line, headers and body, as sent.
    fn to_bytes(&self) -> Vec<u8> {
        let status = if (100..1000).contains(&self.status) { self.status } else { 500 };
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for (n, v) in &self.headers {
            out += &format!("{n}: {v}\r\n");
        }
        out += &format!("Content-Length: {}\r\nConnection: close\r\n\r\n", self.body.len());
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The reason phrase of the statuses this module sends, and of common
/// ones; "Status" for the rest (clients ignore the phrase).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Binds `listen` (`address:port`, an IPv4 or bracketed IPv6 address),
/// for [`Server::start`]. The error says what was wrong: "\"x\" is not an
/// address:port (e.g. \"127.0.0.1:9100\")", or "cannot listen on
/// 127.0.0.1:9100: Address already in use (os error 98)".
pub fn bind(listen: &str) -> Result<TcpListener, Error> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| Error::new(ErrorKind::Invalid, format!("{listen:?} is not an address:port (e.g. \"127.0.0.1:9100\")")))?;
    TcpListener::bind(addr).map_err(|e| Error::new(ErrorKind::Hook, format!("cannot listen on {addr}: {e}")))
}

/// An accepted connection and when it was accepted (its deadline runs from
/// there, queueing included).
struct Conn {
    stream: TcpStream,
    accepted: Instant,
}

/// What the server's threads share.
struct Shared {
    limits: Limits,
    /// Readable once the server stops: every wait polls it.
    stop: File,
    handler: Box<dyn Fn(&Request) -> Response + Send + Sync>,
}

impl Shared {
    fn signal_stop(&self) {
        let _ = (&self.stop).write(&1u64.to_ne_bytes());
    }
}

/// A running endpoint: an accepting thread and [`Limits::max_clients`]
/// serving threads. Dropping it stops it and joins them at once (see the
/// [module docs](self)).
pub struct Server {
    local: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<Worker>,
    workers: Vec<Worker>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("local", &self.local).field("limits", &self.shared.limits).finish_non_exhaustive()
    }
}

impl Server {
    /// Serves `listener` (see [`bind`]) with `handler`, from threads named
    /// `name` (accepting) and `name-0`, `name-1`, ... (serving; at most 15
    /// bytes of a name show in `top`).
    pub fn start(
        name: &str,
        listener: TcpListener,
        limits: Limits,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> Result<Server, Error> {
        let limits = Limits { max_clients: limits.max_clients.max(1), backlog: limits.backlog.max(1), ..limits };
        let io_err = |what: &str, e: io::Error| Error::new(ErrorKind::Hook, format!("{name}: {what}: {e}"));
        let local = listener.local_addr().map_err(|e| io_err("listener", e))?;
        listener.set_nonblocking(true).map_err(|e| io_err("listener", e))?;
        let stop = File::from(sys::eventfd().map_err(|e| io_err("eventfd", e))?);
        let shared = Arc::new(Shared { limits, stop, handler: Box::new(handler) });
        let serving = Arc::clone(&shared);
        let (queue, workers) = JobQueue::with_workers(name, limits.max_clients, limits.backlog, move |conn: Conn, _: &StopToken| {
            serve(conn, &serving);
        })?;
        let accepting = Arc::clone(&shared);
        let acceptor = Worker::spawn(name, move |stop| {
            let wake = Arc::clone(&accepting);
            stop.on_stop(move || wake.signal_stop());
            accept_loop(&listener, &queue, &accepting, stop);
        });
        let acceptor = match acceptor {
            Ok(a) => a,
            Err(e) => {
                shared.signal_stop();
                return Err(e);
            }
        };
        Ok(Server { local, shared, acceptor: Some(acceptor), workers })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for Server {
    /// Stops every thread of the server (each wakes from its `poll` at
    /// once) and joins them; connections in progress or waiting are
    /// closed unanswered.
    fn drop(&mut self) {
        self.shared.signal_stop();
        drop(self.acceptor.take());
        self.workers.clear();
    }
}

/// Accepts connections until stopped, handing each to a serving thread,
/// or answering `503` when they are all busy and the backlog is full.
fn accept_loop(listener: &TcpListener, queue: &JobQueue<Conn>, shared: &Shared, stop: &StopToken) {
    loop {
        let mut fds = [(listener.as_fd(), libc::POLLIN, 0), (shared.stop.as_fd(), libc::POLLIN, 0)];
        if let Err(e) = sys::poll(&mut fds, -1) {
            tracing::warn!(error = %e, "HTTP endpoint: poll failed");
            if !stop.sleep(Duration::from_millis(100)) {
                return;
            }
            continue;
        }
        if fds[1].2 != 0 || stop.is_stopped() {
            return;
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    let accepted = Instant::now();
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if let Err(conn) = queue.push(Conn { stream, accepted }) {
                        busy(conn.stream);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => {}
                Err(e) => {
                    // Out of descriptors, say: the connection stays in the
                    // kernel's queue; do not spin on it.
                    tracing::debug!(error = %e, "HTTP endpoint: accept failed");
                    if !stop.sleep(Duration::from_millis(50)) {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// `503` to a connection no thread can take: one non-blocking write of a
/// short answer (it fits the socket's buffer), then closed.
fn busy(mut stream: TcpStream) {
    let answer = Response::text(503, "too many clients at once\n").with_header("Retry-After", "1");
    let _ = stream.write(&answer.to_bytes());
    close(stream);
}

/// Ends the connection without waiting: FIN after what was written, and
/// what the client sent that was not read is read (as much as has
/// arrived, up to 64 KiB), since closing a socket with unread data resets
/// the connection, and a client could lose the answer's end to the reset.
fn close(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let mut buf = [0u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// Why a wait on a client ended early.
#[derive(Debug, PartialEq, Eq)]
enum Cut {
    /// The request's deadline passed.
    Deadline,
    /// The server is stopping.
    Stopped,
    /// poll failed.
    Poll,
}

/// Waits until `fd` is ready for `events`, the deadline passes or the
/// server stops.
fn wait(fd: BorrowedFd<'_>, events: i16, deadline: Instant, shared: &Shared) -> Result<(), Cut> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Cut::Deadline);
    }
    let mut fds = [(fd, events, 0), (shared.stop.as_fd(), libc::POLLIN, 0)];
    match sys::poll(&mut fds, poll_millis(left)) {
        Err(_) => Err(Cut::Poll),
        Ok(_) if fds[1].2 != 0 => Err(Cut::Stopped),
        Ok(0) => Err(Cut::Deadline),
        Ok(_) => Ok(()),
    }
}

/// `d` in milliseconds for poll: rounded up (a wait never wakes just
/// before its deadline only to wait again for 0 ms), at most `i32::MAX`.
fn poll_millis(d: Duration) -> i32 {
    i32::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
}

/// How reading a request ended, when it did not arrive whole.
enum ReadFail {
    /// Longer than `max_request_bytes`.
    TooLarge,
    /// Cut short (see [`Cut`]).
    Cut(Cut),
    /// The client closed or reset the connection, or a read failed.
    Gone,
}

/// Reads up to the blank line ending the request's headers.
fn read_head(stream: &mut TcpStream, deadline: Instant, shared: &Shared) -> Result<Vec<u8>, ReadFail> {
    let limit = shared.limits.max_request_bytes;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Err(ReadFail::Gone),
            Ok(n) => {
                // Look for the end from just before the new bytes.
                let from = head.len().saturating_sub(2);
                head.extend_from_slice(&buf[..n]);
                if let Some(end) = head_end(&head, from) {
                    head.truncate(end);
                    return if head.len() > limit { Err(ReadFail::TooLarge) } else { Ok(head) };
                }
                if head.len() > limit {
                    return Err(ReadFail::TooLarge);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(stream.as_fd(), libc::POLLIN, deadline, shared).map_err(ReadFail::Cut)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadFail::Gone),
        }
    }
}

/// Where the blank line ending a request head starts, looking from
/// `from` on: CRLF CRLF, or bare LFs as some tools send.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find(|&i| buf[i] == b'\n' && (buf[i + 1..].starts_with(b"\n") || buf[i + 1..].starts_with(b"\r\n")))
}

/// A parsed request head, or the answer to give instead.
fn parse(head: &[u8], deadline: Instant) -> Result<Request, Response> {
    let bad = || Response::text(400, "not an HTTP request\n");
    let text = std::str::from_utf8(head).map_err(|_| bad())?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut words = lines.next().unwrap_or("").split(' ');
    let (method, target, version) = (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") || words.next().is_some() {
        return Err(bad());
    }
    if method != "GET" {
        return Err(Response::text(405, "GET only\n").with_header("Allow", "GET"));
    }
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    Ok(Request { path, query, headers, deadline })
}

/// Writes all of `bytes` by the deadline; false if the client went, the
/// deadline passed or the server stopped first.
fn write_all(stream: &mut TcpStream, mut bytes: &[u8], deadline: Instant, shared: &Shared) -> bool {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if wait(stream.as_fd(), libc::POLLOUT, deadline, shared).is_err() {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // EPIPE, ECONNRESET: the client went.
            Err(_) => return false,
        }
    }
    true
}

/// Serves one connection: one request, one answer, closed.
fn serve(conn: Conn, shared: &Shared) {
    let Conn { mut stream, accepted } = conn;
    let deadline = accepted + shared.limits.deadline;
    let response = match read_head(&mut stream, deadline, shared) {
        Ok(head) => match parse(&head, deadline) {
            Ok(request) => match crate::guard::guard(|| (shared.handler)(&request)) {
                Ok(response) => response,
                Err(panic) => {
                    tracing::error!(path = request.path(), "HTTP endpoint: the handler panicked: {panic}");
                    Response::text(500, "the handler failed\n")
                }
            },
            Err(response) => response,
        },
        Err(ReadFail::TooLarge) => Response::text(431, "request too large\n"),
        // Past the deadline: one try at saying so, without waiting.
        Err(ReadFail::Cut(Cut::Deadline)) => {
            let _ = stream.write(&Response::text(408, "request not received in time\n").to_bytes());
            return;
        }
        Err(ReadFail::Cut(_) | ReadFail::Gone) => return,
    };
    if write_all(&mut stream, &response.to_bytes(), deadline, shared) {
        close(stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(limits: Limits) -> Server {
        let listener = bind("127.0.0.1:0").unwrap();
        Server::start("test-http", listener, limits, |r| match r.path() {
            "/panic" => panic!("asked to"),
            "/slow" => {
                std::thread::sleep(Duration::from_millis(300));
                Response::text(200, "slow\n")
            }
            "/big" => Response::text(200, "x".repeat(8 << 20)),
            p => Response::text(200, format!("{p} {:?} {:?}\n", r.query(), r.header("x-test"))),
        })
        .unwrap()
    }

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn get_reaches_the_handler_and_other_methods_do_not() {
        let s = server(Limits::default());
        let a = get(s.local_addr(), "GET /x?y=1 HTTP/1.1\r\nHost: h\r\nX-Test: t\r\n\r\n");
        assert!(a.starts_with("HTTP/1.1 200 OK\r\n"), "{a}");
        assert!(a.contains("Content-Length: 25\r\nConnection: close\r\n\r\n/x Some(\"y=1\") Some(\"t\")\n"), "{a}");
        let a = get(s.local_addr(), "POST /x HTTP/1.1\r\n\r\n");
        assert!(a.starts_with("HTTP/1.1 405 Method Not Allowed\r\n") && a.contains("Allow: GET\r\n"), "{a}");
        let a = get(s.local_addr(), "GET /lf HTTP/1.0\n\n");
        assert!(a.starts_with("HTTP/1.1 200 ") && a.ends_with("/lf None None\n"), "bare LFs: {a}");
        let a = get(s.local_addr(), "hello\r\n\r\n");
        assert!(a.starts_with("HTTP/1.1 400 "), "{a}");
        let a = get(s.local_addr(), "GET /panic HTTP/1.1\r\n\r\n");
        assert!(a.starts_with("HTTP/1.1 500 "), "{a}");
        let a = get(s.local_addr(), "GET /after-the-panic HTTP/1.0\r\n\r\n");
        assert!(a.starts_with("HTTP/1.1 200 "), "the thread goes on serving: {a}");
        let a = get(s.local_addr(), &format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000)));
        assert!(a.starts_with("HTTP/1.1 431 "), "{}", &a[..a.len().min(200)]);
    }

    #[test]
    fn a_trickling_client_is_cut_at_the_deadline_while_others_are_served() {
        let s = server(Limits { deadline: Duration::from_millis(600), ..Limits::default() });
        let addr = s.local_addr();
        let mut slow = TcpStream::connect(addr).unwrap();
        let t0 = Instant::now();
        let trickle = std::thread::spawn(move || {
            let mut answer = Vec::new();
            for b in b"GET / HTTP/1.1\r\n".iter() {
                if slow.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
                // Stops sending once the server answered or closed.
                slow.set_nonblocking(true).unwrap();
                let mut buf = [0u8; 256];
                match slow.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        answer.extend_from_slice(&buf[..n]);
                        break;
                    }
                    Err(_) => {}
                }
                slow.set_nonblocking(false).unwrap();
            }
            (t0.elapsed(), String::from_utf8_lossy(&answer).into_owned())
        });
        // Served meanwhile.
        assert!(get(addr, "GET /ok HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
        let (took, answer) = trickle.join().unwrap();
        assert!(took < Duration::from_millis(1500), "cut after {took:?}");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }

    #[test]
    fn beyond_the_clients_and_backlog_connections_get_503() {
        let s = server(Limits { max_clients: 1, backlog: 1, ..Limits::default() });
        let addr = s.local_addr();
        // One served (slowly), one waiting: the third is refused at once.
        let first = std::thread::spawn(move || get(addr, "GET /slow HTTP/1.1\r\n\r\n"));
        std::thread::sleep(Duration::from_millis(100));
        let _waiting = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        let third = get(addr, "GET / HTTP/1.1\r\n\r\n");
        assert!(third.starts_with("HTTP/1.1 503 ") && third.contains("Retry-After: 1\r\n"), "{third}");
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        assert!(first.join().unwrap().starts_with("HTTP/1.1 200 "));
    }

    #[test]
    fn dropping_the_server_does_not_wait_for_its_clients() {
        let s = server(Limits { max_clients: 2, backlog: 2, ..Limits::default() });
        let addr = s.local_addr();
        // One client does not read the 8 MiB it asked for; silent ones
        // take the other thread and the backlog, and more are refused.
        let mut reader = TcpStream::connect(addr).unwrap();
        reader.write_all(b"GET /big HTTP/1.1\r\n\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let silent: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(200));
        let t0 = Instant::now();
        drop(s);
        assert!(t0.elapsed() < Duration::from_secs(2), "stopping took {:?} (the deadline is 10 s)", t0.elapsed());
        assert!(TcpStream::connect(addr).is_err(), "still listening");
        drop((silent, reader));
    }
}
