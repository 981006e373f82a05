//! The metrics page: Kea's statistics in the Prometheus text format
//! (version 0.0.4), in kea-exporter's families ([`crate::exporter`]) and
//! the generic ones ([`generic_name`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use kea_hooks::stats::{StatValue, Statistic};
use serde_json::Value;

use crate::exporter::Tables;

/// A pool of the configuration: its text as Kea writes it and its
/// `pool-id` (0 when none is configured, as Kea counts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// `198.18.0.10-198.18.0.20`, `2001:2::/64`; a prefix-delegation
    /// pool's prefix and length.
    pub text: String,
    /// Its `pool-id`.
    pub id: u64,
    /// A prefix-delegation pool's `delegated-len`.
    pub delegated_len: Option<u64>,
}

/// A subnet of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetInfo {
    /// Its prefix as Kea writes it (`198.18.0.0/24`).
    pub prefix: String,
    /// Its address pools, in order.
    pub pools: Vec<PoolInfo>,
    /// Its prefix-delegation pools, in order.
    pub pd_pools: Vec<PoolInfo>,
    /// The shared network it is in.
    pub shared_network: Option<String>,
}

/// The configuration's subnets, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// Every subnet, shared networks' included.
    pub subnets: BTreeMap<u32, SubnetInfo>,
}

fn pools(v: &Value, key: &str, pd: bool) -> Vec<PoolInfo> {
    let Some(list) = v[key].as_array() else { return Vec::new() };
    list.iter()
        .map(|p| {
            let id = p["pool-id"].as_u64().unwrap_or(0);
            if pd {
                let text = format!("{}/{}", p["prefix"].as_str().unwrap_or_default(), p["prefix-len"].as_u64().unwrap_or(0));
                PoolInfo { text, id, delegated_len: p["delegated-len"].as_u64() }
            } else {
                PoolInfo { text: p["pool"].as_str().unwrap_or_default().to_owned(), id, delegated_len: None }
            }
        })
        .collect()
}

impl Topology {
    /// From the configuration's subnet list and shared networks as Kea
    /// writes them (`subnets4_json`/`shared_networks4_json` or the
    /// DHCPv6 twins).
    pub fn from_json(subnets: &Value, shared_networks: &Value, v6: bool) -> Topology {
        let list_key = if v6 { "subnet6" } else { "subnet4" };
        let mut network_of = HashMap::new();
        for n in shared_networks.as_array().into_iter().flatten() {
            let name = n["name"].as_str().unwrap_or_default();
            for s in n[list_key].as_array().into_iter().flatten() {
                if let Some(id) = s["id"].as_u64() {
                    network_of.insert(id, name.to_owned());
                }
            }
        }
        let mut out = Topology::default();
        for s in subnets.as_array().into_iter().flatten() {
            let Some(id) = s["id"].as_u64().and_then(|i| u32::try_from(i).ok()) else { continue };
            out.subnets.insert(
                id,
                SubnetInfo {
                    prefix: s["subnet"].as_str().unwrap_or_default().to_owned(),
                    pools: pools(s, "pools", false),
                    pd_pools: pools(s, "pd-pools", true),
                    shared_network: network_of.get(&u64::from(id)).cloned(),
                },
            );
        }
        out
    }
}

/// Where a statistic's name puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// A server-wide statistic (Kea's or a hook's): `pkt4-received`.
    Global(&'a str),
    /// `subnet[ID].NAME`.
    Subnet { id: u32, stat: &'a str },
    /// `subnet[ID].pool[N].NAME`.
    Pool { id: u32, pool: u64, stat: &'a str },
    /// `subnet[ID].pd-pool[N].NAME`.
    PdPool { id: u32, pool: u64, stat: &'a str },
}

/// `[\w-]+` of kea-exporter's pattern.
fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// `PREFIX[N].` at the start of `s`: N and the rest.
fn indexed<'a>(s: &'a str, prefix: &str) -> Option<(u64, &'a str)> {
    let rest = s.strip_prefix(prefix)?.strip_prefix('[')?;
    let (n, rest) = rest.split_once("].")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((n.parse().ok()?, rest))
}

/// The scope of statistic `name` (names that look like a subnet's but do
/// not parse are global).
pub fn scope(name: &str) -> Scope<'_> {
    let Some((id, rest)) = indexed(name, "subnet").and_then(|(id, rest)| Some((u32::try_from(id).ok()?, rest))) else {
        return Scope::Global(name);
    };
    if let Some((pool, stat)) = indexed(rest, "pool").filter(|(_, s)| is_word(s)) {
        return Scope::Pool { id, pool, stat };
    }
    if let Some((pool, stat)) = indexed(rest, "pd-pool").filter(|(_, s)| is_word(s)) {
        return Scope::PdPool { id, pool, stat };
    }
    if is_word(rest) {
        return Scope::Subnet { id, stat: rest };
    }
    Scope::Global(name)
}

/// A label value, escaped as the text format wants.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `a="x",b="y"`.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{}\"", escape(v));
    }
    out
}

/// A float as the text format writes it.
pub fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// A number statistic's value as text; `None` for text statistics.
fn number(v: &StatValue) -> Option<String> {
    match v {
        StatValue::Integer(i) => Some(i.to_string()),
        StatValue::BigInteger(i) => Some(i.to_string()),
        StatValue::Float(f) => Some(float(*f)),
        StatValue::Duration(d) => Some(float(d.as_secs_f64())),
        _ => None,
    }
}

/// A metric family being written: its type, help and samples (label
/// text -> value, the first occurrence's order kept, the last value).
#[derive(Debug, Default)]
pub struct FamilyOut {
    kind: &'static str,
    help: String,
    samples: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl FamilyOut {
    /// A family of `kind` (`gauge`, `counter`).
    pub fn new(kind: &'static str, help: impl Into<String>) -> FamilyOut {
        FamilyOut { kind, help: help.into(), ..FamilyOut::default() }
    }

    /// Sets the sample with `labels` (as [`labels`] writes them).
    pub fn set(&mut self, labels: String, value: String) {
        match self.index.get(&labels) {
            Some(&i) => self.samples[i].1 = value,
            None => {
                self.index.insert(labels.clone(), self.samples.len());
                self.samples.push((labels, value));
            }
        }
    }

    /// Writes the family as `name` (nothing when it has no sample).
    pub fn write(&self, out: &mut String, name: &str) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {name} {}", self.help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(out, "# TYPE {name} {}", self.kind);
        for (l, v) in &self.samples {
            if l.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{l}}} {v}");
            }
        }
    }
}

/// A statistic name as a metric name's part: lowercase, every run of
/// characters other than letters and digits one `_`.
pub fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Whether Kea statistic `stat` (its name without subnet or pool) only
/// grows until Kea resets it: then a counter.
pub fn is_counter(stat: &str) -> bool {
    const PREFIXES: [&str; 5] = ["pkt4-", "pkt6-", "cumulative-", "reclaimed-", "declined-reclaimed-"];
    const PARTS: [&str; 3] = ["allocation-fail", "reservation-conflicts", "lease-reuses"];
    PREFIXES.iter().any(|p| stat.starts_with(p)) || PARTS.iter().any(|p| stat.contains(p))
}

/// The generic family of a statistic `stat` (its name without subnet or
/// pool) holding `value`, with `scope` the part after the daemon's prefix
/// that says where it is (`""`, `subnet_`, `pool_`, `pd_pool_`): the
/// family's name after `kea_dhcp4_`/`kea_dhcp6_` and its type. Counters
/// end in `_total`, durations in `_seconds`, text statistics in `_info`
/// (value 1, the text in label `value`).
pub fn generic_name(scope: &str, stat: &str, value: &StatValue) -> (String, &'static str) {
    let base = format!("{scope}{}", sanitize(stat));
    match value {
        StatValue::String(_) => (format!("{base}_info"), "gauge"),
        StatValue::Duration(_) => (format!("{base}_seconds"), "gauge"),
        _ if is_counter(stat) => (if base.ends_with("_total") { base } else { format!("{base}_total") }, "counter"),
        _ => (base, "gauge"),
    }
}

/// The families of one page, by name, each written once.
#[derive(Debug, Default)]
pub struct Families {
    exporter: Vec<FamilyOut>,
    generic: BTreeMap<String, FamilyOut>,
}

/// Pools of `list` with id `id`, their texts joined with `,`.
fn pools_with_id(list: &[PoolInfo], id: u64) -> String {
    list.iter().filter(|p| p.id == id).map(|p| p.text.as_str()).collect::<Vec<_>>().join(",")
}

impl Families {
    /// Every statistic of `stats` (in name order) into kea-exporter's
    /// families of `tables` and the generic ones.
    pub fn from_statistics(stats: &[Statistic], topology: &Topology, tables: &Tables) -> Families {
        let mut f = Families { exporter: tables.families.iter().map(|fam| FamilyOut::new("gauge", fam.help)).collect(), generic: BTreeMap::new() };
        for s in stats {
            let scope = scope(&s.name);
            let shown = f.exporter_sample(scope, &s.value, topology, tables);
            let pooled = matches!(scope, Scope::Pool { .. } | Scope::PdPool { .. });
            if !shown || pooled {
                f.generic_sample(scope, &s.value, topology);
            }
        }
        f
    }

    /// kea-exporter's sample of a statistic, if it has one; whether it did.
    fn exporter_sample(&mut self, scope: Scope<'_>, value: &StatValue, topology: &Topology, tables: &Tables) -> bool {
        let Some(value) = number(value) else { return false };
        let mut have: Vec<(&str, String)> = Vec::new();
        let stat = match scope {
            Scope::Global(stat) => {
                if tables.global_ignore.contains(&stat) {
                    return false;
                }
                stat
            }
            Scope::Subnet { id, stat } | Scope::Pool { id, stat, .. } => {
                if tables.subnet_ignore.contains(&stat) {
                    return false;
                }
                // kea-exporter knows the subnets config-get lists at the
                // top level: not those of shared networks.
                let Some(subnet) = topology.subnets.get(&id).filter(|s| s.shared_network.is_none()) else { return false };
                have.push(("subnet", subnet.prefix.clone()));
                have.push(("subnet_id", id.to_string()));
                if let Scope::Pool { pool, .. } = scope {
                    let Some(p) = usize::try_from(pool).ok().and_then(|i| subnet.pools.get(i)) else { return false };
                    have.push(("pool", p.text.clone()));
                } else {
                    have.push(("pool", String::new()));
                }
                stat
            }
            Scope::PdPool { .. } => return false,
        };
        let Some(m) = tables.mapping(stat) else { return false };
        if let Some((k, v)) = m.label {
            have.push((k, v.to_owned()));
        }
        let family = &tables.families[m.family];
        let mut pairs = Vec::with_capacity(family.labels.len());
        for name in family.labels {
            // A family label the statistic does not give: kea-exporter
            // fails on it; nothing is shown.
            let Some((_, v)) = have.iter().find(|(k, _)| k == name) else { return false };
            pairs.push((*name, v.as_str()));
        }
        self.exporter[m.family].set(labels(&pairs), value);
        true
    }

    /// The generic sample of a statistic.
    fn generic_sample(&mut self, scope: Scope<'_>, value: &StatValue, topology: &Topology) {
        let subnet_text = |id: u32| topology.subnets.get(&id).map(|s| s.prefix.as_str()).unwrap_or("");
        let (prefix, stat, mut pairs) = match scope {
            Scope::Global(stat) => ("", stat, Vec::new()),
            Scope::Subnet { id, stat } => ("subnet_", stat, vec![("subnet_id", id.to_string()), ("subnet", subnet_text(id).to_owned())]),
            Scope::Pool { id, pool, stat } | Scope::PdPool { id, pool, stat } => {
                let pd = matches!(scope, Scope::PdPool { .. });
                let list = topology.subnets.get(&id).map(|s| if pd { &s.pd_pools } else { &s.pools });
                let text = list.map(|l| pools_with_id(l, pool)).unwrap_or_default();
                let scope_name = if pd { "pd_pool_" } else { "pool_" };
                (scope_name, stat, vec![("subnet_id", id.to_string()), ("subnet", subnet_text(id).to_owned()), ("pool_id", pool.to_string()), ("pool", text)])
            }
        };
        let (name, kind) = generic_name(prefix, stat, value);
        let value = match value {
            StatValue::String(text) => {
                pairs.push(("value", text.clone()));
                "1".to_owned()
            }
            v => number(v).unwrap_or_else(|| "NaN".into()),
        };
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let help = format!("Kea's statistic {}{stat}.", match scope {
            Scope::Global(_) => "",
            Scope::Subnet { .. } => "subnet[ID].",
            Scope::Pool { .. } => "subnet[ID].pool[POOL_ID].",
            Scope::PdPool { .. } => "subnet[ID].pd-pool[POOL_ID].",
        });
        self.generic.entry(name).or_insert_with(|| FamilyOut::new(kind, help)).set(labels(&pairs), value);
    }

    /// Writes every family, names prefixed with `prefix` (`kea_dhcp4_`):
    /// kea-exporter's first, in its order, then the generic ones by name.
    pub fn write(&self, out: &mut String, prefix: &str, tables: &Tables) {
        for (fam, f) in tables.families.iter().zip(&self.exporter) {
            f.write(out, &format!("{prefix}{}", fam.name));
        }
        for (name, f) in &self.generic {
            f.write(out, &format!("{prefix}{name}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::{DHCP4, DHCP6};
    use serde_json::json;

    fn stat(name: &str, v: i64) -> Statistic {
        Statistic { name: name.into(), value: StatValue::Integer(v) }
    }

    fn topology() -> Topology {
        Topology::from_json(
            &json!([
                {"id": 7, "subnet": "198.18.0.0/24", "pools": [{"pool": "198.18.0.10-198.18.0.20"}, {"pool": "198.18.0.30-198.18.0.40"}, {"pool": "198.18.0.64/28", "pool-id": 5}]},
                {"id": 9, "subnet": "198.18.1.0/24", "pools": [{"pool": "198.18.1.10-198.18.1.20"}]}
            ]),
            &json!([{"name": "net-\"a\"", "subnet4": [{"id": 9}]}]),
            false,
        )
    }

    fn page(stats: &[Statistic]) -> String {
        let mut out = String::new();
        Families::from_statistics(stats, &topology(), &DHCP4).write(&mut out, "kea_dhcp4_", &DHCP4);
        out
    }

    #[test]
    fn names_parse_into_scopes() {
        assert_eq!(scope("pkt4-received"), Scope::Global("pkt4-received"));
        assert_eq!(scope("subnet[7].assigned-addresses"), Scope::Subnet { id: 7, stat: "assigned-addresses" });
        assert_eq!(scope("subnet[7].pool[5].total-addresses"), Scope::Pool { id: 7, pool: 5, stat: "total-addresses" });
        assert_eq!(scope("subnet[1].pd-pool[0].assigned-pds"), Scope::PdPool { id: 1, pool: 0, stat: "assigned-pds" });
        assert_eq!(scope("subnet[x].a"), Scope::Global("subnet[x].a"));
        assert_eq!(scope("run-script.runs"), Scope::Global("run-script.runs"));
    }

    #[test]
    fn kea_exporter_families_as_it_shows_them() {
        let p = page(&[
            stat("pkt4-discover-received", 3),
            stat("pkt4-received", 9),
            stat("subnet[7].assigned-addresses", 2),
            stat("subnet[7].pool[0].assigned-addresses", 2),
            stat("subnet[7].pool[5].assigned-addresses", 1),
            stat("subnet[7].v4-reservation-conflicts", 0),
            stat("subnet[9].assigned-addresses", 4),
            stat("subnet[7].cumulative-assigned-addresses", 6),
        ]);
        assert!(p.contains("# TYPE kea_dhcp4_packets_received_total gauge\nkea_dhcp4_packets_received_total{operation=\"discover\"} 3\n"), "{p}");
        assert!(p.contains("kea_dhcp4_addresses_assigned_total{subnet=\"198.18.0.0/24\",subnet_id=\"7\",pool=\"\"} 2\n"), "{p}");
        // pool[0] read as the first pool; pool[5] is past the list.
        assert!(p.contains("kea_dhcp4_addresses_assigned_total{subnet=\"198.18.0.0/24\",subnet_id=\"7\",pool=\"198.18.0.10-198.18.0.20\"} 2\n"), "{p}");
        assert!(!p.contains("subnet_id=\"7\",pool=\"198.18.0.64/28\""), "{p}");
        assert!(p.contains("kea_dhcp4_reservation_conflicts_total{subnet=\"198.18.0.0/24\",subnet_id=\"7\"} 0\n"), "{p}");
        // A shared network's subnet: not in kea-exporter's families, in
        // the generic ones.
        assert!(!p.contains("kea_dhcp4_addresses_assigned_total{subnet=\"198.18.1.0/24\""), "{p}");
        assert!(p.contains("kea_dhcp4_subnet_assigned_addresses{subnet_id=\"9\",subnet=\"198.18.1.0/24\"} 4\n"), "{p}");
        // Pools by id: pool[0] is both pools without an id.
        assert!(p.contains("kea_dhcp4_pool_assigned_addresses{subnet_id=\"7\",subnet=\"198.18.0.0/24\",pool_id=\"0\",pool=\"198.18.0.10-198.18.0.20,198.18.0.30-198.18.0.40\"} 2\n"), "{p}");
        assert!(p.contains("kea_dhcp4_pool_assigned_addresses{subnet_id=\"7\",subnet=\"198.18.0.0/24\",pool_id=\"5\",pool=\"198.18.0.64/28\"} 1\n"), "{p}");
        // What kea-exporter leaves out, generically, counters as counters.
        assert!(p.contains("# TYPE kea_dhcp4_pkt4_received_total counter\nkea_dhcp4_pkt4_received_total 9\n"), "{p}");
        assert!(p.contains("kea_dhcp4_subnet_cumulative_assigned_addresses_total{subnet_id=\"7\",subnet=\"198.18.0.0/24\"} 6\n"), "{p}");
        // Each family once.
        for line in p.lines().filter(|l| l.starts_with("# TYPE")) {
            assert_eq!(p.matches(&format!("{line}\n")).count(), 1, "{line}");
        }
    }

    #[test]
    fn the_later_of_two_statistics_of_one_sample_wins() {
        let topo = Topology::from_json(&json!([{"id": 1, "subnet": "2001:2::/64", "pools": [], "pd-pools": [{"prefix": "2001:2:0:100::", "prefix-len": 56, "delegated-len": 64}]}]), &json!([]), true);
        let stats = [stat("subnet[1].declined-reclaimed-addresses", 1), stat("subnet[1].pd-pool[0].assigned-pds", 3), stat("subnet[1].reclaimed-declined-addresses", 2)];
        let mut p = String::new();
        Families::from_statistics(&stats, &topo, &DHCP6).write(&mut p, "kea_dhcp6_", &DHCP6);
        assert!(p.contains("kea_dhcp6_addresses_declined_reclaimed_total{subnet=\"2001:2::/64\",subnet_id=\"1\",pool=\"\"} 2\n"), "{p}");
        assert!(p.contains("kea_dhcp6_pd_pool_assigned_pds{subnet_id=\"1\",subnet=\"2001:2::/64\",pool_id=\"0\",pool=\"2001:2:0:100::/56\"} 3\n"), "{p}");
    }

    #[test]
    fn other_hooks_texts_and_escapes() {
        let p = page(&[
            stat("run-script.runs", 4),
            Statistic { name: "x.version".into(), value: StatValue::String("a\"b\\c\nd".into()) },
            Statistic { name: "x.wait".into(), value: StatValue::Duration(std::time::Duration::from_millis(1500)) },
        ]);
        assert!(p.contains("# TYPE kea_dhcp4_run_script_runs gauge\nkea_dhcp4_run_script_runs 4\n"), "{p}");
        assert!(p.contains("kea_dhcp4_x_version_info{value=\"a\\\"b\\\\c\\nd\"} 1\n"), "{p}");
        assert!(p.contains("kea_dhcp4_x_wait_seconds 1.5\n"), "{p}");
        assert_eq!(sanitize("--A..b--"), "a_b");
    }
}
