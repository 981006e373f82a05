//! `lease-stats-get` in kea-dhcp6: stat_cmds' `stat-lease6-get` arguments
//! (the same as DHCPv4's: see [`crate::query::parse`]) and answer, from
//! [`Tracker6`]'s counts.
//!
//! stat_cmds' columns, as read at each release tag: `subnet-id, total-nas,
//! cumulative-assigned-nas, assigned-nas, declined-nas, total-pds,
//! cumulative-assigned-pds, assigned-pds` on 2.2; `declined-addresses`
//! instead of `declined-nas` from 2.4; from 3.2 `assigned-nas` counts the
//! declined addresses too. `total-nas` and `total-pds` are Kea's own
//! statistics: an integer on 2.2 (a pool of 2^64 addresses or more makes it
//! -1 there: Kea casts its saturated capacity to a signed 64-bit integer),
//! a big integer from 2.4 (stat_cmds sends it as a bare JSON number, which
//! [`big_integer`] reproduces).

use kea_hooks::command::big_integer;
use serde_json::{json, Value};

use crate::query::{select, Query};
use crate::tracker::Figures;
use crate::tracker6::Tracker6;

/// stat_cmds' name for the declined-addresses column on this release.
pub const DECLINED_COLUMN: &str =
    if kea_hooks::KEA_HOOKS_VERSION >= 20400 { "declined-addresses" } else { "declined-nas" };

/// Whether Kea's JSON has big integers (2.6+ parses them; 2.2 refuses a
/// number beyond `i64`).
const BIG_INTEGERS: bool = kea_hooks::KEA_HOOKS_VERSION >= 20600;

/// An integer for the answer: as is where Kea has big integers, else
/// clamped to `i64` (only the hook's own pool sizes reach that far on 2.2;
/// Kea's totals there are already 64-bit).
pub fn kea_int(v: i128) -> Value {
    if BIG_INTEGERS {
        big_integer(v)
    } else {
        json!(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// What Kea's statistics say of a subnet (stat_cmds takes these columns
/// from them, 0 when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeaFigures6 {
    /// `subnet[id].total-nas`.
    pub total_nas: i128,
    /// `subnet[id].cumulative-assigned-nas`.
    pub cumulative_nas: i64,
    /// `subnet[id].total-pds`.
    pub total_pds: i128,
    /// `subnet[id].cumulative-assigned-pds`.
    pub cumulative_pds: i64,
}

/// The answer: `Ok((text, arguments))` for result 0, `Err(text)` for result
/// 3 (nothing matched), with the texts of [`crate::query::answer`].
pub fn answer(
    command: &str,
    q: &Query,
    declined_in_assigned: bool,
    tracker: &Tracker6,
    kea: impl Fn(u32) -> KeaFigures6,
    timestamp: String,
) -> Result<(String, Value), String> {
    let chosen = select(command, q, tracker.subnets(), |s| s.id)?;
    let mut columns = vec!["subnet-id"];
    if q.pools {
        columns.push("pool");
    }
    columns.extend([
        "total-nas",
        "cumulative-assigned-nas",
        "assigned-nas",
        DECLINED_COLUMN,
        "total-pds",
        "cumulative-assigned-pds",
        "assigned-pds",
    ]);
    if q.extended {
        columns.extend([
            "free-nas",
            "released-nas",
            "reclaimed-nas",
            "reclaimed-declined-nas",
            "free-pds",
            "released-pds",
            "reclaimed-pds",
        ]);
    }
    if q.utilization {
        columns.extend(["utilization-nas", "utilization-pds"]);
    }
    let zero = Figures::default();
    let mut rows = Vec::new();
    for s in chosen {
        if q.pools {
            for p in &s.pools {
                let f = p.counters.figures();
                let mut row = vec![json!(s.id), json!(p.text())];
                let na = Side { total: kea_int(p.size() as i128), cumulative: f.granted as i64, size: p.size(), used: f.used(), f };
                let pd = Side { total: json!(0), cumulative: 0, size: 0, used: 0, f: zero };
                push_row(&mut row, q, declined_in_assigned, &na, &pd);
                rows.push(Value::Array(row));
            }
            for p in &s.pd_pools {
                let f = p.counters.figures();
                let mut row = vec![json!(s.id), json!(p.text())];
                let na = Side { total: json!(0), cumulative: 0, size: 0, used: 0, f: zero };
                let pd = Side { total: kea_int(p.size() as i128), cumulative: f.granted as i64, size: p.size(), used: f.used(), f };
                push_row(&mut row, q, declined_in_assigned, &na, &pd);
                rows.push(Value::Array(row));
            }
        } else {
            let k = kea(s.id);
            let mut row = vec![json!(s.id)];
            let na = Side {
                total: kea_int(k.total_nas),
                cumulative: k.cumulative_nas,
                size: s.total_nas(),
                used: s.used_nas_in_pools(),
                f: s.na.figures(),
            };
            let pd = Side {
                total: kea_int(k.total_pds),
                cumulative: k.cumulative_pds,
                size: s.total_pds(),
                used: s.used_pds_in_pools(),
                f: s.pd.figures(),
            };
            push_row(&mut row, q, declined_in_assigned, &na, &pd);
            rows.push(Value::Array(row));
        }
    }
    let text = format!("{command}{}: {} rows found", q.selection.text(), rows.len());
    let arguments = json!({ "result-set": { "timestamp": timestamp, "columns": columns, "rows": rows } });
    Ok((text, arguments))
}

/// One family's values of a row: the total and cumulative columns as sent,
/// the pool size and what is taken of it (for the extras), the counters.
struct Side {
    total: Value,
    cumulative: i64,
    size: u128,
    used: i64,
    f: Figures,
}

fn push_row(row: &mut Vec<Value>, q: &Query, declined_in_assigned: bool, na: &Side, pd: &Side) {
    let assigned = if declined_in_assigned { na.f.used() } else { na.f.assigned };
    row.extend([na.total.clone(), json!(na.cumulative), json!(assigned), json!(na.f.declined)]);
    row.extend([pd.total.clone(), json!(pd.cumulative), json!(pd.f.assigned)]);
    if q.extended {
        let free = |s: &Side| kea_int((s.size.min(i128::MAX as u128) as i128 - i128::from(s.used)).max(0));
        row.extend([free(na), json!(na.f.released), json!(na.f.reclaimed), json!(na.f.reclaimed_declined)]);
        row.extend([free(pd), json!(pd.f.released), json!(pd.f.reclaimed)]);
    }
    if q.utilization {
        row.extend([json!(utilization(na.size, na.used)), json!(utilization(pd.size, pd.used))]);
    }
}

/// The share of `size` in use, 0 to 1, four decimals (a /64 pool rounds to
/// 0 with any realistic number of leases).
pub fn utilization(size: u128, used: i64) -> f64 {
    if size == 0 {
        return 0.0;
    }
    let u = used.max(0) as f64 / size as f64;
    (u * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;
    use crate::tracker::{Cause, Held};
    use kea_hooks::dhcp6::{LeaseType, PdPool6Config, Pool6Config, Subnet6Config};

    fn ip(s: &str) -> std::net::Ipv6Addr {
        s.parse().unwrap()
    }

    fn tracker() -> Tracker6 {
        Tracker6::new(&[
            Subnet6Config {
                id: 1,
                prefix: ip("2001:2::"),
                prefix_len: 48,
                pools: vec![Pool6Config { first: ip("2001:2::100"), last: ip("2001:2::1ff"), id: 0 }],
                pd_pools: vec![PdPool6Config { prefix: ip("2001:2:0:100::"), prefix_len: 56, delegated_len: 64, id: 0 }],
            },
            Subnet6Config {
                id: 4,
                prefix: ip("2001:2:0:4::"),
                prefix_len: 64,
                pools: vec![Pool6Config { first: ip("2001:2:0:4::"), last: ip("2001:2:0:4:ffff:ffff:ffff:ffff"), id: 0 }],
                pd_pools: vec![],
            },
        ])
    }

    #[test]
    fn answers_have_stat_lease6_get_layout() {
        let t = tracker();
        t.event(LeaseType::Na, ip("2001:2::100"), 1, Some(Held::Assigned), Cause::Committed);
        t.event(LeaseType::Na, ip("2001:2::101"), 1, Some(Held::Declined), Cause::Declined);
        t.event(LeaseType::Pd, ip("2001:2:0:100::"), 1, Some(Held::Assigned), Cause::Committed);
        t.event(LeaseType::Ta, ip("2001:2::102"), 1, Some(Held::Assigned), Cause::Committed);
        let kea = |id: u32| KeaFigures6 {
            total_nas: if id == 1 { 256 } else { 1 << 64 },
            cumulative_nas: 3,
            total_pds: if id == 1 { 256 } else { 0 },
            cumulative_pds: 1,
        };
        let ts = || "2026-12-07 01:02:03.000004".to_string();
        let (text, args) = answer("lease-stats-get", &parse(None).unwrap(), false, &t, kea, ts()).unwrap();
        assert_eq!(text, "lease-stats-get[all subnets]: 2 rows found");
        let big = kea_int(1 << 64);
        assert_eq!(
            args,
            json!({"result-set": {"timestamp": "2026-12-07 01:02:03.000004",
                "columns": ["subnet-id", "total-nas", "cumulative-assigned-nas", "assigned-nas", DECLINED_COLUMN,
                            "total-pds", "cumulative-assigned-pds", "assigned-pds"],
                "rows": [[1, 256, 3, 1, 1, 256, 1, 1], [4, big, 3, 0, 0, 0, 1, 0]]}})
        );
        let (_, args) = answer("x", &parse(None).unwrap(), true, &t, kea, ts()).unwrap();
        assert_eq!(args["result-set"]["rows"][0][3], 2, "3.2: assigned-nas counts the declined address too");
        let q = parse(Some(&json!({"subnet-id": 1, "pools": true, "utilization": true, "extended": true}))).unwrap();
        let (text, args) = answer("x", &q, false, &t, kea, ts()).unwrap();
        assert_eq!(text, "x[subnet-id=1]: 2 rows found");
        assert_eq!(args["result-set"]["columns"].as_array().unwrap().len(), 18);
        assert_eq!(
            args["result-set"]["rows"],
            json!([
                [1, "2001:2::100-2001:2::1ff", 256, 1, 1, 1, 0, 0, 0, 254, 0, 0, 0, 0, 0, 0, 0.0078, 0.0],
                [1, "2001:2:0:100::/56 delegated /64", 0, 0, 0, 0, 256, 1, 1, 0, 0, 0, 0, 255, 0, 0, 0.0, 0.0039]
            ])
        );
        assert_eq!(
            answer("x", &parse(Some(&json!({"subnet-id": 3}))).unwrap(), false, &t, kea, ts()).unwrap_err(),
            "x[subnet-id=3]: no matching data, subnet-id: 3 does not exist"
        );
        assert_eq!(
            answer("x", &parse(Some(&json!({"subnet-range": {"first-subnet-id": 5, "last-subnet-id": 9}}))).unwrap(), false, &t, kea, ts())
                .unwrap_err(),
            "x[subnets 5 through 9]: no matching data, selected ID range: 5 through 9 includes no known subnets"
        );
    }

    #[test]
    fn sizes_beyond_i64_follow_the_release() {
        let v = kea_int(1 << 64);
        if BIG_INTEGERS {
            assert_eq!(v, big_integer(1 << 64));
        } else {
            assert_eq!(v, json!(i64::MAX));
        }
        assert_eq!(kea_int(-1), json!(-1));
    }
}
