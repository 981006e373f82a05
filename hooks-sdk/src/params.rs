//! Hook `parameters`, deserialized with serde.
//!
//! The `parameters` map of a `hooks-libraries` entry becomes the hook's
//! [`Hook::Params`](crate::Hook::Params). A missing map counts as `{}`.
//! When it does not fit, the load fails and Kea refuses the configuration;
//! the logged message names the hook and the field, for example
//! `mac-acl: bad parameters: at 'deny[1]': invalid type: integer `5`, expected a string`.
//!
//! Use `#[serde(deny_unknown_fields)]` to refuse keys you do not know, and
//! `#[serde(default)]` for optional ones.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::Deserialize;

use crate::error::{Error, ErrorKind};

/// `Params` for a hook that takes none: accepts an absent or empty
/// `parameters` map and refuses anything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoParameters;

impl<'de> Deserialize<'de> for NoParameters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        match map.keys().next() {
            None => Ok(NoParameters),
            Some(k) => Err(de::Error::custom(format!("unknown field `{k}`: this hook takes no parameters"))),
        }
    }
}

/// Deserializes `json` (Kea's text form of the `parameters` map; empty when
/// there is none) into `P`, with the path of the offending field in errors.
pub fn parse<P: DeserializeOwned>(json: &str) -> Result<P, Error> {
    let value: serde_json::Value = if json.trim().is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_str(json).map_err(|e| Error::new(ErrorKind::Parameters, format!("not JSON: {e}")))?
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("at '{path}': {inner}")
        };
        Error::new(ErrorKind::Parameters, msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct P {
        deny: Vec<String>,
        #[serde(default)]
        log_only: bool,
    }

    #[test]
    fn names_the_field() {
        let e = parse::<P>(r#"{"deny": ["a", 5]}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parameters);
        assert!(e.to_string().contains("deny[1]"), "{e}");
        let e = parse::<P>(r#"{}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `deny`"), "{e}");
        let e = parse::<P>(r#"{"deny": [], "bogus": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `bogus`"), "{e}");
        let e = parse::<P>(r#"{"deny": [], "log-only": "yes"}"#).unwrap_err();
        assert!(e.to_string().contains("log-only"), "{e}");
    }

    #[test]
    fn good_and_absent() {
        let p = parse::<P>(r#"{"deny": ["00:11"], "log-only": true}"#).unwrap();
        assert_eq!(p.deny, ["00:11"]);
        assert!(p.log_only);
        parse::<NoParameters>("").unwrap();
        assert!(parse::<NoParameters>(r#"{"x": 1}"#).is_err());
    }
}
