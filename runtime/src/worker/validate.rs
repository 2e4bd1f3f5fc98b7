//! Connector configuration checks shared by every mode, as Kafka Connect's
//! `AbstractHerder.validateConnectorConfig`: the common keys ([`connector_config_def`]),
//! enriched with one group of keys per transform and predicate alias (`ConnectorConfig.enrich`),
//! the sink's topic rules, the plugin's own `ConfigDef`, and the key, value and header
//! converters' own keys when the connector names them; every error reported at once.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value as Json;

pub use super::connector_def::{VERSION, connector_config_def};
use crate::api::{ConfigDef, ConfigError, ConfigErrors, ConfigKey, ConfigType, Importance, Props, Width};
use crate::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};

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
const PASS_THROUGH: [&str; 6] = [
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "producer.override.",
    "consumer.override.",
    "admin.override.",
];

/// The converter keys whose worker-level value applies when the connector has none.
pub const CONVERTER_KEYS: [&str; 3] = ["key.converter", "value.converter", "header.converter"];

/// A connector configuration checked key by key: the enriched definition, the values it was
/// checked with (worker defaults for converters filled in), and every error per key.
pub(super) struct Checked {
    pub(super) def: ConfigDef,
    pub(super) props: Props,
    pub(super) extra: Vec<ConfigError>,
    pub(super) plugin_def: ConfigDef,
    /// The connector's own checks across its keys ([`crate::api::Connector::validate`]).
    pub(super) cross: Vec<ConfigError>,
    pub(super) converters: Vec<(String, ConfigDef)>,
}

fn sorted(mut v: Vec<&str>) -> Vec<String> {
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(str::to_owned).collect()
}

/// Adds the keys of each transform and predicate alias, as Kafka's `ConnectorConfig.enrich`.
pub fn enrich(registry: &Arc<Registry>, mut def: ConfigDef, props: &Props) -> ConfigDef {
    for kind in [Alias::Transform, Alias::Predicate] {
        let list = props.get(kind.key()).map(String::as_str).unwrap_or_default();
        let mut seen = HashSet::new();
        for alias in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            if !seen.insert(alias) {
                continue;
            }
            def = kind.enrich(registry, def, alias, props);
        }
    }
    def
}

/// Transforms or predicates: the two kinds of aliased plugins a connector config names.
#[derive(Clone, Copy)]
enum Alias {
    Transform,
    Predicate,
}

impl Alias {
    fn key(self) -> &'static str {
        match self {
            Self::Transform => "transforms",
            Self::Predicate => "predicates",
        }
    }
    fn lower(self) -> &'static str {
        match self {
            Self::Transform => "transformation",
            Self::Predicate => "predicate",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Self::Transform => "Transformation",
            Self::Predicate => "Predicate",
        }
    }
    fn group(self) -> &'static str {
        match self {
            Self::Transform => "Transforms",
            Self::Predicate => "Predicates",
        }
    }

    /// The plugin's keys, if `name` names one.
    fn plugin_def(self, registry: &Registry, name: &str) -> Option<ConfigDef> {
        match self {
            Self::Transform => registry.transform(name).ok().map(|p| (p.config_def)()),
            Self::Predicate => registry.predicate(name).ok().map(|p| (p.config_def)()),
        }
    }

    /// The canonical class `name` names, if it names a plugin of this kind.
    fn class(self, registry: &Registry, name: &str) -> Option<String> {
        match self {
            Self::Transform => registry.transform(name).ok().map(|p| p.class.to_owned()),
            Self::Predicate => registry.predicate(name).ok().map(|p| p.class.to_owned()),
        }
    }

    fn classes(self, registry: &Registry) -> Vec<String> {
        match self {
            Self::Transform => sorted(registry.transforms().iter().map(|p| p.class).collect()),
            Self::Predicate => sorted(registry.predicates().iter().map(|p| p.class).collect()),
        }
    }

    fn enrich(self, registry: &Arc<Registry>, def: ConfigDef, alias: &str, props: &Props) -> ConfigDef {
        let prefix = format!("{}.{alias}.", self.key());
        let group = format!("{}: {alias}", self.group());
        let type_key = format!("{prefix}type");
        let found = props.get(&type_key).and_then(|t| self.plugin_def(registry, t.trim()));
        let lookup = registry.clone();
        let def = def
            .define(
                ConfigKey::new(
                    &type_key,
                    ConfigType::Class,
                    Importance::High,
                    &format!("Class for the '{alias}' {}.", self.lower()),
                )
                .group(&group)
                .order(0)
                .width(Width::Long)
                .display_name(&format!("{} type for {alias}", self.title()))
                .recommend(self.classes(registry))
                .classes(move |name| self.class(&lookup, name)),
            )
            .define({
                let key = ConfigKey::new(
                    &format!("{prefix}plugin.version"),
                    ConfigType::String,
                    Importance::High,
                    &format!("Version of the '{alias}' {}.", self.lower()),
                )
                .group(&group)
                .order(1)
                .width(Width::Long)
                .display_name(&format!("{} version for {alias}", self.title()));
                if found.is_some() { key.default(VERSION).recommend(vec![VERSION.to_owned()]) } else { key.optional() }
            });
        let Some(plugin) = found else { return def };
        let implicit = match self {
            Self::Transform => ConfigDef::new()
                .define(
                    ConfigKey::new(
                        "predicate",
                        ConfigType::String,
                        Importance::Medium,
                        "The alias of a predicate used to determine whether to apply this transformation.",
                    )
                    .optional(),
                )
                .define(
                    ConfigKey::new(
                        "negate",
                        ConfigType::Boolean,
                        Importance::Medium,
                        "Whether the configured predicate should be negated.",
                    )
                    .default("false"),
                ),
            Self::Predicate => ConfigDef::new(),
        };
        // The implicit keys mask a transform's own keys of the same name, as in Kafka.
        let own: Vec<ConfigKey> = plugin.keys().iter().filter(|k| implicit.key(&k.name).is_none()).cloned().collect();
        let child = own.into_iter().fold(implicit, ConfigDef::define);
        def.embed(&prefix, &group, 2, &child)
    }
}

/// Errors Kafka Connect reports outside the key definitions: a negated transform without a
/// predicate, and a sink's topic rules.
fn extra_errors(plugin: &ConnectorPlugin, props: &Props, worker: &Props) -> Vec<ConfigError> {
    let kind = plugin.kind;
    let mut errors = Vec::new();
    let aliases = props.get("transforms").map(String::as_str).unwrap_or_default();
    for alias in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let (negate, predicate) = (format!("transforms.{alias}.negate"), format!("transforms.{alias}.predicate"));
        if props.contains_key(&negate) && !props.contains_key(&predicate) {
            errors.push(ConfigError {
                key: format!("transforms.{alias}.type"),
                message: format!(
                    "Config '{negate}' was provided but there is no config '{predicate}' defining a predicate to be negated."
                ),
            });
        }
    }
    let set = |k: &str| props.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if kind == ConnectorKind::Source {
        errors.extend(super::exactly_once::preflight(plugin, props, worker));
    }
    if kind == ConnectorKind::Sink && set("errors.deadletterqueue.topic.name").is_some() {
        errors.push(ConfigError {
            key: "errors.deadletterqueue.topic.name".into(),
            message: "Tributary does not write dead letter queues yet; remove this key (errors.tolerance=all with \
                      errors.log.enable=true skips and logs failing records instead)"
                .into(),
        });
    }
    if kind == ConnectorKind::Sink {
        let has = |k: &str| props.get(k).is_some_and(|v| !v.trim().is_empty());
        let message = match (has("topics"), has("topics.regex")) {
            (false, false) => Some("Must configure one of topics or topics.regex"),
            (true, true) => Some("topics and topics.regex are mutually exclusive options, but both are set."),
            _ => None,
        };
        if let Some(m) = message {
            for key in ["topics", "topics.regex"] {
                errors.push(ConfigError { key: key.into(), message: m.into() });
            }
        }
        errors.extend(dlq_errors(props));
    }
    errors
}

/// A sink's dead letter queue may not be one of the topics it consumes.
fn dlq_errors(props: &Props) -> Option<ConfigError> {
    let dlq = props.get("errors.deadletterqueue.topic.name").map(|s| s.trim()).filter(|s| !s.is_empty())?;
    if let Some(topics) = props.get("topics").filter(|t| !t.trim().is_empty()) {
        let list: Vec<&str> = topics.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
        if list.contains(&dlq) {
            return Some(ConfigError {
                key: "topics".into(),
                message: format!(
                    "The DLQ topic '{dlq}' may not be included in the list of topics ('topics=[{}]') consumed by the connector",
                    list.join(", ")
                ),
            });
        }
    }
    let regex = props.get("topics.regex").filter(|t| !t.trim().is_empty())?;
    let re = regex::Regex::new(&format!("^(?:{regex})$")).ok()?;
    re.is_match(dlq).then(|| ConfigError {
        key: "topics.regex".into(),
        message: format!(
            "The DLQ topic '{dlq}' may not be matched by the regex for the topics ('topics.regex={regex}') consumed by the connector"
        ),
    })
}

/// The common keys with converter class checks and recommendations from the registry.
fn common_def(registry: &Arc<Registry>, kind: ConnectorKind) -> ConfigDef {
    let mut def = connector_config_def(kind);
    let converters = sorted(registry.converters().iter().map(|p| p.class).collect());
    let headers = sorted(registry.header_converters().iter().map(|p| p.class).collect());
    for name in CONVERTER_KEYS {
        let Some(mut key) = def.key(name).cloned() else { continue };
        let r = registry.clone();
        key = if name == "header.converter" {
            key.recommend(headers.clone()).classes(move |c| r.header_converter(c).ok().map(|p| p.class.to_owned()))
        } else {
            key.recommend(converters.clone()).classes(move |c| r.converter(c).ok().map(|p| p.class.to_owned()))
        };
        def = def.define(key);
    }
    if let Some(key) = def.key("connector.plugin.version").cloned() {
        def = def.define(key.recommend(vec![VERSION.to_owned()]));
    }
    def
}

pub(super) fn check(registry: &Arc<Registry>, plugin: &ConnectorPlugin, props: &Props, defaults: &Props) -> Checked {
    let props = props.clone();
    let mut def = enrich(registry, common_def(registry, plugin.kind), &props);
    // The worker's converters are the defaults of the connector's converter keys, as Kafka
    // Connect 4.1 shows them in validation answers.
    for name in CONVERTER_KEYS {
        if let (Some(d), Some(k)) = (defaults.get(name), def.key(name).cloned()) {
            def = def.define(k.default(d.clone()));
        }
    }
    let mut converters = Vec::new();
    for name in CONVERTER_KEYS {
        // A converter class that does not resolve hides its version key, as Kafka's
        // recommender does.
        let version = format!("{name}.plugin.version");
        let resolves = |c: &str| match name {
            "header.converter" => registry.header_converter(c).is_ok(),
            _ => registry.converter(c).is_ok(),
        };
        if let Some(given) = props.get(name).map(|c| c.trim()).filter(|c| !c.is_empty())
            && !resolves(given)
            && let Some(k) = def.key(&version).cloned()
        {
            def = def.define(k.hidden());
        }
        let given = props.get(name).or_else(|| defaults.get(name));
        let Some(class) = given.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) else { continue };
        let converter_def = match name {
            "header.converter" => registry.header_converter(&class).map(|p| (p.config_def)()),
            _ => registry.converter(&class).map(|p| (p.config_def)()),
        };
        let Ok(converter_def) = converter_def else { continue };
        if let Some(k) = def.key(&format!("{name}.plugin.version")).cloned() {
            def = def.define(k.default(VERSION).recommend(vec![VERSION.to_owned()]));
        }
        // Only a converter the connector names itself is checked here, as in Kafka.
        if props.contains_key(name) {
            converters.push((name.to_owned(), converter_def));
        }
    }
    let (plugin_def, cross) = match (plugin.factory)() {
        AnyConnector::Source(c) => (c.config_def(), c.validate(&props)),
        AnyConnector::Sink(c) => (c.config_def(), c.validate(&props)),
    };
    let extra = extra_errors(plugin, &props, defaults);
    Checked { def, props, extra, plugin_def, cross, converters }
}

impl Checked {
    fn errors(&self) -> Vec<ConfigError> {
        let mut errors = match self.def.parse(&self.props) {
            Ok(_) => Vec::new(),
            Err(e) => e.0,
        };
        errors.extend(self.extra.iter().cloned());
        if let Err(e) = self.plugin_def.parse(&self.props) {
            errors.extend(e.0);
        }
        errors.extend(self.cross.iter().cloned());
        for (prefix, def) in &self.converters {
            if let Err(e) = def.parse(&converter_props(&self.props, prefix)) {
                errors.extend(e.0.into_iter().map(|e| ConfigError { key: format!("{prefix}.{}", e.key), ..e }));
            }
        }
        errors
    }
}

/// A converter's own settings from a connector config: the `<prefix>.` keys, with
/// `converter.type` set to `key`, `value` or `header` unless given, as Kafka Connect validates
/// them.
pub(super) fn converter_props(props: &Props, prefix: &str) -> Props {
    let mut own = super::config::strip_prefix(props, &format!("{prefix}."));
    let kind = prefix.trim_end_matches(".converter");
    own.entry("converter.type".to_owned()).or_insert_with(|| kind.to_owned());
    own
}

/// Checks `props` against the common keys, the aliases' keys and the plugin's own definition.
/// `worker` holds the worker settings validation depends on ([`Herder::converter_defaults`](crate::herder::Herder::converter_defaults)).
pub fn validate_connector(
    registry: &Arc<Registry>,
    props: &Props,
    worker: &Props,
) -> Result<CheckedConnector, ConfigErrors> {
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
    let checked = check(registry, &plugin, props, worker);
    let errors = checked.errors();
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let name = props.get("name").cloned().unwrap_or_default();
    let all = checked.def.clone().merge(&checked.plugin_def);
    for (key, suggestion) in all.unknown_keys(props) {
        if PASS_THROUGH.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        match suggestion {
            Some(s) => tracing::warn!(connector = %name, "unknown configuration key '{key}' (did you mean '{s}'?)"),
            None => tracing::warn!(connector = %name, "configuration key '{key}' is not used by this connector"),
        }
    }
    let tasks_max = props.get("tasks.max").and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(1).max(1);
    Ok(CheckedConnector { name, plugin, tasks_max })
}

/// The definitions of `GET /connector-plugins/{plugin}/config` for a connector: its own keys,
/// then the common ones.
pub fn connector_plugin_keys(registry: &Arc<Registry>, plugin: &ConnectorPlugin) -> Vec<Json> {
    let own = match (plugin.factory)() {
        AnyConnector::Source(c) => c.config_def(),
        AnyConnector::Sink(c) => c.config_def(),
    };
    let mut keys = own.key_infos();
    keys.extend(common_def(registry, plugin.kind).key_infos());
    keys
}
