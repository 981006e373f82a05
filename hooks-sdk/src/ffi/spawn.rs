//! Child processes: `posix_spawn`, pidfds, `waitid` (and, from
//! [`super::fd`], `poll` and eventfds, re-exported here for `process`).
//!
//! glibc's `posix_spawn` starts the child with `clone(CLONE_VM |
//! CLONE_VFORK)`: nothing of Kea's address space is copied, whatever its
//! size, and the parent waits only until the child has called `execve`
//! (an exec failure comes back as the call's error). The safe API over
//! this is [`crate::process`].

use std::ffi::{c_int, CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
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

fn check(rc: c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
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

/// Owns what `posix_spawn` needs and frees it on every path.
struct SpawnSetup {
    actions: libc::posix_spawn_file_actions_t,
    attr: libc::posix_spawnattr_t,
    actions_ready: bool,
    attr_ready: bool,
}

impl Drop for SpawnSetup {
    fn drop(&mut self) {
        // SAFETY: each object is destroyed only if its init succeeded, once.
        unsafe {
            if self.actions_ready {
                libc::posix_spawn_file_actions_destroy(&mut self.actions);
            }
            if self.attr_ready {
                libc::posix_spawnattr_destroy(&mut self.attr);
            }
        }
    }
}

/// Starts `program` with exactly `argv` and `envp` (nothing of Kea's
/// environment), every signal at its default disposition and none blocked
/// (Kea ignores SIGPIPE; a script must not inherit that), no descriptor of
/// Kea's open but 0-2, and, with `new_group`, in a process group of its
/// own (so a kill reaches what the script started).
pub(crate) fn spawn(
    program: &CStr,
    argv: &[CString],
    envp: &[CString],
    stdin: ChildIn,
    stdout_pipe: bool,
    output: ChildOut,
    new_group: bool,
) -> io::Result<Spawned> {
    let dev_null = c"/dev/null";
    let in_pipe = match stdin {
        ChildIn::Pipe => Some(pipe()?),
        ChildIn::Null => None,
    };
    let stdout = if stdout_pipe { Some(pipe()?) } else { None };
    let out_pipe = match output {
        ChildOut::Pipe => Some(pipe()?),
        _ => None,
    };
    // SAFETY: zeroed storage is what the init functions expect to fill.
    let mut setup = SpawnSetup {
        actions: unsafe { std::mem::zeroed() },
        attr: unsafe { std::mem::zeroed() },
        actions_ready: false,
        attr_ready: false,
    };
    // SAFETY (this block): every call gets pointers to the live objects in
    // `setup` (initialised before use, destroyed by its Drop) and to
    // NUL-terminated strings that outlive the calls (`dev_null` is static;
    // posix_spawn copies what it needs before it returns).
    unsafe {
        check(libc::posix_spawn_file_actions_init(&mut setup.actions))?;
        setup.actions_ready = true;
        check(libc::posix_spawnattr_init(&mut setup.attr))?;
        setup.attr_ready = true;
        let a = &mut setup.actions;
        match &in_pipe {
            Some((read, _)) => check(libc::posix_spawn_file_actions_adddup2(a, read.as_raw_fd(), 0))?,
            None => check(libc::posix_spawn_file_actions_addopen(a, 0, dev_null.as_ptr(), libc::O_RDONLY, 0))?,
        }
        // Standard error goes where `output` says; standard output too,
        // unless it has a pipe of its own.
        match (&out_pipe, output) {
            (Some((_, write)), _) => check(libc::posix_spawn_file_actions_adddup2(a, write.as_raw_fd(), 2))?,
            (None, ChildOut::Null) => {
                check(libc::posix_spawn_file_actions_addopen(a, 2, dev_null.as_ptr(), libc::O_WRONLY, 0))?
            }
            _ => {}
        }
        match &stdout {
            Some((_, write)) => check(libc::posix_spawn_file_actions_adddup2(a, write.as_raw_fd(), 1))?,
            None if output != ChildOut::Inherit => check(libc::posix_spawn_file_actions_adddup2(a, 2, 1))?,
            None => {}
        }
        // Kea's sockets and files, whether or not they are close-on-exec.
        check(libc::posix_spawn_file_actions_addclosefrom_np(a, 3))?;

        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        check(libc::posix_spawnattr_setsigmask(&mut setup.attr, &empty))?;
        check(libc::posix_spawnattr_setsigdefault(&mut setup.attr, &all))?;
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        if new_group {
            flags |= libc::POSIX_SPAWN_SETPGROUP;
            check(libc::posix_spawnattr_setpgroup(&mut setup.attr, 0))?;
        }
        check(libc::posix_spawnattr_setflags(&mut setup.attr, flags as libc::c_short))?;
    }
    let mut argv_ptrs: Vec<*mut libc::c_char> = argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv_ptrs.push(ptr::null_mut());
    let mut envp_ptrs: Vec<*mut libc::c_char> = envp.iter().map(|e| e.as_ptr().cast_mut()).collect();
    envp_ptrs.push(ptr::null_mut());
    let mut pid: libc::pid_t = 0;
    // SAFETY: `program` is NUL-terminated; `argv_ptrs` and `envp_ptrs` are
    // null-terminated arrays of pointers into CStrings that outlive the
    // call (posix_spawn does not write through them despite the `*mut`
    // in its C signature); `setup`'s objects are initialised.
    check(unsafe {
        libc::posix_spawn(&mut pid, program.as_ptr(), &setup.actions, &setup.attr, argv_ptrs.as_ptr(), envp_ptrs.as_ptr())
    })?;
    // The child's ends close here; the parent keeps the others.
    Ok(Spawned {
        pid,
        stdin: in_pipe.map(|(_, write)| write),
        stdout: stdout.map(|(read, _)| read),
        output: out_pipe.map(|(read, _)| read),
    })
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

/// Collects the child's exit, without waiting with `nohang`: `None` while
/// it runs. Through its pidfd when there is one (`P_PIDFD`, Linux 5.4+:
/// it names this very process, never a later one with the same pid).
pub(crate) fn wait_child(pid: libc::pid_t, pidfd: Option<BorrowedFd<'_>>, nohang: bool) -> io::Result<Option<Waited>> {
    let (idtype, id) = match pidfd {
        Some(fd) => (libc::P_PIDFD, fd.as_raw_fd() as libc::id_t),
        None => (libc::P_PID, pid as libc::id_t),
    };
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
                Some(libc::ECHILD) => return Ok(Some(Waited::Gone)),
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

/// Sends `sig` to the child (through its pidfd when there is one: never to
/// a later process with the same pid) and, with `group`, to its process
/// group. Call only while the child has not been reaped by this kit.
pub(crate) fn signal_child(pid: libc::pid_t, pidfd: Option<BorrowedFd<'_>>, sig: c_int, group: bool) {
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
        // SAFETY: as above; the group's id is the leader's pid, which the
        // kernel does not reuse while the leader is unreaped.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}
