//! A DHCPv6 client for tests: SOLICIT, REQUEST, RENEW, REBIND, RELEASE and
//! DECLINE for an address (IA_NA), a delegated prefix (IA_PD) or both,
//! each a single exchange the test controls, from the pair's client
//! namespace, sent directly or through one or more simulated relays.
//!
//! Its socket is made inside the client namespace (a short-lived thread
//! enters it with `setns`), bound to port 546 on the client interface.
//! Queries go to All_DHCP_Relay_Agents_and_Servers (`ff02::1:2`) on that
//! link, from the interface's link-local address, and kea-dhcp6 answers
//! there; nothing leaves the pair's link.
//!
//! Relayed ([`Client6::via`]): the query is wrapped in one Relay-forward
//! per [`Relay6`] and sent, as a relay agent would, from the client
//! interface's link-local address and port 547 (a second socket, bound to
//! `[fe80::…%if]:547`); Kea answers with Relay-replies to that address and
//! port, which the client unwraps ([`Reply6::relays`]).
//!
//! Several clients may exist on one pair, but they share the ports: only
//! the client made last receives (its socket was bound last), so use them
//! one after another.

use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::time::Duration;

use crate::netns::{in_netns, receive_within, udp_socket_on, NetPair};

/// DHCPv6 message types (RFC 8415; ADDR-REG-INFORM and -REPLY: RFC 9686),
/// as in [`Reply6::message_type`].
pub mod msg6 {
    /// SOLICIT.
    pub const SOLICIT: u8 = 1;
    /// ADVERTISE.
    pub const ADVERTISE: u8 = 2;
    /// REQUEST.
    pub const REQUEST: u8 = 3;
    /// CONFIRM.
    pub const CONFIRM: u8 = 4;
    /// RENEW.
    pub const RENEW: u8 = 5;
    /// REBIND.
    pub const REBIND: u8 = 6;
    /// REPLY.
    pub const REPLY: u8 = 7;
    /// RELEASE.
    pub const RELEASE: u8 = 8;
    /// DECLINE.
    pub const DECLINE: u8 = 9;
    /// INFORMATION-REQUEST.
    pub const INFORMATION_REQUEST: u8 = 11;
    /// RELAY-FORW.
    pub const RELAY_FORW: u8 = 12;
    /// RELAY-REPL.
    pub const RELAY_REPL: u8 = 13;
    /// ADDR-REG-INFORM.
    pub const ADDR_REG_INFORM: u8 = 36;
    /// ADDR-REG-REPLY.
    pub const ADDR_REG_REPLY: u8 = 37;
}

/// DHCPv6 option codes (RFC 8415, RFC 4649 remote-id, RFC 4580
/// subscriber-id).
pub mod opt6 {
    /// OPTION_CLIENTID.
    pub const CLIENTID: u16 = 1;
    /// OPTION_SERVERID.
    pub const SERVERID: u16 = 2;
    /// OPTION_IA_NA.
    pub const IA_NA: u16 = 3;
    /// OPTION_IA_TA.
    pub const IA_TA: u16 = 4;
    /// OPTION_IAADDR.
    pub const IAADDR: u16 = 5;
    /// OPTION_ORO.
    pub const ORO: u16 = 6;
    /// OPTION_PREFERENCE.
    pub const PREFERENCE: u16 = 7;
    /// OPTION_ELAPSED_TIME.
    pub const ELAPSED_TIME: u16 = 8;
    /// OPTION_RELAY_MSG.
    pub const RELAY_MSG: u16 = 9;
    /// OPTION_STATUS_CODE.
    pub const STATUS_CODE: u16 = 13;
    /// OPTION_RAPID_COMMIT.
    pub const RAPID_COMMIT: u16 = 14;
    /// OPTION_USER_CLASS.
    pub const USER_CLASS: u16 = 15;
    /// OPTION_VENDOR_CLASS.
    pub const VENDOR_CLASS: u16 = 16;
    /// OPTION_VENDOR_OPTS.
    pub const VENDOR_OPTS: u16 = 17;
    /// OPTION_INTERFACE_ID.
    pub const INTERFACE_ID: u16 = 18;
    /// OPTION_DNS_SERVERS.
    pub const DNS_SERVERS: u16 = 23;
    /// OPTION_IA_PD.
    pub const IA_PD: u16 = 25;
    /// OPTION_IAPREFIX.
    pub const IAPREFIX: u16 = 26;
    /// OPTION_REMOTE_ID.
    pub const REMOTE_ID: u16 = 37;
    /// OPTION_SUBSCRIBER_ID.
    pub const SUBSCRIBER_ID: u16 = 38;
}

use opt6::*;

/// A status code option (13): the code and its message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status6 {
    /// 0 Success, 1 UnspecFail, 2 NoAddrsAvail, 3 NoBinding, 4 NotOnLink,
    /// 5 UseMulticast, 6 NoPrefixAvail.
    pub code: u16,
    /// The status message (UTF-8, lossily decoded).
    pub message: String,
}

/// An IAADDR (option 5) of an IA_NA or IA_TA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaAddr6 {
    /// The address.
    pub address: Ipv6Addr,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// Its status code, if any.
    pub status: Option<Status6>,
    /// Every option inside it, in order (code, payload).
    pub options: Vec<(u16, Vec<u8>)>,
}

/// An IAPREFIX (option 26) of an IA_PD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaPrefix6 {
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// Its status code, if any.
    pub status: Option<Status6>,
    /// Every option inside it, in order (code, payload).
    pub options: Vec<(u16, Vec<u8>)>,
}

/// An IA (IA_NA 3, IA_TA 4 or IA_PD 25) of a reply, fully parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ia6 {
    /// [`opt6::IA_NA`], [`opt6::IA_TA`] or [`opt6::IA_PD`].
    pub kind: u16,
    /// The IA's identifier.
    pub iaid: u32,
    /// T1 and T2 (0 for IA_TA, which has none).
    pub t1: u32,
    /// T2.
    pub t2: u32,
    /// The IA's own status code, if any.
    pub status: Option<Status6>,
    /// Its addresses (IA_NA, IA_TA).
    pub addresses: Vec<IaAddr6>,
    /// Its prefixes (IA_PD).
    pub prefixes: Vec<IaPrefix6>,
    /// Every option inside it, in order (code, payload).
    pub options: Vec<(u16, Vec<u8>)>,
}

/// The header and options of one Relay-reply that wrapped a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayReply6 {
    /// The hop count, echoed from the Relay-forward.
    pub hop_count: u8,
    /// The link address, echoed.
    pub link_address: Ipv6Addr,
    /// The peer address, echoed.
    pub peer_address: Ipv6Addr,
    /// Its options except the relay message (9), in order: the
    /// interface-id (18) Kea echoes, for one.
    pub options: Vec<(u16, Vec<u8>)>,
}

impl RelayReply6 {
    /// The payload of option `code`, if present.
    pub fn option(&self, code: u16) -> Option<&[u8]> {
        find(&self.options, code)
    }
}

/// A reply from the server.
#[derive(Debug, Clone)]
pub struct Reply6 {
    /// ADVERTISE or REPLY (see [`msg6`]).
    pub message_type: u8,
    /// The transaction id (24 bits).
    pub xid: u32,
    /// The server's DUID (option 2).
    pub server_id: Option<Vec<u8>>,
    /// The code of the message's status (option 13 at the top level), if any.
    pub status: Option<u16>,
    /// The message's status with its text, if any.
    pub status_text: Option<Status6>,
    /// The first IA_NA's status code, if any.
    pub ia_status: Option<u16>,
    /// The first IA_NA's T1 and T2.
    pub t1_t2: Option<(u32, u32)>,
    /// The first IA_NA's addresses: address, preferred and valid lifetimes.
    pub addresses: Vec<(Ipv6Addr, u32, u32)>,
    /// Every IA_PD's prefixes, in order.
    pub prefixes: Vec<IaPrefix6>,
    /// Every IA (IA_NA, IA_TA, IA_PD), in order, with everything in it.
    pub ias: Vec<Ia6>,
    /// Every top-level option, in order (code, payload).
    pub options: Vec<(u16, Vec<u8>)>,
    /// The Relay-replies it came in, outermost first (the one addressed to
    /// the relay next to the server); empty when it came directly.
    pub relays: Vec<RelayReply6>,
}

impl Reply6 {
    /// The first address of the IA_NA, if any.
    pub fn address(&self) -> Option<Ipv6Addr> {
        self.addresses.first().map(|a| a.0)
    }

    /// The first delegated prefix and its length, if any.
    pub fn prefix(&self) -> Option<(Ipv6Addr, u8)> {
        self.prefixes.first().map(|p| (p.prefix, p.len))
    }

    /// The first IA of type `kind` ([`opt6::IA_NA`], [`opt6::IA_PD`]...).
    pub fn ia(&self, kind: u16) -> Option<&Ia6> {
        self.ias.iter().find(|ia| ia.kind == kind)
    }

    /// The payload of top-level option `code`, if present.
    pub fn option(&self, code: u16) -> Option<&[u8]> {
        find(&self.options, code)
    }
}

/// Which IAs a client's queries carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ias6 {
    /// One IA_NA (the default).
    Na,
    /// One IA_PD.
    Pd,
    /// One IA_NA and one IA_PD.
    NaPd,
}

impl Ias6 {
    fn na(self) -> bool {
        matches!(self, Ias6::Na | Ias6::NaPd)
    }

    fn pd(self) -> bool {
        matches!(self, Ias6::Pd | Ias6::NaPd)
    }
}

/// A simulated relay agent (RFC 8415 section 19): the header and options of
/// the Relay-forward (message 12) it wraps a query in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay6 {
    /// The hop count (0 for the relay next to the client).
    pub hop_count: u8,
    /// The link address: kea-dhcp6 selects the subnet that contains it.
    pub link_address: Ipv6Addr,
    /// The peer address: the client's (or the previous relay's) address.
    pub peer_address: Ipv6Addr,
    /// Options of the Relay-forward besides the relay message, in order.
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Relay6 {
    /// A relay on the link of `link_address`, hop count 0, peer address
    /// `::` (set one with [`Relay6::peer`]), no options.
    pub fn new(link_address: Ipv6Addr) -> Relay6 {
        Relay6 { hop_count: 0, link_address, peer_address: Ipv6Addr::UNSPECIFIED, options: Vec::new() }
    }

    /// Sets the hop count.
    pub fn hops(mut self, hop_count: u8) -> Self {
        self.hop_count = hop_count;
        self
    }

    /// Sets the peer address.
    pub fn peer(mut self, peer_address: Ipv6Addr) -> Self {
        self.peer_address = peer_address;
        self
    }

    /// Adds an interface-id (option 18).
    pub fn interface_id(self, id: &[u8]) -> Self {
        self.option(INTERFACE_ID, id)
    }

    /// Adds a remote-id (option 37): `enterprise` number, then `id`.
    pub fn remote_id(self, enterprise: u32, id: &[u8]) -> Self {
        let mut v = enterprise.to_be_bytes().to_vec();
        v.extend_from_slice(id);
        self.option(REMOTE_ID, &v)
    }

    /// Adds a subscriber-id (option 38).
    pub fn subscriber_id(self, id: &[u8]) -> Self {
        self.option(SUBSCRIBER_ID, id)
    }

    /// Adds option `code` with `payload`.
    pub fn option(mut self, code: u16, payload: &[u8]) -> Self {
        self.options.push((code, payload.to_vec()));
        self
    }

    /// `inner` wrapped in this relay's Relay-forward.
    fn wrap(&self, inner: &[u8]) -> Vec<u8> {
        let mut p = vec![msg6::RELAY_FORW, self.hop_count];
        p.extend_from_slice(&self.link_address.octets());
        p.extend_from_slice(&self.peer_address.octets());
        for (code, payload) in &self.options {
            p.extend(option(*code, payload));
        }
        p.extend(option(RELAY_MSG, inner));
        p
    }
}

/// A DHCPv6 client on the pair's client interface, with a DUID-LL made from
/// a hardware address, IA identifier 1 for its IA_NA and its IA_PD.
pub struct Client6<'p> {
    pair: &'p NetPair,
    duid: Vec<u8>,
    iaid: u32,
    sock: UdpSocket,
    /// The client interface's index, for the link-scoped multicast address.
    ifindex: u32,
    timeout: Duration,
    ias: Ias6,
    /// A prefix length to ask for in a SOLICIT's IA_PD (an IAPREFIX hint).
    prefix_hint: Option<(Ipv6Addr, u8)>,
    extra: Vec<(u16, Vec<u8>)>,
    /// Relays, the client's own first, and the socket they send from.
    relays: Vec<Relay6>,
    relay_sock: Option<UdpSocket>,
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

fn find(options: &[(u16, Vec<u8>)], code: u16) -> Option<&[u8]> {
    options.iter().find(|(c, _)| *c == code).map(|(_, v)| v.as_slice())
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

fn addr6(b: &[u8]) -> Option<Ipv6Addr> {
    let octets: [u8; 16] = b.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(octets))
}

fn status_of(options: &[(u16, Vec<u8>)]) -> Option<Status6> {
    options
        .iter()
        .find(|(c, v)| *c == STATUS_CODE && v.len() >= 2)
        .map(|(_, v)| Status6 { code: u16::from_be_bytes([v[0], v[1]]), message: String::from_utf8_lossy(&v[2..]).into_owned() })
}

/// Parses an IA option's payload (`kind` says which).
fn parse_ia(kind: u16, v: &[u8]) -> Option<Ia6> {
    let (iaid, t1, t2, rest) = match kind {
        IA_TA => (be32(v.get(..4)?), 0, 0, &v[4..]),
        _ => (be32(v.get(..4)?), be32(v.get(4..8)?), be32(v.get(8..12)?), v.get(12..)?),
    };
    let subs = options(rest)?;
    let mut ia = Ia6 { kind, iaid, t1, t2, status: status_of(&subs), addresses: Vec::new(), prefixes: Vec::new(), options: subs.clone() };
    for (code, v) in &subs {
        if *code == IAADDR && v.len() >= 24 {
            let opts = options(&v[24..])?;
            ia.addresses.push(IaAddr6 {
                address: addr6(v)?,
                preferred: be32(&v[16..20]),
                valid: be32(&v[20..24]),
                status: status_of(&opts),
                options: opts,
            });
        } else if *code == IAPREFIX && v.len() >= 25 {
            let opts = options(&v[25..])?;
            ia.prefixes.push(IaPrefix6 {
                prefix: addr6(&v[9..])?,
                len: v[8],
                preferred: be32(&v[0..4]),
                valid: be32(&v[4..8]),
                status: status_of(&opts),
                options: opts,
            });
        }
    }
    Some(ia)
}

/// Parses an ADVERTISE or REPLY, or one wrapped in Relay-replies; `None`
/// if it is none of those.
fn parse(p: &[u8]) -> Option<Reply6> {
    let mut relays = Vec::new();
    let mut p = p.to_vec();
    while p.first() == Some(&msg6::RELAY_REPL) {
        if p.len() < 34 {
            return None;
        }
        let mut opts = options(&p[34..])?;
        let at = opts.iter().position(|(c, _)| *c == RELAY_MSG)?;
        let (_, inner) = opts.remove(at);
        relays.push(RelayReply6 { hop_count: p[1], link_address: addr6(&p[2..])?, peer_address: addr6(&p[18..])?, options: opts });
        p = inner;
    }
    let message_type = *p.first()?;
    if !matches!(message_type, msg6::ADVERTISE | msg6::REPLY | msg6::ADDR_REG_REPLY) || p.len() < 4 {
        return None;
    }
    let xid = u32::from_be_bytes([0, p[1], p[2], p[3]]);
    let options = options(&p[4..])?;
    let ias: Vec<Ia6> = options
        .iter()
        .filter(|(c, _)| matches!(*c, IA_NA | IA_TA | IA_PD))
        .map(|(c, v)| parse_ia(*c, v))
        .collect::<Option<_>>()?;
    let na = ias.iter().find(|ia| ia.kind == IA_NA);
    let status_text = status_of(&options);
    Some(Reply6 {
        message_type,
        xid,
        server_id: find(&options, SERVERID).map(<[u8]>::to_vec),
        status: status_text.as_ref().map(|s| s.code),
        status_text,
        ia_status: na.and_then(|ia| ia.status.as_ref().map(|s| s.code)),
        t1_t2: na.map(|ia| (ia.t1, ia.t2)),
        addresses: na.map(|ia| ia.addresses.iter().map(|a| (a.address, a.preferred, a.valid)).collect()).unwrap_or_default(),
        prefixes: ias.iter().filter(|ia| ia.kind == IA_PD).flat_map(|ia| ia.prefixes.iter().cloned()).collect(),
        ias,
        options,
        relays,
    })
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
        Client6 {
            pair,
            duid,
            iaid: 1,
            sock,
            ifindex,
            timeout: Duration::from_secs(3),
            ias: Ias6::Na,
            prefix_hint: None,
            extra: Vec::new(),
            relays: Vec::new(),
            relay_sock: None,
        }
    }

    /// The same client, waiting up to `timeout` for each reply.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same client, its queries carrying the IAs `ias` (IA identifier
    /// 1 each): an address, a delegated prefix, or both.
    pub fn asking_for(mut self, ias: Ias6) -> Self {
        self.ias = ias;
        self
    }

    /// The same client, its SOLICITs' IA_PD carrying an IAPREFIX with
    /// `prefix`/`len` as a hint (`::` and a length: any prefix of that
    /// length).
    pub fn with_prefix_hint(mut self, prefix: Ipv6Addr, len: u8) -> Self {
        self.prefix_hint = Some((prefix, len));
        self
    }

    /// The same client, sending option `code` with `payload` at the top
    /// level of every query (after the client id, server id and elapsed
    /// time, before the IAs): an ORO (6), user class (15), vendor class
    /// (16), vendor options (17), rapid commit (14, empty)...
    pub fn with_option(mut self, code: u16, payload: &[u8]) -> Self {
        self.extra.push((code, payload.to_vec()));
        self
    }

    /// The same client behind `relays`, the one next to the client first:
    /// each query is wrapped in their Relay-forwards (the first relay's
    /// innermost) and sent from the client interface's link-local address,
    /// port 547, where the Relay-replies come back. A relay without a peer
    /// address gets the client's link-local address (the first) or the
    /// same address as the previous relay's sender (the others).
    pub fn via(mut self, relays: &[Relay6]) -> Self {
        assert!(!relays.is_empty(), "via() needs at least one relay");
        let dev = self.pair.client_if();
        let ll = self.pair.client_link_local();
        let ifindex = self.ifindex;
        self.relays = relays
            .iter()
            .map(|r| if r.peer_address.is_unspecified() { r.clone().peer(ll) } else { r.clone() })
            .collect();
        self.relay_sock = Some(in_netns(&self.pair.client_ns(), || udp_socket_on(SocketAddrV6::new(ll, 547, 0, ifindex).into(), &dev)));
        self
    }

    /// The client's DUID, as the lease file writes it (colon hex).
    pub fn duid_text(&self) -> String {
        self.duid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
    }

    /// SOLICIT, then REQUEST of what was advertised: the REPLY.
    pub fn sarr(&self) -> Option<Reply6> {
        let advertise = self.solicit()?;
        self.request(&advertise)
    }

    /// SOLICIT: the ADVERTISE (or, with rapid commit, the REPLY).
    pub fn solicit(&self) -> Option<Reply6> {
        self.ask(msg6::SOLICIT, None, None)
    }

    /// REQUEST of what `advertise` offered, from its server.
    pub fn request(&self, advertise: &Reply6) -> Option<Reply6> {
        self.ask(msg6::REQUEST, advertise.server_id.as_deref(), Some(advertise))
    }

    /// RENEW of `reply`'s addresses and prefixes, with its server.
    pub fn renew(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::RENEW, reply.server_id.as_deref(), Some(reply))
    }

    /// REBIND of `reply`'s addresses and prefixes, to any server.
    pub fn rebind(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::REBIND, None, Some(reply))
    }

    /// RELEASE of `reply`'s addresses and prefixes: the server's REPLY.
    pub fn release(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::RELEASE, reply.server_id.as_deref(), Some(reply))
    }

    /// DECLINE of `reply`'s addresses: the server's REPLY.
    pub fn decline(&self, reply: &Reply6) -> Option<Reply6> {
        self.ask(msg6::DECLINE, reply.server_id.as_deref(), Some(reply))
    }

    /// ADDR-REG-INFORM (RFC 9686; kea-dhcp6 3.0+): registers `address`,
    /// which the client configured itself, with preferred and valid
    /// lifetimes 3000 and 3600 (one IAADDR at the top level, no IA). The
    /// server checks that the query comes from that address (through
    /// relays: the relay's peer address on 3.2, its link address on 3.0.2):
    /// send it [`via`](Self::via) a relay whose link and peer address are
    /// both `address`. The ADDR-REG-REPLY (37), or `None`.
    pub fn addr_reg_inform(&self, address: Ipv6Addr) -> Option<Reply6> {
        let xid = self.xid();
        let mut p = vec![msg6::ADDR_REG_INFORM];
        p.extend_from_slice(&xid.to_be_bytes()[1..]);
        p.extend(option(CLIENTID, &self.duid));
        p.extend(option(ELAPSED_TIME, &[0, 0]));
        let mut a = address.octets().to_vec();
        a.extend_from_slice(&3000u32.to_be_bytes());
        a.extend_from_slice(&3600u32.to_be_bytes());
        p.extend(option(IAADDR, &a));
        self.exchange(xid, &p)
    }

    /// One exchange: a message of type `kind` (see `packet`), and the
    /// reply to it.
    fn ask(&self, kind: u8, server_id: Option<&[u8]>, leases: Option<&Reply6>) -> Option<Reply6> {
        let xid = self.xid();
        let p = self.packet(kind, xid, server_id, leases);
        self.exchange(xid, &p)
    }

    fn xid(&self) -> u32 {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(1);
        ((std::process::id() << 8) ^ N.fetch_add(1, Ordering::Relaxed)) & 0xff_ffff
    }

    /// A message of type `kind`: the client's DUID, the server's if given,
    /// elapsed time 0, the extra options, and the client's IAs holding
    /// `leases`' addresses and prefixes (lifetimes 0: the server decides).
    fn packet(&self, kind: u8, xid: u32, server_id: Option<&[u8]>, leases: Option<&Reply6>) -> Vec<u8> {
        let mut p = vec![kind];
        p.extend_from_slice(&xid.to_be_bytes()[1..]);
        p.extend(option(CLIENTID, &self.duid));
        if let Some(id) = server_id {
            p.extend(option(SERVERID, id));
        }
        p.extend(option(ELAPSED_TIME, &[0, 0]));
        for (code, payload) in &self.extra {
            p.extend(option(*code, payload));
        }
        let ia_header = |iaid: u32| {
            let mut ia = iaid.to_be_bytes().to_vec();
            ia.extend_from_slice(&[0; 8]);
            ia
        };
        if self.ias.na() {
            let mut ia = ia_header(self.iaid);
            for (addr, _, _) in leases.map(|r| r.addresses.as_slice()).unwrap_or_default() {
                let mut a = addr.octets().to_vec();
                a.extend_from_slice(&[0; 8]);
                ia.extend(option(IAADDR, &a));
            }
            p.extend(option(IA_NA, &ia));
        }
        if self.ias.pd() {
            let mut ia = ia_header(self.iaid);
            let mut prefixes: Vec<(Ipv6Addr, u8)> = leases.map(|r| r.prefixes.iter().map(|x| (x.prefix, x.len)).collect()).unwrap_or_default();
            if leases.is_none() {
                prefixes.extend(self.prefix_hint);
            }
            for (prefix, len) in prefixes {
                let mut x = vec![0; 8];
                x.push(len);
                x.extend_from_slice(&prefix.octets());
                ia.extend(option(IAPREFIX, &x));
            }
            p.extend(option(IA_PD, &ia));
        }
        p
    }

    /// Sends `packet` (in the relays' Relay-forwards, if any) to ff02::1:2
    /// on the client's link and waits for the reply with transaction id
    /// `xid`.
    fn exchange(&self, xid: u32, packet: &[u8]) -> Option<Reply6> {
        let to = SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2), 547, 0, self.ifindex);
        let mut packet = packet.to_vec();
        for relay in &self.relays {
            packet = relay.wrap(&packet);
        }
        let sock = self.relay_sock.as_ref().unwrap_or(&self.sock);
        sock.send_to(&packet, to).unwrap_or_else(|e| panic!("send to {to} on {}: {e}", self.pair.client_if()));
        let hops = self.relays.len();
        receive_within(sock, self.timeout, |p| parse(p).filter(|r| r.xid == xid && r.relays.len() == hops))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_reply_with_ia_na_and_ia_pd_parses() {
        let mut ia_na = vec![0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0, 200];
        let mut iaaddr = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0x100).octets().to_vec();
        iaaddr.extend_from_slice(&[0, 0, 0, 30, 0, 0, 0, 40]);
        ia_na.extend(option(IAADDR, &iaaddr));
        let mut ia_pd = vec![0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2];
        let mut iaprefix = vec![0, 0, 0, 3, 0, 0, 0, 4, 64];
        iaprefix.extend_from_slice(&Ipv6Addr::new(0x2001, 2, 0, 0x8000, 0, 0, 0, 0).octets());
        iaprefix.extend(option(STATUS_CODE, b"\0\0ok"));
        ia_pd.extend(option(IAPREFIX, &iaprefix));
        ia_pd.extend(option(STATUS_CODE, b"\0\x06none left"));
        let mut reply = vec![msg6::REPLY, 0xab, 0xcd, 0xef];
        reply.extend(option(SERVERID, &[9, 9]));
        reply.extend(option(IA_NA, &ia_na));
        reply.extend(option(IA_PD, &ia_pd));
        let mut relay = vec![msg6::RELAY_REPL, 1];
        relay.extend_from_slice(&Ipv6Addr::new(0x2001, 2, 0, 0x4000, 0, 0, 0, 1).octets());
        relay.extend_from_slice(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2).octets());
        relay.extend(option(INTERFACE_ID, b"port-1"));
        relay.extend(option(RELAY_MSG, &reply));

        let r = parse(&relay).expect("parses");
        assert_eq!((r.message_type, r.xid, r.server_id.as_deref()), (msg6::REPLY, 0xabcdef, Some(&[9u8, 9][..])));
        assert_eq!(r.address(), Some(Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0x100)));
        assert_eq!((r.t1_t2, r.addresses[0].1, r.addresses[0].2), (Some((100, 200)), 30, 40));
        assert_eq!(r.prefix(), Some((Ipv6Addr::new(0x2001, 2, 0, 0x8000, 0, 0, 0, 0), 64)));
        assert_eq!((r.prefixes[0].preferred, r.prefixes[0].valid), (3, 4));
        assert_eq!(r.prefixes[0].status, Some(Status6 { code: 0, message: "ok".into() }));
        let pd = r.ia(IA_PD).expect("an IA_PD");
        assert_eq!((pd.iaid, pd.t1, pd.t2), (7, 1, 2));
        assert_eq!(pd.status, Some(Status6 { code: 6, message: "none left".into() }));
        assert_eq!(r.relays.len(), 1);
        assert_eq!(r.relays[0].hop_count, 1);
        assert_eq!(r.relays[0].option(INTERFACE_ID), Some(&b"port-1"[..]));
        assert!(r.relays[0].option(RELAY_MSG).is_none());
    }

    #[test]
    fn relays_nest_the_first_innermost() {
        let a = Relay6::new(Ipv6Addr::LOCALHOST).interface_id(b"a");
        let b = Relay6::new(Ipv6Addr::UNSPECIFIED).hops(1).remote_id(9, b"r");
        let inner = [msg6::SOLICIT, 0, 0, 1];
        let p = b.wrap(&a.wrap(&inner));
        assert_eq!((p[0], p[1]), (msg6::RELAY_FORW, 1));
        let outer = options(&p[34..]).unwrap();
        assert_eq!(outer[0], (REMOTE_ID, vec![0, 0, 0, 9, b'r']));
        let mid = find(&outer, RELAY_MSG).unwrap();
        assert_eq!((mid[0], mid[1], addr6(&mid[2..]).unwrap()), (msg6::RELAY_FORW, 0, Ipv6Addr::LOCALHOST));
        assert_eq!(find(&options(&mid[34..]).unwrap(), RELAY_MSG), Some(&inner[..]));
    }
}
