//! Typed configuration definitions: the single source of truth for parsing, validation,
//! `/validate` answers and docs.
//!
//! A [`ConfigDef`] declares each key once, as Kafka Connect's `ConfigDef` does: type, default
//! (or none, making the key required), importance, documentation, group and validator.
//! [`ConfigDef::parse`] turns a string map into a [`Config`] of typed values and reports every
//! problem at once, each naming its key. Password values are wrapped in [`Password`], whose
//! `Debug` and `Display` print `[hidden]`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::json;

/// A key's type, named as Kafka Connect names it in ConfigInfos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigType {
    /// `true` or `false` (case-insensitive).
    Boolean,
    /// Any string.
    String,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    Long,
    /// Floating point.
    Double,
    /// Comma-separated list, items trimmed.
    List,
    /// A class or plugin name.
    Class,
    /// A secret string, never printed.
    Password,
}

impl ConfigType {
    /// Upper-case name as in Kafka Connect (`STRING`, `INT`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "BOOLEAN",
            Self::String => "STRING",
            Self::Int => "INT",
            Self::Long => "LONG",
            Self::Double => "DOUBLE",
            Self::List => "LIST",
            Self::Class => "CLASS",
            Self::Password => "PASSWORD",
        }
    }
}

/// How much a user should care about a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Importance {
    /// Must usually be set.
    High,
    /// Often set.
    Medium,
    /// Rarely set.
    Low,
}

impl Importance {
    /// Upper-case name as in Kafka Connect.
    pub fn name(self) -> &'static str {
        match self {
            Self::High => "HIGH",
            Self::Medium => "MEDIUM",
            Self::Low => "LOW",
        }
    }
}

/// A check applied to a parsed value.
#[derive(Clone, Debug)]
pub enum Validator {
    /// Numbers within `[min, max]` (either bound optional).
    Range {
        /// Inclusive lower bound.
        min: Option<f64>,
        /// Inclusive upper bound.
        max: Option<f64>,
    },
    /// One of these strings (case-insensitive).
    OneOf(Vec<&'static str>),
    /// A string that is not empty after trimming.
    NonEmpty,
}

impl Validator {
    /// Numbers of at least `min`.
    pub fn at_least(min: f64) -> Self {
        Self::Range { min: Some(min), max: None }
    }

    fn check(&self, value: &ConfigValue) -> Result<(), String> {
        match self {
            Self::Range { min, max } => {
                let Some(n) = value.as_f64() else { return Ok(()) };
                if let Some(min) = min
                    && n < *min
                {
                    return Err(format!("Value must be at least {min}"));
                }
                if let Some(max) = max
                    && n > *max
                {
                    return Err(format!("Value must be no more than {max}"));
                }
                Ok(())
            }
            Self::OneOf(options) => match value {
                ConfigValue::String(s) if !options.iter().any(|o| o.eq_ignore_ascii_case(s)) => {
                    Err(format!("String must be one of: {}", options.join(", ")))
                }
                _ => Ok(()),
            },
            Self::NonEmpty => match value {
                ConfigValue::String(s) if s.trim().is_empty() => Err("String may not be empty".into()),
                ConfigValue::List(l) if l.is_empty() => Err("List may not be empty".into()),
                _ => Ok(()),
            },
        }
    }

    fn recommended(&self) -> Vec<String> {
        match self {
            Self::OneOf(options) => options.iter().map(|s| (*s).to_owned()).collect(),
            _ => Vec::new(),
        }
    }
}

/// One declared key.
#[derive(Clone, Debug)]
pub struct ConfigKey {
    /// Key name.
    pub name: String,
    /// Type.
    pub kind: ConfigType,
    /// Default as it would be written in a properties file; `None` makes the key required.
    pub default: Option<String>,
    /// Importance.
    pub importance: Importance,
    /// Documentation, a sentence or more.
    pub doc: String,
    /// Group shown in ConfigInfos and docs.
    pub group: Option<String>,
    /// Validators, all applied.
    pub validators: Vec<Validator>,
}

impl ConfigKey {
    /// A key of `kind` with documentation; required until [`ConfigKey::default`] is called.
    pub fn new(name: &str, kind: ConfigType, importance: Importance, doc: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            default: None,
            importance,
            doc: doc.to_owned(),
            group: None,
            validators: Vec::new(),
        }
    }
    /// Sets the default.
    pub fn default(mut self, default: impl Into<String>) -> Self {
        self.default = Some(default.into());
        self
    }
    /// Sets the group.
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }
    /// Adds a validator.
    pub fn validator(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }
}

/// A secret string. Its `Debug` and `Display` print `[hidden]`, as Kafka Connect's `Password`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself: only for handing to the system that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}
impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// A parsed value.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    /// Unset key whose default is empty.
    Null,
    /// BOOLEAN.
    Bool(bool),
    /// STRING or CLASS.
    String(String),
    /// INT or LONG.
    Long(i64),
    /// DOUBLE.
    Double(f64),
    /// LIST.
    List(Vec<String>),
    /// PASSWORD.
    Password(Password),
}

impl ConfigValue {
    fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Long(v) => Some(*v as f64),
            Self::Double(v) => Some(*v),
            _ => None,
        }
    }
}

/// A problem with one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key at fault.
    pub key: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

/// Every problem found in one configuration, each naming its key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.message.contains(&format!("configuration {}", e.key)) || e.message.contains(&format!("\"{}\"", e.key))
            {
                // Kafka's wording already names the key.
                f.write_str(&e.message)?;
            } else {
                write!(f, "invalid value for '{}': {}", e.key, e.message)?;
            }
        }
        Ok(())
    }
}

impl ConfigErrors {
    /// One error.
    pub fn single(key: &str, message: impl Into<String>) -> Self {
        Self(vec![ConfigError { key: key.to_owned(), message: message.into() }])
    }
}

/// The declared keys of one plugin or of the worker.
#[derive(Clone, Debug, Default)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

impl ConfigDef {
    /// An empty definition.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a key (replacing one of the same name, so a definition can extend another).
    pub fn define(mut self, key: ConfigKey) -> Self {
        self.keys.retain(|k| k.name != key.name);
        self.keys.push(key);
        self
    }
    /// Adds every key of `other`.
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for k in &other.keys {
            self = self.define(k.clone());
        }
        self
    }
    /// The declared keys, in declaration order.
    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }
    /// The key with this name.
    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Parses and validates `props`, returning every error at once.
    pub fn parse(&self, props: &BTreeMap<String, String>) -> Result<Config, ConfigErrors> {
        let (values, errors) = self.parse_all(props);
        if errors.is_empty() { Ok(Config { values }) } else { Err(ConfigErrors(errors)) }
    }

    fn parse_all(&self, props: &BTreeMap<String, String>) -> (BTreeMap<String, ConfigValue>, Vec<ConfigError>) {
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for key in &self.keys {
            match parse_key(key, props.get(&key.name).map(String::as_str)) {
                Ok(v) => {
                    values.insert(key.name.clone(), v);
                }
                Err(message) => errors.push(ConfigError { key: key.name.clone(), message }),
            }
        }
        (values, errors)
    }

    /// Keys in `props` this definition does not declare, each with the declared key it most
    /// likely misspells. Kafka Connect only warns about these, since another layer (converter,
    /// producer override) may use them.
    pub fn unknown_keys<'a>(&self, props: &'a BTreeMap<String, String>) -> Vec<(&'a str, Option<&str>)> {
        props.keys().filter(|k| self.key(k).is_none()).map(|k| (k.as_str(), self.suggest(k))).collect()
    }

    fn suggest(&self, unknown: &str) -> Option<&str> {
        self.keys
            .iter()
            .map(|k| (edit_distance(&k.name, unknown), k.name.as_str()))
            .filter(|(d, name)| *d <= 2.max(name.len() / 8))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }

    /// The answer of `PUT /connector-plugins/{plugin}/config/validate`: Kafka Connect's
    /// ConfigInfos shape, with per-key errors and password values hidden.
    pub fn config_infos(&self, plugin: &str, props: &BTreeMap<String, String>) -> serde_json::Value {
        let (_, errors) = self.parse_all(props);
        let mut groups: Vec<String> = Vec::new();
        let configs: Vec<serde_json::Value> = self
            .keys
            .iter()
            .enumerate()
            .map(|(order, key)| {
                let group = key.group.clone().unwrap_or_else(|| "Common".to_owned());
                if !groups.contains(&group) {
                    groups.push(group.clone());
                }
                let errs: Vec<&str> =
                    errors.iter().filter(|e| e.key == key.name).map(|e| e.message.as_str()).collect();
                let value = props.get(&key.name).or(key.default.as_ref()).map(|v| {
                    if key.kind == ConfigType::Password { "[hidden]".to_owned() } else { v.clone() }
                });
                json!({
                    "definition": {
                        "name": key.name, "type": key.kind.name(), "required": key.default.is_none(),
                        "default_value": key.default, "importance": key.importance.name(),
                        "documentation": key.doc, "group": group, "width": "NONE",
                        "display_name": key.name, "dependents": [], "order": order as i64 + 1,
                    },
                    "value": {
                        "name": key.name, "value": value,
                        "recommended_values": key.validators.iter().flat_map(Validator::recommended).collect::<Vec<_>>(),
                        "errors": errs, "visible": true,
                    }
                })
            })
            .collect();
        json!({ "name": plugin, "error_count": errors.len(), "groups": groups, "configs": configs })
    }
}

/// Kafka's `ConfigException` wording for a value that is present but wrong.
fn invalid(key: &ConfigKey, raw: &str, message: &str) -> String {
    let shown = if key.kind == ConfigType::Password { "[hidden]" } else { raw.trim() };
    format!("Invalid value {shown} for configuration {}: {message}", key.name)
}

fn parse_key(key: &ConfigKey, raw: Option<&str>) -> Result<ConfigValue, String> {
    let raw = match raw.or(key.default.as_deref()) {
        Some(r) => r,
        None => return Err(format!("Missing required configuration \"{}\" which has no default value.", key.name)),
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() && key.default.as_deref().is_some_and(|d| d.trim().is_empty()) {
        // An empty value of a key whose default is empty means "unset".
        if matches!(key.kind, ConfigType::Int | ConfigType::Long | ConfigType::Double) {
            return Ok(ConfigValue::Null);
        }
    }
    let value = match key.kind {
        ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => ConfigValue::Bool(true),
            "false" => ConfigValue::Bool(false),
            _ => return Err(invalid(key, raw, "Expected value to be either true or false")),
        },
        ConfigType::String | ConfigType::Class => ConfigValue::String(trimmed.to_owned()),
        ConfigType::Password => ConfigValue::Password(Password::new(raw)),
        ConfigType::Int => match trimmed.parse::<i32>() {
            Ok(v) => ConfigValue::Long(v.into()),
            Err(_) => return Err(invalid(key, raw, "Not a number of type INT")),
        },
        ConfigType::Long => match trimmed.parse::<i64>() {
            Ok(v) => ConfigValue::Long(v),
            Err(_) => return Err(invalid(key, raw, "Not a number of type LONG")),
        },
        ConfigType::Double => match trimmed.parse::<f64>() {
            Ok(v) if v.is_finite() => ConfigValue::Double(v),
            _ => return Err(invalid(key, raw, "Not a number of type DOUBLE")),
        },
        ConfigType::List => {
            ConfigValue::List(trimmed.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        }
    };
    for v in &key.validators {
        v.check(&value).map_err(|m| invalid(key, raw, &m))?;
    }
    Ok(value)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Typed values parsed by a [`ConfigDef`]. Getters panic-free: a key the definition declares
/// always has a value of its declared type, so they return it directly, and a key it does not
/// declare is a programming error reported as an error value.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    values: BTreeMap<String, ConfigValue>,
}

impl Config {
    /// The raw parsed value.
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }
    /// A STRING or CLASS value (empty string when null).
    pub fn string(&self, key: &str) -> String {
        match self.values.get(key) {
            Some(ConfigValue::String(s)) => s.clone(),
            _ => String::new(),
        }
    }
    /// A STRING value, `None` when empty.
    pub fn opt_string(&self, key: &str) -> Option<String> {
        Some(self.string(key)).filter(|s| !s.is_empty())
    }
    /// An INT or LONG value (`None` when unset with an empty default).
    pub fn long(&self, key: &str) -> Option<i64> {
        match self.values.get(key) {
            Some(ConfigValue::Long(v)) => Some(*v),
            _ => None,
        }
    }
    /// A DOUBLE value.
    pub fn double(&self, key: &str) -> Option<f64> {
        match self.values.get(key) {
            Some(ConfigValue::Double(v)) => Some(*v),
            Some(ConfigValue::Long(v)) => Some(*v as f64),
            _ => None,
        }
    }
    /// A BOOLEAN value (false when unset).
    pub fn bool(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some(ConfigValue::Bool(true)))
    }
    /// A LIST value.
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.values.get(key) {
            Some(ConfigValue::List(l)) => l.clone(),
            _ => Vec::new(),
        }
    }
    /// A PASSWORD value.
    pub fn password(&self, key: &str) -> Option<Password> {
        match self.values.get(key) {
            Some(ConfigValue::Password(p)) if !p.expose().is_empty() => Some(p.clone()),
            _ => None,
        }
    }
    /// A LONG value read as milliseconds.
    pub fn millis(&self, key: &str) -> Option<Duration> {
        self.long(key).map(|ms| Duration::from_millis(ms.max(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(ConfigKey::new("file", ConfigType::String, Importance::High, "The file."))
            .define(
                ConfigKey::new("batch.size", ConfigType::Int, Importance::Low, "Batch.")
                    .default("2000")
                    .validator(Validator::at_least(1.0)),
            )
            .define(ConfigKey::new("secret", ConfigType::Password, Importance::Low, "Secret.").default(""))
    }

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn reports_every_error_at_once_naming_each_key() {
        let err = def().parse(&props(&[("batch.size", "lots")])).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["file", "batch.size"]);
        assert!(
            err.to_string().contains("Invalid value lots for configuration batch.size: Not a number of type INT"),
            "{err}"
        );
    }

    #[test]
    fn applies_defaults_and_validators() {
        let c = def().parse(&props(&[("file", "/tmp/x")])).unwrap();
        assert_eq!(c.long("batch.size"), Some(2000));
        let err = def().parse(&props(&[("file", "x"), ("batch.size", "0")])).unwrap_err();
        assert_eq!(err.0[0].message, "Invalid value 0 for configuration batch.size: Value must be at least 1");
    }

    #[test]
    fn passwords_never_print() {
        let c = def().parse(&props(&[("file", "x"), ("secret", "hunter2")])).unwrap();
        assert_eq!(format!("{c:?}").matches("hunter2").count(), 0);
        assert_eq!(c.password("secret").unwrap().expose(), "hunter2");
        let infos = def().config_infos("p", &props(&[("secret", "hunter2")]));
        assert!(!infos.to_string().contains("hunter2"));
    }

    #[test]
    fn numbers_with_empty_default_may_be_left_unset() {
        let d = ConfigDef::new().define(ConfigKey::new("seed", ConfigType::Long, Importance::Low, "Seed.").default(""));
        assert_eq!(d.parse(&props(&[])).unwrap().long("seed"), None);
        assert_eq!(d.parse(&props(&[("seed", "7")])).unwrap().long("seed"), Some(7));
        assert!(d.parse(&props(&[("seed", "x")])).is_err());
    }

    #[test]
    fn suggests_the_near_key_for_a_typo() {
        let p = props(&[("batchsize", "1"), ("producer.acks", "all")]);
        let d = def();
        let unknown = d.unknown_keys(&p);
        assert_eq!(unknown, [("batchsize", Some("batch.size")), ("producer.acks", None)]);
    }

    #[test]
    fn config_infos_counts_errors_per_key() {
        let infos = def().config_infos("FileStreamSource", &props(&[]));
        assert_eq!(infos["error_count"], 1);
        assert_eq!(
            infos["configs"][0]["value"]["errors"][0],
            "Missing required configuration \"file\" which has no default value."
        );
        assert_eq!(infos["configs"][1]["definition"]["type"], "INT");
    }
}
