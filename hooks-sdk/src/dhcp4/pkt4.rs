//! A DHCPv4 packet: its fields, options and classes, read and written.

use std::fmt;
use std::net::Ipv4Addr;

use crate::error::Error;
use crate::ffi;
use crate::hwaddr::HwAddr;

use super::option::{invalid, OptionData, MAX_OPTION_LEN};

/// A DHCPv4 packet (query or response), borrowed for the callout.
///
/// Kea reads its packets back after each callout, so the writes here
/// (options, classes, `siaddr`, `sname`, `file`) change what Kea does:
/// on the response at `pkt4_send`, what the client receives; on the query
/// at `pkt4_receive`, how Kea classifies and answers it. A view never
/// lends out a reference into anything a write can change (option data,
/// `sname` and `file` come back as copies), so a write can never leave a
/// dangling borrow behind.
#[derive(Clone, Copy)]
pub struct Pkt4<'a> {
    pkt: &'a ffi::Pkt4,
}

impl<'a> Pkt4<'a> {
    #[inline]
    pub(crate) fn new(pkt: &'a ffi::Pkt4) -> Self {
        Pkt4 { pkt }
    }

    /// The Kea object, for the SDK's own writes.
    #[inline]
    pub(crate) fn raw(&self) -> &'a ffi::Pkt4 {
        self.pkt
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

    /// The link-layer address of the interface the packet came in on (or
    /// goes out of), as Kea's packet filter recorded it (`ff:ff:..` for a
    /// broadcast query); `None` when Kea has none (a packet from a UDP
    /// socket filter, or one a hook built).
    #[inline]
    pub fn local_hwaddr(&self) -> Option<HwAddr<'a>> {
        let (mut htype, mut present) = (0, false);
        let bytes = ffi::pkt4_local_hwaddr(self.pkt, &mut htype, &mut present);
        present.then(|| HwAddr::new(htype, bytes))
    }

    /// The link-layer source address of the frame that carried the packet
    /// (the client's, or the relay's for a relayed one); `None` when Kea
    /// has none.
    #[inline]
    pub fn remote_hwaddr(&self) -> Option<HwAddr<'a>> {
        let (mut htype, mut present) = (0, false);
        let bytes = ffi::pkt4_remote_hwaddr(self.pkt, &mut htype, &mut present);
        present.then(|| HwAddr::new(htype, bytes))
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
    /// in wire form), or `None` if the packet has no such option. See
    /// [`OptionData`] for the typed readers.
    pub fn option(&self, code: u8) -> Result<Option<OptionData>, Error> {
        let packed = ffi::pkt4_option(self.pkt, u16::from(code))?;
        Ok((!packed.is_null()).then(|| OptionData::packed(packed)))
    }

    fn check_option(code: u8, data: &[u8]) -> Result<(), Error> {
        if code == 0 || code == 255 {
            return Err(invalid(format_args!(
                "option code {code} is reserved (pad/end)"
            )));
        }
        if data.len() > MAX_OPTION_LEN {
            return Err(invalid(format_args!(
                "option {code}: {} bytes, at most {MAX_OPTION_LEN}",
                data.len()
            )));
        }
        Ok(())
    }

    /// Adds option `code` with payload `data`; fails (changing nothing)
    /// when the packet has one already (DHCPv4 options are unique: use
    /// [`set_option`](Self::set_option) to replace), for codes 0 and 255,
    /// and for more than 255 bytes.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # use kea_hooks::dhcp4::OptionData;
    /// # fn f(cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
    /// let response = cx.response()?;
    /// response.add_option(252, OptionData::from_text("http://198.18.0.1/wpad.dat"))?;
    /// # Ok(()) }
    /// ```
    pub fn add_option(&self, code: u8, data: impl AsRef<[u8]>) -> Result<(), Error> {
        let data = data.as_ref();
        Self::check_option(code, data)?;
        if self.has_option(code) {
            return Err(invalid(format_args!(
                "option {code} is already in the packet (use set_option to replace it)"
            )));
        }
        Ok(ffi::pkt4_add_option(self.pkt, u16::from(code), data, false)?)
    }

    /// Sets option `code` to payload `data`, replacing any the packet has.
    /// Fails (changing nothing) for codes 0 and 255 and for more than 255
    /// bytes.
    pub fn set_option(&self, code: u8, data: impl AsRef<[u8]>) -> Result<(), Error> {
        let data = data.as_ref();
        Self::check_option(code, data)?;
        Ok(ffi::pkt4_add_option(self.pkt, u16::from(code), data, true)?)
    }

    /// Removes option `code`; returns whether the packet had it.
    pub fn remove_option(&self, code: u8) -> Result<bool, Error> {
        Ok(ffi::pkt4_remove_option(self.pkt, u16::from(code))? > 0)
    }

    /// Sets `siaddr` (the next server, e.g. for network boot).
    #[inline]
    pub fn set_siaddr(&self, addr: Ipv4Addr) {
        ffi::pkt4_set_siaddr(self.pkt, u32::from(addr))
    }

    /// `sname` (the server host name field) up to its first NUL.
    pub fn sname(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        ffi::pkt4_sname(self.pkt, &mut out)?;
        Ok(out)
    }

    /// Sets `sname` (at most 64 bytes; the rest of the field is zeroed;
    /// empty clears it).
    pub fn set_sname(&self, value: impl AsRef<[u8]>) -> Result<(), Error> {
        let value = value.as_ref();
        if value.len() > 64 {
            return Err(invalid(format_args!(
                "sname: {} bytes, at most 64",
                value.len()
            )));
        }
        Ok(ffi::pkt4_set_sname(self.pkt, value)?)
    }

    /// `file` (the boot file name field) up to its first NUL.
    pub fn file(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        ffi::pkt4_file(self.pkt, &mut out)?;
        Ok(out)
    }

    /// Sets `file` (at most 128 bytes; the rest of the field is zeroed;
    /// empty clears it).
    pub fn set_file(&self, value: impl AsRef<[u8]>) -> Result<(), Error> {
        let value = value.as_ref();
        if value.len() > 128 {
            return Err(invalid(format_args!(
                "file: {} bytes, at most 128",
                value.len()
            )));
        }
        Ok(ffi::pkt4_set_file(self.pkt, value)?)
    }

    /// Whether the packet belongs to client class `name`.
    pub fn in_class(&self, name: &str) -> Result<bool, Error> {
        Ok(ffi::pkt4_in_class(self.pkt, name)?)
    }

    /// The client classes the packet belongs to, in the order it joined
    /// them (built-in ones such as `ALL` and `KNOWN` included).
    pub fn classes(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::pkt4_classes(self.pkt, false)?)
    }

    /// Puts the packet in client class `name`. At `pkt4_receive` (after
    /// Kea's own classification) this decides what follows: subnet and
    /// pool selection guarded by `client-class`, and the class's
    /// `option-data` in the response.
    pub fn add_class(&self, name: &str) -> Result<(), Error> {
        Ok(ffi::pkt4_add_class(self.pkt, name, false)?)
    }

    /// **Kea before 3.0.**
    /// The classes to evaluate after subnet selection (Kea 2.x
    /// "required" classes, `require-client-classes`).
    #[cfg(any(not(kea_3_0), kea_docs))]
    #[cfg_attr(docsrs, doc(cfg(not(kea_3_0))))]
    pub fn required_classes(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::pkt4_classes(self.pkt, true)?)
    }

    /// **Kea before 3.0.**
    /// Marks class `name` for evaluation after subnet selection (Kea 2.x
    /// "required" classes).
    #[cfg(any(not(kea_3_0), kea_docs))]
    #[cfg_attr(docsrs, doc(cfg(not(kea_3_0))))]
    pub fn add_required_class(&self, name: &str) -> Result<(), Error> {
        Ok(ffi::pkt4_add_class(self.pkt, name, true)?)
    }

    /// **Kea 3.0+.**
    /// The classes to evaluate after subnet selection (Kea 3.0+
    /// "additional" classes, `evaluate-additional-classes`).
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    pub fn additional_classes(&self) -> Result<Vec<String>, Error> {
        Ok(ffi::pkt4_classes(self.pkt, true)?)
    }

    /// **Kea 3.0+.**
    /// Marks class `name` for evaluation after subnet selection (Kea 3.0+
    /// "additional" classes).
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    pub fn add_additional_class(&self, name: &str) -> Result<(), Error> {
        Ok(ffi::pkt4_add_class(self.pkt, name, true)?)
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
