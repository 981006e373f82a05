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
    }

    /// One entry of `cb4_updated`'s `audit_entries`.
    #[derive(Debug)]
    struct AuditRow {
        object_type: String,
        modification: u8,
        object_id: u64,
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

    /// A lease from the lease database, copied out.
    #[derive(Debug)]
    struct LeaseRow4 {
        address: u32,
        has_hwaddr: bool,
        htype: u16,
        hwaddr: Vec<u8>,
        has_client_id: bool,
        client_id: Vec<u8>,
        valid_lft: u32,
        cltt: i64,
        subnet_id: u32,
        hostname: Vec<u8>,
        state: u32,
        fqdn_fwd: bool,
        fqdn_rev: bool,
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
        type Pkt4;
        #[namespace = "isc::dhcp"]
        type Lease4;
        #[namespace = "isc::dhcp"]
        type Lease4Collection;
        #[namespace = "isc::dhcp"]
        type Subnet4;
        #[namespace = "isc::dhcp"]
        type ClientId;
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

        // ---- configuration and lease database (see crate::kea for the
        // threads they may run on) ----
        /// The `subnet4` list of the running configuration, or of the one
        /// being applied (`staging`), as JSON text.
        fn config_subnets4_json(staging: bool) -> Result<String>;
        fn leases4_by_address(address: u32) -> Result<Vec<LeaseRow4>>;
        fn leases4_by_hwaddr(hwaddr: &[u8], htype: u16) -> Result<Vec<LeaseRow4>>;
        fn leases4_by_client_id(client_id: &[u8]) -> Result<Vec<LeaseRow4>>;
        fn leases4_by_subnet(subnet_id: u32) -> Result<Vec<LeaseRow4>>;
        /// Up to `size` leases with addresses above `after`, in order.
        fn leases4_page(after: u32, size: u32) -> Result<Vec<LeaseRow4>>;

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
        fn multi_threading_enabled() -> bool;

        // ---- callout handle ----
        fn handle_status(handle: &CalloutHandle) -> i32;
        fn handle_set_status(handle: Pin<&mut CalloutHandle>, status: i32);
        fn handle_argument_names(handle: &CalloutHandle) -> Result<Vec<String>>;
        fn arg_pkt4(handle: &CalloutHandle, name: &str) -> Result<*const Pkt4>;
        fn arg_lease4(handle: &CalloutHandle, name: &str) -> Result<*const Lease4>;
        fn arg_subnet4(handle: &CalloutHandle, name: &str) -> Result<*const Subnet4>;
        fn arg_lease4_collection(
            handle: &CalloutHandle,
            name: &str,
        ) -> Result<*const Lease4Collection>;
        fn arg_client_id(handle: &CalloutHandle, name: &str) -> Result<*const ClientId>;
        fn arg_hwaddr(handle: &CalloutHandle, name: &str) -> Result<*const HWAddr>;
        fn arg_bool(handle: &CalloutHandle, name: &str) -> Result<bool>;
        fn arg_u32(handle: &CalloutHandle, name: &str) -> Result<u32>;
        // Fast path for the arguments the SDK names: no exception handling
        // on the way back. `ok` is false when Kea threw; the caller then
        // fetches by name through the `Result` function above to get the
        // exception's message.
        fn known_arg_pkt4(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Pkt4;
        fn known_arg_lease4(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Lease4;
        fn known_arg_subnet4(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Subnet4;
        fn known_arg_lease4_collection(
            handle: &CalloutHandle,
            arg: Arg,
            ok: &mut bool,
        ) -> *const Lease4Collection;
        fn known_arg_bool(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> bool;

        // ---- Pkt4 ----
        fn pkt4_type(pkt: &Pkt4) -> Result<u8>;
        fn pkt4_transid(pkt: &Pkt4) -> u32;
        fn pkt4_hwaddr<'a>(pkt: &'a Pkt4, htype: &mut u16) -> &'a [u8];
        fn pkt4_local_hwaddr<'a>(pkt: &'a Pkt4, htype: &mut u16, present: &mut bool) -> &'a [u8];
        fn pkt4_remote_hwaddr<'a>(pkt: &'a Pkt4, htype: &mut u16, present: &mut bool) -> &'a [u8];
        fn pkt4_ciaddr(pkt: &Pkt4) -> u32;
        fn pkt4_yiaddr(pkt: &Pkt4) -> u32;
        fn pkt4_siaddr(pkt: &Pkt4) -> u32;
        fn pkt4_giaddr(pkt: &Pkt4) -> u32;
        fn pkt4_remote_addr(pkt: &Pkt4) -> u32;
        fn pkt4_local_addr(pkt: &Pkt4) -> u32;
        fn pkt4_remote_port(pkt: &Pkt4) -> u16;
        fn pkt4_local_port(pkt: &Pkt4) -> u16;
        fn pkt4_iface(pkt: &Pkt4) -> Result<String>;
        fn pkt4_iface_index(pkt: &Pkt4) -> i32;
        fn pkt4_hops(pkt: &Pkt4) -> u8;
        fn pkt4_secs(pkt: &Pkt4) -> u16;
        fn pkt4_flags(pkt: &Pkt4) -> u16;
        fn pkt4_relayed(pkt: &Pkt4) -> Result<bool>;
        fn pkt4_has_option(pkt: &Pkt4, code: u16) -> bool;
        /// Option `code`'s payload as Kea packs it; null when the packet
        /// has none.
        fn pkt4_option(pkt: &Pkt4, code: u16) -> Result<UniquePtr<CxxVector<u8>>>;
        fn pkt4_in_class(pkt: &Pkt4, name: &str) -> Result<bool>;
        fn pkt4_label(pkt: &Pkt4) -> Result<String>;

        // ---- Pkt4 writes (the shim casts the const away: see shim.h) ----
        fn pkt4_set_siaddr(pkt: &Pkt4, addr: u32);
        fn pkt4_sname(pkt: &Pkt4, out: &mut Vec<u8>) -> Result<()>;
        fn pkt4_file(pkt: &Pkt4, out: &mut Vec<u8>) -> Result<()>;
        fn pkt4_set_sname(pkt: &Pkt4, value: &[u8]) -> Result<()>;
        fn pkt4_set_file(pkt: &Pkt4, value: &[u8]) -> Result<()>;
        /// Adds option `code`, after removing the packet's one if `replace`.
        fn pkt4_add_option(pkt: &Pkt4, code: u16, data: &[u8], replace: bool) -> Result<()>;
        fn pkt4_remove_option(pkt: &Pkt4, code: u16) -> Result<usize>;
        fn pkt4_classes(pkt: &Pkt4, later: bool) -> Result<Vec<String>>;
        fn pkt4_add_class(pkt: &Pkt4, name: &str, later: bool) -> Result<()>;
        /// The raw datagram; the SDK copies it at once (a write replaces it).
        fn pkt4_raw(pkt: &Pkt4) -> &[u8];
        fn pkt4_set_raw(pkt: &Pkt4, data: &[u8]) -> Result<()>;
        /// The packed response; the SDK copies it at once.
        fn pkt4_out_buffer(pkt: &Pkt4) -> Result<&[u8]>;
        fn pkt4_set_out_buffer(pkt: &Pkt4, data: &[u8]) -> Result<()>;

        // ---- Lease4 ----
        fn lease4_addr(lease: &Lease4) -> u32;
        fn lease4_htype(lease: &Lease4) -> u16;
        fn lease4_hwaddr(lease: &Lease4) -> &[u8];
        fn lease4_has_hwaddr(lease: &Lease4) -> bool;
        fn lease4_client_id(lease: &Lease4) -> &[u8];
        fn lease4_has_client_id(lease: &Lease4) -> bool;
        fn lease4_valid_lft(lease: &Lease4) -> u32;
        fn lease4_cltt(lease: &Lease4) -> i64;
        fn lease4_subnet_id(lease: &Lease4) -> u32;
        fn lease4_hostname(lease: &Lease4) -> &[u8];
        fn lease4_state(lease: &Lease4) -> u32;
        fn lease4_fqdn_fwd(lease: &Lease4) -> bool;
        fn lease4_fqdn_rev(lease: &Lease4) -> bool;
        fn lease4_set_valid_lft(lease: &Lease4, seconds: u32);
        fn lease4_set_fqdn(lease: &Lease4, fwd: bool, rev: bool);
        fn lease4_set_hostname(lease: &Lease4, hostname: &[u8]) -> Result<()>;

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
        fn arg_subnet4_collection_ids(handle: &CalloutHandle, name: &str) -> Result<Vec<u32>>;
        /// Sets `subnet4` to the configured subnet `id`; false (nothing
        /// changed) when the configuration has none.
        fn arg_select_subnet4(handle: &CalloutHandle, id: u32) -> Result<bool>;
        fn arg_clear_subnet4(handle: &CalloutHandle) -> Result<()>;
        fn arg_audit_entries(handle: &CalloutHandle, name: &str) -> Result<Vec<AuditRow>>;

        // ---- the per-packet context ----
        /// This library's values in the handle's context; when there are
        /// none, new ones put there if `create`, else null.
        fn handle_context(handle: &CalloutHandle, create: bool) -> Result<*mut PacketValues>;

        // ---- Lease4Collection ----
        fn lease4_collection_len(leases: &Lease4Collection) -> usize;
        fn lease4_collection_get(leases: &Lease4Collection, index: usize) -> *const Lease4;

        // ---- ClientId, HWAddr ----
        fn client_id_bytes(id: &ClientId) -> &[u8];
        fn hwaddr_bytes<'a>(hw: &'a HWAddr, htype: &mut u16) -> &'a [u8];

        // ---- Subnet4 ----
        fn subnet4_id(subnet: &Subnet4) -> u32;
        fn subnet4_prefix(subnet: &Subnet4) -> u32;
        fn subnet4_prefix_len(subnet: &Subnet4) -> u8;

        // ---- logging ----
        fn log_open(logger_name: &str, message_id: &str) -> Result<()>;
        fn log_close();
        fn log_enabled(severity: u8, debug_level: i32) -> bool;
        fn log_emit(severity: u8, debug_level: i32, message: &str) -> Result<()>;
    }
}
