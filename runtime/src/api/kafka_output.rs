//! Kafka-to-Kafka sinks: a sink task that writes what it consumes back to Kafka (replication,
//! re-keying, re-partitioning) does so through the worker's producer, so its writes and the
//! consumed offsets can commit in one Kafka transaction (`send_offsets_to_transaction`).

use async_trait::async_trait;

use super::error::ConnectResult;

/// How a sink connector's tasks write to Kafka, as the connector declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaWrites {
    /// A plain producer: the worker commits the consumed offsets once every record the task
    /// sent for them is acknowledged (at-least-once).
    AtLeastOnce,
    /// A transactional producer: the records sent and the consumed offsets commit together
    /// (exactly-once within the worker's Kafka cluster).
    ExactlyOnce,
}

/// A record a sink task writes to Kafka.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputRecord {
    /// Destination topic.
    pub topic: String,
    /// Destination partition, or `None` for the producer's partitioner (murmur2 of the key, as
    /// Java clients).
    pub partition: Option<i32>,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes; `None` writes a tombstone.
    pub value: Option<Vec<u8>>,
    /// Headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Timestamp in milliseconds since the epoch, or `None` for the producer's time.
    pub timestamp: Option<i64>,
}

/// The worker's producer as a sink task sees it (in [`super::SinkTaskContext::kafka`]).
#[async_trait]
pub trait KafkaOutput: Send + Sync + std::fmt::Debug {
    /// Sends `record` (waiting for room when the producer's queue is full). It is in Kafka
    /// once the worker commits the offsets of the records the task was given: a failed send
    /// fails that commit and the task, and nothing after the last commit is kept.
    async fn send(&self, record: &OutputRecord) -> ConnectResult<()>;
}
