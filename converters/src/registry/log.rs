//! Persistence in a compacted Kafka topic (`_schemas`), as Confluent's `KafkaStore`.
//!
//! One partition holds every record ([`super::records`]). A background task reads it from the
//! beginning with a manually assigned consumer (no group, no commits) and applies each record to
//! the shared state; the registry answers only from that state. A write is produced with
//! `acks=all` by an idempotent producer, and acknowledged to the caller only once the reader has
//! applied it, so a registry never answers from a state the topic does not hold. Before each
//! write, and once at startup, a NOOP record serves as a barrier: reading up to its offset means
//! having read everything written before it, by this registry or another one on the topic.
//!
//! Two registries writing to one topic at the same moment are not coordinated (Confluent elects
//! a leader and forwards writes to it; Tributary does not yet): the barrier makes each write see
//! what the other wrote before, but two writes racing inside the same few milliseconds can pick
//! the same new id. Run one writing registry per topic.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error::RegistryError;
use super::records::Record;
use super::state::State;

/// Where and how the registry stores its records.
#[derive(Debug, Clone)]
pub struct KafkaStoreConfig {
    /// `kafkastore.bootstrap.servers`.
    pub bootstrap_servers: String,
    /// `kafkastore.topic` (default `_schemas`).
    pub topic: String,
    /// `kafkastore.topic.replication.factor` for a topic the registry creates (default 1).
    pub replication_factor: i32,
    /// How long a write may wait for Kafka's acknowledgement and the read-back
    /// (`kafkastore.timeout.ms`, default 500 ms in Confluent; 30 s here).
    pub timeout: Duration,
    /// Extra librdkafka properties for the producer, consumer and admin client (SASL, SSL, ...).
    pub client: BTreeMap<String, String>,
}

impl KafkaStoreConfig {
    /// Defaults for a topic on a cluster.
    pub fn new(bootstrap_servers: impl Into<String>, topic: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            topic: topic.into(),
            replication_factor: 1,
            timeout: Duration::from_secs(30),
            client: BTreeMap::new(),
        }
    }

    fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers);
        for (k, v) in &self.client {
            c.set(k, v);
        }
        c
    }
}

/// The topic, its producer and the reader task.
pub(crate) struct KafkaLog {
    producer: FutureProducer,
    topic: String,
    timeout: Duration,
    applied: watch::Receiver<i64>,
    reader: JoinHandle<()>,
}

impl KafkaLog {
    /// Creates the topic if missing, starts the reader and reads the topic to its end.
    pub(crate) async fn open(config: &KafkaStoreConfig, state: Arc<RwLock<State>>) -> Result<Self, RegistryError> {
        let store = |what: &str, e: &dyn std::fmt::Display| {
            RegistryError::Store(format!("{what} (topic '{}' on {}): {e}", config.topic, config.bootstrap_servers))
        };
        ensure_topic(config).await?;
        let producer: FutureProducer = config
            .client_config()
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .create()
            .map_err(|e| store("cannot create the schema store's producer", &e))?;
        let consumer: StreamConsumer = config
            .client_config()
            .set("group.id", "tributary-schema-registry")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            .create()
            .map_err(|e| store("cannot create the schema store's consumer", &e))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&config.topic, 0, Offset::Beginning)
            .map_err(|e| store("cannot assign partition 0", &e))?;
        consumer.assign(&tpl).map_err(|e| store("cannot assign partition 0", &e))?;
        let (tx, applied) = watch::channel(0_i64);
        let reader = tokio::spawn(read_loop(consumer, state, tx, config.topic.clone()));
        let log = Self { producer, topic: config.topic.clone(), timeout: config.timeout, applied, reader };
        log.sync().await?;
        Ok(log)
    }

    /// Writes a NOOP and waits until the reader has applied it: every record written before is
    /// then in the state.
    pub(crate) async fn sync(&self) -> Result<(), RegistryError> {
        self.write(&[Record::Noop]).await
    }

    /// Produces the records in order, then waits until the reader has applied the last.
    pub(crate) async fn write(&self, records: &[Record]) -> Result<(), RegistryError> {
        let started = Instant::now();
        let mut last = -1;
        for record in records {
            let (key, value) = record.encode();
            let mut r = FutureRecord::to(&self.topic).key(&key).partition(0);
            if let Some(v) = &value {
                r = r.payload(v);
            }
            let delivered = self.producer.send(r, self.timeout).await.map_err(|(e, _)| {
                if e.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageTimedOut) {
                    RegistryError::Timeout(format!("write to the Kafka store timed out after {:?}: {e}", self.timeout))
                } else {
                    RegistryError::Store(format!("write to the Kafka store (topic '{}') failed: {e}", self.topic))
                }
            })?;
            last = delivered.offset;
        }
        let left = self.timeout.saturating_sub(started.elapsed());
        let mut applied = self.applied.clone();
        match tokio::time::timeout(left, applied.wait_for(|next| *next > last)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(RegistryError::Store("the schema store's reader stopped".into())),
            Err(_) => Err(RegistryError::Timeout(format!(
                "the Kafka store acknowledged offset {last} of topic '{}' but the registry did not read it back within {:?}",
                self.topic, self.timeout
            ))),
        }
    }
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("topic", &self.topic)
            .field("applied", &*self.applied.borrow())
            .finish_non_exhaustive()
    }
}

impl Drop for KafkaLog {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn ensure_topic(config: &KafkaStoreConfig) -> Result<(), RegistryError> {
    let fail = |e: &dyn std::fmt::Display| {
        RegistryError::Store(format!("cannot create topic '{}' on {}: {e}", config.topic, config.bootstrap_servers))
    };
    let admin: AdminClient<DefaultClientContext> = config.client_config().create().map_err(|e| fail(&e))?;
    let topic = NewTopic::new(&config.topic, 1, TopicReplication::Fixed(config.replication_factor))
        .set("cleanup.policy", "compact");
    let options = AdminOptions::new().operation_timeout(Some(config.timeout)).request_timeout(Some(config.timeout));
    let results = admin.create_topics(&[topic], &options).await.map_err(|e| fail(&e))?;
    for r in results {
        match r {
            Ok(_) => {
                tracing::info!(topic = %config.topic, "created the schema registry's topic (1 partition, compacted)")
            }
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, e)) => return Err(fail(&e)),
        }
    }
    let (bootstrap, topic, timeout, client) =
        (config.bootstrap_servers.clone(), config.topic.clone(), config.timeout, config.client.clone());
    let partitions = tokio::task::spawn_blocking(move || {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &bootstrap);
        for (k, v) in &client {
            c.set(k, v);
        }
        let consumer: rdkafka::consumer::BaseConsumer = c.create().map_err(|e| e.to_string())?;
        let md = consumer.fetch_metadata(Some(&topic), timeout).map_err(|e| e.to_string())?;
        Ok::<usize, String>(md.topics().first().map_or(0, |t| t.partitions().len()))
    })
    .await
    .map_err(|e| fail(&e))?
    .map_err(|e| fail(&e))?;
    if partitions != 1 {
        return Err(RegistryError::Store(format!(
            "topic '{}' has {partitions} partitions; the schema registry needs a topic with exactly 1 partition",
            config.topic
        )));
    }
    Ok(())
}

/// Applies every record of the topic to `state`, publishing the next offset to read.
async fn read_loop(consumer: StreamConsumer, state: Arc<RwLock<State>>, applied: watch::Sender<i64>, topic: String) {
    let mut last_error: Option<(String, Instant)> = None;
    loop {
        match consumer.recv().await {
            Ok(msg) => {
                let offset = msg.offset();
                match msg.key().map(|k| Record::decode(k, msg.payload())) {
                    Some(Ok(Some(record))) => state.write().unwrap_or_else(PoisonError::into_inner).apply(record),
                    Some(Ok(None)) => {
                        tracing::debug!(offset, "skipped a schema store record of a key type not used here")
                    }
                    Some(Err(e)) => {
                        tracing::warn!(topic = %topic, offset, "skipped an unreadable schema store record: {e}")
                    }
                    None => tracing::warn!(topic = %topic, offset, "skipped a schema store record without a key"),
                }
                applied.send_replace(offset + 1);
            }
            Err(e) => {
                let text = e.to_string();
                let repeat =
                    last_error.as_ref().is_some_and(|(t, at)| *t == text && at.elapsed() < Duration::from_secs(30));
                if !repeat {
                    tracing::warn!(topic = %topic, "reading the schema store failed (retrying): {text}");
                    last_error = Some((text, Instant::now()));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
