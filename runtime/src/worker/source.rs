//! The source task loop: poll → convert → produce, with a bounded number of records in flight,
//! and source offsets stored only for records Kafka has acknowledged.
//!
//! Records are sent in poll order and kept in a FIFO until their delivery report arrives
//! (reports carry the record's sequence number and may arrive out of order across
//! partitions); the FIFO retires records in send order: the offset stored for a source partition is always that
//! of a record whose predecessors are all in Kafka too. Offsets are stored every
//! `offset.flush.interval.ms` and on stop, after waiting up to `offset.flush.timeout.ms` for
//! what is still in flight. A crash between an acknowledgement and the next offset flush
//! re-sends those records on restart: at-least-once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{BaseRecord, Producer};
use std::sync::atomic::Ordering;
use tokio_util::sync::CancellationToken;

use crate::api::{
    ConnectError, ConnectResult, OffsetMap, Props, RecordMetadata, SourceRecord, SourceTask, SourceTaskContext,
};

use super::TaskId;
use super::config::WorkerConfig;
use super::converters::TaskConverters;
use super::errors::{ErrorPolicy, Stage};
use super::offsets::{ConnectorOffsets, OffsetStore};
use super::producer::{Acks, Outcome, SourceProducer};
use crate::metrics::TaskMetrics;
use crate::transforms::TransformChain;

/// What became of a record: Kafka's delivery report, or skipped before sending (dropped by a
/// transform, or failed and tolerated), which consumes its source offset all the same.
enum Done {
    Sent(Outcome),
    Skipped,
}

/// A record sent (or skipped) and not yet retired, as the task produced it (before
/// transforms: what `commit_record` gets, as in Kafka Connect).
pub(crate) struct Slot {
    record: SourceRecord,
    outcome: Option<Done>,
}

/// Records in flight, in send order; `first_seq` is the sequence number of the front.
#[derive(Default)]
pub(crate) struct Window {
    pub(crate) slots: VecDeque<Slot>,
    first_seq: u64,
    reports: Vec<(u64, Outcome)>,
}

impl Window {
    fn next_seq(&self) -> u64 {
        self.first_seq + self.slots.len() as u64
    }

    /// Files the delivery reports received so far against their slots.
    fn collect(&mut self, acks: &Acks) {
        acks.take(&mut self.reports);
        for (seq, outcome) in self.reports.drain(..) {
            if let Some(slot) = seq.checked_sub(self.first_seq).and_then(|i| self.slots.get_mut(i as usize)) {
                slot.outcome = Some(Done::Sent(outcome));
            }
        }
    }

    /// The front record, if its report arrived.
    fn pop_ready(&mut self) -> Option<(SourceRecord, Done)> {
        if self.slots.front().is_some_and(|s| s.outcome.is_some()) {
            let slot = self.slots.pop_front()?;
            self.first_seq += 1;
            return slot.outcome.map(|o| (slot.record, o));
        }
        None
    }
}

/// Runs one source task until cancelled or failed.
pub(crate) struct SourceRunner {
    pub(crate) id: TaskId,
    pub(crate) task: Box<dyn SourceTask>,
    pub(crate) props: Props,
    pub(crate) converters: TaskConverters,
    /// The connector's transforms.
    pub(crate) transforms: TransformChain,
    /// What to do with records that fail a transform or converter.
    pub(crate) errors: ErrorPolicy,
    pub(crate) producer: SourceProducer,
    /// The worker's offset store, until `run` opens the connector's own topic if it has one.
    pub(crate) offsets: Arc<dyn OffsetStore>,
    /// The connector's own offsets topic (`offsets.storage.topic`).
    pub(crate) offsets_topic: Option<String>,
    pub(crate) worker: Arc<WorkerConfig>,
    /// Reused conversion buffers for the key and the value.
    pub(crate) key_buf: Vec<u8>,
    pub(crate) value_buf: Vec<u8>,
    /// Topics written to (KIP-558).
    pub(crate) topics: super::topics::TopicNotes,
    /// The open transaction's state, on a worker with exactly-once source support.
    pub(crate) transaction: Option<super::transactions::Transaction>,
    /// This task's metrics.
    pub(crate) metrics: Arc<TaskMetrics>,
}

/// A record's bytes as the converters wrote them.
struct Converted<'a> {
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    headers: Option<OwnedHeaders>,
}

/// The latest acknowledged offset of each source partition, not yet stored. Tasks have few
/// partitions, so a list searched from its most recent entry beats hashing a map per record.
#[derive(Default)]
pub(crate) struct Committable {
    pub(crate) offsets: Vec<(Arc<OffsetMap>, OffsetMap)>,
}

impl Committable {
    pub(crate) fn update(&mut self, partition: Arc<OffsetMap>, offset: OffsetMap) {
        match self.offsets.iter_mut().rev().find(|(p, _)| Arc::ptr_eq(p, &partition) || *p == partition) {
            Some(entry) => entry.1 = offset,
            None => self.offsets.push((partition, offset)),
        }
    }
}

impl SourceRunner {
    pub(crate) async fn run(mut self, cancel: CancellationToken, started: super::Started) -> ConnectResult<()> {
        self.offsets =
            super::offsets::on_connector_topic(&self.offsets, &self.id.connector, self.offsets_topic.as_deref())
                .await?;
        let ctx = SourceTaskContext {
            connector: self.id.connector.clone(),
            task: self.id.task,
            offsets: Arc::new(ConnectorOffsets { store: self.offsets.clone(), connector: self.id.connector.clone() }),
            transactions: self.transaction.as_ref().and_then(super::transactions::Transaction::context),
            metrics: self.metrics.clone(),
        };
        // "starting" and "stopped" bracket the task instance's whole life (operators and the
        // rolling-restart test read them).
        tracing::info!("source task starting");
        self.task.start(ctx, &self.props).await?;
        if self.transaction.is_some() {
            self.init_transactions().await?;
        }
        started.mark();
        tracing::info!("source task started");
        let mut window = Window::default();
        let mut committable = Committable::default();
        let result = self.poll_loop(&cancel, &mut window, &mut committable).await;
        // Whatever happened, keep what Kafka already holds: wait (bounded) for outstanding
        // acknowledgements and store their offsets (commit the open transaction) before
        // stopping the task.
        let deadline = Instant::now() + self.worker.offset_flush_timeout;
        let drained = self.drain(&mut window, &mut committable, deadline).await;
        let flushed = if self.transaction.is_some() {
            self.end_transaction(result.is_ok() && drained.is_ok() && window.slots.is_empty()).await
        } else {
            self.flush_offsets(&mut committable).await
        };
        let stopped = self.task.stop().await;
        tracing::info!(unacknowledged = window.slots.len(), "source task stopped");
        result.and(drained).and(flushed).and(stopped)
    }

    pub(crate) fn acks(&self) -> Arc<Acks> {
        self.producer.context().acks.clone()
    }

    async fn poll_loop(
        &mut self,
        cancel: &CancellationToken,
        window: &mut Window,
        committable: &mut Committable,
    ) -> ConnectResult<()> {
        let mut next_flush = Instant::now() + self.worker.offset_flush_interval;
        loop {
            self.retire_ready(window, committable).await?;
            if self.transaction.is_none() && Instant::now() >= next_flush {
                self.flush_offsets(committable).await?;
                next_flush = Instant::now() + self.worker.offset_flush_interval;
            }
            let batch = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Ok(()),
                batch = self.task.poll() => batch?,
            };
            let polled = !batch.is_empty();
            self.metrics.polled.fetch_add(batch.len() as u64, Ordering::Relaxed);
            for record in batch {
                let asked = match &self.transaction {
                    Some(t) => t.after_record(&record)?,
                    None => None,
                };
                self.send(record, window, committable, cancel).await?;
                if cancel.is_cancelled() {
                    return Ok(());
                }
                if let Some(boundary) = asked {
                    self.end_as_asked(boundary, window, committable, cancel).await?;
                }
            }
            let boundary = match &self.transaction {
                Some(t) => t.after_batch(polled)?,
                None => None,
            };
            if let Some(boundary) = boundary {
                self.end_as_asked(boundary, window, committable, cancel).await?;
            }
        }
    }

    /// Transforms, converts and sends one record, waiting for room when the in-flight window
    /// or producer queue is full; a record dropped by a transform, or failed and tolerated, is
    /// retired in its place without being sent.
    async fn send(
        &mut self,
        record: SourceRecord,
        window: &mut Window,
        committable: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        if let Some(failure) = &record.failure {
            self.errors.failed(Stage::TaskPoll, ConnectError::data(failure.clone()), || describe(&record))?;
            return self.skip(record, window, committable, cancel).await;
        }
        // The task's own record is kept for `commit_record` only when transforms change it.
        let (original, mut record) =
            if self.transforms.is_empty() { (None, record) } else { (Some(record.clone()), record) };
        let keep = match self.transforms.apply(&mut record) {
            Ok(keep) => keep,
            Err(e) => {
                self.errors.failed(Stage::Transformation, e, || describe(&record))?;
                false
            }
        };
        if !keep {
            return self.skip(original.unwrap_or(record), window, committable, cancel).await;
        }
        let topic: &str = &record.topic;
        // Converted bytes go into buffers reused for every record; the producer copies them.
        let (mut key_buf, mut value_buf) = (std::mem::take(&mut self.key_buf), std::mem::take(&mut self.value_buf));
        let has_key =
            self.converters.key.from_connect_into(topic, record.key_schema.as_ref(), &record.key, &mut key_buf);
        let has_value =
            self.converters.value.from_connect_into(topic, record.value_schema.as_ref(), &record.value, &mut value_buf);
        let converted = match (has_key, has_value) {
            (Ok(k), Ok(v)) => self
                .converters
                .headers(topic, &record.headers)
                .map(|h| (k, v, h))
                .map_err(|e| (Stage::HeaderConverter, e)),
            (Err(e), _) => Err((
                Stage::KeyConverter,
                ConnectError::data(format!("cannot convert the key of a record for topic {topic}: {}", e.chain())),
            )),
            (_, Err(e)) => Err((
                Stage::ValueConverter,
                ConnectError::data(format!("cannot convert the value of a record for topic {topic}: {}", e.chain())),
            )),
        };
        let sent = match converted {
            Ok((has_key, has_value, headers)) => {
                let key = has_key.then_some(key_buf.as_slice());
                let value = has_value.then_some(value_buf.as_slice());
                self.produce(record, original, Converted { key, value, headers }, window, committable, cancel).await
            }
            Err((stage, e)) => match self.errors.failed(stage, e, || describe(&record)) {
                Ok(()) => self.skip(original.unwrap_or(record), window, committable, cancel).await,
                Err(e) => Err(e),
            },
        };
        (self.key_buf, self.value_buf) = (key_buf, value_buf);
        sent
    }

    /// Retires a record that is not sent, in order with those that are.
    async fn skip(
        &mut self,
        record: SourceRecord,
        window: &mut Window,
        committable: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        while window.slots.len() >= self.worker.max_in_flight {
            self.wait_front(window, committable, cancel).await?;
            if cancel.is_cancelled() {
                return Ok(());
            }
        }
        window.slots.push_back(Slot { record, outcome: Some(Done::Skipped) });
        Ok(())
    }

    /// Hands one converted record to the producer; `original` is the task's record when
    /// transforms changed it.
    async fn produce(
        &mut self,
        record: SourceRecord,
        original: Option<SourceRecord>,
        converted: Converted<'_>,
        window: &mut Window,
        committable: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        let topic: &str = &record.topic;
        self.topics.note(topic);
        let Converted { key, value, headers } = converted;
        loop {
            while window.slots.len() >= self.worker.max_in_flight {
                self.wait_front(window, committable, cancel).await?;
                if cancel.is_cancelled() {
                    return Ok(());
                }
            }
            let seq = window.next_seq();
            let mut br: BaseRecord<'_, [u8], [u8], usize> = BaseRecord::with_opaque_to(topic, seq as usize);
            if let Some(k) = key {
                br = br.key(k);
            }
            if let Some(v) = value {
                br = br.payload(v);
            }
            if let Some(p) = record.kafka_partition {
                br = br.partition(p);
            }
            if let Some(ts) = record.timestamp {
                br = br.timestamp(ts);
            }
            if let Some(h) = &headers {
                br = br.headers(h.clone());
            }
            self.begin_transaction()?;
            match self.producer.send(br) {
                Ok(()) => {
                    window.slots.push_back(Slot { record: original.unwrap_or(record), outcome: None });
                    self.metrics.active.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if window.slots.is_empty() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    } else {
                        self.wait_front(window, committable, cancel).await?;
                    }
                }
                Err((e, _)) if self.fenced(&e) => {
                    return Err(super::transactions::failed("sent a record", &self.id, e, true));
                }
                Err((e, _)) => {
                    return Err(ConnectError::fatal_from(format!("cannot send a record to topic {topic}"), e));
                }
            }
        }
    }

    /// Retires acknowledged records at the front of the window without waiting.
    async fn retire_ready(&mut self, window: &mut Window, c: &mut Committable) -> ConnectResult<()> {
        window.collect(&self.acks());
        while let Some((record, done)) = window.pop_ready() {
            self.acknowledge(record, done, c).await?;
        }
        Ok(())
    }

    /// Waits until the front record is acknowledged (or cancellation) and retires what is ready.
    pub(crate) async fn wait_front(
        &mut self,
        window: &mut Window,
        c: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        let acks = self.acks();
        loop {
            window.collect(&acks);
            if window.slots.front().is_none_or(|s| s.outcome.is_some()) {
                return self.retire_ready(window, c).await;
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Ok(()),
                _ = acks.notify.notified() => {}
            }
        }
    }

    async fn acknowledge(&mut self, record: SourceRecord, done: Done, c: &mut Committable) -> ConnectResult<()> {
        self.metrics.written.fetch_add(1, Ordering::Relaxed);
        let metadata = match done {
            Done::Sent(outcome) => {
                self.metrics.active.fetch_sub(1, Ordering::Relaxed);
                let (partition, offset) = outcome.map_err(|e| {
                    if self.fenced(&e) {
                        return super::transactions::failed("sent a record", &self.id, e, true);
                    }
                    ConnectError::fatal_from(format!("Kafka refused a record for topic {}", record.topic), e)
                })?;
                Some(RecordMetadata { partition, offset })
            }
            Done::Skipped => None,
        };
        if let Some(t) = &mut self.transaction {
            // commit_record and the offset wait for the transaction holding the record.
            t.acknowledged(record, metadata);
            return Ok(());
        }
        self.task.commit_record(&record, metadata).await?;
        if !record.source_partition.is_empty() || !record.source_offset.is_empty() {
            c.update(record.source_partition, record.source_offset);
        }
        Ok(())
    }

    pub(crate) async fn drain(
        &mut self,
        window: &mut Window,
        c: &mut Committable,
        deadline: Instant,
    ) -> ConnectResult<()> {
        let acks = self.acks();
        loop {
            self.retire_ready(window, c).await?;
            if window.slots.is_empty() {
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(remaining, acks.notify.notified()).await.is_err() {
                tracing::warn!(
                    outstanding = window.slots.len(),
                    "records still unacknowledged after offset.flush.timeout.ms; their offsets are not stored and they will be sent again on restart"
                );
                return Ok(());
            }
        }
    }

    async fn flush_offsets(&mut self, c: &mut Committable) -> ConnectResult<()> {
        if c.offsets.is_empty() {
            return Ok(());
        }
        let batch: Vec<(OffsetMap, OffsetMap)> =
            std::mem::take(&mut c.offsets).into_iter().map(|(p, o)| (Arc::unwrap_or_clone(p), o)).collect();
        let n = batch.len();
        self.offsets.put(&self.id.connector, batch).await?;
        tracing::debug!(partitions = n, "stored source offsets");
        self.task.commit().await
    }
}

/// A source record for the error log (`errors.log.include.messages`), as Kafka Connect lists
/// it: key, value, headers, timestamp, topic, partition, source partition and offset.
fn describe(r: &SourceRecord) -> String {
    format!(
        "SourceRecord{{sourcePartition={:?}, sourceOffset={:?}}} ConnectRecord{{topic='{}', kafkaPartition={:?}, key={:?}, value={:?}, timestamp={:?}, headers={:?}}}",
        r.source_partition, r.source_offset, r.topic, r.kafka_partition, r.key, r.value, r.timestamp, r.headers
    )
}
