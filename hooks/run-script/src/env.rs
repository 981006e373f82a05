//! The variables a script gets, written the way ISC's run_script writes
//! them, for any address family: the family modules ([`crate::env4`],
//! [`crate::env6`]) only say which object goes under which name.
//!
//! Formats: integers in decimal; booleans `true`/`false`; hardware
//! addresses and client identifiers as lowercase colon-separated hex;
//! options as `0x` and uppercase hex of their payload (nothing for an
//! empty one); a missing object still gives every one of its names, with
//! an empty value.

use std::fmt::Write as _;

use kea_hooks::hwaddr::{write_hex, HwAddr};

/// The variables of one event, in the order ISC's hook exports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(pub Vec<(String, String)>);

impl Vars {
    /// No variables yet.
    pub fn new() -> Vars {
        Vars(Vec::with_capacity(48))
    }

    /// `name=value`.
    pub fn string(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// `name=<decimal>`.
    pub fn integer(&mut self, name: impl Into<String>, value: u64) {
        self.string(name, value.to_string());
    }

    /// `name=true` or `name=false`.
    pub fn boolean(&mut self, name: impl Into<String>, value: bool) {
        self.string(name, if value { "true" } else { "false" });
    }

    /// `name=` (a field of a missing object).
    pub fn empty(&mut self, name: impl Into<String>) {
        self.string(name, String::new());
    }

    /// `name` and `name_TYPE`: the address as colon hex and its hardware
    /// type, or both empty.
    pub fn hwaddr(&mut self, name: &str, hw: Option<HwAddr<'_>>) {
        match hw {
            Some(hw) => {
                self.string(name, hw.to_string());
                self.integer(format!("{name}_TYPE"), u64::from(hw.htype()));
            }
            None => {
                self.empty(name);
                self.empty(format!("{name}_TYPE"));
            }
        }
    }

    /// `name`: bytes (a client identifier, a DUID) as colon hex, or empty.
    pub fn id(&mut self, name: impl Into<String>, id: Option<&[u8]>) {
        self.string(name, id.map(colon_hex).unwrap_or_default());
    }

    /// `prefix_OPTION_<code>=0x...` when the option is there.
    pub fn option(&mut self, prefix: &str, code: u16, payload: Option<&[u8]>) {
        if let Some(payload) = payload {
            self.string(format!("{prefix}_OPTION_{code}"), option_hex(payload));
        }
    }

    /// The value of `name`, if set (for tests and the stream encoder).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Lowercase colon-separated hex.
pub fn colon_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    let _ = write_hex(&mut s, bytes, ":");
    s
}

/// `0x` and uppercase hex, or nothing for no bytes (Kea's `toHexString`).
pub fn option_hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let mut v = Vars::new();
        v.hwaddr("QUERY4_HWADDR", Some(HwAddr::new(1, &[0x0a, 0xbc, 0, 1, 2, 3])));
        v.hwaddr("QUERY4_LOCAL_HWADDR", None);
        v.id("LEASE4_CLIENT_ID", Some(&[1, 0xff]));
        v.id("PKT4_CLIENT_ID", None);
        v.option("QUERY4", 82, Some(&[1, 2, 0xab, 0xcd]));
        v.option("QUERY4_OPTION_82_SUB", 1, Some(&[]));
        v.option("QUERY4_OPTION_82_SUB", 2, None);
        v.boolean("REMOVE_LEASE", true);
        v.integer("LEASE4_CLTT", 1_700_000_000);
        let text: Vec<String> = v.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text,
            [
                "QUERY4_HWADDR=0a:bc:00:01:02:03",
                "QUERY4_HWADDR_TYPE=1",
                "QUERY4_LOCAL_HWADDR=",
                "QUERY4_LOCAL_HWADDR_TYPE=",
                "LEASE4_CLIENT_ID=01:ff",
                "PKT4_CLIENT_ID=",
                "QUERY4_OPTION_82=0x0102ABCD",
                "QUERY4_OPTION_82_SUB_OPTION_1=",
                "REMOVE_LEASE=true",
                "LEASE4_CLTT=1700000000",
            ]
        );
    }
}
