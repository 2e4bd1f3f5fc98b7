//! The config, offset and status stores of distributed mode, kept in Kafka's compacted internal
//! topics in Kafka Connect's exact formats, so that Tributary and Kafka Connect workers read each
//! other's topics.
//!
//! Every store is a [`log::KafkaBasedLog`] (a producer writing with `acks=all` and idempotence, a
//! consumer assigned to every partition of the topic from the beginning, without a group) and an
//! in-memory view that the log's background reader keeps current. Writes are visible once they
//! have been read back; [`log::KafkaBasedLog::read_to_end`] waits until the reader reached the
//! end offsets the broker reported at the call, so a caller can be sure it saw every write made
//! before it. Memory is bounded by what the topics hold: each view keeps the latest value per
//! record key, as compaction does.
//!
//! Formats (Kafka Connect's `JsonConverter` with `schemas.enable=false`, string keys):
//!
//! | topic | key | value |
//! |---|---|---|
//! | config | `connector-<name>` | `{"properties":{...}}`, null = deleted |
//! | config | `task-<name>-<n>` | `{"properties":{...}}`, applied on the next commit |
//! | config | `commit-<name>` | `{"tasks":N}` |
//! | config | `target-state-<name>` | `{"state":"STARTED"\|"PAUSED","state.v2":"STARTED"\|"PAUSED"\|"STOPPED"}` |
//! | config | `tasks-fencing-<name>` | `{"task-count":N}` (exactly-once sources) |
//! | config | `session-key` | `{"key":base64,"algorithm":...,"creation-timestamp":ms}` |
//! | config | `restart-connector-<name>` | `{"include-tasks":bool,"only-failed":bool}` |
//! | config | `logger-cluster-<namespace>` | `{"level":...}` |
//! | offset | `["<connector>",{source partition}]` (JSON) | `{source offset}`, null = removed |
//! | status | `status-connector-<name>`, `status-task-<name>-<n>` | `{"state","trace","worker_id","generation"}` |
//! | status | `status-topic-<topic>:connector-<name>` | `{"topic":{"name","connector","task","discoverTimestamp"}}` |
//!
//! A record that cannot be read (not JSON, wrong shape, unknown key) is logged with its topic,
//! key and offset and skipped, as Kafka Connect does: one bad record never stops a worker.

pub mod config;
pub mod log;
pub mod offsets;
pub mod status;
pub mod topics;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::ConnectError;

pub use config::{ClusterConfigState, KafkaConfigStore, RestartRequest, SessionKey, TargetState};
pub use log::{KafkaBasedLog, LogRecord};
pub use offsets::KafkaOffsetStore;
pub use status::{KafkaStatusStore, State, Status, TopicStatus};
pub use topics::TopicKind;

/// An error of a store, naming the topic (and key) it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The topic or the worker settings are unusable (Kafka Connect's `ConfigException`).
    #[error("{0}")]
    Config(String),
    /// The broker refused or failed a request.
    #[error("{context} (topic {topic})")]
    Kafka {
        /// The topic concerned.
        topic: String,
        /// What was being done.
        context: String,
        /// The client's error.
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    /// A deadline passed.
    #[error("timed out after {after:?}: {what} (topic {topic})")]
    Timeout {
        /// The topic concerned.
        topic: String,
        /// What did not finish.
        what: String,
        /// How long it was given.
        after: Duration,
    },
    /// The store was stopped.
    #[error("the store of topic {0} is stopped")]
    Stopped(String),
}

impl StoreError {
    pub(crate) fn kafka(topic: &str, context: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        Self::Kafka { topic: topic.to_owned(), context: context.into(), source: Box::new(source) }
    }

    /// Whether retrying the operation may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Kafka { .. } | Self::Timeout { .. })
    }
}

impl From<StoreError> for ConnectError {
    fn from(e: StoreError) -> Self {
        if e.is_retriable() {
            ConnectError::retriable_from(e.to_string(), e)
        } else {
            ConnectError::fatal_from(e.to_string(), e)
        }
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Where a store keeps its data and how its topic is made, from the worker's
/// `<kind>.storage.*` keys.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// The topic (`config.storage.topic`, `offset.storage.topic`, `status.storage.topic`).
    pub topic: String,
    /// Partitions when the topic is created (`<kind>.storage.partitions`; ignored for the config
    /// topic, which always has 1); -1 for the broker's default.
    pub partitions: i32,
    /// Replication factor when the topic is created (`<kind>.storage.replication.factor`); -1 for
    /// the broker's default.
    pub replication_factor: i32,
    /// Further topic configs for creation (Kafka Connect's `<kind>.storage.<topic config>`
    /// settings); `cleanup.policy` is always `compact`.
    pub topic_configs: BTreeMap<String, String>,
    /// librdkafka client properties: `bootstrap.servers`, security settings and the like.
    pub client: BTreeMap<String, String>,
    /// Client id prefix of this worker's clients.
    pub client_id: String,
    /// How long a write or a read to the end may take before it fails.
    pub timeout: Duration,
}

impl StoreSettings {
    /// Settings for `topic` of `kind` on `bootstrap`, with Kafka Connect's defaults for
    /// partitions (config 1, offsets 25, status 5) and replication factor (3).
    pub fn new(kind: TopicKind, topic: impl Into<String>, bootstrap: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            partitions: kind.default_partitions(),
            replication_factor: 3,
            topic_configs: BTreeMap::new(),
            client: BTreeMap::from([("bootstrap.servers".to_owned(), bootstrap.into())]),
            client_id: "tributary".to_owned(),
            timeout: Duration::from_secs(30),
        }
    }

    /// The same settings with another replication factor.
    pub fn with_replication_factor(mut self, replication_factor: i32) -> Self {
        self.replication_factor = replication_factor;
        self
    }

    /// The same settings with another partition count.
    pub fn with_partitions(mut self, partitions: i32) -> Self {
        self.partitions = partitions;
        self
    }
}

/// Parses a record value as Kafka Connect's schemaless JSON; `Ok(None)` for a tombstone.
pub(crate) fn parse_json(value: Option<&[u8]>) -> Result<Option<serde_json::Value>, String> {
    match value {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(bytes).map(Some).map_err(|e| format!("value is not JSON ({e})")),
    }
}

/// An integer field as Kafka Connect's converters may write it (`3`, `3.0`).
pub(crate) fn int_field(obj: &serde_json::Map<String, serde_json::Value>, field: &str) -> Result<i64, String> {
    match obj.get(field) {
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| format!("field \"{field}\" should be an integer but is {v}")),
        None => Err(format!("field \"{field}\" is missing")),
    }
}
