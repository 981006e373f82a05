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
//! it with one line on standard output, in order, starting with a decimal
//! status: `0` for success (what exit code 0 is in exec mode), anything
//! else for failure. Answers are what `sync` waits for, and what tells the
//! hook which events the program has dealt with. Up to `max-running`
//! events may be written and not yet answered.
//!
//! If the program exits (or closes its standard output), it is started
//! again, at once the first time and then with a backoff doubling from
//! 100 ms to 10 s while it keeps dying before answering anything. Events it
//! had been given but not answered are written again to the new process,
//! once (so a program may see an event twice: make it idempotent); events
//! unanswered by two processes in a row are counted as `lost`. A program
//! that answers nothing for `timeout-ms` is killed: the events it held are
//! counted as `timed-out` and not written again.
//!
//! At unload, queued events are still written and answers awaited until
//! `grace-ms` after the unload began; then the program's standard input is
//! closed (it should exit), and after one more second it is killed.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kea_hooks::process::{Child, Command};
use kea_hooks::threads::{JobQueue, StopToken, Worker};
use kea_hooks::Error;
use serde_json::{Map, Value};

use crate::{Config, Counters, Event, Outcome, Unload};

/// Restarts wait this long after the first quick death, doubling.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

struct InFlight {
    seq: u64,
    event: Event,
    /// Written to a process that died without answering it once already.
    replayed: bool,
    written: Instant,
}

#[derive(Default)]
struct State {
    child: Option<Child>,
    stdin: Option<File>,
    /// Bumped at each start; a reader only acts for its own process.
    generation: u64,
    /// The current process has ended (or closed its output).
    dead: bool,
    in_flight: VecDeque<InFlight>,
    next_seq: u64,
    /// Deaths in a row without an answer between them.
    quick_deaths: u32,
    answered_since_start: bool,
    /// A thread is replacing the program (it lets go of the lock while it
    /// waits out the backoff).
    restarting: bool,
    readers: Vec<Worker>,
}

struct Shared {
    config: Config,
    counters: Arc<Counters>,
    window: usize,
    state: Mutex<State>,
    changed: Condvar,
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
    writer: Option<Worker>,
    watchdog: Option<Worker>,
}

impl Stream {
    /// Starts the writer (which starts the program with the first event)
    /// and the watchdog.
    pub fn start(config: Config, queue_size: usize, counters: Arc<Counters>) -> Result<Stream, Error> {
        let shared = Arc::new(Shared {
            window: config.max_running,
            unload: Unload::new(config.grace),
            config,
            counters,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        {
            // Started now, so a program that cannot run shows at once.
            let mut st = shared.lock();
            start_process(&shared, &mut st).map_err(|e| Error::msg(format!("at 'name': cannot start the stream program: {e}")))?;
        }
        let s = Arc::clone(&shared);
        let (queue, writer) =
            JobQueue::with_draining_worker("run-script-stream", queue_size, shared.config.grace, move |event: Event, stop| {
                write_event(&s, event, stop);
            })?;
        let s = Arc::clone(&shared);
        let watchdog = Worker::spawn("run-script-watch", move |stop| watch(&s, stop))?;
        Ok(Stream { queue, shared, writer: Some(writer), watchdog: Some(watchdog) })
    }

    /// Events written and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.shared.lock().in_flight.len()
    }

    /// The program's process id.
    pub fn pid(&self) -> Option<u32> {
        let st = self.shared.lock();
        st.child.as_ref().filter(|_| !st.dead).map(Child::id)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let s = &self.shared;
        s.unload.begin();
        s.changed.notify_all();
        // Writes what is queued until the grace time is over.
        drop(self.writer.take());
        let mut st = s.lock();
        while !st.in_flight.is_empty() && !st.dead && !s.unload.past_grace() {
            st = s.changed.wait_timeout(st, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
        // End of input: the program should exit; then it is killed.
        st.stdin = None;
        let child = st.child.take();
        let left: Vec<InFlight> = st.in_flight.drain(..).collect();
        let readers = std::mem::take(&mut st.readers);
        drop(st);
        if let Some(mut child) = child {
            if !matches!(child.wait_timeout(Duration::from_secs(1)), Ok(Some(_))) {
                child.kill();
                let _ = child.wait();
            }
        }
        // Unanswered at unload: dropped (each counts itself).
        drop(left);
        drop(readers);
        drop(self.watchdog.take());
    }
}

/// Starts the program (a new generation) and its reader threads.
fn start_process(s: &Arc<Shared>, st: &mut State) -> std::io::Result<()> {
    let mut cmd = Command::new(&s.config.path);
    cmd.arg("stream").stdin_pipe(true).stdout_pipe(true).output(s.config.output.child_output());
    let mut child = cmd.spawn()?;
    st.generation += 1;
    st.dead = false;
    st.answered_since_start = false;
    st.stdin = child.take_stdin();
    let stdout = child.take_stdout();
    let stderr = child.take_output();
    tracing::info!(pid = child.id(), "stream program started");
    st.child = Some(child);
    st.readers.retain(|w| !w.is_finished());
    let generation = st.generation;
    if let Some(out) = stdout {
        let sh = Arc::clone(s);
        if let Ok(w) = Worker::spawn("run-script-read", move |_stop| read_answers(&sh, generation, out)) {
            st.readers.push(w);
        }
    }
    if let Some(err) = stderr {
        let limit = s.config.output_limit;
        if let Ok(w) = Worker::spawn("run-script-err", move |stop| log_stderr(err, limit, stop)) {
            st.readers.push(w);
        }
    }
    Ok(())
}

/// Replaces a dead program: kills and reaps what is left of it, waits the
/// backoff, starts a new one, and writes it the unanswered events again
/// (once; those already written twice are lost).
fn restart<'a>(s: &'a Arc<Shared>, mut st: MutexGuard<'a, State>, stop: &StopToken) -> MutexGuard<'a, State> {
    if st.restarting {
        return s.changed.wait_timeout(st, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
    }
    st.restarting = true;
    let mut st = restart_now(s, st, stop);
    st.restarting = false;
    s.changed.notify_all();
    st
}

fn restart_now<'a>(s: &'a Arc<Shared>, mut st: MutexGuard<'a, State>, stop: &StopToken) -> MutexGuard<'a, State> {
    // Dropping the old child kills its group if it still runs, and reaps it.
    st.child = None;
    st.stdin = None;
    if !st.answered_since_start {
        st.quick_deaths += 1;
    } else {
        st.quick_deaths = 0;
    }
    if st.quick_deaths > 1 {
        let backoff = BACKOFF_START.saturating_mul(1 << (st.quick_deaths - 2).min(7)).min(BACKOFF_MAX);
        tracing::warn!(backoff_ms = backoff.as_millis() as u64, "stream program keeps dying: waiting before the next start");
        drop(st);
        stop.sleep(backoff);
        st = s.lock();
        if s.unload.past_grace() {
            return st;
        }
    }
    s.counters.restarts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = start_process(s, &mut st) {
        tracing::warn!("cannot start the stream program: {e}");
        st.dead = true;
        return st;
    }
    let old: Vec<InFlight> = st.in_flight.drain(..).collect();
    for mut f in old {
        if f.replayed {
            f.event.finish(Outcome::Lost, s.config.sync_timeout);
            continue;
        }
        f.replayed = true;
        f.written = Instant::now();
        let line = encode(f.seq, &f.event);
        st.in_flight.push_back(f);
        if !write_line(&mut st, &line) {
            break;
        }
    }
    s.changed.notify_all();
    st
}

/// Writes one event to the program, (re)starting it as needed and waiting
/// for room in the window of unanswered events.
fn write_event(s: &Arc<Shared>, event: Event, stop: &StopToken) {
    let mut st = s.lock();
    loop {
        if s.unload.past_grace() {
            return; // the event drops and counts itself
        }
        if st.dead || st.child.is_none() || st.restarting {
            st = restart(s, st, stop);
            if st.dead {
                // Could not start it: wait for the next attempt's backoff.
                drop(st);
                stop.sleep(BACKOFF_START);
                st = s.lock();
            }
        } else if st.in_flight.len() >= s.window {
            st = s.changed.wait_timeout(st, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
        } else {
            break;
        }
    }
    let seq = st.next_seq;
    st.next_seq += 1;
    let line = encode(seq, &event);
    // In flight before it is written: an answer may come at once.
    st.in_flight.push_back(InFlight { seq, event, replayed: false, written: Instant::now() });
    if !write_line(&mut st, &line) {
        // Replayed to the next process, started now.
        st.dead = true;
        drop(restart(s, st, stop));
    }
}

fn write_line(st: &mut State, line: &[u8]) -> bool {
    match st.stdin.as_mut() {
        Some(stdin) => stdin.write_all(line).is_ok(),
        None => false,
    }
}

/// The event as the program reads it.
fn encode(seq: u64, event: &Event) -> Vec<u8> {
    let env: Map<String, Value> = event.vars.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let mut line = serde_json::to_vec(&serde_json::json!({ "seq": seq, "hook_point": event.point, "env": env })).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Takes the program's answers, in order, for the events in flight.
fn read_answers(s: &Arc<Shared>, generation: u64, out: File) {
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        let ok = line.split_whitespace().next().and_then(|t| t.parse::<i64>().ok()) == Some(0);
        let mut st = s.lock();
        if st.generation != generation {
            return;
        }
        st.answered_since_start = true;
        st.quick_deaths = 0;
        let done = st.in_flight.pop_front();
        drop(st);
        s.changed.notify_all();
        match done {
            Some(f) => {
                if !ok {
                    tracing::debug!(point = f.event.point, seq = f.seq, answer = %line, "stream program answered failure");
                }
                f.event.finish(if ok { Outcome::Run } else { Outcome::Failed }, s.config.sync_timeout);
            }
            None => tracing::debug!(answer = %line, "stream program answered an event it was not given"),
        }
    }
    let mut st = s.lock();
    if st.generation == generation {
        tracing::warn!(unanswered = st.in_flight.len(), "stream program ended (or closed its output)");
        st.dead = true;
        s.changed.notify_all();
    }
}

/// Logs the program's standard error at debug level, a line at a time, each
/// cut at `limit` bytes.
fn log_stderr(mut err: File, limit: usize, stop: &StopToken) {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let mut line = Vec::new();
    loop {
        // Non-blocking pipe: wait for data on it.
        match err.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                for &b in &buf[..n] {
                    if b == b'\n' {
                        tracing::debug!(output = %String::from_utf8_lossy(&line), "stream program");
                        line.clear();
                    } else if line.len() < limit {
                        line.push(b);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !stop.sleep(Duration::from_millis(50)) {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// Kills a program that has left its oldest event unanswered for longer
/// than `timeout-ms`; those events count as timed out.
fn watch(s: &Arc<Shared>, stop: &StopToken) {
    let tick = s.config.timeout.map_or(Duration::from_millis(100), |t| (t / 4).clamp(Duration::from_millis(10), Duration::from_millis(100)));
    while stop.sleep(tick) {
        let mut st = s.lock();
        // A program that died holding events: replace it now, not at the
        // next event (there may be none for a while).
        if st.dead && !st.in_flight.is_empty() && !st.restarting && !s.unload.begun() {
            drop(restart(s, st, stop));
            continue;
        }
        let Some(timeout) = s.config.timeout else { continue };
        let hung = st.in_flight.front().is_some_and(|f| f.written.elapsed() >= timeout) && !st.dead;
        if !hung {
            continue;
        }
        tracing::warn!(unanswered = st.in_flight.len(), "stream program answered nothing for timeout-ms: killing it");
        let held: Vec<InFlight> = st.in_flight.drain(..).collect();
        if let Some(child) = st.child.as_mut() {
            child.kill();
        }
        st.dead = true;
        drop(st);
        s.changed.notify_all();
        for f in held {
            f.event.finish(Outcome::TimedOut, s.config.sync_timeout);
        }
    }
}
