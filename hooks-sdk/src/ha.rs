//! Kea High Availability (ISC's `libdhcp_ha.so`), as a hook sees it.
//!
//! The HA hook keeps two (or more) servers' lease databases in step by
//! sending its partner control commands: `lease4-update` (with
//! `force-create`), `lease4-del` and, in kea-dhcp6, `lease6-bulk-apply`,
//! handled there by ISC's lease_cmds. No packet hook point fires on the
//! partner for them: a hook sees them in [`CommandProcessed`], on the
//! thread of HA's dedicated HTTP listener (with Kea's and HA's
//! multi-threading on), concurrently with packet threads and Kea's main
//! thread. [`Origin`] tells such an update from an operator's.
//!
//! Kea exposes a server's HA state only through commands: no statistic,
//! no hook point. Two answers carry it, and a `command_processed` callout
//! sees both ([`HaState::from_command`]):
//!
//! * `ha-heartbeat`, which the partner sends every `heartbeat-delay`
//!   (10 s by default): its answer holds the receiving server's own state
//!   (`arguments.state`);
//! * `status-get` (an operator's), whose `high-availability` section the
//!   HA hook adds (`ha-servers.local.state`).
//!
//! [`HaStateWatch`] follows those answers and reports each change of the
//! server's own state. That is the one signal a server gets after it has
//! *synced* leases from its partner (coming back after a failure, or
//! starting): the sync writes the leases straight to the lease database,
//! no hook point fires and, before Kea 3.2, no statistic changes; the
//! server then leaves `syncing` for `ready` and its mode's state
//! (`hot-standby`, `load-balancing`), which the partner's next heartbeat
//! shows, within `heartbeat-delay`.
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! use kea_hooks::ha::{HaState, HaStateWatch, Origin};
//!
//! struct Watcher {
//!     ha: HaStateWatch,
//! }
//!
//! impl Hook for Watcher {
//!     const NAME: &'static str = "watcher";
//!     type Params = NoParameters;
//!     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> {
//!         Ok(Watcher { ha: HaStateWatch::new() })
//!     }
//! }
//!
//! impl Callout<dhcp4::CommandProcessed> for Watcher {
//!     fn call(&self, cx: &Context<'_, dhcp4::CommandProcessed>) -> Result<(), Error> {
//!         let name = cx.name()?;
//!         for change in self.ha.observe_command(cx)? {
//!             tracing::info!(partner = ?change.partner, from = ?change.from, to = %change.to, "HA state changed");
//!             if change.to.follows_sync() {
//!                 // The database may hold leases no hook point showed.
//!             }
//!         }
//!         if name == "lease4-update" && cx.origin()? == Origin::HaPartner {
//!             // The partner's copy of a lease it handed out.
//!         }
//!         Ok(())
//!     }
//! }
//! # kea_hooks::kea_hook!(Watcher);
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde_json::Value;

use crate::callout::Context;
use crate::error::Error;
use crate::points::CommandProcessed;

/// A state of Kea's HA state machine (the names Kea uses in `status-get`,
/// `ha-heartbeat` and its log; the same set from Kea 2.2 to 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HaState {
    /// `backup`: a backup server (receives lease updates, serves no one).
    Backup,
    /// `communication-recovery`: load balancing with the partner out of
    /// touch; updates are queued for it.
    CommunicationRecovery,
    /// `hot-standby`: normal operation of a hot-standby pair.
    HotStandby,
    /// `load-balancing`: normal operation of a load-balancing pair.
    LoadBalancing,
    /// `in-maintenance`: shut down for maintenance, at the operator's
    /// request.
    InMaintenance,
    /// `partner-down`: the partner is taken for down; this server serves
    /// every client.
    PartnerDown,
    /// `partner-in-maintenance`: serving every client while the partner is
    /// in maintenance.
    PartnerInMaintenance,
    /// `passive-backup`: the passive-backup mode's active server.
    PassiveBackup,
    /// `ready`: synced, waiting for the partner to go back to normal.
    Ready,
    /// `syncing`: fetching the partner's leases.
    Syncing,
    /// `terminated`: HA stopped (clocks too far apart, too many rejected
    /// updates); the server serves its own scopes only.
    Terminated,
    /// `waiting`: starting, or waiting for the partner.
    Waiting,
    /// `unavailable`: the partner's state when it does not answer.
    Unavailable,
}

/// Every state, in the order of [`HaState`]'s variants (index + 1 is the
/// code [`HaStateWatch`] stores).
const STATES: [HaState; 13] = [
    HaState::Backup,
    HaState::CommunicationRecovery,
    HaState::HotStandby,
    HaState::LoadBalancing,
    HaState::InMaintenance,
    HaState::PartnerDown,
    HaState::PartnerInMaintenance,
    HaState::PassiveBackup,
    HaState::Ready,
    HaState::Syncing,
    HaState::Terminated,
    HaState::Waiting,
    HaState::Unavailable,
];

impl HaState {
    /// The state's name as Kea writes it (`hot-standby`, ...).
    pub fn name(self) -> &'static str {
        match self {
            HaState::Backup => "backup",
            HaState::CommunicationRecovery => "communication-recovery",
            HaState::HotStandby => "hot-standby",
            HaState::LoadBalancing => "load-balancing",
            HaState::InMaintenance => "in-maintenance",
            HaState::PartnerDown => "partner-down",
            HaState::PartnerInMaintenance => "partner-in-maintenance",
            HaState::PassiveBackup => "passive-backup",
            HaState::Ready => "ready",
            HaState::Syncing => "syncing",
            HaState::Terminated => "terminated",
            HaState::Waiting => "waiting",
            HaState::Unavailable => "unavailable",
        }
    }

    /// The state named `name` (case as Kea writes it; Kea's log writes
    /// upper case, which is accepted too); `None` for another name.
    pub fn from_name(name: &str) -> Option<HaState> {
        STATES.iter().copied().find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Whether a server in this state may have just written leases it
    /// synced from its partner: any state a server reaches once a sync is
    /// over (`ready`, `hot-standby`, `load-balancing`, `partner-down`,
    /// `partner-in-maintenance`, `passive-backup`, `backup`). A server
    /// only syncs in `syncing`, on its way from `waiting` to `ready` (or to
    /// `partner-down`), so a change into one of these is when to recount.
    pub fn follows_sync(self) -> bool {
        matches!(
            self,
            HaState::Ready
                | HaState::HotStandby
                | HaState::LoadBalancing
                | HaState::PartnerDown
                | HaState::PartnerInMaintenance
                | HaState::PassiveBackup
                | HaState::Backup
        )
    }

    /// The receiving server's own state in the answer to an `ha-heartbeat`
    /// (`{"result": 0, "arguments": {"state": "hot-standby", ...}}`);
    /// `None` for an answer without one (a failed heartbeat).
    pub fn from_heartbeat_response(response: &Value) -> Option<HaState> {
        response.pointer("/arguments/state").and_then(Value::as_str).and_then(HaState::from_name)
    }

    /// The partner that sent an `ha-heartbeat`, from its `arguments`:
    /// `server-name` (Kea 3.0+, for hub-and-spoke configurations, where a
    /// server has a relationship per partner); `None` before 3.0, where a
    /// server has one partner.
    pub fn heartbeat_partner(arguments: &Value) -> Option<&str> {
        arguments.get("server-name").and_then(Value::as_str)
    }

    /// This server's own state in a `status-get` answer, from the section
    /// the HA hook adds, one per HA relationship (Kea 3.0+ hub-and-spoke
    /// configurations have several): the partner's name
    /// (`ha-servers.remote.server-name`, Kea 3.0+; `None` before) and
    /// `ha-servers.local.state`. Empty without HA.
    pub fn from_status_get(response: &Value) -> Vec<(Option<String>, HaState)> {
        response
            .pointer("/arguments/high-availability")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let state = r.pointer("/ha-servers/local/state").and_then(Value::as_str).and_then(HaState::from_name)?;
                let partner = r.pointer("/ha-servers/remote/server-name").and_then(Value::as_str).map(str::to_owned);
                Some((partner, state))
            })
            .collect()
    }

    /// Whether command `name`'s answer shows this server's own state
    /// (`ha-heartbeat`, `status-get`): the only answers worth reading for it.
    pub fn shown_by(name: &str) -> bool {
        name == "ha-heartbeat" || name == "status-get"
    }

    /// This server's own state as command `name`'s answer `response` shows
    /// it: `ha-heartbeat` (from the partner) or `status-get` (the first
    /// relationship's); `None` for other commands.
    pub fn from_command(name: &str, response: &Value) -> Option<HaState> {
        match name {
            "ha-heartbeat" => HaState::from_heartbeat_response(response),
            "status-get" => HaState::from_status_get(response).first().map(|(_, s)| *s),
            _ => None,
        }
    }

}

impl fmt::Display for HaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an HA state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownHaState(pub String);

impl fmt::Display for UnknownHaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown HA state {:?}", self.0)
    }
}

impl std::error::Error for UnknownHaState {}

impl FromStr for HaState {
    type Err = UnknownHaState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HaState::from_name(s).ok_or_else(|| UnknownHaState(s.to_owned()))
    }
}

/// A change of a server's own HA state, as [`HaStateWatch`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaTransition {
    /// The relationship's partner, as Kea names it (Kea 3.0+); `None`
    /// before 3.0, where a server has one partner.
    pub partner: Option<String>,
    /// The state seen before; `None` for the first one seen since the
    /// watch was made (the hook's load).
    pub from: Option<HaState>,
    /// The state seen now.
    pub to: HaState,
}

/// Follows a server's own HA state, per relationship (partner), across
/// `command_processed` calls and reports each change. Thread-safe:
/// `command_processed` runs on HA's listener threads and on Kea's main
/// thread at once; each call holds one lock for a lookup in a list with an
/// entry per partner (one, or a hub's few), and waits on nothing else.
///
/// Kea 3.0+ lets a server have several relationships (hub-and-spoke), each
/// in its own state: the watch keeps them apart by the partner's name
/// (the heartbeat's `server-name`, `status-get`'s `remote.server-name`),
/// so the states of two relationships are not taken for changes.
///
/// What it sees is what the answers show: the partner's heartbeats come
/// every `heartbeat-delay`, so a change shows up to that late, and a state
/// a server passes through between two heartbeats (e.g. `syncing`, which
/// often lasts milliseconds) may never be seen. Two answers handled at
/// once on two threads may be seen in either order: a stale state can
/// show as a change and the next heartbeat changes it back. React to
/// changes idempotently (request a recount; don't count transitions).
#[derive(Debug, Default)]
pub struct HaStateWatch {
    /// The state last seen per partner.
    states: Mutex<Vec<(Option<String>, HaState)>>,
}

impl HaStateWatch {
    /// A watch that has seen nothing.
    pub const fn new() -> HaStateWatch {
        HaStateWatch { states: Mutex::new(Vec::new()) }
    }

    /// The state last seen in the relationship with `partner` (`None`:
    /// the unnamed one, before Kea 3.0), if any.
    pub fn current(&self, partner: Option<&str>) -> Option<HaState> {
        let states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        states.iter().find(|(p, _)| p.as_deref() == partner).map(|(_, s)| *s)
    }

    /// Records `state` as seen now in the relationship with `partner`; the
    /// change, if it is one (the first state seen is a change from
    /// `None`).
    pub fn observe(&self, partner: Option<&str>, state: HaState) -> Option<HaTransition> {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let from = match states.iter_mut().find(|(p, _)| p.as_deref() == partner) {
            Some((_, seen)) => Some(std::mem::replace(seen, state)),
            None => {
                states.push((partner.map(str::to_owned), state));
                None
            }
        };
        drop(states);
        (from != Some(state)).then(|| HaTransition { partner: partner.map(str::to_owned), from, to: state })
    }

    /// [`HaStateWatch::observe`] on what command `name` (with `arguments`)
    /// and its answer `response` show of this server's state: an
    /// `ha-heartbeat` from a partner, or each relationship of a
    /// `status-get`. The changes seen (none for other commands).
    pub fn observe_answer(&self, name: &str, arguments: &Value, response: &Value) -> Vec<HaTransition> {
        match name {
            "ha-heartbeat" => HaState::from_heartbeat_response(response)
                .and_then(|s| self.observe(HaState::heartbeat_partner(arguments), s))
                .into_iter()
                .collect(),
            "status-get" => HaState::from_status_get(response).into_iter().filter_map(|(p, s)| self.observe(p.as_deref(), s)).collect(),
            _ => Vec::new(),
        }
    }

    /// [`HaStateWatch::observe_answer`] in a `command_processed` callout:
    /// reads the arguments and answer only for `ha-heartbeat` and
    /// `status-get`. Fails (a Kea error) when Kea's arguments are missing.
    pub fn observe_command(&self, cx: &Context<'_, CommandProcessed>) -> Result<Vec<HaTransition>, Error> {
        let name = cx.name()?;
        if !HaState::shown_by(&name) {
            return Ok(Vec::new());
        }
        Ok(self.observe_answer(&name, &cx.arguments()?, &cx.response()?))
    }
}

/// Who sent a command: the server's HA partner, or anyone else (an
/// operator, a script, a provisioning tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// The HA partner: `"origin": "ha-partner"` in the arguments (lease
    /// updates from Kea 2.4, `dhcp-disable`/`dhcp-enable` from 2.2), or
    /// the partner's numeric HA service id (`ha-sync-complete-notify`
    /// from 2.6, `origin-id` on 3.x).
    HaPartner,
    /// Not the HA partner: `"origin": "user"`; a lease update
    /// (`lease4-update`, `lease4-del`, `lease6-update`, `lease6-del`,
    /// `lease6-bulk-apply`) without `origin` on Kea 2.4+, where the HA
    /// hook always adds it; or any command the HA hook never sends
    /// (`lease4-add`, `lease4-wipe`, `stat-lease4-get`, ...).
    Operator,
    /// Cannot be told from the arguments: a lease update without `origin`
    /// on Kea 2.2 (whose HA hook sends none: there a partner's
    /// `lease4-update` with `force-create` looks exactly like an
    /// operator's), or a command the HA hook sends without `origin`
    /// (`ha-heartbeat`, `lease4-get-page`, `ha-reset`, ...), which an
    /// operator may send too.
    Unknown,
}

/// The commands the HA hook sends without `origin` in some release (so
/// their origin may be unknown). The lease updates are
/// [`HA_LEASE_COMMANDS`].
const HA_COMMANDS: [&str; 12] = [
    "ha-heartbeat",
    "ha-reset",
    "ha-maintenance-notify",
    "ha-sync-complete-notify",
    "dhcp-disable",
    "dhcp-enable",
    "status-get",
    "list-commands",
    "lease4-get-page",
    "lease4-get-all",
    "lease6-get-page",
    "lease6-get-all",
];

/// The lease commands the HA hook sends, which from Kea 2.4 always carry
/// `origin`.
const HA_LEASE_COMMANDS: [&str; 5] = ["lease4-update", "lease4-del", "lease6-update", "lease6-del", "lease6-bulk-apply"];

impl Origin {
    /// The origin of command `name` with `arguments` (`null` for none) in
    /// this build's Kea release.
    pub fn of(name: &str, arguments: &Value) -> Origin {
        Origin::of_at(name, arguments, crate::KEA_HOOKS_VERSION)
    }

    /// [`Origin::of`] as Kea `version` (a `KEA_HOOKS_VERSION`) sends it.
    fn of_at(name: &str, arguments: &Value, version: i32) -> Origin {
        match arguments.get("origin") {
            Some(Value::String(s)) if s == "ha-partner" => return Origin::HaPartner,
            Some(Value::String(s)) if s == "user" => return Origin::Operator,
            Some(Value::Number(_)) => return Origin::HaPartner,
            _ => {}
        }
        if arguments.get("origin-id").is_some_and(Value::is_number) {
            return Origin::HaPartner;
        }
        if HA_LEASE_COMMANDS.contains(&name) {
            return if version >= 20400 { Origin::Operator } else { Origin::Unknown };
        }
        if HA_COMMANDS.contains(&name) {
            return Origin::Unknown;
        }
        Origin::Operator
    }
}

impl Context<'_, CommandProcessed> {
    /// Who sent the command ([`Origin::of`] its name and arguments):
    /// [`Origin::HaPartner`] for the HA hook's lease updates on its
    /// partner from Kea 2.4; on Kea 2.2 they are [`Origin::Unknown`].
    pub fn origin(&self) -> Result<Origin, Error> {
        Ok(Origin::of(&self.name()?, &self.arguments()?))
    }

    /// This server's own HA state if the command's answer shows it
    /// ([`HaState::from_command`]: `ha-heartbeat`, `status-get`).
    pub fn own_ha_state(&self) -> Result<Option<HaState>, Error> {
        let name = self.name()?;
        if !HaState::shown_by(&name) {
            return Ok(None);
        }
        Ok(HaState::from_command(&name, &self.response()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip() {
        for s in STATES {
            assert_eq!(HaState::from_name(s.name()), Some(s));
            assert_eq!(s.name().parse::<HaState>(), Ok(s));
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!(HaState::from_name("HOT-STANDBY"), Some(HaState::HotStandby));
        assert_eq!(HaState::from_name("hot_standby"), None);
        assert_eq!("bogus".parse::<HaState>(), Err(UnknownHaState("bogus".into())));
    }

    #[test]
    fn states_after_a_sync() {
        let after: Vec<_> = STATES.iter().filter(|s| s.follows_sync()).map(|s| s.name()).collect();
        assert_eq!(after, ["backup", "hot-standby", "load-balancing", "partner-down", "partner-in-maintenance", "passive-backup", "ready"]);
    }

    #[test]
    fn state_from_answers() {
        // As Kea 2.2 answered a heartbeat (seen).
        let hb = json!({ "result": 0, "text": "HA peer status returned.",
            "arguments": { "date-time": "Mon, 07 Dec 2026 15:38:01 GMT", "scopes": ["server1"], "state": "hot-standby", "unsent-update-count": 0 } });
        assert_eq!(HaState::from_heartbeat_response(&hb), Some(HaState::HotStandby));
        assert_eq!(HaState::from_command("ha-heartbeat", &hb), Some(HaState::HotStandby));
        assert_eq!(HaState::from_command("lease4-update", &hb), None);
        assert_eq!(HaState::from_heartbeat_response(&json!({ "result": 1, "text": "no" })), None);
        assert_eq!(HaState::heartbeat_partner(&json!({ "server-name": "server2" })), Some("server2"));
        assert_eq!(HaState::heartbeat_partner(&Value::Null), None);
        let status = json!({ "result": 0, "arguments": { "pid": 1, "high-availability": [
            { "ha-mode": "hot-standby", "ha-servers": { "local": { "role": "primary", "scopes": [], "state": "syncing" },
                                                         "remote": { "last-state": "partner-down", "server-name": "server2" } } },
            { "ha-mode": "load-balancing", "ha-servers": { "local": { "state": "load-balancing" } } } ] } });
        assert_eq!(HaState::from_status_get(&status), [(Some("server2".into()), HaState::Syncing), (None, HaState::LoadBalancing)]);
        assert_eq!(HaState::from_command("status-get", &status), Some(HaState::Syncing));
        assert!(HaState::from_status_get(&json!({ "result": 0, "arguments": { "pid": 1 } })).is_empty());
    }

    #[test]
    fn watch_reports_changes_only() {
        let w = HaStateWatch::new();
        let t = |from, to| HaTransition { partner: None, from, to };
        assert_eq!(w.current(None), None);
        assert_eq!(w.observe(None, HaState::Waiting), Some(t(None, HaState::Waiting)));
        assert_eq!(w.observe(None, HaState::Waiting), None);
        assert_eq!(w.observe(None, HaState::Ready), Some(t(Some(HaState::Waiting), HaState::Ready)));
        // Kea 2.x: a heartbeat without arguments.
        let hb = json!({ "result": 0, "arguments": { "state": "hot-standby" } });
        assert_eq!(w.observe_answer("ha-heartbeat", &Value::Null, &hb), [t(Some(HaState::Ready), HaState::HotStandby)]);
        assert!(w.observe_answer("ha-heartbeat", &Value::Null, &hb).is_empty());
        assert!(w.observe_answer("lease4-get", &Value::Null, &hb).is_empty());
        assert_eq!(w.current(None), Some(HaState::HotStandby));
    }

    #[test]
    fn watch_keeps_relationships_apart() {
        // A Kea 3.0+ hub with two partners in different states: each
        // heartbeat is no change once both are known.
        let w = HaStateWatch::new();
        let hb = |state: &str| json!({ "result": 0, "arguments": { "state": state } });
        let from = |name: &str| json!({ "server-name": name });
        assert_eq!(w.observe_answer("ha-heartbeat", &from("a"), &hb("hot-standby")).len(), 1);
        assert_eq!(w.observe_answer("ha-heartbeat", &from("b"), &hb("partner-down")).len(), 1);
        for _ in 0..3 {
            assert!(w.observe_answer("ha-heartbeat", &from("a"), &hb("hot-standby")).is_empty());
            assert!(w.observe_answer("ha-heartbeat", &from("b"), &hb("partner-down")).is_empty());
        }
        let back = w.observe_answer("ha-heartbeat", &from("b"), &hb("hot-standby"));
        assert_eq!(back, [HaTransition { partner: Some("b".into()), from: Some(HaState::PartnerDown), to: HaState::HotStandby }]);
        // status-get names the partner the same way.
        let status = json!({ "arguments": { "high-availability": [
            { "ha-servers": { "local": { "state": "hot-standby" }, "remote": { "server-name": "a" } } },
            { "ha-servers": { "local": { "state": "syncing" }, "remote": { "server-name": "b" } } } ] } });
        let seen = w.observe_answer("status-get", &Value::Null, &status);
        assert_eq!(seen, [HaTransition { partner: Some("b".into()), from: Some(HaState::HotStandby), to: HaState::Syncing }]);
        assert_eq!(w.current(Some("a")), Some(HaState::HotStandby));
        assert_eq!(w.current(Some("c")), None);
    }

    #[test]
    fn watch_is_shared_by_threads() {
        let w = HaStateWatch::new();
        let changes = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        if w.observe(None, HaState::HotStandby).is_some() {
                            changes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        // Only the first of 4000 observations of one state is a change.
        assert_eq!(changes.into_inner(), 1);
    }

    #[test]
    fn origins() {
        let lease = json!({ "ip-address": "198.18.0.10", "force-create": true });
        let from_ha = json!({ "ip-address": "198.18.0.10", "force-create": true, "origin": "ha-partner" });
        assert_eq!(Origin::of_at("lease4-update", &from_ha, 20400), Origin::HaPartner);
        assert_eq!(Origin::of_at("lease4-update", &lease, 20400), Origin::Operator);
        assert_eq!(Origin::of_at("lease6-bulk-apply", &json!({ "leases": [] }), 30000), Origin::Operator);
        // Kea 2.2's HA hook sends no origin: nothing to tell them apart.
        assert_eq!(Origin::of_at("lease4-update", &lease, 20200), Origin::Unknown);
        assert_eq!(Origin::of_at("dhcp-disable", &json!({ "max-period": 5, "origin": "ha-partner" }), 20200), Origin::HaPartner);
        assert_eq!(Origin::of_at("dhcp-disable", &json!({ "origin": "user" }), 30000), Origin::Operator);
        assert_eq!(Origin::of_at("ha-sync-complete-notify", &json!({ "origin": 2001 }), 20600), Origin::HaPartner);
        assert_eq!(Origin::of_at("ha-sync-complete-notify", &json!({ "origin-id": 2001, "origin": 2001 }), 30000), Origin::HaPartner);
        assert_eq!(Origin::of_at("ha-sync-complete-notify", &Value::Null, 20200), Origin::Unknown);
        assert_eq!(Origin::of_at("ha-heartbeat", &Value::Null, 30000), Origin::Unknown);
        assert_eq!(Origin::of_at("lease4-get-page", &json!({ "from": "start", "limit": 10 }), 30000), Origin::Unknown);
        // HA never sends these.
        assert_eq!(Origin::of_at("lease4-add", &lease, 20200), Origin::Operator);
        assert_eq!(Origin::of_at("lease4-wipe", &Value::Null, 30000), Origin::Operator);
    }
}
