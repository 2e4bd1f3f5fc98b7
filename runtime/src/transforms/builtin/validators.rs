//! Kafka's validators used by the transforms' config definitions, with Kafka's messages (the
//! runtime prefixes "Invalid value X for configuration K: ").

use crate::api::{ConfigValue, Validator};

use super::java_regex::JavaRegex;

/// `NonEmptyListValidator`: "Empty list" for null or an empty list.
pub(crate) fn non_empty_list() -> Validator {
    Validator::custom(|v| match v {
        None | Some(ConfigValue::Null) => Err("Empty list".into()),
        Some(ConfigValue::List(l)) if l.is_empty() => Err("Empty list".into()),
        _ => Ok(()),
    })
}

/// `ConfigDef.NonNullValidator`.
pub(crate) fn non_null() -> Validator {
    Validator::custom(|v| match v {
        None | Some(ConfigValue::Null) => Err("entry must be non null".into()),
        _ => Ok(()),
    })
}

/// `ConfigDef.NonEmptyString` (null passes).
pub(crate) fn non_empty_string() -> Validator {
    Validator::custom(|v| match v {
        Some(ConfigValue::String(s)) if s.is_empty() => Err("String must be non-empty".into()),
        _ => Ok(()),
    })
}

/// `RegexValidator`: the pattern compiles (as Tributary's Java-regex subset).
pub(crate) fn regex() -> Validator {
    Validator::custom(|v| match v {
        Some(ConfigValue::String(s)) => JavaRegex::compile(s).map(drop).map_err(|e| format!("Invalid regex: {e}")),
        None | Some(ConfigValue::Null) => Err("Invalid regex: the pattern is null".into()),
        _ => Ok(()),
    })
}

/// A LIST validator running `check` on the list (null is an empty list).
pub(crate) fn list_check(check: fn(&[String]) -> Result<(), String>) -> Validator {
    Validator::custom(move |v| match v {
        Some(ConfigValue::List(l)) => check(l),
        None | Some(ConfigValue::Null) => check(&[]),
        _ => Ok(()),
    })
}
