//! Grafana dashboards (the example in `docker/examples/grafana/`): the
//! metric names their PromQL queries use, so a test can check each one
//! against a real metrics page.
//!
//! ```no_run
//! use kea_hooks_tests::grafana::{dashboard_metric_names, dashboard_path};
//! for name in dashboard_metric_names(&dashboard_path()) {
//!     println!("{name}");
//! }
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::build::workspace_root;

/// The example dashboard: `docker/examples/grafana/kea-dashboard.json`.
pub fn dashboard_path() -> PathBuf {
    workspace_root().join("docker/examples/grafana/kea-dashboard.json")
}

/// Every metric name the queries of the dashboard at `path` use: the
/// `expr` of every entry of every `targets` list anywhere in it (panels,
/// panels inside rows, collapsed or not), read by
/// [`promql_metric_names`]. Template variables' queries are not read.
///
/// Panics when the file cannot be read or is not JSON, or when a target's
/// `expr` is not a string.
pub fn dashboard_metric_names(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dashboard: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
    let mut names = BTreeSet::new();
    for expr in dashboard_exprs(&dashboard) {
        names.extend(promql_metric_names(&expr));
    }
    names
}

/// The `expr` of every target anywhere in `dashboard`, in document order.
/// Panics on a target whose `expr` is there but not a string.
pub fn dashboard_exprs(dashboard: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(targets)) = map.get("targets") {
                    for t in targets {
                        match t.get("expr") {
                            None => {}
                            Some(Value::String(e)) => out.push(e.clone()),
                            Some(other) => panic!("a target's expr is not a string: {other}"),
                        }
                    }
                }
                for (k, child) in map {
                    if k != "targets" {
                        walk(child, out);
                    }
                }
            }
            Value::Array(list) => list.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(dashboard, &mut out);
    out
}

/// PromQL's keywords that stand where a name could (binary operators,
/// modifiers, `inf`/`nan`), compared in lowercase.
const KEYWORDS: [&str; 14] =
    ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"];

/// PromQL's aggregation operators: keywords, followed by `(` or by a
/// `by`/`without` clause.
const AGGREGATIONS: [&str; 14] = [
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: [&str; 6] = ["by", "without", "on", "ignoring", "group_left", "group_right"];

/// The metric names PromQL expression `expr` uses: every identifier that
/// is not a function (an identifier followed by `(`), an aggregation
/// operator (`sum`, `count`, `topk`, ...), a keyword (`by`, `without`, `on`, `ignoring`, `group_left`,
/// `group_right`, `bool`, `and`, `or`, `unless`, `offset`, `atan2`,
/// `inf`, `nan`) or a label name (inside `{...}`, or in the list after
/// `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`); plus
/// the value of a `__name__="..."` matcher. Strings, numbers, durations,
/// ranges and subqueries (`[...]`), comments and Grafana's variables
/// (`$instance`, `${instance}`, `$__rate_interval`) are skipped.
///
/// A tokenizer, not a parser: it assumes a well-formed expression.
pub fn promql_metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' => i = skip_while(&chars, i, |c| c != '\n'),
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '[' => i = skip_until(&chars, i + 1, ']'),
            '{' => {
                let end = skip_until(&chars, i + 1, '}');
                let inner_end = if chars.get(end.wrapping_sub(1)) == Some(&'}') && end > i + 1 { end - 1 } else { end };
                if let Some(name) = name_matcher(&chars[i + 1..inner_end]) {
                    names.insert(name);
                }
                i = end;
            }
            '$' => i = skip_variable(&chars, i),
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => i = skip_number(&chars, i),
            c if is_ident_start(c) => {
                let end = skip_while(&chars, i, is_ident_char);
                let word: String = chars[i..end].iter().collect();
                let next = skip_while(&chars, end, char::is_whitespace);
                let lower = word.to_ascii_lowercase();
                let paren = chars.get(next) == Some(&'(');
                if LABEL_LISTS.contains(&lower.as_str()) && paren {
                    i = skip_until(&chars, next + 1, ')');
                } else if paren || KEYWORDS.contains(&lower.as_str()) || AGGREGATIONS.contains(&lower.as_str()) {
                    // A function, an aggregation or a keyword.
                    i = end;
                } else {
                    names.insert(word);
                    i = end;
                }
            }
            _ => i += 1,
        }
    }
    names
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The first index at or after `i` whose character fails `keep`.
fn skip_while(chars: &[char], mut i: usize, keep: impl Fn(char) -> bool) -> usize {
    while i < chars.len() && keep(chars[i]) {
        i += 1;
    }
    i
}

/// Past the string starting at `i` (its quote), escapes included (none in
/// backquoted strings).
fn skip_string(chars: &[char], i: usize) -> usize {
    let quote = chars[i];
    let mut j = i + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' if quote != '`' => j += 2,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    chars.len()
}

/// Past the first `close` at or after `i` that is outside a string.
fn skip_until(chars: &[char], mut i: usize, close: char) -> usize {
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => i = skip_string(chars, i),
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// Past a Grafana variable at `i` (its `$`): `$name`, `${name}`,
/// `${name:format}`. (`[[name]]` is skipped as a range.)
fn skip_variable(chars: &[char], i: usize) -> usize {
    if chars.get(i + 1) == Some(&'{') {
        skip_until(chars, i + 2, '}')
    } else {
        skip_while(chars, i + 1, is_ident_char)
    }
}

/// Past a number or duration at `i`: `42`, `0.5`, `1e-3`, `0x1f`, `5m`,
/// `1h30m`.
fn skip_number(chars: &[char], start: usize) -> usize {
    let hex = chars.get(start + 1).is_some_and(|c| c.eq_ignore_ascii_case(&'x'));
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        let exponent_sign = !hex && i > start && (c == '+' || c == '-') && matches!(chars[i - 1], 'e' | 'E');
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The metric name of a `__name__="..."` matcher among the label matchers
/// `inside` (the text between `{` and `}`).
fn name_matcher(inside: &[char]) -> Option<String> {
    let text: String = inside.iter().collect();
    for matcher in split_matchers(&text) {
        let m = matcher.trim();
        let Some(rest) = m.strip_prefix("__name__") else { continue };
        let rest = rest.trim_start();
        let Some(value) = rest.strip_prefix('=') else { continue };
        if value.starts_with('~') {
            // A regular expression: no one name.
            continue;
        }
        let value = value.trim();
        let quote = value.chars().next()?;
        if matches!(quote, '"' | '\'' | '`') && value.len() >= 2 && value.ends_with(quote) {
            let name = &value[1..value.len() - 1];
            if !name.contains('\\') {
                return Some(name.to_owned());
            }
        }
    }
    None
}

/// `a="x", b=~"y,z"` split at the commas outside strings.
fn split_matchers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            ',' => {
                parts.push(chars[start..i].iter().collect());
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    parts.push(chars[start..].iter().collect());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        promql_metric_names(expr).into_iter().collect()
    }

    #[test]
    fn a_rate_summed_by_labels() {
        assert_eq!(
            names(r#"sum by (instance, operation) (rate(kea_dhcp4_packets_received_total{instance=~"$instance"}[$__rate_interval]))"#),
            ["kea_dhcp4_packets_received_total"]
        );
        // The modifier after the aggregation, and a fixed range.
        assert_eq!(names("sum(rate(kea_dhcp6_packets_sent_total[5m])) without (job)"), ["kea_dhcp6_packets_sent_total"]);
    }

    #[test]
    fn unions_divisions_and_joins() {
        let expr = r#"
            (kea_dhcp4_addresses_assigned_total{pool="", instance=~"${instance:regex}"} or kea_dhcp4_subnet_assigned_addresses{instance=~"$instance"})
            / on (instance, subnet_id) group_left ()
            (kea_dhcp4_addresses_total{pool=""} or kea_dhcp4_subnet_total_addresses)
            * on (instance, subnet_id) group_left (shared_network) kea_dhcp4_subnet_info
        "#;
        assert_eq!(
            names(expr),
            [
                "kea_dhcp4_addresses_assigned_total",
                "kea_dhcp4_addresses_total",
                "kea_dhcp4_subnet_assigned_addresses",
                "kea_dhcp4_subnet_info",
                "kea_dhcp4_subnet_total_addresses"
            ]
        );
        assert_eq!(names("kea_up unless ignoring(daemon) kea_ha_state or kea_build_info == bool 1"), ["kea_build_info", "kea_ha_state", "kea_up"]);
    }

    #[test]
    fn numbers_durations_strings_and_keywords_are_no_names() {
        assert_eq!(names("kea_metrics_scrape_seconds * 1e3 > 0.5 or vector(0)"), ["kea_metrics_scrape_seconds"]);
        assert_eq!(names("delta(kea_metrics_statistics[1h:5m] offset 1d) + Inf - NaN + 0x1F + 1e-3"), ["kea_metrics_statistics"]);
        assert_eq!(
            names(r#"label_replace(kea_build_info, "release", "$1", "version", "(\\d+\\.\\d+).*") # a comment naming not_a_metric"#),
            ["kea_build_info"]
        );
        assert_eq!(names(r#"count_values("version", kea_build_info{version!~"2\\.2.*", daemon='dhcp4'})"#), ["kea_build_info"]);
        assert_eq!(names("topk(5, max_over_time(kea_metrics_read_seconds[$__range]))"), ["kea_metrics_read_seconds"]);
        assert_eq!(names(r#"{__name__="kea_up", daemon="dhcp6"}"#), ["kea_up"]);
        assert!(names(r#"{__name__=~"kea_dhcp4_.+"}"#).is_empty());
        assert!(names("").is_empty());
    }

    #[test]
    fn dashboard_targets_nested_in_rows() {
        let dashboard = serde_json::json!({
            "panels": [
                { "type": "timeseries", "targets": [{ "expr": "kea_up" }, { "refId": "B" }] },
                { "type": "row", "collapsed": true, "panels": [
                    { "type": "stat", "targets": [{ "expr": "max by (instance) (kea_metrics_scrape_seconds)" }] }
                ]}
            ]
        });
        assert_eq!(dashboard_exprs(&dashboard), ["kea_up", "max by (instance) (kea_metrics_scrape_seconds)"]);
    }

    /// The example dashboard: every query is named, uses the datasource
    /// variable and only `kea_` names.
    #[test]
    fn the_example_dashboard_uses_only_kea_names() {
        let path = dashboard_path();
        let names = dashboard_metric_names(&path);
        assert!(names.len() >= 10, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("kea_")), "{names:?}");
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for e in dashboard_exprs(&dashboard) {
            assert!(!promql_metric_names(&e).is_empty(), "a query without a metric: {e}");
        }
    }
}
