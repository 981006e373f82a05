//! A strict parser for the Prometheus text exposition format 0.0.4 (what
//! `GET /metrics` of an exporter answers): samples by name and label set,
//! and the families' types from the `# TYPE` lines.
//!
//! Strict on purpose, since the tests also parse the pages of this
//! project's hooks with it: a malformed line, a label name given twice, a
//! sample given twice, an unknown type or a second `# TYPE` line for a name
//! is an error naming the line, not something skipped.

use std::collections::BTreeMap;

/// A sample's labels, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// What identifies a sample on a page: its name and its labels.
pub type SampleKey = (String, Labels);

/// The samples of a page, by name and labels.
pub type Samples = BTreeMap<SampleKey, f64>;

/// The key of sample `name` with `labels` (in any order), to look a value
/// up in [`Samples`].
pub fn sample_key(name: &str, labels: &[(&str, &str)]) -> SampleKey {
    (name.to_owned(), labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// The samples of `samples` named `name`, by their labels (e.g. every
/// subnet's `kea_dhcp4_addresses_assigned_total`).
pub fn samples_named(samples: &Samples, name: &str) -> BTreeMap<Labels, f64> {
    samples.iter().filter(|((n, _), _)| n == name).map(|((_, labels), v)| (labels.clone(), *v)).collect()
}

/// Every sample of `text` (timestamps are checked and dropped), or the
/// first error with its line number.
pub fn parse_samples(text: &str) -> Result<Samples, String> {
    let mut samples = Samples::new();
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", i + 1);
        match classify(line).map_err(at)? {
            Line::Sample(name, labels, value) => {
                let key = (name, labels);
                if samples.insert(key.clone(), value).is_some() {
                    return Err(at(format!("sample {key:?} given twice")));
                }
            }
            Line::Type(..) | Line::Other => {}
        }
    }
    Ok(samples)
}

/// The metric families of `text` and their types (`counter`, `gauge`,
/// `histogram`, `summary`, `untyped`), from its `# TYPE` lines; an error
/// for a malformed line anywhere (as [`parse_samples`]), an unknown type,
/// a second `# TYPE` line for a name, or one after that name's samples.
pub fn families(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut types = BTreeMap::new();
    let mut sampled = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", i + 1);
        match classify(line).map_err(at)? {
            Line::Type(name, kind) => {
                if sampled.contains(&name) {
                    return Err(at(format!("# TYPE for {name} after its samples")));
                }
                if types.insert(name.clone(), kind).is_some() {
                    return Err(at(format!("a second # TYPE for {name}")));
                }
            }
            Line::Sample(name, ..) => {
                sampled.insert(name);
            }
            Line::Other => {}
        }
    }
    Ok(types)
}

enum Line {
    Sample(String, Labels, f64),
    Type(String, String),
    /// Blank, `# HELP`, or another comment.
    Other,
}

fn classify(line: &str) -> Result<Line, String> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    if trimmed.trim_end().is_empty() {
        return Ok(Line::Other);
    }
    if let Some(comment) = trimmed.strip_prefix('#') {
        let mut words = comment.trim_start_matches([' ', '\t']).splitn(2, [' ', '\t']);
        let keyword = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("").trim_start_matches([' ', '\t']);
        return match keyword {
            "TYPE" => {
                let mut parts = rest.split([' ', '\t']).filter(|p| !p.is_empty());
                let (Some(name), Some(kind), None) = (parts.next(), parts.next(), parts.next()) else {
                    return Err("# TYPE wants a name and a type".into());
                };
                check_metric_name(name)?;
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return Err(format!("unknown type {kind:?}"));
                }
                Ok(Line::Type(name.to_owned(), kind.to_owned()))
            }
            "HELP" => {
                let name = rest.split([' ', '\t']).next().unwrap_or("");
                check_metric_name(name)?;
                Ok(Line::Other)
            }
            _ => Ok(Line::Other),
        };
    }
    sample(trimmed).map(|(name, labels, value)| Line::Sample(name, labels, value))
}

/// `name[{labels}] value [timestamp]`.
fn sample(line: &str) -> Result<(String, Labels, f64), String> {
    let end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..end];
    check_metric_name(name)?;
    let mut rest = &line[end..];
    let mut labels = Labels::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = label_set(after, &mut labels)?;
    }
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err("no space before the value".into());
    }
    let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
    let value = fields.next().ok_or("no value")?;
    let value = parse_value(value)?;
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected {extra:?} after the timestamp"));
    }
    Ok((name.to_owned(), labels, value))
}

/// Parses the labels after `{` into `labels`; returns what follows `}`.
fn label_set<'a>(mut s: &'a str, labels: &mut Labels) -> Result<&'a str, String> {
    let skip_ws = |s: &'a str| s.trim_start_matches([' ', '\t']);
    loop {
        s = skip_ws(s);
        if let Some(after) = s.strip_prefix('}') {
            return Ok(after);
        }
        let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).ok_or("unterminated label set")?;
        let name = &s[..end];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("bad label name at {s:?}"));
        }
        s = skip_ws(&s[end..]);
        s = skip_ws(s.strip_prefix('=').ok_or_else(|| format!("no '=' after label {name}"))?);
        s = s.strip_prefix('"').ok_or_else(|| format!("label {name}'s value is not quoted"))?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let close = loop {
            match chars.next() {
                None => return Err(format!("label {name}'s value is not terminated")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape \\{:?} in label {name}'s value", other.map(|(_, c)| c))),
                },
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        s = skip_ws(&s[close + 1..]);
        if let Some(after) = s.strip_prefix(',') {
            s = after;
        } else if !s.starts_with('}') {
            return Err(format!("expected ',' or '}}' after label {name}"));
        }
    }
}

/// A sample value: a Go float (`1`, `-2.5e3`, `NaN`, `+Inf`, `-Inf`).
fn parse_value(v: &str) -> Result<f64, String> {
    match v {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        // Rust would also take "inf", "infinity" and "nan" in any case,
        // which the format does not.
        _ if v.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') => Err(format!("bad value {v:?}")),
        _ => v.parse::<f64>().map_err(|_| format!("bad value {v:?}")),
    }
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if ok {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"# HELP kea_x_total Packets, with a \\ and a \n in the help.
# TYPE kea_x_total counter
kea_x_total{operation="discover"} 12
kea_x_total{ operation = "ack" , } 3.0 1700000000000
# a comment
# TYPE kea_pool_free gauge
kea_pool_free{subnet="198.18.0.0/24",pool="198.18.0.10-198.18.0.250",note="a \"q\" \\ b\nc"} 241
kea_pool_free{subnet="2001:2::/64",pool=""} NaN
# TYPE up untyped
up +Inf
down -Inf
tiny -1.5e-3

"#;

    #[test]
    fn parses_names_labels_escapes_and_special_values() {
        let s = parse_samples(PAGE).unwrap();
        assert_eq!(s.len(), 7, "{s:?}");
        assert_eq!(s[&sample_key("kea_x_total", &[("operation", "discover")])], 12.0);
        assert_eq!(s[&sample_key("kea_x_total", &[("operation", "ack")])], 3.0);
        let pool = sample_key(
            "kea_pool_free",
            &[("pool", "198.18.0.10-198.18.0.250"), ("subnet", "198.18.0.0/24"), ("note", "a \"q\" \\ b\nc")],
        );
        assert_eq!(s[&pool], 241.0);
        assert!(s[&sample_key("kea_pool_free", &[("subnet", "2001:2::/64"), ("pool", "")])].is_nan());
        assert_eq!(s[&sample_key("up", &[])], f64::INFINITY);
        assert_eq!(s[&sample_key("down", &[])], f64::NEG_INFINITY);
        assert_eq!(s[&sample_key("tiny", &[])], -0.0015);
        let f = families(PAGE).unwrap();
        let want: BTreeMap<String, String> =
            [("kea_x_total", "counter"), ("kea_pool_free", "gauge"), ("up", "untyped")].map(|(a, b)| (a.into(), b.into())).into();
        assert_eq!(f, want);
    }

    #[test]
    fn refuses_what_the_format_does_not_allow() {
        for bad in [
            "x{a=\"1\",a=\"2\"} 1",
            "x{a=1} 1",
            "x{a=\"1} 1",
            "x{a=\"\\t\"} 1",
            "x{1a=\"1\"} 1",
            "x{a=\"1\" b=\"2\"} 1",
            "x{a=\"1\"}1",
            "x",
            "x one",
            "x inf",
            "x 1 2.5",
            "x 1 2 3",
            "1x 1",
            "x-y 1",
            "# TYPE x countr",
            "# TYPE x",
            "x 1\nx 2",
            "x{a=\"1\"} 1\nx{a=\"1\"} 2",
        ] {
            assert!(parse_samples(bad).is_err() || families(bad).is_err(), "accepted {bad:?}");
        }
        assert!(families("# TYPE x gauge\n# TYPE x gauge\n").unwrap_err().contains("line 2"));
        assert!(families("x 1\n# TYPE x gauge\n").unwrap_err().contains("after its samples"));
        let e = parse_samples("ok 1\nx{a=\"1\"} 1\nx{a=\"1\"} 2").unwrap_err();
        assert!(e.starts_with("line 3: "), "{e}");
    }
}
