//! Connectors and tasks as separate units, for the distributed herder: in Kafka Connect's
//! distributed mode a connector instance and each of its tasks are assigned to workers one by
//! one (connector `x` on worker A, task `x-1` on worker B), so a worker must be able to start
//! and stop each alone.
//!
//! A connector unit is a started connector instance that produces task configs; a task unit is
//! one task, built from its stored task config and its connector's config, with a fresh
//! (unstarted) connector instance as its factory. Units live beside the standalone herder's
//! connector entries and never touch them. Statuses are read by the herder, which reports them
//! to the status topic.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::status::{State, TargetState, TaskStatus};
use super::topics::ActiveTopics;
use super::{ChangeError, TaskId, TaskStages, Worker, offsets_rest, sink_offsets, validate_connector};
use crate::api::{OffsetMap, Props};
use crate::config_providers::{ConfigProviders, reverse_transform};
use crate::plugins::{AnyConnector, ConnectorKind};

/// A started connector instance and the task configs it asked for.
pub(super) struct Started {
    pub(super) instance: AnyConnector,
    /// The configuration with config provider variables resolved.
    pub(super) resolved: Props,
    /// Task configs with `task.class` (and a sink's `topics`) added, values resolved.
    pub(super) task_configs: Vec<Props>,
}

/// Why a connector instance did not start.
pub(super) enum StartFailure {
    /// Its configuration cannot be used (invalid, class gone, unresolvable variables).
    Config(String),
    /// Its `start` or `task_configs` failed.
    Start(String),
}

/// A unit's state as the herder reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitStatus {
    /// The state.
    pub state: State,
    /// Why it failed.
    pub trace: Option<String>,
}

struct ConnectorUnit {
    instance: Option<AnyConnector>,
    status: UnitStatus,
}

struct TaskUnit {
    status: Arc<Mutex<TaskStatus>>,
    running: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
    topics: Arc<ActiveTopics>,
}

/// The units one worker runs.
#[derive(Default)]
pub(super) struct Units {
    connectors: tokio::sync::Mutex<BTreeMap<String, ConnectorUnit>>,
    tasks: tokio::sync::Mutex<BTreeMap<(String, usize), TaskUnit>>,
}

impl Worker {
    /// Resolves config provider variables, checks the configuration, starts a connector
    /// instance of `class` and asks it for task configs. Logged with the connector's name.
    pub(super) async fn instantiate(&self, name: &str, class: &str, config: &Props) -> Result<Started, StartFailure> {
        let tasks_max = match validate_connector(
            &self.registry,
            config,
            &<Self as crate::herder::Herder>::converter_defaults(self),
        ) {
            Ok(c) => c.tasks_max,
            Err(e) => return Err(StartFailure::Config(format!("invalid configuration: {e}"))),
        };
        let Some(plugin) = self.registry.connector(class).ok().cloned() else {
            return Err(StartFailure::Config(format!("connector class {class} is no longer available")));
        };
        // Config provider variables (${file:...}, ${env:...}) are resolved here only: the config
        // shown over REST and stored keeps the placeholders.
        let resolved = match ConfigProviders::from_worker_props(&self.config.props).and_then(|p| p.resolve(config)) {
            Ok(resolved) => resolved,
            Err(e) => {
                tracing::error!(connector = %name, "connector failed to start: {}", e.chain());
                return Err(StartFailure::Config(e.chain()));
            }
        };
        let mut instance = (plugin.factory)();
        let ctx = crate::api::ConnectorContext::new(name, self.reconfigurations.clone());
        match &mut instance {
            AnyConnector::Source(c) => c.initialize(ctx),
            AnyConnector::Sink(c) => c.initialize(ctx),
        }
        let configs = match &mut instance {
            AnyConnector::Source(c) => match c.start(&resolved).await {
                Ok(()) => c.task_configs(tasks_max),
                Err(e) => Err(e),
            },
            AnyConnector::Sink(c) => match c.start(&resolved).await {
                Ok(()) => c.task_configs(tasks_max),
                Err(e) => Err(e),
            },
        };
        match configs {
            Ok(configs) => {
                let task_configs = decorate_task_configs(plugin.task_class, &resolved, configs);
                Ok(Started { instance, resolved, task_configs })
            }
            Err(e) => {
                tracing::error!(connector = %name, "connector failed to start: {}", e.chain());
                Err(StartFailure::Start(e.chain()))
            }
        }
    }

    /// Checks a connector configuration as a create or update would (variables resolved, the
    /// connector's and converters' keys); answers its name and kind.
    pub(crate) fn check_connector(&self, props: &Props) -> Result<(String, ConnectorKind), ChangeError> {
        self.check(props).map(|c| (c.name, c.plugin.kind))
    }

    /// Starts the connector unit `name` in `target` state (stopping a previous one first).
    /// Started: the instance runs and its task configs are answered, with config provider
    /// values put back as placeholders so secrets never reach the config topic. Paused and
    /// stopped connectors run no instance and answer `None`, as does one that failed (its
    /// status says why).
    pub(crate) async fn start_connector_unit(
        &self,
        name: &str,
        config: &Props,
        target: TargetState,
    ) -> Option<Vec<Props>> {
        self.stop_connector_unit(name).await;
        let (unit, configs) = match target {
            TargetState::Paused => (unit(None, State::Paused, None), None),
            TargetState::Stopped => (unit(None, State::Stopped, None), None),
            TargetState::Started => {
                let class = config.get("connector.class").map(String::as_str).unwrap_or_default();
                match self.instantiate(name, class, config).await {
                    Ok(s) => {
                        let configs = s.task_configs.iter().map(|t| reverse_transform(config, t)).collect();
                        (unit(Some(s.instance), State::Running, None), Some(configs))
                    }
                    Err(StartFailure::Config(e) | StartFailure::Start(e)) => (unit(None, State::Failed, Some(e)), None),
                }
            }
        };
        tracing::info!(connector = %name, state = unit.status.state.name(), "connector unit started");
        self.units.connectors.lock().await.insert(name.to_owned(), unit);
        configs
    }

    /// Stops the connector unit `name`; `false` when it did not run here.
    pub(crate) async fn stop_connector_unit(&self, name: &str) -> bool {
        let Some(unit) = self.units.connectors.lock().await.remove(name) else { return false };
        let stopped = match unit.instance {
            Some(AnyConnector::Source(mut s)) => s.stop().await,
            Some(AnyConnector::Sink(mut s)) => s.stop().await,
            None => Ok(()),
        };
        if let Err(e) = stopped {
            tracing::warn!(connector = %name, "connector did not stop cleanly: {}", e.chain());
        }
        true
    }

    /// Starts task unit `id` from its stored config and its connector's config, in `target`
    /// state (paused: registered as PAUSED, not run). A task that cannot be built is FAILED.
    /// A previous instance still running (it would not stop) keeps its slot: no second one.
    pub(crate) async fn start_task_unit(
        &self,
        id: &TaskId,
        connector_config: &Props,
        task_config: &Props,
        target: TargetState,
    ) {
        let key = (id.connector.clone(), id.task);
        let mut tasks = self.units.tasks.lock().await;
        if tasks.get(&key).is_some_and(|t| t.running.is_some()) {
            tracing::warn!(connector = %id.connector, task = id.task, "task still running; not starting it twice");
            return;
        }
        // UNASSIGNED until the task's start() returned (then RUNNING).
        let state = if target == TargetState::Started { State::Unassigned } else { State::Paused };
        let status = Arc::new(Mutex::new(TaskStatus::new(state, &self.worker_id)));
        let topics = tasks.get(&key).map(|t| t.topics.clone()).unwrap_or_default();
        let mut unit = TaskUnit { status: status.clone(), running: None, topics: topics.clone() };
        if target == TargetState::Started {
            match self.spawn_task_unit(id, connector_config, task_config, status.clone(), topics) {
                Ok(running) => unit.running = Some(running),
                Err(trace) => {
                    tracing::error!(connector = %id.connector, task = id.task, "task failed to start: {trace}");
                    status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).fail(trace);
                }
            }
        }
        tasks.insert(key, unit);
    }

    fn spawn_task_unit(
        &self,
        id: &TaskId,
        connector_config: &Props,
        task_config: &Props,
        status: Arc<Mutex<TaskStatus>>,
        topics: Arc<ActiveTopics>,
    ) -> Result<(CancellationToken, tokio::task::JoinHandle<()>), String> {
        let providers = ConfigProviders::from_worker_props(&self.config.props).map_err(|e| e.chain())?;
        let resolved = providers.resolve(connector_config).map_err(|e| e.chain())?;
        let task_props = providers.resolve(task_config).map_err(|e| e.chain())?;
        let class = resolved.get("connector.class").map(String::as_str).unwrap_or_default();
        let plugin = self.registry.connector(class).map_err(|e| e.to_string())?;
        // A fresh instance, not started: only its task factory is used.
        let factory = (plugin.factory)();
        let stages = TaskStages::resolve(&self.registry, &self.config, &factory, &resolved).map_err(|e| e.chain())?;
        let cancel = self.cancel.child_token();
        let handle = self
            .spawn_task(id.clone(), &factory, task_props, stages, status, topics, cancel.clone())
            .map_err(|e| e.chain())?;
        Ok((cancel, handle))
    }

    /// Stops task unit `id`: it drains and stores its offsets within
    /// `task.shutdown.graceful.timeout.ms`, or is aborted. `false` when it would not go even
    /// then: its slot stays (FAILED), so it is never started twice.
    pub(crate) async fn stop_task_unit(&self, id: &TaskId) -> bool {
        let key = (id.connector.clone(), id.task);
        let Some(mut unit) = self.units.tasks.lock().await.remove(&key) else { return true };
        let Some((cancel, handle)) = unit.running.take() else { return true };
        cancel.cancel();
        let mut stuck = self.await_stopped(vec![(id.task, cancel, handle)]).await;
        let Some((_, cancel, handle)) = stuck.pop() else { return true };
        tracing::error!(connector = %id.connector, task = id.task, "task did not stop even after being aborted");
        unit.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).fail(format!(
            "task {}-{} did not stop within task.shutdown.graceful.timeout.ms and was abandoned",
            id.connector, id.task
        ));
        unit.running = Some((cancel, handle));
        self.units.tasks.lock().await.insert(key, unit);
        false
    }

    /// The connector units running here, with their states.
    /// The task configs the running connector unit `name` asks for now (after it requested a
    /// reconfiguration), with config provider values put back as placeholders; `None` when it
    /// does not run here or cannot answer (logged).
    pub(crate) async fn connector_unit_task_configs(&self, name: &str, config: &Props) -> Option<Vec<Props>> {
        let resolved = match ConfigProviders::from_worker_props(&self.config.props).and_then(|p| p.resolve(config)) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(connector = %name, "cannot resolve the connector's config for new task configs: {}", e.chain());
                return None;
            }
        };
        let class = config.get("connector.class").map(String::as_str).unwrap_or_default();
        let task_class = self.registry.connector(class).map(|p| p.task_class).unwrap_or_default();
        let units = self.units.connectors.lock().await;
        let instance = units.get(name)?.instance.as_ref()?;
        match current_task_configs(instance, task_class, &resolved) {
            Ok(configs) => Some(configs.iter().map(|t| reverse_transform(config, t)).collect()),
            Err(e) => {
                tracing::error!(connector = %name, "connector failed to give new task configs: {}", e.chain());
                None
            }
        }
    }

    pub(crate) async fn connector_units(&self) -> BTreeMap<String, UnitStatus> {
        self.units.connectors.lock().await.iter().map(|(n, u)| (n.clone(), u.status.clone())).collect()
    }

    /// The task units running here, with their statuses and the topics they used.
    pub(crate) async fn task_units(&self) -> BTreeMap<(String, usize), (TaskStatus, Vec<String>)> {
        let tasks = self.units.tasks.lock().await;
        tasks
            .iter()
            .map(|(k, u)| {
                let s = u.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                (k.clone(), (s, u.topics.list()))
            })
            .collect()
    }

    /// Forgets the topics every task unit of `connector` noted (after a topics reset).
    pub(crate) async fn reset_unit_topics(&self, connector: &str) {
        for ((c, _), u) in self.units.tasks.lock().await.iter() {
            if c == connector {
                u.topics.reset();
            }
        }
    }

    /// Stops every unit (shutdown of a distributed worker).
    pub(crate) async fn stop_all_units(&self) {
        let tasks: Vec<(String, usize)> = self.units.tasks.lock().await.keys().cloned().collect();
        for (connector, task) in tasks {
            self.stop_task_unit(&TaskId { connector, task }).await;
        }
        let names: Vec<String> = self.units.connectors.lock().await.keys().cloned().collect();
        for name in names {
            self.stop_connector_unit(&name).await;
        }
    }

    /// Committed offsets of a connector (source: the offset store; sink: its consumer group).
    pub(crate) async fn offsets_of(
        &self,
        name: &str,
        kind: ConnectorKind,
        config: &Props,
    ) -> Result<Vec<(OffsetMap, OffsetMap)>, ChangeError> {
        match kind {
            ConnectorKind::Source => {
                self.source_offsets(config).await?.list(name).await.map_err(|e| ChangeError::Failed(e.chain()))
            }
            ConnectorKind::Sink => {
                let (worker, name, config) = (self.config.clone(), name.to_owned(), config.clone());
                tokio::task::spawn_blocking(move || sink_offsets::committed(&worker, &name, &config))
                    .await
                    .map_err(|e| ChangeError::Failed(e.to_string()))?
            }
        }
    }

    /// Alters (or with `reset`, removes every one of) a stopped connector's offsets, after
    /// asking the connector; answers Kafka Connect's message.
    pub(crate) async fn change_offsets_of(
        &self,
        name: &str,
        kind: ConnectorKind,
        config: &Props,
        changes: Option<Vec<(OffsetMap, Option<OffsetMap>)>>,
    ) -> Result<&'static str, ChangeError> {
        let reset = changes.is_none();
        let changes = match changes {
            Some(c) => c,
            None if kind == ConnectorKind::Source => {
                self.offsets_of(name, kind, config).await?.into_iter().map(|(p, _)| (p, None)).collect()
            }
            None => Vec::new(),
        };
        let handled = self.connector_alters_offsets(config, &changes)?;
        match kind {
            ConnectorKind::Source => {
                self.source_offsets(config)
                    .await?
                    .alter(name, changes)
                    .await
                    .map_err(|e| ChangeError::Failed(e.chain()))?;
            }
            ConnectorKind::Sink => {
                let (worker, name, config) = (self.config.clone(), name.to_owned(), config.clone());
                tokio::task::spawn_blocking(move || {
                    if reset {
                        sink_offsets::reset(&worker, &name)
                    } else {
                        sink_offsets::alter(&worker, &name, &config, changes)
                    }
                })
                .await
                .map_err(|e| ChangeError::Failed(e.to_string()))??;
            }
        }
        Ok(match (reset, handled) {
            (false, true) => offsets_rest::OFFSETS_ALTERED_BY_CONNECTOR,
            (false, false) => offsets_rest::OFFSETS_ALTERED,
            (true, true) => offsets_rest::OFFSETS_RESET_BY_CONNECTOR,
            (true, false) => offsets_rest::OFFSETS_RESET,
        })
    }

    /// Kafka Connect's answer when offsets are changed on a connector that is not STOPPED.
    pub(crate) fn stop_first(name: &str) -> ChangeError {
        ChangeError::BadRequest(offsets_rest::STOP_FIRST.replace("{}", name))
    }
}

fn unit(instance: Option<AnyConnector>, state: State, trace: Option<String>) -> ConnectorUnit {
    ConnectorUnit { instance, status: UnitStatus { state, trace } }
}

#[cfg(test)]
#[path = "units_tests.rs"]
mod tests;

/// Task configs as the runtime stores them: each with `task.class`, and a sink's `topics` /
/// `topics.regex` (sink tasks read them from their own config, as in Kafka Connect).
pub(super) fn decorate_task_configs(task_class: &str, resolved: &Props, configs: Vec<Props>) -> Vec<Props> {
    configs
        .into_iter()
        .map(|mut tp| {
            tp.insert("task.class".to_owned(), task_class.to_owned());
            for k in ["topics", "topics.regex"] {
                if let Some(v) = resolved.get(k) {
                    tp.entry(k.to_owned()).or_insert_with(|| v.clone());
                }
            }
            tp
        })
        .collect()
}

/// The task configs a running connector instance asks for now, decorated as at start.
pub(super) fn current_task_configs(
    instance: &AnyConnector,
    task_class: &str,
    resolved: &Props,
) -> crate::api::ConnectResult<Vec<Props>> {
    let tasks_max = resolved.get("tasks.max").and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(1).max(1);
    let configs = match instance {
        AnyConnector::Source(c) => c.task_configs(tasks_max)?,
        AnyConnector::Sink(c) => c.task_configs(tasks_max)?,
    };
    Ok(decorate_task_configs(task_class, resolved, configs))
}
