//! `libdhcp_mac_acl.so`: a hardware-address access list for kea-dhcp4.
//!
//! DISCOVERs and REQUESTs from clients the list denies are dropped at
//! `pkt4_receive`, before Kea spends any work on them; every decision is
//! logged at debug level and counted (the counts are logged at unload).
//!
//! ```json
//! "hooks-libraries": [{
//!     "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_mac_acl.so",
//!     "parameters": {
//!         "allow": ["00:16:3e", "52:54:00:12:34:56"],
//!         "deny": ["00:16:3e:66"],
//!         "default": "deny"
//!     }
//! }]
//! ```
//!
//! * `allow`, `deny`: hardware-address prefixes (`0a:1b:2c`, `0a-1b-2c` or
//!   `0a1b2c`), from one byte to a full address. Both default to empty.
//! * The longest matching prefix decides; when an allow and a deny prefix of
//!   the same length match, deny wins.
//! * `default`: `"allow"` or `"deny"`, for clients no prefix matches.
//!   Defaults to `"deny"` when `allow` is non-empty, else `"allow"`.
//!
//! Other message types (RELEASE, DECLINE, INFORM) are not filtered: a denied
//! client can still give back what it holds.

// Hook code needs no unsafe: the SDK holds it all (kea_hook! allows it
// for the symbols it emits; `forbid` would refuse that).
#![deny(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use kea_hooks::dhcp4::{self, MessageType};
use kea_hooks::hwaddr::parse_hex;
use kea_hooks::prelude::*;
use serde::Deserialize;

/// The hook's `parameters`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    default: Option<Action>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Allow,
    Deny,
}

/// A parsed access list.
#[derive(Debug)]
struct Acl {
    /// (prefix, action), longest prefix first, deny before allow on ties.
    rules: Vec<(Vec<u8>, Action)>,
    default: Action,
}

impl Acl {
    /// The list `params` describe; an error names the bad field.
    fn new(params: &Params) -> Result<Acl, Error> {
        let mut rules = Vec::new();
        for (list, action) in [(&params.allow, Action::Allow), (&params.deny, Action::Deny)] {
            let field = if action == Action::Allow { "allow" } else { "deny" };
            for (i, text) in list.iter().enumerate() {
                let prefix = parse_hex(text).map_err(|e| Error::msg(format!("at '{field}[{i}]': {e}")))?;
                if prefix.len() > 20 {
                    return Err(Error::msg(format!(
                        "at '{field}[{i}]': {text:?} is longer than a hardware address (20 bytes)"
                    )));
                }
                rules.push((prefix, action));
            }
        }
        rules.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then((b.1 == Action::Deny).cmp(&(a.1 == Action::Deny))));
        let default = params.default.unwrap_or(if params.allow.is_empty() { Action::Allow } else { Action::Deny });
        Ok(Acl { rules, default })
    }

    fn decide(&self, hwaddr: &[u8]) -> (Action, Option<&[u8]>) {
        self.rules
            .iter()
            .find(|(prefix, _)| hwaddr.starts_with(prefix))
            .map_or((self.default, None), |(prefix, action)| (*action, Some(prefix.as_slice())))
    }
}

/// The loaded hook: the list and its counters.
struct MacAcl {
    acl: Acl,
    allowed: AtomicU64,
    denied: AtomicU64,
}

impl Hook for MacAcl {
    const NAME: &'static str = "mac-acl";
    type Params = Params;

    /// Every pattern must parse: `kea-hooks-check` reports a bad one
    /// before the configuration is deployed, and the load refuses it.
    fn check(params: &Params) -> Result<(), Error> {
        Acl::new(params).map(drop)
    }

    fn load(params: Params, _cx: &LoadContext) -> Result<Self, Error> {
        let acl = Acl::new(&params)?;
        tracing::info!(rules = acl.rules.len(), default = ?acl.default, "access list loaded");
        Ok(MacAcl { acl, allowed: AtomicU64::new(0), denied: AtomicU64::new(0) })
    }
}

impl Callout<dhcp4::Pkt4Receive> for MacAcl {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
        let query = cx.query()?;
        let kind = query.message_type()?;
        if kind != MessageType::DISCOVER && kind != MessageType::REQUEST {
            return Ok(());
        }
        let hwaddr = query.hwaddr();
        let (action, rule) = self.acl.decide(hwaddr.as_bytes());
        let rule = rule.map_or_else(|| "default".to_owned(), |p| kea_hooks::hwaddr::HwAddr::new(hwaddr.htype(), p).to_string());
        let xid = format!("{:#010x}", query.xid());
        match action {
            Action::Allow => {
                self.allowed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%hwaddr, %xid, r#type = %kind, %rule, "allowed");
            }
            Action::Deny => {
                self.denied.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%hwaddr, %xid, r#type = %kind, %rule, "denied: dropping");
                cx.set_next_step(NextStep::Drop)?;
            }
        }
        Ok(())
    }
}

impl Drop for MacAcl {
    fn drop(&mut self) {
        tracing::info!(
            allowed = self.allowed.load(Ordering::Relaxed),
            denied = self.denied.load(Ordering::Relaxed),
            "unloading"
        );
    }
}

kea_hooks::kea_hook!(MacAcl);

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(allow: &[&str], deny: &[&str], default: Option<Action>) -> Acl {
        Acl::new(&Params {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            default,
        })
        .unwrap()
    }

    #[test]
    fn longest_prefix_wins_and_deny_breaks_ties() {
        let a = acl(&["00:16:3e"], &["00:16:3e:66", "00:16:3e"], None);
        assert_eq!(a.decide(&[0, 0x16, 0x3e, 0x66, 1, 2]).0, Action::Deny);
        assert_eq!(a.decide(&[0, 0x16, 0x3e, 0x01, 1, 2]).0, Action::Deny, "tie: deny wins");
        let b = acl(&["00:16:3e"], &["00:16"], None);
        assert_eq!(b.decide(&[0, 0x16, 0x3e, 1, 1, 1]).0, Action::Allow);
        assert_eq!(b.decide(&[0, 0x16, 0x3f, 1, 1, 1]).0, Action::Deny);
        assert_eq!(b.decide(&[9, 9, 9, 9, 9, 9]).0, Action::Deny, "default deny when allow is set");
        let c = acl(&[], &["02"], None);
        assert_eq!(c.decide(&[1, 2, 3, 4, 5, 6]).0, Action::Allow, "default allow with deny only");
        let d = acl(&[], &[], Some(Action::Deny));
        assert_eq!(d.decide(&[1]).0, Action::Deny);
    }

    #[test]
    fn bad_prefix_names_the_field() {
        let e = Acl::new(&Params { allow: vec!["00:16".into()], deny: vec!["ok".into(), "zz".into()], default: None })
            .unwrap_err();
        assert!(e.to_string().contains("at 'deny[0]'"), "{e}");
    }
}
