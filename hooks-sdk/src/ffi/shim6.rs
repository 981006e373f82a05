//! The cxx bridge to the DHCPv6 half of the C++ shim (`cpp-shim/shim6.h`,
//! `shim6.cc`): Kea's `Pkt6` (with its relay chain), `Lease6`, `Subnet6`
//! (with its pools) and their collections, the DHCPv6 arguments, and the
//! DHCPv6 lease database. It shares `CalloutHandle` and `Arg` with
//! [`super::shim`], and keeps the same rules: every C++ function that can
//! reach a throwing Kea call is declared `-> Result<..>`; those declared
//! without it never throw; raw pointers returned by the `arg_*` functions
//! point into objects owned by the callout handle's arguments, and
//! [`super::args`] turns them into references bounded by the callout.

#[cxx::bridge(namespace = "kea_shim")]
pub(crate) mod bridge {
    /// An IPv6 address (`::` where Kea holds none).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Addr6 {
        octets: [u8; 16],
    }

    /// A lease from the lease database, copied out.
    #[derive(Debug)]
    struct LeaseRow6 {
        /// Kea's `Lease::Type`: 0 NA, 1 TA, 2 PD.
        lease_type: u8,
        address: Addr6,
        prefix_len: u8,
        iaid: u32,
        duid: Vec<u8>,
        preferred_lft: u32,
        valid_lft: u32,
        cltt: i64,
        subnet_id: u32,
        /// 0 before Kea 2.6.
        pool_id: u32,
        hostname: Vec<u8>,
        state: u32,
        fqdn_fwd: bool,
        fqdn_rev: bool,
        has_hwaddr: bool,
        htype: u16,
        hwaddr: Vec<u8>,
    }

    /// One option, packed as on the wire without its code and length.
    #[derive(Debug)]
    struct OptionRow6 {
        code: u16,
        data: Vec<u8>,
    }

    /// One relay of a relayed query (Kea's `Pkt6::RelayInfo`).
    #[derive(Debug)]
    struct RelayRow6 {
        msg_type: u8,
        hop_count: u8,
        link_addr: Addr6,
        peer_addr: Addr6,
    }

    /// One pool of a subnet.
    #[derive(Debug)]
    struct PoolRow6 {
        /// Kea's `Lease::Type`: 0 NA, 1 TA, 2 PD.
        lease_type: u8,
        first: Addr6,
        last: Addr6,
        /// The length of the prefixes a PD pool delegates (128 for
        /// address pools).
        delegated_len: u8,
        /// The pool's id (`pool-id`, Kea 2.6+; 0 before).
        id: u64,
    }

    unsafe extern "C++" {
        include!("shim6.h");

        #[namespace = "isc::hooks"]
        type CalloutHandle = crate::ffi::shim::bridge::CalloutHandle;
        type Arg = crate::ffi::shim::bridge::Arg;
        #[namespace = "isc::dhcp"]
        type Pkt6;
        #[namespace = "isc::dhcp"]
        type Lease6;
        #[namespace = "isc::dhcp"]
        type Lease6Collection;
        #[namespace = "isc::dhcp"]
        type Subnet6;

        // ---- configuration and lease database (see crate::kea for the
        // threads they may run on) ----
        /// The `subnet6` list of the running configuration, or of the one
        /// being applied (`staging`), as JSON text.
        fn config_subnets6_json(staging: bool) -> Result<String>;
        /// The shared networks of the same configuration, as JSON text.
        fn config_shared_networks6_json(staging: bool) -> Result<String>;
        fn leases6_by_address(lease_type: u8, address: &[u8]) -> Result<Vec<LeaseRow6>>;
        fn leases6_by_duid_iaid(lease_type: u8, duid: &[u8], iaid: u32) -> Result<Vec<LeaseRow6>>;
        fn leases6_by_duid(duid: &[u8]) -> Result<Vec<LeaseRow6>>;
        fn leases6_by_subnet(subnet_id: u32) -> Result<Vec<LeaseRow6>>;
        /// Up to `size` leases with addresses above `after`, in order.
        fn leases6_page(after: &[u8], size: u32) -> Result<Vec<LeaseRow6>>;

        // ---- callout arguments ----
        fn arg_pkt6(handle: &CalloutHandle, name: &str) -> Result<*const Pkt6>;
        fn arg_lease6(handle: &CalloutHandle, name: &str) -> Result<*const Lease6>;
        fn arg_subnet6(handle: &CalloutHandle, name: &str) -> Result<*const Subnet6>;
        fn arg_lease6_collection(handle: &CalloutHandle, name: &str) -> Result<*const Lease6Collection>;
        /// An IA argument (`ia_na`, `ia_pd`) packed; null when null.
        fn arg_option6_ia(handle: &CalloutHandle, name: &str) -> Result<UniquePtr<CxxVector<u8>>>;
        /// (Used on Kea 3.0+ only: addr6_register.)
        #[allow(dead_code)]
        fn arg_address6(handle: &CalloutHandle, name: &str) -> Result<Addr6>;
        // Fast path for the arguments the SDK names (see shim4.rs).
        fn known_arg_pkt6(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Pkt6;
        fn known_arg_lease6(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Lease6;
        fn known_arg_subnet6(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Subnet6;
        fn known_arg_lease6_collection(handle: &CalloutHandle, arg: Arg, ok: &mut bool) -> *const Lease6Collection;

        // ---- Pkt6 ----
        fn pkt6_type(pkt: &Pkt6) -> u8;
        fn pkt6_transid(pkt: &Pkt6) -> u32;
        fn pkt6_remote_addr(pkt: &Pkt6) -> Addr6;
        fn pkt6_local_addr(pkt: &Pkt6) -> Addr6;
        fn pkt6_remote_port(pkt: &Pkt6) -> u16;
        fn pkt6_local_port(pkt: &Pkt6) -> u16;
        fn pkt6_iface(pkt: &Pkt6) -> Result<String>;
        fn pkt6_mac(pkt: &Pkt6, htype: &mut u16, out: &mut Vec<u8>) -> Result<bool>;
        fn pkt6_iface_index(pkt: &Pkt6) -> i32;
        fn pkt6_remote_hwaddr<'a>(pkt: &'a Pkt6, htype: &mut u16, present: &mut bool) -> &'a [u8];
        fn pkt6_relay_count(pkt: &Pkt6) -> usize;
        /// Relay `level` (0: closest to the server); false past the last.
        fn pkt6_relay(pkt: &Pkt6, level: usize, out: &mut RelayRow6) -> bool;
        fn pkt6_has_option(pkt: &Pkt6, code: u16) -> bool;
        /// Options `code` (every option if `all`) of the packet (`level`
        /// -1) or of relay `level`; fails for a level the packet lacks.
        fn pkt6_options(pkt: &Pkt6, level: i32, code: u16, all: bool) -> Result<Vec<OptionRow6>>;
        /// The first option `code` at `level` (as `pkt6_options`), as Kea
        /// packs it; null when there is none.
        fn pkt6_option(pkt: &Pkt6, level: i32, code: u16) -> Result<UniquePtr<CxxVector<u8>>>;
        fn pkt6_in_class(pkt: &Pkt6, name: &str) -> Result<bool>;
        fn pkt6_label(pkt: &Pkt6) -> Result<String>;

        // ---- Pkt6 writes (the shim casts the const away: see shim4.h) ----
        /// With `replace`, removes every option `code` first.
        fn pkt6_add_option(pkt: &Pkt6, code: u16, data: &[u8], replace: bool) -> Result<()>;
        fn pkt6_remove_option(pkt: &Pkt6, code: u16) -> Result<usize>;
        fn pkt6_classes(pkt: &Pkt6, later: bool) -> Result<Vec<String>>;
        fn pkt6_add_class(pkt: &Pkt6, name: &str, later: bool) -> Result<()>;
        /// The raw datagram; the SDK copies it at once (a write replaces it).
        fn pkt6_raw(pkt: &Pkt6) -> &[u8];
        fn pkt6_set_raw(pkt: &Pkt6, data: &[u8]) -> Result<()>;
        /// The packed response; the SDK copies it at once.
        fn pkt6_out_buffer(pkt: &Pkt6) -> Result<&[u8]>;
        fn pkt6_set_out_buffer(pkt: &Pkt6, data: &[u8]) -> Result<()>;

        // ---- Lease6 ----
        fn lease6_type(lease: &Lease6) -> u8;
        fn lease6_addr(lease: &Lease6) -> Addr6;
        fn lease6_prefix_len(lease: &Lease6) -> u8;
        fn lease6_iaid(lease: &Lease6) -> u32;
        fn lease6_duid(lease: &Lease6) -> &[u8];
        fn lease6_preferred_lft(lease: &Lease6) -> u32;
        fn lease6_valid_lft(lease: &Lease6) -> u32;
        fn lease6_cltt(lease: &Lease6) -> i64;
        fn lease6_subnet_id(lease: &Lease6) -> u32;
        /// (Used on Kea 2.6+ only; 0 before.)
        #[allow(dead_code)]
        fn lease6_pool_id(lease: &Lease6) -> u32;
        fn lease6_hostname(lease: &Lease6) -> &[u8];
        fn lease6_state(lease: &Lease6) -> u32;
        fn lease6_fqdn_fwd(lease: &Lease6) -> bool;
        fn lease6_fqdn_rev(lease: &Lease6) -> bool;
        fn lease6_hwaddr<'a>(lease: &'a Lease6, htype: &mut u16, present: &mut bool) -> &'a [u8];
        /// The lease's user context as JSON text; empty when none.
        fn lease6_user_context(lease: &Lease6) -> Result<String>;
        fn lease6_set_lifetimes(lease: &Lease6, preferred: u32, valid: u32);
        fn lease6_set_fqdn(lease: &Lease6, fwd: bool, rev: bool);
        fn lease6_set_hostname(lease: &Lease6, hostname: &[u8]) -> Result<()>;

        // ---- Lease6Collection ----
        fn lease6_collection_len(leases: &Lease6Collection) -> usize;
        fn lease6_collection_get(leases: &Lease6Collection, index: usize) -> *const Lease6;

        // ---- Subnet6 ----
        fn subnet6_id(subnet: &Subnet6) -> u32;
        fn subnet6_prefix(subnet: &Subnet6) -> Addr6;
        fn subnet6_prefix_len(subnet: &Subnet6) -> u8;
        fn subnet6_pools(subnet: &Subnet6) -> Result<Vec<PoolRow6>>;

        // ---- arguments Kea reads back after the callout ----
        fn arg_subnet6_collection_ids(handle: &CalloutHandle, name: &str) -> Result<Vec<u32>>;
        /// Sets `subnet6` to the configured subnet `id`; false (nothing
        /// changed) when the configuration has none.
        fn arg_select_subnet6(handle: &CalloutHandle, id: u32) -> Result<bool>;
        fn arg_clear_subnet6(handle: &CalloutHandle) -> Result<()>;
        /// Whether writing Skip at lease6_select would crash this Kea
        /// (up to 3.0.3: the lease is reserved to a host); false on 3.0.4+.
        fn lease6_skip_would_crash(handle: &CalloutHandle) -> Result<bool>;
    }
}

impl From<bridge::Addr6> for std::net::Ipv6Addr {
    #[inline]
    fn from(a: bridge::Addr6) -> Self {
        std::net::Ipv6Addr::from(a.octets)
    }
}
