//! A Kafka topic used as a replicated log, as Kafka Connect's `KafkaBasedLog`.
//!
//! Writes go through one producer with `acks=all` and idempotence (retries never reorder or
//! duplicate), partitioned with `murmur2_random` so a key lands on the partition Kafka Connect's
//! Java producer would choose. Reads come from one consumer assigned to every partition of the
//! topic from the beginning, never joining a consumer group and never committing anything: each
//! worker reads the whole log. A background task hands every record, in partition order, to the
//! store's callback, then advances its position.
//!
//! [`KafkaBasedLog::read_to_end`] asks the broker for the end offsets of every partition at the
//! moment of the call and waits until the reader has passed them: when it returns, the callback
//! has seen every record written (and acknowledged) before the call, by any worker.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::topics::{TopicKind, client_config, ensure_topic};
use super::{StoreError, StoreResult, StoreSettings};

/// One record read from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Partition it was read from.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
    /// Its key, if any.
    pub key: Option<Vec<u8>>,
    /// Its value; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
}

/// What the reader calls for every record, in order per partition. It must not block.
pub type LogCallback = Box<dyn FnMut(&LogRecord) + Send>;

/// How far the reader got: the next offset to read, per partition.
#[derive(Debug)]
struct Progress {
    next: Mutex<Vec<i64>>,
    advanced: Notify,
}

impl Progress {
    fn next_offsets(&self) -> Vec<i64> {
        // A poisoned lock only means a callback panicked mid-update; the offsets are still valid.
        self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn advance(&self, partition: i32, next: i64) {
        let mut offsets = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = usize::try_from(partition).ok().and_then(|p| offsets.get_mut(p))
            && next > *slot
        {
            *slot = next;
        }
        drop(offsets);
        self.advanced.notify_waiters();
    }
}

/// A compacted topic read in full by every worker, written with acknowledged sends.
pub struct KafkaBasedLog {
    topic: String,
    partitions: i32,
    producer: FutureProducer,
    consumer: Arc<StreamConsumer>,
    /// Asks for the partitions' offsets: a client of its own, as Kafka Connect's log asks its
    /// admin client, because a broker answers one connection's requests in order and the
    /// reader's connection mostly waits in a long-poll fetch.
    lister: Arc<BaseConsumer>,
    progress: Arc<Progress>,
    cancel: CancellationToken,
    timeout: Duration,
}

impl std::fmt::Debug for KafkaBasedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBasedLog").field("topic", &self.topic).field("partitions", &self.partitions).finish()
    }
}

impl KafkaBasedLog {
    /// Creates or checks the topic, starts the reader feeding `callback`, and returns once the
    /// reader has read the whole topic as it was at start.
    pub async fn start(kind: TopicKind, settings: &StoreSettings, callback: LogCallback) -> StoreResult<Self> {
        let topic = settings.topic.clone();
        let partitions = ensure_topic(kind, settings).await?;
        let producer: FutureProducer = client_config(settings, &format!("{}-producer", role(kind)))
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", settings.timeout.as_millis().to_string())
            .create()
            .map_err(|e| StoreError::kafka(&topic, "cannot create the producer", e))?;
        let consumer: StreamConsumer = client_config(settings, &format!("{}-consumer", role(kind)))
            // librdkafka wants a group id even for assigned partitions; this one is never joined
            // (no subscribe) and no offset is ever committed to it.
            .set("group.id", format!("{}-{}-reader", settings.client_id, topic))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            // Exactly-once source tasks write offsets in transactions: only committed ones count.
            .set("isolation.level", "read_committed")
            .create()
            .map_err(|e| StoreError::kafka(&topic, "cannot create the consumer", e))?;
        let lister: BaseConsumer = client_config(settings, &format!("{}-offsets-lister", role(kind)))
            // Ends as a read_committed reader sees them: the last stable offsets.
            .set("isolation.level", "read_committed")
            .create()
            .map_err(|e| StoreError::kafka(&topic, "cannot create the offsets client", e))?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(&topic, p, Offset::Beginning)
                .map_err(|e| StoreError::kafka(&topic, "cannot assign the partitions", e))?;
        }
        consumer.assign(&tpl).map_err(|e| StoreError::kafka(&topic, "cannot assign the partitions", e))?;
        let len = usize::try_from(partitions).unwrap_or(0);
        let log = Self {
            topic,
            partitions,
            producer,
            consumer: Arc::new(consumer),
            lister: Arc::new(lister),
            progress: Arc::new(Progress { next: Mutex::new(vec![0; len]), advanced: Notify::new() }),
            cancel: CancellationToken::new(),
            timeout: settings.timeout,
        };
        tokio::spawn(read_loop(
            log.topic.clone(),
            Arc::clone(&log.consumer),
            Arc::clone(&log.progress),
            log.cancel.child_token(),
            callback,
        ));
        log.read_to_end().await?;
        tracing::info!(topic = %log.topic, partitions, "read the internal topic for {}", kind.purpose());
        Ok(log)
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Its partition count.
    pub fn partition_count(&self) -> i32 {
        self.partitions
    }

    /// Writes `key` = `value` (`None`: a tombstone); returns once the broker acknowledged it.
    pub async fn send(&self, key: &[u8], value: Option<&[u8]>) -> StoreResult<()> {
        self.send_all(&[(key.to_vec(), value.map(<[u8]>::to_vec))]).await
    }

    /// Writes the records in order; returns once the broker acknowledged all of them.
    pub async fn send_all(&self, records: &[(Vec<u8>, Option<Vec<u8>>)]) -> StoreResult<()> {
        if self.cancel.is_cancelled() {
            return Err(StoreError::Stopped(self.topic.clone()));
        }
        let mut pending = Vec::with_capacity(records.len());
        for (key, value) in records {
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).key(key.as_slice());
            if let Some(v) = value {
                record = record.payload(v.as_slice());
            }
            let deadline = Instant::now() + self.timeout;
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => break pending.push(delivery),
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                        if Instant::now() < deadline =>
                    {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((e, _)) => return Err(StoreError::kafka(&self.topic, describe_key("cannot send", key), e)),
                }
            }
        }
        for (delivery, (key, _)) in pending.into_iter().zip(records) {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(StoreError::kafka(&self.topic, describe_key("write failed", key), e)),
                Err(_) => return Err(StoreError::Stopped(self.topic.clone())),
            }
        }
        Ok(())
    }

    /// Returns once the reader has passed the end offsets every partition had at this call.
    pub async fn read_to_end(&self) -> StoreResult<()> {
        let started = Instant::now();
        let ends = self.end_offsets().await?;
        loop {
            let notified = self.progress.advanced.notified();
            if self.cancel.is_cancelled() {
                return Err(StoreError::Stopped(self.topic.clone()));
            }
            if self.reached(&ends) {
                return Ok(());
            }
            let left = self.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(StoreError::Timeout {
                    topic: self.topic.clone(),
                    what: format!("reading to the end offsets {ends:?} (reached {:?})", self.progress.next_offsets()),
                    after: self.timeout,
                });
            }
            // The timeout also catches ends passed without a record (transaction markers at the
            // end of a partition), which the consumer's position reports.
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    fn reached(&self, ends: &[(i64, i64)]) -> bool {
        let next = self.progress.next_offsets();
        let positions = self.consumer.position().ok();
        ends.iter().enumerate().all(|(p, &(low, high))| {
            let pos = positions
                .as_ref()
                .and_then(|tpl| tpl.find_partition(&self.topic, p as i32))
                .and_then(|e| e.offset().to_raw())
                .unwrap_or(-1);
            high <= low || next.get(p).is_some_and(|&n| n >= high) || pos >= high
        })
    }

    /// (low, high) watermarks of every partition: two ListOffsets requests (earliest and
    /// latest) for all partitions at once.
    async fn end_offsets(&self) -> StoreResult<Vec<(i64, i64)>> {
        let lister = Arc::clone(&self.lister);
        let topic = self.topic.clone();
        let (partitions, timeout) = (self.partitions, self.timeout);
        tokio::task::spawn_blocking(move || {
            let query = |which: Offset| -> Result<Vec<i64>, String> {
                let mut tpl = TopicPartitionList::new();
                for p in 0..partitions {
                    tpl.add_partition_offset(&topic, p, which).map_err(|e| e.to_string())?;
                }
                let answer = lister.offsets_for_times(tpl, timeout).map_err(|e| e.to_string())?;
                (0..partitions)
                    .map(|p| {
                        let e = answer.find_partition(&topic, p).ok_or(format!("no answer for partition {p}"))?;
                        e.error().map_err(|err| format!("partition {p}: {err}"))?;
                        match e.offset() {
                            Offset::Offset(n) => Ok(n),
                            other => Err(format!("partition {p}: no offset ({other:?})")),
                        }
                    })
                    .collect()
            };
            // A topic created a moment ago may not have partition leaders yet: errors are retried
            // until the store's timeout.
            let deadline = std::time::Instant::now() + timeout;
            loop {
                match query(Offset::Beginning).and_then(|low| Ok(low.into_iter().zip(query(Offset::End)?).collect())) {
                    Ok(ends) => break Ok(ends),
                    Err(e) if std::time::Instant::now() < deadline => {
                        tracing::debug!(topic = %topic, "end offsets not available yet ({e}); retrying");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => {
                        break Err(StoreError::Timeout {
                            topic: topic.clone(),
                            what: format!("reading the partitions' end offsets (last error: {e})"),
                            after: timeout,
                        });
                    }
                }
            }
        })
        .await
        .map_err(|_| StoreError::Stopped(self.topic.clone()))?
    }

    /// Stops the reader; later calls fail with [`StoreError::Stopped`].
    pub fn stop(&self) {
        self.cancel.cancel();
        self.progress.advanced.notify_waiters();
    }
}

impl Drop for KafkaBasedLog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn role(kind: TopicKind) -> &'static str {
    match kind {
        TopicKind::Config => "configs",
        TopicKind::Offset => "offsets",
        TopicKind::Status => "statuses",
    }
}

fn describe_key(what: &str, key: &[u8]) -> String {
    format!("{what} record with key {}", String::from_utf8_lossy(key))
}

async fn read_loop(
    topic: String,
    consumer: Arc<StreamConsumer>,
    progress: Arc<Progress>,
    cancel: CancellationToken,
    mut callback: LogCallback,
) {
    let mut last_error: Option<Instant> = None;
    loop {
        let received = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            m = consumer.recv() => m,
        };
        match received {
            Ok(m) => {
                let record = LogRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                };
                drop(m);
                callback(&record);
                progress.advance(record.partition, record.offset + 1);
            }
            Err(e) => {
                // librdkafka retries by itself; log at most every 10 s.
                if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(topic = %topic, error = %e, "error reading the internal topic; retrying");
                    last_error = Some(Instant::now());
                }
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        }
    }
    tracing::debug!(topic = %topic, "internal topic reader stopped");
}
