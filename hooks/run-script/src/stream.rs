//! Stream mode: one long-running program instead of a process per event.
//!
//! The program (`name`) starts with argv `[name, "stream"]`, an empty
//! environment, and pipes on its standard input and output. For each
//! event it reads one line of JSON:
//!
//! ```json
//! {"seq": 17, "hook_point": "leases4_committed", "env": {"QUERY4_TYPE": "DHCPREQUEST", "LEASES4_SIZE": "1", ...}}
//! ```
//!
//! (`env` holds exactly the variables exec mode would export), and answers
//! it with one line on standard output: the event's `seq`, a space, a
//! decimal status (`0` for success, what exit code 0 is in exec mode;
//! anything else for failure), optionally a space and text for the log:
//!
//! ```text
//! 17 0
//! 18 1 client not allowed
//! ```
//!
//! Answers may come in any order: each is matched to its event by `seq`.
//! A line that is not valid UTF-8, does not start with two numbers, or
//! names an event the program was not given (or has answered already) is
//! a protocol error: counted (`run-script.protocol-errors`), logged at
//! debug level, and otherwise ignored, so a stray line can never settle
//! another client's packet. A line longer than [`ANSWER_LIMIT`] bytes is
//! a protocol error too, and the program is taken as broken: it is killed
//! and replaced as if it had crashed (so one that prints without end costs
//! neither memory nor a thread spinning on its output).
//! Answers are what `sync` waits for, and what tells the hook which events
//! the program has dealt with. Up to `max-running` events may be
//! unanswered at once.
//!
//! If the program exits (or closes its standard output), it is started
//! again, at once the first time and then with a backoff doubling from
//! 100 ms to 10 s while it keeps dying before answering anything. Events it
//! had been given but not answered are written again to the new process,
//! once (so a program may see an event twice: make it idempotent); events
//! unanswered by two processes in a row are counted as `lost`. When the
//! oldest unanswered event has waited `timeout-ms` (written or not: a
//! program that stops reading is caught as surely as one that stops
//! answering), the program is killed; the events it held are counted as
//! `timed-out` and not written again.
//!
//! All of the program's pipes are served by one thread of the hook's,
//! with non-blocking reads and writes and `poll`: no lock is held across
//! any input or output, so `run-script-status`, callouts, a reload and a
//! shutdown never wait on the program. At unload, queued events are still
//! written and answers awaited until `grace-ms` after the unload began (no
//! program is started after the unload began); then the program's
//! standard input is closed (it should exit), and after one more second it
//! is killed. Unload so takes at most `grace-ms` plus about a second.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kea_hooks::process::{poll, Child, Command, PollFd, Waker};
use kea_hooks::threads::{JobQueue, Worker};
use kea_hooks::Error;
use serde_json::{Map, Value};

use crate::{Config, Counters, Event, Outcome, Unload};

/// Restarts wait this long after the first quick death, doubling.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The longest answer line, newline excluded.
pub const ANSWER_LIMIT: usize = 4096;

/// At most this much of one pipe is read per turn of the I/O thread, so a
/// program that floods one pipe does not starve the other, or the checks
/// of deadlines.
const READ_BUDGET: usize = 64 * 1024;

/// At unload, how long the program has to exit after its standard input
/// is closed, before it is killed.
const EXIT_WAIT: Duration = Duration::from_secs(1);

/// The longest the I/O thread sleeps without being woken (a safety net;
/// everything it waits for wakes it).
const MAX_SLEEP: Duration = Duration::from_secs(1);

struct InFlight {
    event: Event,
    /// Written to a process that died without answering it once already.
    replayed: bool,
    /// When it was accepted (or written again): `timeout-ms` counts from
    /// here.
    since: Instant,
}

#[derive(Default)]
struct State {
    /// Accepted and not answered, by `seq`.
    in_flight: BTreeMap<u64, InFlight>,
    /// Lines accepted for the running program and not yet taken by the
    /// I/O thread.
    outbox: Vec<u8>,
    next_seq: u64,
    /// A program runs and takes events.
    alive: bool,
    pid: Option<u32>,
    /// The feeder has ended (unload): nothing more will be accepted.
    feeder_done: bool,
}

struct Shared {
    config: Config,
    counters: Arc<Counters>,
    window: usize,
    state: Mutex<State>,
    /// Signalled when events leave `in_flight` or the program comes and
    /// goes (the feeder waits for room and for a program).
    changed: Condvar,
    /// Wakes the I/O thread.
    waker: Waker,
    unload: Unload,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running stream mode.
pub struct Stream {
    pub queue: JobQueue<Event>,
    shared: Arc<Shared>,
    feeder: Option<Worker>,
    io: Option<Worker>,
}

impl Stream {
    /// Starts the program (now, so a program that cannot run fails the
    /// load), the thread serving its pipes, and the feeder that hands it
    /// queued events.
    pub fn start(config: Config, queue_size: usize, counters: Arc<Counters>) -> Result<Stream, Error> {
        let shared = Arc::new(Shared {
            window: config.max_running,
            unload: Unload::new(config.grace),
            config,
            counters,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            waker: Waker::new().map_err(|e| Error::msg(format!("cannot make a waker: {e}")))?,
        });
        let first =
            Running::start(&shared).map_err(|e| Error::msg(format!("at 'name': cannot start the stream program: {e}")))?;
        let s = Arc::clone(&shared);
        let io = Worker::spawn("run-script-io", move |_stop| serve(&s, first))?;
        let s = Arc::clone(&shared);
        let (queue, feeder) =
            JobQueue::with_draining_worker("run-script-stream", queue_size, shared.config.grace, move |event: Event, _stop| {
                accept(&s, event);
            })?;
        Ok(Stream { queue, shared, feeder: Some(feeder), io: Some(io) })
    }

    /// Events accepted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.shared.lock().in_flight.len()
    }

    /// The program's process id.
    pub fn pid(&self) -> Option<u32> {
        self.shared.lock().pid
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let s = &self.shared;
        s.unload.begin();
        s.changed.notify_all();
        s.waker.wake();
        // The feeder hands over what is queued until the grace time is
        // over (the rest drop and count themselves).
        drop(self.feeder.take());
        s.lock().feeder_done = true;
        s.waker.wake();
        // The I/O thread waits for answers until the grace time is over,
        // closes the program's input, kills it a second later, and ends.
        drop(self.io.take());
    }
}

/// The feeder: hands `event` to the program, waiting for room in the
/// window of unanswered events and for a running program (until the
/// unload's grace time is over; then the event drops and counts itself).
fn accept(s: &Shared, event: Event) {
    let env = env_json(&event);
    let mut st = s.lock();
    loop {
        if s.unload.past_grace() || (!st.alive && s.unload.begun()) {
            return;
        }
        if st.alive && st.in_flight.len() < s.window {
            break;
        }
        st = s.changed.wait_timeout(st, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
    }
    let seq = st.next_seq;
    st.next_seq += 1;
    encode(&mut st.outbox, seq, event.point, &env);
    st.in_flight.insert(seq, InFlight { event, replayed: false, since: Instant::now() });
    drop(st);
    s.waker.wake();
}

/// The event's variables as a JSON object's text.
fn env_json(event: &Event) -> String {
    let env: Map<String, Value> = event.vars.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    serde_json::to_string(&env).unwrap_or_else(|_| "{}".into())
}

/// Appends the event's line to `out`.
fn encode(out: &mut Vec<u8>, seq: u64, point: &str, env: &str) {
    let point = serde_json::to_string(point).unwrap_or_else(|_| "\"\"".into());
    out.extend_from_slice(format!("{{\"seq\":{seq},\"hook_point\":{point},\"env\":{env}}}\n").as_bytes());
}

/// Parses an answer line: `(seq, status, text)`.
fn parse_answer(line: &str) -> Option<(u64, i64, &str)> {
    let mut parts = line.splitn(3, ' ');
    let seq = parts.next()?.parse().ok()?;
    let status = parts.next()?.trim_end_matches('\r').parse().ok()?;
    Some((seq, status, parts.next().unwrap_or("").trim_end()))
}

/// The program, as the I/O thread serves it.
struct Running {
    child: Child,
    /// `None` once closed (at unload) or broken.
    stdin: Option<File>,
    stdout: Option<File>,
    stderr: Option<File>,
    /// Bytes taken from the outbox, not yet written (`written` of them are).
    pending: Vec<u8>,
    written: usize,
    /// The answer line being read; `overlong` once it passed the limit
    /// (the program is then replaced).
    answer: Vec<u8>,
    overlong: bool,
    err_line: Vec<u8>,
    /// Whether it has answered anything.
    answered: bool,
    /// It has ended, closed its output, or its input broke.
    ended: bool,
}

impl Running {
    /// Starts the program; the state learns its pid.
    fn start(s: &Shared) -> io::Result<Running> {
        let mut cmd = Command::new(&s.config.path);
        cmd.arg("stream").stdin_pipe(true).stdout_pipe(true).nonblocking(true).output(s.config.output.child_output());
        let mut child = cmd.spawn()?;
        tracing::info!(pid = child.id(), "stream program started");
        let (stdin, stdout, stderr) = (child.take_stdin(), child.take_stdout(), child.take_output());
        let mut st = s.lock();
        st.alive = true;
        st.pid = Some(child.id());
        st.outbox.clear();
        drop(st);
        s.changed.notify_all();
        Ok(Running {
            child,
            stdin,
            stdout,
            stderr,
            pending: Vec::new(),
            written: 0,
            answer: Vec::new(),
            overlong: false,
            err_line: Vec::new(),
            answered: false,
            ended: false,
        })
    }

    /// Writes what it can of what is pending, without blocking.
    fn write_pending(&mut self) {
        let Some(stdin) = self.stdin.as_mut() else { return };
        while self.written < self.pending.len() {
            match stdin.write(&self.pending[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // EPIPE: it closed its input or died (SIGPIPE is ignored).
                Err(e) => {
                    tracing::debug!(error = %e, "writing to the stream program failed");
                    self.stdin = None;
                    self.ended = true;
                    return;
                }
            }
        }
        self.pending.clear();
        self.written = 0;
    }

    /// Reads answers (up to the budget) and settles their events.
    fn read_answers(&mut self, s: &Shared) {
        let Some(out) = self.stdout.as_mut() else { return };
        let mut buf = [0u8; 8192];
        let mut budget = READ_BUDGET;
        let mut lines = Vec::new();
        while budget > 0 {
            match out.read(&mut buf) {
                Ok(0) => {
                    self.stdout = None;
                    self.ended = true;
                    break;
                }
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    for chunk in buf[..n].split_inclusive(|&b| b == b'\n') {
                        let (body, complete) = match chunk.split_last() {
                            Some((b'\n', body)) => (body, true),
                            _ => (chunk, false),
                        };
                        if !self.overlong {
                            if self.answer.len() + body.len() > ANSWER_LIMIT {
                                self.overlong = true;
                                self.answer.clear();
                            } else {
                                self.answer.extend_from_slice(body);
                            }
                        }
                        if complete && !self.overlong {
                            lines.push(std::mem::take(&mut self.answer));
                        }
                    }
                    if self.overlong {
                        protocol_error(s, "an answer line longer than the limit: killing the program", &[]);
                        self.ended = true;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.stdout = None;
                    self.ended = true;
                    break;
                }
            }
        }
        for line in lines {
            if answer(s, &line) {
                self.answered = true;
            }
        }
    }

    /// Logs its standard error at debug level, a line at a time, each cut
    /// at `output-limit` bytes.
    fn read_stderr(&mut self, limit: usize) {
        let Some(err) = self.stderr.as_mut() else { return };
        let mut buf = [0u8; 8192];
        let mut budget = READ_BUDGET;
        while budget > 0 {
            match err.read(&mut buf) {
                Ok(0) => {
                    self.stderr = None;
                    break;
                }
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    for &b in &buf[..n] {
                        if b == b'\n' {
                            tracing::debug!(output = %String::from_utf8_lossy(&self.err_line), "stream program");
                            self.err_line.clear();
                        } else if self.err_line.len() < limit {
                            self.err_line.push(b);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.stderr = None;
                    break;
                }
            }
        }
    }
}

/// Settles the event an answer line names; false for a protocol error.
fn answer(s: &Shared, line: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(line) else {
        protocol_error(s, "an answer line that is not UTF-8", line);
        return false;
    };
    let Some((seq, status, note)) = parse_answer(text) else {
        protocol_error(s, "an answer line that is not `<seq> <status>`", line);
        return false;
    };
    let Some(f) = s.lock().in_flight.remove(&seq) else {
        protocol_error(s, "an answer for an event it was not given, or answered already", line);
        return false;
    };
    s.changed.notify_all();
    if status != 0 {
        tracing::debug!(point = f.event.point, seq, status, note, "stream program answered failure");
    }
    f.event.finish(if status == 0 { Outcome::Run } else { Outcome::Failed }, s.config.sync_timeout);
    true
}

fn protocol_error(s: &Shared, what: &str, line: &[u8]) {
    let shown = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
    tracing::debug!(line = %shown, "stream program: protocol error: {what}");
    s.counters.bump(&s.counters.protocol_errors);
}

/// The backoff before the next start after `quick_deaths` deaths in a row
/// without an answer: none for the first.
fn backoff(quick_deaths: u32) -> Duration {
    if quick_deaths <= 1 {
        Duration::ZERO
    } else {
        BACKOFF_START.saturating_mul(1 << (quick_deaths - 2).min(7)).min(BACKOFF_MAX)
    }
}

/// The I/O thread: serves the program's pipes, replaces it when it dies,
/// kills it when it hangs, and ends it at unload.
fn serve(s: &Arc<Shared>, first: Running) {
    let mut proc = Some(first);
    let mut quick_deaths = 0u32;
    let mut restart_at: Option<Instant> = None;
    // When the program's input was closed at unload.
    let mut closing: Option<Instant> = None;
    loop {
        let now = Instant::now();
        // Take the lines accepted since the last turn; note the oldest
        // unanswered event.
        let (oldest, feeder_done, nothing_left) = {
            let mut st = s.lock();
            if let Some(p) = proc.as_mut().filter(|p| p.stdin.is_some()) {
                if !st.outbox.is_empty() {
                    let lines = std::mem::take(&mut st.outbox);
                    p.pending.extend_from_slice(&lines);
                }
            }
            let oldest = st.in_flight.values().map(|f| f.since).min();
            (oldest, st.feeder_done, st.in_flight.is_empty())
        };
        if let Some(p) = proc.as_mut() {
            p.write_pending();
        }

        // ---- unload ----
        if s.unload.begun() {
            if let Some(p) = proc.as_mut() {
                if closing.is_none() && ((feeder_done && nothing_left) || s.unload.past_grace()) {
                    p.stdin = None; // end of input: it should exit
                    p.pending.clear();
                    closing = Some(now);
                }
            }
            let exited = proc.as_mut().is_some_and(|p| matches!(p.child.try_wait(), Ok(Some(_))));
            if closing.is_some_and(|c| exited || now >= c + EXIT_WAIT) {
                if let Some(p) = proc.take() {
                    bury(s, p, false);
                }
            }
            if proc.is_none() && (feeder_done || s.unload.past_grace()) {
                // Unanswered at unload: dropped (each counts itself).
                let left = std::mem::take(&mut s.lock().in_flight);
                drop(left);
                return;
            }
        }

        // ---- a program that stopped reading or answering ----
        if let (Some(timeout), Some(oldest), Some(_)) = (s.config.timeout, oldest, proc.as_ref()) {
            if now >= oldest + timeout && closing.is_none() {
                let held = std::mem::take(&mut s.lock().in_flight);
                tracing::warn!(unanswered = held.len(), "stream program answered nothing for timeout-ms: killing it");
                if let Some(p) = proc.take() {
                    bury(s, p, false);
                }
                quick_deaths += 1;
                restart_at = Some(now + backoff(quick_deaths));
                s.changed.notify_all();
                for f in held.into_values() {
                    f.event.finish(Outcome::TimedOut, s.config.sync_timeout);
                }
                continue;
            }
        }

        // ---- (re)start ----
        if proc.is_none() && !s.unload.begun() && restart_at.is_some_and(|t| now >= t) {
            s.counters.restarts.fetch_add(1, Ordering::Relaxed);
            match Running::start(s) {
                Ok(mut p) => {
                    restart_at = None;
                    replay(s, &mut p);
                    proc = Some(p);
                    continue;
                }
                Err(e) => {
                    tracing::warn!("cannot start the stream program: {e}");
                    quick_deaths += 1;
                    restart_at = Some(now + backoff(quick_deaths).max(BACKOFF_START));
                }
            }
        }

        // ---- wait ----
        let mut until = now + MAX_SLEEP;
        for t in [
            oldest.zip(s.config.timeout).map(|(o, t)| o + t),
            restart_at,
            closing.map(|c| c + EXIT_WAIT),
            s.unload.grace_ends(),
        ]
        .into_iter()
        .flatten()
        {
            until = until.min(t);
        }
        let (out_ready, err_ready, exit_ready) = {
            let mut fds = vec![PollFd::readable(s.waker.fd())];
            let mut slots = [None; 4];
            if let Some(p) = proc.as_ref() {
                use std::os::fd::AsFd;
                if let Some(f) = &p.stdout {
                    slots[0] = Some(fds.len());
                    fds.push(PollFd::readable(f.as_fd()));
                }
                if let Some(f) = &p.stderr {
                    slots[1] = Some(fds.len());
                    fds.push(PollFd::readable(f.as_fd()));
                }
                if let (Some(f), true) = (&p.stdin, p.written < p.pending.len()) {
                    slots[2] = Some(fds.len());
                    fds.push(PollFd::writable(f.as_fd()));
                }
                if let Some(fd) = p.child.exit_fd() {
                    slots[3] = Some(fds.len());
                    fds.push(PollFd::readable(fd));
                }
            }
            let wait = until.saturating_duration_since(Instant::now());
            if poll(&mut fds, Some(wait)).is_err() {
                // Not expected (EINTR is retried): do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
            let ready = |slot: Option<usize>| slot.is_some_and(|i| fds[i].is_ready());
            (ready(slots[0]), ready(slots[1]), ready(slots[3]) || proc.as_ref().is_some_and(|p| p.child.exit_fd().is_none()))
        };
        s.waker.clear();

        // ---- the program's pipes ----
        let Some(p) = proc.as_mut() else { continue };
        if out_ready {
            p.read_answers(s);
        }
        if err_ready {
            p.read_stderr(s.config.output_limit);
        }
        if p.answered {
            quick_deaths = 0;
        }
        p.write_pending();
        if exit_ready && matches!(p.child.try_wait(), Ok(Some(_))) {
            // Its last answers first.
            p.read_answers(s);
            p.ended = true;
        }
        if p.ended && closing.is_none() {
            let p = proc.take().expect("checked above");
            let unanswered = s.lock().in_flight.len();
            tracing::warn!(unanswered, "stream program ended (or closed its output)");
            if !p.answered {
                quick_deaths += 1;
            }
            bury(s, p, true);
            restart_at = Some(Instant::now() + backoff(quick_deaths));
        }
    }
}

/// Kills what is left of a program (with its process group) and reaps it;
/// `log_stderr`: log what it still wrote there first.
fn bury(s: &Shared, mut p: Running, log_stderr: bool) {
    if log_stderr {
        p.read_stderr(s.config.output_limit);
    }
    {
        let mut st = s.lock();
        st.alive = false;
        st.pid = None;
        st.outbox.clear();
    }
    s.changed.notify_all();
    p.stdin = None;
    p.child.kill();
    // Dropping the child reaps it (waiting at most a moment after the kill).
    drop(p);
}

/// Writes the events the last program left unanswered to the new one,
/// once; those it had been given a second time already are lost.
fn replay(s: &Shared, p: &mut Running) {
    let mut lost = Vec::new();
    {
        let mut st = s.lock();
        let now = Instant::now();
        let seqs: Vec<u64> = st.in_flight.keys().copied().collect();
        for seq in seqs {
            let replayed = st.in_flight.get(&seq).is_some_and(|f| f.replayed);
            if replayed {
                lost.extend(st.in_flight.remove(&seq));
                continue;
            }
            if let Some(f) = st.in_flight.get_mut(&seq) {
                f.replayed = true;
                f.since = now;
                let env = env_json(&f.event);
                encode(&mut p.pending, seq, f.event.point, &env);
            }
        }
    }
    s.changed.notify_all();
    for f in lost {
        f.event.finish(Outcome::Lost, s.config.sync_timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_name_their_event() {
        assert_eq!(parse_answer("17 0"), Some((17, 0, "")));
        assert_eq!(parse_answer("18 1 client not allowed"), Some((18, 1, "client not allowed")));
        assert_eq!(parse_answer("19 0\r"), Some((19, 0, "")));
        assert_eq!(parse_answer("0"), None, "the old positional form has no seq");
        assert_eq!(parse_answer("hello world"), None);
        assert_eq!(parse_answer(""), None);
        assert_eq!(parse_answer("-1 0"), None);
    }

    #[test]
    fn backoff_doubles_after_the_second_quick_death() {
        let b: Vec<u64> = (0..12).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(b, [0, 0, 100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]);
    }

    #[test]
    fn an_event_line_is_one_json_object() {
        let mut out = Vec::new();
        encode(&mut out, 7, "lease4_renew", "{\"A\":\"x\\\"y\"}");
        let v: Value = serde_json::from_slice(out.strip_suffix(b"\n").unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({ "seq": 7, "hook_point": "lease4_renew", "env": { "A": "x\"y" } }));
    }
}
