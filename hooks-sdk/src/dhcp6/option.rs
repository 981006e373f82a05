//! DHCPv6 option payloads: the options nested in other options (IA_NA
//! with its IAADDRs, IA_PD with its IAPREFIXes, status codes, vendor
//! options), decoded from the [`OptionData`] a [`Pkt6`](super::Pkt6)
//! returns and encoded for [`Pkt6::add_option`](super::Pkt6::add_option).
//!
//! DHCPv6 options have 16-bit codes and lengths (RFC 8415 section 21); an
//! option's payload may hold further options in the same form. Readers
//! check every length and fail with an [`ErrorKind::Malformed`] error
//! instead of panicking: a client can send anything.
//!
//! ```
//! use kea_hooks::dhcp6::{code, Ia, IaAddress};
//! use kea_hooks::option::OptionData;
//! use std::net::Ipv6Addr;
//!
//! let addr: Ipv6Addr = "2001:2::100".parse().unwrap();
//! let ia = Ia { iaid: 7, t1: 1000, t2: 2000, options: vec![
//!     (code::IAADDR, IaAddress { address: addr, preferred: 3000, valid: 3600, options: vec![] }.to_bytes()),
//! ]};
//! let payload = OptionData::from(ia.to_bytes());
//! let back = payload.as_ia().unwrap();
//! assert_eq!(back.iaid, 7);
//! assert_eq!(back.addresses().unwrap()[0].address, addr);
//! assert!(OptionData::from(vec![0, 1]).as_ia().is_err());
//! ```

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::{Error, ErrorKind};
use crate::option::OptionData;

/// The most a DHCPv6 option's payload can hold: its length is 16 bits.
pub const MAX_OPTION6_LEN: usize = 65535;

/// DHCPv6 option codes the SDK's views name (RFC 8415 and others).
pub mod code {
    /// OPTION_CLIENTID: the client's DUID.
    pub const CLIENTID: u16 = 1;
    /// OPTION_SERVERID: the server's DUID.
    pub const SERVERID: u16 = 2;
    /// OPTION_IA_NA: an identity association for addresses.
    pub const IA_NA: u16 = 3;
    /// OPTION_IA_TA: a temporary-address association.
    pub const IA_TA: u16 = 4;
    /// OPTION_IAADDR: an address inside an IA_NA or IA_TA.
    pub const IAADDR: u16 = 5;
    /// OPTION_ORO: the options the client asks for.
    pub const ORO: u16 = 6;
    /// OPTION_PREFERENCE.
    pub const PREFERENCE: u16 = 7;
    /// OPTION_ELAPSED_TIME.
    pub const ELAPSED_TIME: u16 = 8;
    /// OPTION_RELAY_MSG (Kea strips it when it unpacks a relayed query).
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
    /// OPTION_INTERFACE_ID (a relay option).
    pub const INTERFACE_ID: u16 = 18;
    /// OPTION_DNS_SERVERS.
    pub const DNS_SERVERS: u16 = 23;
    /// OPTION_DOMAIN_LIST.
    pub const DOMAIN_LIST: u16 = 24;
    /// OPTION_IA_PD: an identity association for prefix delegation.
    pub const IA_PD: u16 = 25;
    /// OPTION_IAPREFIX: a prefix inside an IA_PD.
    pub const IAPREFIX: u16 = 26;
    /// OPTION_CLIENT_FQDN.
    pub const CLIENT_FQDN: u16 = 39;
    /// OPTION_REMOTE_ID (a relay option, RFC 4649).
    pub const REMOTE_ID: u16 = 37;
    /// OPTION_SUBSCRIBER_ID (a relay option, RFC 4580).
    pub const SUBSCRIBER_ID: u16 = 38;
    /// OPTION_CLIENT_LINKLAYER_ADDR (a relay option, RFC 6939).
    pub const CLIENT_LINKLAYER_ADDR: u16 = 79;
}

#[cold]
fn malformed(what: impl fmt::Display) -> Error {
    Error::new(ErrorKind::Malformed, what.to_string())
}

/// DHCPv6 options (code, payload) borrowed from a payload, in order.
pub type Options6<'d> = Vec<(u16, &'d [u8])>;

/// Splits `data` into DHCPv6 options (code, payload), in order.
pub fn parse_options6(data: &[u8]) -> Result<Options6<'_>, Error> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(malformed(format_args!("a DHCPv6 option header needs 4 bytes, {} left", rest.len())));
        }
        let code = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if rest.len() - 4 < len {
            return Err(malformed(format_args!("option {code}: {len} bytes announced, {} there", rest.len() - 4)));
        }
        out.push((code, &rest[4..4 + len]));
        rest = &rest[4 + len..];
    }
    Ok(out)
}

/// Encodes options (code, payload) in DHCPv6 form; fails for a payload
/// over 65535 bytes.
pub fn encode_options6<D: AsRef<[u8]>>(options: &[(u16, D)]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for (code, data) in options {
        let data = data.as_ref();
        let len = u16::try_from(data.len())
            .map_err(|_| Error::new(ErrorKind::Invalid, format!("option {code}: {} bytes, at most {MAX_OPTION6_LEN}", data.len())))?;
        out.extend_from_slice(&code.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(data);
    }
    Ok(out)
}

fn owned(options: Options6<'_>) -> Vec<(u16, Vec<u8>)> {
    options.into_iter().map(|(c, d)| (c, d.to_vec())).collect()
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

fn addr_at(d: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&d[at..at + 16]);
    Ipv6Addr::from(o)
}

/// An identity association (IA_NA, option 3, or IA_PD, option 25: both
/// have the same form), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ia {
    /// The IAID the client chose.
    pub iaid: u32,
    /// T1: when the client should renew, in seconds.
    pub t1: u32,
    /// T2: when the client should rebind, in seconds.
    pub t2: u32,
    /// The IA's options (code, payload), in order: IAADDR, IAPREFIX,
    /// STATUS_CODE, ...
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Ia {
    /// Decodes an IA_NA or IA_PD payload.
    pub fn parse(data: &[u8]) -> Result<Ia, Error> {
        if data.len() < 12 {
            return Err(malformed(format_args!("an IA needs 12 bytes, has {}", data.len())));
        }
        Ok(Ia { iaid: u32_at(data, 0), t1: u32_at(data, 4), t2: u32_at(data, 8), options: owned(parse_options6(&data[12..])?) })
    }

    /// The payload, as on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12);
        out.extend_from_slice(&self.iaid.to_be_bytes());
        out.extend_from_slice(&self.t1.to_be_bytes());
        out.extend_from_slice(&self.t2.to_be_bytes());
        // An option of an IA is at most 65535 bytes by construction of
        // the types below; a longer one written by hand is cut here.
        for (code, data) in &self.options {
            let len = data.len().min(MAX_OPTION6_LEN);
            out.extend_from_slice(&code.to_be_bytes());
            out.extend_from_slice(&(len as u16).to_be_bytes());
            out.extend_from_slice(&data[..len]);
        }
        out
    }

    /// The IA's addresses (its IAADDR options).
    pub fn addresses(&self) -> Result<Vec<IaAddress>, Error> {
        self.options.iter().filter(|(c, _)| *c == code::IAADDR).map(|(_, d)| IaAddress::parse(d)).collect()
    }

    /// The IA's prefixes (its IAPREFIX options).
    pub fn prefixes(&self) -> Result<Vec<IaPrefix>, Error> {
        self.options.iter().filter(|(c, _)| *c == code::IAPREFIX).map(|(_, d)| IaPrefix::parse(d)).collect()
    }

    /// The IA's status code, if it has one.
    pub fn status(&self) -> Result<Option<StatusCode>, Error> {
        self.options.iter().find(|(c, _)| *c == code::STATUS_CODE).map(|(_, d)| StatusCode::parse(d)).transpose()
    }
}

/// An address of an IA (IAADDR, option 5), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaAddress {
    /// The address.
    pub address: Ipv6Addr,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// Its options (a status code, ...).
    pub options: Vec<(u16, Vec<u8>)>,
}

impl IaAddress {
    /// Decodes an IAADDR payload.
    pub fn parse(data: &[u8]) -> Result<IaAddress, Error> {
        if data.len() < 24 {
            return Err(malformed(format_args!("an IAADDR needs 24 bytes, has {}", data.len())));
        }
        Ok(IaAddress {
            address: addr_at(data, 0),
            preferred: u32_at(data, 16),
            valid: u32_at(data, 20),
            options: owned(parse_options6(&data[24..])?),
        })
    }

    /// The payload, as on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.address.octets().to_vec();
        out.extend_from_slice(&self.preferred.to_be_bytes());
        out.extend_from_slice(&self.valid.to_be_bytes());
        out.extend(encode_options6(&self.options).unwrap_or_default());
        out
    }
}

/// A prefix of an IA_PD (IAPREFIX, option 26), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaPrefix {
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// The prefix length.
    pub prefix_len: u8,
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Its options (a status code, ...).
    pub options: Vec<(u16, Vec<u8>)>,
}

impl IaPrefix {
    /// Decodes an IAPREFIX payload.
    pub fn parse(data: &[u8]) -> Result<IaPrefix, Error> {
        if data.len() < 25 {
            return Err(malformed(format_args!("an IAPREFIX needs 25 bytes, has {}", data.len())));
        }
        Ok(IaPrefix {
            preferred: u32_at(data, 0),
            valid: u32_at(data, 4),
            prefix_len: data[8],
            prefix: addr_at(data, 9),
            options: owned(parse_options6(&data[25..])?),
        })
    }

    /// The payload, as on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(25);
        out.extend_from_slice(&self.preferred.to_be_bytes());
        out.extend_from_slice(&self.valid.to_be_bytes());
        out.push(self.prefix_len);
        out.extend_from_slice(&self.prefix.octets());
        out.extend(encode_options6(&self.options).unwrap_or_default());
        out
    }
}

/// A status code (option 13): the code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCode {
    /// 0 Success, 1 UnspecFail, 2 NoAddrsAvail, 3 NoBinding, 4 NotOnLink,
    /// 5 UseMulticast, 6 NoPrefixAvail, ...
    pub code: u16,
    /// The message (lossily decoded if not UTF-8).
    pub message: String,
}

impl StatusCode {
    /// Decodes a status code payload.
    pub fn parse(data: &[u8]) -> Result<StatusCode, Error> {
        if data.len() < 2 {
            return Err(malformed(format_args!("a status code needs 2 bytes, has {}", data.len())));
        }
        Ok(StatusCode { code: u16::from_be_bytes([data[0], data[1]]), message: String::from_utf8_lossy(&data[2..]).into_owned() })
    }
}

/// The DHCPv6 readers and builders of an option's payload.
impl OptionData {
    /// The options nested in this one's payload (code, payload), in
    /// order (for example the sub-options of a vendor-specific option
    /// after its enterprise number: use [`vendor6`](Self::vendor6)).
    pub fn options6(&self) -> Result<Options6<'_>, Error> {
        parse_options6(self.bytes())
    }

    /// The payload as an IA_NA or IA_PD.
    pub fn as_ia(&self) -> Result<Ia, Error> {
        Ia::parse(self.bytes())
    }

    /// The payload as a list of IPv6 addresses (DNS servers, ...).
    pub fn as_ipv6_list(&self) -> Result<Vec<Ipv6Addr>, Error> {
        let b = self.bytes();
        if b.len() % 16 != 0 {
            return Err(malformed(format_args!("{} bytes is not a list of IPv6 addresses", b.len())));
        }
        Ok(b.chunks_exact(16).map(|c| addr_at(c, 0)).collect())
    }

    /// The payload as a list of 16-bit codes (the ORO, option 6).
    pub fn as_u16_list(&self) -> Result<Vec<u16>, Error> {
        let b = self.bytes();
        if b.len() % 2 != 0 {
            return Err(malformed(format_args!("{} bytes is not a list of 16-bit values", b.len())));
        }
        Ok(b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect())
    }

    /// The payload as a status code (option 13).
    pub fn as_status_code(&self) -> Result<StatusCode, Error> {
        StatusCode::parse(self.bytes())
    }

    /// A vendor-specific option (17): its enterprise number and its
    /// options.
    pub fn vendor6(&self) -> Result<(u32, Options6<'_>), Error> {
        let b = self.bytes();
        if b.len() < 4 {
            return Err(malformed(format_args!("a vendor option needs 4 bytes, has {}", b.len())));
        }
        Ok((u32_at(b, 0), parse_options6(&b[4..])?))
    }

    /// A remote-id (option 37): the relay's enterprise number and the id.
    pub fn remote_id(&self) -> Result<(u32, &[u8]), Error> {
        let b = self.bytes();
        if b.len() < 4 {
            return Err(malformed(format_args!("a remote-id needs 4 bytes, has {}", b.len())));
        }
        Ok((u32_at(b, 0), &b[4..]))
    }

    /// A payload of IPv6 addresses.
    pub fn from_ipv6_list(addrs: &[Ipv6Addr]) -> OptionData {
        OptionData::from(addrs.iter().flat_map(|a| a.octets()).collect::<Vec<u8>>())
    }

    /// A payload made of DHCPv6 options (code, payload), for an option
    /// that encapsulates others; fails for one over 65535 bytes.
    pub fn from_options6<D: AsRef<[u8]>>(options: &[(u16, D)]) -> Result<OptionData, Error> {
        Ok(OptionData::from(encode_options6(options)?))
    }

    /// A vendor-specific option (17): enterprise number and options.
    pub fn from_vendor6<D: AsRef<[u8]>>(enterprise: u32, options: &[(u16, D)]) -> Result<OptionData, Error> {
        let mut out = enterprise.to_be_bytes().to_vec();
        out.extend(encode_options6(options)?);
        Ok(OptionData::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ia_pd_with_a_prefix_and_a_status_code_round_trips() {
        let prefix = IaPrefix { preferred: 1, valid: 2, prefix_len: 56, prefix: "2001:2:0:100::".parse().unwrap(), options: vec![] };
        let status = [0u8, 6, b'n', b'o'];
        let ia = Ia { iaid: 9, t1: 3, t2: 4, options: vec![(code::IAPREFIX, prefix.to_bytes()), (code::STATUS_CODE, status.to_vec())] };
        let back = Ia::parse(&ia.to_bytes()).unwrap();
        assert_eq!(back, ia);
        assert_eq!(back.prefixes().unwrap(), vec![prefix]);
        assert_eq!(back.status().unwrap(), Some(StatusCode { code: 6, message: "no".into() }));
    }

    #[test]
    fn truncated_options_are_malformed_not_panics() {
        for bad in [&[0u8][..], &[0, 1, 0, 5, 1], &[0, 3, 0, 2, 0, 0, 0]] {
            let err = parse_options6(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{bad:?}");
        }
        assert!(IaPrefix::parse(&[0; 24]).is_err());
        assert!(OptionData::from(vec![1, 2, 3]).as_ipv6_list().is_err());
    }
}
