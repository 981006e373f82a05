//! Child processes: a `vfork`-style clone, pidfds, `waitid` (and, from
//! [`super::fd`], `poll` and eventfds, re-exported here for `process`).
//!
//! A child starts as the C library's `posix_spawn` starts one, with
//! `clone(CLONE_VM | CLONE_VFORK)`: nothing of Kea's address space is
//! copied, whatever its size, and the parent waits only until the child
//! has called `execve` (an exec failure comes back as the call's error).
//! Unlike `posix_spawn`, the clone hands back a pidfd at once
//! (`CLONE_PIDFD`): the child is known by a descriptor from its first
//! instant, so an exit status taken by Kea's own `waitpid(-1)` can still be
//! read from it ([`exit_info`], Linux 6.15+), and a signal never reaches a
//! later process given the same pid. The safe API over this is
//! [`crate::process`].

use std::ffi::{c_int, CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

pub(crate) use super::fd::{eventfd, poll, set_nonblocking};

/// Where a child's standard input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildIn {
    /// `/dev/null`.
    Null,
    /// A pipe; the parent gets its write end.
    Pipe,
}

/// Where a child's standard output and standard error go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildOut {
    /// `/dev/null`.
    Null,
    /// Kea's own standard output and standard error.
    Inherit,
    /// One pipe for both; the parent gets its read end.
    Pipe,
}

/// A child just started.
pub(crate) struct Spawned {
    pub pid: libc::pid_t,
    /// Its pidfd (none on a kernel before 5.2).
    pub pidfd: Option<OwnedFd>,
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub output: Option<OwnedFd>,
}

/// How a child ended, as `waitid` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waited {
    Exited(i32),
    Signaled(i32),
    /// Reaped by someone else in this process (Kea's own SIGCHLD handler
    /// reaps any child with `waitpid(-1)` once it has spawned one itself).
    Gone,
}

fn cvt(rc: c_int) -> io::Result<c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A pipe, both ends close-on-exec: `(read, write)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both are fresh descriptors owned by no one else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `fd` moved above the standard descriptors (0-2), close-on-exec: a
/// descriptor the child gets as 0, 1 or 2 must not already be one of them
/// (Kea may run with some of 0-2 closed, and a pipe then takes the number).
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor `fd` keeps open; the result
    // is a fresh descriptor owned by no one else.
    let moved = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(moved) })
}

/// `/dev/null`, close-on-exec, above 0-2.
fn dev_null(flags: c_int) -> io::Result<OwnedFd> {
    // SAFETY: a static NUL-terminated path; open takes no other pointer.
    let fd = cvt(unsafe { libc::open(c"/dev/null".as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: a fresh descriptor owned by no one else.
    above_stdio(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// What the child does between `clone` and `execve`, prepared by the
/// parent: the child may not allocate, lock or unwind (it runs on a stack
/// of its own in the parent's memory while the parent's thread waits), so
/// everything it reads is here, and the one thing it writes back is `err`.
#[repr(C)]
struct ChildPlan {
    program: *const libc::c_char,
    argv: *const *mut libc::c_char,
    envp: *const *mut libc::c_char,
    /// The descriptor to make 0, 1 and 2 (-1: leave that one as Kea has it).
    stdio: [c_int; 3],
    new_group: bool,
    /// The `errno` of the step that failed (0: `execve` succeeded).
    err: c_int,
}

/// The child's side of [`spawn`]: resets every signal to its default
/// disposition (handlers of Kea's must never run here, and a script must
/// not inherit an ignored SIGPIPE), leaves Kea's process group, puts its
/// standard descriptors in place, closes every other descriptor, unblocks
/// all signals and executes the program. On failure it records `errno` in
/// the plan and exits with 127.
extern "C" fn child_main(plan: *mut libc::c_void) -> c_int {
    let plan = plan.cast::<ChildPlan>();
    // SAFETY (this block): `plan` points to the parent's `ChildPlan`, alive
    // and unchanged while the parent's thread waits for this child to exec
    // or exit (CLONE_VFORK); the child owns a copy of the signal handler
    // table (no CLONE_SIGHAND) and of the descriptor table (no
    // CLONE_FILES), so what it changes here does not reach Kea. Only
    // async-signal-safe calls, no allocation, no unwinding.
    unsafe {
        let fail = |plan: *mut ChildPlan| -> c_int {
            (*plan).err = *libc::__errno_location();
            libc::_exit(127)
        };
        // The kernel's `struct sigaction` all zero is SIG_DFL, no flags, an
        // empty mask (larger than the structure on every architecture; the
        // kernel reads what it needs). The system call itself, not the C
        // library's wrapper, which refuses the signals it keeps for threads
        // (32, 33): those too must reach the program at their defaults.
        let dfl = [0u64; 4];
        for sig in 1..65 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::syscall(libc::SYS_rt_sigaction, sig, dfl.as_ptr(), ptr::null_mut::<u64>(), 8usize);
            }
        }
        if (*plan).new_group && libc::setpgid(0, 0) != 0 {
            return fail(plan);
        }
        for target in 0..3 {
            let fd = (*plan).stdio[target as usize];
            if fd >= 0 && libc::dup2(fd, target) < 0 {
                return fail(plan);
            }
        }
        // Kea's sockets and files, whether or not they are close-on-exec.
        if libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, 0 as libc::c_uint) != 0 {
            // Before Linux 5.9: one at a time, up to the descriptor limit.
            let mut limit: libc::rlimit = std::mem::zeroed();
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 { limit.rlim_cur.min(1 << 20) } else { 1024 };
            for fd in 3..max as c_int {
                libc::close(fd);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut());
        libc::execve((*plan).program, (*plan).argv.cast(), (*plan).envp.cast());
        fail(plan)
    }
}

/// The child's stack: mapped memory with a guard page below it, unmapped
/// when dropped (after the child has executed or exited).
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

/// Enough for the child's few system-call wrappers.
const CHILD_STACK: usize = 64 * 1024;

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        let page = 4096;
        let len = CHILD_STACK + page;
        // SAFETY: an anonymous private mapping; no pointer is passed in.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the lowest page of the mapping just made: a guard, so an
        // overflow faults instead of writing below the stack.
        cvt(unsafe { libc::mprotect(base, page, libc::PROT_NONE) })?;
        Ok(stack)
    }

    /// The top (stacks grow down on every architecture Kea runs on).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping, which is what clone wants.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; the child no
        // longer uses it (it has executed another program or exited).
        unsafe {
            libc::munmap(self.base, self.len);
        }
    }
}

/// Starts `program` with exactly `argv` and `envp` (nothing of Kea's
/// environment), every signal at its default disposition and none blocked
/// (the SDK makes Kea ignore SIGPIPE; a script must not inherit that), no descriptor of
/// Kea's open but 0-2, and, with `new_group`, in a process group of its
/// own (so a kill reaches what the script started).
///
/// The child is made with `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)`,
/// as the C library's `posix_spawn` makes its children (nothing of Kea's
/// address space is copied, whatever its size; the calling thread waits
/// only until the child has called `execve`), plus its pidfd. (A child
/// without an exit signal would be invisible to Kea's `waitpid(-1)`, but
/// `execve` gives every process SIGCHLD back: measured on Linux 6.18.)
pub(crate) fn spawn(
    program: &CStr,
    argv: &[CString],
    envp: &[CString],
    stdin: ChildIn,
    stdout_pipe: bool,
    output: ChildOut,
    new_group: bool,
) -> io::Result<Spawned> {
    let pipe_above = || -> io::Result<(OwnedFd, OwnedFd)> {
        let (r, w) = pipe()?;
        Ok((above_stdio(r)?, above_stdio(w)?))
    };
    let in_pipe = match stdin {
        ChildIn::Pipe => Some(pipe_above()?),
        ChildIn::Null => None,
    };
    let stdout = if stdout_pipe { Some(pipe_above()?) } else { None };
    let out_pipe = match output {
        ChildOut::Pipe => Some(pipe_above()?),
        _ => None,
    };
    let null_in = if in_pipe.is_none() { Some(dev_null(libc::O_RDONLY)?) } else { None };
    let null_out = if output == ChildOut::Null { Some(dev_null(libc::O_WRONLY)?) } else { None };
    // Standard error goes where `output` says; standard output too,
    // unless it has a pipe of its own.
    let err_fd = match (&out_pipe, &null_out) {
        (Some((_, write)), _) => write.as_raw_fd(),
        (None, Some(null)) => null.as_raw_fd(),
        (None, None) => -1,
    };
    let out_fd = match &stdout {
        Some((_, write)) => write.as_raw_fd(),
        None => err_fd,
    };
    let in_fd = match (&in_pipe, &null_in) {
        (Some((read, _)), _) => read.as_raw_fd(),
        (None, Some(null)) => null.as_raw_fd(),
        (None, None) => -1,
    };
    let mut argv_ptrs: Vec<*mut libc::c_char> = argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv_ptrs.push(ptr::null_mut());
    let mut envp_ptrs: Vec<*mut libc::c_char> = envp.iter().map(|e| e.as_ptr().cast_mut()).collect();
    envp_ptrs.push(ptr::null_mut());
    let mut plan = ChildPlan {
        program: program.as_ptr(),
        argv: argv_ptrs.as_ptr(),
        envp: envp_ptrs.as_ptr(),
        stdio: [in_fd, out_fd, err_fd],
        new_group,
        err: 0,
    };
    let stack = ChildStack::new()?;
    let mut pidfd: c_int = -1;
    // SAFETY (this block): every signal is blocked in this thread across
    // the clone, so no handler of Kea's can run in the child before it has
    // reset them (the mask is restored right after); the child runs
    // `child_main` on `stack`, reading `plan` and the strings and arrays it
    // points to, all alive until the clone returns, which with CLONE_VFORK
    // is after the child has executed the program or exited; `pidfd` is
    // where the kernel writes the pidfd (CLONE_PIDFD uses the parent-tid
    // argument).
    let (pid, clone_err, err) = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let plan_ptr: *mut ChildPlan = &mut plan;
        let pid = libc::clone(
            child_main,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD,
            plan_ptr.cast(),
            &mut pidfd as *mut c_int,
        );
        let clone_err = (pid < 0).then(io::Error::last_os_error);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut());
        (pid, clone_err, ptr::read_volatile(&(*plan_ptr).err))
    };
    drop(stack);
    if let Some(e) = clone_err {
        return Err(e);
    }
    // SAFETY: when the kernel wrote one, a fresh descriptor owned by no one else.
    let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    if err != 0 {
        // The child has exited (127): collect it, so no zombie is left.
        let _ = wait_child(pid, pidfd.as_ref().map(|f| f.as_fd()), false);
        return Err(io::Error::from_raw_os_error(err));
    }
    // The child's ends close here; the parent keeps the others.
    Ok(Spawned {
        pid,
        pidfd,
        stdin: in_pipe.map(|(_, write)| write),
        stdout: stdout.map(|(read, _)| read),
        output: out_pipe.map(|(read, _)| read),
    })
}

/// Whether this process may execute `path`, as `execve` will judge it: by
/// the effective user and group ids (Kea may run as an unprivileged user),
/// the directories on the way included.
pub(crate) fn may_execute(path: &CStr) -> bool {
    // SAFETY: a NUL-terminated path; faccessat takes no other pointer.
    unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), libc::X_OK, libc::AT_EACCESS) == 0 }
}

/// A pidfd for `pid` (Linux 5.3+), close-on-exec.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: the pidfd_open system call takes two integers.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The id `waitid` wants for the child: its pidfd when there is one
/// (`P_PIDFD`, Linux 5.4+: it names this very process, never a later one
/// with the same pid), else its pid.
fn wait_id(pid: libc::pid_t, pidfd: Option<BorrowedFd<'_>>) -> (libc::idtype_t, libc::id_t) {
    match pidfd {
        Some(fd) => (libc::P_PIDFD, fd.as_raw_fd() as libc::id_t),
        None => (libc::P_PID, pid as libc::id_t),
    }
}

/// Collects the child's exit, without waiting with `nohang`: `None` while
/// it runs. When someone else in the process reaped it (Kea's SIGCHLD
/// handler), the exit is read from its pidfd where the kernel keeps it
/// (Linux 6.15+), else it is [`Waited::Gone`].
pub(crate) fn wait_child(pid: libc::pid_t, pidfd: Option<BorrowedFd<'_>>, nohang: bool) -> io::Result<Option<Waited>> {
    let (idtype, id) = wait_id(pid, pidfd);
    let flags = libc::WEXITED | if nohang { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: zeroed siginfo_t is valid storage for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is writable; the id is a pidfd the borrow keeps
        // open, or a pid.
        let rc = unsafe { libc::waitid(idtype, id, &mut info, flags) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(Some(pidfd.and_then(exit_info).unwrap_or(Waited::Gone))),
                _ => return Err(err),
            }
        }
        // SAFETY: waitid filled `info` for a child (or left si_pid 0 under
        // WNOHANG); si_pid and si_status read the SIGCHLD fields.
        let (got, status) = unsafe { (info.si_pid(), info.si_status()) };
        if got == 0 {
            return Ok(None);
        }
        return Ok(Some(match info.si_code {
            libc::CLD_EXITED => Waited::Exited(status),
            _ => Waited::Signaled(status),
        }));
    }
}

/// `struct pidfd_info` of `<linux/pidfd.h>` (its first version, 64 bytes),
/// for `ioctl(PIDFD_GET_INFO)`.
#[repr(C)]
#[derive(Default)]
struct PidfdInfo {
    mask: u64,
    cgroupid: u64,
    ids: [u32; 11],
    exit_code: i32,
}

/// `PIDFD_GET_INFO`: `_IOWR(0xFF, 11, struct pidfd_info)`.
const PIDFD_GET_INFO: libc::c_ulong = (3 << 30) | ((std::mem::size_of::<PidfdInfo>() as libc::c_ulong) << 16) | (0xFF << 8) | 11;
/// `PIDFD_INFO_EXIT` (Linux 6.15+): the exit status, kept after the reap.
const PIDFD_INFO_EXIT: u64 = 1 << 3;

/// How the process of `pidfd` ended, read from the pidfd after someone
/// else reaped it (the wait status the kernel keeps for pidfds opened
/// before the reap; Linux 6.15+); `None` where the kernel does not say.
fn exit_info(pidfd: BorrowedFd<'_>) -> Option<Waited> {
    let mut info = PidfdInfo { mask: PIDFD_INFO_EXIT, ..PidfdInfo::default() };
    // SAFETY: PIDFD_GET_INFO writes at most the size its number encodes,
    // which is `info`'s; the descriptor is kept open by the borrow.
    let rc = unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_INFO as _, &mut info as *mut PidfdInfo) };
    if rc != 0 || info.mask & PIDFD_INFO_EXIT == 0 {
        return None;
    }
    let status = info.exit_code;
    Some(if status & 0x7f == 0 { Waited::Exited((status >> 8) & 0xff) } else { Waited::Signaled(status & 0x7f) })
}

/// Whether the child has not been reaped (running, or ended and waiting
/// for us as a zombie): only then do its pid and its process group id
/// still name it and what it started. Asks `waitid` without reaping
/// (`WNOWAIT`).
fn unreaped(pid: libc::pid_t, pidfd: Option<BorrowedFd<'_>>) -> bool {
    let (idtype, id) = wait_id(pid, pidfd);
    loop {
        // SAFETY: as in `wait_child`; WNOWAIT leaves the child as it is.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: as in `wait_child`.
        let rc = unsafe { libc::waitid(idtype, id, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT) };
        if rc == 0 {
            return true;
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}

/// Sends `sig` to the child (through its pidfd when there is one: never to
/// a later process with the same pid) and, with `group`, to its process
/// group, but only while the child is unreaped: a zombie leader keeps the
/// group's id reserved, a reaped one does not (another process could have
/// been given it). Call only while the child has not been reaped by this
/// kit.
pub(crate) fn signal_child(pid: libc::pid_t, pidfd: Option<BorrowedFd<'_>>, sig: c_int, group: bool) {
    if !unreaped(pid, pidfd) {
        return;
    }
    match pidfd {
        // SAFETY: pidfd_send_signal takes a descriptor the borrow keeps open,
        // a signal number, a null siginfo and no flags.
        Some(fd) => unsafe {
            libc::syscall(libc::SYS_pidfd_send_signal, fd.as_raw_fd(), sig, ptr::null::<libc::siginfo_t>(), 0);
        },
        // SAFETY: kill takes two integers; the pid is our unreaped child's.
        None => unsafe {
            libc::kill(pid, sig);
        },
    }
    if group {
        // SAFETY: as above; the group's id is the leader's pid, which stays
        // reserved while the leader is unreaped (checked above: what is
        // left is the few instructions between the check and this call,
        // in which Kea's handler would have to reap it and the kernel hand
        // the number, after going round the whole pid space, to a new
        // group).
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<CString> {
        vec![c"/bin/sh".into(), c"-c".into(), CString::new(script).unwrap()]
    }

    fn wait_end(s: &Spawned) {
        let fd = s.pidfd.as_ref().expect("a pidfd (Linux 5.2+)");
        poll(&mut [(fd.as_fd(), libc::POLLIN, 0)], 10_000).unwrap();
    }

    /// Whether this kernel keeps exit statuses for pidfds (Linux 6.15+).
    fn kernel_keeps_exits() -> bool {
        // SAFETY: zeroed utsname is valid storage for uname to fill.
        let mut release: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `release` is writable.
        unsafe { libc::uname(&mut release) };
        // SAFETY: uname NUL-terminates the field.
        let r = unsafe { CStr::from_ptr(release.release.as_ptr()) }.to_string_lossy().into_owned();
        let mut n = r.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
        (n.next().unwrap_or(0), n.next().unwrap_or(0)) >= (6, 15)
    }

    #[test]
    fn an_exit_status_someone_else_reaped_is_read_from_the_pidfd() {
        // As Kea's SIGCHLD handler does (waitpid(-1)), here for this pid
        // only (other tests' children are not ours to take).
        for (script, want) in [("exit 7", Waited::Exited(7)), ("kill -TERM $$", Waited::Signaled(libc::SIGTERM))] {
            let s = spawn(c"/bin/sh", &sh(script), &[], ChildIn::Null, false, ChildOut::Null, true).unwrap();
            let fd = s.pidfd.as_ref().map(|f| f.as_fd());
            wait_end(&s);
            assert!(unreaped(s.pid, fd), "an ended, unreaped child is still ours (a zombie), and so is its group");
            let mut status = 0;
            // SAFETY: `status` is writable.
            assert_eq!(unsafe { libc::waitpid(s.pid, &mut status, 0) }, s.pid);
            assert!(!unreaped(s.pid, fd));
            let got = wait_child(s.pid, fd, false).unwrap();
            if kernel_keeps_exits() {
                assert_eq!(got, Some(want), "{script}");
            } else {
                assert_eq!(got, Some(Waited::Gone), "{script}");
            }
        }
    }

    #[test]
    fn the_child_starts_with_default_signals_and_none_blocked() {
        // SAFETY: SIG_IGN installs no handler code; the test binary ignores
        // SIGPIPE already (Rust's start-up), as the SDK makes Kea do.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        let s = spawn(c"/bin/sh", &sh("exec grep -E '^Sig(Ign|Blk)' /proc/self/status"), &[], ChildIn::Null, true, ChildOut::Null, true).unwrap();
        wait_end(&s);
        let mut out = String::new();
        use std::io::Read;
        std::fs::File::from(s.stdout.unwrap()).read_to_string(&mut out).unwrap();
        assert!(out.contains("SigIgn:\t0000000000000000") && out.contains("SigBlk:\t0000000000000000"), "{out}");
        assert_eq!(wait_child(s.pid, s.pidfd.as_ref().map(|f| f.as_fd()), false).unwrap(), Some(Waited::Exited(0)));
    }

    #[test]
    fn an_exec_failure_is_the_error_and_leaves_no_child() {
        let e = spawn(c"/nonexistent/x", &[c"/nonexistent/x".into()], &[], ChildIn::Null, false, ChildOut::Null, true).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        let e = spawn(c"/dev/null", &[c"/dev/null".into()], &[], ChildIn::Null, false, ChildOut::Null, true).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::EACCES));
    }
}

/// A child's process group id must never be signalled once someone else
/// has reaped the child: the number may have gone to a stranger. Shown in
/// a PID namespace of the test's own (made with `unshare`, root only),
/// where the test controls which pid the next process gets.
#[cfg(test)]
mod group_reuse {
    use super::*;

    /// Runs in the namespace (see `a_reaped_childs_group_id_is_never_signalled`).
    #[test]
    #[ignore = "run by a_reaped_childs_group_id_is_never_signalled inside a PID namespace"]
    fn inner() {
        if std::env::var_os("KEA_HOOKS_PGID_REUSE").is_none() {
            return;
        }
        // Our child, leading its own group, ends; Kea's handler reaps it.
        let s = spawn(c"/bin/true", &[c"/bin/true".into()], &[], ChildIn::Null, false, ChildOut::Null, true).unwrap();
        let mut status = 0;
        // SAFETY: `status` is writable.
        assert_eq!(unsafe { libc::waitpid(s.pid, &mut status, 0) }, s.pid);
        // The next process gets the same number, and leads a group with it.
        std::fs::write("/proc/sys/kernel/ns_last_pid", (s.pid - 1).to_string()).unwrap();
        let mut stranger = {
            use std::os::unix::process::CommandExt;
            std::process::Command::new("/bin/sleep").arg("30").process_group(0).spawn().unwrap()
        };
        assert_eq!(stranger.id() as libc::pid_t, s.pid, "the stranger did not get the reaped child's number");
        // What killing our (long gone) child's group would do.
        let watch = pidfd_open(s.pid).unwrap();
        signal_child(s.pid, s.pidfd.as_ref().map(|f| f.as_fd()), libc::SIGKILL, true);
        // A SIGKILL takes effect at once; half a second without an exit
        // is an answer.
        let alive = poll(&mut [(watch.as_fd(), libc::POLLIN, 0)], 500).unwrap() == 0;
        let _ = stranger.kill();
        let _ = stranger.wait();
        assert!(alive, "the stranger that reused the group id was killed");
        println!("KEA_HOOKS_PGID_REUSE ok");
    }

    #[test]
    fn a_reaped_childs_group_id_is_never_signalled() {
        // SAFETY: geteuid takes nothing.
        if unsafe { libc::geteuid() } != 0 {
            assert!(std::env::var("CI").map_or(true, |v| v.is_empty()), "CI is set: this test needs root");
            eprintln!("skipping a_reaped_childs_group_id_is_never_signalled: needs root (a PID namespace)");
            return;
        }
        let me = std::env::current_exe().unwrap();
        let out = std::process::Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc"])
            .arg(&me)
            .args(["--exact", "ffi::spawn::group_reuse::inner", "--ignored", "--nocapture", "--test-threads=1"])
            .env("KEA_HOOKS_PGID_REUSE", "1")
            .output()
            .expect("run unshare");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("KEA_HOOKS_PGID_REUSE ok"), "{text}");
    }
}
