//! The worker: runs connectors and their tasks on tokio, each task in its own span with a
//! child cancellation token, tracked so shutdown can wait for them within a deadline.
//!
//! A task that returns an error or panics is marked FAILED with its message (the worker keeps
//! running); a task that is cancelled drains, stores its offsets and stops.

pub mod config;
mod connector_def;
pub mod converters;
mod errors;
pub mod exactly_once;
pub(crate) mod kafka;
mod lifecycle;
pub mod offsets;
mod offsets_rest;
pub(crate) mod producer;
pub(crate) mod sink;
mod sink_offsets;
mod sink_output;
pub(crate) mod source;
mod stages;
mod status;
mod topics;
mod transactions;
mod units;
mod validate;
mod validate_infos;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use rdkafka::consumer::StreamConsumer;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::api::{ConnectError, ConnectResult, Props};
use crate::config_providers::reverse_transform;
use crate::plugins::{AnyConnector, ConnectorKind, Registry};

pub use lifecycle::ChangeError;
pub use offsets_rest::parse_offsets_body;
pub use status::{ConnectorStatus, State, TargetState, TaskStatus};
pub use units::UnitStatus;
pub use validate::{CONVERTER_KEYS, VERSION, connector_config_def, connector_plugin_keys, enrich, validate_connector};
pub use validate_infos::config_infos;

use config::WorkerConfig;
use kafka::TaskClientContext;
use offsets::OffsetStore;
use sink::SinkRunner;
use source::SourceRunner;
use stages::TaskStages;
use topics::{ActiveTopics, TopicNotes};

/// Identifies one task of one connector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskId {
    /// Connector name.
    pub connector: String,
    /// Task number, from 0.
    pub task: usize,
}

/// One task slot of a connector: its config and, while it runs, how to stop it.
struct TaskSlot {
    config: Props,
    status: Arc<Mutex<TaskStatus>>,
    running: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

/// Marks a task RUNNING once its `start()` returned (Kafka Connect's `onStartup`).
pub(crate) struct Started(Arc<Mutex<TaskStatus>>);

impl Started {
    pub(crate) fn mark(self) {
        let mut status = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if status.state == State::Unassigned {
            status.state = State::Running;
        }
    }
}

/// A task being stopped: cancelled, to be awaited outside the connectors lock.
type Stopping = (usize, CancellationToken, tokio::task::JoinHandle<()>);

/// A connector this worker holds, in whatever state.
struct ConnectorEntry {
    kind: ConnectorKind,
    class: &'static str,
    /// The configuration with config provider variables resolved: for the worker only, never
    /// shown over REST.
    resolved: Props,
    /// The configuration as given (placeholders unresolved).
    config: Props,
    target: TargetState,
    instance: Option<AnyConnector>,
    /// Why the connector itself failed (to start, or to produce task configs).
    failure: Option<String>,
    tasks: Vec<TaskSlot>,
    topics: Arc<ActiveTopics>,
    restarting: bool,
}

/// How long an aborted task may take to go (it goes at its next await point).
const ABORT_GRACE: Duration = Duration::from_secs(2);

/// Runs connectors and tasks.
pub struct Worker {
    config: Arc<WorkerConfig>,
    registry: Arc<Registry>,
    offsets: Arc<dyn OffsetStore>,
    worker_id: String,
    cancel: CancellationToken,
    tracker: TaskTracker,
    connectors: tokio::sync::Mutex<BTreeMap<String, ConnectorEntry>>,
    /// Serializes changes (create, update, pause, restart...), as Kafka Connect's herder does;
    /// reads only take the connectors lock briefly.
    changes: tokio::sync::Mutex<()>,
    cluster_id: std::sync::OnceLock<String>,
    /// Connectors and tasks run one by one for a distributed herder.
    units: units::Units,
    /// Connectors that asked for new task configs ([`crate::api::ConnectorContext`]).
    reconfigurations: Arc<crate::api::ReconfigurationRequests>,
    /// The metrics of the tasks running here (`GET /metrics`).
    metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("worker_id", &self.worker_id).finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker with no connectors yet.
    pub fn new(
        config: WorkerConfig,
        registry: Arc<Registry>,
        offsets: Arc<dyn OffsetStore>,
        worker_id: impl Into<String>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            config: Arc::new(config),
            registry,
            offsets,
            worker_id: worker_id.into(),
            cancel,
            tracker: TaskTracker::new(),
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
            changes: tokio::sync::Mutex::new(()),
            cluster_id: std::sync::OnceLock::new(),
            units: units::Units::default(),
            reconfigurations: Arc::default(),
            metrics: Arc::default(),
        }
    }

    /// The worker's configuration.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// The plugin registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// This worker's id in status answers (`host:port`).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Validates and starts a connector and its tasks (the connector files of standalone and
    /// dev mode).
    pub async fn start_connector(&self, props: Props) -> ConnectResult<()> {
        self.create_connector(props, TargetState::Started).await.map_err(|e| match e {
            ChangeError::Invalid(errors) => ConnectError::Config(errors),
            other => ConnectError::fatal(other.to_string()),
        })
    }

    /// Installs a started connector instance (or its failure) into `entry`: a failure marks
    /// the connector FAILED (as Kafka Connect does) rather than refusing it. The instance is
    /// started by [`Worker::instantiate`] without the connectors lock, so a slow `start()`
    /// never holds up status reads.
    fn install_instance(&self, entry: &mut ConnectorEntry, started: Result<units::Started, units::StartFailure>) {
        entry.failure = None;
        match started {
            Ok(started) => {
                entry.tasks = started
                    .task_configs
                    .into_iter()
                    .map(|tp| TaskSlot {
                        config: tp,
                        status: Arc::new(Mutex::new(TaskStatus::new(State::Unassigned, &self.worker_id))),
                        running: None,
                    })
                    .collect();
                entry.instance = Some(started.instance);
                entry.resolved = started.resolved;
            }
            Err(units::StartFailure::Config(e)) => entry.failure = Some(e),
            Err(units::StartFailure::Start(e)) => {
                entry.failure = Some(e);
                entry.tasks.clear();
            }
        }
    }

    /// Starts the connector instance of `entry` (an entry outside the connectors map, or with
    /// the lock held where no reader can wait: creation and shutdown only).
    async fn start_instance(&self, name: &str, entry: &mut ConnectorEntry) {
        let started = self.instantiate(name, entry.class, &entry.config).await;
        self.install_instance(entry, started);
    }

    /// Stops a connector instance taken out of its entry (so without the connectors lock).
    async fn stop_instance(name: &str, instance: Option<AnyConnector>) {
        let stopped = match instance {
            Some(AnyConnector::Source(mut s)) => s.stop().await,
            Some(AnyConnector::Sink(mut s)) => s.stop().await,
            None => Ok(()),
        };
        if let Err(e) = stopped {
            tracing::warn!(connector = %name, "connector did not stop cleanly: {}", e.chain());
        }
    }

    /// Starts task `index` of `entry` (its slot must be idle).
    fn start_task(&self, name: &str, entry: &mut ConnectorEntry, index: usize) -> ConnectResult<()> {
        let Some(instance) = entry.instance.as_ref() else { return Ok(()) };
        let stages = TaskStages::resolve(&self.registry, &self.config, instance, &entry.resolved)?;
        let slot = &mut entry.tasks[index];
        let status = Arc::new(Mutex::new(TaskStatus::new(State::Unassigned, &self.worker_id)));
        slot.status = status.clone();
        let cancel = self.cancel.child_token();
        let id = TaskId { connector: name.to_owned(), task: index };
        let handle = self.spawn_task(
            id,
            instance,
            slot.config.clone(),
            stages,
            status.clone(),
            entry.topics.clone(),
            cancel.clone(),
        );
        match handle {
            Ok(h) => slot.running = Some((cancel, h)),
            Err(e) => {
                if let Ok(mut s) = status.lock() {
                    s.fail(e.chain());
                }
            }
        }
        Ok(())
    }

    /// Cancels the running tasks of `entry` whose index `which` selects; they are awaited with
    /// [`Worker::await_stopped`] once the connectors lock is released.
    fn cancel_tasks(entry: &mut ConnectorEntry, which: impl Fn(usize, &TaskSlot) -> bool) -> Vec<Stopping> {
        let mut out = Vec::new();
        for (i, slot) in entry.tasks.iter_mut().enumerate() {
            if which(i, slot)
                && let Some((cancel, handle)) = slot.running.take()
            {
                cancel.cancel();
                out.push((i, cancel, handle));
            }
        }
        out
    }

    /// Waits for cancelled tasks to drain and store their offsets; those that overrun
    /// `task.shutdown.graceful.timeout.ms` are aborted, and the ones still not gone after that
    /// (stuck in blocking code) are returned, so no second instance starts beside them.
    async fn await_stopped(&self, stopping: Vec<Stopping>) -> Vec<Stopping> {
        let deadline =
            tokio::time::Instant::now() + self.config.task_shutdown_timeout + self.config.offset_flush_timeout;
        let mut stuck = Vec::new();
        for (i, cancel, mut handle) in stopping {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                tracing::warn!(task = i, "a task did not stop within task.shutdown.graceful.timeout.ms; aborting it");
                handle.abort();
                if tokio::time::timeout(ABORT_GRACE, &mut handle).await.is_err() {
                    stuck.push((i, cancel, handle));
                }
            }
        }
        stuck
    }

    /// The producer of a Kafka-to-Kafka sink task: transactional, with the task's stable id,
    /// for exactly-once writes.
    fn sink_output(
        &self,
        id: &TaskId,
        label: &str,
        writes: crate::api::KafkaWrites,
    ) -> ConnectResult<sink_output::SinkOutput> {
        let mut config = kafka::producer_config(&self.config, &format!("{label}-output"));
        if writes == crate::api::KafkaWrites::ExactlyOnce {
            let group = self.config.props.get("group.id").map(String::as_str).unwrap_or("connect");
            config.set("transactional.id", exactly_once::transactional_id(group, &id.connector, id.task));
            exactly_once::apply_overrides(&mut config, &self.config);
        }
        sink_output::SinkOutput::new(id.clone(), &config, TaskClientContext::new(label.to_owned()), writes)
    }

    /// The offset store of a source connector with `config`: the worker's, or one on the
    /// connector's own `offsets.storage.topic`.
    async fn source_offsets(&self, config: &Props) -> ConnectResult<Arc<dyn OffsetStore>> {
        offsets::for_connector(&self.offsets, config).await
    }

    /// Spawns a task: UNASSIGNED until its `start()` returned, RUNNING from then on (Kafka
    /// Connect's `onStartup`), UNASSIGNED again once stopped, FAILED with the trace on error.
    #[allow(clippy::too_many_arguments)]
    fn spawn_task(
        &self,
        id: TaskId,
        connector: &AnyConnector,
        props: Props,
        stages: TaskStages,
        status: Arc<Mutex<TaskStatus>>,
        topics: Arc<ActiveTopics>,
        cancel: CancellationToken,
    ) -> ConnectResult<tokio::task::JoinHandle<()>> {
        let label = format!("connector-{}-{}", id.connector, id.task);
        let ctx = TaskClientContext::new(label.clone());
        let span = tracing::info_span!("task", connector = %id.connector, task = id.task, kind = tracing::field::Empty);
        let notes = TopicNotes::new(topics);
        let TaskStages { converters, transforms, errors, boundary, offsets_topic, kafka_writes } = stages;
        let kind = match connector {
            AnyConnector::Source(_) => crate::metrics::TaskKind::Source,
            AnyConnector::Sink(_) => crate::metrics::TaskKind::Sink,
        };
        let metrics = self.metrics.register(&id.connector, id.task, kind);
        let unregister = (self.metrics.clone(), id.clone(), metrics.clone());
        let fut = match connector {
            AnyConnector::Source(c) => {
                span.record("kind", "source");
                let mut producer_config = kafka::producer_config(&self.config, &label);
                if boundary.is_some() {
                    let group = self.config.props.get("group.id").map(String::as_str).unwrap_or_default();
                    producer_config
                        .set("transactional.id", exactly_once::transactional_id(group, &id.connector, id.task))
                        // Right after a commit the coordinator answers CONCURRENT_TRANSACTIONS
                        // while it writes the markers; librdkafka retries after this backoff
                        // (100 ms by default, Java's client waits 20 ms), once per transaction.
                        .set("retry.backoff.ms", "10");
                    exactly_once::apply_overrides(&mut producer_config, &self.config);
                }
                let producer =
                    producer::SourceProducer::new(&producer_config, producer::SourceProducerContext::new(ctx))
                        .map_err(|e| ConnectError::config("producer", format!("invalid producer settings: {e}")))?;
                let runner = SourceRunner {
                    id,
                    task: c.create_task(),
                    props,
                    converters,
                    transforms,
                    errors,
                    producer,
                    offsets: self.offsets.clone(),
                    offsets_topic,
                    worker: self.config.clone(),
                    key_buf: Vec::new(),
                    value_buf: Vec::new(),
                    topics: notes,
                    transaction: boundary.map(transactions::Transaction::new),
                    metrics,
                };
                runner.run(cancel, Started(status.clone())).boxed()
            }
            AnyConnector::Sink(c) => {
                span.record("kind", "sink");
                let output = match kafka_writes {
                    Some(writes) => Some(Arc::new(self.sink_output(&id, &label, writes)?)),
                    None => None,
                };
                let consumer: StreamConsumer<TaskClientContext> =
                    kafka::consumer_config(&self.config, &id.connector, &label)
                        .create_with_context(ctx)
                        .map_err(|e| ConnectError::config("consumer", format!("invalid consumer settings: {e}")))?;
                let runner = SinkRunner {
                    id,
                    task: c.create_task(),
                    props,
                    converters,
                    transforms,
                    errors,
                    consumer: Arc::new(consumer),
                    worker: self.config.clone(),
                    topics: notes,
                    resume: Default::default(),
                    output,
                    rewind: Default::default(),
                    metrics,
                };
                runner.run(cancel, Started(status.clone())).boxed()
            }
        };
        Ok(self.tracker.spawn(
            async move {
                let outcome = AssertUnwindSafe(fut).catch_unwind().await;
                let (registry, id, metrics) = unregister;
                registry.unregister(&id.connector, id.task, &metrics);
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.chain()),
                    Err(panic) => Some(format!("task panicked: {}", panic_message(&panic))),
                };
                if let Ok(mut s) = status.lock() {
                    match failure {
                        Some(trace) => {
                            tracing::error!("task failed: {trace}");
                            s.fail(trace);
                        }
                        None => s.state = State::Unassigned,
                    }
                }
            }
            .instrument(span),
        ))
    }

    /// The metrics of the tasks running on this worker.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// Status of every connector.
    pub async fn statuses(&self) -> Vec<ConnectorStatus> {
        let connectors = self.connectors.lock().await;
        connectors.iter().map(|(name, c)| self.status_of(name, c)).collect()
    }

    /// Names of every connector, sorted.
    pub async fn connector_names(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    /// Status of one connector.
    pub async fn status(&self, name: &str) -> Option<ConnectorStatus> {
        let connectors = self.connectors.lock().await;
        connectors.get(name).map(|c| self.status_of(name, c))
    }

    /// Configuration of one connector, as given.
    pub async fn connector_config(&self, name: &str) -> Option<Props> {
        self.connectors.lock().await.get(name).map(|c| c.config.clone())
    }

    /// Task configurations of one connector (`None`: no such connector).
    pub async fn task_configs(&self, name: &str) -> Option<Vec<Props>> {
        // Placeholders back where the connector config had variables (AbstractHerder.reverseTransform).
        self.connectors
            .lock()
            .await
            .get(name)
            .map(|c| c.tasks.iter().map(|t| reverse_transform(&c.config, &t.config)).collect())
    }

    /// Topics the connector used since it was created or last reset (`None`: no such connector).
    pub async fn active_topics(&self, name: &str) -> Option<Vec<String>> {
        self.connectors.lock().await.get(name).map(|c| c.topics.list())
    }

    /// Forgets the connector's active topics; `false` when there is no such connector.
    pub async fn reset_active_topics(&self, name: &str) -> bool {
        self.connectors.lock().await.get(name).map(|c| c.topics.reset()).is_some()
    }

    fn status_of(&self, name: &str, c: &ConnectorEntry) -> ConnectorStatus {
        let tasks: Vec<TaskStatus> = c
            .tasks
            .iter()
            .map(|t| t.status.lock().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone()))
            .collect();
        let state = match (c.target, &c.failure) {
            (TargetState::Stopped, _) => State::Stopped,
            (_, Some(_)) => State::Failed,
            _ if c.restarting => State::Restarting,
            (TargetState::Paused, None) => State::Paused,
            (TargetState::Started, None) => State::Running,
        };
        ConnectorStatus {
            name: name.to_owned(),
            class: c.class.to_owned(),
            kind: c.kind,
            state,
            trace: c.failure.clone(),
            worker_id: self.worker_id.clone(),
            tasks,
        }
    }

    /// Stops every connector: cancels their tasks, waits up to `task.shutdown.graceful.timeout.ms`
    /// for them to drain and store offsets, then stops the connectors. Returns whether every
    /// task stopped in time.
    pub async fn shutdown(&self) -> bool {
        let _changes = self.changes.lock().await;
        self.cancel.cancel();
        self.tracker.close();
        let deadline = self.config.task_shutdown_timeout + self.config.offset_flush_timeout;
        let clean = tokio::time::timeout(deadline, self.tracker.wait()).await.is_ok();
        if !clean {
            tracing::warn!(
                still_running = self.tracker.len(),
                "tasks did not stop within task.shutdown.graceful.timeout.ms; abandoning them"
            );
        }
        let instances: Vec<(String, Option<AnyConnector>)> =
            self.connectors.lock().await.iter_mut().map(|(name, c)| (name.clone(), c.instance.take())).collect();
        for (name, instance) in instances {
            Self::stop_instance(&name, instance).await;
        }
        clean
    }

    /// Waits until every task has ended (for tests and `iterations`-bounded runs).
    pub async fn wait_tasks(&self, timeout: Duration) -> bool {
        self.tracker.close();
        let done = tokio::time::timeout(timeout, self.tracker.wait()).await.is_ok();
        self.tracker.reopen();
        done
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests;

impl Worker {
    /// The Kafka cluster's id, asked once and remembered.
    pub async fn kafka_cluster_id(&self) -> Option<String> {
        if let Some(id) = self.cluster_id.get() {
            return Some(id.clone());
        }
        // The consumer settings of the worker's tasks (security included).
        let cfg = kafka::consumer_config(&self.config, "cluster-id", "tributary-cluster-id");
        let id = tokio::task::spawn_blocking(move || {
            let consumer: rdkafka::consumer::BaseConsumer = cfg.create().ok()?;
            use rdkafka::consumer::Consumer as _;
            consumer.client().fetch_cluster_id(Duration::from_secs(5))
        })
        .await
        .ok()
        .flatten()?;
        Some(self.cluster_id.get_or_init(|| id).clone())
    }
}
