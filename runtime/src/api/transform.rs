//! Single message transforms and predicates, as Kafka Connect's `Transformation` and
//! `Predicate`: each record passes through a connector's chain of transforms between the task
//! and the converters (source) or between the converters and the task (sink).
//!
//! A transform changes a record in place through [`ConnectRecord`], which both
//! [`SourceRecord`] and [`SinkRecord`] implement, so one transform serves both directions
//! without copying the record; returning `Ok(false)` drops it (Kafka Connect's `null`). A
//! transform is configured once per task and owned by that task's chain, so it may keep caches
//! (`&mut self`) without locks.

use std::sync::Arc;

use super::connector::Props;
use super::error::ConnectResult;
use super::record::{Headers, SinkRecord, SourceRecord};
use super::schema::Schema;
use super::value::Value;

/// The parts of a record a transform reads and changes.
pub trait ConnectRecord: Send {
    /// Topic the record goes to (source) or came from (sink).
    fn topic(&self) -> &str;
    /// Changes the topic.
    fn set_topic(&mut self, topic: &str);
    /// Kafka partition, if set.
    fn kafka_partition(&self) -> Option<i32>;
    /// Changes the partition (`None` lets the producer choose; a sink record keeps its own).
    fn set_kafka_partition(&mut self, partition: Option<i32>);
    /// The offset a sink record was read at (`None` for a source record).
    fn kafka_offset(&self) -> Option<i64>;
    /// Key schema.
    fn key_schema(&self) -> Option<&Arc<Schema>>;
    /// Key.
    fn key(&self) -> &Value;
    /// Replaces the key and its schema.
    fn set_key(&mut self, schema: Option<Arc<Schema>>, key: Value);
    /// Takes the key and its schema out, leaving a null key, to rebuild it without a copy.
    fn take_key(&mut self) -> (Option<Arc<Schema>>, Value);
    /// Value schema.
    fn value_schema(&self) -> Option<&Arc<Schema>>;
    /// Value.
    fn value(&self) -> &Value;
    /// Replaces the value and its schema.
    fn set_value(&mut self, schema: Option<Arc<Schema>>, value: Value);
    /// Takes the value and its schema out, leaving a null value.
    fn take_value(&mut self) -> (Option<Arc<Schema>>, Value);
    /// Timestamp in milliseconds since the epoch.
    fn timestamp(&self) -> Option<i64>;
    /// Changes the timestamp.
    fn set_timestamp(&mut self, timestamp: Option<i64>);
    /// Headers.
    fn headers(&self) -> &Headers;
    /// Headers, to change.
    fn headers_mut(&mut self) -> &mut Headers;
}

/// A single message transform, configured for one task.
pub trait Transformation: Send {
    /// Changes `record` in place; `Ok(false)` drops it. An error is a data error: the
    /// connector's `errors.tolerance` decides whether the record is skipped or the task fails.
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool>;
}

/// A condition on records that decides whether a transform applies (KIP-585).
pub trait Predicate: Send {
    /// Whether `record` matches.
    fn test(&self, record: &dyn ConnectRecord) -> bool;
}

/// Creates a configured transform from its settings (the `transforms.<alias>.` keys with the
/// prefix removed), already checked against its `ConfigDef`.
pub type TransformFactory = fn(&Props) -> ConnectResult<Box<dyn Transformation>>;

/// Creates a configured predicate from its settings (the `predicates.<alias>.` keys with the
/// prefix removed).
pub type PredicateFactory = fn(&Props) -> ConnectResult<Box<dyn Predicate>>;

macro_rules! connect_record {
    ($ty:ty, $topic:ident => $set_topic:expr, $part:ident => $get_part:expr, $set_part:expr, $offset:expr) => {
        impl ConnectRecord for $ty {
            fn kafka_offset(&self) -> Option<i64> {
                $offset(self)
            }
            fn topic(&self) -> &str {
                &self.topic
            }
            fn set_topic(&mut self, $topic: &str) {
                self.topic = $set_topic;
            }
            fn kafka_partition(&self) -> Option<i32> {
                let $part = self.kafka_partition;
                $get_part
            }
            fn set_kafka_partition(&mut self, $part: Option<i32>) {
                $set_part(self, $part)
            }
            fn key_schema(&self) -> Option<&Arc<Schema>> {
                self.key_schema.as_ref()
            }
            fn key(&self) -> &Value {
                &self.key
            }
            fn set_key(&mut self, schema: Option<Arc<Schema>>, key: Value) {
                self.key_schema = schema;
                self.key = key;
            }
            fn take_key(&mut self) -> (Option<Arc<Schema>>, Value) {
                (self.key_schema.take(), std::mem::replace(&mut self.key, Value::Null))
            }
            fn value_schema(&self) -> Option<&Arc<Schema>> {
                self.value_schema.as_ref()
            }
            fn value(&self) -> &Value {
                &self.value
            }
            fn set_value(&mut self, schema: Option<Arc<Schema>>, value: Value) {
                self.value_schema = schema;
                self.value = value;
            }
            fn take_value(&mut self) -> (Option<Arc<Schema>>, Value) {
                (self.value_schema.take(), std::mem::replace(&mut self.value, Value::Null))
            }
            fn timestamp(&self) -> Option<i64> {
                self.timestamp
            }
            fn set_timestamp(&mut self, timestamp: Option<i64>) {
                self.timestamp = timestamp;
            }
            fn headers(&self) -> &Headers {
                &self.headers
            }
            fn headers_mut(&mut self) -> &mut Headers {
                &mut self.headers
            }
        }
    };
}

connect_record!(
    SourceRecord,
    topic => Arc::from(topic),
    p => p,
    |r: &mut SourceRecord, p| r.kafka_partition = p,
    |_: &SourceRecord| None
);
connect_record!(
    SinkRecord,
    topic => topic.to_owned(),
    p => Some(p),
    |r: &mut SinkRecord, p: Option<i32>| {
        if let Some(p) = p {
            r.kafka_partition = p;
        }
    },
    |r: &SinkRecord| Some(r.kafka_offset)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_and_sink_records_change_through_the_same_interface() {
        fn rename(r: &mut dyn ConnectRecord) {
            let t = format!("{}-x", r.topic());
            r.set_topic(&t);
            let (s, v) = r.take_value();
            r.set_key(s, v);
            r.set_timestamp(Some(7));
        }
        let mut src = SourceRecord::new(Arc::new(Default::default()), Default::default(), "t", None, Value::Int32(1));
        rename(&mut src);
        assert_eq!(
            (&*src.topic, &src.key, &src.value, src.timestamp),
            ("t-x", &Value::Int32(1), &Value::Null, Some(7))
        );
        let mut sink = SinkRecord {
            topic: "s".into(),
            kafka_partition: 3,
            kafka_offset: 9,
            timestamp: None,
            key_schema: None,
            key: Value::Null,
            value_schema: None,
            value: Value::Int32(2),
            headers: Headers::new(),
        };
        rename(&mut sink);
        sink.set_kafka_partition(None);
        assert_eq!((sink.topic.as_str(), sink.kafka_partition, &sink.key), ("s-x", 3, &Value::Int32(2)));
    }
}
