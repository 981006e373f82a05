//! The objects a call passes and reads back: packets after the callouts,
//! DHCPv4 and DHCPv6 leases (converted to and from the bridge's structs,
//! which Kea's constructors in cpp/unit.cc turn into `Lease4`/`Lease6`).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::ffi::bridge;
use super::Error;

/// A packet argument after the callouts, as Kea re-packed it (`pack()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The wire bytes Kea's `pack()` produced (DHCPv6: with the relay
    /// encapsulation the packet came in).
    pub wire: Vec<u8>,
    /// Kea's `getType()`: option 53 for DHCPv4, the (innermost) message
    /// type for DHCPv6.
    pub message_type: u8,
    /// The transaction id.
    pub xid: u32,
    /// The client classes the packet is in (`getClasses()`), in order.
    pub classes: Vec<String>,
}

impl Packet {
    pub(super) fn from_ffi(p: bridge::PacketData) -> Option<Packet> {
        p.present.then(|| Packet { wire: p.wire, message_type: p.message_type, xid: p.transid, classes: p.classes })
    }

    /// Whether the packet is in client class `class`.
    pub fn in_class(&self, class: &str) -> bool {
        self.classes.iter().any(|c| c == class)
    }

    fn v4_addr(&self, at: usize) -> Ipv4Addr {
        let b = &self.wire[at..at + 4];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// DHCPv4 `ciaddr` (panics on a DHCPv6 packet shorter than that).
    pub fn ciaddr(&self) -> Ipv4Addr {
        self.v4_addr(12)
    }

    /// DHCPv4 `yiaddr` (panics on a DHCPv6 packet shorter than that).
    pub fn yiaddr(&self) -> Ipv4Addr {
        self.v4_addr(16)
    }

    /// DHCPv4 `siaddr` (panics on a DHCPv6 packet shorter than that).
    pub fn siaddr(&self) -> Ipv4Addr {
        self.v4_addr(20)
    }

    /// DHCPv4 `giaddr` (panics on a DHCPv6 packet shorter than that).
    pub fn giaddr(&self) -> Ipv4Addr {
        self.v4_addr(24)
    }

    /// DHCPv4 hardware address (`chaddr`, `hlen` bytes of it; panics on
    /// a DHCPv6 packet shorter than that).
    pub fn hwaddr(&self) -> &[u8] {
        let hlen = usize::from(self.wire[2]).min(16);
        &self.wire[28..28 + hlen]
    }

    /// The packet's top-level options, by code, payload only (DHCPv4: after
    /// the magic cookie; DHCPv6: of the outermost message, so a relayed
    /// message shows the relay's options). A code present twice keeps the
    /// last.
    pub fn options(&self) -> BTreeMap<u16, Vec<u8>> {
        let mut options = BTreeMap::new();
        if self.wire.len() >= 240 && self.wire[236..240] == [99, 130, 83, 99] && self.wire[0] <= 2 && self.wire[0] >= 1 {
            let p = &self.wire;
            let mut i = 240;
            while i < p.len() {
                match p[i] {
                    0 => i += 1,
                    255 => break,
                    code => {
                        let Some(&len) = p.get(i + 1) else { break };
                        let Some(payload) = p.get(i + 2..i + 2 + usize::from(len)) else { break };
                        options.insert(u16::from(code), payload.to_vec());
                        i += 2 + usize::from(len);
                    }
                }
            }
        } else {
            let relay = matches!(self.wire.first(), Some(12 | 13));
            let mut i = if relay { 34 } else { 4 };
            let p = &self.wire;
            while i + 4 <= p.len() {
                let code = u16::from_be_bytes([p[i], p[i + 1]]);
                let len = usize::from(u16::from_be_bytes([p[i + 2], p[i + 3]]));
                let Some(payload) = p.get(i + 4..i + 4 + len) else { break };
                options.insert(code, payload.to_vec());
                i += 4 + len;
            }
        }
        options
    }

    /// Option `code`'s payload (see [`options`](Packet::options)).
    pub fn option(&self, code: u16) -> Option<Vec<u8>> {
        self.options().remove(&code)
    }
}

/// A DHCPv4 lease, given to a call (built by Kea's `Lease4` constructor)
/// and read back after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease4 {
    /// The leased address.
    pub address: Ipv4Addr,
    /// The client's hardware address (empty: none).
    pub hwaddr: Vec<u8>,
    /// The hardware type (1: Ethernet).
    pub htype: u16,
    /// The client identifier (option 61's payload; empty: none).
    pub client_id: Vec<u8>,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Client last transmission time, seconds since the epoch.
    pub cltt: i64,
    /// The subnet's id.
    pub subnet_id: u32,
    /// The client's host name.
    pub hostname: String,
    /// Forward DNS update done.
    pub fqdn_fwd: bool,
    /// Reverse DNS update done.
    pub fqdn_rev: bool,
    /// Kea's lease state (0 default, 1 declined, 2 expired-reclaimed, ...).
    pub state: u32,
    /// The lease's user context.
    pub user_context: Option<Value>,
}

impl Lease4 {
    /// A lease of `address` to hardware address `hwaddr` (Ethernet):
    /// valid for 3600 s from now, subnet 1, no client id, host name or
    /// user context, state default.
    pub fn new(address: Ipv4Addr, hwaddr: &[u8]) -> Lease4 {
        Lease4 {
            address,
            hwaddr: hwaddr.to_vec(),
            htype: 1,
            client_id: Vec::new(),
            valid_lifetime: 3600,
            cltt: now(),
            subnet_id: 1,
            hostname: String::new(),
            fqdn_fwd: false,
            fqdn_rev: false,
            state: 0,
            user_context: None,
        }
    }

    pub(super) fn absent() -> bridge::Lease4Data {
        bridge::Lease4Data {
            present: false,
            address: String::new(),
            hwaddr: Vec::new(),
            htype: 0,
            client_id: Vec::new(),
            valid_lifetime: 0,
            cltt: 0,
            subnet_id: 0,
            hostname: String::new(),
            fqdn_fwd: false,
            fqdn_rev: false,
            state: 0,
            user_context: String::new(),
        }
    }

    pub(super) fn to_ffi(&self) -> Result<bridge::Lease4Data, Error> {
        Ok(bridge::Lease4Data {
            present: true,
            address: self.address.to_string(),
            hwaddr: self.hwaddr.clone(),
            htype: self.htype,
            client_id: self.client_id.clone(),
            valid_lifetime: self.valid_lifetime,
            cltt: self.cltt,
            subnet_id: self.subnet_id,
            hostname: self.hostname.clone(),
            fqdn_fwd: self.fqdn_fwd,
            fqdn_rev: self.fqdn_rev,
            state: self.state,
            user_context: self.user_context.as_ref().map(Value::to_string).unwrap_or_default(),
        })
    }

    pub(super) fn from_ffi(d: bridge::Lease4Data) -> Option<Lease4> {
        if !d.present {
            return None;
        }
        Some(Lease4 {
            address: d.address.parse().unwrap_or_else(|e| panic!("Kea's lease address {:?}: {e}", d.address)),
            hwaddr: d.hwaddr,
            htype: d.htype,
            client_id: d.client_id,
            valid_lifetime: d.valid_lifetime,
            cltt: d.cltt,
            subnet_id: d.subnet_id,
            hostname: d.hostname,
            fqdn_fwd: d.fqdn_fwd,
            fqdn_rev: d.fqdn_rev,
            state: d.state,
            user_context: user_context(&d.user_context),
        })
    }
}

/// What a DHCPv6 lease is for (Kea's `Lease::Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease6Type {
    /// A non-temporary address (`IA_NA`).
    Na,
    /// A temporary address (`IA_TA`).
    Ta,
    /// A delegated prefix (`IA_PD`).
    Pd,
}

/// A DHCPv6 lease, given to a call (built by Kea's `Lease6` constructor)
/// and read back after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease6 {
    /// Address or prefix.
    pub kind: Lease6Type,
    /// The leased address, or the delegated prefix.
    pub address: Ipv6Addr,
    /// The prefix length (128 for an address).
    pub prefix_len: u8,
    /// The IA's IAID.
    pub iaid: u32,
    /// The client's DUID (empty: none).
    pub duid: Vec<u8>,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Client last transmission time, seconds since the epoch.
    pub cltt: i64,
    /// The subnet's id.
    pub subnet_id: u32,
    /// The client's hardware address, when known (empty: none).
    pub hwaddr: Vec<u8>,
    /// The hardware type (1: Ethernet).
    pub htype: u16,
    /// The client's host name.
    pub hostname: String,
    /// Forward DNS update done.
    pub fqdn_fwd: bool,
    /// Reverse DNS update done.
    pub fqdn_rev: bool,
    /// Kea's lease state (0 default, 1 declined, 2 expired-reclaimed, ...).
    pub state: u32,
    /// The lease's user context.
    pub user_context: Option<Value>,
}

impl Lease6 {
    /// A lease of address `address` (IA_NA, /128) to the client with DUID
    /// `duid`, IAID 1: preferred 3000 s, valid 4000 s from now, subnet 1.
    pub fn new(address: Ipv6Addr, duid: &[u8]) -> Lease6 {
        Lease6 {
            kind: Lease6Type::Na,
            address,
            prefix_len: 128,
            iaid: 1,
            duid: duid.to_vec(),
            preferred_lifetime: 3000,
            valid_lifetime: 4000,
            cltt: now(),
            subnet_id: 1,
            hwaddr: Vec::new(),
            htype: 1,
            hostname: String::new(),
            fqdn_fwd: false,
            fqdn_rev: false,
            state: 0,
            user_context: None,
        }
    }

    pub(super) fn absent() -> bridge::Lease6Data {
        bridge::Lease6Data {
            present: false,
            kind: 0,
            address: String::new(),
            prefix_len: 0,
            iaid: 0,
            duid: Vec::new(),
            preferred_lifetime: 0,
            hwaddr: Vec::new(),
            htype: 0,
            valid_lifetime: 0,
            cltt: 0,
            subnet_id: 0,
            hostname: String::new(),
            fqdn_fwd: false,
            fqdn_rev: false,
            state: 0,
            user_context: String::new(),
        }
    }

    pub(super) fn to_ffi(&self) -> Result<bridge::Lease6Data, Error> {
        Ok(bridge::Lease6Data {
            present: true,
            kind: match self.kind {
                Lease6Type::Na => 0,
                Lease6Type::Ta => 1,
                Lease6Type::Pd => 2,
            },
            address: self.address.to_string(),
            prefix_len: self.prefix_len,
            iaid: self.iaid,
            duid: self.duid.clone(),
            preferred_lifetime: self.preferred_lifetime,
            hwaddr: self.hwaddr.clone(),
            htype: self.htype,
            valid_lifetime: self.valid_lifetime,
            cltt: self.cltt,
            subnet_id: self.subnet_id,
            hostname: self.hostname.clone(),
            fqdn_fwd: self.fqdn_fwd,
            fqdn_rev: self.fqdn_rev,
            state: self.state,
            user_context: self.user_context.as_ref().map(Value::to_string).unwrap_or_default(),
        })
    }

    pub(super) fn from_ffi(d: bridge::Lease6Data) -> Option<Lease6> {
        if !d.present {
            return None;
        }
        Some(Lease6 {
            kind: match d.kind {
                1 => Lease6Type::Ta,
                2 => Lease6Type::Pd,
                _ => Lease6Type::Na,
            },
            address: d.address.parse().unwrap_or_else(|e| panic!("Kea's lease address {:?}: {e}", d.address)),
            prefix_len: d.prefix_len,
            iaid: d.iaid,
            duid: d.duid,
            preferred_lifetime: d.preferred_lifetime,
            valid_lifetime: d.valid_lifetime,
            cltt: d.cltt,
            subnet_id: d.subnet_id,
            hwaddr: d.hwaddr,
            htype: d.htype,
            hostname: d.hostname,
            fqdn_fwd: d.fqdn_fwd,
            fqdn_rev: d.fqdn_rev,
            state: d.state,
            user_context: user_context(&d.user_context),
        })
    }
}

fn user_context(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| serde_json::from_str(text).unwrap_or_else(|e| panic!("Kea's user context {text:?} is not JSON: {e}")))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
