//! The plugin registry: an explicit list of connectors and converters, looked up by Kafka
//! Connect class name, by alias, or by the class's simple name with or without its
//! `Connector`/`Converter` suffix, as Kafka Connect resolves `connector.class`.
//!
//! Families compiled out of this build register their names as disabled, so a config naming
//! them gets "feature X not enabled" rather than "unknown class".

use std::fmt;
use std::sync::Arc;

use crate::api::{
    ConfigDef, ConnectResult, ConverterFactory, HeaderConverter, PredicateFactory, Props, SinkConnector,
    SourceConnector, TransformFactory,
};

/// Whether a connector reads into Kafka or writes out of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorKind {
    /// Reads from an external system.
    Source,
    /// Writes to an external system.
    Sink,
}

impl ConnectorKind {
    /// `source` or `sink`, as in REST answers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Sink => "sink",
        }
    }
}

/// A new connector instance of either kind.
pub enum AnyConnector {
    /// A source connector.
    Source(Box<dyn SourceConnector>),
    /// A sink connector.
    Sink(Box<dyn SinkConnector>),
}

impl fmt::Debug for AnyConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Source(_) => f.write_str("AnyConnector::Source"),
            Self::Sink(_) => f.write_str("AnyConnector::Sink"),
        }
    }
}

/// A registered connector.
#[derive(Clone)]
pub struct ConnectorPlugin {
    /// Kafka Connect class name, the canonical name.
    pub class: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Source or sink.
    pub kind: ConnectorKind,
    /// Class name of its task, written into task configs as `task.class` (as Kafka Connect does).
    pub task_class: &'static str,
    /// Creates an instance.
    pub factory: fn() -> AnyConnector,
}

impl fmt::Debug for ConnectorPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorPlugin").field("class", &self.class).field("kind", &self.kind).finish()
    }
}

/// A registered converter.
#[derive(Clone)]
pub struct ConverterPlugin {
    /// Kafka Connect class name.
    pub class: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Creates instances.
    pub factory: Arc<dyn ConverterFactory>,
    /// Its configuration keys (for `/connector-plugins/{plugin}/config`).
    pub config_def: fn() -> ConfigDef,
}

impl fmt::Debug for ConverterPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConverterPlugin").field("class", &self.class).finish()
    }
}

/// A registered header converter.
#[derive(Clone)]
pub struct HeaderConverterPlugin {
    /// Kafka Connect class name.
    pub class: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Creates an instance from its settings.
    pub factory: fn(&Props) -> ConnectResult<Box<dyn HeaderConverter>>,
    /// Its configuration keys (for `/connector-plugins/{plugin}/config`).
    pub config_def: fn() -> ConfigDef,
}

impl fmt::Debug for HeaderConverterPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderConverterPlugin").field("class", &self.class).finish()
    }
}

/// A registered single message transform (`org.apache.kafka.connect.transforms.Cast$Value`...).
#[derive(Clone)]
pub struct TransformPlugin {
    /// Kafka Connect class name (key and value variants are separate plugins, as in Kafka).
    pub class: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Creates a configured instance.
    pub factory: TransformFactory,
    /// Its configuration keys, without the `transforms.<alias>.` prefix.
    pub config_def: fn() -> ConfigDef,
}

impl fmt::Debug for TransformPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransformPlugin").field("class", &self.class).finish()
    }
}

/// A registered predicate (`org.apache.kafka.connect.transforms.predicates.TopicNameMatches`...).
#[derive(Clone)]
pub struct PredicatePlugin {
    /// Kafka Connect class name.
    pub class: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Creates a configured instance.
    pub factory: PredicateFactory,
    /// Its configuration keys, without the `predicates.<alias>.` prefix.
    pub config_def: fn() -> ConfigDef,
}

impl fmt::Debug for PredicatePlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PredicatePlugin").field("class", &self.class).finish()
    }
}

/// A lookup that found nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// No plugin has this name.
    #[error("unknown {what} class '{name}'; known: {known}")]
    Unknown {
        /// `connector` or `converter`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// The canonical names available.
        known: String,
    },
    /// The plugin exists but this build left it out.
    #[error("{what} '{name}' needs cargo feature '{feature}', which this build of tributary does not include")]
    NotEnabled {
        /// `connector` or `converter`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// The feature to enable.
        feature: &'static str,
    },
}

/// Every plugin this build knows.
#[derive(Debug, Default)]
pub struct Registry {
    connectors: Vec<ConnectorPlugin>,
    converters: Vec<ConverterPlugin>,
    header_converters: Vec<HeaderConverterPlugin>,
    transforms: Vec<TransformPlugin>,
    predicates: Vec<PredicatePlugin>,
    disabled: Vec<(&'static str, &'static str)>,
}

fn simple_names(class: &str) -> [&str; 2] {
    let simple = class.rsplit('.').next().unwrap_or(class);
    let short = simple.strip_suffix("Connector").or_else(|| simple.strip_suffix("Converter")).unwrap_or(simple);
    [simple, short]
}

fn matches(class: &str, aliases: &[&str], name: &str) -> bool {
    class == name || aliases.contains(&name) || simple_names(class).contains(&name)
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a connector.
    pub fn add_connector(&mut self, plugin: ConnectorPlugin) {
        self.connectors.push(plugin);
    }
    /// Adds a converter.
    pub fn add_converter(&mut self, plugin: ConverterPlugin) {
        self.converters.push(plugin);
    }
    /// Adds a header converter.
    pub fn add_header_converter(&mut self, plugin: HeaderConverterPlugin) {
        self.header_converters.push(plugin);
    }
    /// Adds a transform.
    pub fn add_transform(&mut self, plugin: TransformPlugin) {
        self.transforms.push(plugin);
    }
    /// Adds a predicate.
    pub fn add_predicate(&mut self, plugin: PredicatePlugin) {
        self.predicates.push(plugin);
    }
    /// Records that `name` exists behind cargo feature `feature`, not compiled in.
    pub fn add_disabled(&mut self, name: &'static str, feature: &'static str) {
        self.disabled.push((name, feature));
    }
    /// Every connector, in registration order.
    pub fn connectors(&self) -> &[ConnectorPlugin] {
        &self.connectors
    }
    /// Every converter, in registration order.
    pub fn converters(&self) -> &[ConverterPlugin] {
        &self.converters
    }
    /// Every header converter, in registration order.
    pub fn header_converters(&self) -> &[HeaderConverterPlugin] {
        &self.header_converters
    }

    /// Every transform, in registration order.
    pub fn transforms(&self) -> &[TransformPlugin] {
        &self.transforms
    }
    /// Every predicate, in registration order.
    pub fn predicates(&self) -> &[PredicatePlugin] {
        &self.predicates
    }

    fn not_found(&self, what: &'static str, name: &str, known: Vec<&str>) -> PluginError {
        if let Some((_, feature)) = self.disabled.iter().find(|(n, _)| matches(n, &[], name)) {
            return PluginError::NotEnabled { what, name: name.to_owned(), feature };
        }
        PluginError::Unknown { what, name: name.to_owned(), known: known.join(", ") }
    }

    /// The connector named `name`.
    pub fn connector(&self, name: &str) -> Result<&ConnectorPlugin, PluginError> {
        let name = name.trim();
        self.connectors
            .iter()
            .find(|p| matches(p.class, p.aliases, name))
            .ok_or_else(|| self.not_found("connector", name, self.connectors.iter().map(|p| p.class).collect()))
    }

    /// The converter named `name`.
    pub fn converter(&self, name: &str) -> Result<&ConverterPlugin, PluginError> {
        let name = name.trim();
        self.converters
            .iter()
            .find(|p| matches(p.class, p.aliases, name))
            .ok_or_else(|| self.not_found("converter", name, self.converters.iter().map(|p| p.class).collect()))
    }

    /// The transform named `name` (class name, simple name such as `Cast$Value`, or alias).
    pub fn transform(&self, name: &str) -> Result<&TransformPlugin, PluginError> {
        let name = name.trim();
        self.transforms
            .iter()
            .find(|p| matches(p.class, p.aliases, name))
            .ok_or_else(|| self.not_found("transformation", name, self.transforms.iter().map(|p| p.class).collect()))
    }

    /// The predicate named `name`.
    pub fn predicate(&self, name: &str) -> Result<&PredicatePlugin, PluginError> {
        let name = name.trim();
        self.predicates
            .iter()
            .find(|p| matches(p.class, p.aliases, name))
            .ok_or_else(|| self.not_found("predicate", name, self.predicates.iter().map(|p| p.class).collect()))
    }

    /// The header converter named `name`.
    pub fn header_converter(&self, name: &str) -> Result<&HeaderConverterPlugin, PluginError> {
        let name = name.trim();
        self.header_converters.iter().find(|p| matches(p.class, p.aliases, name)).ok_or_else(|| {
            self.not_found("header converter", name, self.header_converters.iter().map(|p| p.class).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add_connector(ConnectorPlugin {
            class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
            aliases: &["filesource"],
            kind: ConnectorKind::Source,
            task_class: "test.Task",
            factory: || unreachable!("lookups never instantiate"),
        });
        r.add_disabled("io.confluent.connect.mqtt.MqttSourceConnector", "mqtt");
        r
    }

    #[test]
    fn finds_connectors_by_class_simple_name_short_name_and_alias() {
        let r = registry();
        for name in [
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "FileStreamSourceConnector",
            "FileStreamSource",
            "filesource",
        ] {
            assert_eq!(r.connector(name).unwrap().class, "org.apache.kafka.connect.file.FileStreamSourceConnector");
        }
    }

    #[test]
    fn compiled_out_plugins_name_their_feature() {
        let err = registry().connector("MqttSource").unwrap_err();
        assert_eq!(
            err.to_string(),
            "connector 'MqttSource' needs cargo feature 'mqtt', which this build of tributary does not include"
        );
        let err = registry().connector("com.example.Nope").unwrap_err();
        assert!(err.to_string().starts_with("unknown connector class 'com.example.Nope'; known: org.apache"), "{err}");
    }
}
