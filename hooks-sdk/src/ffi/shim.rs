//! The cxx bridge to the C++ shim (`cpp-shim/`).
//!
//! Every C++ function that can reach a throwing Kea call is declared
//! `-> Result<..>`; the shim overrides cxx's `trycatch` so that any exception
//! (not only `std::exception`) becomes a Rust `Err`. The functions declared
//! without `Result` never throw.
//!
//! Raw pointers returned by the `arg_*` functions point into objects owned by
//! the callout handle's arguments; [`super::args`] turns them into
//! references bounded by the callout's lifetime, in one audited place.

use super::context::{packet_values_new, PacketValues};
use super::lease_gate::{lease_gate_close, lease_gate_open};
use super::main_queue::run_main_queue;

#[cxx::bridge(namespace = "kea_shim")]
pub(crate) mod bridge {
    /// The callout arguments the SDK names itself. The shim keeps each
    /// name as a ready-made `std::string`, so fetching one of these costs
    /// no string conversion (the `&str` variants serve any other name).
    #[derive(Debug)]
    #[repr(u8)]
    enum Arg {
        Query4,
        Response4,
        Lease4,
        Subnet4,
        Leases4,
        DeletedLeases4,
        FakeAllocation,
        OfferLifetime,
        OldLease,
        Query6,
        Response6,
        Lease6,
        Subnet6,
        Leases6,
        DeletedLeases6,
    }

    /// One entry of `cb4_updated`'s `audit_entries`.
    #[derive(Debug)]
    struct AuditRow {
        object_type: String,
        modification: u8,
        object_id: u64,
        /// Microseconds since the Unix epoch (Kea's ptime as UTC; a time
        /// Kea does not have, "not a date time", as 0).
        modification_time_us: i64,
        revision_id: u64,
        log_message: String,
    }

    /// What kind of value a statistic holds (`None`: there is no such
    /// statistic).
    #[derive(Debug)]
    #[repr(u8)]
    enum StatKind {
        None,
        Integer,
        BigInteger,
        Float,
        Duration,
        String,
        Other,
    }

    /// A statistic's latest value: `integer` (for Duration: microseconds),
    /// `float_`, or `text` (for BigInteger: decimal), by `kind`.
    #[derive(Debug)]
    struct StatReading {
        kind: StatKind,
        integer: i64,
        float_: f64,
        text: String,
    }

    /// One statistic of [`statistics_page`]: its name and latest value.
    #[derive(Debug)]
    struct StatEntry {
        name: String,
        value: StatReading,
    }

    /// One row of Kea's lease statistics query (`LeaseStatsRow`): how many
    /// leases of a type are in a state in a subnet.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct LeaseStatsRow {
        subnet_id: u32,
        /// `Lease::Type`: 0 NA, 1 TA, 2 PD, 3 V4.
        lease_type: u8,
        state: u32,
        count: i64,
    }

    extern "Rust" {
        /// The hook's values in a packet's callout context.
        type PacketValues;
        /// New, empty values (`handle_context` makes them when asked to).
        fn packet_values_new() -> Box<PacketValues>;

        /// Runs the work queued for Kea's main thread (Kea calls it there,
        /// when the queue's eventfd is readable). Never unwinds.
        fn run_main_queue();

        /// Kea entered / left a multi-threading critical section (see
        /// `lease_gate`). Never unwind.
        fn lease_gate_close();
        fn lease_gate_open();
    }

    unsafe extern "C++" {
        include!("shim.h");

        #[namespace = "isc::hooks"]
        type CalloutHandle;
        #[namespace = "isc::hooks"]
        type LibraryHandle;
        #[namespace = "isc::dhcp"]
        type HWAddr;

        // ---- library handle / load ----
        /// The `parameters` map as JSON text (written by the shim, not by
        /// Kea's `Element::str()`); empty when there is none. Throws, naming
        /// the field, for text that is not UTF-8.
        fn library_parameters_json(handle: Pin<&mut LibraryHandle>) -> Result<String>;
        fn server_has_hook(name: &str) -> Result<bool>;
        fn server_root_logger() -> Result<String>;
        /// Where Kea lets a hook run script `name` from (3.0+: its
        /// hook-scripts path rule; before: `name`). Throws naming the
        /// allowed directory.
        fn hook_script_path(name: &str) -> Result<String>;
        /// `callout` is the address of a [`RawCallout`](super::RawCallout).
        fn register_callout(
            handle: Pin<&mut LibraryHandle>,
            name: &str,
            callout: usize,
        ) -> Result<()>;

        /// `callout` is the address of a [`RawCallout`](super::RawCallout).
        fn register_command(
            handle: Pin<&mut LibraryHandle>,
            name: &str,
            callout: usize,
        ) -> Result<()>;

        // ---- parking ----
        /// A packet a callout parked (see shim.h).
        type ParkedPacket;
        /// Parks the callout's query: takes a reference in the point's
        /// parking lot (and keeps what resuming it needs).
        /// `kind`: the point's `parking::Parking` (0 plain, 1 lease4_offer,
        /// 2 subnet4_select).
        /// Sets `xid` to the query's transaction id.
        fn handle_park(handle: &CalloutHandle, kind: u8, xid: &mut u32) -> Result<UniquePtr<ParkedPacket>>;
        /// Leaves the subnet Kea uses for a query resumed after
        /// subnet4_select: configured subnet `id` if `by_id`, else the one
        /// selected when it was parked.
        fn parked_set_subnet(parked: &ParkedPacket, by_id: bool, id: u32) -> Result<()>;
        fn parked_clear_subnet(parked: &ParkedPacket) -> Result<()>;
        /// Kea's unpark: resumes processing when the last reference goes;
        /// false when the packet is no longer parked. Lets go of `parked`.
        fn parked_resume(parked: UniquePtr<ParkedPacket>) -> Result<bool>;
        /// Kea's drop: forgets the packet without resuming it.
        fn parked_drop(parked: &ParkedPacket) -> Result<bool>;
        fn parked_set_bool(parked: &ParkedPacket, name: &str, value: bool) -> Result<()>;

        // ---- Kea's main thread ----
        /// Has Kea watch `fd` (an eventfd) and call `run_main_queue` on its
        /// main thread when it is readable.
        fn main_queue_open(fd: i32) -> Result<()>;
        fn main_queue_close(fd: i32) -> Result<()>;
        /// Registers `lease_gate_close`/`lease_gate_open` as Kea's
        /// critical-section entry and exit callbacks under `name`; true
        /// when called inside a critical section.
        fn lease_gate_register(name: &str) -> Result<bool>;
        fn lease_gate_unregister(name: &str) -> Result<()>;


        // ---- statistics ----
        /// Adds `value` to Kea's integer statistic `name` (creating it).
        fn statistic_add(name: &str, value: i64) -> Result<()>;
        fn statistic_set_integer(name: &str, value: i64) -> Result<()>;
        fn statistic_set_float(name: &str, value: f64) -> Result<()>;
        fn statistic_add_float(name: &str, value: f64) -> Result<()>;
        fn statistic_set_string(name: &str, value: &str) -> Result<()>;
        fn statistic_remove(name: &str) -> Result<bool>;
        fn statistic_reset(name: &str) -> Result<bool>;
        fn statistic_get(name: &str) -> Result<StatReading>;
        /// How many statistics Kea has.
        fn statistic_count() -> Result<usize>;
        /// Up to `max` statistics in name order: from the first
        /// (`from_start`) or those whose names sort after `after`.
        fn statistics_page(after: &str, from_start: bool, max: usize) -> Result<Vec<StatEntry>>;
        fn multi_threading_enabled() -> bool;
        /// Kea's lease statistics query (what stat_cmds reads): DHCPv6
        /// with `v6`, subnets `first` to `last` (0, 0: all).
        fn lease_stats_query(v6: bool, first: u32, last: u32) -> Result<Vec<LeaseStatsRow>>;
        /// The open lease database's type (`LeaseMgr::getType`:
        /// `memfile`, `postgresql`, `mysql`).
        fn lease_backend_type() -> Result<String>;
        /// The hook libraries Kea has loaded, in the configuration's order
        /// (`HooksManager::getLibraryNames`: their paths).
        fn hook_library_names() -> Result<Vec<String>>;
        /// Kea's answer (JSON text) to a control command (JSON text), as
        /// its control socket would give it (`CommandMgr::processCommand`).
        fn execute_command(command_json: &str) -> Result<String>;

        // ---- callout handle ----
        fn handle_status(handle: &CalloutHandle) -> i32;
        fn handle_set_status(handle: Pin<&mut CalloutHandle>, status: i32);
        fn handle_argument_names(handle: &CalloutHandle) -> Result<Vec<String>>;
        fn arg_hwaddr(handle: &CalloutHandle, name: &str) -> Result<*const HWAddr>;
        fn arg_bool(handle: &CalloutHandle, name: &str) -> Result<bool>;
        fn arg_u32(handle: &CalloutHandle, name: &str) -> Result<u32>;
        // Fast path for the arguments the SDK names (see `Arg`): no
        // exception handling on the way back. `ok` is false when Kea threw;
        // the caller then fetches by name through the `Result` function to
        // get the exception's message. (Each family's bridge has its own.)
        fn known_arg_bool(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> bool;


        // ---- arguments Kea reads back after the callout ----
        fn arg_set_bool(handle: &CalloutHandle, name: &str, value: bool) -> Result<()>;
        fn arg_string(handle: &CalloutHandle, name: &str) -> Result<String>;
        fn arg_set_string(handle: &CalloutHandle, name: &str, value: &str) -> Result<()>;
        fn arg_bytes(handle: &CalloutHandle, name: &str, out: &mut Vec<u8>) -> Result<()>;
        fn arg_set_bytes(handle: &CalloutHandle, name: &str, value: &[u8]) -> Result<()>;
        fn arg_identifier_type(handle: &CalloutHandle, name: &str) -> Result<i32>;
        fn arg_set_identifier_type(handle: &CalloutHandle, name: &str, value: i32) -> Result<()>;
        /// A `ConstElementPtr` argument as JSON text (`null` for a null pointer).
        fn arg_element_json(handle: &CalloutHandle, name: &str) -> Result<String>;
        fn arg_set_element_json(handle: &CalloutHandle, name: &str, json: &str) -> Result<()>;
        /// A Kea data element built value by value (see shim.h).
        type ElementBuilder;
        fn element_builder_new() -> UniquePtr<ElementBuilder>;
        fn element_null(b: Pin<&mut ElementBuilder>) -> Result<()>;
        fn element_bool(b: Pin<&mut ElementBuilder>, value: bool) -> Result<()>;
        fn element_int(b: Pin<&mut ElementBuilder>, value: i64) -> Result<()>;
        fn element_float(b: Pin<&mut ElementBuilder>, value: f64) -> Result<()>;
        fn element_string(b: Pin<&mut ElementBuilder>, value: &str) -> Result<()>;
        fn element_key(b: Pin<&mut ElementBuilder>, key: &str) -> Result<()>;
        fn element_begin_list(b: Pin<&mut ElementBuilder>) -> Result<()>;
        fn element_begin_map(b: Pin<&mut ElementBuilder>) -> Result<()>;
        fn element_end(b: Pin<&mut ElementBuilder>) -> Result<()>;
        fn arg_set_element_built(handle: &CalloutHandle, name: &str, b: &ElementBuilder) -> Result<()>;
        fn arg_audit_entries(handle: &CalloutHandle, name: &str) -> Result<Vec<AuditRow>>;

        // ---- the per-packet context ----
        /// This library's values in the handle's context; when there are
        /// none, new ones put there if `create`, else null.
        fn handle_context(handle: &CalloutHandle, create: bool) -> Result<*mut PacketValues>;


        // ---- HWAddr ----
        fn hwaddr_bytes<'a>(hw: &'a HWAddr, htype: &mut u16) -> &'a [u8];


        // ---- logging ----
        fn log_open(logger_name: &str, message_id: &str) -> Result<()>;
        fn log_close();
        fn log_enabled(severity: u8, debug_level: i32) -> bool;
        fn log_emit(severity: u8, debug_level: i32, message: &str) -> Result<()>;
    }
}
