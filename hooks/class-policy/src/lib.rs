//! `libdhcp_class_policy.so`: per-client-class lease lifetimes and
//! response options for kea-dhcp4.
//!
//! Kea's client classes (defined in its own `client-classes`, with `test`
//! expressions) decide; this hook then acts on them where Kea's
//! configuration cannot: it writes the lease's valid lifetime per class at
//! `lease4_select` and `lease4_renew` (the lease database and the client's
//! option 51 both get it), and sets options on OFFERs and ACKs at
//! `pkt4_send`, whether or not the client asked for them, including one
//! that echoes the relay's circuit id.
//!
//! ```json
//! "client-classes": [
//!     { "name": "voip", "test": "substring(option[60].hex,0,4) == 'voip'" }
//! ],
//! "hooks-libraries": [{
//!     "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_class_policy.so",
//!     "parameters": {
//!         "policies": [
//!             { "class": "voip", "valid-lifetime": 600,
//!               "options": [{ "code": 150, "ipv4": ["198.18.0.5"] },
//!                           { "code": 252, "text": "http://198.18.0.1/voip.cfg" }] },
//!             { "class": "ALL", "options": [{ "code": 224, "circuit-id": true }] }
//!         ]
//!     }
//! }]
//! ```
//!
//! * `policies`: tried in order; for the lifetime, the first whose
//!   `class` the query belongs to wins; options are set from every policy
//!   that matches (a later one replaces an earlier one's option of the
//!   same code). `ALL` matches every query.
//! * `valid-lifetime`: seconds, 1 or more.
//! * `options`: each with a `code` (1-254) and one of `text`, `hex`
//!   (`0a:1b` or `0a1b`), `ipv4` (a list of addresses), `u8`, `u16`,
//!   `u32`, or `circuit-id: true` (the relay's option 82 circuit id,
//!   not set when the query has none).
//!
//! Bad parameters fail the load with the field named.

// Hook code needs no unsafe: the SDK holds it all (kea_hook! allows it
// for the symbols it emits; `forbid` would refuse that).
#![deny(unsafe_code)]

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};

use kea_hooks::dhcp4::{self, OptionData, Pkt4};
use kea_hooks::hwaddr::parse_hex;
use kea_hooks::prelude::*;
use serde::Deserialize;

/// The hook's `parameters`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    policies: Vec<PolicyParams>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PolicyParams {
    class: String,
    #[serde(default)]
    valid_lifetime: Option<u32>,
    #[serde(default)]
    options: Vec<OptionParams>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct OptionParams {
    code: u8,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    hex: Option<String>,
    #[serde(default)]
    ipv4: Option<Vec<Ipv4Addr>>,
    #[serde(default)]
    u8: Option<u8>,
    #[serde(default)]
    u16: Option<u16>,
    #[serde(default)]
    u32: Option<u32>,
    #[serde(default)]
    circuit_id: bool,
}

/// What one option's payload is.
#[derive(Debug)]
enum Payload {
    Fixed(OptionData),
    CircuitId,
}

#[derive(Debug)]
struct Policy {
    class: String,
    valid_lifetime: Option<u32>,
    options: Vec<(u8, Payload)>,
}

fn bad(at: &str, what: impl std::fmt::Display) -> Error {
    Error::msg(format!("at '{at}': {what}"))
}

impl Policy {
    fn new(p: PolicyParams, i: usize) -> Result<Self, Error> {
        if p.class.is_empty() {
            return Err(bad(&format!("policies[{i}].class"), "empty class name"));
        }
        if p.valid_lifetime == Some(0) {
            return Err(bad(
                &format!("policies[{i}].valid-lifetime"),
                "must be 1 or more",
            ));
        }
        let mut options = Vec::new();
        for (j, o) in p.options.into_iter().enumerate() {
            let at = format!("policies[{i}].options[{j}]");
            if o.code == 0 || o.code == 255 {
                return Err(bad(
                    &format!("{at}.code"),
                    format_args!("{} is reserved (pad/end)", o.code),
                ));
            }
            let mut given: Vec<Payload> = Vec::new();
            if let Some(t) = o.text {
                given.push(Payload::Fixed(OptionData::from_text(&t)));
            }
            if let Some(h) = o.hex {
                given.push(Payload::Fixed(OptionData::from(
                    parse_hex(&h).map_err(|e| bad(&format!("{at}.hex"), e))?,
                )));
            }
            if let Some(a) = o.ipv4 {
                given.push(Payload::Fixed(OptionData::from_ipv4_list(&a)));
            }
            if let Some(v) = o.u8 {
                given.push(Payload::Fixed(OptionData::from_u8(v)));
            }
            if let Some(v) = o.u16 {
                given.push(Payload::Fixed(OptionData::from_u16(v)));
            }
            if let Some(v) = o.u32 {
                given.push(Payload::Fixed(OptionData::from_u32(v)));
            }
            if o.circuit_id {
                given.push(Payload::CircuitId);
            }
            if given.len() != 1 {
                return Err(bad(
                    &at,
                    "give exactly one of text, hex, ipv4, u8, u16, u32, circuit-id",
                ));
            }
            let payload = given.pop().expect("one");
            if let Payload::Fixed(d) = &payload {
                if d.len() > dhcp4::option::MAX_OPTION_LEN {
                    return Err(bad(&at, format_args!("{} bytes, at most 255", d.len())));
                }
            }
            options.push((o.code, payload));
        }
        Ok(Policy {
            class: p.class,
            valid_lifetime: p.valid_lifetime,
            options,
        })
    }

    fn matches(&self, query: &Pkt4<'_>) -> Result<bool, Error> {
        Ok(self.class == "ALL" || query.in_class(&self.class)?)
    }
}

/// The loaded hook.
struct ClassPolicy {
    policies: Vec<Policy>,
    lifetimes_set: AtomicU64,
    options_set: AtomicU64,
}

fn policies(params: Params) -> Result<Vec<Policy>, Error> {
    params.policies.into_iter().enumerate().map(|(i, p)| Policy::new(p, i)).collect()
}

impl Hook for ClassPolicy {
    const NAME: &'static str = "class-policy";
    type Params = Params;

    /// Every policy must make sense (names, lifetimes, option payloads):
    /// `kea-hooks-check` reports a bad one before deployment.
    fn check(params: &Params) -> Result<(), Error> {
        policies(params.clone()).map(drop)
    }

    fn load(params: Params, _cx: &LoadContext) -> Result<Self, Error> {
        let policies = policies(params)?;
        tracing::info!(policies = policies.len(), "class policies loaded");
        Ok(ClassPolicy {
            policies,
            lifetimes_set: AtomicU64::new(0),
            options_set: AtomicU64::new(0),
        })
    }

    // The hook changes what clients get; if it cannot, let Kea answer as
    // configured rather than leave the client without an address.
    fn on_error(&self) -> OnFailure {
        OnFailure::Continue
    }
}

impl Drop for ClassPolicy {
    fn drop(&mut self) {
        tracing::info!(
            lifetimes = self.lifetimes_set.load(Ordering::Relaxed),
            options = self.options_set.load(Ordering::Relaxed),
            "class-policy unloading"
        );
    }
}

impl ClassPolicy {
    /// Sets the lifetime of the first policy that matches and sets one,
    /// at either point where Kea stores the lease it passed.
    fn set_lifetime<'a>(&self, cx: &impl LeaseWrites<'a>) -> Result<(), Error> {
        let query = cx.query()?;
        for p in &self.policies {
            if let Some(seconds) = p.valid_lifetime {
                if p.matches(&query)? {
                    cx.set_valid_lifetime(seconds)?;
                    self.lifetimes_set.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(address = %cx.lease()?.address(), seconds, class = %p.class, "lifetime set");
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

impl Callout<dhcp4::Lease4Select> for ClassPolicy {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Select>) -> Result<(), Error> {
        self.set_lifetime(cx)
    }
}

impl Callout<dhcp4::Lease4Renew> for ClassPolicy {
    fn call(&self, cx: &Context<'_, dhcp4::Lease4Renew>) -> Result<(), Error> {
        self.set_lifetime(cx)
    }
}

impl Callout<dhcp4::Pkt4Send> for ClassPolicy {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
        let query = cx.query()?;
        let response = cx.response()?;
        if response.message_type()? == dhcp4::MessageType::NAK {
            return Ok(());
        }
        for p in &self.policies {
            if p.options.is_empty() || !p.matches(&query)? {
                continue;
            }
            for (code, payload) in &p.options {
                match payload {
                    Payload::Fixed(data) => response.set_option(*code, data)?,
                    Payload::CircuitId => {
                        // A relay's option 82 that does not parse is the
                        // relay's problem: skip the option, keep the answer.
                        let circuit = query.option(82)?.and_then(|o| {
                            o.sub_options()
                                .ok()
                                .and_then(|s| s.get(1).map(<[u8]>::to_vec))
                        });
                        match circuit {
                            Some(c) if !c.is_empty() => response.set_option(*code, &c)?,
                            _ => continue,
                        }
                    }
                }
                self.options_set.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

kea_hooks::kea_hook!(ClassPolicy);
