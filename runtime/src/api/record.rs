//! Records: what a source task produces and what a sink task receives.
//!
//! Source partitions and offsets are JSON maps at this edge, as in Kafka Connect's offset
//! storage (`["<connector>", {partition}]` → `{offset}`); connectors keep them typed with serde
//! and convert through [`encode_map`] and [`decode_map`].

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema::Schema;
use super::value::Value;

/// A JSON object: the form source partitions and offsets take in storage.
pub type OffsetMap = serde_json::Map<String, serde_json::Value>;

/// Encodes a typed partition or offset into its stored map form.
pub fn encode_map<T: Serialize>(value: &T) -> Result<OffsetMap, serde_json::Error> {
    match serde_json::to_value(value)? {
        serde_json::Value::Object(map) => Ok(map),
        other => Err(serde::ser::Error::custom(format!(
            "a source partition or offset must serialize to a JSON object, not {other}"
        ))),
    }
}

/// Decodes a stored partition or offset map into its typed form.
pub fn decode_map<T: DeserializeOwned>(map: &OffsetMap) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::Value::Object(map.clone()))
}

/// One header of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Header key; static keys (the common case) cost no allocation.
    pub key: Cow<'static, str>,
    /// Header schema, if known.
    pub schema: Option<Arc<Schema>>,
    /// Header value.
    pub value: Value,
}

/// Record headers, in order; keys may repeat, as in Kafka.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self(Vec::new())
    }
    /// Appends a header.
    pub fn add(&mut self, key: impl Into<Cow<'static, str>>, schema: Option<Arc<Schema>>, value: Value) {
        self.0.push(Header { key: key.into(), schema, value });
    }
    /// Appends a string header.
    pub fn add_string(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.add(key, None, Value::String(value.into()));
    }
    /// The last header with this key.
    pub fn last(&self, key: &str) -> Option<&Header> {
        self.0.iter().rev().find(|h| h.key == key)
    }
    /// Keeps only the headers for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        self.0.retain(keep);
    }
    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }
    /// Number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A record read from an external system, on its way to Kafka.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRecord {
    /// Where in the source this record comes from (a file, a table, a topic filter); shared,
    /// since every record of a partition carries the same map.
    pub source_partition: Arc<OffsetMap>,
    /// How far into that partition this record is; stored once Kafka holds the record.
    pub source_offset: OffsetMap,
    /// Destination topic, shared: a task's records usually all go to one or a few topics.
    pub topic: Arc<str>,
    /// Destination partition, or `None` to let the producer's partitioner choose.
    pub kafka_partition: Option<i32>,
    /// Key schema.
    pub key_schema: Option<Arc<Schema>>,
    /// Key.
    pub key: Value,
    /// Value schema.
    pub value_schema: Option<Arc<Schema>>,
    /// Value.
    pub value: Value,
    /// Timestamp in milliseconds since the epoch, or `None` for the producer's time.
    pub timestamp: Option<i64>,
    /// Headers.
    pub headers: Headers,
    /// Set when the task read something it could not turn into a record (a payload that is
    /// not the configured format): see [`SourceRecord::failed`].
    pub failure: Option<String>,
}

impl SourceRecord {
    /// A record with a value and no key, headers or timestamp.
    pub fn new(
        source_partition: impl Into<Arc<OffsetMap>>,
        source_offset: OffsetMap,
        topic: impl Into<Arc<str>>,
        value_schema: Option<Arc<Schema>>,
        value: Value,
    ) -> Self {
        Self {
            source_partition: source_partition.into(),
            source_offset,
            topic: topic.into(),
            kafka_partition: None,
            key_schema: None,
            key: Value::Null,
            value_schema,
            value,
            timestamp: None,
            headers: Headers::new(),
            failure: None,
        }
    }

    /// A record standing for something the task read but could not turn into a record, with
    /// the data error saying why (name the source object and the problem, e.g. the MQTT topic
    /// and "not UTF-8"). `value` is what was read (raw bytes, typically), for the error log.
    ///
    /// The runtime applies `errors.tolerance` to it, at stage `TASK_POLL`: with `none` the
    /// task fails with `error`; with `all` the record is logged (`errors.log.enable`) and
    /// skipped. Either way it is never written to Kafka, and a skipped one is retired in poll
    /// order like a delivered one: `commit_record` is called for it (metadata `None`) once
    /// every record polled before it is in Kafka, and its source offset is stored then. So a
    /// task acknowledges upstream exactly as for a good record, and never past unwritten data.
    pub fn failed(
        source_partition: impl Into<Arc<OffsetMap>>,
        source_offset: OffsetMap,
        topic: impl Into<Arc<str>>,
        value: Value,
        error: &crate::api::ConnectError,
    ) -> Self {
        let mut r = Self::new(source_partition, source_offset, topic, None, value);
        r.failure = Some(error.chain());
        r
    }

    /// Sets the key and its schema.
    pub fn with_key(mut self, key_schema: Option<Arc<Schema>>, key: Value) -> Self {
        self.key_schema = key_schema;
        self.key = key;
        self
    }
}

/// Where a source record landed in Kafka, passed to `commit_record`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Partition written.
    pub partition: i32,
    /// Offset in that partition.
    pub offset: i64,
}

/// A Kafka topic and partition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

/// A record consumed from Kafka, on its way to an external system.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkRecord {
    /// Topic it was read from.
    pub topic: String,
    /// Partition it was read from.
    pub kafka_partition: i32,
    /// Its offset in that partition.
    pub kafka_offset: i64,
    /// Timestamp in milliseconds, if the broker gave one.
    pub timestamp: Option<i64>,
    /// Key schema.
    pub key_schema: Option<Arc<Schema>>,
    /// Key.
    pub key: Value,
    /// Value schema.
    pub value_schema: Option<Arc<Schema>>,
    /// Value.
    pub value: Value,
    /// Headers.
    pub headers: Headers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct FilePos {
        position: i64,
    }

    #[test]
    fn typed_offsets_round_trip_through_maps() {
        let map = encode_map(&FilePos { position: 42 }).unwrap();
        assert_eq!(serde_json::Value::Object(map.clone()), serde_json::json!({"position": 42}));
        assert_eq!(decode_map::<FilePos>(&map).unwrap(), FilePos { position: 42 });
    }

    #[test]
    fn non_object_offsets_are_rejected() {
        assert!(encode_map(&5).is_err());
    }
}
