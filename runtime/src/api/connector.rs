//! The connector API: what a plugin implements, and the contexts the runtime hands it.
//!
//! As in Kafka Connect, a connector only splits work: it reads its configuration and returns
//! one configuration per task. Tasks do the I/O. The runtime owns every loop around them:
//! polling, conversion, producing, offsets, retries, cancellation. A source task's
//! [`SourceTask::poll`] should return within a second or so when it has nothing (an empty
//! batch is fine); the runtime may drop a pending `poll` future on shutdown, so a task must not
//! consider records delivered until [`SourceTask::commit_record`] says so.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::config::{ConfigDef, ConfigError};
use super::error::ConnectResult;
use super::record::{OffsetMap, RecordMetadata, SinkRecord, SourceRecord, TopicPartition};

/// A connector's or task's configuration as strings, the form Kafka Connect stores.
pub type Props = BTreeMap<String, String>;

/// Connectors that asked for new task configs, until the runtime takes the requests: one
/// entry per connector however often it asks, so the set is bounded by the connector count.
#[derive(Debug, Default)]
pub struct ReconfigurationRequests {
    pending: std::sync::Mutex<std::collections::BTreeSet<String>>,
    notify: tokio::sync::Notify,
}

impl ReconfigurationRequests {
    /// Records that `connector` wants its task configs recomputed.
    pub fn request(&self, connector: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.insert(connector.to_owned());
        }
        self.notify.notify_one();
    }

    /// Waits for requests and takes them all.
    pub async fn next(&self) -> Vec<String> {
        loop {
            let taken: Vec<String> = match self.pending.lock() {
                Ok(mut p) => std::mem::take(&mut *p).into_iter().collect(),
                Err(_) => Vec::new(),
            };
            if !taken.is_empty() {
                return taken;
            }
            self.notify.notified().await;
        }
    }
}

/// What the runtime offers a connector instance (Kafka Connect's `ConnectorContext`).
#[derive(Clone, Debug)]
pub struct ConnectorContext {
    /// Connector name.
    pub connector: String,
    requests: Arc<ReconfigurationRequests>,
}

impl ConnectorContext {
    /// A context whose requests go to `requests`.
    pub fn new(connector: impl Into<String>, requests: Arc<ReconfigurationRequests>) -> Self {
        Self { connector: connector.into(), requests }
    }

    /// Asks the runtime to call [`Connector::task_configs`] again and, if the answer changed
    /// (new tables, new topics), to replace the tasks with the new ones. Cheap and safe to call
    /// from any thread, as often as needed: requests coalesce.
    pub fn request_task_reconfiguration(&self) {
        self.requests.request(&self.connector);
    }
}

/// What every connector does: declare its configuration and split its work into tasks.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The plugin's version.
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    /// Hands the instance its context before [`Connector::start`]; keep it to ask for task
    /// reconfiguration later (e.g. from a monitoring task the connector runs).
    fn initialize(&mut self, ctx: ConnectorContext) {
        let _ = ctx;
    }
    /// Every key the connector reads.
    fn config_def(&self) -> ConfigDef;
    /// Checks across keys that the per-key validators of [`Connector::config_def`] cannot
    /// make (one key only valid with a given value of another), each error naming the key to
    /// change. Run with the ConfigDef's checks, before anything starts, and in
    /// `PUT /connector-plugins/{plugin}/config/validate`. Kafka Connect's `Connector.validate`.
    fn validate(&self, props: &Props) -> Vec<ConfigError> {
        let _ = props;
        Vec::new()
    }
    /// Starts the connector with its configuration (already checked against `config_def`).
    async fn start(&mut self, props: &Props) -> ConnectResult<()>;
    /// At most `max_tasks` task configurations.
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>>;
    /// Stops the connector.
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
    /// Checks (and, for offsets kept outside Kafka, applies) offsets a user alters or resets
    /// (`None` offsets) through the REST API, for a stopped connector: `Ok(true)` when the
    /// connector handled them, `Ok(false)` (the default) when it leaves them to the framework,
    /// an error naming the problem when they are invalid. Kafka Connect's `alterOffsets`.
    fn alter_offsets(&self, _config: &Props, _offsets: &[(OffsetMap, Option<OffsetMap>)]) -> ConnectResult<bool> {
        Ok(false)
    }
}

/// A connector that reads from an external system into Kafka.
pub trait SourceConnector: Connector {
    /// A new, unstarted task.
    fn create_task(&self) -> Box<dyn SourceTask>;
    /// Whether this connector, with `config`, delivers exactly once when its records and
    /// offsets commit in one transaction (Kafka Connect's `exactlyOnceSupport`): `Some(true)`
    /// when its offsets fully determine what it produces next; `None` when it cannot tell,
    /// which fails the preflight check of `exactly.once.support=required`.
    fn exactly_once_support(&self, _config: &Props) -> Option<bool> {
        None
    }
    /// Whether this connector's tasks can define their own transaction boundaries
    /// (`transaction.boundary=connector`; Kafka Connect's `canDefineTransactionBoundaries`).
    fn can_define_transaction_boundaries(&self, _config: &Props) -> bool {
        false
    }
}

/// A connector that writes Kafka records to an external system.
pub trait SinkConnector: Connector {
    /// A new, unstarted task.
    fn create_task(&self) -> Box<dyn SinkTask>;
    /// Whether this connector's tasks, with `config`, write back to Kafka through the worker's
    /// producer ([`SinkTaskContext::kafka`]), and how; `None` (the default) for every sink
    /// whose target is not Kafka.
    fn kafka_writes(&self, _config: &Props) -> Option<super::KafkaWrites> {
        None
    }
}

/// Reads stored source offsets.
#[async_trait]
pub trait OffsetReader: Send + Sync + std::fmt::Debug {
    /// The last committed offset of `partition` for this connector.
    async fn offset(&self, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>>;
}

/// An [`OffsetReader`] that answers the same stored offset (or none) for every partition:
/// for connector unit tests and tools that start a task at a known position.
#[derive(Debug, Clone, Default)]
pub struct FixedOffsetReader(pub Option<OffsetMap>);

#[async_trait]
impl OffsetReader for FixedOffsetReader {
    async fn offset(&self, _partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>> {
        Ok(self.0.clone())
    }
}

/// What the runtime tells a source task.
#[derive(Clone, Debug)]
pub struct SourceTaskContext {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: usize,
    /// Reads the offsets this connector stored.
    pub offsets: Arc<dyn OffsetReader>,
    /// Where the task defines its own transaction boundaries: present only when its connector
    /// runs with `transaction.boundary=connector` on a worker with exactly-once support.
    pub transactions: Option<Arc<super::TransactionContext>>,
    /// The task's metrics, where a connector adds gauges of its own
    /// ([`crate::metrics::TaskMetrics::gauge`]).
    pub metrics: Arc<crate::metrics::TaskMetrics>,
}

/// Reads records from an external system.
#[async_trait]
pub trait SourceTask: Send {
    /// Starts the task; read stored offsets from `ctx` to resume.
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> ConnectResult<()>;
    /// The next records; an empty batch when there is nothing right now.
    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>>;
    /// Kafka acknowledged `record` (with its metadata, or `None` if a transform dropped it or
    /// the task aborted the transaction that held it). Called on the task's loop, between
    /// polls, in the order records were acknowledged; with exactly-once support, only once the
    /// transaction holding the record committed.
    async fn commit_record(&mut self, record: &SourceRecord, metadata: Option<RecordMetadata>) -> ConnectResult<()> {
        let _ = (record, metadata);
        Ok(())
    }
    /// The offsets of acknowledged records were stored.
    async fn commit(&mut self) -> ConnectResult<()> {
        Ok(())
    }
    /// Stops the task and releases its resources.
    async fn stop(&mut self) -> ConnectResult<()>;
}

/// What the runtime tells a sink task.
#[derive(Clone, Debug)]
pub struct SinkTaskContext {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: usize,
    /// The worker's producer, for a connector whose [`SinkConnector::kafka_writes`] says its
    /// tasks write to Kafka.
    pub kafka: Option<Arc<dyn super::KafkaOutput>>,
    /// The task's metrics, where a connector adds gauges of its own
    /// ([`crate::metrics::TaskMetrics::gauge`]).
    pub metrics: Arc<crate::metrics::TaskMetrics>,
}

/// Next offset to consume, per partition: what a sink commits.
pub type SinkOffsets = BTreeMap<TopicPartition, i64>;

/// Writes Kafka records to an external system.
#[async_trait]
pub trait SinkTask: Send {
    /// Starts the task.
    async fn start(&mut self, ctx: SinkTaskContext, props: &Props) -> ConnectResult<()>;
    /// Partitions newly assigned to this task.
    async fn open(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        let _ = partitions;
        Ok(())
    }
    /// For a task that stores its offsets in the target, in the same transaction as the data
    /// (exactly-once sinks): the next offset to consume of each of these newly assigned
    /// partitions, as the target holds it. The worker resumes there instead of at the group's
    /// committed offset; partitions left out resume at the group's. Asked after `open`.
    async fn stored_offsets(&mut self, partitions: &[TopicPartition]) -> ConnectResult<SinkOffsets> {
        let _ = partitions;
        Ok(SinkOffsets::new())
    }
    /// Writes (or buffers) a batch of records.
    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()>;
    /// Makes everything `put` so far durable.
    async fn flush(&mut self, offsets: &SinkOffsets) -> ConnectResult<()> {
        let _ = offsets;
        Ok(())
    }
    /// Offsets safe to commit; by default flushes and returns `offsets`.
    async fn pre_commit(&mut self, offsets: SinkOffsets) -> ConnectResult<SinkOffsets> {
        self.flush(&offsets).await?;
        Ok(offsets)
    }
    /// Partitions revoked from this task.
    async fn close(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        let _ = partitions;
        Ok(())
    }
    /// Stops the task.
    async fn stop(&mut self) -> ConnectResult<()>;
}
