//! Child processes that cannot stall or leak into Kea.
//!
//! A hook that runs programs (a script per lease event, a long-running
//! helper) must not fork Kea: `fork` copies the page tables of a process
//! with a lease database in memory and stops every packet thread while it
//! does. [`Command::spawn`] starts the program as `posix_spawn` does (a
//! `vfork`-style clone: no copy of Kea's address space), gives it exactly
//! the arguments and environment the hook names (nothing of Kea's), closes
//! every descriptor of Kea's (its DHCP sockets, its lease file) in the
//! child, resets every signal to its default disposition (SIGPIPE too,
//! which the SDK makes Kea ignore), and can start it in a process group of
//! its own, so a kill reaches what it started.
//!
//! [`Child`] is the process until it is reaped: it waits with a timeout on
//! a pidfd (event-driven, no polling loop), kills the whole group, and
//! **dropping a `Child` that still runs kills and reaps it**, so a hook
//! never leaves a process or a zombie behind. [`Reaper`] waits for many
//! children at once from one thread, with a deadline each, and collects
//! their output up to a limit.
//!
//! Kea itself reaps *any* child with `waitpid(-1)` once it has started a
//! process of its own (kea-lfc with `lfc-interval`, ISC's run_script), and
//! can take a hook's child's exit status that way. The SDK holds a pidfd
//! for each child from its first instant, so on Linux 6.15 and later it
//! reads the status from there; on older kernels such an exit is
//! [`Exit::Unknown`]: where the exit decides something (a verdict), count
//! it as a failure. A kill of a child's process group is sent only while
//! the child is unreaped (its group id cannot have been given to anyone
//! else), so it never reaches a stranger.
//!
//! ```no_run
//! use kea_hooks::process::{Command, Exit, Output};
//! use std::time::Duration;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut child = Command::new("/usr/local/bin/notify")
//!     .arg("lease4_renew")
//!     .env("LEASE4_ADDRESS", "198.18.0.10")
//!     .output(Output::Null)
//!     .spawn()?;
//! match child.wait_timeout(Duration::from_secs(5))? {
//!     Some(Exit::Code(0)) => {}
//!     Some(other) => eprintln!("notify: {other}"),
//!     None => child.kill(), // still running after 5 s
//! }
//! # Ok(())
//! # }
//! ```

use std::ffi::{CString, OsStr};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ffi::spawn as sys;

/// Where a child's standard output and standard error go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Discarded (`/dev/null`).
    Null,
    /// Kea's own standard output and error, as a forked child would have.
    Inherit,
    /// One pipe for both, read by the hook ([`Child::take_output`]) or by a
    /// [`Reaper`] up to its limit. A child that writes more than anyone
    /// reads blocks itself, never Kea.
    Pipe,
}

/// A program to start: its path, arguments and environment.
///
/// The environment starts **empty** (a hook states every variable the
/// program gets); argument 0 is the program's path, as a shell gives it.
#[derive(Clone, Debug)]
pub struct Command {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    stdin_pipe: bool,
    stdout_pipe: bool,
    nonblocking: bool,
    output: Output,
    new_group: bool,
}

/// Turns bytes into a C string, cutting at the first NUL (what `execve`
/// would read of them anyway).
fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

impl Command {
    /// The program at `path` (used as given: no `PATH` search).
    pub fn new(path: impl AsRef<OsStr>) -> Command {
        let program = c_string(path.as_ref().as_bytes());
        Command { argv: vec![program.clone()], program, envp: Vec::new(), stdin_pipe: false, stdout_pipe: false, nonblocking: false, output: Output::Null, new_group: true }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.argv.push(c_string(arg.as_ref().as_bytes()));
        self
    }

    /// Adds `key=value` to the environment. A NUL in either ends it there.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        let (k, v) = (key.as_ref().as_bytes(), value.as_ref().as_bytes());
        let mut entry = Vec::with_capacity(k.len() + v.len() + 1);
        entry.extend_from_slice(&k[..k.iter().position(|&b| b == 0).unwrap_or(k.len())]);
        entry.push(b'=');
        entry.extend_from_slice(v);
        self.envp.push(c_string(&entry));
        self
    }

    /// Gives the child a pipe as standard input ([`Child::take_stdin`]);
    /// without it, standard input is `/dev/null`.
    pub fn stdin_pipe(&mut self, pipe: bool) -> &mut Command {
        self.stdin_pipe = pipe;
        self
    }

    /// Gives the child a pipe of its own as standard output
    /// ([`Child::take_stdout`], blocking), for a program that answers the
    /// hook; [`output`](Self::output) then says only where standard error
    /// goes.
    pub fn stdout_pipe(&mut self, pipe: bool) -> &mut Command {
        self.stdout_pipe = pipe;
        self
    }

    /// Makes the hook's ends of the standard input and standard output
    /// pipes non-blocking (off unless set), for a thread that serves a
    /// child with [`poll`] and must never wait on it: a write to a child
    /// that stops reading then fails with `WouldBlock` instead of blocking.
    pub fn nonblocking(&mut self, yes: bool) -> &mut Command {
        self.nonblocking = yes;
        self
    }

    /// Where standard output and error go ([`Output::Null`] unless set).
    pub fn output(&mut self, output: Output) -> &mut Command {
        self.output = output;
        self
    }

    /// Whether the child leads a process group of its own (the default):
    /// [`Child::kill`] then reaches everything it started that stayed in
    /// the group.
    pub fn new_process_group(&mut self, yes: bool) -> &mut Command {
        self.new_group = yes;
        self
    }

    /// Starts the program. Fails (with the `execve` error, such as
    /// `ENOENT` or `EACCES`) when it cannot run.
    pub fn spawn(&self) -> io::Result<Child> {
        let spawned = sys::spawn(
            &self.program,
            &self.argv,
            &self.envp,
            if self.stdin_pipe { sys::ChildIn::Pipe } else { sys::ChildIn::Null },
            self.stdout_pipe,
            match self.output {
                Output::Null => sys::ChildOut::Null,
                Output::Inherit => sys::ChildOut::Inherit,
                Output::Pipe => sys::ChildOut::Pipe,
            },
            self.new_group,
        )?;
        // Without a pidfd (a kernel before 5.2) the child is waited for by
        // pid, which is as exact: only this kit can reap it.
        let pidfd = spawned.pidfd.or_else(|| sys::pidfd_open(spawned.pid).ok());
        let output = match spawned.output {
            Some(fd) => {
                sys::set_nonblocking(fd.as_fd())?;
                Some(File::from(fd))
            }
            None => None,
        };
        if self.nonblocking {
            for fd in [&spawned.stdin, &spawned.stdout].into_iter().flatten() {
                sys::set_nonblocking(fd.as_fd())?;
            }
        }
        Ok(Child {
            pid: spawned.pid,
            pidfd,
            group: self.new_group,
            stdin: spawned.stdin.map(File::from),
            stdout: spawned.stdout.map(File::from),
            output,
            exit: None,
        })
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// Someone else in the process reaped it (Kea's own SIGCHLD handler
    /// does, once Kea has started a child of its own) on a kernel that
    /// does not keep the status for pidfds (before Linux 6.15): it has
    /// ended, how is not known. Where the exit decides something, count it
    /// as a failure.
    Unknown,
}

impl Exit {
    /// Whether it exited with code 0.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::Unknown => f.write_str("ended (exit status taken by another waiter)"),
        }
    }
}

impl From<sys::Waited> for Exit {
    fn from(w: sys::Waited) -> Exit {
        match w {
            sys::Waited::Exited(c) => Exit::Code(c),
            sys::Waited::Signaled(s) => Exit::Signal(s),
            sys::Waited::Gone => Exit::Unknown,
        }
    }
}

/// A started program, until it is reaped. Dropping one that still runs
/// kills it (with its group) and reaps it.
pub struct Child {
    pid: libc::pid_t,
    pidfd: Option<OwnedFd>,
    group: bool,
    stdin: Option<File>,
    stdout: Option<File>,
    output: Option<File>,
    exit: Option<Exit>,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child").field("pid", &self.pid).field("exit", &self.exit).finish()
    }
}

impl Child {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// The write end of its standard input, if it has a pipe there
    /// ([`Command::stdin_pipe`]; non-blocking with
    /// [`Command::nonblocking`]). Dropping it closes the pipe: the child
    /// reads end-of-file.
    pub fn take_stdin(&mut self) -> Option<File> {
        self.stdin.take()
    }

    /// The read end of its standard output pipe ([`Command::stdout_pipe`]),
    /// blocking unless [`Command::nonblocking`].
    pub fn take_stdout(&mut self) -> Option<File> {
        self.stdout.take()
    }

    /// The read end of its output pipe ([`Output::Pipe`]), non-blocking.
    pub fn take_output(&mut self) -> Option<File> {
        self.output.take()
    }

    /// How it ended, if it has (reaping it); `None` while it runs.
    pub fn try_wait(&mut self) -> io::Result<Option<Exit>> {
        if let Some(exit) = self.exit {
            return Ok(Some(exit));
        }
        let waited = sys::wait_child(self.pid, self.pidfd.as_ref().map(|f| f.as_fd()), true)?;
        self.exit = waited.map(Exit::from);
        Ok(self.exit)
    }

    /// Waits up to `timeout` for it to end (on its pidfd: woken by the
    /// exit itself); `None` if it still runs.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<Exit>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(exit) = self.try_wait()? {
                return Ok(Some(exit));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            match &self.pidfd {
                Some(fd) => {
                    sys::poll(&mut [(fd.as_fd(), libc::POLLIN, 0)], millis(left))?;
                }
                None => std::thread::sleep(left.min(Duration::from_millis(5))),
            }
        }
    }

    /// Waits for it to end.
    pub fn wait(&mut self) -> io::Result<Exit> {
        if let Some(exit) = self.exit {
            return Ok(exit);
        }
        let waited = sys::wait_child(self.pid, self.pidfd.as_ref().map(|f| f.as_fd()), false)?;
        let exit = waited.map(Exit::from).unwrap_or(Exit::Unknown);
        self.exit = Some(exit);
        Ok(exit)
    }

    /// A descriptor that becomes readable (for [`poll`]) when the child
    /// ends; `None` on a kernel without pidfds (before 5.3).
    pub fn exit_fd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|f| f.as_fd())
    }

    /// Sends SIGKILL to it (and its process group, if it leads one). Does
    /// nothing once it has been reaped. Reap it after ([`wait`](Self::wait)).
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
    }

    /// Sends SIGTERM to it (and its process group, if it leads one).
    pub fn terminate(&mut self) {
        self.signal(libc::SIGTERM);
    }

    fn signal(&mut self, sig: i32) {
        if self.exit.is_none() {
            sys::signal_child(self.pid, self.pidfd.as_ref().map(|f| f.as_fd()), sig, self.group);
        }
    }
}

/// How long dropping a running [`Child`] waits for it to die after
/// SIGKILL (only a process stuck in the kernel, on a hung network file
/// system say, takes longer; it is then left behind, logged).
const DROP_WAIT: Duration = Duration::from_secs(2);

impl Drop for Child {
    fn drop(&mut self) {
        self.stdin = None;
        if matches!(self.try_wait(), Ok(None)) {
            self.kill();
            if !matches!(self.wait_timeout(DROP_WAIT), Ok(Some(_))) {
                crate::log::emit(
                    crate::log::Severity::Warn,
                    0,
                    &format!("process {} did not end within {DROP_WAIT:?} of SIGKILL: left unreaped", self.pid),
                );
            }
        }
    }
}

fn millis(d: Duration) -> i32 {
    // Round up, so a wait never ends just before its deadline.
    d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
}

// ---- many children from one thread -------------------------------------------

/// A child a [`Reaper`] has collected.
#[derive(Debug)]
pub struct Reaped<T> {
    /// What the hook gave [`Reaper::add`] with the child.
    pub tag: T,
    /// How it ended.
    pub exit: Exit,
    /// Whether the reaper killed it for running past its timeout.
    pub timed_out: bool,
    /// Its output ([`Output::Pipe`]), at most the reaper's limit.
    pub output: Vec<u8>,
    /// How many bytes of output went beyond the limit (read and dropped).
    pub output_dropped: usize,
    /// From [`Reaper::add`] to the exit being seen.
    pub runtime: Duration,
}

struct Watched<T> {
    child: Child,
    tag: T,
    added: Instant,
    deadline: Option<Instant>,
    timed_out: bool,
    output: Vec<u8>,
    output_dropped: usize,
}

/// Waits for many children from one thread: exits (on their pidfds),
/// deadlines (a child past its timeout is killed with its group and
/// reported `timed_out`), and output pipes (read as it comes, kept up to
/// `output_limit` bytes per child, the rest read and counted, so no child
/// blocks on a full pipe). Other threads [`add`](Self::add) children and
/// wake the waiter; one thread at a time calls [`wait`](Self::wait).
///
/// Dropping the reaper kills and reaps the children it still holds.
pub struct Reaper<T> {
    /// Added and not yet seen by the waiter.
    added: Mutex<Vec<Watched<T>>>,
    /// The waiter's own list; its lock is held through a whole `wait`.
    running: Mutex<Vec<Watched<T>>>,
    count: AtomicUsize,
    kill_all: AtomicBool,
    wake: File,
    output_limit: usize,
}

impl<T> fmt::Debug for Reaper<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reaper").field("children", &self.len()).finish()
    }
}

impl<T> Reaper<T> {
    /// A reaper keeping up to `output_limit` bytes of each child's output.
    pub fn new(output_limit: usize) -> io::Result<Reaper<T>> {
        Ok(Reaper {
            added: Mutex::new(Vec::new()),
            running: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            kill_all: AtomicBool::new(false),
            wake: File::from(sys::eventfd()?),
            output_limit,
        })
    }

    /// How many children it holds.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands it `child`, to be killed if it runs longer than `timeout`.
    pub fn add(&self, child: Child, tag: T, timeout: Option<Duration>) {
        let now = Instant::now();
        self.count.fetch_add(1, Ordering::AcqRel);
        self.added.lock().unwrap_or_else(|e| e.into_inner()).push(Watched {
            child,
            tag,
            added: now,
            deadline: timeout.map(|t| now + t),
            timed_out: false,
            output: Vec::new(),
            output_dropped: 0,
        });
        self.wake();
    }

    /// Makes a [`wait`](Self::wait) in progress return (with what it has).
    pub fn wake(&self) {
        use std::io::Write;
        let _ = (&self.wake).write(&1u64.to_ne_bytes());
    }

    /// Kills every child it holds (with their groups); a
    /// [`wait`](Self::wait) reports them.
    pub fn kill_all(&self) {
        self.kill_all.store(true, Ordering::Release);
        self.wake();
    }

    /// Waits up to `max` for something to happen (an exit, a deadline,
    /// output, [`add`](Self::add), [`wake`](Self::wake)) and returns the
    /// children that ended, in no particular order.
    pub fn wait(&self, max: Duration) -> Vec<Reaped<T>> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.append(&mut self.added.lock().unwrap_or_else(|e| e.into_inner()));
        if self.kill_all.swap(false, Ordering::AcqRel) {
            for w in running.iter_mut() {
                w.child.kill();
            }
        }
        let now = Instant::now();
        let mut timeout = max;
        for w in running.iter() {
            if w.child.pidfd.is_none() {
                timeout = timeout.min(Duration::from_millis(5));
            }
            if let (Some(d), false) = (w.deadline, w.timed_out) {
                timeout = timeout.min(d.saturating_duration_since(now));
            }
        }
        // (index, is the output pipe) for each polled descriptor after the wake fd.
        let mut which = Vec::with_capacity(running.len() * 2);
        let mut set = vec![(self.wake.as_fd(), libc::POLLIN, 0i16)];
        for (i, w) in running.iter().enumerate() {
            if let Some(fd) = &w.child.pidfd {
                which.push((i, false));
                set.push((fd.as_fd(), libc::POLLIN, 0));
            }
            if let Some(out) = &w.child.output {
                which.push((i, true));
                set.push((out.as_fd(), libc::POLLIN, 0));
            }
        }
        let polled = sys::poll(&mut set, millis(timeout));
        let woken = set[0].2 != 0;
        // Children with output to read, and those whose pidfd says they
        // have ended (only they, and those without a pidfd, are asked for
        // an exit: one system call each; all of them if poll failed).
        let mut outputs = Vec::new();
        let mut ended = vec![polled.is_err(); running.len()];
        for (&(i, is_output), &(_, _, revents)) in which.iter().zip(set.iter().skip(1)) {
            if revents == 0 {
                continue;
            }
            if is_output {
                outputs.push(i);
            } else {
                ended[i] = true;
            }
        }
        drop(set);
        if woken {
            let mut buf = [0u8; 8];
            let _ = (&self.wake).read(&mut buf);
        }
        for i in outputs {
            read_output(self.output_limit, &mut running[i]);
        }
        let now = Instant::now();
        let mut done = Vec::new();
        let mut i = 0;
        while i < running.len() {
            let w = &mut running[i];
            let exit = if ended[i] || w.child.pidfd.is_none() { w.child.try_wait().ok().flatten() } else { None };
            if let Some(exit) = exit {
                read_output(self.output_limit, w);
                let w = running.swap_remove(i);
                ended.swap_remove(i);
                self.count.fetch_sub(1, Ordering::AcqRel);
                done.push(Reaped {
                    tag: w.tag,
                    exit,
                    timed_out: w.timed_out,
                    output: w.output,
                    output_dropped: w.output_dropped,
                    runtime: now.saturating_duration_since(w.added),
                });
                continue;
            }
            if let (Some(d), false) = (w.deadline, w.timed_out) {
                if d <= now {
                    w.timed_out = true;
                    w.child.kill();
                }
            }
            i += 1;
        }
        done
    }
}

/// At most this much of one child's output is read per [`Reaper::wait`]:
/// a child that writes without end (`cat /dev/zero`) must not keep the
/// reaper reading, past its deadline, while the others wait.
const READ_PER_WAIT: usize = 64 * 1024;

fn read_output<T>(limit: usize, w: &mut Watched<T>) {
    let Some(out) = &mut w.child.output else { return };
    let mut buf = [0u8; 8192];
    let mut budget = READ_PER_WAIT;
    while budget > 0 {
        budget = budget.saturating_sub(buf.len());
        match out.read(&mut buf) {
            Ok(0) => {
                w.child.output = None;
                return;
            }
            Ok(n) => {
                let keep = n.min(limit.saturating_sub(w.output.len()));
                w.output.extend_from_slice(&buf[..keep]);
                w.output_dropped += n - keep;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Its leader has ended but something it started keeps the
                // pipe open: stop reading once it is reaped.
                if w.child.exit.is_some() {
                    w.child.output = None;
                }
                return;
            }
            Err(_) => {
                w.child.output = None;
                return;
            }
        }
    }
}

// ---- waiting on descriptors --------------------------------------------------

/// What [`poll`] waits for on one descriptor, and what it found.
#[derive(Debug)]
pub struct PollFd<'a> {
    fd: BorrowedFd<'a>,
    events: i16,
    revents: i16,
}

impl<'a> PollFd<'a> {
    /// Waits for `fd` to be readable (data, end of file, or an error).
    pub fn readable(fd: BorrowedFd<'a>) -> PollFd<'a> {
        PollFd { fd, events: libc::POLLIN, revents: 0 }
    }

    /// Waits for `fd` to be writable (room, or an error such as a reader
    /// gone).
    pub fn writable(fd: BorrowedFd<'a>) -> PollFd<'a> {
        PollFd { fd, events: libc::POLLOUT, revents: 0 }
    }

    /// Whether the last [`poll`] found it ready for what was asked, or
    /// found an error or hang-up on it (the next read or write says which).
    pub fn is_ready(&self) -> bool {
        self.revents != 0
    }
}

/// Waits up to `timeout` (`None`: without limit) until one of `fds` is
/// ready; returns how many are (0: the time ran out). A signal does not
/// end the wait early.
pub fn poll(fds: &mut [PollFd<'_>], timeout: Option<Duration>) -> io::Result<usize> {
    let mut set: Vec<(BorrowedFd<'_>, i16, i16)> = fds.iter().map(|p| (p.fd, p.events, 0)).collect();
    let n = sys::poll(&mut set, timeout.map_or(-1, millis))?;
    for (p, (_, _, revents)) in fds.iter_mut().zip(set) {
        p.revents = revents;
    }
    Ok(n)
}

/// Wakes a thread waiting in [`poll`] from another thread: put
/// [`Waker::fd`] in the set, call [`wake`](Waker::wake) elsewhere, and
/// [`clear`](Waker::clear) it after the poll (an eventfd).
#[derive(Debug)]
pub struct Waker(File);

impl Waker {
    /// A new waker.
    pub fn new() -> io::Result<Waker> {
        Ok(Waker(File::from(sys::eventfd()?)))
    }

    /// Makes the descriptor readable until [`clear`](Self::clear).
    pub fn wake(&self) {
        use std::io::Write;
        let _ = (&self.0).write(&1u64.to_ne_bytes());
    }

    /// Makes it not readable again; whether it had been woken.
    pub fn clear(&self) -> bool {
        let mut buf = [0u8; 8];
        (&self.0).read(&mut buf).is_ok()
    }

    /// The descriptor to poll (readable when woken).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Checks that `path` names a file this process may execute, with the
/// messages ISC's hooks give (`File not found: ...`, `File not
/// executable: ...`). "May execute" as `execve` will judge it: by Kea's
/// effective user and group, so a script only root may run is refused at
/// load when Kea runs as another user, rather than failing every event.
pub fn check_executable(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|_| format!("File not found: {}", path.display()))?;
    if !meta.is_file() || !sys::may_execute(&c_string(path.as_os_str().as_bytes())) {
        return Err(format!("File not executable: {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test's script, removed (with its directory, once empty) when the
    /// test is done with it.
    struct Script(std::path::PathBuf);

    impl std::ops::Deref for Script {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl AsRef<Path> for Script {
        fn as_ref(&self) -> &Path {
            &self.0
        }
    }

    impl AsRef<std::ffi::OsStr> for Script {
        fn as_ref(&self) -> &std::ffi::OsStr {
            self.0.as_os_str()
        }
    }

    impl Drop for Script {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir(dir); // fails while other tests' scripts are there
            }
        }
    }

    fn script(name: &str, body: &str) -> Script {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kea-hooks-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Script(path)
    }

    #[test]
    fn the_child_gets_exactly_its_arguments_and_environment_and_no_descriptor() {
        let s = script("env.sh", "echo \"$0|$1|$#\"; /usr/bin/env | /usr/bin/sort; ls /proc/self/fd | wc -l");
        let _open = File::open("/dev/null").unwrap(); // a descriptor that must not reach it
        let mut child = Command::new(&s).arg("lease4_renew").env("B", "2").env("A", "x=y").output(Output::Pipe).spawn().unwrap();
        let mut out = String::new();
        let mut pipe = child.take_output().unwrap();
        assert_eq!(child.wait().unwrap(), Exit::Code(0));
        crate::ffi::spawn::poll(&mut [(pipe.as_fd(), libc::POLLIN, 0)], 1000).unwrap();
        pipe.read_to_string(&mut out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("{}|lease4_renew|1", s.display()));
        // sh adds PWD itself; everything else is what the command named.
        let env: Vec<&str> = lines[1..lines.len() - 1].iter().copied().filter(|l| !l.starts_with("PWD=")).collect();
        assert_eq!(env, ["A=x=y", "B=2"]);
        // 0, 1, 2, and ls's own descriptor for /proc/self/fd.
        assert_eq!(lines.last().unwrap().trim(), "4", "{out}");
    }

    #[test]
    fn exit_codes_signals_and_spawn_errors() {
        assert_eq!(Command::new("/bin/false").spawn().unwrap().wait().unwrap(), Exit::Code(1));
        let s = script("selfkill.sh", "kill -TERM $$");
        assert_eq!(Command::new(&s).spawn().unwrap().wait().unwrap(), Exit::Signal(libc::SIGTERM));
        let err = Command::new("/nonexistent/x").spawn().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(check_executable(Path::new("/nonexistent/x")).unwrap_err().starts_with("File not found"));
        let plain = script("plain", "");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(check_executable(&plain).unwrap_err().starts_with("File not executable"));
    }

    #[test]
    fn a_timeout_kills_the_whole_group_and_drop_reaps() {
        let marker = std::env::temp_dir().join(format!("kea-hooks-grandchild-{}", std::process::id()));
        let s = script("hang.sh", &format!("/bin/sleep 30 & echo $! > {}; wait", marker.display()));
        let mut child = Command::new(&s).spawn().unwrap();
        assert_eq!(child.wait_timeout(Duration::from_millis(300)).unwrap(), None);
        let grandchild: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
        let _ = std::fs::remove_file(&marker);
        child.kill();
        assert_eq!(child.wait().unwrap(), Exit::Signal(libc::SIGKILL));
        // The sleep was in the script's group: gone too (reaped by init).
        let deadline = Instant::now() + Duration::from_secs(5);
        while Path::new(&format!("/proc/{grandchild}/stat")).exists() && Instant::now() < deadline {
            let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
            if stat.contains(") Z ") {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        assert!(stat.is_empty() || stat.contains(") Z "), "grandchild still runs: {stat}");
        let pid = {
            let c = Command::new("/bin/sleep").arg("30").spawn().unwrap();
            c.id()
        };
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "dropped child not reaped");
    }

    #[test]
    fn the_reaper_collects_exits_timeouts_and_bounded_output() {
        let reaper = Reaper::new(100).unwrap();
        let flood = script("flood.sh", "i=0; while [ $i -lt 2000 ]; do echo 0123456789012345678901234567890123456789; i=$((i+1)); done");
        let hang = script("hang2.sh", "exec /bin/sleep 30");
        reaper.add(Command::new("/bin/true").spawn().unwrap(), "true", None);
        reaper.add(Command::new(&flood).output(Output::Pipe).spawn().unwrap(), "flood", None);
        reaper.add(Command::new(&hang).spawn().unwrap(), "hang", Some(Duration::from_millis(200)));
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.len() < 3 && Instant::now() < deadline {
            got.extend(reaper.wait(Duration::from_secs(1)));
        }
        got.sort_by_key(|r| r.tag);
        assert_eq!(got.iter().map(|r| r.tag).collect::<Vec<_>>(), ["flood", "hang", "true"]);
        assert_eq!((got[0].exit, got[0].output.len(), got[0].output_dropped), (Exit::Code(0), 100, 2000 * 41 - 100));
        assert!(got[1].timed_out && got[1].exit == Exit::Signal(libc::SIGKILL), "{:?}", got[1]);
        assert!(got[1].runtime >= Duration::from_millis(200) && got[1].runtime < Duration::from_secs(5));
        assert_eq!((got[2].exit, got[2].timed_out), (Exit::Code(0), false));
        assert!(reaper.is_empty());
    }
}
