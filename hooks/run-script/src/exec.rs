//! Exec mode: a process per event, as ISC's hook, but never forked from
//! Kea and never waited for on a packet thread.
//!
//! A spawner thread takes events from the queue and starts the script with
//! `posix_spawn` (argv `[name, "<hook_point>"]`, the event's variables as
//! the whole environment), at most `max-running` at once; a reaper thread
//! waits for all of them on their pidfds, kills those past `timeout-ms`
//! (with everything in their process group), and counts how each ended.
//!
//! At unload, queued events are still started, and running scripts may
//! still end, until `grace-ms` after the unload began; then what is left
//! is dropped (queued) or killed (running), counted and logged, and both
//! threads are joined. No child is left behind, running or as a zombie.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use kea_hooks::process::{Command, Exit, Reaper};
use kea_hooks::threads::{JobQueue, Worker};
use kea_hooks::Error;

use crate::{Config, Event, Outcome, Unload};

/// What the spawner and the reaper share.
struct Shared {
    config: Config,
    reaper: Reaper<Event>,
    /// Signalled by the reaper when scripts end (room under `max-running`).
    room: (Mutex<()>, Condvar),
    /// When the unload began; both threads stop waiting `grace` after it.
    unload: Unload,
}

impl Shared {
    /// Wakes the spawner if it waits for room. Under the room's lock, so
    /// the wake cannot fall between its check and its wait.
    fn signal_room(&self) {
        let _guard = self.room.0.lock().unwrap_or_else(|e| e.into_inner());
        self.room.1.notify_all();
    }
}

/// The running exec mode.
pub struct Exec {
    pub queue: JobQueue<Event>,
    shared: Arc<Shared>,
    spawner: Option<Worker>,
    reaper: Option<Worker>,
}

impl Exec {
    /// Starts the spawner and the reaper.
    pub fn start(config: Config, queue_size: usize) -> Result<Exec, Error> {
        let shared = Arc::new(Shared {
            reaper: Reaper::new(config.output_limit).map_err(|e| Error::msg(format!("cannot watch scripts: {e}")))?,
            unload: Unload::new(config.grace),
            config,
            room: (Mutex::new(()), Condvar::new()),
        });
        let s = Arc::clone(&shared);
        let reaper = Worker::spawn("run-script-reap", move |stop| {
            let wake = Arc::clone(&s);
            stop.on_stop(move || wake.reaper.wake());
            let mut killed = false;
            loop {
                let ended = s.reaper.wait(Duration::from_secs(1));
                if !ended.is_empty() {
                    s.signal_room();
                }
                for done in ended {
                    finish(&s.config, done);
                }
                // Stopped only once the spawner has ended (Exec's Drop), so
                // no child comes after the reaper is empty.
                if stop.is_stopped() {
                    if s.reaper.is_empty() {
                        break;
                    }
                    if !killed && s.unload.past_grace() {
                        tracing::warn!(running = s.reaper.len(), "unload: scripts still running past the grace time: killing them");
                        s.reaper.kill_all();
                        killed = true;
                    }
                }
            }
        })?;
        let s = Arc::clone(&shared);
        let (queue, spawner) = JobQueue::with_draining_worker("run-script-spawn", queue_size, shared.config.grace, move |event: Event, _stop| {
            spawn(&s, event);
        })?;
        Ok(Exec { queue, shared, spawner: Some(spawner), reaper: Some(reaper) })
    }

    /// Scripts running now.
    pub fn running(&self) -> usize {
        self.shared.reaper.len()
    }
}

impl Drop for Exec {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.unload.begin();
        shared.signal_room();
        // The spawner starts what is queued until the grace time is over,
        // then drops the rest (each counts itself); then the reaper waits
        // for the running scripts, killing them past the grace time.
        drop(self.spawner.take());
        drop(self.reaper.take());
    }
}

/// Starts one script, waiting for room under `max-running` (not past the
/// unload's grace time: then the event is dropped and counts itself).
fn spawn(s: &Shared, event: Event) {
    {
        let mut guard = s.room.0.lock().unwrap_or_else(|e| e.into_inner());
        while s.reaper.len() >= s.config.max_running {
            if s.unload.past_grace() {
                return;
            }
            guard = s.room.1.wait_timeout(guard, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
    if s.unload.past_grace() {
        return;
    }
    let mut cmd = Command::new(&s.config.path);
    cmd.arg(event.point);
    for (k, v) in &event.vars.0 {
        cmd.env(k, v);
    }
    cmd.output(s.config.output.child_output());
    match cmd.spawn() {
        Ok(child) => s.reaper.add(child, event, s.config.timeout),
        Err(e) => {
            tracing::warn!(script = %s.config.path.display(), point = event.point, "cannot start the script: {e}");
            event.finish(Outcome::Failed, s.config.sync_timeout);
        }
    }
}

/// How a script's end counts: exit code 0 is `run`; a timeout is
/// `timed-out`; anything else is `failed`, an exit status nobody knows
/// (taken by Kea's own SIGCHLD handler on a kernel before 6.15, see
/// [`kea_hooks::process::Exit::Unknown`]) included: with `sync`, only a
/// script seen to exit 0 lets a packet through.
pub fn outcome(exit: Exit, timed_out: bool) -> Outcome {
    match (timed_out, exit) {
        (true, _) => Outcome::TimedOut,
        (false, Exit::Code(0)) => Outcome::Run,
        _ => Outcome::Failed,
    }
}

/// Counts a script that ended, logs it at debug level (with its output),
/// and settles its parked packet.
fn finish(config: &Config, done: kea_hooks::process::Reaped<Event>) {
    let event = done.tag;
    let output = String::from_utf8_lossy(&done.output);
    let output = output.trim_end();
    let outcome = outcome(done.exit, done.timed_out);
    match outcome {
        Outcome::TimedOut => {
            tracing::debug!(point = event.point, runtime_ms = done.runtime.as_millis() as u64, output, "script timed out and was killed")
        }
        Outcome::Run if !output.is_empty() => tracing::debug!(point = event.point, output, "script output"),
        Outcome::Run => {}
        _ => tracing::debug!(point = event.point, exit = %done.exit, output, "script failed"),
    }
    if done.output_dropped > 0 {
        tracing::debug!(point = event.point, bytes = done.output_dropped, "script output beyond output-limit discarded");
    }
    event.finish(outcome, config.sync_timeout);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_seen_exit_0_counts_as_run() {
        assert_eq!(outcome(Exit::Code(0), false), Outcome::Run);
        assert_eq!(outcome(Exit::Code(1), false), Outcome::Failed);
        assert_eq!(outcome(Exit::Signal(9), false), Outcome::Failed);
        assert_eq!(outcome(Exit::Unknown, false), Outcome::Failed, "an exit status someone else took must not pass a packet");
        assert_eq!(outcome(Exit::Code(0), true), Outcome::TimedOut);
    }
}
