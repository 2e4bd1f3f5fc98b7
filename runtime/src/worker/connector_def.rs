//! The keys Kafka Connect's `ConnectorConfig`, `SourceConnectorConfig` and
//! `SinkConnectorConfig` declare for every connector, with Kafka 4.1's documentation, groups,
//! orders, widths, display names and validators, so `/connector-plugins/{plugin}/config` and
//! `/validate` answer as Kafka Connect does. Generated once from Kafka Connect 4.1.1's own
//! answers; `tests/rest_differential.rs` keeps them equal.

use crate::api::config::ConfigValue;
use crate::api::{ConfigDef, ConfigKey, ConfigType, Importance, Validator, Width};
use crate::plugins::ConnectorKind;

/// The version plugins report (`connector.plugin.version` and the like).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn key(name: &str, kind: ConfigType, importance: Importance, doc: &str) -> ConfigKey {
    ConfigKey::new(name, kind, importance, doc)
}

/// Keys every connector accepts, then the source's or the sink's own.
pub fn connector_config_def(kind: ConnectorKind) -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    let common = [
        key("name", String, High, "Globally unique name to use for this connector.")
            .group("Common")
            .order(1)
            .width(Width::Medium)
            .display_name("Connector name")
            .validator(Validator::custom(no_control_chars)),
        key("connector.class", String, High, "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter")
            .group("Common")
            .order(2)
            .width(Width::Long)
            .display_name("Connector class"),
        key("connector.plugin.version", String, Medium, "Version of the connector.")
            .default(VERSION)
            .group("Common")
            .order(3)
            .width(Width::Medium)
            .display_name("Connector version"),
        key("tasks.max", Int, High, "Maximum number of tasks to use for this connector.")
            .default("1")
            .group("Common")
            .order(4)
            .width(Width::Short)
            .display_name("Tasks max")
            .validator(Validator::at_least(1.0)),
        key("tasks.max.enforce", Boolean, Low, "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector. By default, connectors that generate too many tasks will fail, and existing sets of tasks that exceed the tasks.max property will also be failed. If this property is set to false, then connectors will be allowed to generate more than the maximum number of tasks, and existing sets of tasks that exceed the tasks.max property will be allowed to run. This property is deprecated and will be removed in an upcoming major release.")
            .default("true")
            .group("Common")
            .order(5)
            .width(Width::Short)
            .display_name("Enforce tasks max"),
        key("key.converter", Class, Low, "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.")
            .optional()
            .group("Common")
            .order(6)
            .width(Width::Short)
            .display_name("Key converter class"),
        key("key.converter.plugin.version", String, Low, "Version of the key converter.")
            .optional()
            .group("Common")
            .order(7)
            .width(Width::Short)
            .display_name("Key converter version"),
        key("value.converter", Class, Low, "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.")
            .optional()
            .group("Common")
            .order(8)
            .width(Width::Short)
            .display_name("Value converter class"),
        key("value.converter.plugin.version", String, Low, "Version of the value converter.")
            .optional()
            .group("Common")
            .order(9)
            .width(Width::Short)
            .display_name("Value converter version"),
        key("header.converter", Class, Low, "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the header values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro. By default, the SimpleHeaderConverter is used to serialize header values to strings and deserialize them by inferring the schemas.")
            .optional()
            .group("Common")
            .order(10)
            .width(Width::Short)
            .display_name("Header converter class"),
        key("header.converter.plugin.version", String, Low, "Version of the header converter.")
            .optional()
            .group("Common")
            .order(11)
            .width(Width::Short)
            .display_name("Header converter version"),
        key("transforms", List, Low, "Aliases for the transformations to be applied to records.")
            .default("")
            .group("Transforms")
            .order(12)
            .width(Width::Long)
            .display_name("Transforms")
            .validator(Validator::custom(unique_aliases)),
        key("predicates", List, Low, "Aliases for the predicates used by transformations.")
            .default("")
            .group("Predicates")
            .order(13)
            .width(Width::Long)
            .display_name("Predicates")
            .validator(Validator::custom(unique_aliases)),
        key("config.action.reload", String, Low, "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties. A value of 'none' indicates that Connect will do nothing. A value of 'restart' indicates that Connect should restart/reload the connector with the updated configuration properties.The restart may actually be scheduled in the future if the external configuration provider indicates that a configuration value will expire in the future.")
            .default("restart")
            .group("Common")
            .order(14)
            .width(Width::Medium)
            .display_name("Reload Action")
            .validator(Validator::OneOfIgnoreCase(vec!["none", "restart"])),
        key("errors.retry.timeout", Long, Medium, "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.")
            .default("0")
            .group("Error Handling")
            .order(1)
            .width(Width::Medium)
            .display_name("Retry Timeout for Errors"),
        key("errors.retry.delay.max.ms", Long, Medium, "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.")
            .default("60000")
            .group("Error Handling")
            .order(2)
            .width(Width::Medium)
            .display_name("Maximum Delay Between Retries for Errors"),
        key("errors.tolerance", String, Medium, "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.")
            .default("none")
            .group("Error Handling")
            .order(3)
            .width(Width::Short)
            .display_name("Error Tolerance")
            .validator(Validator::OneOf(vec!["none", "all"])),
        key("errors.log.enable", Boolean, Medium, "If true, write each error and the details of the failed operation and problematic record to the Connect application log. This is 'false' by default, so that only errors that are not tolerated are reported.")
            .default("false")
            .group("Error Handling")
            .order(4)
            .width(Width::Short)
            .display_name("Log Errors"),
        key("errors.log.include.messages", Boolean, Medium, "Whether to include in the log the Connect record that resulted in a failure. For sink records, the topic, partition, offset, and timestamp will be logged. For source records, the key and value (and their schemas), all headers, and the timestamp, Kafka topic, Kafka partition, source partition, and source offset will be logged. This is 'false' by default, which will prevent record keys, values, and headers from being written to log files.")
            .default("false")
            .group("Error Handling")
            .order(5)
            .width(Width::Short)
            .display_name("Log Error Details"),
    ];
    let specific: Vec<ConfigKey> = match kind {
        ConnectorKind::Source => vec![
            key("topic.creation.groups", List, Low, "Groups of configurations for topics created by source connectors")
                .default("")
                .group("Topic Creation")
                .order(1)
                .width(Width::Long)
                .display_name("Topic Creation Groups")
                .validator(Validator::custom(unique_aliases)),
            key("exactly.once.support", String, Medium, "Permitted values are requested, required. If set to \"required\", forces a preflight check for the connector to ensure that it can provide exactly-once semantics with the given configuration. Some connectors may be capable of providing exactly-once semantics but not signal to Connect that they support this; in that case, documentation for the connector should be consulted carefully before creating it, and the value for this property should be set to \"requested\". Additionally, if the value is set to \"required\" but the worker that performs preflight validation does not have exactly-once support enabled for source connectors, requests to create or validate the connector will fail.")
                .default("requested")
                .group("Exactly Once Support")
                .order(2)
                .width(Width::Short)
                .display_name("Exactly once support")
                .validator(Validator::OneOfIgnoreCase(vec!["requested", "required"])),
            key("transaction.boundary", String, Medium, "Permitted values are: poll, interval, connector. If set to 'poll', a new producer transaction will be started and committed for every batch of records that each task from this connector provides to Connect. If set to 'connector', relies on connector-defined transaction boundaries; note that not all connectors are capable of defining their own transaction boundaries, and in that case, attempts to instantiate a connector with this value will fail. Finally, if set to 'interval', commits transactions only after a user-defined time interval has passed.")
                .default("poll")
                .group("Exactly Once Support")
                .order(3)
                .width(Width::Short)
                .display_name("Transaction Boundary")
                .validator(Validator::OneOfIgnoreCase(vec!["poll", "interval", "connector"])),
            key("transaction.boundary.interval.ms", Long, Low, "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks. If unset, defaults to the value of the worker-level 'offset.flush.interval.ms' property. It has no effect if a different transaction.boundary is specified.")
                .optional()
                .group("Exactly Once Support")
                .order(4)
                .width(Width::Short)
                .display_name("Transaction boundary interval")
                .validator(Validator::custom(null_or_at_least_zero)),
            key("offsets.storage.topic", String, Low, "The name of a separate offsets topic to use for this connector. If empty or not specified, the worker’s global offsets topic name will be used. If specified, the offsets topic will be created if it does not already exist on the Kafka cluster targeted by this connector (which may be different from the one used for the worker's global offsets topic if the bootstrap.servers property of the connector's producer has been overridden from the worker's). Only applicable in distributed mode; in standalone mode, setting this property will have no effect.")
                .optional()
                .group("offsets.topic")
                .order(1)
                .width(Width::Long)
                .display_name("Offsets topic")
                .validator(Validator::custom(non_empty_string)),
        ],
        ConnectorKind::Sink => vec![
            key("topics", List, High, "List of topics to consume, separated by commas")
                .default("")
                .group("Common")
                .order(4)
                .width(Width::Long)
                .display_name("Topics"),
            key("topics.regex", String, High, "Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified.")
                .default("")
                .group("Common")
                .order(4)
                .width(Width::Long)
                .display_name("Topics regex")
                .validator(Validator::custom(valid_regex)),
            key("errors.deadletterqueue.topic.name", String, Medium, "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.")
                .default("")
                .group("Error Handling")
                .order(6)
                .width(Width::Medium)
                .display_name("Dead Letter Queue Topic Name"),
            key("errors.deadletterqueue.topic.replication.factor", Short, Medium, "Replication factor used to create the dead letter queue topic when it doesn't already exist.")
                .default("3")
                .group("Error Handling")
                .order(7)
                .width(Width::Medium)
                .display_name("Dead Letter Queue Topic Replication Factor"),
            key("errors.deadletterqueue.context.headers.enable", Boolean, Medium, "If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys, all error context header keys will start with <code>__connect.errors.</code>")
                .default("false")
                .group("Error Handling")
                .order(8)
                .width(Width::Medium)
                .display_name("Enable Error Context Headers"),
        ],
    };
    common.into_iter().chain(specific).fold(ConfigDef::new(), ConfigDef::define)
}

fn strings(value: Option<&ConfigValue>) -> &[String] {
    match value {
        Some(ConfigValue::List(items)) => items,
        _ => &[],
    }
}

/// Kafka's alias validator: a list without repeats.
fn unique_aliases(value: Option<&ConfigValue>) -> Result<(), String> {
    let items = strings(value);
    let mut seen = std::collections::HashSet::new();
    if items.iter().all(|i| seen.insert(i)) { Ok(()) } else { Err("Duplicate alias provided.".into()) }
}

/// Kafka's `NonEmptyStringWithoutControlChars` (null passes: "required" reports it).
fn no_control_chars(value: Option<&ConfigValue>) -> Result<(), String> {
    let Some(ConfigValue::String(s)) = value else { return Ok(()) };
    if s.is_empty() {
        return Err("String may not be empty".into());
    }
    let bad: Vec<String> = s.chars().filter(|c| c.is_control()).map(|c| (c as u32).to_string()).collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("String may not contain control sequences but had the following ASCII chars: {}", bad.join(", ")))
    }
}

/// Kafka's `NonEmptyString` (null passes).
fn non_empty_string(value: Option<&ConfigValue>) -> Result<(), String> {
    match value {
        Some(ConfigValue::String(s)) if s.is_empty() => Err("String must be non-empty".into()),
        _ => Ok(()),
    }
}

fn null_or_at_least_zero(value: Option<&ConfigValue>) -> Result<(), String> {
    match value {
        Some(ConfigValue::Long(n)) if *n < 0 => Err("Value must be at least 0".into()),
        _ => Ok(()),
    }
}

/// Kafka's `RegexValidator`: the pattern must compile.
fn valid_regex(value: Option<&ConfigValue>) -> Result<(), String> {
    let Some(ConfigValue::String(s)) = value else { return Ok(()) };
    match regex::Regex::new(s) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("Invalid regex: {e}")),
    }
}
