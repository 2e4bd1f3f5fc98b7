//! A source task's transactions (exactly-once sources, KIP-618): records and the offsets that
//! cover them commit or abort together; the task hears of its records (`commit_record`,
//! `commit`) only once their transaction committed.
//!
//! A transaction begins with the first record sent after the last one ended, and ends at the
//! task's [`TransactionBoundary`]: after each batch from `poll`, once the interval passed
//! (checked between polls), or where the task asks through its [`TransactionContext`] (after a
//! batch or after a given record; an abort discards the records and still commits their
//! offsets, as Kafka Connect does, so the task does not see them again). A poll or interval
//! transaction also ends early when [`MAX_PENDING`] records wait for it, so what the worker
//! holds stays bounded; a connector-defined one that grows that large fails the task instead,
//! since splitting it would break the atomicity the connector asked for. At the end, every record's acknowledgement is awaited,
//! the offsets of the transaction's records are sent to the offset topic through the same
//! producer, and the transaction is committed. A failure aborts it (read_committed consumers
//! never see its records) and fails the task, which restarts from the last committed offsets.
//! A producer fenced by a newer instance of the task stops the task: it runs elsewhere now.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use tokio_util::sync::CancellationToken;

use super::exactly_once::{TransactionBoundary, is_fenced};
use super::producer::SourceProducerContext;
use super::source::{Committable, SourceRunner, Window};
use crate::api::{Boundary, ConnectError, ConnectResult, OffsetMap, RecordMetadata, SourceRecord, TransactionContext};

/// Records acknowledged by Kafka and waiting for their transaction to commit, beyond which
/// the transaction is committed at the next boundary check whatever the boundary says.
pub(crate) const MAX_PENDING: usize = 50_000;

/// How long `init_transactions`, `commit_transaction` and `abort_transaction` may take.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The transaction state of one source task.
#[derive(Debug)]
pub(crate) struct Transaction {
    boundary: TransactionBoundary,
    /// When the open transaction began (`None`: none is open).
    began: Option<Instant>,
    /// Acknowledged records of the open transaction, in order, for `commit_record`.
    pending: VecDeque<(SourceRecord, Option<RecordMetadata>)>,
    /// The task's requests, with connector-defined boundaries.
    context: Option<Arc<TransactionContext>>,
}

impl Transaction {
    pub(crate) fn new(boundary: TransactionBoundary) -> Self {
        let context = (boundary == TransactionBoundary::Connector).then(Arc::default);
        Self { boundary, began: None, pending: VecDeque::new(), context }
    }

    /// What the task gets to define its own boundaries, if its connector does.
    pub(crate) fn context(&self) -> Option<Arc<TransactionContext>> {
        self.context.clone()
    }

    /// The boundary the task asked for after `record` (as it returned it), if any.
    pub(crate) fn after_record(&self, record: &SourceRecord) -> ConnectResult<Option<Boundary>> {
        match &self.context {
            Some(ctx) if ctx.has_record_requests() => ctx.take_for_record(record),
            _ => Ok(None),
        }
    }

    /// Files a record Kafka acknowledged (or that was skipped) under the open transaction.
    pub(crate) fn acknowledged(&mut self, record: SourceRecord, metadata: Option<RecordMetadata>) {
        self.pending.push_back((record, metadata));
    }

    /// How the open transaction should end now, after a poll's batch was sent (`polled`: the
    /// poll returned records).
    pub(crate) fn after_batch(&self, polled: bool) -> ConnectResult<Option<Boundary>> {
        if let Some(ctx) = &self.context {
            // Taken even with no transaction open, so a request does not outlive its batch.
            let asked = ctx.take_for_batch()?;
            if self.began.is_some() && self.pending.len() >= MAX_PENDING {
                return Err(ConnectError::fatal(format!(
                    "the task's transaction holds {} records, more than the {MAX_PENDING} a worker keeps for one \
                     transaction: the task must commit more often (TransactionContext) or its connector use \
                     transaction.boundary=poll or interval",
                    self.pending.len()
                )));
            }
            return Ok(asked);
        }
        let Some(began) = self.began else { return Ok(None) };
        let due = self.pending.len() >= MAX_PENDING
            || match self.boundary {
                TransactionBoundary::Poll => polled,
                TransactionBoundary::Interval(every) => began.elapsed() >= every,
                TransactionBoundary::Connector => false,
            };
        Ok(due.then_some(Boundary::Commit))
    }
}

/// A transactional call's failure as the task's error: fenced means another instance took
/// over.
pub(crate) fn failed(what: &str, id: &super::TaskId, e: KafkaError, fenced: bool) -> ConnectError {
    if fenced || is_fenced(&e) {
        ConnectError::fatal_from(
            format!(
                "task {}-{} was fenced while it {what}: a newer instance of the task runs elsewhere (a rebalance \
                 moved it), so this one stops without committing",
                id.connector, id.task
            ),
            e,
        )
    } else {
        ConnectError::fatal_from(format!("task {}-{} could not {what}", id.connector, id.task), e)
    }
}

/// Runs a blocking producer call off the async runtime.
async fn blocking<T: Send + 'static>(
    producer: Arc<BaseProducer<SourceProducerContext>>,
    call: impl FnOnce(&BaseProducer<SourceProducerContext>) -> T + Send + 'static,
) -> ConnectResult<T> {
    tokio::task::spawn_blocking(move || call(&producer))
        .await
        .map_err(|e| ConnectError::fatal(format!("a transactional call did not complete: {e}")))
}

/// Waits until the producer holds no undelivered message (the offset records just sent).
/// `commit_transaction` would wait for them too, but with delivery reports served as events
/// (as rust-rdkafka does) librdkafka checks for them only every 100 ms.
async fn await_delivered(
    producer: Arc<BaseProducer<SourceProducerContext>>,
    acks: Arc<super::producer::Acks>,
) -> ConnectResult<()> {
    let deadline = Instant::now() + TRANSACTION_TIMEOUT;
    while producer.in_flight_count() > 0 {
        if Instant::now() > deadline {
            return Err(ConnectError::fatal(format!(
                "source offsets were not acknowledged within {} s",
                TRANSACTION_TIMEOUT.as_secs()
            )));
        }
        let _ = tokio::time::timeout(Duration::from_millis(1), acks.notify.notified()).await;
    }
    Ok(())
}

impl SourceRunner {
    /// Whether this task's transactional producer was fenced: `e` says so, or the producer's
    /// fatal error does (a fenced producer purges what it held, and records see the purge).
    pub(crate) fn fenced(&self, e: &KafkaError) -> bool {
        self.transaction.is_some() && (is_fenced(e) || self.producer_fenced())
    }

    fn producer_fenced(&self) -> bool {
        self.producer
            .client()
            .fatal_error()
            .is_some_and(|(code, _)| matches!(code, RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced))
    }

    /// Registers the transactional id with the coordinator, fencing every older producer of
    /// this task (a zombie still running elsewhere) and aborting its open transaction.
    pub(crate) async fn init_transactions(&mut self) -> ConnectResult<()> {
        let id = self.id.clone();
        blocking(self.producer.shared(), |p| p.init_transactions(TRANSACTION_TIMEOUT))
            .await?
            .map_err(|e| failed("initialized its transactional producer", &id, e, false))?;
        tracing::info!("transactional producer ready; older instances of this task are fenced");
        Ok(())
    }

    /// Begins a transaction unless one is open.
    pub(crate) fn begin_transaction(&mut self) -> ConnectResult<()> {
        let Some(t) = &mut self.transaction else { return Ok(()) };
        if t.began.is_none() {
            if let Err(e) = self.producer.begin_transaction() {
                return Err(failed("began a transaction", &self.id, e, self.producer_fenced()));
            }
            t.began = Some(Instant::now());
        }
        Ok(())
    }

    /// Ends the open transaction at a boundary: a commit (waiting for every record's
    /// acknowledgement, writing their offsets in it, then telling the task: `commit_record`,
    /// `commit`), or, as a task may ask, an abort that discards the records and commits their
    /// offsets in a transaction of their own (Kafka Connect's behaviour), the task hearing of
    /// each record with no metadata.
    pub(crate) async fn end_as_asked(
        &mut self,
        boundary: Boundary,
        window: &mut Window,
        c: &mut Committable,
        cancel: &CancellationToken,
    ) -> ConnectResult<()> {
        // Every record sent must be acknowledged first (and an abort would purge it under us).
        while !window.slots.is_empty() {
            self.wait_front(window, c, cancel).await?;
            if cancel.is_cancelled() {
                // Stopping: the run ends the transaction after draining.
                return Ok(());
            }
        }
        let Some(t) = &mut self.transaction else { return Ok(()) };
        if t.began.is_none() && t.pending.is_empty() {
            return Ok(());
        }
        if boundary == Boundary::Abort {
            for (_, metadata) in &mut t.pending {
                *metadata = None;
            }
            let discarded = t.pending.len();
            if t.began.is_some() {
                self.abort_producer_transaction().await?;
            }
            tracing::info!(records = discarded, "transaction aborted as the task asked; its records are discarded");
        }
        // Records skipped before anything was sent still have offsets to commit.
        self.begin_transaction()?;
        self.commit_acknowledged().await
    }

    /// Ends the open transaction when the task stops: commits it when every record sent in it
    /// was acknowledged (`complete`) and, with connector-defined boundaries, the task asked for
    /// a commit; aborts it otherwise.
    pub(crate) async fn end_transaction(&mut self, complete: bool) -> ConnectResult<()> {
        let Some(t) = &self.transaction else { return Ok(()) };
        if t.began.is_none() {
            return Ok(());
        }
        let commit = match &t.context {
            Some(ctx) => complete && ctx.take_for_batch().is_ok_and(|b| b == Some(Boundary::Commit)),
            None => complete,
        };
        if commit {
            return self.commit_acknowledged().await;
        }
        self.abort_transaction().await
    }

    /// Aborts the open transaction: its records and offsets are discarded.
    async fn abort_transaction(&mut self) -> ConnectResult<()> {
        let Some(t) = &mut self.transaction else { return Ok(()) };
        let dropped = std::mem::take(&mut t.pending).len();
        self.abort_producer_transaction().await?;
        tracing::warn!(
            records = dropped,
            "transaction aborted; its records will be sent again from the last committed offsets"
        );
        Ok(())
    }

    /// Aborts the producer's open transaction.
    async fn abort_producer_transaction(&mut self) -> ConnectResult<()> {
        if let Some(t) = &mut self.transaction {
            t.began = None;
        }
        let id = self.id.clone();
        blocking(self.producer.shared(), |p| p.abort_transaction(TRANSACTION_TIMEOUT))
            .await?
            .map_err(|e| failed("aborted a transaction", &id, e, false))
    }

    /// Writes the offsets of the acknowledged records and commits (every record sent in the
    /// transaction is acknowledged).
    async fn commit_acknowledged(&mut self) -> ConnectResult<()> {
        let Some(t) = &mut self.transaction else { return Ok(()) };
        let pending = std::mem::take(&mut t.pending);
        t.began = None;
        let mut latest = Committable::default();
        for (record, _) in &pending {
            if !record.source_partition.is_empty() || !record.source_offset.is_empty() {
                latest.update(Arc::clone(&record.source_partition), record.source_offset.clone());
            }
        }
        let offsets: Vec<(OffsetMap, OffsetMap)> =
            latest.offsets.into_iter().map(|(p, o)| (Arc::unwrap_or_clone(p), o)).collect();
        if let Err(e) = self.send_offsets(&offsets) {
            // The transaction cannot hold its offsets: abort it rather than commit records
            // whose offsets are lost.
            if let Err(abort) = self.abort_transaction().await {
                tracing::warn!("{}", abort.chain());
            }
            return Err(e);
        }
        await_delivered(self.producer.shared(), self.acks()).await?;
        let id = self.id.clone();
        let commit_started = Instant::now();
        let committed = blocking(self.producer.shared(), |p| p.commit_transaction(TRANSACTION_TIMEOUT)).await?;
        let commit_ms = commit_started.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = committed {
            // A fenced producer cannot abort either: its transaction is the coordinator's now.
            let fenced = self.fenced(&e);
            let error = failed("committed a transaction", &id, e, fenced);
            if !fenced && let Err(abort) = self.abort_transaction().await {
                tracing::warn!("{}", abort.chain());
            }
            return Err(error);
        }
        tracing::debug!(records = pending.len(), partitions = offsets.len(), commit_ms, "transaction committed");
        self.offsets.committed_elsewhere(&self.id.connector, offsets).await?;
        for (record, metadata) in &pending {
            self.task.commit_record(record, *metadata).await?;
        }
        self.task.commit().await
    }

    /// Sends the offset records into the open transaction, partitioned as the offset store
    /// writes them (murmur2 of the key).
    fn send_offsets(&mut self, offsets: &[(OffsetMap, OffsetMap)]) -> ConnectResult<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let Some(records) = self.offsets.records(&self.id.connector, offsets) else {
            return Err(ConnectError::config(
                super::exactly_once::WORKER_KEY,
                "exactly-once source support needs the offsets in a Kafka topic (distributed mode)",
            ));
        };
        for (key, value) in &records.records {
            let record: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(&records.topic, usize::MAX).key(key.as_slice()).payload(value.as_slice());
            self.producer.send(record).map_err(|(e, _)| {
                ConnectError::fatal_from(format!("cannot send source offsets to {}", records.topic), e)
            })?;
        }
        Ok(())
    }
}
