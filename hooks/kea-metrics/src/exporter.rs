//! kea-exporter's metric families (PyPI `kea-exporter` 0.7), rebuilt from
//! its documented behaviour: the same names, types, label names and label
//! values for the same statistics, so dashboards and alert rules written
//! for it work unchanged.
//!
//! How kea-exporter reads a statistic, and so how this module does:
//! * a global statistic on its ignore list is left out (for DHCPv4:
//!   `pkt4-received`, `pkt4-sent`, `v4-allocation-fail*`, ...: sums, or
//!   figures it shows per subnet);
//! * `subnet[ID].NAME` and `subnet[ID].pool[N].NAME` are read with
//!   `subnet` = the subnet's prefix as `config-get` writes it and
//!   `subnet_id` = ID; a subnet that `config-get` does not list at the top
//!   level (one in a shared network) is left out; `N` is read as the
//!   pool's position in the subnet's `pools` list (Kea names pool
//!   statistics by `pool-id`, 0 unless configured), `pool` = that pool's
//!   text, and a position past the list is left out; subnet statistics get
//!   `pool=""`;
//! * `NAME` picks the family and fixed labels (`operation`, `context`);
//!   labels the family does not have are dropped; statistics it does not
//!   know (`subnet[ID].pd-pool[N].*` among them) are left out;
//! * every family is a gauge, whatever its name says;
//! * when two statistics give the same sample, the later in name order
//!   wins (DHCPv6's `declined-reclaimed-addresses` and
//!   `reclaimed-declined-addresses`).
//!
//! kea-exporter's omissions (shared networks' subnets, pool ids) are made
//! up for by the families of [`crate::generic`], not by changing these.

/// A family: its name after `kea_dhcp4_`/`kea_dhcp6_`, its help, its
/// label names.
pub struct Family {
    /// The name after the daemon's prefix.
    pub name: &'static str,
    /// Its HELP text.
    pub help: &'static str,
    /// Its label names, in order.
    pub labels: &'static [&'static str],
}

/// What a statistic's name (without `subnet[ID].` or `pool[N].`) feeds:
/// the family (an index into the family table) and a fixed label.
pub struct Mapping {
    /// The statistic's name.
    pub stat: &'static str,
    /// The family's index.
    pub family: usize,
    /// A fixed label (`operation`, `context`) and its value.
    pub label: Option<(&'static str, &'static str)>,
}

/// One daemon's tables.
pub struct Tables {
    /// The families, in the order of the page.
    pub families: &'static [Family],
    /// Statistic name -> family.
    pub map: &'static [Mapping],
    /// Global statistics left out.
    pub global_ignore: &'static [&'static str],
    /// Subnet and pool statistics left out.
    pub subnet_ignore: &'static [&'static str],
}

impl Tables {
    /// The mapping of statistic `name`.
    pub fn mapping(&self, name: &str) -> Option<&Mapping> {
        self.map.iter().find(|m| m.stat == name)
    }
}

const OP: &[&str] = &["operation"];
const CTX: &[&str] = &["subnet", "subnet_id", "context"];
const SSP: &[&str] = &["subnet", "subnet_id", "pool"];
const SS: &[&str] = &["subnet", "subnet_id"];

const fn fam(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Family {
    Family { name, help, labels }
}

const fn map(stat: &'static str, family: usize, label: Option<(&'static str, &'static str)>) -> Mapping {
    Mapping { stat, family, label }
}

const fn op(v: &'static str) -> Option<(&'static str, &'static str)> {
    Some(("operation", v))
}

const fn ctx(v: &'static str) -> Option<(&'static str, &'static str)> {
    Some(("context", v))
}

/// kea-dhcp4's.
pub const DHCP4: Tables = Tables {
    families: &[
        fam("packets_sent_total", "Packets sent, by message type.", OP),
        fam("packets_received_total", "Packets received, by message type (drop: dropped, parse-failed: unparsable).", OP),
        fam("allocations_failed_total", "Address allocations that failed, by where the search ended.", CTX),
        fam("addresses_assigned_total", "Addresses leased (state default), per subnet and pool.", SSP),
        fam("addresses_declined_total", "Addresses declined, per subnet and pool.", SSP),
        fam("addresses_declined_reclaimed_total", "Declined addresses reclaimed, per subnet and pool.", SSP),
        fam("addresses_reclaimed_total", "Expired leases reclaimed, per subnet and pool.", SSP),
        fam("addresses_total", "Addresses in the pools, per subnet and pool.", SSP),
        fam("reservation_conflicts_total", "Reserved addresses that could not be given, per subnet.", SS),
        fam("leases_reused_total", "Leases renewed by reusing the lease in place, per subnet.", SS),
    ],
    map: &[
        map("pkt4-ack-sent", 0, op("ack")),
        map("pkt4-nak-sent", 0, op("nak")),
        map("pkt4-offer-sent", 0, op("offer")),
        map("pkt4-discover-received", 1, op("discover")),
        map("pkt4-offer-received", 1, op("offer")),
        map("pkt4-request-received", 1, op("request")),
        map("pkt4-ack-received", 1, op("ack")),
        map("pkt4-nak-received", 1, op("nak")),
        map("pkt4-release-received", 1, op("release")),
        map("pkt4-decline-received", 1, op("decline")),
        map("pkt4-inform-received", 1, op("inform")),
        map("pkt4-unknown-received", 1, op("unknown")),
        map("pkt4-parse-failed", 1, op("parse-failed")),
        map("pkt4-receive-drop", 1, op("drop")),
        map("v4-allocation-fail-subnet", 2, ctx("subnet")),
        map("v4-allocation-fail-shared-network", 2, ctx("shared-network")),
        map("v4-allocation-fail-no-pools", 2, ctx("no-pools")),
        map("v4-allocation-fail-classes", 2, ctx("classes")),
        map("v4-lease-reuses", 9, None),
        map("assigned-addresses", 3, None),
        map("declined-addresses", 4, None),
        map("reclaimed-declined-addresses", 5, None),
        map("reclaimed-leases", 6, None),
        map("total-addresses", 7, None),
        map("v4-reservation-conflicts", 8, None),
    ],
    global_ignore: &[
        "cumulative-assigned-addresses",
        "declined-addresses",
        "reclaimed-declined-addresses",
        "reclaimed-leases",
        "v4-reservation-conflicts",
        "v4-allocation-fail",
        "v4-allocation-fail-subnet",
        "v4-allocation-fail-shared-network",
        "v4-allocation-fail-no-pools",
        "v4-allocation-fail-classes",
        "pkt4-sent",
        "pkt4-received",
        "v4-lease-reuses",
    ],
    subnet_ignore: &["cumulative-assigned-addresses", "v4-allocation-fail"],
};

/// kea-dhcp6's.
pub const DHCP6: Tables = Tables {
    families: &[
        fam("packets_sent_total", "Packets sent, by message type.", OP),
        fam("packets_received_total", "Packets received, by message type (drop: dropped, parse-failed: unparsable).", OP),
        fam("packets_sent_dhcp4_total", "DHCPv4-over-DHCPv6 packets sent.", OP),
        fam("packets_received_dhcp4_total", "DHCPv4-over-DHCPv6 packets received.", OP),
        fam("allocations_failed_total", "Lease allocations that failed, by where the search ended.", CTX),
        fam("addresses_declined_total", "Addresses declined, per subnet and pool.", SSP),
        fam("addresses_declined_reclaimed_total", "Declined addresses reclaimed, per subnet and pool.", SSP),
        fam("addresses_reclaimed_total", "Expired leases reclaimed, per subnet and pool.", SSP),
        fam("reservation_conflicts_total", "Reserved leases that could not be given, per subnet.", SS),
        fam("na_assigned_total", "Addresses leased (IA_NA, state default), per subnet and pool.", SSP),
        fam("na_total", "Addresses in the pools (IA_NA), per subnet and pool.", SSP),
        fam("na_reuses_total", "IA_NA leases renewed by reuse in place, per subnet.", SSP),
        fam("pd_assigned_total", "Prefixes delegated (IA_PD, state default), per subnet.", SS),
        fam("pd_total", "Prefixes the prefix-delegation pools hold, per subnet.", SS),
        fam("pd_reuses_total", "IA_PD leases renewed by reuse in place, per subnet.", SSP),
    ],
    map: &[
        map("pkt6-advertise-sent", 0, op("advertise")),
        map("pkt6-reply-sent", 0, op("reply")),
        map("pkt6-receive-drop", 1, op("drop")),
        map("pkt6-parse-failed", 1, op("parse-failed")),
        map("pkt6-solicit-received", 1, op("solicit")),
        map("pkt6-advertise-received", 1, op("advertise")),
        map("pkt6-request-received", 1, op("request")),
        map("pkt6-reply-received", 1, op("reply")),
        map("pkt6-renew-received", 1, op("renew")),
        map("pkt6-rebind-received", 1, op("rebind")),
        map("pkt6-release-received", 1, op("release")),
        map("pkt6-decline-received", 1, op("decline")),
        map("pkt6-infrequest-received", 1, op("infrequest")),
        map("pkt6-unknown-received", 1, op("unknown")),
        map("pkt6-dhcpv4-response-sent", 2, op("response")),
        map("pkt6-dhcpv4-query-received", 3, op("query")),
        map("pkt6-dhcpv4-response-received", 3, op("response")),
        map("v6-allocation-fail-shared-network", 4, ctx("shared-network")),
        map("v6-allocation-fail-subnet", 4, ctx("subnet")),
        map("v6-allocation-fail-no-pools", 4, ctx("no-pools")),
        map("v6-allocation-fail-classes", 4, ctx("classes")),
        map("assigned-nas", 9, None),
        map("assigned-pds", 12, None),
        map("declined-addresses", 5, None),
        map("declined-reclaimed-addresses", 6, None),
        map("reclaimed-declined-addresses", 6, None),
        map("reclaimed-leases", 7, None),
        map("total-nas", 10, None),
        map("total-pds", 13, None),
        map("v6-reservation-conflicts", 8, None),
        map("v6-ia-na-lease-reuses", 11, None),
        map("v6-ia-pd-lease-reuses", 14, None),
    ],
    global_ignore: &[
        "cumulative-assigned-addresses",
        "declined-addresses",
        "cumulative-assigned-nas",
        "cumulative-assigned-pds",
        "reclaimed-declined-addresses",
        "reclaimed-leases",
        "v6-reservation-conflicts",
        "v6-allocation-fail",
        "v6-allocation-fail-subnet",
        "v6-allocation-fail-shared-network",
        "v6-allocation-fail-no-pools",
        "v6-allocation-fail-classes",
        "v6-ia-na-lease-reuses",
        "v6-ia-pd-lease-reuses",
        "pkt6-sent",
        "pkt6-received",
    ],
    subnet_ignore: &["cumulative-assigned-addresses", "cumulative-assigned-nas", "cumulative-assigned-pds", "v6-allocation-fail"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapping_names_a_family_with_its_fixed_label() {
        for t in [&DHCP4, &DHCP6] {
            for m in t.map {
                let f = &t.families[m.family];
                if let Some((label, _)) = m.label {
                    assert!(f.labels.contains(&label), "{} -> {}", m.stat, f.name);
                }
            }
            for (i, f) in t.families.iter().enumerate() {
                assert!(t.map.iter().any(|m| m.family == i), "{} is fed by nothing", f.name);
            }
        }
    }
}
