//! A DHCPv4 client for tests that need more than one DORA: renew, rebind,
//! release, decline, and queries relayed with option 82, each a single
//! exchange the test controls, from the pair's client namespace.
//!
//! Its sockets are made inside the client namespace (a short-lived thread
//! enters it with `setns`), bound to the client interface:
//! * port 68, for broadcast queries and the replies to them (the broadcast
//!   flag is set, so Kea answers to 255.255.255.255), and for unicast
//!   replies to a renewing client (the leased address is added to the
//!   interface first, so the kernel accepts them);
//! * port 67 on the client's own address, for relayed queries: the client
//!   acts as a relay agent (giaddr is its address, hops 1) and Kea answers
//!   the relay there.
//!
//! Everything it sends stays inside the pair's namespaces (addresses in
//! 198.18.0.0/15 and the namespaces' broadcast).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use crate::netns::{in_netns, ip, receive_within, udp_socket_on, NetPair};

/// DHCP message types (option 53), as in [`Reply::message_type`].
pub mod msg {
    /// DHCPDISCOVER.
    pub const DISCOVER: u8 = 1;
    /// DHCPOFFER.
    pub const OFFER: u8 = 2;
    /// DHCPREQUEST.
    pub const REQUEST: u8 = 3;
    /// DHCPDECLINE.
    pub const DECLINE: u8 = 4;
    /// DHCPACK.
    pub const ACK: u8 = 5;
    /// DHCPNAK.
    pub const NAK: u8 = 6;
    /// DHCPRELEASE.
    pub const RELEASE: u8 = 7;
}

/// A reply from the server.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Option 53.
    pub message_type: u8,
    /// The transaction id.
    pub xid: u32,
    /// The address offered or assigned.
    pub yiaddr: Ipv4Addr,
    /// `siaddr`.
    pub siaddr: Ipv4Addr,
    /// The server identifier (option 54).
    pub server_id: Option<Ipv4Addr>,
    /// The lease time (option 51), seconds.
    pub lease_time: Option<u32>,
    /// Every option, by code (payload only).
    pub options: BTreeMap<u8, Vec<u8>>,
    /// `sname` up to its first NUL.
    pub sname: Vec<u8>,
    /// `file` up to its first NUL.
    pub file: Vec<u8>,
}

/// Option 82 sub-options a relayed query carries.
#[derive(Debug, Clone, Default)]
pub struct Relay {
    /// Sub-option 1, the circuit id.
    pub circuit_id: Vec<u8>,
    /// Sub-option 2, the remote id.
    pub remote_id: Vec<u8>,
}

impl Relay {
    /// Option 82's payload: sub-options 1 and 2.
    pub fn option82(&self) -> Vec<u8> {
        let mut v = vec![1, self.circuit_id.len() as u8];
        v.extend_from_slice(&self.circuit_id);
        v.extend_from_slice(&[2, self.remote_id.len() as u8]);
        v.extend_from_slice(&self.remote_id);
        v
    }
}

/// A DHCPv4 client with hardware address `mac` on a [`NetPair`].
pub struct Client4<'p> {
    pair: &'p NetPair,
    chaddr: [u8; 6],
    client: UdpSocket,
    relay: UdpSocket,
    timeout: Duration,
    extra: Vec<(u8, Vec<u8>)>,
}

fn parse_mac(mac: &str) -> [u8; 6] {
    let bytes: Vec<u8> = mac.split(':').map(|b| u8::from_str_radix(b, 16).expect("hex MAC")).collect();
    bytes.try_into().expect("a 6-byte MAC")
}

impl<'p> Client4<'p> {
    /// A client with hardware address `mac` (set on the pair's client
    /// interface, so unicast replies reach it). Replies are waited for up
    /// to 3 s.
    pub fn new(pair: &'p NetPair, mac: &str) -> Client4<'p> {
        pair.set_client_mac(mac);
        let dev = pair.client_if();
        let relay_addr = SocketAddrV4::new(pair.client_addr(), 67);
        let (client, relay) = in_netns(&pair.client_ns(), || {
            (udp_socket_on(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68).into(), &dev), udp_socket_on(relay_addr.into(), &dev))
        });
        Client4 { pair, chaddr: parse_mac(mac), client, relay, timeout: Duration::from_secs(3), extra: Vec::new() }
    }

    /// The same client, sending option `code` with `payload` in every
    /// query (e.g. 12, a host name).
    pub fn with_option(mut self, code: u8, payload: &[u8]) -> Self {
        self.extra.push((code, payload.to_vec()));
        self
    }

    /// The same client, waiting `timeout` for each reply (3 s by default):
    /// shorter where a test expects none.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The whole exchange: DISCOVER, then REQUEST for the offer; the ACK.
    pub fn dora(&self) -> Option<Reply> {
        let offer = self.discover(None)?;
        self.request(&offer, None)
    }

    /// The same through a relay with option 82.
    pub fn dora_relayed(&self, relay: &Relay) -> Option<Reply> {
        let offer = self.discover(Some(relay))?;
        self.request(&offer, Some(relay))
    }

    /// DISCOVER; the OFFER.
    pub fn discover(&self, relay: Option<&Relay>) -> Option<Reply> {
        let xid = self.xid();
        let packet = self.packet(xid, msg::DISCOVER, Ipv4Addr::UNSPECIFIED, relay, &[]);
        self.exchange(xid, &packet, relay.is_some(), None)
    }

    /// REQUEST (selecting) for `offer`; the ACK (or NAK).
    pub fn request(&self, offer: &Reply, relay: Option<&Relay>) -> Option<Reply> {
        let xid = self.xid();
        let server = offer.server_id.expect("the offer names its server");
        let options = [(50, offer.yiaddr.octets().to_vec()), (54, server.octets().to_vec())];
        let packet = self.packet(xid, msg::REQUEST, Ipv4Addr::UNSPECIFIED, relay, &options);
        self.exchange(xid, &packet, relay.is_some(), None)
    }

    /// RENEW: a REQUEST with `ciaddr` set, unicast to the server; the ACK.
    pub fn renew(&self, ack: &Reply) -> Option<Reply> {
        self.add_leased_address(ack.yiaddr);
        let xid = self.xid();
        let packet = self.packet(xid, msg::REQUEST, ack.yiaddr, None, &[]);
        self.exchange(xid, &packet, false, Some(self.pair.server_addr()))
    }

    /// REBIND: the same REQUEST, broadcast; the ACK.
    pub fn rebind(&self, ack: &Reply) -> Option<Reply> {
        self.add_leased_address(ack.yiaddr);
        let xid = self.xid();
        let packet = self.packet(xid, msg::REQUEST, ack.yiaddr, None, &[]);
        self.exchange(xid, &packet, false, None)
    }

    /// RELEASE of the lease `ack` granted (no reply comes).
    pub fn release(&self, ack: &Reply) {
        let server = ack.server_id.expect("the ACK names its server");
        let packet = self.packet(self.xid(), msg::RELEASE, ack.yiaddr, None, &[(54, server.octets().to_vec())]);
        self.send(&packet, false, Some(self.pair.server_addr()));
    }

    /// DECLINE of the address `ack` granted (no reply comes).
    pub fn decline(&self, ack: &Reply) {
        let server = ack.server_id.expect("the ACK names its server");
        let options = [(50, ack.yiaddr.octets().to_vec()), (54, server.octets().to_vec())];
        let packet = self.packet(self.xid(), msg::DECLINE, Ipv4Addr::UNSPECIFIED, None, &options);
        self.send(&packet, false, None);
    }

    fn add_leased_address(&self, addr: Ipv4Addr) {
        let (ns, dev) = (self.pair.client_ns(), self.pair.client_if());
        let cidr = format!("{addr}/32");
        // Already there after an earlier renew: `replace` is idempotent.
        ip(&["-n", &ns, "addr", "replace", &cidr, "dev", &dev]);
    }

    fn xid(&self) -> u32 {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(1);
        (std::process::id() << 12) ^ N.fetch_add(1, Ordering::Relaxed)
    }

    /// A BOOTREQUEST with message type `kind`, `ciaddr`, the relay's fields
    /// and option 82 when relayed, and `options` (code, payload).
    fn packet(&self, xid: u32, kind: u8, ciaddr: Ipv4Addr, relay: Option<&Relay>, options: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut p = vec![0u8; 236];
        p[0] = 1; // BOOTREQUEST
        p[1] = 1; // Ethernet
        p[2] = 6;
        p[3] = u8::from(relay.is_some()); // hops
        p[4..8].copy_from_slice(&xid.to_be_bytes());
        // Broadcast flag, unless the client has an address to be answered at.
        if ciaddr.is_unspecified() && relay.is_none() {
            p[10] = 0x80;
        }
        p[12..16].copy_from_slice(&ciaddr.octets());
        if relay.is_some() {
            p[24..28].copy_from_slice(&self.pair.client_addr().octets()); // giaddr
        }
        p[28..34].copy_from_slice(&self.chaddr);
        p.extend_from_slice(&[99, 130, 83, 99]);
        p.extend_from_slice(&[53, 1, kind]);
        for (code, payload) in options.iter().chain(&self.extra) {
            p.extend_from_slice(&[*code, payload.len() as u8]);
            p.extend_from_slice(payload);
        }
        p.extend_from_slice(&[55, 4, 1, 3, 51, 54]);
        if let Some(relay) = relay {
            let o82 = relay.option82();
            p.extend_from_slice(&[82, o82.len() as u8]);
            p.extend_from_slice(&o82);
        }
        p.push(255);
        p
    }

    fn send(&self, packet: &[u8], relayed: bool, unicast_to: Option<Ipv4Addr>) {
        let to = if relayed {
            SocketAddrV4::new(self.pair.server_addr(), 67)
        } else {
            SocketAddrV4::new(unicast_to.unwrap_or(Ipv4Addr::BROADCAST), 67)
        };
        let sock = if relayed { &self.relay } else { &self.client };
        sock.send_to(packet, to).unwrap_or_else(|e| panic!("send to {to}: {e}"));
    }

    /// Sends `packet` and waits for the reply with transaction id `xid`.
    fn exchange(&self, xid: u32, packet: &[u8], relayed: bool, unicast_to: Option<Ipv4Addr>) -> Option<Reply> {
        self.send(packet, relayed, unicast_to);
        let sock = if relayed { &self.relay } else { &self.client };
        receive_within(sock, self.timeout, |p| parse(p).filter(|r| r.xid == xid))
    }
}

/// Parses a BOOTREPLY; `None` if it is not one.
fn parse(p: &[u8]) -> Option<Reply> {
    if p.len() < 240 || p[0] != 2 || p[236..240] != [99, 130, 83, 99] {
        return None;
    }
    let addr = |at: usize| Ipv4Addr::new(p[at], p[at + 1], p[at + 2], p[at + 3]);
    let mut options = BTreeMap::new();
    let mut i = 240;
    while i < p.len() {
        match p[i] {
            0 => i += 1,
            255 => break,
            code => {
                let len = *p.get(i + 1)? as usize;
                options.insert(code, p.get(i + 2..i + 2 + len)?.to_vec());
                i += 2 + len;
            }
        }
    }
    let ipv4 = |v: &Vec<u8>| (v.len() == 4).then(|| Ipv4Addr::new(v[0], v[1], v[2], v[3]));
    let c_field = |r: std::ops::Range<usize>| p[r].iter().copied().take_while(|b| *b != 0).collect::<Vec<u8>>();
    Some(Reply {
        message_type: *options.get(&53)?.first()?,
        xid: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        yiaddr: addr(16),
        siaddr: addr(20),
        server_id: options.get(&54).and_then(ipv4),
        lease_time: options.get(&51).filter(|v| v.len() == 4).map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]])),
        options,
        sname: c_field(44..108),
        file: c_field(108..236),
    })
}
