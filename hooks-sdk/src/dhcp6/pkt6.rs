//! A DHCPv6 packet: its header, options, relay chain and classes, read and
//! written.

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::{Error, ErrorKind};
use crate::ffi;
use crate::hwaddr::HwAddr;
use crate::option::OptionData;

use super::option::{code, Ia, MAX_OPTION6_LEN};

/// A DHCPv6 packet (query or response), borrowed for the callout.
///
/// Kea reads its packets back after each callout, so the writes here
/// (options, classes) change what Kea does: on the response at
/// `pkt6_send`, what the client receives; on the query at `pkt6_receive`,
/// how Kea classifies and answers it. Option payloads come back as copies,
/// so a write never leaves a dangling borrow behind.
///
/// A relayed query is the client's message as Kea unwrapped it: the
/// header and options are the client's, and [`relays`](Self::relays) are
/// the Relay-forward layers it came through (their link and peer addresses
/// and their options: interface-id, remote-id, subscriber-id, ...).
#[derive(Clone, Copy)]
pub struct Pkt6<'a> {
    pkt: &'a ffi::Pkt6,
}

impl<'a> Pkt6<'a> {
    #[inline]
    pub(crate) fn new(pkt: &'a ffi::Pkt6) -> Self {
        Pkt6 { pkt }
    }

    /// The Kea object, for the SDK's own writes.
    #[inline]
    pub(crate) fn raw(&self) -> &'a ffi::Pkt6 {
        self.pkt
    }

    /// The message type (of the client's message, for a relayed one).
    #[inline]
    pub fn message_type(&self) -> MessageType6 {
        MessageType6(ffi::pkt6_type(self.pkt))
    }

    /// The transaction id (24 bits).
    #[inline]
    pub fn xid(&self) -> u32 {
        ffi::pkt6_transid(self.pkt)
    }

    /// The client's DUID (option 1's payload), if the packet has one.
    pub fn client_id(&self) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.option(code::CLIENTID)?.map(OptionData::into_bytes))
    }

    /// The remote IP address: the sender of a query (the client's
    /// link-local address, or the relay's), the destination of a response.
    #[inline]
    pub fn remote_addr(&self) -> Ipv6Addr {
        ffi::pkt6_remote_addr(self.pkt).into()
    }

    /// The local IP address (the multicast group or unicast address the
    /// query was sent to).
    #[inline]
    pub fn local_addr(&self) -> Ipv6Addr {
        ffi::pkt6_local_addr(self.pkt).into()
    }

    /// The remote UDP port (546 from a client, 547 from a relay).
    #[inline]
    pub fn remote_port(&self) -> u16 {
        ffi::pkt6_remote_port(self.pkt)
    }

    /// The local UDP port.
    #[inline]
    pub fn local_port(&self) -> u16 {
        ffi::pkt6_local_port(self.pkt)
    }

    /// The name of the interface the packet came in on (or goes out of).
    pub fn iface(&self) -> Result<String, Error> {
        Ok(ffi::pkt6_iface(self.pkt)?)
    }

    /// The interface index, or -1 when unknown.
    #[inline]
    pub fn iface_index(&self) -> i32 {
        ffi::pkt6_iface_index(self.pkt)
    }

    /// The link-layer source address of the frame that carried the
    /// packet, where Kea's socket recorded one (the client's, or the
    /// relay's for a relayed query); `None` when Kea has none.
    #[inline]
    pub fn remote_hwaddr(&self) -> Option<HwAddr<'a>> {
        let (mut htype, mut present) = (0, false);
        let bytes = ffi::pkt6_remote_hwaddr(self.pkt, &mut htype, &mut present);
        present.then(|| HwAddr::new(htype, bytes))
    }

    /// The client's hardware address (type and bytes) as Kea finds it for
    /// its leases: from any source it knows (the client's link-local
    /// address, the DUID, a relay's client-linklayer-address or remote-id
    /// option; `mac-sources` in Kea's configuration), `None` when none
    /// gives one. A copy: Kea works it out on each call. (For a query,
    /// [`remote_hwaddr`](Self::remote_hwaddr) is usually `None`: Kea's
    /// DHCPv6 sockets do not record the frame's source.)
    pub fn mac(&self) -> Result<Option<(u16, Vec<u8>)>, Error> {
        let (mut htype, mut bytes) = (0, Vec::new());
        Ok(ffi::pkt6_mac(self.pkt, &mut htype, &mut bytes)?.then_some((htype, bytes)))
    }

    /// Whether the query came through relays.
    #[inline]
    pub fn is_relayed(&self) -> bool {
        ffi::pkt6_relay_count(self.pkt) > 0
    }

    /// The relays the query came through, the one closest to the server
    /// first (Kea's encapsulation level 0), each with its options.
    pub fn relays(&self) -> Vec<Relay6<'a>> {
        (0..ffi::pkt6_relay_count(self.pkt))
            .filter_map(|level| {
                let mut row = ffi::RelayRow6 {
                    msg_type: 0,
                    hop_count: 0,
                    link_addr: ffi::Addr6 { octets: [0; 16] },
                    peer_addr: ffi::Addr6 { octets: [0; 16] },
                };
                ffi::pkt6_relay(self.pkt, level, &mut row).then(|| Relay6 {
                    pkt: self.pkt,
                    level,
                    hop_count: row.hop_count,
                    link_addr: row.link_addr.into(),
                    peer_addr: row.peer_addr.into(),
                })
            })
            .collect()
    }

    /// The payload of relay option `code` from the relay closest to the
    /// client that has one (where interface-id, remote-id and subscriber-id
    /// are usually set), or `None`.
    pub fn relay_option(&self, code: u16) -> Result<Option<OptionData>, Error> {
        for relay in self.relays().iter().rev() {
            if let Some(o) = relay.option(code)? {
                return Ok(Some(o));
            }
        }
        Ok(None)
    }

    /// Whether the packet carries option `code` (at its top level).
    #[inline]
    pub fn has_option(&self, code: u16) -> bool {
        ffi::pkt6_has_option(self.pkt, code)
    }

    /// The payload of the first option `code` (without code and length;
    /// nested options in wire form), or `None`. See [`OptionData`] and
    /// [`super::option`] for the readers.
    pub fn option(&self, code: u16) -> Result<Option<OptionData>, Error> {
        let packed = ffi::pkt6_option(self.pkt, -1, code)?;
        Ok((!packed.is_null()).then(|| OptionData::packed(packed)))
    }

    /// Every option `code`, in order (a client may send several IA_NAs).
    pub fn options(&self, code: u16) -> Result<Vec<OptionData>, Error> {
        Ok(ffi::pkt6_options(self.pkt, -1, code, false)?.into_iter().map(|r| OptionData::from(r.data)).collect())
    }

    /// Every top-level option (code, payload), in Kea's order (by code).
    pub fn all_options(&self) -> Result<Vec<(u16, OptionData)>, Error> {
        Ok(ffi::pkt6_options(self.pkt, -1, 0, true)?.into_iter().map(|r| (r.code, OptionData::from(r.data))).collect())
    }

    /// The packet's IA_NAs, decoded.
    pub fn ia_nas(&self) -> Result<Vec<Ia>, Error> {
        self.options(code::IA_NA)?.iter().map(OptionData::as_ia).collect()
    }

    /// The packet's IA_PDs, decoded.
    pub fn ia_pds(&self) -> Result<Vec<Ia>, Error> {
        self.options(code::IA_PD)?.iter().map(OptionData::as_ia).collect()
    }

    /// The options the client asked for (its ORO, option 6), empty when
    /// none.
    pub fn requested_options(&self) -> Result<Vec<u16>, Error> {
        match self.option(code::ORO)? {
            Some(oro) => oro.as_u16_list(),
            None => Ok(Vec::new()),
        }
    }

    /// Adds option `code` with payload `data` (DHCPv6 packets may hold
    /// several options of one code; see [`set_option`](Self::set_option)
    /// to replace). Fails, changing nothing, for code 0 and for more than
    /// 65535 bytes.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # use kea_hooks::option::OptionData;
    /// # fn f(cx: &Context<'_, dhcp6::Pkt6Send>) -> Result<(), Error> {
    /// let dns = OptionData::from_ipv6_list(&["2001:2::53".parse().unwrap()]);
    /// cx.response()?.set_option(dhcp6::code::DNS_SERVERS, dns)?;
    /// # Ok(()) }
    /// ```
    pub fn add_option(&self, code: u16, data: impl AsRef<[u8]>) -> Result<(), Error> {
        let data = data.as_ref();
        check_option(code, data)?;
        Ok(ffi::pkt6_add_option(self.pkt, code, data, false)?)
    }

    /// Sets option `code` to payload `data`, removing every one the packet
    /// had. Fails, changing nothing, as [`add_option`](Self::add_option).
    pub fn set_option(&self, code: u16, data: impl AsRef<[u8]>) -> Result<(), Error> {
        let data = data.as_ref();
        check_option(code, data)?;
        Ok(ffi::pkt6_add_option(self.pkt, code, data, true)?)
    }

    /// Removes every option `code`; returns how many there were.
    pub fn remove_option(&self, code: u16) -> Result<usize, Error> {
        Ok(ffi::pkt6_remove_option(self.pkt, code)?)
    }

    /// Whether the packet belongs to client class `name`.
    pub fn in_class(&self, name: &str) -> Result<bool, Error> {
        Ok(ffi::pkt6_in_class(self.pkt, name)?)
    }

    /// The client classes the packet belongs to (built-in ones such as
    /// `ALL` and `KNOWN` included).
    pub fn classes(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::pkt6_classes(self.pkt, false)?)
    }

    /// Puts the packet in client class `name` (at `pkt6_receive`, this
    /// steers subnet and pool selection guarded by `client-class`, and the
    /// class's `option-data` in the response).
    pub fn add_class(&self, name: &str) -> Result<(), Error> {
        Ok(ffi::pkt6_add_class(self.pkt, name, false)?)
    }

    /// **Kea before 3.0.**
    /// The classes to evaluate after subnet selection (Kea 2.x
    /// "required" classes).
    #[cfg(any(not(kea_3_0), kea_docs))]
    #[cfg_attr(docsrs, doc(cfg(not(kea_3_0))))]
    pub fn required_classes(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::pkt6_classes(self.pkt, true)?)
    }

    /// **Kea before 3.0.**
    /// Marks class `name` for evaluation after subnet selection (Kea 2.x
    /// "required" classes).
    #[cfg(any(not(kea_3_0), kea_docs))]
    #[cfg_attr(docsrs, doc(cfg(not(kea_3_0))))]
    pub fn add_required_class(&self, name: &str) -> Result<(), Error> {
        Ok(ffi::pkt6_add_class(self.pkt, name, true)?)
    }

    /// **Kea 3.0+.**
    /// The classes to evaluate after subnet selection (Kea 3.0+
    /// "additional" classes).
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    pub fn additional_classes(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::pkt6_classes(self.pkt, true)?)
    }

    /// **Kea 3.0+.**
    /// Marks class `name` for evaluation after subnet selection (Kea 3.0+
    /// "additional" classes).
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    pub fn add_additional_class(&self, name: &str) -> Result<(), Error> {
        Ok(ffi::pkt6_add_class(self.pkt, name, true)?)
    }

    /// Kea's label for the packet, as in its own log lines
    /// (`duid=[..], tid=0x..`).
    pub fn label(&self) -> Result<String, Error> {
        Ok(ffi::pkt6_label(self.pkt)?)
    }
}

fn check_option(code: u16, data: &[u8]) -> Result<(), Error> {
    if code == 0 {
        return Err(Error::new(ErrorKind::Invalid, "option code 0 is reserved"));
    }
    if data.len() > MAX_OPTION6_LEN {
        return Err(Error::new(ErrorKind::Invalid, format!("option {code}: {} bytes, at most {MAX_OPTION6_LEN}", data.len())));
    }
    Ok(())
}

impl fmt::Debug for Pkt6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkt6")
            .field("type", &self.message_type())
            .field("xid", &format_args!("{:#x}", self.xid()))
            .field("remote", &self.remote_addr())
            .field("relays", &ffi::pkt6_relay_count(self.pkt))
            .finish_non_exhaustive()
    }
}

/// One relay a query came through (a Relay-forward layer, RFC 8415
/// section 9), borrowed for the callout.
#[derive(Clone, Copy)]
pub struct Relay6<'a> {
    pkt: &'a ffi::Pkt6,
    level: usize,
    hop_count: u8,
    link_addr: Ipv6Addr,
    peer_addr: Ipv6Addr,
}

impl Relay6<'_> {
    /// Kea's encapsulation level: 0 for the relay closest to the server.
    #[inline]
    pub fn level(&self) -> usize {
        self.level
    }

    /// The relay's hop count.
    #[inline]
    pub fn hop_count(&self) -> u8 {
        self.hop_count
    }

    /// The link address: an address on the client's link (Kea selects the
    /// subnet by it), or `::`.
    #[inline]
    pub fn link_addr(&self) -> Ipv6Addr {
        self.link_addr
    }

    /// The peer address: where the relay got the message from (the
    /// client, or the next relay).
    #[inline]
    pub fn peer_addr(&self) -> Ipv6Addr {
        self.peer_addr
    }

    /// The payload of this relay's option `code` (interface-id 18,
    /// remote-id 37, subscriber-id 38, ...), or `None`.
    pub fn option(&self, code: u16) -> Result<Option<OptionData>, Error> {
        let packed = ffi::pkt6_option(self.pkt, self.level as i32, code)?;
        Ok((!packed.is_null()).then(|| OptionData::packed(packed)))
    }

    /// Every option of this relay (code, payload), by code.
    pub fn options(&self) -> Result<Vec<(u16, OptionData)>, Error> {
        Ok(ffi::pkt6_options(self.pkt, self.level as i32, 0, true)?
            .into_iter()
            .map(|r| (r.code, OptionData::from(r.data)))
            .collect())
    }
}

impl fmt::Debug for Relay6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay6")
            .field("level", &self.level)
            .field("link_addr", &self.link_addr)
            .field("peer_addr", &self.peer_addr)
            .finish_non_exhaustive()
    }
}

/// A DHCPv6 message type (RFC 8415 section 7.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageType6(pub u8);

impl MessageType6 {
    /// SOLICIT.
    pub const SOLICIT: MessageType6 = MessageType6(1);
    /// ADVERTISE.
    pub const ADVERTISE: MessageType6 = MessageType6(2);
    /// REQUEST.
    pub const REQUEST: MessageType6 = MessageType6(3);
    /// CONFIRM.
    pub const CONFIRM: MessageType6 = MessageType6(4);
    /// RENEW.
    pub const RENEW: MessageType6 = MessageType6(5);
    /// REBIND.
    pub const REBIND: MessageType6 = MessageType6(6);
    /// REPLY.
    pub const REPLY: MessageType6 = MessageType6(7);
    /// RELEASE.
    pub const RELEASE: MessageType6 = MessageType6(8);
    /// DECLINE.
    pub const DECLINE: MessageType6 = MessageType6(9);
    /// RECONFIGURE.
    pub const RECONFIGURE: MessageType6 = MessageType6(10);
    /// INFORMATION-REQUEST.
    pub const INFORMATION_REQUEST: MessageType6 = MessageType6(11);
    /// RELAY-FORW.
    pub const RELAY_FORW: MessageType6 = MessageType6(12);
    /// RELAY-REPL.
    pub const RELAY_REPL: MessageType6 = MessageType6(13);

    /// The name Kea gives the type in this build's release (`Pkt6::getName`;
    /// what ISC's run_script writes): `SOLICIT`, `INFORMATION_REQUEST`,
    /// ..., `LEASEQUERY_DONE`/`_DATA` from Kea 2.4, `ADDR_REG_INFORM`/
    /// `_REPLY` from 3.0, `UNKNOWN` for any type Kea has no name for.
    pub fn name(self) -> &'static str {
        self.name_at(crate::KEA_HOOKS_VERSION)
    }

    /// [`MessageType6::name`] as Kea `version` (a `KEA_HOOKS_VERSION`)
    /// names it.
    fn name_at(self, version: i32) -> &'static str {
        match self.0 {
            1 => "SOLICIT",
            2 => "ADVERTISE",
            3 => "REQUEST",
            4 => "CONFIRM",
            5 => "RENEW",
            6 => "REBIND",
            7 => "REPLY",
            8 => "RELEASE",
            9 => "DECLINE",
            10 => "RECONFIGURE",
            11 => "INFORMATION_REQUEST",
            12 => "RELAY_FORWARD",
            13 => "RELAY_REPLY",
            14 => "LEASEQUERY",
            15 => "LEASEQUERY_REPLY",
            16 if version >= 20400 => "LEASEQUERY_DONE",
            17 if version >= 20400 => "LEASEQUERY_DATA",
            20 => "DHCPV4_QUERY",
            21 => "DHCPV4_RESPONSE",
            36 if version >= 30000 => "ADDR_REG_INFORM",
            37 if version >= 30000 => "ADDR_REG_REPLY",
            _ => "UNKNOWN",
        }
    }
}

impl fmt::Display for MessageType6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for MessageType6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::MessageType6;

    #[test]
    fn message_type_names_follow_the_release() {
        let name = |t, version| MessageType6(t).name_at(version);
        assert_eq!(name(3, 20200), "REQUEST");
        assert_eq!(name(11, 20200), "INFORMATION_REQUEST");
        assert_eq!(name(12, 20200), "RELAY_FORWARD");
        assert_eq!(name(17, 20200), "UNKNOWN");
        assert_eq!(name(17, 20603), "LEASEQUERY_DATA");
        assert_eq!(name(16, 20603), "LEASEQUERY_DONE");
        assert_eq!(name(36, 20603), "UNKNOWN");
        assert_eq!(name(36, 30004), "ADDR_REG_INFORM");
        assert_eq!(name(37, 30200), "ADDR_REG_REPLY");
        // Types Kea has no name for.
        for t in [0, 18, 19, 22, 35, 38, 255] {
            assert_eq!(name(t, 30200), "UNKNOWN", "type {t}");
        }
    }
}
