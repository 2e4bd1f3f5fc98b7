//! The predicates Kafka Connect ships: `HasHeaderKey`, `RecordIsTombstone`,
//! `TopicNameMatches`.

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Predicate, Props,
};

use super::java_regex::JavaRegex;
use super::util::configure;
use super::validators::{non_empty_string, regex};

/// Kafka's `HasHeaderKey.CONFIG_DEF`.
pub(crate) fn has_header_key_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("name", ConfigType::String, Importance::Medium, "The header name.")
            .validator(non_empty_string()),
    )
}

/// True for records with at least one header of the configured name.
pub(crate) struct HasHeaderKey {
    name: String,
}

impl HasHeaderKey {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Predicate>> {
        Ok(Box::new(Self { name: configure(&has_header_key_def(), props)?.string("name") }))
    }
}

impl Predicate for HasHeaderKey {
    fn test(&self, record: &dyn ConnectRecord) -> bool {
        record.headers().last(&self.name).is_some()
    }
}

/// Kafka's `RecordIsTombstone.CONFIG_DEF`: no keys.
pub(crate) fn record_is_tombstone_def() -> ConfigDef {
    ConfigDef::new()
}

/// True for records whose value is null.
pub(crate) struct RecordIsTombstone;

impl RecordIsTombstone {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Predicate>> {
        configure(&record_is_tombstone_def(), props)?;
        Ok(Box::new(Self))
    }
}

impl Predicate for RecordIsTombstone {
    fn test(&self, record: &dyn ConnectRecord) -> bool {
        record.value().is_null()
    }
}

/// Kafka's `TopicNameMatches.CONFIG_DEF`.
pub(crate) fn topic_name_matches_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(
            "pattern",
            ConfigType::String,
            Importance::Medium,
            "A Java regular expression for matching against the name of a record's topic.",
        )
        .validator(non_empty_string())
        .validator(regex()),
    )
}

/// True for records whose whole topic name matches the pattern.
pub(crate) struct TopicNameMatches {
    pattern: JavaRegex,
}

impl TopicNameMatches {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Predicate>> {
        let c = configure(&topic_name_matches_def(), props)?;
        let value = c.string("pattern");
        let pattern = JavaRegex::compile(&value).map_err(|e| {
            ConnectError::config(
                "pattern",
                format!("Invalid value {value} for configuration pattern: entry must be a Java-compatible regular expression: {e}"),
            )
        })?;
        Ok(Box::new(Self { pattern }))
    }
}

impl Predicate for TopicNameMatches {
    fn test(&self, record: &dyn ConnectRecord) -> bool {
        self.pattern.matches(record.topic())
    }
}
