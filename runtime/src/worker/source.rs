//! The source task loop: poll → convert → produce, with a bounded number of records in flight,
//! and source offsets stored only for records Kafka has acknowledged.
//!
//! Records are sent in poll order and kept in a FIFO until their delivery report arrives.
//! Because the producer is idempotent, reports arrive in send order per partition, and the FIFO
//! retires them in send order overall: the offset stored for a source partition is always that
//! of a record whose predecessors are all in Kafka too. Offsets are stored every
//! `offset.flush.interval.ms` and on stop, after waiting up to `offset.flush.timeout.ms` for
//! what is still in flight. A crash between an acknowledgement and the next offset flush
//! re-sends those records on restart: at-least-once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

use crate::api::{
    ConnectError, ConnectResult, OffsetMap, Props, RecordMetadata, SourceRecord, SourceTask, SourceTaskContext,
};

use super::TaskId;
use super::config::WorkerConfig;
use super::converters::TaskConverters;
use super::kafka::TaskClientContext;
use super::offsets::{ConnectorOffsets, OffsetStore};

struct InFlight {
    delivery: DeliveryFuture,
    record: SourceRecord,
}

/// Runs one source task until cancelled or failed.
pub(crate) struct SourceRunner {
    pub(crate) id: TaskId,
    pub(crate) task: Box<dyn SourceTask>,
    pub(crate) props: Props,
    pub(crate) converters: TaskConverters,
    pub(crate) producer: FutureProducer<TaskClientContext>,
    pub(crate) offsets: Arc<dyn OffsetStore>,
    pub(crate) worker: Arc<WorkerConfig>,
}

/// The latest acknowledged offset of each source partition, not yet stored. Tasks have few
/// partitions, so a list searched from its most recent entry beats hashing a map per record.
#[derive(Default)]
struct Committable {
    offsets: Vec<(Arc<OffsetMap>, OffsetMap)>,
}

impl Committable {
    fn update(&mut self, partition: Arc<OffsetMap>, offset: OffsetMap) {
        match self.offsets.iter_mut().rev().find(|(p, _)| Arc::ptr_eq(p, &partition) || *p == partition) {
            Some(entry) => entry.1 = offset,
            None => self.offsets.push((partition, offset)),
        }
    }
}

impl SourceRunner {
    pub(crate) async fn run(mut self, cancel: CancellationToken) -> ConnectResult<()> {
        let ctx = SourceTaskContext {
            connector: self.id.connector.clone(),
            task: self.id.task,
            offsets: Arc::new(ConnectorOffsets { store: self.offsets.clone(), connector: self.id.connector.clone() }),
        };
        self.task.start(ctx, &self.props).await?;
        tracing::info!("source task started");
        let mut inflight = VecDeque::with_capacity(self.worker.max_in_flight.min(65_536));
        let mut committable = Committable::default();
        let result = self.poll_loop(&cancel, &mut inflight, &mut committable).await;
        // Whatever happened, keep what Kafka already holds: wait (bounded) for outstanding
        // acknowledgements and store their offsets before stopping the task.
        let deadline = Instant::now() + self.worker.offset_flush_timeout;
        let drained = self.drain(&mut inflight, &mut committable, deadline).await;
        let flushed = self.flush_offsets(&mut committable).await;
        let stopped = self.task.stop().await;
        tracing::info!(unacknowledged = inflight.len(), "source task stopped");
        result.and(drained).and(flushed).and(stopped)
    }

    async fn poll_loop(
        &mut self,
        cancel: &CancellationToken,
        inflight: &mut VecDeque<InFlight>,
        committable: &mut Committable,
    ) -> ConnectResult<()> {
        let mut next_flush = Instant::now() + self.worker.offset_flush_interval;
        loop {
            self.retire_ready(inflight, committable).await?;
            if Instant::now() >= next_flush {
                self.flush_offsets(committable).await?;
                next_flush = Instant::now() + self.worker.offset_flush_interval;
            }
            let batch = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Ok(()),
                batch = self.task.poll() => batch?,
            };
            for record in batch {
                self.send(record, inflight, committable, cancel).await?;
                if cancel.is_cancelled() {
                    return Ok(());
                }
            }
        }
    }

    /// Sends one record, waiting for room when the in-flight window or producer queue is full.
    async fn send(
        &mut self,
        record: SourceRecord,
        inflight: &mut VecDeque<InFlight>,
        committable: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        let topic = record.topic.as_str();
        let key = self.converters.key.from_connect(topic, record.key_schema.as_ref(), &record.key).map_err(|e| {
            ConnectError::data(format!("cannot convert the key of a record for topic {topic}: {}", e.chain()))
        })?;
        let value =
            self.converters.value.from_connect(topic, record.value_schema.as_ref(), &record.value).map_err(|e| {
                ConnectError::data(format!("cannot convert the value of a record for topic {topic}: {}", e.chain()))
            })?;
        let headers = self.converters.headers(topic, &record.headers)?;
        loop {
            while inflight.len() >= self.worker.max_in_flight {
                self.retire_front(inflight, committable, cancel).await?;
                if cancel.is_cancelled() {
                    return Ok(());
                }
            }
            let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
            if let Some(k) = key.as_deref() {
                fr = fr.key(k);
            }
            if let Some(v) = value.as_deref() {
                fr = fr.payload(v);
            }
            if let Some(p) = record.kafka_partition {
                fr = fr.partition(p);
            }
            if let Some(ts) = record.timestamp {
                fr = fr.timestamp(ts);
            }
            if let Some(h) = &headers {
                fr = fr.headers(h.clone());
            }
            match self.producer.send_result(fr) {
                Ok(delivery) => {
                    inflight.push_back(InFlight { delivery, record });
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if inflight.is_empty() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    } else {
                        self.retire_front(inflight, committable, cancel).await?;
                    }
                }
                Err((e, _)) => {
                    return Err(ConnectError::fatal_from(format!("cannot send a record to topic {topic}"), e));
                }
            }
        }
    }

    /// Retires acknowledged records at the front of the window without waiting.
    async fn retire_ready(&mut self, inflight: &mut VecDeque<InFlight>, c: &mut Committable) -> ConnectResult<()> {
        while let Some(front) = inflight.front_mut() {
            let Some(outcome) = (&mut front.delivery).now_or_never() else { break };
            let done = inflight.pop_front().map(|f| f.record);
            if let Some(record) = done {
                self.acknowledge(record, outcome, c).await?;
            }
        }
        Ok(())
    }

    /// Waits for the front record's acknowledgement (or cancellation) and retires it.
    async fn retire_front(
        &mut self,
        inflight: &mut VecDeque<InFlight>,
        c: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        let Some(front) = inflight.front_mut() else { return Ok(()) };
        let outcome = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(()),
            outcome = &mut front.delivery => outcome,
        };
        if let Some(f) = inflight.pop_front() {
            self.acknowledge(f.record, outcome, c).await?;
        }
        self.retire_ready(inflight, c).await
    }

    async fn acknowledge(
        &mut self,
        record: SourceRecord,
        outcome: Result<rdkafka::producer::future_producer::OwnedDeliveryResult, futures::channel::oneshot::Canceled>,
        c: &mut Committable,
    ) -> ConnectResult<()> {
        let delivery = match outcome {
            Ok(Ok(d)) => d,
            Ok(Err((e, _))) => {
                return Err(ConnectError::fatal_from(format!("Kafka refused a record for topic {}", record.topic), e));
            }
            Err(_) => return Err(ConnectError::fatal("the producer closed before acknowledging a record")),
        };
        let meta = RecordMetadata { partition: delivery.partition, offset: delivery.offset };
        self.task.commit_record(&record, Some(meta)).await?;
        if !record.source_partition.is_empty() || !record.source_offset.is_empty() {
            c.update(record.source_partition, record.source_offset);
        }
        Ok(())
    }

    async fn drain(
        &mut self,
        inflight: &mut VecDeque<InFlight>,
        c: &mut Committable,
        deadline: Instant,
    ) -> ConnectResult<()> {
        while let Some(front) = inflight.front_mut() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, &mut front.delivery).await {
                Ok(outcome) => {
                    if let Some(f) = inflight.pop_front() {
                        self.acknowledge(f.record, outcome, c).await?;
                    }
                }
                Err(_) => {
                    tracing::warn!(
                        outstanding = inflight.len(),
                        "records still unacknowledged after offset.flush.timeout.ms; their offsets are not stored and they will be sent again on restart"
                    );
                    return Ok(());
                }
            }
        }
        Ok(())
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

pub(crate) fn owned_headers(pairs: Vec<(String, Option<Vec<u8>>)>) -> Option<OwnedHeaders> {
    if pairs.is_empty() {
        return None;
    }
    let mut h = OwnedHeaders::new_with_capacity(pairs.len());
    for (key, value) in &pairs {
        h = h.insert(KafkaHeader { key, value: value.as_deref() });
    }
    Some(h)
}
