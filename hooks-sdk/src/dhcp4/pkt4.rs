//! A DHCPv4 packet, read-only.

use std::fmt;
use std::net::Ipv4Addr;

use crate::error::Error;
use crate::ffi;
use crate::hwaddr::HwAddr;

/// A DHCPv4 packet (query or response), borrowed for the callout.
#[derive(Clone, Copy)]
pub struct Pkt4<'a> {
    pkt: &'a ffi::Pkt4,
}

impl<'a> Pkt4<'a> {
    #[inline]
    pub(crate) fn new(pkt: &'a ffi::Pkt4) -> Self {
        Pkt4 { pkt }
    }

    /// The DHCP message type (option 53). Fails only when that option is
    /// malformed.
    #[inline]
    pub fn message_type(&self) -> Result<MessageType, Error> {
        Ok(MessageType(ffi::pkt4_type(self.pkt)?))
    }

    /// The transaction id (`xid`).
    #[inline]
    pub fn xid(&self) -> u32 {
        ffi::pkt4_transid(self.pkt)
    }

    /// The client hardware address (`htype`, `chaddr`).
    #[inline]
    pub fn hwaddr(&self) -> HwAddr<'a> {
        let mut htype = 0;
        let bytes = ffi::pkt4_hwaddr(self.pkt, &mut htype);
        HwAddr::new(htype, bytes)
    }

    /// `ciaddr`.
    #[inline]
    pub fn ciaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::pkt4_ciaddr(self.pkt))
    }

    /// `yiaddr`.
    #[inline]
    pub fn yiaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::pkt4_yiaddr(self.pkt))
    }

    /// `siaddr`.
    #[inline]
    pub fn siaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::pkt4_siaddr(self.pkt))
    }

    /// `giaddr` (the relay's address, 0.0.0.0 when not relayed).
    #[inline]
    pub fn giaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::pkt4_giaddr(self.pkt))
    }

    /// The remote IP address: the sender of a query, the destination of a
    /// response.
    #[inline]
    pub fn remote_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::pkt4_remote_addr(self.pkt))
    }

    /// The local IP address.
    #[inline]
    pub fn local_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(ffi::pkt4_local_addr(self.pkt))
    }

    /// The remote UDP port.
    #[inline]
    pub fn remote_port(&self) -> u16 {
        ffi::pkt4_remote_port(self.pkt)
    }

    /// The local UDP port.
    #[inline]
    pub fn local_port(&self) -> u16 {
        ffi::pkt4_local_port(self.pkt)
    }

    /// The name of the interface the packet came in on (or goes out of).
    pub fn iface(&self) -> Result<String, Error> {
        Ok(ffi::pkt4_iface(self.pkt)?)
    }

    /// The interface index, or -1 when unknown.
    #[inline]
    pub fn iface_index(&self) -> i32 {
        ffi::pkt4_iface_index(self.pkt)
    }

    /// `hops`.
    #[inline]
    pub fn hops(&self) -> u8 {
        ffi::pkt4_hops(self.pkt)
    }

    /// `secs`.
    #[inline]
    pub fn secs(&self) -> u16 {
        ffi::pkt4_secs(self.pkt)
    }

    /// `flags` (0x8000 is the broadcast bit).
    #[inline]
    pub fn flags(&self) -> u16 {
        ffi::pkt4_flags(self.pkt)
    }

    /// Whether the packet came through a relay. Fails (a Kea error) on an
    /// inconsistent relay header.
    pub fn is_relayed(&self) -> Result<bool, Error> {
        Ok(ffi::pkt4_relayed(self.pkt)?)
    }

    /// Whether the packet carries option `code`.
    #[inline]
    pub fn has_option(&self, code: u8) -> bool {
        ffi::pkt4_has_option(self.pkt, u16::from(code))
    }

    /// The payload of option `code` (without code and length; sub-options
    /// in wire form), or `None` if the packet has no such option.
    pub fn option(&self, code: u8) -> Result<Option<Vec<u8>>, Error> {
        let mut out = Vec::new();
        Ok(ffi::pkt4_option(self.pkt, u16::from(code), &mut out)?.then_some(out))
    }

    /// Whether the packet belongs to client class `name`.
    pub fn in_class(&self, name: &str) -> Result<bool, Error> {
        Ok(ffi::pkt4_in_class(self.pkt, name)?)
    }

    /// Kea's label for the packet, as in its own log lines
    /// (`[hwtype=1 0a:..], cid=[..], tid=0x..`).
    pub fn label(&self) -> Result<String, Error> {
        Ok(ffi::pkt4_label(self.pkt)?)
    }
}

impl fmt::Debug for Pkt4<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkt4")
            .field("type", &self.message_type().ok())
            .field("xid", &format_args!("{:#x}", self.xid()))
            .field("hwaddr", &self.hwaddr())
            .finish_non_exhaustive()
    }
}

/// A DHCPv4 message type (option 53).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageType(pub u8);

impl MessageType {
    /// No option 53 (a BOOTP packet).
    pub const NONE: MessageType = MessageType(0);
    /// DHCPDISCOVER.
    pub const DISCOVER: MessageType = MessageType(1);
    /// DHCPOFFER.
    pub const OFFER: MessageType = MessageType(2);
    /// DHCPREQUEST.
    pub const REQUEST: MessageType = MessageType(3);
    /// DHCPDECLINE.
    pub const DECLINE: MessageType = MessageType(4);
    /// DHCPACK.
    pub const ACK: MessageType = MessageType(5);
    /// DHCPNAK.
    pub const NAK: MessageType = MessageType(6);
    /// DHCPRELEASE.
    pub const RELEASE: MessageType = MessageType(7);
    /// DHCPINFORM.
    pub const INFORM: MessageType = MessageType(8);

    /// The name, e.g. `DHCPDISCOVER`, or `UNKNOWN` (ISC run_script's form).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 19] = [
            "UNKNOWN",
            "DHCPDISCOVER",
            "DHCPOFFER",
            "DHCPREQUEST",
            "DHCPDECLINE",
            "DHCPACK",
            "DHCPNAK",
            "DHCPRELEASE",
            "DHCPINFORM",
            "DHCPFORCERENEW",
            "DHCPLEASEQUERY",
            "DHCPLEASEUNASSIGNED",
            "DHCPLEASEUNKNOWN",
            "DHCPLEASEACTIVE",
            "DHCPBULKLEASEQUERY",
            "DHCPLEASEQUERYDONE",
            "DHCPACTIVELEASEQUERY",
            "DHCPLEASEQUERYSTATUS",
            "DHCPTLS",
        ];
        NAMES.get(usize::from(self.0)).copied().unwrap_or("UNKNOWN")
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}
