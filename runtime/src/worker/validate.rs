//! Connector configuration checks shared by every mode: the keys Kafka Connect's
//! `ConnectorConfig` declares for all connectors, plus each plugin's own `ConfigDef`, with every
//! error reported at once.

use crate::api::{ConfigDef, ConfigErrors, ConfigKey, ConfigType, Importance, Props, Validator};
use crate::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};

/// Keys every connector accepts.
pub fn connector_config_def(kind: ConnectorKind) -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    let def = ConfigDef::new()
        .define(
            ConfigKey::new("name", String, High, "Globally unique name of the connector.")
                .validator(Validator::NonEmpty)
                .group("Common"),
        )
        .define(
            ConfigKey::new(
                "connector.class",
                Class,
                High,
                "Connector class: a Kafka Connect class name, its simple name, or an alias.",
            )
            .group("Common"),
        )
        .define(
            ConfigKey::new("tasks.max", Int, High, "Maximum number of tasks for this connector.")
                .default("1")
                .validator(Validator::at_least(1.0))
                .group("Common"),
        )
        .define(
            ConfigKey::new("key.converter", Class, Low, "Key converter for this connector, overriding the worker's.")
                .default("")
                .group("Common"),
        )
        .define(
            ConfigKey::new(
                "value.converter",
                Class,
                Low,
                "Value converter for this connector, overriding the worker's.",
            )
            .default("")
            .group("Common"),
        )
        .define(
            ConfigKey::new(
                "header.converter",
                Class,
                Low,
                "Header converter for this connector, overriding the worker's.",
            )
            .default("")
            .group("Common"),
        );
    match kind {
        ConnectorKind::Source => def,
        ConnectorKind::Sink => def
            .define(
                ConfigKey::new("topics", List, High, "Topics to consume, comma-separated.").default("").group("Common"),
            )
            .define(
                ConfigKey::new("topics.regex", String, High, "Regular expression of topics to consume.")
                    .default("")
                    .group("Common"),
            ),
    }
}

/// The result of a successful check.
#[derive(Debug)]
pub struct CheckedConnector {
    /// Connector name.
    pub name: String,
    /// The plugin.
    pub plugin: ConnectorPlugin,
    /// `tasks.max`.
    pub tasks_max: usize,
}

/// Prefixes of keys meant for other layers, never reported as unknown.
const PASS_THROUGH: [&str; 7] = [
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "producer.override.",
    "consumer.override.",
    "transforms",
    "errors.",
];

/// Checks `props` against the common keys and the plugin's own definition.
pub fn validate_connector(registry: &Registry, props: &Props) -> Result<CheckedConnector, ConfigErrors> {
    let class = props.get("connector.class").map(String::as_str).unwrap_or_default();
    let plugin = match registry.connector(class) {
        Ok(p) => p.clone(),
        Err(e) => {
            let mut errs = ConfigErrors::single(
                "connector.class",
                if class.is_empty() {
                    "Missing required configuration \"connector.class\"".to_owned()
                } else {
                    e.to_string()
                },
            );
            if props.get("name").is_none_or(|n| n.trim().is_empty()) {
                errs.0.insert(0, ConfigErrors::single("name", "Missing required configuration \"name\"").0.remove(0));
            }
            return Err(errs);
        }
    };
    let def = connector_config_def(plugin.kind).merge(&match (plugin.factory)() {
        AnyConnector::Source(c) => c.config_def(),
        AnyConnector::Sink(c) => c.config_def(),
    });
    let parsed = def.parse(props);
    let mut errors = match &parsed {
        Ok(_) => Vec::new(),
        Err(e) => e.0.clone(),
    };
    if plugin.kind == ConnectorKind::Sink {
        let has = |k: &str| props.get(k).is_some_and(|v| !v.trim().is_empty());
        match (has("topics"), has("topics.regex")) {
            (false, false) => errors.push(crate::api::config::ConfigError {
                key: "topics".into(),
                message: "Must configure one of topics or topics.regex".into(),
            }),
            (true, true) => errors.push(crate::api::config::ConfigError {
                key: "topics".into(),
                message: "topics and topics.regex are mutually exclusive options, but both are set.".into(),
            }),
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let name = props.get("name").cloned().unwrap_or_default();
    for (key, suggestion) in def.unknown_keys(props) {
        if PASS_THROUGH.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        match suggestion {
            Some(s) => tracing::warn!(connector = %name, "unknown configuration key '{key}' (did you mean '{s}'?)"),
            None => tracing::warn!(connector = %name, "configuration key '{key}' is not used by this connector"),
        }
    }
    let tasks_max = parsed.ok().and_then(|c| c.long("tasks.max")).unwrap_or(1).max(1) as usize;
    Ok(CheckedConnector { name, plugin, tasks_max })
}
