//! Sockets and name lookups for [`crate::net`]: a TCP connect that does not
//! block, and glibc's asynchronous `getaddrinfo_a`.
//!
//! A lookup runs on a thread of glibc's own (glibc starts and ends those
//! threads; they run only C library code). This thread waits for it with
//! `gai_suspend` and a timeout, and a lookup that does not end in time is
//! cancelled if glibc has not started it, else abandoned: its control
//! block stays allocated (glibc writes the result into it whenever the
//! lookup ends) and is freed by a later call once it has ended, or never.
//! No hook thread is ever left inside `getaddrinfo`, so nothing of the
//! hook's has to wait for a DNS server at unload, and glibc's thread holds
//! nothing of the library's once it is unmapped (the block is heap memory
//! of the process; no callback is registered: `SIGEV_NONE`).

use std::ffi::{c_char, c_int, CStr, CString};
use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr;
use std::time::Duration;

// ---- TCP connect ----

/// A new non-blocking, close-on-exec TCP socket, connecting to `addr`:
/// the stream, and whether it is connected already (else the connection
/// is under way: wait until it is writable, then read `take_error`).
pub(crate) fn connect_start(addr: &SocketAddr) -> io::Result<(TcpStream, bool)> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket(2) takes no pointers.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    let stream = TcpStream::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let (storage, len) = sockaddr(addr);
    let rc = loop {
        // SAFETY: `storage` holds a sockaddr_in or sockaddr_in6 of `len`
        // bytes, alive for the call; `fd` is open (owned by `stream`).
        let rc = unsafe { libc::connect(fd, ptr::addr_of!(storage).cast(), len) };
        if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break rc;
        }
    };
    if rc == 0 {
        return Ok((stream, true));
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINPROGRESS) => Ok((stream, false)),
        _ => Err(err),
    }
}

/// `addr` as the C library wants it, and its length.
fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data, valid all-zero.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for any
            // sockaddr, so it can hold a sockaddr_in.
            unsafe { ptr::write(ptr::addr_of_mut!(storage).cast::<libc::sockaddr_in>(), sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for a sockaddr_in6.
            unsafe { ptr::write(ptr::addr_of_mut!(storage).cast::<libc::sockaddr_in6>(), sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

// ---- getaddrinfo_a ----

/// glibc's `struct gaicb` (`<netdb.h>`, `_GNU_SOURCE`).
#[repr(C)]
struct Gaicb {
    ar_name: *const c_char,
    ar_service: *const c_char,
    ar_request: *const libc::addrinfo,
    ar_result: *mut libc::addrinfo,
    ret: c_int,
    reserved: [c_int; 5],
}

const GAI_NOWAIT: c_int = 1;
const EAI_INPROGRESS: c_int = -100;
const EAI_CANCELED: c_int = -101;
const EAI_ALLDONE: c_int = -103;

extern "C" {
    // In libc.so.6 since glibc 2.34 (before, in libanl).
    fn getaddrinfo_a(mode: c_int, list: *mut *mut Gaicb, nitems: c_int, sevp: *mut libc::sigevent) -> c_int;
    fn gai_suspend(list: *const *const Gaicb, nitems: c_int, timeout: *const libc::timespec) -> c_int;
    fn gai_error(req: *mut Gaicb) -> c_int;
    fn gai_cancel(req: *mut Gaicb) -> c_int;
}

/// What glibc reads and writes while a lookup runs: kept at one heap
/// address from the start of the lookup until it has ended.
struct Request {
    cb: Gaicb,
    hints: libc::addrinfo,
    name: CString,
}

/// One lookup of a name, running in glibc.
///
/// Dropping it (at any point: after a result, on a timeout, in a panic)
/// never frees what glibc may still write to: see [`Lookup::abandon`].
pub(crate) struct Lookup {
    request: Option<Box<Request>>,
}

/// The answer to a lookup: its addresses (port 0), or glibc's error text.
pub(crate) type Answer = Result<Vec<SocketAddr>, String>;

fn gai_text(code: c_int) -> String {
    // SAFETY: gai_strerror returns a static NUL-terminated string for any
    // code (a generic one for unknown codes).
    unsafe { CStr::from_ptr(libc::gai_strerror(code)) }.to_string_lossy().into_owned()
}

impl Lookup {
    /// Starts looking up `name` (stream sockets, IPv4 and IPv6) without
    /// waiting for it. Fails for a name with a NUL byte, or when glibc
    /// cannot queue the lookup (no thread, no memory).
    pub(crate) fn start(name: &str) -> Result<Lookup, String> {
        let name = CString::new(name).map_err(|_| "the name has a NUL byte".to_owned())?;
        // SAFETY: addrinfo and gaicb are plain data, valid all-zero (null
        // pointers).
        let mut request = Box::new(Request { cb: unsafe { mem::zeroed() }, hints: unsafe { mem::zeroed() }, name });
        request.hints.ai_family = libc::AF_UNSPEC;
        request.hints.ai_socktype = libc::SOCK_STREAM;
        request.cb.ar_name = request.name.as_ptr();
        request.cb.ar_request = ptr::addr_of!(request.hints);
        let mut list = [ptr::addr_of_mut!(request.cb)];
        // SAFETY: `list` holds one pointer to a gaicb whose name and hints
        // point into the same box; the box is not freed while glibc may
        // use it (see `abandon` and Drop). A null sigevent means no
        // notification (no code of ours runs on glibc's thread).
        let rc = unsafe { getaddrinfo_a(GAI_NOWAIT, list.as_mut_ptr(), 1, ptr::null_mut()) };
        if rc != 0 {
            // Nothing was queued: glibc holds no pointer into the box.
            return Err(gai_text(rc));
        }
        Ok(Lookup { request: Some(request) })
    }

    fn cb(&mut self) -> *mut Gaicb {
        match &mut self.request {
            Some(r) => ptr::addr_of_mut!(r.cb),
            None => ptr::null_mut(),
        }
    }

    /// Waits up to `timeout` for the lookup to end: its answer, or `None`
    /// while it still runs.
    pub(crate) fn wait(&mut self, timeout: Duration) -> Option<Answer> {
        let cb = self.cb();
        if cb.is_null() {
            return Some(Err("the lookup was already answered".into()));
        }
        // SAFETY: `cb` is the live control block of a queued request.
        if unsafe { gai_error(cb) } == EAI_INPROGRESS {
            let ts = libc::timespec {
                tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
                tv_nsec: timeout.subsec_nanos() as libc::c_long,
            };
            let list = [cb.cast_const()];
            // SAFETY: `list` is one pointer to the live control block, `ts`
            // lives for the call. Its outcome (done, timed out, a signal)
            // is read from gai_error below.
            unsafe { gai_suspend(list.as_ptr(), 1, &ts) };
        }
        // SAFETY: as above.
        let rc = unsafe { gai_error(cb) };
        if rc == EAI_INPROGRESS {
            return None;
        }
        let request = self.request.take().expect("checked above");
        Some(finish(&request, rc))
    }

    /// Gives the lookup up: cancels it if glibc has not started it, else
    /// leaves it to glibc and returns it as [`Abandoned`], which frees it
    /// only once glibc is done with it.
    pub(crate) fn abandon(mut self) -> Option<Abandoned> {
        let cb = self.cb();
        if cb.is_null() {
            return None;
        }
        // SAFETY: `cb` is the live control block of a queued request.
        let rc = unsafe { gai_cancel(cb) };
        let request = self.request.take().expect("checked above");
        if rc == EAI_CANCELED || rc == EAI_ALLDONE {
            // Off glibc's queue (or finished): glibc no longer uses it.
            drop(finish(&request, rc));
            None
        } else {
            Some(Abandoned { request: Some(request) })
        }
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        if self.request.is_some() {
            let lookup = Lookup { request: self.request.take() };
            // Still running: leaked on drop (see Abandoned).
            drop(lookup.abandon());
        }
    }
}

/// Reads the answer of an ended request and frees glibc's result list
/// (the caller then frees the request).
fn finish(request: &Request, rc: c_int) -> Answer {
    let result = request.cb.ar_result;
    let answer = if rc == 0 {
        let mut addrs = Vec::new();
        let mut ai = result.cast_const();
        while !ai.is_null() {
            // SAFETY: glibc's result list, complete once the request ended
            // (gai_error is no longer EAI_INPROGRESS), owned by us until
            // freeaddrinfo below.
            let info = unsafe { &*ai };
            if let Some(a) = socket_addr(info) {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            ai = info.ai_next;
        }
        Ok(addrs)
    } else {
        Err(gai_text(rc))
    };
    if !result.is_null() {
        // SAFETY: the list getaddrinfo_a made for this request, freed once.
        unsafe { libc::freeaddrinfo(result) };
    }
    answer
}

/// The address of one `addrinfo` entry, port 0 as asked for.
fn socket_addr(info: &libc::addrinfo) -> Option<SocketAddr> {
    if info.ai_addr.is_null() {
        return None;
    }
    let len = info.ai_addrlen as usize;
    match info.ai_family {
        libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: an AF_INET entry's ai_addr points to a sockaddr_in of
            // ai_addrlen bytes (checked above); read unaligned to be safe.
            let sin = unsafe { ptr::read_unaligned(info.ai_addr.cast::<libc::sockaddr_in>()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for AF_INET6 and sockaddr_in6.
            let sin6 = unsafe { ptr::read_unaligned(info.ai_addr.cast::<libc::sockaddr_in6>()) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(ip, u16::from_be(sin6.sin6_port), sin6.sin6_flowinfo, sin6.sin6_scope_id)))
        }
        _ => None,
    }
}

/// A lookup given up while glibc's thread still works on it. It is freed
/// when dropped once [`ended`](Self::ended); dropped earlier, it is leaked
/// (glibc writes into it when the lookup ends, whenever that is).
pub(crate) struct Abandoned {
    request: Option<Box<Request>>,
}

// SAFETY: the request is only read through glibc's thread-safe gai_error,
// and freed only once glibc is done with it; its raw pointers point into
// the box itself, which moves with it unchanged.
unsafe impl Send for Abandoned {}

impl Abandoned {
    /// glibc's status of the lookup: `EAI_INPROGRESS` while it runs.
    fn status(&mut self) -> c_int {
        match &mut self.request {
            // SAFETY: the live control block of a queued request.
            Some(r) => unsafe { gai_error(ptr::addr_of_mut!(r.cb)) },
            None => EAI_ALLDONE,
        }
    }

    /// Whether glibc has finished with the lookup.
    pub(crate) fn ended(&mut self) -> bool {
        self.status() != EAI_INPROGRESS
    }
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        let status = self.status();
        if let Some(request) = self.request.take() {
            if status == EAI_INPROGRESS {
                mem::forget(request);
            } else {
                drop(finish(&request, status));
            }
        }
    }
}
