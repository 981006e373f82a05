//! The cxx bridge to the DHCPv4 half of the C++ shim (`cpp-shim/shim4.h`,
//! `shim4.cc`): Kea's `Pkt4`, `Lease4`, `Subnet4` and their collections,
//! the DHCPv4 arguments, and the DHCPv4 lease database. The family-neutral
//! half (handles, parking, statistics, logging, the main thread) is
//! [`super::shim`], whose `CalloutHandle` and `Arg` this bridge shares.
//!
//! The same rules as there: every C++ function that can reach a throwing
//! Kea call is declared `-> Result<..>`; those declared without it never
//! throw; raw pointers returned by the `arg_*` functions point into objects
//! owned by the callout handle's arguments, and [`super::args`] turns them
//! into references bounded by the callout.

#[cxx::bridge(namespace = "kea_shim")]
pub(crate) mod bridge {
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

    unsafe extern "C++" {
        include!("shim4.h");

        #[namespace = "isc::hooks"]
        type CalloutHandle = crate::ffi::shim::bridge::CalloutHandle;
        type Arg = crate::ffi::shim::bridge::Arg;
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

        // ---- configuration and lease database (see crate::kea for the
        // threads they may run on) ----
        /// The `subnet4` list of the running configuration, or of the one
        /// being applied (`staging`), as JSON text.
        fn config_subnets4_json(staging: bool) -> Result<String>;
        /// The shared networks of the same configuration, as JSON text.
        fn config_shared_networks4_json(staging: bool) -> Result<String>;
        fn leases4_by_address(address: u32) -> Result<Vec<LeaseRow4>>;
        fn leases4_by_hwaddr(hwaddr: &[u8], htype: u16) -> Result<Vec<LeaseRow4>>;
        fn leases4_by_client_id(client_id: &[u8]) -> Result<Vec<LeaseRow4>>;
        fn leases4_by_subnet(subnet_id: u32) -> Result<Vec<LeaseRow4>>;
        /// Up to `size` leases with addresses above `after`, in order.
        fn leases4_page(after: u32, size: u32) -> Result<Vec<LeaseRow4>>;

        // ---- callout arguments ----
        fn arg_pkt4(handle: &CalloutHandle, name: &str) -> Result<*const Pkt4>;
        fn arg_lease4(handle: &CalloutHandle, name: &str) -> Result<*const Lease4>;
        fn arg_subnet4(handle: &CalloutHandle, name: &str) -> Result<*const Subnet4>;
        fn arg_lease4_collection(
            handle: &CalloutHandle,
            name: &str,
        ) -> Result<*const Lease4Collection>;
        fn arg_client_id(handle: &CalloutHandle, name: &str) -> Result<*const ClientId>;
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
        fn arg_subnet4_collection_ids(handle: &CalloutHandle, name: &str) -> Result<Vec<u32>>;
        /// Sets `subnet4` to the configured subnet `id`; false (nothing
        /// changed) when the configuration has none.
        fn arg_select_subnet4(handle: &CalloutHandle, id: u32) -> Result<bool>;
        fn arg_clear_subnet4(handle: &CalloutHandle) -> Result<()>;

        // ---- Lease4Collection ----
        fn lease4_collection_len(leases: &Lease4Collection) -> usize;
        fn lease4_collection_get(leases: &Lease4Collection, index: usize) -> *const Lease4;

        // ---- ClientId ----
        fn client_id_bytes(id: &ClientId) -> &[u8];

        // ---- Subnet4 ----
        fn subnet4_id(subnet: &Subnet4) -> u32;
        fn subnet4_prefix(subnet: &Subnet4) -> u32;
        fn subnet4_prefix_len(subnet: &Subnet4) -> u8;
    }
}
