//! Hardware (MAC) addresses.

use std::fmt;

/// Hardware type 1: Ethernet.
pub const HTYPE_ETHER: u16 = 1;

/// A hardware address borrowed from a packet or lease.
///
/// Displays as lowercase colon-separated hex (`0a:1b:2c:3d:4e:5f`), the form
/// Kea's lease files and ISC's run_script use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HwAddr<'a> {
    htype: u16,
    bytes: &'a [u8],
}

impl<'a> HwAddr<'a> {
    /// A hardware address of type `htype` (1 for Ethernet).
    pub const fn new(htype: u16, bytes: &'a [u8]) -> Self {
        HwAddr { htype, bytes }
    }

    /// The hardware type (`htype` in DHCPv4, 1 for Ethernet).
    pub const fn htype(&self) -> u16 {
        self.htype
    }

    /// The address bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// True when the address has no bytes.
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// True when the address starts with `prefix` (an OUI, for example).
    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        self.bytes.starts_with(prefix)
    }
}

impl fmt::Display for HwAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.bytes, ":")
    }
}

impl fmt::Debug for HwAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HwAddr({}, {self})", self.htype)
    }
}

/// Writes `bytes` as lowercase hex pairs joined by `sep`.
pub fn write_hex(out: &mut impl fmt::Write, bytes: &[u8], sep: &str) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.write_str(sep)?;
        }
        write!(out, "{b:02x}")?;
    }
    Ok(())
}

/// Parses hex bytes written as `0a:1b:2c`, `0a-1b-2c`, `0a1b2c` or with
/// single-digit groups (`a:1b:2c`), as people write MAC addresses and
/// prefixes in configuration.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, ParseHexError> {
    let text = text.trim();
    let err = || ParseHexError { text: text.to_owned() };
    if text.is_empty() {
        return Err(err());
    }
    let groups: Vec<&str> = if text.contains([':', '-', '.']) {
        text.split([':', '-', '.']).collect()
    } else {
        if text.len() % 2 != 0 {
            return Err(err());
        }
        (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).unwrap_or("")).collect()
    };
    groups
        .iter()
        .map(|g| {
            if g.is_empty() || g.len() > 2 {
                Err(err())
            } else {
                u8::from_str_radix(g, 16).map_err(|_| err())
            }
        })
        .collect()
}

/// Text that [`parse_hex`] could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseHexError {
    text: String,
}

impl fmt::Display for ParseHexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a hardware address or prefix: {:?} (expected hex like 0a:1b:2c)", self.text)
    }
}

impl std::error::Error for ParseHexError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse() {
        let a = HwAddr::new(1, &[0x0a, 0x1b, 0xff]);
        assert_eq!(a.to_string(), "0a:1b:ff");
        assert_eq!(parse_hex("0A:1b:ff").unwrap(), vec![0x0a, 0x1b, 0xff]);
        assert_eq!(parse_hex("0a-1b").unwrap(), vec![0x0a, 0x1b]);
        assert_eq!(parse_hex("0a1b").unwrap(), vec![0x0a, 0x1b]);
        assert_eq!(parse_hex("a:1b").unwrap(), vec![0x0a, 0x1b]);
        assert!(parse_hex("0a:1g").is_err());
        assert!(parse_hex("0a::1b").is_err());
        assert!(parse_hex("0a1").is_err());
        assert!(parse_hex("").is_err());
        assert!(a.starts_with(&[0x0a]));
    }
}
