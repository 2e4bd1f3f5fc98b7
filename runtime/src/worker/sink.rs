//! The sink task loop: consume in group `connect-<connector>` → convert → `put` in batches →
//! `pre_commit` (which flushes) → commit the consumer offsets the task returned.
//!
//! Offsets are committed only after the task's `flush`, every `offset.flush.interval.ms` and
//! on stop, so a crash re-delivers at most what was put since the last commit: at-least-once.
//! Partitions assigned or revoked by the group reach the task as `open` / `close` before the
//! next `put`.
//!
//! A Kafka-to-Kafka sink writes through the worker's producer (see `sink_output`); with
//! exactly-once, its records and the consumed offsets commit in one transaction instead of a
//! consumer commit, and whatever aborts a transaction rewinds the partitions to the offsets
//! last committed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::api::{
    ConnectError, ConnectResult, KafkaOutput, Props, SinkOffsets, SinkRecord, SinkTask, SinkTaskContext, TopicPartition,
};

use super::TaskId;
use super::config::WorkerConfig;
use super::converters::TaskConverters;
use super::errors::{ErrorPolicy, Stage};
use super::kafka::{RebalanceEvent, TaskClientContext};
use super::sink_output::{CommitFailure, SinkOutput};
use crate::metrics::TaskMetrics;
use crate::transforms::TransformChain;

/// Records handed to one `put` at most.
const MAX_BATCH: usize = 500;

/// Runs one sink task until cancelled or failed.
pub(crate) struct SinkRunner {
    pub(crate) id: TaskId,
    pub(crate) task: Box<dyn SinkTask>,
    pub(crate) props: Props,
    pub(crate) converters: TaskConverters,
    /// The connector's transforms.
    pub(crate) transforms: TransformChain,
    /// What to do with records that fail a converter or transform.
    pub(crate) errors: ErrorPolicy,
    pub(crate) consumer: Arc<StreamConsumer<TaskClientContext>>,
    pub(crate) worker: Arc<WorkerConfig>,
    /// Topics read from (KIP-558).
    pub(crate) topics: super::topics::TopicNotes,
    /// Partitions sought to the offset their target stored: messages fetched before the seek
    /// took effect are dropped until the one at that offset arrives.
    pub(crate) resume: BTreeMap<TopicPartition, i64>,
    /// The worker's producer, for a task that writes to Kafka.
    pub(crate) output: Option<Arc<SinkOutput>>,
    /// With exactly-once writes: per partition, the offset of the first record consumed since
    /// the last commit, where the partition resumes if the open transaction aborts.
    pub(crate) rewind: SinkOffsets,
    /// This task's metrics.
    pub(crate) metrics: Arc<TaskMetrics>,
}

impl SinkRunner {
    pub(crate) async fn run(mut self, cancel: CancellationToken, started: super::Started) -> ConnectResult<()> {
        let kafka = self.output.clone().map(|o| o as Arc<dyn KafkaOutput>);
        let ctx = SinkTaskContext {
            connector: self.id.connector.clone(),
            task: self.id.task,
            kafka,
            metrics: self.metrics.clone(),
        };
        // "starting" and "stopped" bracket the task instance's whole life (operators and the
        // rolling-restart test read them).
        tracing::info!("sink task starting");
        self.task.start(ctx, &self.props).await?;
        if let Some(output) = &self.output {
            output.init().await?;
        }
        self.subscribe()?;
        started.mark();
        tracing::info!("sink task started");
        let mut current = SinkOffsets::new();
        let result = self.consume_loop(&cancel, &mut current).await;
        let committed = if result.is_ok() {
            self.commit(&mut current, CommitMode::Sync).await
        } else {
            match &self.output {
                Some(output) => output.abort().await,
                None => Ok(()),
            }
        };
        let stopped = self.task.stop().await;
        tracing::info!("sink task stopped");
        result.and(committed).and(stopped)
    }

    fn subscribe(&self) -> ConnectResult<()> {
        let topics: Vec<String> = self
            .props
            .get("topics")
            .map(|t| t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let regex = self.props.get("topics.regex").filter(|r| !r.is_empty()).map(|r| format!("^{r}"));
        let subscription: Vec<String> = match (topics.is_empty(), regex) {
            (false, None) => topics,
            (true, Some(r)) => vec![r],
            (false, Some(_)) => {
                return Err(ConnectError::config("topics", "set either 'topics' or 'topics.regex', not both"));
            }
            (true, None) => {
                return Err(ConnectError::config("topics", "a sink connector needs 'topics' or 'topics.regex'"));
            }
        };
        let refs: Vec<&str> = subscription.iter().map(String::as_str).collect();
        self.consumer.subscribe(&refs).map_err(|e| ConnectError::fatal_from("cannot subscribe", e))
    }

    async fn consume_loop(&mut self, cancel: &CancellationToken, current: &mut SinkOffsets) -> ConnectResult<()> {
        let interval = self.worker.offset_flush_interval;
        let mut next_commit = Instant::now() + interval;
        let consumer = self.consumer.clone();
        loop {
            let first = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Ok(()),
                m = consumer.recv() => Some(m),
                _ = tokio::time::sleep_until(next_commit.into()) => None,
            };
            let mut batch = Vec::new();
            // Positions consumed, taken from the messages (a transform may rename the topic),
            // skipped records included so that they are not read again.
            let mut consumed: Vec<(TopicPartition, i64)> = Vec::new();
            if let Some(first) = first {
                // A message of a newly assigned partition comes after its assignment: the task
                // opens it (and the worker seeks) before seeing any of its records.
                self.handle_rebalances(current).await?;
                self.push(first, &mut batch, &mut consumed)?;
                while consumed.len() < MAX_BATCH {
                    match consumer.recv().now_or_never() {
                        Some(m) => {
                            self.handle_rebalances(current).await?;
                            self.push(m, &mut batch, &mut consumed)?;
                        }
                        None => break,
                    }
                }
            }
            self.handle_rebalances(current).await?;
            if !consumed.is_empty() {
                self.metrics.read.fetch_add(consumed.len() as u64, Ordering::Relaxed);
                if !batch.is_empty() {
                    self.metrics.sent.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    self.task.put(batch).await?;
                }
                let exactly_once = self.output.as_ref().is_some_and(|o| o.exactly_once());
                for (tp, next) in consumed {
                    if exactly_once && !self.rewind.contains_key(&tp) {
                        self.rewind.insert(tp.clone(), next - 1);
                    }
                    let at = current.entry(tp).or_insert(next);
                    *at = (*at).max(next);
                }
            }
            if Instant::now() >= next_commit {
                self.commit(current, CommitMode::Async).await?;
                next_commit = Instant::now() + interval;
            }
        }
    }

    /// Converts and transforms one message into `batch`, unless a transform drops it or it fails
    /// and `errors.tolerance` skips it; its position goes into `consumed` either way.
    fn push(
        &mut self,
        m: Result<BorrowedMessage<'_>, rdkafka::error::KafkaError>,
        batch: &mut Vec<SinkRecord>,
        consumed: &mut Vec<(TopicPartition, i64)>,
    ) -> ConnectResult<()> {
        match m {
            Ok(m) => {
                if !self.resume.is_empty() {
                    let tp = TopicPartition { topic: m.topic().to_owned(), partition: m.partition() };
                    if let Some(&next) = self.resume.get(&tp) {
                        if m.offset() != next {
                            // Fetched from the group's offset before the seek took effect.
                            return Ok(());
                        }
                        self.resume.remove(&tp);
                    }
                }
                let at = || format!("topic {} partition {} offset {}", m.topic(), m.partition(), m.offset());
                let record = match self.convert(&m) {
                    Ok(mut r) => match self.transforms.apply(&mut r) {
                        Ok(true) => Some(r),
                        Ok(false) => None,
                        Err(e) => {
                            self.errors.failed(Stage::Transformation, e, at)?;
                            None
                        }
                    },
                    Err((stage, e)) => {
                        self.errors.failed(stage, e, at)?;
                        None
                    }
                };
                batch.extend(record);
                consumed
                    .push((TopicPartition { topic: m.topic().to_owned(), partition: m.partition() }, m.offset() + 1));
                Ok(())
            }
            Err(e) => {
                tracing::warn!("consumer error, retrying: {e}");
                Ok(())
            }
        }
    }

    fn convert(&mut self, m: &BorrowedMessage<'_>) -> Result<SinkRecord, (Stage, ConnectError)> {
        let topic = m.topic();
        self.topics.note(topic);
        let at = || format!("topic {topic} partition {} offset {}", m.partition(), m.offset());
        let key = self.converters.key.to_connect(topic, m.key()).map_err(|e| {
            (Stage::KeyConverter, ConnectError::data(format!("cannot convert the key at {}: {}", at(), e.chain())))
        })?;
        let value = self.converters.value.to_connect(topic, m.payload()).map_err(|e| {
            (Stage::ValueConverter, ConnectError::data(format!("cannot convert the value at {}: {}", at(), e.chain())))
        })?;
        let headers = self.converters.read_headers(topic, m.headers()).map_err(|e| {
            let e = ConnectError::data(format!("cannot convert the headers at {}: {}", at(), e.chain()));
            (Stage::HeaderConverter, e)
        })?;
        Ok(SinkRecord {
            topic: topic.to_owned(),
            kafka_partition: m.partition(),
            kafka_offset: m.offset(),
            timestamp: m.timestamp().to_millis(),
            key_schema: key.schema,
            key: key.value,
            value_schema: value.schema,
            value: value.value,
            headers,
        })
    }

    async fn handle_rebalances(&mut self, current: &mut SinkOffsets) -> ConnectResult<()> {
        let events: Vec<RebalanceEvent> = match self.consumer.context().rebalances.lock() {
            Ok(mut e) => std::mem::take(&mut *e),
            Err(_) => return Err(ConnectError::fatal("rebalance state poisoned")),
        };
        for event in events {
            match event {
                RebalanceEvent::Assigned(parts) => {
                    tracing::info!(partitions = parts.len(), "partitions assigned");
                    self.task.open(&parts).await?;
                    let stored = self.task.stored_offsets(&parts).await?;
                    for (tp, next) in stored.into_iter().filter(|(tp, _)| parts.contains(tp)) {
                        self.seek(&tp, next).await?;
                        tracing::info!(topic = %tp.topic, partition = tp.partition, offset = next, "resuming where the target's stored offset says");
                        current.insert(tp.clone(), next);
                        self.resume.insert(tp, next);
                    }
                }
                RebalanceEvent::Revoked(parts) => {
                    tracing::info!(partitions = parts.len(), "partitions revoked");
                    self.task.close(&parts).await?;
                    for p in &parts {
                        current.remove(p);
                        self.resume.remove(p);
                        self.rewind.remove(p);
                    }
                    // The open transaction holds records of partitions that may already be
                    // another task's: it cannot commit. The partitions kept start over from
                    // their last committed offsets.
                    if let Some(output) = self.output.clone().filter(|o| o.is_open() || !self.rewind.is_empty()) {
                        output.abort().await?;
                        tracing::info!(
                            "partitions revoked during a transaction: aborted it; the others resume at their last committed offsets"
                        );
                        self.rewind(current).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Moves the consumer's position in a just-assigned partition (retried while librdkafka
    /// has not started fetching it yet).
    async fn seek(&mut self, tp: &TopicPartition, next: i64) -> ConnectResult<()> {
        let consumer = self.consumer.clone();
        let (topic, partition) = (tp.topic.clone(), tp.partition);
        tokio::task::spawn_blocking(move || {
            let mut last = None;
            for _ in 0..50 {
                match consumer.seek(&topic, partition, Offset::Offset(next), Duration::from_secs(5)) {
                    Ok(()) => return Ok(()),
                    Err(e) => last = Some(e),
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(ConnectError::fatal(format!(
                "cannot resume {topic}-{partition} at offset {next}, where the target's stored offset says: {}",
                last.map(|e| e.to_string()).unwrap_or_default()
            )))
        })
        .await
        .map_err(|e| ConnectError::fatal_from("seek did not complete", e))?
    }

    /// Seeks every partition consumed since the last commit back to its first record since
    /// then (after an aborted transaction).
    async fn rewind(&mut self, current: &mut SinkOffsets) -> ConnectResult<()> {
        for (tp, at) in std::mem::take(&mut self.rewind) {
            self.seek(&tp, at).await?;
            current.insert(tp.clone(), at);
            self.resume.insert(tp, at);
        }
        Ok(())
    }

    async fn commit(&mut self, current: &mut SinkOffsets, mode: CommitMode) -> ConnectResult<()> {
        if current.is_empty() {
            return Ok(());
        }
        if self.output.as_ref().is_some_and(|o| o.exactly_once() && !o.is_open()) && self.rewind.is_empty() {
            // Nothing consumed since the last transaction: nothing to commit.
            return Ok(());
        }
        let offsets = self.task.pre_commit(current.clone()).await?;
        if let Some(output) = self.output.clone() {
            match output.commit(&offsets, self.consumer.group_metadata()).await {
                Ok(()) if output.exactly_once() => {
                    self.rewind.clear();
                    return Ok(());
                }
                Ok(()) => {}
                Err(CommitFailure::Aborted(e)) => {
                    tracing::warn!(
                        "{}; the transaction was aborted and its partitions resume at their last committed offsets",
                        e.chain()
                    );
                    return self.rewind(current).await;
                }
                Err(CommitFailure::Fenced(e) | CommitFailure::Fatal(e)) => return Err(e),
            }
        }
        let mut tpl = TopicPartitionList::new();
        for (tp, off) in &offsets {
            tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*off))
                .map_err(|e| ConnectError::fatal_from("bad offset", e))?;
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        let consumer = self.consumer.clone();
        let res = match mode {
            CommitMode::Async => consumer.commit(&tpl, CommitMode::Async),
            CommitMode::Sync => tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
                .await
                .map_err(|e| ConnectError::fatal_from("commit panicked", e))?,
        };
        match res {
            Ok(()) => {
                tracing::debug!(partitions = offsets.len(), "committed sink offsets");
                Ok(())
            }
            Err(e) => {
                tracing::warn!("cannot commit sink offsets yet, will retry at the next flush: {e}");
                Ok(())
            }
        }
    }
}
