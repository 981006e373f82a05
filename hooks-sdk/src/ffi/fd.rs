//! Descriptors: `poll`, eventfds, non-blocking mode. Shared by child
//! processes ([`super::spawn`], for `crate::process`) and the HTTP endpoint
//! (`crate::http`), whose threads wait on a socket and a stop eventfd at
//! once, so that a stop wakes them however long a peer keeps them waiting.

use std::ffi::c_int;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

fn cvt(rc: c_int) -> io::Result<c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Makes `fd` non-blocking.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor the borrow keeps open.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// An eventfd (close-on-exec, non-blocking), for waking a thread in
/// [`poll`]: writing 8 bytes (a `u64`, through `std::fs::File`) makes it
/// readable until someone reads it.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
    // SAFETY: a fresh descriptor owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `poll(2)` on `(fd, events)` pairs; fills `revents` and returns how many
/// are ready. `timeout_ms` < 0 waits without limit. Interrupted calls are
/// retried with the same timeout.
pub(crate) fn poll(fds: &mut [(BorrowedFd<'_>, i16, i16)], timeout_ms: i32) -> io::Result<usize> {
    let mut raw: Vec<libc::pollfd> =
        fds.iter().map(|(fd, events, _)| libc::pollfd { fd: fd.as_raw_fd(), events: *events, revents: 0 }).collect();
    let n = loop {
        // SAFETY: `raw` is a live array of `raw.len()` pollfds; the
        // descriptors are kept open by the borrows in `fds`.
        let rc = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, timeout_ms) };
        if rc >= 0 {
            break rc as usize;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    };
    for (slot, r) in fds.iter_mut().zip(&raw) {
        slot.2 = r.revents;
    }
    Ok(n)
}
