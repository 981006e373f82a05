//! A DHCPv6 client for tests: SOLICIT, REQUEST, RENEW, REBIND, RELEASE and
//! DECLINE for one address (IA_NA), each a single exchange the test
//! controls, from the pair's client namespace.
//!
//! Its socket is made inside the client namespace (a short-lived thread
//! enters it with `setns`), bound to port 546 on the client interface.
//! Queries go to All_DHCP_Relay_Agents_and_Servers (`ff02::1:2`) on that
//! link, from the interface's link-local address, and kea-dhcp6 answers
//! there; nothing leaves the pair's link.

use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::time::Duration;

use crate::netns::{in_netns, receive_within, udp_socket_on, NetPair};

/// DHCPv6 message types (RFC 8415).
#[allow(missing_docs)]
pub mod msg6 {
    pub const SOLICIT: u8 = 1;
    pub const ADVERTISE: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const RENEW: u8 = 5;
    pub const REBIND: u8 = 6;
    pub const REPLY: u8 = 7;
    pub const RELEASE: u8 = 8;
    pub const DECLINE: u8 = 9;
}

// Option codes (RFC 8415).
const CLIENTID: u16 = 1;
const SERVERID: u16 = 2;
const IA_NA: u16 = 3;
const IAADDR: u16 = 5;
const ELAPSED_TIME: u16 = 8;
const STATUS_CODE: u16 = 13;

/// A reply from the server.
#[derive(Debug, Clone)]
pub struct Reply6 {
    /// ADVERTISE or REPLY (see [`msg6`]).
    pub message_type: u8,
    /// The transaction id (24 bits).
    pub xid: u32,
    /// The server's DUID (option 2).
    pub server_id: Option<Vec<u8>>,
    /// The status code of the message (option 13 at the top level), if any.
    pub status: Option<u16>,
    /// The IA_NA's status code, if any.
    pub ia_status: Option<u16>,
    /// The IA_NA's T1 and T2.
    pub t1_t2: Option<(u32, u32)>,
    /// The IA_NA's addresses: address, preferred and valid lifetimes.
    pub addresses: Vec<(Ipv6Addr, u32, u32)>,
    /// Every top-level option, in order (code, payload).
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Reply6 {
    /// The first address of the IA_NA, if any.
    pub fn address(&self) -> Option<Ipv6Addr> {
        self.addresses.first().map(|a| a.0)
    }
}

/// A DHCPv6 client on the pair's client interface, with a DUID-LL made from
/// a hardware address and one IA_NA.
pub struct Client6<'p> {
    pair: &'p NetPair,
    duid: Vec<u8>,
    iaid: u32,
    sock: UdpSocket,
    /// The client interface's index, for the link-scoped multicast address.
    ifindex: u32,
    timeout: Duration,
}

fn parse_mac(mac: &str) -> Vec<u8> {
    let bytes: Vec<u8> = mac.split(':').map(|b| u8::from_str_radix(b, 16).expect("hex MAC")).collect();
    assert_eq!(bytes.len(), 6, "a 6-byte MAC: {mac}");
    bytes
}

fn option(code: u16, payload: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(4 + payload.len());
    o.extend_from_slice(&code.to_be_bytes());
    o.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    o.extend_from_slice(payload);
    o
}

/// The options in `p`, in order; `None` if they do not parse.
fn options(mut p: &[u8]) -> Option<Vec<(u16, Vec<u8>)>> {
    let mut out = Vec::new();
    while !p.is_empty() {
        let code = u16::from_be_bytes([*p.first()?, *p.get(1)?]);
        let len = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]) as usize;
        out.push((code, p.get(4..4 + len)?.to_vec()));
        p = &p[4 + len..];
    }
    Some(out)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn status_of(options: &[(u16, Vec<u8>)]) -> Option<u16> {
    options.iter().find(|(c, v)| *c == STATUS_CODE && v.len() >= 2).map(|(_, v)| u16::from_be_bytes([v[0], v[1]]))
}

/// Parses an ADVERTISE or REPLY; `None` if it is not one.
fn parse(p: &[u8]) -> Option<Reply6> {
    let message_type = *p.first()?;
    if !matches!(message_type, msg6::ADVERTISE | msg6::REPLY) || p.len() < 4 {
        return None;
    }
    let xid = u32::from_be_bytes([0, p[1], p[2], p[3]]);
    let options = options(&p[4..])?;
    let mut reply = Reply6 {
        message_type,
        xid,
        server_id: options.iter().find(|(c, _)| *c == SERVERID).map(|(_, v)| v.clone()),
        status: status_of(&options),
        ia_status: None,
        t1_t2: None,
        addresses: Vec::new(),
        options: options.clone(),
    };
    if let Some((_, ia)) = options.iter().find(|(c, v)| *c == IA_NA && v.len() >= 12) {
        reply.t1_t2 = Some((be32(&ia[4..8]), be32(&ia[8..12])));
        let subs = self::options(&ia[12..])?;
        reply.ia_status = status_of(&subs);
        for (code, v) in &subs {
            if *code == IAADDR && v.len() >= 24 {
                let octets: [u8; 16] = v[..16].try_into().ok()?;
                reply.addresses.push((Ipv6Addr::from(octets), be32(&v[16..20]), be32(&v[20..24])));
            }
        }
    }
    Some(reply)
}

impl<'p> Client6<'p> {
    /// A client whose DUID is a DUID-LL of hardware address `mac` (the
    /// interface keeps its own), with IA_NA identifier 1. Replies are
    /// waited for up to 3 s.
    pub fn new(pair: &'p NetPair, mac: &str) -> Client6<'p> {
        pair.wait_ipv6();
        let dev = pair.client_if();
        let (sock, ifindex) = in_netns(&pair.client_ns(), || {
            let name = std::ffi::CString::new(dev.clone()).expect("an interface name");
            // SAFETY: `name` is a NUL-terminated string that outlives the call.
            let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
            assert!(index > 0, "no interface {dev}: {}", std::io::Error::last_os_error());
            (udp_socket_on(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 546, 0, 0).into(), &dev), index)
        });
        let mut duid = vec![0, 3, 0, 1];
        duid.extend(parse_mac(mac));
        Client6 { pair, duid, iaid: 1, sock, ifindex, timeout: Duration::from_secs(3) }
    }

    /// The same client, waiting up to `timeout` for each reply.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client's DUID, as the lease file writes it (colon hex).
    pub fn duid_text(&self) -> String {
        self.duid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
    }

    /// SOLICIT, then REQUEST of the address advertised: the REPLY.
    pub fn sarr(&self) -> Option<Reply6> {
        let advertise = self.solicit()?;
        self.request(&advertise)
    }

    /// SOLICIT: the ADVERTISE.
    pub fn solicit(&self) -> Option<Reply6> {
        self.ask(msg6::SOLICIT, None, &[])
    }

    /// REQUEST of what `advertise` offered, from its server.
    pub fn request(&self, advertise: &Reply6) -> Option<Reply6> {
        self.ask(msg6::REQUEST, advertise.server_id.as_deref(), &advertise.addresses)
    }

    /// RENEW of `reply`'s address, with its server.
    pub fn renew(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::RENEW, reply.server_id.as_deref(), &reply.addresses)
    }

    /// REBIND of `reply`'s address, to any server.
    pub fn rebind(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::REBIND, None, &reply.addresses)
    }

    /// RELEASE of `reply`'s address: the server's REPLY.
    pub fn release(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::RELEASE, reply.server_id.as_deref(), &reply.addresses)
    }

    /// DECLINE of `reply`'s address: the server's REPLY.
    pub fn decline(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::DECLINE, reply.server_id.as_deref(), &reply.addresses)
    }

    /// One exchange: a message of type `kind` (see `packet`), and the
    /// reply to it.
    fn ask(&self, kind: u8, server_id: Option<&[u8]>, addresses: &[(Ipv6Addr, u32, u32)]) -> Option<Reply6> {
        let xid = self.xid();
        let p = self.packet(kind, xid, server_id, addresses);
        self.exchange(xid, &p)
    }

    fn xid(&self) -> u32 {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(1);
        ((std::process::id() << 8) ^ N.fetch_add(1, Ordering::Relaxed)) & 0xff_ffff
    }

    /// A message of type `kind`: the client's DUID, the server's if given,
    /// elapsed time 0, and an IA_NA holding `addresses` (lifetimes 0: the
    /// server decides).
    fn packet(&self, kind: u8, xid: u32, server_id: Option<&[u8]>, addresses: &[(Ipv6Addr, u32, u32)]) -> Vec<u8> {
        let mut p = vec![kind];
        p.extend_from_slice(&xid.to_be_bytes()[1..]);
        p.extend(option(CLIENTID, &self.duid));
        if let Some(id) = server_id {
            p.extend(option(SERVERID, id));
        }
        p.extend(option(ELAPSED_TIME, &[0, 0]));
        let mut ia = Vec::new();
        ia.extend_from_slice(&self.iaid.to_be_bytes());
        ia.extend_from_slice(&[0; 8]);
        for (addr, _, _) in addresses {
            let mut a = addr.octets().to_vec();
            a.extend_from_slice(&[0; 8]);
            ia.extend(option(IAADDR, &a));
        }
        p.extend(option(IA_NA, &ia));
        p
    }

    /// Sends `packet` to ff02::1:2 on the client's link and waits for the
    /// reply with transaction id `xid`.
    fn exchange(&self, xid: u32, packet: &[u8]) -> Option<Reply6> {
        let to = SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2), 547, 0, self.ifindex);
        self.sock.send_to(packet, to).unwrap_or_else(|e| panic!("send to {to} on {}: {e}", self.pair.client_if()));
        receive_within(&self.sock, self.timeout, |p| parse(p).filter(|r| r.xid == xid))
    }
}
