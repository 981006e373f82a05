//! Wire bytes of DHCPv4 and DHCPv6 queries for a call's packet arguments
//! (Kea's `Pkt4`/`Pkt6` unpack them).

use std::net::{Ipv4Addr, Ipv6Addr};

/// A DHCPv4 message as wire bytes, for a call's packet arguments: a
/// BOOTREQUEST from an Ethernet client, with option 53 and the options
/// added, in order.
///
/// ```
/// use kea_hooks_test::{msg, unit::Query4};
/// let wire = Query4::new(msg::DISCOVER, "02:00:00:00:00:01").option(12, b"host-a").bytes();
/// assert_eq!(wire[28..34], [2, 0, 0, 0, 0, 1]);
/// ```
#[derive(Debug, Clone)]
pub struct Query4 {
    op: u8,
    message_type: u8,
    xid: u32,
    chaddr: Vec<u8>,
    flags: u16,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    giaddr: Ipv4Addr,
    hops: u8,
    options: Vec<(u8, Vec<u8>)>,
}

impl Query4 {
    /// A query of type `message_type` ([`msg`](crate::msg)) from hardware
    /// address `mac` (`"02:00:00:00:00:01"`; `-` or no separator work
    /// too), transaction id 0x5eed0001, broadcast flag set. Panics when
    /// `mac` is not hex bytes.
    pub fn new(message_type: u8, mac: &str) -> Query4 {
        Query4 {
            op: 1,
            message_type,
            xid: 0x5eed_0001,
            chaddr: parse_mac(mac),
            flags: 0x8000,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            hops: 0,
            options: Vec::new(),
        }
    }

    /// The server's answer to this query: a BOOTREPLY of type
    /// `message_type` offering or assigning `yiaddr`, same xid and client.
    pub fn reply(&self, message_type: u8, yiaddr: Ipv4Addr) -> Query4 {
        Query4 { op: 2, message_type, yiaddr, options: Vec::new(), ..self.clone() }
    }

    /// Sets the transaction id.
    pub fn xid(mut self, xid: u32) -> Self {
        self.xid = xid;
        self
    }

    /// Sets `ciaddr` (a renewing client) and clears the broadcast flag.
    pub fn ciaddr(mut self, addr: Ipv4Addr) -> Self {
        self.ciaddr = addr;
        self.flags = 0;
        self
    }

    /// Makes it relayed: `giaddr` and hops 1.
    pub fn giaddr(mut self, addr: Ipv4Addr) -> Self {
        self.giaddr = addr;
        self.hops = 1;
        self
    }

    /// Adds option `code` with `payload` (at most 255 bytes).
    pub fn option(mut self, code: u8, payload: &[u8]) -> Self {
        assert!(payload.len() <= 255, "option {code}: {} bytes do not fit in one DHCPv4 option", payload.len());
        self.options.push((code, payload.to_vec()));
        self
    }

    /// The wire bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut p = vec![0u8; 236];
        p[0] = self.op;
        p[1] = 1;
        p[2] = self.chaddr.len().min(16) as u8;
        p[3] = self.hops;
        p[4..8].copy_from_slice(&self.xid.to_be_bytes());
        p[10..12].copy_from_slice(&self.flags.to_be_bytes());
        p[12..16].copy_from_slice(&self.ciaddr.octets());
        p[16..20].copy_from_slice(&self.yiaddr.octets());
        p[24..28].copy_from_slice(&self.giaddr.octets());
        let n = self.chaddr.len().min(16);
        p[28..28 + n].copy_from_slice(&self.chaddr[..n]);
        p.extend_from_slice(&[99, 130, 83, 99, 53, 1, self.message_type]);
        for (code, payload) in &self.options {
            p.extend_from_slice(&[*code, payload.len() as u8]);
            p.extend_from_slice(payload);
        }
        p.push(255);
        p
    }
}

fn parse_mac(mac: &str) -> Vec<u8> {
    let hex: String = mac.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    assert!(hex.len() % 2 == 0 && !hex.is_empty(), "{mac:?} is not a hardware address");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|_| panic!("{mac:?} is not a hardware address")))
        .collect()
}

/// A DHCPv6 message as wire bytes, for a call's packet arguments: the
/// client's DUID in option 1 (client id), then the options added, in
/// order; optionally inside RELAY-FORW messages.
///
/// ```
/// use kea_hooks_test::{msg6, opt6, unit::Query6};
/// let wire = Query6::new(msg6::SOLICIT, &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1]).ia_na(1).bytes();
/// assert_eq!(wire[0], msg6::SOLICIT);
/// assert_eq!(u16::from_be_bytes([wire[4], wire[5]]), opt6::CLIENTID);
/// ```
#[derive(Debug, Clone)]
pub struct Query6 {
    message_type: u8,
    xid: u32,
    options: Vec<(u16, Vec<u8>)>,
    relays: Vec<(Ipv6Addr, Ipv6Addr, Vec<(u16, Vec<u8>)>)>,
}

fn option6(code: u16, payload: &[u8]) -> Vec<u8> {
    let mut o = code.to_be_bytes().to_vec();
    o.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    o.extend_from_slice(payload);
    o
}

impl Query6 {
    /// A query of type `message_type` ([`msg6`](crate::msg6)) from the
    /// client with DUID `duid`, transaction id 0x5eed01.
    pub fn new(message_type: u8, duid: &[u8]) -> Query6 {
        Query6 { message_type, xid: 0x5e_ed01, options: vec![(1, duid.to_vec())], relays: Vec::new() }
    }

    /// Sets the transaction id (24 bits).
    pub fn xid(mut self, xid: u32) -> Self {
        self.xid = xid & 0x00ff_ffff;
        self
    }

    /// Adds option `code` with `payload`.
    pub fn option(mut self, code: u16, payload: &[u8]) -> Self {
        self.options.push((code, payload.to_vec()));
        self
    }

    /// Adds an empty IA_NA with IAID `iaid`.
    pub fn ia_na(self, iaid: u32) -> Self {
        let mut ia = iaid.to_be_bytes().to_vec();
        ia.extend_from_slice(&[0; 8]);
        self.option(3, &ia)
    }

    /// Wraps the message in a RELAY-FORW from a relay on link
    /// `link_address` for client `peer_address`, with the relay's
    /// `options` (interface-id, remote-id, ...). Called again, the next
    /// relay wraps the previous one.
    pub fn relayed(mut self, link_address: Ipv6Addr, peer_address: Ipv6Addr, options: &[(u16, &[u8])]) -> Self {
        self.relays.push((link_address, peer_address, options.iter().map(|(c, p)| (*c, p.to_vec())).collect()));
        self
    }

    /// The wire bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut p = vec![self.message_type];
        p.extend_from_slice(&self.xid.to_be_bytes()[1..]);
        for (code, payload) in &self.options {
            p.extend(option6(*code, payload));
        }
        for (hops, (link, peer, options)) in self.relays.iter().enumerate() {
            let mut r = vec![12, hops as u8];
            r.extend_from_slice(&link.octets());
            r.extend_from_slice(&peer.octets());
            for (code, payload) in options {
                r.extend(option6(*code, payload));
            }
            r.extend(option6(9, &p));
            p = r;
        }
        p
    }
}
