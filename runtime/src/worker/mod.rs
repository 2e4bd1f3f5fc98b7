//! The worker: runs connectors and their tasks on tokio, each task in its own span with a
//! child cancellation token, tracked so shutdown can wait for them within a deadline.
//!
//! A task that returns an error or panics is marked FAILED with its message (the worker keeps
//! running); a task that is cancelled drains, stores its offsets and stops.

pub mod config;
pub mod converters;
pub(crate) mod kafka;
pub mod offsets;
pub(crate) mod producer;
pub(crate) mod sink;
pub(crate) mod source;
mod status;
mod validate;

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
use crate::plugins::{AnyConnector, ConnectorKind, Registry};

pub use status::{ConnectorStatus, State, TaskStatus};
pub use validate::{connector_config_def, validate_connector};

use config::WorkerConfig;
use converters::TaskConverters;
use kafka::TaskClientContext;
use offsets::OffsetStore;
use sink::SinkRunner;
use source::SourceRunner;

/// Identifies one task of one connector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskId {
    /// Connector name.
    pub connector: String,
    /// Task number, from 0.
    pub task: usize,
}

struct RunningConnector {
    kind: ConnectorKind,
    class: &'static str,
    config: Props,
    cancel: CancellationToken,
    instance: Option<AnyConnector>,
    tasks: Vec<Arc<Mutex<TaskStatus>>>,
}

/// Runs connectors and tasks.
pub struct Worker {
    config: Arc<WorkerConfig>,
    registry: Arc<Registry>,
    offsets: Arc<dyn OffsetStore>,
    worker_id: String,
    cancel: CancellationToken,
    tracker: TaskTracker,
    connectors: tokio::sync::Mutex<BTreeMap<String, RunningConnector>>,
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
        }
    }

    /// The worker's configuration.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// The plugin registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// This worker's id in status answers (`host:port`).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Validates and starts a connector and its tasks.
    pub async fn start_connector(&self, props: Props) -> ConnectResult<()> {
        let checked = validate_connector(&self.registry, &props)?;
        let name = checked.name.clone();
        let mut connectors = self.connectors.lock().await;
        if connectors.contains_key(&name) {
            return Err(ConnectError::config("name", format!("connector {name} already exists")));
        }
        let converters = TaskConverters::resolve(&self.registry, &self.config, &props)?;
        let mut instance = (checked.plugin.factory)();
        let task_props = match &mut instance {
            AnyConnector::Source(c) => {
                c.start(&props).await?;
                c.task_configs(checked.tasks_max)?
            }
            AnyConnector::Sink(c) => {
                c.start(&props).await?;
                c.task_configs(checked.tasks_max)?
            }
        };
        let cancel = self.cancel.child_token();
        let mut tasks = Vec::with_capacity(task_props.len());
        for (i, mut tp) in task_props.into_iter().enumerate() {
            // Sink tasks read topics from their own config, as in Kafka Connect.
            for k in ["topics", "topics.regex"] {
                if let Some(v) = props.get(k) {
                    tp.entry(k.to_owned()).or_insert_with(|| v.clone());
                }
            }
            let id = TaskId { connector: name.clone(), task: i };
            let status = Arc::new(Mutex::new(TaskStatus::running(&self.worker_id)));
            self.spawn_task(id, &instance, tp, converters.clone(), status.clone(), cancel.child_token())?;
            tasks.push(status);
        }
        tracing::info!(connector = %name, class = checked.plugin.class, tasks = tasks.len(), "connector started");
        connectors.insert(
            name,
            RunningConnector {
                kind: checked.plugin.kind,
                class: checked.plugin.class,
                config: props,
                cancel,
                instance: Some(instance),
                tasks,
            },
        );
        Ok(())
    }

    fn spawn_task(
        &self,
        id: TaskId,
        connector: &AnyConnector,
        props: Props,
        converters: TaskConverters,
        status: Arc<Mutex<TaskStatus>>,
        cancel: CancellationToken,
    ) -> ConnectResult<()> {
        let label = format!("connector-{}-{}", id.connector, id.task);
        let ctx = TaskClientContext::new(label.clone());
        let span = tracing::info_span!("task", connector = %id.connector, task = id.task, kind = tracing::field::Empty);
        let fut = match connector {
            AnyConnector::Source(c) => {
                span.record("kind", "source");
                let producer: producer::SourceProducer = kafka::producer_config(&self.config, &label)
                    .create_with_context(producer::SourceProducerContext::new(ctx))
                    .map_err(|e| ConnectError::config("producer", format!("invalid producer settings: {e}")))?;
                let runner = SourceRunner {
                    id,
                    task: c.create_task(),
                    props,
                    converters,
                    producer,
                    offsets: self.offsets.clone(),
                    worker: self.config.clone(),
                    key_buf: Vec::new(),
                    value_buf: Vec::new(),
                };
                runner.run(cancel).boxed()
            }
            AnyConnector::Sink(c) => {
                span.record("kind", "sink");
                let consumer: StreamConsumer<TaskClientContext> =
                    kafka::consumer_config(&self.config, &id.connector, &label)
                        .create_with_context(ctx)
                        .map_err(|e| ConnectError::config("consumer", format!("invalid consumer settings: {e}")))?;
                let runner = SinkRunner {
                    id,
                    task: c.create_task(),
                    props,
                    converters,
                    consumer: Arc::new(consumer),
                    worker: self.config.clone(),
                };
                runner.run(cancel).boxed()
            }
        };
        self.tracker.spawn(
            async move {
                let outcome = AssertUnwindSafe(fut).catch_unwind().await;
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
        );
        Ok(())
    }

    /// Status of every connector.
    pub async fn statuses(&self) -> Vec<ConnectorStatus> {
        let connectors = self.connectors.lock().await;
        connectors.iter().map(|(name, c)| self.status_of(name, c)).collect()
    }

    /// Status of one connector.
    pub async fn status(&self, name: &str) -> Option<ConnectorStatus> {
        let connectors = self.connectors.lock().await;
        connectors.get(name).map(|c| self.status_of(name, c))
    }

    /// Configuration of one connector.
    pub async fn connector_config(&self, name: &str) -> Option<Props> {
        self.connectors.lock().await.get(name).map(|c| c.config.clone())
    }

    fn status_of(&self, name: &str, c: &RunningConnector) -> ConnectorStatus {
        let tasks: Vec<TaskStatus> =
            c.tasks.iter().map(|t| t.lock().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone())).collect();
        ConnectorStatus {
            name: name.to_owned(),
            class: c.class.to_owned(),
            kind: c.kind,
            state: if c.cancel.is_cancelled() { State::Unassigned } else { State::Running },
            worker_id: self.worker_id.clone(),
            tasks,
        }
    }

    /// Stops every connector: cancels their tasks, waits up to `task.shutdown.graceful.timeout.ms`
    /// for them to drain and store offsets, then stops the connectors. Returns whether every
    /// task stopped in time.
    pub async fn shutdown(&self) -> bool {
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
        let mut connectors = self.connectors.lock().await;
        for (name, c) in connectors.iter_mut() {
            let stopped = match c.instance.take() {
                Some(AnyConnector::Source(mut s)) => s.stop().await,
                Some(AnyConnector::Sink(mut s)) => s.stop().await,
                None => Ok(()),
            };
            if let Err(e) = stopped {
                tracing::warn!(connector = %name, "connector did not stop cleanly: {}", e.chain());
            }
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
