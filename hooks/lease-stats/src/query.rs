//! `lease-stats-get`: stat_cmds' `stat-lease4-get` arguments and answer,
//! from the tracker's counts.

use serde_json::{json, Map, Value};

use crate::tracker::{Figures, Tracker};

/// Whether the `assigned-addresses` column counts declined addresses too:
/// stat_cmds' does from Kea 3.2 on (as Kea's own statistic always has),
/// not before. The answers follow the release they run in.
pub const DECLINED_IN_ASSIGNED: bool = kea_hooks::KEA_HOOKS_VERSION >= 30200;

/// Which subnets a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// No `subnet-id` or `subnet-range`.
    All,
    /// `subnet-id`.
    Subnet(u32),
    /// `subnet-range`, both ends included.
    Range(u32, u32),
}

impl Selection {
    /// As stat_cmds writes it in its answers' text.
    pub fn text(self) -> String {
        match self {
            Selection::All => "[all subnets]".into(),
            Selection::Subnet(id) => format!("[subnet-id={id}]"),
            Selection::Range(a, b) => format!("[subnets {a} through {b}]"),
        }
    }
}

/// A parsed `lease-stats-get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The subnets.
    pub selection: Selection,
    /// A row per pool instead of per subnet.
    pub pools: bool,
    /// Add a `utilization` column.
    pub utilization: bool,
    /// Add the free, released and reclaimed columns.
    pub extended: bool,
}

/// An id argument: an integer, 1 or more (the checks and messages of
/// stat_cmds, which also refuses 1.0 and "1").
fn id(v: &Value, not_integer: &str, name: &str) -> Result<u32, String> {
    let n = match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
        _ => return Err(not_integer.to_owned()),
    };
    if n <= 0 {
        return Err(format!("'{name}' parameter must be > 0"));
    }
    u32::try_from(n).map_err(|_| format!("'{name}' parameter must be below 4294967296"))
}

fn flag(args: &Map<String, Value>, name: &str) -> Result<bool, String> {
    match args.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("'{name}' parameter is not a boolean")),
    }
}

/// Parses the command's arguments (`None` when it has none).
pub fn parse(args: Option<&Value>) -> Result<Query, String> {
    let mut q = Query { selection: Selection::All, pools: false, utilization: false, extended: false };
    let Some(args) = args else { return Ok(q) };
    let Value::Object(args) = args else { return Err("'arguments' parameter is not a map".into()) };
    if let Some(v) = args.get("subnet-id") {
        q.selection = Selection::Subnet(id(v, "'subnet-id' parameter is not integer", "subnet-id")?);
    }
    if let Some(range) = args.get("subnet-range") {
        if q.selection != Selection::All {
            return Err("cannot specify both subnet-id and subnet-range".into());
        }
        let Value::Object(range) = range else { return Err("subnet-range parameter is not a map".into()) };
        let end = |name: &str| {
            let missing = format!("'{name}' parameter missing or not an integer");
            id(range.get(name).unwrap_or(&Value::Null), &missing, name)
        };
        let first = end("first-subnet-id")?;
        let last = end("last-subnet-id")?;
        if last < first {
            return Err("'last-subnet-id' must be greater than 'first-subnet-id'".into());
        }
        q.selection = Selection::Range(first, last);
    }
    q.pools = flag(args, "pools")?;
    q.utilization = flag(args, "utilization")?;
    q.extended = flag(args, "extended")?;
    Ok(q)
}

/// What Kea's statistics say of a subnet (stat_cmds takes these two
/// columns from them, 0 when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeaFigures {
    /// `subnet[id].total-addresses`.
    pub total: i64,
    /// `subnet[id].cumulative-assigned-addresses`.
    pub cumulative: i64,
}

/// The subnets (sorted by id, as the trackers keep them) that `q` selects,
/// or stat_cmds' text for result 3 when it selects none: the same rules and
/// texts for both families.
pub fn select<'a, S>(command: &str, q: &Query, subnets: &'a [S], id_of: impl Fn(&S) -> u32) -> Result<&'a [S], String> {
    let chosen = match q.selection {
        Selection::All => subnets,
        Selection::Subnet(id) => {
            let i = subnets.partition_point(|s| id_of(s) < id);
            if subnets.get(i).is_none_or(|s| id_of(s) != id) {
                return Err(format!("{command}{}: no matching data, subnet-id: {id} does not exist", q.selection.text()));
            }
            &subnets[i..=i]
        }
        Selection::Range(a, b) => {
            let lo = subnets.partition_point(|s| id_of(s) < a);
            let hi = subnets.partition_point(|s| id_of(s) <= b);
            &subnets[lo..hi]
        }
    };
    if chosen.is_empty() {
        let (a, b) = match q.selection {
            Selection::Range(a, b) => (a, b),
            _ => (0, 0),
        };
        return Err(format!(
            "{command}{}: no matching data, selected ID range: {a} through {b} includes no known subnets",
            q.selection.text()
        ));
    }
    Ok(chosen)
}

/// The answer: `Ok((text, arguments))` for result 0, `Err(text)` for result
/// 3 (nothing matched: arguments `{}`).
pub fn answer(
    command: &str,
    q: &Query,
    declined_in_assigned: bool,
    tracker: &Tracker,
    kea: impl Fn(u32) -> KeaFigures,
    timestamp: String,
) -> Result<(String, Value), String> {
    let chosen = select(command, q, tracker.subnets(), |s| s.id)?;
    let mut columns = vec!["subnet-id"];
    if q.pools {
        columns.push("pool");
    }
    columns.extend(["total-addresses", "cumulative-assigned-addresses", "assigned-addresses", "declined-addresses"]);
    if q.extended {
        columns.extend(["free-addresses", "released-addresses", "reclaimed-addresses", "reclaimed-declined-addresses"]);
    }
    if q.utilization {
        columns.push("utilization");
    }
    let mut rows = Vec::new();
    for s in chosen {
        if q.pools {
            for p in &s.pools {
                let f = p.counters.figures();
                let mut row = vec![json!(s.id), json!(p.text()), json!(p.size()), json!(f.granted)];
                push_figures(&mut row, q, declined_in_assigned, p.size(), &f, f.used());
                rows.push(Value::Array(row));
            }
        } else {
            let f = s.counters.figures();
            let k = kea(s.id);
            let mut row = vec![json!(s.id), json!(k.total), json!(k.cumulative)];
            push_figures(&mut row, q, declined_in_assigned, s.total(), &f, s.used_in_pools());
            rows.push(Value::Array(row));
        }
    }
    let text = format!("{command}{}: {} rows found", q.selection.text(), rows.len());
    let arguments = json!({ "result-set": { "timestamp": timestamp, "columns": columns, "rows": rows } });
    Ok((text, arguments))
}

/// Assigned, declined and what `q` adds; `used` is what is taken of the
/// `size` addresses in pools.
fn push_figures(row: &mut Vec<Value>, q: &Query, declined_in_assigned: bool, size: u64, f: &Figures, used: i64) {
    let assigned = if declined_in_assigned { f.used() } else { f.assigned };
    row.extend([json!(assigned), json!(f.declined)]);
    if q.extended {
        let free = (i128::from(size) - i128::from(used)).max(0);
        row.extend([json!(free as u64), json!(f.released), json!(f.reclaimed), json!(f.reclaimed_declined)]);
    }
    if q.utilization {
        row.push(json!(utilization(size, used)));
    }
}

/// The share of `size` addresses in use, 0 to 1, four decimals.
pub fn utilization(size: u64, used: i64) -> f64 {
    if size == 0 {
        return 0.0;
    }
    let u = used.max(0) as f64 / size as f64;
    (u * 10_000.0).round() / 10_000.0
}

/// Now, as stat_cmds writes its timestamp: `YYYY-MM-DD HH:MM:SS.ffffff`, UTC.
pub fn timestamp_now() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    timestamp(d.as_secs() as i64, d.subsec_micros())
}

/// `secs` since the epoch and `micros` as `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn timestamp(secs: i64, micros: u32) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (the proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{micros:06}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::{Cause, Held};
    use kea_hooks::dhcp4::{Pool4Config, Subnet4Config};

    fn p(v: Value) -> Result<Query, String> {
        parse(Some(&v))
    }

    #[test]
    fn arguments_are_checked_as_stat_cmds_checks_them() {
        assert_eq!(parse(None).unwrap().selection, Selection::All);
        assert_eq!(p(json!({})).unwrap().selection, Selection::All);
        assert_eq!(p(json!({"bogus": 1})).unwrap().selection, Selection::All);
        assert_eq!(p(json!({"subnet-id": 4})).unwrap().selection, Selection::Subnet(4));
        let r = p(json!({"subnet-range": {"first-subnet-id": 2, "last-subnet-id": 3}})).unwrap();
        assert_eq!(r.selection, Selection::Range(2, 3));
        for (args, err) in [
            (json!([1]), "'arguments' parameter is not a map"),
            (json!({"subnet-id": "1"}), "'subnet-id' parameter is not integer"),
            (json!({"subnet-id": 1.0}), "'subnet-id' parameter is not integer"),
            (json!({"subnet-id": 0}), "'subnet-id' parameter must be > 0"),
            (json!({"subnet-id": 1, "subnet-range": {}}), "cannot specify both subnet-id and subnet-range"),
            (json!({"subnet-range": 1}), "subnet-range parameter is not a map"),
            (json!({"subnet-range": {"last-subnet-id": 2}}), "'first-subnet-id' parameter missing or not an integer"),
            (json!({"subnet-range": {"first-subnet-id": -1}}), "'first-subnet-id' parameter must be > 0"),
            (json!({"subnet-range": {"first-subnet-id": 1}}), "'last-subnet-id' parameter missing or not an integer"),
            (json!({"subnet-range": {"first-subnet-id": 3, "last-subnet-id": 2}}), "'last-subnet-id' must be greater than 'first-subnet-id'"),
            (json!({"pools": "yes"}), "'pools' parameter is not a boolean"),
            (json!({"subnet-id": 99999999999u64}), "'subnet-id' parameter must be below 4294967296"),
        ] {
            assert_eq!(p(args.clone()).unwrap_err(), err, "{args}");
        }
    }

    #[test]
    fn no_argument_makes_it_panic() {
        let odd = [
            json!(null), json!(true), json!(-1), json!(0), json!(1), json!(u64::MAX), json!(i64::MIN), json!(1.5),
            json!(f64::MAX), json!(""), json!("1"), json!([]), json!([1, 2]), json!({}), json!({"first-subnet-id": 1}),
            json!({"first-subnet-id": 5, "last-subnet-id": 4294967295u64}), json!({"first-subnet-id": u64::MAX, "last-subnet-id": 1}),
        ];
        let t = Tracker::new(&[]);
        for key in ["subnet-id", "subnet-range", "pools", "utilization", "extended", "other"] {
            for v in &odd {
                for args in [json!({ key: v }), json!({ key: v, "subnet-id": 1 }), json!({ key: v, "subnet-range": v })] {
                    if let Ok(q) = parse(Some(&args)) {
                        let _ = answer("x", &q, false, &t, |_| KeaFigures::default(), String::new());
                    }
                }
            }
            let _ = parse(Some(&json!(key)));
        }
    }

    #[test]
    fn answers_have_stat_cmds_layout() {
        let ip = |s: &str| s.parse().unwrap();
        let t = Tracker::new(&[
            Subnet4Config { id: 1, prefix: ip("198.18.1.0"), prefix_len: 24, pools: vec![Pool4Config { first: ip("198.18.1.10"), last: ip("198.18.1.19") }] },
            Subnet4Config { id: 5, prefix: ip("198.18.5.0"), prefix_len: 24, pools: vec![] },
        ]);
        t.event(ip("198.18.1.10"), 1, Some(Held::Assigned), Cause::Committed);
        t.event(ip("198.18.1.11"), 1, Some(Held::Declined), Cause::Declined);
        let kea = |id: u32| KeaFigures { total: if id == 1 { 10 } else { 0 }, cumulative: 7 };
        let ts = || "2026-11-30 01:02:03.000004".to_string();
        let (text, args) = answer("lease-stats-get", &parse(None).unwrap(), false, &t, kea, ts()).unwrap();
        assert_eq!(text, "lease-stats-get[all subnets]: 2 rows found");
        assert_eq!(
            args,
            json!({"result-set": {"timestamp": "2026-11-30 01:02:03.000004",
                "columns": ["subnet-id", "total-addresses", "cumulative-assigned-addresses", "assigned-addresses", "declined-addresses"],
                "rows": [[1, 10, 7, 1, 1], [5, 0, 7, 0, 0]]}})
        );
        let q = p(json!({"subnet-range": {"first-subnet-id": 2, "last-subnet-id": 9}, "pools": true, "utilization": true, "extended": true})).unwrap();
        let (text, args) = answer("x", &q, false, &t, kea, ts()).unwrap();
        assert_eq!(text, "x[subnets 2 through 9]: 0 rows found", "subnet 5 has no pool");
        assert_eq!(args["result-set"]["columns"].as_array().unwrap().len(), 11);
        let q = p(json!({"subnet-id": 1, "pools": true, "utilization": true, "extended": true})).unwrap();
        let (_, args) = answer("x", &q, false, &t, kea, ts()).unwrap();
        assert_eq!(args["result-set"]["rows"], json!([[1, "198.18.1.10-198.18.1.19", 10, 1, 1, 1, 8, 0, 0, 0, 0.2]]));
        let (_, args) = answer("x", &q, true, &t, kea, ts()).unwrap();
        assert_eq!(args["result-set"]["rows"][0][4], 2, "3.2: assigned counts the declined address too");
        assert_eq!(
            answer("x", &p(json!({"subnet-id": 3})).unwrap(), false, &t, kea, ts()).unwrap_err(),
            "x[subnet-id=3]: no matching data, subnet-id: 3 does not exist"
        );
        assert_eq!(
            answer("x", &p(json!({"subnet-range": {"first-subnet-id": 6, "last-subnet-id": 9}})).unwrap(), false, &t, kea, ts()).unwrap_err(),
            "x[subnets 6 through 9]: no matching data, selected ID range: 6 through 9 includes no known subnets"
        );
        let empty = Tracker::new(&[]);
        assert_eq!(
            answer("x", &parse(None).unwrap(), false, &empty, kea, ts()).unwrap_err(),
            "x[all subnets]: no matching data, selected ID range: 0 through 0 includes no known subnets"
        );
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0, 0), "1970-01-01 00:00:00.000000");
        assert_eq!(timestamp(951_782_400, 5), "2000-02-29 00:00:00.000005");
        assert_eq!(timestamp(1_796_000_000, 123_456), "2026-11-30 00:53:20.123456");
    }
}
