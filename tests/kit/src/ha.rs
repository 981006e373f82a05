//! A Kea High Availability pair: two kea-dhcp4 (or kea-dhcp6) servers,
//! each in a network namespace of its own, on one test network with the
//! clients, running ISC's HA hook over its dedicated HTTP listener.
//!
//! ```text
//!   kha<N>                   khc<N>                         khb<N>
//!   server1  vka<N> ---- vpa<N> [bridge vkc<N>] vpb<N> ---- vkb<N>  server2
//!   .1, ::1                  .2, ::2 (clients)                    .3, ::3
//! ```
//!
//! The bridge sits in the clients' namespace, so a client's broadcast (or
//! DHCPv6 multicast) reaches both servers, and the servers' HA traffic
//! (HTTP, port [`HA_PORT`]) goes through it too, on the pair's
//! 198.18.X.0/24. Each server's side looks like a [`NetPair`]
//! ([`HaNet::view`]), so [`KeaConfig`], perfdhcp and the test clients work
//! unchanged.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::build::{hooks_together, isc_hook};
use crate::kea::{Family, Kea, KeaConfig};
use crate::netns::{ip, NetPair};

/// The port of each server's HA listener (in its own namespace).
pub const HA_PORT: u16 = 8080;

/// The HA timers the pair runs with, in ms: a heartbeat every second, the
/// partner taken for down after 3 s without an answer (with
/// `max-unacked-clients` 0 nothing else is waited for), so failover and
/// sync take seconds.
pub const HEARTBEAT_DELAY_MS: u64 = 1000;
/// See [`HEARTBEAT_DELAY_MS`].
pub const MAX_RESPONSE_DELAY_MS: u64 = 3000;

/// Whether this Kea has ISC's HA hook. Every Debian Kea ships
/// `libdhcp_ha.so` (this panics when one lacks it); a Kea 3.2+ built from
/// source into `/usr/local` may lack it, and there this prints why the HA
/// test does not apply and returns false. Not a skip:
/// that build cannot have it. Start every HA test with
/// `if !ha_hook() { return; }` after [`crate::require_root_and_kea`].
pub fn ha_hook() -> bool {
    let source_built = Path::new("/usr/local/sbin/kea-dhcp4").exists() && crate::kea_hooks_version() >= 30200;
    let has = ["/usr/local/lib/kea/hooks", "/usr/lib/x86_64-linux-gnu/kea/hooks"].iter().any(|d| Path::new(d).join("libdhcp_ha.so").exists());
    if source_built && !has {
        use std::io::Write;
        let v = crate::kea_hooks_version();
        let _ = writeln!(std::io::stderr(), "not applicable: this Kea {}.{} build has no HA hook (libdhcp_ha.so)", v / 10000, v / 100 % 100);
        return false;
    }
    // Panics, naming the directories, on a Debian Kea without it.
    isc_hook("libdhcp_ha.so");
    true
}

/// The test network of an HA pair (see the module's picture): three
/// namespaces, a bridge in the clients' one, deleted on drop.
#[derive(Debug)]
pub struct HaNet {
    views: [NetPair; 2],
}

impl HaNet {
    /// Creates the namespaces, the bridge and both servers' links, unique
    /// per process and call; panics with `ip`'s stderr if a step fails.
    pub fn new() -> HaNet {
        let id = NetPair::next_id();
        let c = format!("khc{id:x}");
        let bridge = format!("vkc{id:x}");
        let servers = [(format!("kha{id:x}"), format!("vka{id:x}"), format!("vpa{id:x}")), (format!("khb{id:x}"), format!("vkb{id:x}"), format!("vpb{id:x}"))];
        let net = HaNet {
            views: [
                NetPair::view(id, 1, servers[0].0.clone(), servers[0].1.clone(), c.clone(), bridge.clone()),
                NetPair::view(id, 3, servers[1].0.clone(), servers[1].1.clone(), c.clone(), bridge.clone()),
            ],
        };
        // (From here a failed step panics and dropping `net` deletes what
        // was made.)
        for ns in net.namespaces() {
            let _ = std::process::Command::new(crate::env::find_program("ip").unwrap_or_else(|| "ip".into())).args(["netns", "del", &ns]).output();
            ip(&["netns", "add", &ns]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        // No STP (ports forward at once) and no multicast snooping (DHCPv6
        // multicast reaches every port whatever MLD said).
        ip(&["-n", &c, "link", "add", &bridge, "type", "bridge", "stp_state", "0", "mcast_snooping", "0"]);
        let no_dad = |ns: &str, dev: &str| {
            crate::netns::in_netns(ns, || {
                let path = format!("/proc/sys/net/ipv6/conf/{dev}/accept_dad");
                std::fs::write(&path, "0").unwrap_or_else(|e| panic!("write {path}: {e}"));
            })
        };
        no_dad(&c, &bridge);
        for ((ns, dev, port), view) in servers.iter().zip(&net.views) {
            ip(&["-n", ns, "link", "add", dev, "type", "veth", "peer", "name", port, "netns", &c]);
            no_dad(ns, dev);
            no_dad(&c, port);
            ip(&["-n", &c, "link", "set", port, "master", &bridge]);
            ip(&["-n", ns, "addr", "add", &format!("{}/24", view.server_addr()), "dev", dev]);
            ip(&["-n", ns, "addr", "add", &format!("{}/64", view.server_addr6()), "dev", dev, "nodad"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", &c, "link", "set", port, "up"]);
        }
        let v = &net.views[0];
        ip(&["-n", &c, "addr", "add", &format!("{}/24", v.client_addr()), "dev", &bridge]);
        ip(&["-n", &c, "addr", "add", &format!("{}/64", v.client_addr6()), "dev", &bridge, "nodad"]);
        ip(&["-n", &c, "link", "set", &bridge, "up"]);
        net
    }

    fn namespaces(&self) -> [String; 3] {
        [self.views[0].client_ns(), self.views[0].server_ns(), self.views[1].server_ns()]
    }

    /// Server `i`'s (0 or 1) side of the network as a [`NetPair`]: its
    /// namespace, interface and address, and the clients' namespace and
    /// bridge. For [`KeaConfig::new`], perfdhcp and the test clients.
    pub fn view(&self, i: usize) -> &NetPair {
        &self.views[i]
    }

    /// Server `i`'s HA URL, `http://198.18.X.{1,3}:8080/`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}:{HA_PORT}/", self.views[i].server_addr())
    }
}

impl Default for HaNet {
    fn default() -> Self {
        HaNet::new()
    }
}

impl Drop for HaNet {
    fn drop(&mut self) {
        for ns in self.namespaces() {
            let _ = std::process::Command::new(crate::env::find_program("ip").unwrap_or_else(|| "ip".into())).args(["netns", "del", &ns]).output();
        }
    }
}

/// The HA mode of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaMode {
    /// `hot-standby`: server1 (primary) serves, server2 (standby) takes
    /// over when the primary is down.
    HotStandby,
    /// `load-balancing`: both serve, each its half of the clients.
    LoadBalancing,
}

impl HaMode {
    /// The mode's name in the HA configuration, which is also the state
    /// both servers reach in normal operation.
    pub fn name(self) -> &'static str {
        match self {
            HaMode::HotStandby => "hot-standby",
            HaMode::LoadBalancing => "load-balancing",
        }
    }
}

/// The server names in the HA configuration.
pub const HA_SERVERS: [&str; 2] = ["server1", "server2"];

/// A running HA pair (see [`HaPair::configs`] and [`HaPair::start`]).
/// Dropping it stops both servers, then deletes the network.
pub struct HaPair {
    servers: [Option<Kea>; 2],
    configs: [KeaConfig; 2],
    net: HaNet,
    mode: HaMode,
}

impl HaPair {
    /// Both servers' configurations for `net`: kea-dhcp4 (or kea-dhcp6,
    /// `family`) serving the network's subnet on the server's interface,
    /// Kea's multi-threading on (2.2's default is off, and HA's dedicated
    /// listener needs it), loggers at INFO, and the hooks
    /// `libdhcp_lease_cmds.so`, `libdhcp_ha.so` (mode `mode`, the fast
    /// timers above, the dedicated listener with one thread each way),
    /// then `hooks` (library, parameters) in that order, all copied into
    /// one directory per server ([`hooks_together`]). Change them (e.g.
    /// [`KeaConfig::merge`]) before [`HaPair::start`].
    pub fn configs(net: &HaNet, family: Family, mode: HaMode, hooks: &[(PathBuf, Option<Value>)]) -> [KeaConfig; 2] {
        HaPair::configs_around(net, family, mode, &[], hooks)
    }

    /// [`HaPair::configs`] with `before` listed between lease_cmds and
    /// HA, and `after` after HA: `hooks-libraries` is lease_cmds,
    /// `before`..., HA, `after`.... Order matters where two libraries
    /// park the same packet (HA and a hook holding the reply): Kea
    /// releases a parked packet when every library that has taken a
    /// reference so far let go, so one listed after HA can find the packet
    /// already released by HA's quick lease update.
    pub fn configs_around(
        net: &HaNet,
        family: Family,
        mode: HaMode,
        before: &[(PathBuf, Option<Value>)],
        after: &[(PathBuf, Option<Value>)],
    ) -> [KeaConfig; 2] {
        [0, 1].map(|i| {
            let view = net.view(i);
            let cfg = match family {
                Family::V4 => KeaConfig::new(view),
                Family::V6 => KeaConfig::new6(view),
            }
            .multi_threading(true);
            let isc = [isc_hook("libdhcp_lease_cmds.so"), isc_hook("libdhcp_ha.so")];
            let libs: Vec<PathBuf> = isc.iter().cloned().chain(before.iter().chain(after).map(|(l, _)| l.clone())).collect();
            let copies = hooks_together(cfg.dir(), &libs);
            let roles = match mode {
                HaMode::HotStandby => ["primary", "standby"],
                HaMode::LoadBalancing => ["primary", "secondary"],
            };
            let peers: Vec<Value> = (0..2).map(|j| json!({ "name": HA_SERVERS[j], "url": net.url(j), "role": roles[j], "auto-failover": true })).collect();
            let ha = json!({ "high-availability": [{
                "this-server-name": HA_SERVERS[i], "mode": mode.name(),
                "heartbeat-delay": HEARTBEAT_DELAY_MS, "max-response-delay": MAX_RESPONSE_DELAY_MS,
                "max-ack-delay": 1000, "max-unacked-clients": 0, "sync-timeout": 5000,
                "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true,
                                     "http-listener-threads": 1, "http-client-threads": 1 },
                "peers": peers,
            }]});
            let mut cfg = cfg.hook(&copies[0], None);
            for (copy, (_, params)) in copies[2..2 + before.len()].iter().zip(before) {
                cfg = cfg.hook(copy, params.clone());
            }
            cfg = cfg.hook(&copies[1], Some(ha));
            for (copy, (_, params)) in copies[2 + before.len()..].iter().zip(after) {
                cfg = cfg.hook(copy, params.clone());
            }
            cfg
        })
    }

    /// Starts both servers (without waiting for their HA state: see
    /// [`HaPair::wait_for_states`]). Panics with Kea's output when one
    /// does not start.
    pub fn start(net: HaNet, configs: [KeaConfig; 2], mode: HaMode) -> HaPair {
        let servers = [0, 1].map(|i| Some(configs[i].clone().start(net.view(i)).unwrap_or_else(|e| panic!("{}: {e}", HA_SERVERS[i]))));
        HaPair { servers, configs, net, mode }
    }

    /// The network.
    pub fn net(&self) -> &HaNet {
        &self.net
    }

    /// The pair's mode.
    pub fn mode(&self) -> HaMode {
        self.mode
    }

    /// Server `i` (0: server1, the primary; 1: server2). Panics when it is
    /// killed.
    pub fn kea(&self, i: usize) -> &Kea {
        self.servers[i].as_ref().unwrap_or_else(|| panic!("{} is not running", HA_SERVERS[i]))
    }

    /// Server `i`'s own HA state, from `status-get` on its control socket
    /// (`high-availability[0].ha-servers.local.state`); `None` before the
    /// HA service reports one.
    pub fn state(&self, i: usize) -> Option<String> {
        let answer = self.kea(i).command("status-get", None);
        answer.pointer("/arguments/high-availability/0/ha-servers/local/state").and_then(Value::as_str).map(str::to_owned)
    }

    /// Polls `status-get` on both servers (every 50 ms) until server `i`
    /// reports `states[i]` (`None`: not checked, e.g. a killed server);
    /// returns how long it took. Panics after `bound`, with the states
    /// seen and both logs' tails.
    pub fn wait_for_states(&self, states: [Option<&str>; 2], bound: Duration) -> Duration {
        let t0 = Instant::now();
        loop {
            let seen: Vec<Option<String>> = (0..2).map(|i| states[i].and_then(|_| self.state(i))).collect();
            if (0..2).all(|i| states[i].is_none() || seen[i].as_deref() == states[i]) {
                return t0.elapsed();
            }
            if t0.elapsed() > bound {
                let tails: Vec<String> = (0..2)
                    .filter_map(|i| self.servers[i].as_ref().map(|k| (i, k)))
                    .map(|(i, k)| {
                        let log = k.log();
                        let lines: Vec<&str> = log.lines().collect();
                        format!("--- {} ---\n{}", HA_SERVERS[i], lines[lines.len().saturating_sub(30)..].join("\n"))
                    })
                    .collect();
                panic!("HA states {seen:?} after {bound:?}, waiting for {states:?}\n{}", tails.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to `bound`) until both servers are in the mode's normal
    /// state (`hot-standby` or `load-balancing`); returns how long it took.
    pub fn wait_for_normal(&self, bound: Duration) -> Duration {
        let s = self.mode.name();
        self.wait_for_states([Some(s), Some(s)], bound)
    }

    /// Kills server `i` (SIGKILL by its pid: a crash; its lease file stays).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut kea) = self.servers[i].take() {
            kea.kill();
        }
    }

    /// Starts server `i` again with the configuration and directory (lease
    /// file) it had. Panics with Kea's output when it does not start.
    pub fn restart(&mut self, i: usize) {
        assert!(self.servers[i].is_none(), "{} is running", HA_SERVERS[i]);
        let kea = self.configs[i].clone().start(self.net.view(i)).unwrap_or_else(|e| panic!("{} again: {e}", HA_SERVERS[i]));
        self.servers[i] = Some(kea);
    }

    /// `ha-sync` on server `i`'s control socket: it fetches every lease of
    /// its partner (`server-name`) and writes them to its own database;
    /// returns Kea's answer once the sync is over.
    pub fn ha_sync(&self, i: usize) -> Value {
        self.kea(i).command("ha-sync", Some(json!({ "server-name": HA_SERVERS[1 - i] })))
    }
}

impl Drop for HaPair {
    fn drop(&mut self) {
        // Both at once: an HA server's SIGTERM shutdown takes 1-3 s.
        std::thread::scope(|s| {
            for kea in self.servers.iter_mut() {
                if let Some(k) = kea.as_mut() {
                    s.spawn(move || drop(k.stop()));
                }
            }
        });
    }
}
