//! Typed configuration definitions: the single source of truth for parsing, validation,
//! `/validate` answers and docs.
//!
//! A [`ConfigDef`] declares each key once, as Kafka Connect's `ConfigDef` does: type, default
//! (or none, making the key required), importance, documentation, group and validator.
//! [`ConfigDef::parse`] turns a string map into a [`Config`] of typed values and reports every
//! problem at once, each naming its key. Password values are wrapped in [`Password`], whose
//! `Debug` and `Display` print `[hidden]`.

mod infos;
mod key;
mod value;

use std::collections::BTreeMap;
use std::time::Duration;

pub use key::{CheckFn, ClassCheck, ConfigKey, ConfigType, Importance, ResolveFn, Validator, Width};
pub use value::{ConfigError, ConfigErrors, ConfigValue, Password};

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
    /// Adds a key, or replaces the one of the same name where it stands (so a definition can
    /// refine another without reordering it).
    pub fn define(mut self, key: ConfigKey) -> Self {
        match self.keys.iter_mut().find(|k| k.name == key.name) {
            Some(existing) => *existing = key,
            None => self.keys.push(key),
        }
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
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let values = values.into_iter().map(|(k, v)| (k, v.unwrap_or(ConfigValue::Null))).collect();
        Ok(Config { values })
    }

    /// Every key's parsed value (`None` when null or unparseable) and every error, in key order.
    fn parse_all(&self, props: &BTreeMap<String, String>) -> (BTreeMap<String, Option<ConfigValue>>, Vec<ConfigError>) {
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for key in &self.keys {
            let (value, errs) = value::parse_key(key, props.get(&key.name).map(String::as_str));
            errors.extend(errs.into_iter().map(|message| ConfigError { key: key.name.clone(), message }));
            values.insert(key.name.clone(), value);
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
    use serde_json::Value as Json;

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
        // As Kafka: a value that does not parse is null to the validators, which object too.
        assert_eq!(keys, ["file", "batch.size", "batch.size"]);
        assert_eq!(err.0[2].message, "Invalid value null for configuration batch.size: Value must be non-null");
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

    #[test]
    fn optional_keys_default_to_null_and_are_not_required() {
        let d = ConfigDef::new()
            .define(ConfigKey::new("file", ConfigType::String, Importance::High, "F.").optional())
            .define(
                ConfigKey::new("mode", ConfigType::String, Importance::Low, "M.")
                    .default("a")
                    .validator(Validator::OneOf(vec!["a", "b"])),
            );
        let c = d.parse(&props(&[])).unwrap();
        assert_eq!(c.get("file"), Some(&ConfigValue::Null));
        let info = d.keys()[0].info();
        assert_eq!((info["required"].clone(), info["default_value"].clone()), (false.into(), Json::Null));
        let err = d.parse(&props(&[("mode", "A")])).unwrap_err();
        assert_eq!(err.0[0].message, "Invalid value A for configuration mode: String must be one of: a, b");
    }

    #[test]
    fn embedded_keys_are_prefixed_grouped_sorted_and_report_their_own_name() {
        let child = ConfigDef::new()
            .define(ConfigKey::new("z", ConfigType::Int, Importance::Low, "Z.").default("1"))
            .define(
                ConfigKey::new("b", ConfigType::Int, Importance::Medium, "B.")
                    .default("1")
                    .validator(Validator::at_least(0.0)),
            )
            .define(ConfigKey::new("a", ConfigType::String, Importance::Low, "A."));
        let d = ConfigDef::new().embed("transforms.t.", "Transforms: t", 2, &child);
        let names: Vec<(&str, i32)> = d.keys().iter().map(|k| (k.name.as_str(), k.order)).collect();
        // Required first, then by importance, then by name.
        assert_eq!(names, [("transforms.t.a", 2), ("transforms.t.b", 3), ("transforms.t.z", 4)]);
        assert_eq!(d.keys()[1].info()["group"], "Transforms: t");
        assert_eq!(d.keys()[1].info()["display_name"], "b");
        let infos = d.config_infos("x", &props(&[("transforms.t.a", "v"), ("transforms.t.b", "-1")]));
        assert_eq!(
            infos["configs"][1]["value"]["errors"][0],
            "Invalid value -1 for configuration b: Value must be at least 0"
        );
        assert_eq!(infos["groups"], serde_json::json!(["Transforms: t"]));
    }
}
