//! A Kafka-to-Kafka sink task's writes: the worker's producer, handed to the task as its
//! [`KafkaOutput`], and committed by the sink loop together with the consumed offsets.
//!
//! Exactly-once ([`KafkaWrites::ExactlyOnce`]): a transaction begins with the first record the
//! task sends after the last commit; at each offset commit the consumed offsets join it
//! (`send_offsets_to_transaction` with the consumer's group metadata, so a task whose group
//! generation is over cannot commit, KIP-447) and it commits. The transactional id
//! `<group.id>-<connector>-<task>` stays with the task, so a restarted task fences the
//! instance it replaces and aborts its open transaction at once. Anything that ends a
//! transaction otherwise (a failed commit, partitions revoked while it was open) aborts it, and
//! the sink loop rewinds its partitions to the last committed offsets.
//!
//! At-least-once ([`KafkaWrites::AtLeastOnce`]): at each offset commit every record sent so far
//! must be acknowledged first; a failed delivery fails the task before its offsets commit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::Notify;

use super::TaskId;
use super::exactly_once::is_fenced;
use super::kafka::TaskClientContext;
use super::producer::SourceProducer;
use crate::api::{ConnectError, ConnectResult, KafkaOutput, KafkaWrites, OutputRecord, SinkOffsets};

/// How long `init_transactions`, `commit_transaction`, `abort_transaction` and
/// `send_offsets_to_transaction` may take.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Delivery reports of a sink task's producer: only the first failure is kept (records are
/// not tracked one by one; the offset commit waits for the producer to hold nothing).
#[derive(Debug)]
pub(crate) struct OutputContext {
    client: TaskClientContext,
    failure: Mutex<Option<KafkaError>>,
    delivered: Notify,
}

impl ClientContext for OutputContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.client.log(level, fac, log_message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        self.client.error(error, reason);
    }
}

impl ProducerContext for OutputContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result
            && let Ok(mut failure) = self.failure.lock()
        {
            failure.get_or_insert_with(|| e.clone());
        }
        self.delivered.notify_one();
    }
}

/// Why the open transaction could not commit.
pub(crate) enum CommitFailure {
    /// A newer instance of the task took over: stop.
    Fenced(ConnectError),
    /// The transaction was aborted (or never began): rewind to the last committed offsets and
    /// go on.
    Aborted(ConnectError),
    /// Anything else: fail the task.
    Fatal(ConnectError),
}

/// The worker's producer of one Kafka-to-Kafka sink task.
#[derive(Debug)]
pub(crate) struct SinkOutput {
    id: TaskId,
    producer: SourceProducer<OutputContext>,
    writes: KafkaWrites,
    /// A transaction is open.
    open: AtomicBool,
}

impl std::fmt::Debug for SourceProducer<OutputContext> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SourceProducer<OutputContext>")
    }
}

/// Runs a blocking producer call off the async runtime.
async fn blocking<T: Send + 'static>(
    producer: Arc<BaseProducer<OutputContext>>,
    call: impl FnOnce(&BaseProducer<OutputContext>) -> T + Send + 'static,
) -> ConnectResult<T> {
    tokio::task::spawn_blocking(move || call(&producer))
        .await
        .map_err(|e| ConnectError::fatal(format!("a producer call did not complete: {e}")))
}

impl SinkOutput {
    /// The producer of task `id` with `config` (a `transactional.id` set for exactly-once).
    pub(crate) fn new(
        id: TaskId,
        config: &rdkafka::ClientConfig,
        client: TaskClientContext,
        writes: KafkaWrites,
    ) -> ConnectResult<Self> {
        let context = OutputContext { client, failure: Mutex::new(None), delivered: Notify::new() };
        let producer = SourceProducer::new(config, context)
            .map_err(|e| ConnectError::config("producer", format!("invalid producer settings: {e}")))?;
        Ok(Self { id, producer, writes, open: AtomicBool::new(false) })
    }

    pub(crate) fn exactly_once(&self) -> bool {
        self.writes == KafkaWrites::ExactlyOnce
    }

    /// Whether records were sent since the last commit (a transaction is open).
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// Registers the transactional id, fencing older instances of the task and aborting
    /// their open transaction.
    pub(crate) async fn init(&self) -> ConnectResult<()> {
        if !self.exactly_once() {
            return Ok(());
        }
        let id = self.id.clone();
        blocking(self.producer.shared(), |p| p.init_transactions(TRANSACTION_TIMEOUT))
            .await?
            .map_err(|e| super::transactions::failed("initialized its transactional producer", &id, e, false))?;
        tracing::info!("transactional producer ready; older instances of this task are fenced");
        Ok(())
    }

    fn begin(&self) -> ConnectResult<()> {
        if self.exactly_once() && !self.open.swap(true, Ordering::AcqRel) {
            self.producer.begin_transaction().map_err(|e| {
                self.open.store(false, Ordering::Release);
                super::transactions::failed("began a transaction", &self.id, e, false)
            })?;
        }
        Ok(())
    }

    /// Commits what was sent with `offsets` (exactly-once), or waits until every record sent
    /// is acknowledged (at-least-once; the caller then commits the offsets on the consumer).
    pub(crate) async fn commit(
        &self,
        offsets: &SinkOffsets,
        group: Option<ConsumerGroupMetadata>,
    ) -> Result<(), CommitFailure> {
        if !self.exactly_once() {
            return self.flush().await.map_err(CommitFailure::Fatal);
        }
        if offsets.is_empty() && !self.is_open() {
            return Ok(());
        }
        let Some(group) = group else {
            return Err(self.abort_after("commit offsets", "the consumer has no group metadata").await);
        };
        let mut tpl = TopicPartitionList::new();
        for (tp, next) in offsets {
            if let Err(e) = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*next)) {
                return Err(CommitFailure::Fatal(ConnectError::fatal_from("bad offset", e)));
            }
        }
        // Offsets of records that sent nothing (filtered, skipped) still need a transaction.
        if let Err(e) = self.begin() {
            return Err(CommitFailure::Fatal(e));
        }
        let sent = blocking(self.producer.shared(), move |p| {
            if tpl.count() > 0 {
                p.send_offsets_to_transaction(&tpl, &group, TRANSACTION_TIMEOUT)?;
            }
            p.commit_transaction(TRANSACTION_TIMEOUT)
        })
        .await;
        match sent {
            Ok(Ok(())) => {
                self.open.store(false, Ordering::Release);
                tracing::debug!(partitions = offsets.len(), "transaction committed with its consumed offsets");
                Ok(())
            }
            Ok(Err(e)) => Err(self.abort_after("commit its transaction", &e.to_string()).await.or_fenced(&e, self)),
            Err(e) => Err(CommitFailure::Fatal(e)),
        }
    }

    /// Aborts the open transaction, if any: what the task sent since the last commit is
    /// discarded.
    pub(crate) async fn abort(&self) -> ConnectResult<()> {
        if !self.exactly_once() || !self.open.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let id = self.id.clone();
        blocking(self.producer.shared(), |p| p.abort_transaction(TRANSACTION_TIMEOUT))
            .await?
            .map_err(|e| super::transactions::failed("aborted a transaction", &id, e, false))
    }

    /// Aborts after a failure to `what`, and says how the task goes on.
    async fn abort_after(&self, what: &str, why: &str) -> CommitFailure {
        let error = ConnectError::fatal(format!("task {}-{} could not {what}: {why}", self.id.connector, self.id.task));
        match self.abort().await {
            Ok(()) => CommitFailure::Aborted(error),
            Err(abort) => CommitFailure::Fatal(ConnectError::fatal(format!("{}; {}", error.chain(), abort.chain()))),
        }
    }

    /// Waits until the producer holds nothing, then reports the first failed delivery.
    async fn flush(&self) -> ConnectResult<()> {
        let deadline = Instant::now() + TRANSACTION_TIMEOUT;
        while self.producer.in_flight_count() > 0 {
            if Instant::now() > deadline {
                return Err(ConnectError::fatal(format!(
                    "records sent to Kafka were not acknowledged within {} s",
                    TRANSACTION_TIMEOUT.as_secs()
                )));
            }
            let _ = tokio::time::timeout(Duration::from_millis(5), self.producer.context().delivered.notified()).await;
        }
        match self.producer.context().failure.lock().map(|mut f| f.take()) {
            Ok(Some(e)) => Err(ConnectError::fatal_from("Kafka refused a record the task sent", e)),
            _ => Ok(()),
        }
    }

    fn fenced(&self, e: &KafkaError) -> bool {
        is_fenced(e)
            || self
                .producer
                .client()
                .fatal_error()
                .is_some_and(|(code, _)| matches!(code, RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced))
    }
}

impl CommitFailure {
    /// The failure as a fenced one when `e` (or the producer) says so.
    fn or_fenced(self, e: &KafkaError, output: &SinkOutput) -> Self {
        if !output.fenced(e) {
            return self;
        }
        let error = match self {
            Self::Fenced(e) | Self::Aborted(e) | Self::Fatal(e) => e,
        };
        Self::Fenced(ConnectError::fatal(format!(
            "task {}-{} was fenced while it committed a transaction: a newer instance of the task runs elsewhere, so \
             this one stops without committing ({})",
            output.id.connector,
            output.id.task,
            error.chain()
        )))
    }
}

#[async_trait]
impl KafkaOutput for SinkOutput {
    async fn send(&self, record: &OutputRecord) -> ConnectResult<()> {
        self.begin()?;
        let headers = (!record.headers.is_empty()).then(|| {
            record.headers.iter().fold(OwnedHeaders::new_with_capacity(record.headers.len()), |h, (key, value)| {
                h.insert(Header { key, value: value.as_deref() })
            })
        });
        let mut br: BaseRecord<'_, [u8], [u8], ()> = BaseRecord::with_opaque_to(&record.topic, ());
        if let Some(k) = &record.key {
            br = br.key(k.as_slice());
        }
        if let Some(v) = &record.value {
            br = br.payload(v.as_slice());
        }
        if let Some(p) = record.partition {
            br = br.partition(p);
        }
        if let Some(ts) = record.timestamp {
            br = br.timestamp(ts);
        }
        if let Some(h) = headers {
            br = br.headers(h);
        }
        loop {
            match self.producer.send(br) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    br = back;
                    let delivered = self.producer.context().delivered.notified();
                    let _ = tokio::time::timeout(Duration::from_millis(10), delivered).await;
                }
                Err((e, _)) if self.fenced(&e) => {
                    return Err(super::transactions::failed("sent a record", &self.id, e, true));
                }
                Err((e, _)) => {
                    return Err(ConnectError::fatal_from(format!("cannot send a record to topic {}", record.topic), e));
                }
            }
        }
    }
}
