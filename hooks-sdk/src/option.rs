//! Option payloads, for both families: decoding what a client sent,
//! encoding what Kea sends.
//!
//! [`Pkt4::option`](crate::dhcp4::Pkt4::option) and
//! [`Pkt6::option`](crate::dhcp6::Pkt6::option) return an [`OptionData`],
//! the payload as it travels (without code and length; sub-options in wire
//! form). Its typed readers check the length and the form, and fail with
//! an [`ErrorKind::Malformed`] error instead of panicking: a client can
//! send anything. The constructors build payloads for
//! [`Pkt4::add_option`](crate::dhcp4::Pkt4::add_option) and
//! [`Pkt4::set_option`](crate::dhcp4::Pkt4::set_option), including
//! options with sub-options (option 82, vendor options 43 and 125). The
//! DHCPv6 readers and builders (nested options with 16-bit codes, IAs,
//! IPv6 addresses) are in [`crate::dhcp6::option`].
//!
//! ```
//! use kea_hooks::dhcp4::OptionData;
//! use std::net::Ipv4Addr;
//!
//! // Option 82 as a relay sends it: circuit id (1) and remote id (2).
//! let rai = OptionData::from_sub_options(&[(1, b"eth0/1".as_slice()), (2, b"olt-7")]).unwrap();
//! assert_eq!(rai.sub_options().unwrap().get(1), Some(b"eth0/1".as_slice()));
//!
//! // Option 125: vendor 4491 with sub-option 2.
//! let v = OptionData::vendor_identifying(&[(4491, &[(2, b"x".as_slice())])]).unwrap();
//! let vendors = v.vendors().unwrap();
//! assert_eq!(vendors[0].enterprise_id, 4491);
//!
//! let dns = OptionData::from_ipv4_list(&[Ipv4Addr::new(198, 18, 0, 53)]);
//! assert_eq!(dns.as_ipv4_list().unwrap(), vec![Ipv4Addr::new(198, 18, 0, 53)]);
//! assert!(OptionData::from(vec![1, 2, 3]).as_u32().is_err());
//! ```

use std::fmt;
use std::net::Ipv4Addr;

use crate::error::{Error, ErrorKind};

/// The most an option's payload can hold: its length is one byte.
pub const MAX_OPTION_LEN: usize = 255;

/// An option's payload (without code and length), owned.
///
/// Read from a packet, it holds the bytes Kea packed for it (no second
/// copy); built by a hook, a `Vec<u8>`.
pub struct OptionData(Repr);

enum Repr {
    Owned(Vec<u8>),
    Packed(cxx::UniquePtr<cxx::CxxVector<u8>>),
}

#[cold]
fn malformed(what: impl fmt::Display) -> Error {
    Error::new(ErrorKind::Malformed, what.to_string())
}

#[cold]
pub(crate) fn invalid(what: impl fmt::Display) -> Error {
    Error::new(ErrorKind::Invalid, what.to_string())
}

/// Sub-options as [`OptionData::vendor_identifying`] takes them: code and
/// data each.
pub type SubOptionList<'a> = &'a [(u8, &'a [u8])];

impl OptionData {
    /// The payload's bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Packed(v) => v.as_ref().map_or(&[], |v| v.as_slice()),
        }
    }

    /// The payload's bytes, owned.
    #[inline]
    pub fn into_bytes(self) -> Vec<u8> {
        match self.0 {
            Repr::Owned(v) => v,
            Repr::Packed(_) => self.bytes().to_vec(),
        }
    }

    /// Kea's packed form of a packet's option, kept as it is.
    #[inline]
    pub(crate) fn packed(v: cxx::UniquePtr<cxx::CxxVector<u8>>) -> Self {
        OptionData(Repr::Packed(v))
    }

    #[inline]
    fn owned(v: Vec<u8>) -> Self {
        OptionData(Repr::Owned(v))
    }

    /// The payload's length.
    #[inline]
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether the payload is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    fn fixed<const N: usize>(&self, what: &str) -> Result<[u8; N], Error> {
        <[u8; N]>::try_from(self.bytes()).map_err(|_| {
            malformed(format_args!(
                "{what} option: {} bytes, expected {N}",
                self.bytes().len()
            ))
        })
    }

    /// The payload as one byte (e.g. option 53, the message type).
    pub fn as_u8(&self) -> Result<u8, Error> {
        Ok(self.fixed::<1>("u8")?[0])
    }

    /// The payload as a big-endian u16 (e.g. option 57, maximum message size).
    pub fn as_u16(&self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.fixed("u16")?))
    }

    /// The payload as a big-endian u32 (e.g. option 51, the lease time).
    pub fn as_u32(&self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.fixed("u32")?))
    }

    /// The payload as one IPv4 address (e.g. option 50, 54).
    pub fn as_ipv4(&self) -> Result<Ipv4Addr, Error> {
        Ok(Ipv4Addr::from(self.fixed::<4>("IPv4 address")?))
    }

    /// The payload as a list of IPv4 addresses (e.g. options 3, 6):
    /// at least one, and a multiple of four bytes.
    pub fn as_ipv4_list(&self) -> Result<Vec<Ipv4Addr>, Error> {
        let b = self.bytes();
        if b.is_empty() || b.len() % 4 != 0 {
            return Err(malformed(format_args!(
                "IPv4 address list option: {} bytes, expected a non-zero multiple of 4",
                b.len()
            )));
        }
        Ok(b
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect())
    }

    /// The payload as text (e.g. options 12, 15, 60), without the trailing
    /// NULs some clients add; fails unless it is UTF-8.
    pub fn as_str(&self) -> Result<&str, Error> {
        let b = self.bytes();
        let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
        std::str::from_utf8(&b[..end])
            .map_err(|e| malformed(format_args!("string option: {e}")))
    }

    /// The payload as sub-options (`code, length, data` triples, as in
    /// option 82 and option 43): fails if the last one runs past the end.
    /// Pad (0) bytes between sub-options are skipped, and an end (255)
    /// byte ends the list, as RFC 2132 allows in option 43.
    pub fn sub_options(&self) -> Result<SubOptions<'_>, Error> {
        SubOptions::parse(self.bytes())
    }

    /// The payload of option 125 (V-I vendor-specific information, RFC
    /// 3925): one entry per enterprise number, each with its sub-options.
    pub fn vendors(&self) -> Result<Vec<VendorOptions<'_>>, Error> {
        let mut out = Vec::new();
        let mut rest = self.bytes();
        while !rest.is_empty() {
            if rest.len() < 5 {
                return Err(malformed(format_args!(
                    "vendor option: {} bytes left, need 5 for a header",
                    rest.len()
                )));
            }
            let enterprise_id = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let len = usize::from(rest[4]);
            let body = rest.get(5..5 + len).ok_or_else(|| {
                malformed(format_args!(
                    "vendor option: enterprise {enterprise_id} says {len} bytes, {} left",
                    rest.len() - 5
                ))
            })?;
            out.push(VendorOptions {
                enterprise_id,
                options: SubOptions::parse(body)?,
            });
            rest = &rest[5 + len..];
        }
        Ok(out)
    }

    /// One byte.
    pub fn from_u8(value: u8) -> Self {
        OptionData::owned(vec![value])
    }

    /// A big-endian u16.
    pub fn from_u16(value: u16) -> Self {
        OptionData::owned(value.to_be_bytes().to_vec())
    }

    /// A big-endian u32.
    pub fn from_u32(value: u32) -> Self {
        OptionData::owned(value.to_be_bytes().to_vec())
    }

    /// One IPv4 address.
    pub fn from_ipv4(addr: Ipv4Addr) -> Self {
        OptionData::owned(addr.octets().to_vec())
    }

    /// A list of IPv4 addresses.
    pub fn from_ipv4_list(addrs: &[Ipv4Addr]) -> Self {
        OptionData::owned(addrs.iter().flat_map(|a| a.octets()).collect())
    }

    /// Text, as is (no NUL added).
    pub fn from_text(text: &str) -> Self {
        OptionData::owned(text.as_bytes().to_vec())
    }

    /// Sub-options in order (`code, length, data` each); fails for code 0
    /// or 255 or data longer than 255 bytes.
    pub fn from_sub_options(subs: &[(u8, &[u8])]) -> Result<Self, Error> {
        let mut out = Vec::new();
        encode_subs(&mut out, subs)?;
        Ok(OptionData::owned(out))
    }

    /// An option 125 payload: per enterprise number, its sub-options
    /// (code and data each).
    pub fn vendor_identifying(vendors: &[(u32, SubOptionList<'_>)]) -> Result<Self, Error> {
        let mut out = Vec::new();
        for (enterprise_id, subs) in vendors {
            let mut body = Vec::new();
            encode_subs(&mut body, subs)?;
            let len = u8::try_from(body.len()).map_err(|_| {
                invalid(format_args!(
                    "vendor {enterprise_id}: {} bytes of sub-options, at most 255",
                    body.len()
                ))
            })?;
            out.extend_from_slice(&enterprise_id.to_be_bytes());
            out.push(len);
            out.extend_from_slice(&body);
        }
        Ok(OptionData::owned(out))
    }
}

fn encode_subs(out: &mut Vec<u8>, subs: &[(u8, &[u8])]) -> Result<(), Error> {
    for (code, data) in subs {
        if *code == 0 || *code == 255 {
            return Err(invalid(format_args!(
                "sub-option code {code} is reserved (pad/end)"
            )));
        }
        let len = u8::try_from(data.len()).map_err(|_| {
            invalid(format_args!(
                "sub-option {code}: {} bytes, at most 255",
                data.len()
            ))
        })?;
        out.push(*code);
        out.push(len);
        out.extend_from_slice(data);
    }
    Ok(())
}

impl From<Vec<u8>> for OptionData {
    fn from(bytes: Vec<u8>) -> Self {
        OptionData::owned(bytes)
    }
}

impl From<&[u8]> for OptionData {
    fn from(bytes: &[u8]) -> Self {
        OptionData::owned(bytes.to_vec())
    }
}

impl AsRef<[u8]> for OptionData {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl Clone for OptionData {
    fn clone(&self) -> Self {
        OptionData::owned(self.bytes().to_vec())
    }
}

impl PartialEq for OptionData {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for OptionData {}

impl std::hash::Hash for OptionData {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes().hash(state)
    }
}

impl Default for OptionData {
    fn default() -> Self {
        OptionData::owned(Vec::new())
    }
}

impl fmt::Debug for OptionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OptionData(")?;
        for (i, b) in self.bytes().iter().enumerate() {
            write!(f, "{}{b:02x}", if i == 0 { "" } else { ":" })?;
        }
        write!(f, ")")
    }
}

/// Sub-options, checked to be well formed, borrowed from their option.
#[derive(Clone, Copy, Debug)]
pub struct SubOptions<'d> {
    data: &'d [u8],
}

/// One sub-option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubOption<'d> {
    /// The sub-option's code.
    pub code: u8,
    /// Its data.
    pub data: &'d [u8],
}

impl<'d> SubOptions<'d> {
    fn parse(data: &'d [u8]) -> Result<Self, Error> {
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                0 => i += 1,
                255 => return Ok(SubOptions { data: &data[..i] }),
                code => {
                    let len = *data.get(i + 1).ok_or_else(|| {
                        malformed(format_args!("sub-option {code} at byte {i}: no length"))
                    })?;
                    let end = i + 2 + usize::from(len);
                    if end > data.len() {
                        return Err(malformed(format_args!(
                            "sub-option {code} at byte {i} says {len} bytes, {} left",
                            data.len() - i - 2
                        )));
                    }
                    i = end;
                }
            }
        }
        Ok(SubOptions { data })
    }

    /// The sub-options in order.
    pub fn iter(&self) -> SubOptionsIter<'d> {
        SubOptionsIter { rest: self.data }
    }

    /// The data of the first sub-option `code`.
    pub fn get(&self, code: u8) -> Option<&'d [u8]> {
        self.iter().find(|s| s.code == code).map(|s| s.data)
    }
}

impl<'d> IntoIterator for SubOptions<'d> {
    type Item = SubOption<'d>;
    type IntoIter = SubOptionsIter<'d>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over [`SubOptions`].
#[derive(Clone, Debug)]
pub struct SubOptionsIter<'d> {
    rest: &'d [u8],
}

impl<'d> Iterator for SubOptionsIter<'d> {
    type Item = SubOption<'d>;
    fn next(&mut self) -> Option<SubOption<'d>> {
        loop {
            match self.rest {
                [] => return None,
                [0, rest @ ..] => self.rest = rest,
                // Checked in `parse`: the length is there and fits.
                [code, len, rest @ ..] => {
                    let (data, rest) = rest.split_at(usize::from(*len).min(rest.len()));
                    self.rest = rest;
                    return Some(SubOption { code: *code, data });
                }
                [_] => return None,
            }
        }
    }
}

/// One enterprise's entry in option 125.
#[derive(Clone, Copy, Debug)]
pub struct VendorOptions<'d> {
    /// The IANA enterprise number (e.g. 4491 for CableLabs).
    pub enterprise_id: u32,
    /// Its sub-options.
    pub options: SubOptions<'d>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        for bytes in [
            vec![],
            vec![1],
            vec![1, 5, 0],
            vec![82, 1],
            vec![1, 255, 1, 2],
        ] {
            let o = OptionData::from(bytes.clone());
            let _ = o.as_u8();
            let _ = o.as_u16();
            let _ = o.as_u32();
            let _ = o.as_ipv4();
            let _ = o.as_ipv4_list();
            let _ = o.as_str();
            let _ = o.sub_options().map(|s| s.iter().count());
            let _ = o.vendors();
        }
        let e = OptionData::from(vec![1, 5, 0]).sub_options().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        assert!(
            e.to_string()
                .contains("sub-option 1 at byte 0 says 5 bytes, 1 left"),
            "{e}"
        );
        let e = OptionData::from(vec![0, 0, 0, 9, 3, 1, 1])
            .vendors()
            .unwrap_err();
        assert!(
            e.to_string().contains("enterprise 9 says 3 bytes, 2 left"),
            "{e}"
        );
    }

    #[test]
    fn sub_options_round_trip_with_pad_and_end() {
        let o = OptionData::from(vec![0, 1, 2, b'a', b'b', 0, 2, 0, 255, 9, 9]);
        let subs: Vec<_> = o.sub_options().unwrap().iter().collect();
        assert_eq!(
            subs,
            vec![
                SubOption {
                    code: 1,
                    data: b"ab"
                },
                SubOption { code: 2, data: b"" }
            ]
        );
        assert!(OptionData::from_sub_options(&[(0, b"")]).is_err());
        assert!(OptionData::from_sub_options(&[(1, &[0u8; 256])]).is_err());
    }
}
