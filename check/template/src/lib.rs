//! `lib{{lib}}.so`: a kea-dhcp4 hook library.
//!
//! It drops DISCOVERs and REQUESTs from clients whose hardware address
//! starts with one of the `deny` prefixes, and logs every lease Kea
//! offers or assigns to the others:
//!
//! ```json
//! "hooks-libraries": [{
//!     "library": "lib{{lib}}.so",
//!     "parameters": { "deny": ["02:de:ad"] }
//! }]
//! ```
//!
//! `tests/dhcp.rs` starts a real kea-dhcp4 with it (`cargo test`, as root).

// Hook code needs no unsafe: the SDK holds it all.
#![deny(unsafe_code)]

use kea_hooks::dhcp4::MessageType;
use kea_hooks::hwaddr::parse_hex;
use kea_hooks::prelude::*;
use serde::Deserialize;

/// The hook's `parameters` in Kea's configuration. A misspelt field is an
/// error (`kea-hooks-check` reports it before the configuration is deployed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Hardware-address prefixes (`02:de:ad`, `02-de-ad` or `02dead`).
    #[serde(default)]
    deny: Vec<String>,
}

/// The loaded hook.
struct {{Type}} {
    deny: Vec<Vec<u8>>,
}

impl {{Type}} {
    /// The prefixes `params` give; an error names the bad one.
    fn new(params: &Params) -> Result<Self, Error> {
        let deny = params
            .deny
            .iter()
            .enumerate()
            .map(|(i, text)| parse_hex(text).map_err(|e| Error::msg(format!("at 'deny[{i}]': {e}"))))
            .collect::<Result<_, _>>()?;
        Ok({{Type}} { deny })
    }

    /// Whether a client with hardware address `hwaddr` is denied.
    fn denies(&self, hwaddr: &[u8]) -> bool {
        self.deny.iter().any(|prefix| hwaddr.starts_with(prefix))
    }
}

impl Hook for {{Type}} {
    const NAME: &'static str = "{{hook_name}}"; // Kea's logger: kea-dhcp4.{{hook_name}}
    type Params = Params;

    /// What `kea-hooks-check` runs on the configuration's parameters.
    fn check(params: &Params) -> Result<(), Error> {
        {{Type}}::new(params).map(drop)
    }

    fn load(params: Params, _cx: &LoadContext) -> Result<Self, Error> {
        let hook = {{Type}}::new(&params)?;
        tracing::info!(prefixes = hook.deny.len(), "loaded");
        Ok(hook)
    }
}

impl Callout<dhcp4::Pkt4Receive> for {{Type}} {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
        let query = cx.query()?;
        let kind = query.message_type()?;
        if (kind == MessageType::DISCOVER || kind == MessageType::REQUEST) && self.denies(query.hwaddr().as_bytes()) {
            tracing::info!(hwaddr = %query.hwaddr(), "denied: dropping");
            cx.set_next_step(NextStep::Drop)?;
        }
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Select> for {{Type}} {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Select>) -> Result<(), Error> {
        let lease = cx.lease()?;
        tracing::info!(address = %lease.address(), hwaddr = %cx.query()?.hwaddr(), offer = cx.fake_allocation()?, "leasing");
        Ok(())
    }
}

kea_hooks::kea_hook!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_denies_every_address_under_it() {
        let hook = {{Type}}::new(&Params { deny: vec!["02:de:ad".into()] }).unwrap();
        assert!(hook.denies(&[0x02, 0xde, 0xad, 0, 0, 1]));
        assert!(!hook.denies(&[0x02, 0xde, 0xae, 0, 0, 1]));
    }

    #[test]
    fn a_bad_prefix_is_refused_naming_it() {
        let err = {{Type}}::new(&Params { deny: vec!["02:xx".into()] }).err().expect("refused");
        assert!(format!("{err}").contains("deny[0]"), "{err}");
    }
}
