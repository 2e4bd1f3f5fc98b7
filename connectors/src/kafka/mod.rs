//! A Kafka-to-Kafka sink: copies the records of its `topics` to other topics of the worker's
//! Kafka cluster (a replica, a re-partitioned or transformed copy), through the worker's
//! producer. With `exactly.once.enabled` (the default) the copies and the consumed offsets
//! commit in one Kafka transaction (`send_offsets_to_transaction`), so a read_committed
//! consumer of the copy sees each record exactly once, whatever happens to the workers.
//!
//! Records are copied as bytes: run it with
//! `key.converter`/`value.converter`/`header.converter` =
//! `org.apache.kafka.connect.converters.ByteArrayConverter` for an exact copy (string values,
//! e.g. from `StringConverter`, are written as UTF-8). Transforms apply as usual.
//!
//! ```properties
//! name=orders-copy
//! connector.class=KafkaSink
//! topics=orders
//! kafka.topic.format=${topic}.copy
//! key.converter=org.apache.kafka.connect.converters.ByteArrayConverter
//! value.converter=org.apache.kafka.connect.converters.ByteArrayConverter
//! header.converter=org.apache.kafka.connect.converters.ByteArrayConverter
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use tributary_runtime::api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConfigValue, ConnectError, ConnectResult, Connector, Importance,
    KafkaOutput, KafkaWrites, OffsetMap, OutputRecord, Props, SinkConnector, SinkRecord, SinkTask, SinkTaskContext,
    Validator, Value,
};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};

const TOPIC_FORMAT: &str = "kafka.topic.format";
const PRESERVE_PARTITION: &str = "kafka.partition.preserve";
const EXACTLY_ONCE: &str = "exactly.once.enabled";
const BYTES_HINT: &str = "set key.converter, value.converter and header.converter to \
     org.apache.kafka.connect.converters.ByteArrayConverter for an exact copy";

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                TOPIC_FORMAT,
                ConfigType::String,
                Importance::High,
                "The topic each record is written to; ${topic} stands for the topic it was read from. It must not \
                 name a topic the connector reads.",
            )
            .default("${topic}.copy")
            .validator(Validator::custom(|v| match v {
                Some(ConfigValue::String(s)) if s.trim().is_empty() => Err("String must be non-empty".into()),
                Some(ConfigValue::String(s)) if s.trim() == "${topic}" => {
                    Err("'${topic}' writes each record back to the topic it was read from, an endless loop".into())
                }
                _ => Ok(()),
            })),
        )
        .define(
            ConfigKey::new(
                PRESERVE_PARTITION,
                ConfigType::Boolean,
                Importance::Medium,
                "Write each record to the partition number it was read from (the target topic needs at least as \
                 many partitions); false lets the producer choose from the key, as Kafka's Java producer does.",
            )
            .default("true"),
        )
        .define(
            ConfigKey::new(
                EXACTLY_ONCE,
                ConfigType::Boolean,
                Importance::Medium,
                "Write the copies and commit the consumed offsets in one Kafka transaction, so that read_committed \
                 consumers see each record once; false writes with a plain producer and commits offsets once the \
                 copies are acknowledged (at-least-once).",
            )
            .default("true"),
        )
}

/// Splits nothing itself: every task gets the same config and the consumer group spreads the
/// partitions.
#[derive(Debug, Default)]
pub struct KafkaSinkConnector {
    props: Props,
}

/// The parsed config, or the errors naming the keys.
fn parse(props: &Props) -> ConnectResult<Config> {
    let config = config_def().parse(props)?;
    let format = config.string(TOPIC_FORMAT);
    let read: Vec<&str> = props
        .get("topics")
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default();
    if let Some(topic) = read.iter().find(|t| format.trim() == **t) {
        return Err(ConnectError::config(
            TOPIC_FORMAT,
            format!("'{format}' is the topic '{topic}' the connector reads: an endless loop"),
        ));
    }
    Ok(config)
}

#[async_trait]
impl Connector for KafkaSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        parse(props)?;
        self.props = props.clone();
        Ok(())
    }
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks.max(1)])
    }
    /// Offsets live in the consumer group only: nothing to check.
    fn alter_offsets(&self, _config: &Props, _offsets: &[(OffsetMap, Option<OffsetMap>)]) -> ConnectResult<bool> {
        Ok(true)
    }
}

impl SinkConnector for KafkaSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(KafkaSinkTask::default())
    }
    fn kafka_writes(&self, config: &Props) -> Option<KafkaWrites> {
        let exactly_once = config_def().parse(config).map(|c| c.bool(EXACTLY_ONCE)).unwrap_or(true);
        Some(if exactly_once { KafkaWrites::ExactlyOnce } else { KafkaWrites::AtLeastOnce })
    }
}

/// Sends each record it is given to its target topic.
#[derive(Debug, Default)]
pub struct KafkaSinkTask {
    output: Option<Arc<dyn KafkaOutput>>,
    format: String,
    preserve_partition: bool,
}

/// A key, value or header as bytes.
fn bytes(value: &Value, what: &dyn Fn() -> String) -> ConnectResult<Option<Vec<u8>>> {
    match value {
        Value::Null => Ok(None),
        Value::Bytes(b) => Ok(Some(b.clone())),
        Value::String(s) => Ok(Some(s.clone().into_bytes())),
        other => Err(ConnectError::data(format!(
            "the {} is a {} value, but the Kafka sink writes bytes: {BYTES_HINT}",
            what(),
            other.type_name()
        ))),
    }
}

impl KafkaSinkTask {
    fn output_record(&self, r: SinkRecord) -> ConnectResult<OutputRecord> {
        let at =
            |part: &str| format!("{part} of the record at {}-{} offset {}", r.topic, r.kafka_partition, r.kafka_offset);
        let mut headers = Vec::with_capacity(r.headers.len());
        for h in r.headers.iter() {
            headers.push((h.key.to_string(), bytes(&h.value, &|| at(&format!("header '{}'", h.key)))?));
        }
        Ok(OutputRecord {
            topic: self.format.replace("${topic}", &r.topic),
            partition: self.preserve_partition.then_some(r.kafka_partition),
            key: bytes(&r.key, &|| at("key"))?,
            value: bytes(&r.value, &|| at("value"))?,
            headers,
            timestamp: r.timestamp,
        })
    }
}

#[async_trait]
impl SinkTask for KafkaSinkTask {
    async fn start(&mut self, ctx: SinkTaskContext, props: &Props) -> ConnectResult<()> {
        let config = parse(props)?;
        self.format = config.string(TOPIC_FORMAT).trim().to_owned();
        self.preserve_partition = config.bool(PRESERVE_PARTITION);
        self.output = ctx.kafka;
        if self.output.is_none() {
            return Err(ConnectError::fatal("the worker gave this task no Kafka producer to write with"));
        }
        Ok(())
    }
    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()> {
        let Some(output) = self.output.clone() else {
            return Err(ConnectError::fatal("the task was not started"));
        };
        for r in records {
            output.send(&self.output_record(r)?).await?;
        }
        Ok(())
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

/// Adds the Kafka sink.
pub fn register(registry: &mut Registry) {
    registry.add_connector(ConnectorPlugin {
        class: "io.tributary.connect.kafka.KafkaSinkConnector",
        aliases: &[],
        kind: ConnectorKind::Sink,
        task_class: "io.tributary.connect.kafka.KafkaSinkTask",
        factory: || AnyConnector::Sink(Box::new(KafkaSinkConnector::default())),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_runtime::api::Headers;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_format_that_writes_back_to_an_input_topic_is_refused() {
        let e = parse(&props(&[("topics", "a,b"), (TOPIC_FORMAT, "${topic}")])).unwrap_err().to_string();
        assert!(e.contains(TOPIC_FORMAT) && e.contains("endless loop"), "{e}");
        let e = parse(&props(&[("topics", "a, b"), (TOPIC_FORMAT, "b")])).unwrap_err().to_string();
        assert!(e.contains(TOPIC_FORMAT) && e.contains("'b'"), "{e}");
        assert!(parse(&props(&[("topics", "a"), (TOPIC_FORMAT, "copies")])).is_ok());
    }

    #[test]
    fn exactly_once_is_the_default() {
        let c = KafkaSinkConnector::default();
        assert_eq!(c.kafka_writes(&props(&[])), Some(KafkaWrites::ExactlyOnce));
        assert_eq!(c.kafka_writes(&props(&[(EXACTLY_ONCE, "false")])), Some(KafkaWrites::AtLeastOnce));
    }

    #[test]
    fn records_are_copied_as_bytes_and_other_values_name_the_converter_to_use() {
        let task = KafkaSinkTask { output: None, format: "${topic}.copy".into(), preserve_partition: true };
        let mut headers = Headers::new();
        headers.add("h", None, Value::Bytes(vec![1, 2]));
        let record = SinkRecord {
            topic: "orders".into(),
            kafka_partition: 2,
            kafka_offset: 7,
            timestamp: Some(1_000),
            key_schema: None,
            key: Value::String("k".into()),
            value_schema: None,
            value: Value::Bytes(vec![0, 255]),
            headers,
        };
        let out = task.output_record(record.clone()).unwrap();
        assert_eq!(
            out,
            OutputRecord {
                topic: "orders.copy".into(),
                partition: Some(2),
                key: Some(b"k".to_vec()),
                value: Some(vec![0, 255]),
                headers: vec![("h".into(), Some(vec![1, 2]))],
                timestamp: Some(1_000),
            }
        );
        let e = task.output_record(SinkRecord { value: Value::Int32(3), ..record }).unwrap_err().to_string();
        assert!(e.contains("value of the record at orders-2 offset 7") && e.contains("ByteArrayConverter"), "{e}");
    }
}
