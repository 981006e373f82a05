//! `libdhcp_relay6_policy.so`: per-subscriber DHCPv6 policy for
//! kea-dhcp6, chosen by what the relay says about the client.
//!
//! A DHCPv6 relay (a BNG, a CMTS, an access switch) adds options that
//! name where the client is: interface-id (18: the port or circuit),
//! remote-id (37: the relay's enterprise number and an id of the line),
//! subscriber-id (38). This hook matches those against its rules and
//! acts on the first that matches:
//!
//! * `class`: puts the query in a client class at `pkt6_receive`, before
//!   Kea picks pools: a `pd-pools` (or `pools`) entry guarded by that
//!   class is the one the subscriber's prefix comes from;
//! * `na-lifetimes`, `pd-lifetimes`: `[preferred, valid]` seconds for the
//!   subscriber's addresses and delegated prefixes, written into the lease
//!   at `lease6_select`, `lease6_renew` and `lease6_rebind` (the lease
//!   database and the client's IAADDR/IAPREFIX both get them).
//!
//! ```json
//! "pd-pools": [
//!     { "prefix": "2001:2:0:100::", "prefix-len": 56, "delegated-len": 60, "client-class": "business" },
//!     { "prefix": "2001:2:0:200::", "prefix-len": 56, "delegated-len": 64 }
//! ],
//! "hooks-libraries": [{
//!     "library": "libdhcp_relay6_policy.so",
//!     "parameters": {
//!         "rules": [
//!             { "interface-id": "olt-3/port-7", "class": "business", "pd-lifetimes": [7200, 14400] },
//!             { "remote-id": "0a0b0c0d", "enterprise": 4491, "class": "business" },
//!             { "subscriber-id": "guest-*", "na-lifetimes": [600, 900], "pd-lifetimes": [600, 900] }
//!         ]
//!     }
//! }]
//! ```
//!
//! * `rules`: tried in order; the first whose every given matcher matches
//!   wins. A rule has at least one matcher and at least one action.
//! * Matchers (against the relay closest to the client that has the
//!   option): `interface-id` and `subscriber-id` compare the option's
//!   bytes with the text (a trailing `*` matches any rest); `remote-id` is
//!   the id's bytes in hex (`0a0b0c0d` or `0a:0b:0c:0d`), with `enterprise`
//!   optionally constraining the relay's enterprise number. A query that
//!   came through no relay matches no rule.
//! * `class`: a client class name. `na-lifetimes`, `pd-lifetimes`:
//!   `[preferred, valid]`, preferred at most valid, valid 1 or more.
//!
//! Decisions are logged at debug level 40 on `kea-dhcp6.relay6-policy`;
//! statistics `relay6-policy.matched` and `relay6-policy.unmatched` count
//! relayed queries. Bad parameters fail the load with the field named.

// Hook code needs no unsafe: the SDK holds it all.
#![deny(unsafe_code)]

use kea_hooks::dhcp6::{self, LeaseType, Pkt6};
use kea_hooks::hwaddr::parse_hex;
use kea_hooks::prelude::*;
use kea_hooks::stats;
use serde::Deserialize;

/// The hook's `parameters`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    rules: Vec<RuleParams>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleParams {
    #[serde(default)]
    interface_id: Option<String>,
    #[serde(default)]
    remote_id: Option<String>,
    #[serde(default)]
    enterprise: Option<u32>,
    #[serde(default)]
    subscriber_id: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    na_lifetimes: Option<(u32, u32)>,
    #[serde(default)]
    pd_lifetimes: Option<(u32, u32)>,
}

/// Text to match an option's bytes against; a trailing `*` matches any
/// rest.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
}

impl Pattern {
    fn text(s: &str) -> Pattern {
        match s.strip_suffix('*') {
            Some(prefix) => Pattern::Prefix(prefix.as_bytes().to_vec()),
            None => Pattern::Exact(s.as_bytes().to_vec()),
        }
    }

    fn matches(&self, bytes: &[u8]) -> bool {
        match self {
            Pattern::Exact(p) => p == bytes,
            Pattern::Prefix(p) => bytes.starts_with(p),
        }
    }
}

/// One rule, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    interface_id: Option<Pattern>,
    remote_id: Option<(Option<u32>, Vec<u8>)>,
    subscriber_id: Option<Pattern>,
    class: Option<String>,
    na_lifetimes: Option<(u32, u32)>,
    pd_lifetimes: Option<(u32, u32)>,
}

/// What the relays said about a query: each option from the relay closest
/// to the client that has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayView {
    /// Option 18's bytes.
    pub interface_id: Option<Vec<u8>>,
    /// Option 37: enterprise number and id.
    pub remote_id: Option<(u32, Vec<u8>)>,
    /// Option 38's bytes.
    pub subscriber_id: Option<Vec<u8>>,
}

impl Rule {
    fn from_params(i: usize, p: &RuleParams) -> Result<Rule, String> {
        let at = |what: &str| format!("rules[{i}].{what}");
        let lifetimes = |what: &str, l: Option<(u32, u32)>| -> Result<Option<(u32, u32)>, String> {
            match l {
                Some((_, 0)) => Err(format!("{}: the valid lifetime must be 1 or more", at(what))),
                Some((p, v)) if p > v => Err(format!("{}: preferred {p} exceeds valid {v}", at(what))),
                other => Ok(other),
            }
        };
        let remote_id = match &p.remote_id {
            Some(hex) => Some((p.enterprise, parse_hex(hex).map_err(|e| format!("{}: {e}", at("remote-id")))?)),
            None if p.enterprise.is_some() => return Err(format!("{}: only with remote-id", at("enterprise"))),
            None => None,
        };
        let rule = Rule {
            interface_id: p.interface_id.as_deref().map(Pattern::text),
            remote_id,
            subscriber_id: p.subscriber_id.as_deref().map(Pattern::text),
            class: p.class.clone(),
            na_lifetimes: lifetimes("na-lifetimes", p.na_lifetimes)?,
            pd_lifetimes: lifetimes("pd-lifetimes", p.pd_lifetimes)?,
        };
        if rule.interface_id.is_none() && rule.remote_id.is_none() && rule.subscriber_id.is_none() {
            return Err(format!("rules[{i}]: no matcher (interface-id, remote-id or subscriber-id)"));
        }
        if rule.class.is_none() && rule.na_lifetimes.is_none() && rule.pd_lifetimes.is_none() {
            return Err(format!("rules[{i}]: no action (class, na-lifetimes or pd-lifetimes)"));
        }
        if rule.class.as_deref().is_some_and(str::is_empty) {
            return Err(format!("{}: empty", at("class")));
        }
        Ok(rule)
    }

    /// Whether every matcher the rule has matches.
    pub fn matches(&self, relay: &RelayView) -> bool {
        let text = |p: &Option<Pattern>, v: &Option<Vec<u8>>| match p {
            None => true,
            Some(p) => v.as_deref().is_some_and(|b| p.matches(b)),
        };
        let remote = match &self.remote_id {
            None => true,
            Some((enterprise, id)) => relay
                .remote_id
                .as_ref()
                .is_some_and(|(e, i)| i == id && enterprise.is_none_or(|want| want == *e)),
        };
        text(&self.interface_id, &relay.interface_id) && text(&self.subscriber_id, &relay.subscriber_id) && remote
    }

    /// The lifetimes for a lease of `kind`, if the rule sets them.
    pub fn lifetimes(&self, kind: LeaseType) -> Option<(u32, u32)> {
        match kind {
            LeaseType::Pd => self.pd_lifetimes,
            _ => self.na_lifetimes,
        }
    }
}

/// The rules, checked, in order.
#[derive(Debug, Clone)]
pub struct Rules(Vec<Rule>);

impl Rules {
    fn from_params(p: &Params) -> Result<Rules, String> {
        p.rules.iter().enumerate().map(|(i, r)| Rule::from_params(i, r)).collect::<Result<_, _>>().map(Rules)
    }

    /// The first rule that matches, and its index.
    pub fn decide(&self, relay: &RelayView) -> Option<(usize, &Rule)> {
        self.0.iter().enumerate().find(|(_, r)| r.matches(relay))
    }
}

/// The hook.
struct Relay6Policy {
    rules: Rules,
}

/// The rule a query matched, kept with the packet from `pkt6_receive` to
/// the lease points.
#[derive(Clone, Copy)]
struct Matched(usize);

fn relay_view(q: &Pkt6<'_>) -> Result<RelayView, Error> {
    Ok(RelayView {
        interface_id: q.relay_option(dhcp6::code::INTERFACE_ID)?.map(|o| o.into_bytes()),
        remote_id: match q.relay_option(dhcp6::code::REMOTE_ID)? {
            Some(o) => {
                let (enterprise, id) = o.remote_id()?;
                Some((enterprise, id.to_vec()))
            }
            None => None,
        },
        subscriber_id: q.relay_option(dhcp6::code::SUBSCRIBER_ID)?.map(|o| o.into_bytes()),
    })
}

impl Hook for Relay6Policy {
    const NAME: &'static str = "relay6-policy";
    type Params = Params;

    fn check(params: &Params) -> Result<(), Error> {
        Rules::from_params(params).map(|_| ()).map_err(Error::msg)
    }

    fn load(params: Params, _cx: &LoadContext) -> Result<Self, Error> {
        let rules = Rules::from_params(&params).map_err(Error::msg)?;
        stats::declare_integer("relay6-policy.matched")?;
        stats::declare_integer("relay6-policy.unmatched")?;
        Ok(Relay6Policy { rules })
    }
}

impl Relay6Policy {
    fn lifetimes<'a>(&self, cx: &impl dhcp6::LeaseWrites6<'a>, matched: Option<Matched>) -> Result<(), Error> {
        let Some(rule) = matched.and_then(|m| self.rules.0.get(m.0)) else {
            return Ok(());
        };
        let lease = cx.lease()?;
        if let Some((preferred, valid)) = rule.lifetimes(lease.lease_type()) {
            tracing::debug!(address = %lease.address(), preferred, valid, "lifetimes by rule");
            cx.set_lifetimes(preferred, valid)?;
        }
        Ok(())
    }
}

impl Callout<dhcp6::Pkt6Receive> for Relay6Policy {
    fn call(&self, cx: &Context<'_, dhcp6::Pkt6Receive>) -> Result<(), Error> {
        let q = cx.query()?;
        if !q.is_relayed() {
            return Ok(());
        }
        let view = relay_view(&q)?;
        match self.rules.decide(&view) {
            Some((i, rule)) => {
                stats::add_integer("relay6-policy.matched", 1)?;
                if let Some(class) = &rule.class {
                    q.add_class(class)?;
                }
                tracing::debug!(rule = i, class = rule.class.as_deref().unwrap_or(""), xid = q.xid(), "matched");
                cx.set_packet_value(Matched(i))?;
            }
            None => {
                stats::add_integer("relay6-policy.unmatched", 1)?;
                tracing::debug!(xid = q.xid(), relay = ?view, "no rule matched");
            }
        }
        Ok(())
    }
}

impl Callout<dhcp6::Lease6Select> for Relay6Policy {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Select>) -> Result<(), Error> {
        self.lifetimes(cx, cx.packet_value::<Matched>()?)
    }
}

impl Callout<dhcp6::Lease6Renew> for Relay6Policy {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Renew>) -> Result<(), Error> {
        self.lifetimes(cx, cx.packet_value::<Matched>()?)
    }
}

impl Callout<dhcp6::Lease6Rebind> for Relay6Policy {
    fn call(&self, cx: &Context<'_, dhcp6::Lease6Rebind>) -> Result<(), Error> {
        self.lifetimes(cx, cx.packet_value::<Matched>()?)
    }
}

kea_hooks::kea_hook!(Relay6Policy);

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Result<Rules, String> {
        let p: Params = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Rules::from_params(&p)
    }

    fn view(iface: Option<&str>, remote: Option<(u32, &[u8])>) -> RelayView {
        RelayView {
            interface_id: iface.map(|s| s.as_bytes().to_vec()),
            remote_id: remote.map(|(e, id)| (e, id.to_vec())),
            subscriber_id: None,
        }
    }

    #[test]
    fn the_first_rule_whose_every_matcher_matches_wins() {
        let r = rules(
            r#"{"rules": [
                {"interface-id": "olt-3/*", "remote-id": "0a0b", "enterprise": 4491, "class": "a"},
                {"interface-id": "olt-3/port-7", "class": "b"},
                {"remote-id": "0a:0b", "pd-lifetimes": [10, 20]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(r.decide(&view(Some("olt-3/port-7"), Some((4491, &[10, 11])))).map(|d| d.0), Some(0));
        assert_eq!(r.decide(&view(Some("olt-3/port-7"), Some((9, &[10, 11])))).map(|d| d.0), Some(1), "enterprise differs");
        assert_eq!(r.decide(&view(None, Some((9, &[10, 11])))).map(|d| d.0), Some(2));
        assert_eq!(r.decide(&view(Some("olt-4/port-1"), None)).map(|d| d.0), None);
        assert_eq!(r.decide(&RelayView::default()).map(|d| d.0), None);
        assert_eq!(r.0[2].lifetimes(LeaseType::Pd), Some((10, 20)));
        assert_eq!(r.0[2].lifetimes(LeaseType::Na), None);
    }

    #[test]
    fn bad_rules_are_refused_naming_the_field() {
        for (json, needle) in [
            (r#"{"rules": [{"class": "a"}]}"#, "rules[0]: no matcher"),
            (r#"{"rules": [{"interface-id": "x"}]}"#, "rules[0]: no action"),
            (r#"{"rules": [{"interface-id": "x", "pd-lifetimes": [20, 10]}]}"#, "rules[0].pd-lifetimes: preferred 20 exceeds valid 10"),
            (r#"{"rules": [{"interface-id": "x", "na-lifetimes": [0, 0]}]}"#, "rules[0].na-lifetimes: the valid lifetime"),
            (r#"{"rules": [{"remote-id": "zz", "class": "a"}]}"#, "rules[0].remote-id"),
            (r#"{"rules": [{"interface-id": "x", "enterprise": 1, "class": "a"}]}"#, "rules[0].enterprise: only with remote-id"),
            (r#"{"rules": [{"interface-id": "x", "class": ""}]}"#, "rules[0].class: empty"),
        ] {
            let err = rules(json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
