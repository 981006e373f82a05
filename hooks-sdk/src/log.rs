//! Logging through `tracing` into Kea's own logger.
//!
//! At `load()` the SDK opens the Kea logger `kea-dhcp4.<NAME>` (or
//! `kea-dhcp6.<NAME>`) and installs a `tracing` subscriber that writes to it,
//! so the `loggers` section of Kea's configuration controls a hook's output
//! like any of Kea's own:
//!
//! ```json
//! "loggers": [{
//!     "name": "kea-dhcp4.mac-acl",
//!     "severity": "DEBUG", "debuglevel": 40,
//!     "output_options": [{ "output": "stdout" }]
//! }]
//! ```
//!
//! | `tracing` level | Kea severity | Kea debuglevel |
//! |---|---|---|
//! | `ERROR` | ERROR | |
//! | `WARN` | WARN | |
//! | `INFO` | INFO | |
//! | `DEBUG` | DEBUG | [`DEBUG_LEVEL`] (40) |
//! | `TRACE` | DEBUG | [`TRACE_LEVEL`] (55) |
//!
//! Whether an event is enabled is asked of Kea's logger before anything is
//! formatted, so disabled events cost a function call. An event becomes one
//! line: its message, then its other fields as `name=value`. Span data is
//! not recorded. Each line carries the message id `<NAME>` in capitals (for
//! example `MAC_ACL`), as Kea prints an id on every line.
//!
//! Events from a hook's own threads work the same; after `unload()` they are
//! discarded.

use std::fmt::{self, Write as _};
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use crate::ffi;

/// Kea debuglevel of `tracing::Level::DEBUG` events.
pub const DEBUG_LEVEL: i32 = 40;
/// Kea debuglevel of `tracing::Level::TRACE` events.
pub const TRACE_LEVEL: i32 = 55;

/// Kea's severities, as the shim numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

fn kea_level(level: &Level) -> (Severity, i32) {
    match *level {
        Level::ERROR => (Severity::Error, 0),
        Level::WARN => (Severity::Warn, 0),
        Level::INFO => (Severity::Info, 0),
        Level::DEBUG => (Severity::Debug, DEBUG_LEVEL),
        _ => (Severity::Debug, TRACE_LEVEL),
    }
}

/// Logs `message` to the hook's Kea logger if that severity is enabled.
/// Returns whether it was written.
pub(crate) fn emit(severity: Severity, debug_level: i32, message: &str) -> bool {
    if !ffi::log_enabled(severity as u8, debug_level) {
        return false;
    }
    ffi::log_emit(severity as u8, debug_level, message).is_ok()
}

/// Installs the subscriber as this library's global default (once per
/// mapping of the library; it reads the current logger on every event, so
/// it stays right across reloads).
pub(crate) fn install_subscriber() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if someone else set one in this library: keep theirs.
        let _ = tracing::subscriber::set_global_default(KeaSubscriber);
    });
}

struct KeaSubscriber;

impl Subscriber for KeaSubscriber {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Kea's configuration can change at any reload: ask every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        if !metadata.is_event() {
            return false;
        }
        let (severity, debug_level) = kea_level(metadata.level());
        ffi::log_enabled(severity as u8, debug_level)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let (severity, debug_level) = kea_level(event.metadata().level());
        let _ = ffi::log_emit(severity as u8, debug_level, &line.finish());
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Formats an event as `message k=v k=v`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn finish(mut self) -> String {
        if self.message.is_empty() {
            self.fields.trim_start().to_owned()
        } else {
            self.message.push_str(&self.fields);
            self.message
        }
    }
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}
