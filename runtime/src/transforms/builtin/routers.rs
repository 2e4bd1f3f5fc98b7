//! The topic routers: `RegexRouter` (Java regex `matches` then `replaceFirst`) and
//! `TimestampRouter` (`${topic}` and `${timestamp}` in a format string).

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Transformation,
};

use super::date_format::DateFormat;
use super::java_regex::JavaRegex;
use super::util::configure;
use super::validators::regex;

/// Kafka's `RegexRouter.CONFIG_DEF`.
pub(crate) fn regex_router_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("regex", ConfigType::String, Importance::High, "Regular expression to use for matching.")
                .validator(regex()),
        )
        .define(ConfigKey::new("replacement", ConfigType::String, Importance::High, "Replacement string."))
}

/// Renames topics the regex matches entirely.
pub(crate) struct RegexRouter {
    regex: JavaRegex,
    replacement: String,
}

impl RegexRouter {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&regex_router_def(), props)?;
        let regex = JavaRegex::compile(&c.string("regex")).map_err(|e| ConnectError::config("regex", e))?;
        Ok(Box::new(Self { regex, replacement: c.string("replacement") }))
    }
}

impl Transformation for RegexRouter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        if self.regex.matches(record.topic()) {
            let topic = self.regex.replace_first(record.topic(), &self.replacement).map_err(ConnectError::data)?;
            record.set_topic(&topic);
        }
        Ok(true)
    }
}

/// Kafka's `TimestampRouter.CONFIG_DEF`.
pub(crate) fn timestamp_router_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "topic.format",
                ConfigType::String,
                Importance::High,
                "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively.",
            )
            .default("${topic}-${timestamp}"),
        )
        .define(
            ConfigKey::new(
                "timestamp.format",
                ConfigType::String,
                Importance::High,
                "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
            )
            .default("yyyyMMdd"),
        )
}

/// Renames topics after the topic and the record's timestamp (in UTC).
pub(crate) struct TimestampRouter {
    topic_format: String,
    format: DateFormat,
}

impl TimestampRouter {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&timestamp_router_def(), props)?;
        let format =
            DateFormat::new(&c.string("timestamp.format")).map_err(|e| ConnectError::config("timestamp.format", e))?;
        Ok(Box::new(Self { topic_format: c.string("topic.format"), format }))
    }
}

impl Transformation for TimestampRouter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let Some(ts) = record.timestamp() else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: ConnectRecord{{topic='{}', kafkaPartition={}}}",
                record.topic(),
                record.kafka_partition().map_or("null".to_owned(), |p| p.to_string())
            )));
        };
        let topic =
            self.topic_format.replace("${topic}", record.topic()).replace("${timestamp}", &self.format.format(ts));
        record.set_topic(&topic);
        Ok(true)
    }
}
