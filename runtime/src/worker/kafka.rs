//! Kafka clients for tasks: librdkafka settings with Kafka Connect's defaults, worker
//! `producer.*` / `consumer.*` overrides passed through, and a client context that turns
//! librdkafka's errors into rate-limited, readable log lines.
//!
//! Producers are idempotent with `acks=all` and no delivery timeout
//! (`message.timeout.ms=0`), the librdkafka equivalent of Kafka Connect's
//! `delivery.timeout.ms=Integer.MAX_VALUE`: while the broker is away records wait in the
//! producer and are retried with back-off, so a broker restart loses nothing and keeps order.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;

use crate::api::TopicPartition;

use super::config::WorkerConfig;

/// Logs client errors, at most one line per error text every 10 s.
#[derive(Debug, Default)]
pub(crate) struct TaskClientContext {
    label: String,
    last: Mutex<Option<(String, Instant, u64)>>,
    pub(crate) rebalances: Mutex<Vec<RebalanceEvent>>,
}

/// A change of a sink task's partitions, reported by the consumer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RebalanceEvent {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

impl TaskClientContext {
    pub(crate) fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), ..Self::default() }
    }
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl ClientContext for TaskClientContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(client = %self.label, facility = fac, "librdkafka: {log_message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(client = %self.label, facility = fac, "librdkafka: {log_message}")
            }
            _ => tracing::debug!(client = %self.label, facility = fac, "librdkafka: {log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let text = format!("{error}: {reason}");
        let Ok(mut last) = self.last.lock() else { return };
        let now = Instant::now();
        match last.as_mut() {
            Some((prev, at, suppressed)) if *prev == text && now.duration_since(*at) < LOG_EVERY => {
                *suppressed += 1;
            }
            _ => {
                let suppressed = last.as_ref().map_or(0, |l| l.2);
                tracing::warn!(
                    client = %self.label,
                    suppressed,
                    "Kafka client error, retrying with back-off (records are kept, nothing is dropped): {text}"
                );
                *last = Some((text, now, 0));
            }
        }
    }
}

fn partitions(list: &rdkafka::TopicPartitionList) -> Vec<TopicPartition> {
    list.elements().iter().map(|e| TopicPartition { topic: e.topic().to_owned(), partition: e.partition() }).collect()
}

impl ConsumerContext for TaskClientContext {
    fn post_rebalance(&self, _consumer: &rdkafka::consumer::BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let event = match rebalance {
            Rebalance::Assign(list) => RebalanceEvent::Assigned(partitions(list)),
            Rebalance::Revoke(list) => RebalanceEvent::Revoked(partitions(list)),
            Rebalance::Error(e) => {
                tracing::warn!(client = %self.label, "consumer group rebalance failed: {e}");
                return;
            }
        };
        if let Ok(mut events) = self.rebalances.lock() {
            events.push(event);
        }
    }
}

fn apply(cfg: &mut ClientConfig, overrides: BTreeMap<String, String>) {
    for (k, v) in overrides {
        cfg.set(k, v);
    }
}

/// Producer settings for a source task.
pub(crate) fn producer_config(worker: &WorkerConfig, client_id: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("client.id", client_id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "0")
        .set("linger.ms", "5")
        // Keyed records land where Kafka Connect's Java producer puts them (murmur2), and so
        // do offset records a task writes in its transaction.
        .set("partitioner", "murmur2_random")
        .set("reconnect.backoff.max.ms", "5000")
        .set("log_level", "4");
    apply(&mut cfg, worker.with_prefix("producer."));
    cfg
}

/// Consumer settings for a sink task in group `connect-<connector>`.
pub(crate) fn consumer_config(worker: &WorkerConfig, connector: &str, client_id: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("group.id", format!("connect-{connector}"))
        .set("client.id", client_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        // Records of aborted transactions (an exactly-once source that failed) never reach a
        // sink; `consumer.isolation.level` in the worker config overrides it.
        .set("isolation.level", "read_committed")
        .set("reconnect.backoff.max.ms", "5000")
        .set("log_level", "4");
    apply(&mut cfg, worker.with_prefix("consumer."));
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_overrides_pass_through_to_librdkafka() {
        let props =
            [("producer.linger.ms", "50"), ("producer.compression.type", "zstd"), ("consumer.fetch.min.bytes", "4096")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let worker = WorkerConfig::from_props(props).unwrap();
        let p = producer_config(&worker, "p");
        assert_eq!(p.get("linger.ms"), Some("50"));
        assert_eq!(p.get("compression.type"), Some("zstd"));
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        let c = consumer_config(&worker, "orders-sink", "c");
        assert_eq!(c.get("fetch.min.bytes"), Some("4096"));
        assert_eq!(c.get("group.id"), Some("connect-orders-sink"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"));
    }
}
