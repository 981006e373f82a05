//! Keeps queries from a hook's own threads out of the lease database while
//! Kea changes or destroys it.
//!
//! With multi-threading on, a hook's thread may query the lease database
//! itself ([`LeaseDb::for_this_thread`](crate::kea::LeaseDb::for_this_thread)).
//! Kea replaces the database during a reconfiguration and destroys it at
//! shutdown *before* it unloads hooks, with its packet threads stopped but
//! not the hook's. Both happen inside a multi-threading critical section,
//! and Kea calls registered callbacks when one begins and ends: the shim
//! registers [`lease_gate_close`] and [`lease_gate_open`] there, from load
//! to unload. Closing waits for the queries in flight (each holds the gate
//! for reading) and refuses new ones until the section ends. At shutdown
//! Kea removes the callbacks inside the section, so the gate stays closed
//! while the database is destroyed.

use std::sync::RwLock;

use super::shim::bridge;

/// `true` while closed.
static GATE: RwLock<bool> = RwLock::new(false);

/// Kea entered a critical section: wait for the queries in flight, refuse
/// new ones. Called by Kea on its main thread; never unwinds.
pub(crate) fn lease_gate_close() {
    *GATE.write().unwrap_or_else(|e| e.into_inner()) = true;
}

/// The critical section ended. Called by Kea on its main thread.
pub(crate) fn lease_gate_open() {
    *GATE.write().unwrap_or_else(|e| e.into_inner()) = false;
}

/// Runs `query` unless the gate is closed (`None`), holding it open
/// meanwhile.
pub(crate) fn while_open<R>(query: impl FnOnce() -> R) -> Option<R> {
    let closed = GATE.read().unwrap_or_else(|e| e.into_inner());
    if *closed {
        return None;
    }
    Some(query())
}

/// The callbacks' name in Kea: unique per loaded library (the gate's
/// address).
fn name() -> String {
    format!("kea-hooks lease gate {:p}", &GATE)
}

/// Has Kea call the gate at critical sections; `load()` calls this on
/// Kea's main thread. Kea loads hooks inside the critical section of a
/// (re)configuration, before it opens the new lease database: the gate
/// starts closed then, and the section's end opens it.
pub(crate) fn register() -> Result<(), String> {
    lease_gate_close();
    let inside =
        bridge::lease_gate_register(&name()).map_err(|e| format!("Kea refused the critical-section callbacks: {}", e.what()))?;
    if !inside {
        lease_gate_open();
    }
    Ok(())
}

/// Removes the callbacks; `unload()` calls this on Kea's main thread.
pub(crate) fn unregister() {
    let _ = bridge::lease_gate_unregister(&name());
}
