//! The bridge to cpp/unit.cc. Every function that can throw returns
//! `Result` (unit.h's `trycatch` turns any C++ exception into the `Err`).

#[cxx::bridge(namespace = "kea_unit")]
pub(crate) mod bridge {
    /// Where a packet came from and arrived (Kea's `Pkt::setIface`,
    /// `setRemoteAddr`, ...).
    struct Peer {
        iface: String,
        ifindex: u32,
        remote_addr: String,
        remote_port: u16,
        local_addr: String,
        local_port: u16,
    }

    /// A packet argument read back: Kea's `pack()` of it.
    struct PacketData {
        present: bool,
        wire: Vec<u8>,
        message_type: u8,
        transid: u32,
        classes: Vec<String>,
    }

    /// A `Lease4`, both ways.
    struct Lease4Data {
        present: bool,
        address: String,
        hwaddr: Vec<u8>,
        htype: u16,
        client_id: Vec<u8>,
        valid_lifetime: u32,
        cltt: i64,
        subnet_id: u32,
        hostname: String,
        fqdn_fwd: bool,
        fqdn_rev: bool,
        state: u32,
        user_context: String,
    }

    /// A `Lease6`, both ways.
    struct Lease6Data {
        present: bool,
        kind: u8,
        address: String,
        prefix_len: u8,
        iaid: u32,
        duid: Vec<u8>,
        preferred_lifetime: u32,
        hwaddr: Vec<u8>,
        htype: u16,
        valid_lifetime: u32,
        cltt: i64,
        subnet_id: u32,
        hostname: String,
        fqdn_fwd: bool,
        fqdn_rev: bool,
        state: u32,
        user_context: String,
    }

    /// An address pool of a subnet (Kea's `Pool4`, `Pool6` of type NA).
    struct PoolData {
        first: String,
        last: String,
    }

    /// A `Subnet4`/`Subnet6`, both ways (`present: false`: a null pointer).
    /// Lifetimes 0: unspecified.
    struct SubnetData {
        present: bool,
        id: u32,
        prefix: String,
        prefix_len: u8,
        valid_lifetime: u32,
        preferred_lifetime: u32,
        pools: Vec<PoolData>,
    }

    unsafe extern "C++" {
        include!("kea-hooks-test/cpp/unit.h");

        type Handle;
        type Call;

        fn logging_init(log_file: &str) -> Result<()>;
        fn library_load(family: u8, path: &str, parameters_json: &str) -> Result<bool>;
        fn library_unload() -> Result<()>;

        fn handle_new() -> Result<UniquePtr<Handle>>;
        fn call_new(handle: &Handle, point: &str) -> Result<UniquePtr<Call>>;
        fn call_set_pkt4(call: Pin<&mut Call>, name: &str, wire: &[u8], unpack: bool, peer: &Peer) -> Result<()>;
        fn call_set_pkt6(call: Pin<&mut Call>, name: &str, wire: &[u8], unpack: bool, peer: &Peer) -> Result<()>;
        fn call_set_lease4(call: Pin<&mut Call>, name: &str, lease: &Lease4Data) -> Result<()>;
        fn call_set_lease6(call: Pin<&mut Call>, name: &str, lease: &Lease6Data) -> Result<()>;
        fn call_set_leases4(call: Pin<&mut Call>, name: &str, leases: &[Lease4Data]) -> Result<()>;
        fn call_set_leases6(call: Pin<&mut Call>, name: &str, leases: &[Lease6Data]) -> Result<()>;
        fn call_add_classes(call: Pin<&mut Call>, name: &str, family: u8, classes: &[String]) -> Result<()>;
        fn call_set_subnet4(call: Pin<&mut Call>, name: &str, subnet: &SubnetData) -> Result<()>;
        fn call_set_subnet6(call: Pin<&mut Call>, name: &str, subnet: &SubnetData) -> Result<()>;
        fn call_set_bool(call: Pin<&mut Call>, name: &str, value: bool) -> Result<()>;
        fn call_set_u32(call: Pin<&mut Call>, name: &str, value: u32) -> Result<()>;
        fn call_set_string(call: Pin<&mut Call>, name: &str, value: &str) -> Result<()>;
        fn call_run(call: Pin<&mut Call>) -> Result<i32>;
        fn call_get_pkt4(call: &Call, name: &str) -> Result<PacketData>;
        fn call_get_pkt6(call: &Call, name: &str) -> Result<PacketData>;
        fn call_get_lease4(call: &Call, name: &str) -> Result<Lease4Data>;
        fn call_get_lease6(call: &Call, name: &str) -> Result<Lease6Data>;
        fn call_get_leases4(call: &Call, name: &str) -> Result<Vec<Lease4Data>>;
        fn call_get_leases6(call: &Call, name: &str) -> Result<Vec<Lease6Data>>;
        fn call_get_subnet4(call: &Call, name: &str) -> Result<SubnetData>;
        fn call_get_subnet6(call: &Call, name: &str) -> Result<SubnetData>;
        fn call_get_bool(call: &Call, name: &str) -> Result<bool>;
        fn call_get_u32(call: &Call, name: &str) -> Result<u32>;

        fn command_present(name: &str) -> Result<bool>;
        fn command_call(name: &str, command_json: &str) -> Result<String>;
    }
}
