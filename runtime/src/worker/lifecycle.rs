//! Changing connectors while the worker runs, as Kafka Connect's standalone herder does:
//! create (with an initial state), reconfigure, pause, resume, stop, restart, delete, and the
//! offsets of stopped connectors (KIP-875). Changes are serialized; running tasks are cancelled
//! under the connectors lock and awaited outside it, so status reads never wait for a task to
//! drain, and a task is never started while its previous instance still runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::converters::TaskConverters;
use super::status::{State, TargetState, TaskStatus};
use super::topics::ActiveTopics;
use super::{ConnectorEntry, Worker, validate_connector};
use crate::api::{ConfigErrors, ConnectError, Props};
use crate::config_providers::ConfigProviders;

/// Why a change was refused, mapped by the REST API to Kafka Connect's status codes.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// 404: no such connector or task.
    #[error("{0}")]
    NotFound(String),
    /// 409: the connector exists already.
    #[error("{0}")]
    Conflict(String),
    /// 400: the request cannot be done as asked.
    #[error("{0}")]
    BadRequest(String),
    /// 400: the configuration is invalid (every problem, each naming its key).
    #[error("{0}")]
    Invalid(ConfigErrors),
    /// 500: the worker failed doing it.
    #[error("{0}")]
    Failed(String),
}

pub(super) fn not_found(name: &str) -> ChangeError {
    ChangeError::NotFound(format!("Connector {name} not found"))
}

/// Kafka Connect's wording for restarts of an unknown connector.
fn unknown(name: &str) -> ChangeError {
    ChangeError::NotFound(format!("Unknown connector: {name}"))
}

impl Worker {
    /// Checks a configuration as the worker will run it: config provider variables resolved
    /// (errors name the key and variable, never a value), then the connector's and the
    /// converters' keys.
    pub(super) fn check(&self, props: &Props) -> Result<super::validate::CheckedConnector, ChangeError> {
        let resolved = ConfigProviders::from_worker_props(&self.config.props)
            .and_then(|p| p.resolve(props))
            .map_err(|e| ChangeError::BadRequest(e.chain()))?;
        let checked =
            validate_connector(&self.registry, &resolved, &<Self as crate::herder::Herder>::converter_defaults(self))
                .map_err(ChangeError::Invalid)?;
        TaskConverters::resolve(&self.registry, &self.config, &resolved)
            .map_err(|e| ChangeError::BadRequest(e.chain()))?;
        Ok(checked)
    }

    /// Creates a connector in `target` state. Errors: invalid config, already exists.
    pub async fn create_connector(&self, props: Props, target: TargetState) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        self.create_locked(props, target).await
    }

    async fn create_locked(&self, props: Props, target: TargetState) -> Result<(), ChangeError> {
        let checked = self.check(&props)?;
        let name = checked.name.clone();
        if self.connectors.lock().await.contains_key(&name) {
            return Err(ChangeError::Conflict(format!("Connector {name} already exists")));
        }
        let mut entry = ConnectorEntry {
            kind: checked.plugin.kind,
            class: checked.plugin.class,
            resolved: Props::new(),
            config: props,
            target,
            instance: None,
            failure: None,
            tasks: Vec::new(),
            topics: std::sync::Arc::new(ActiveTopics::default()),
            restarting: false,
        };
        self.bring_up(&name, &mut entry).await;
        tracing::info!(connector = %name, class = entry.class, tasks = entry.tasks.len(), target = ?target, "connector created");
        self.connectors.lock().await.insert(name, entry);
        Ok(())
    }

    /// Starts what `entry.target` asks for on an entry with nothing running.
    async fn bring_up(&self, name: &str, entry: &mut ConnectorEntry) {
        match entry.target {
            // A connector created (or reconfigured) paused gets its tasks when resumed, as in
            // Kafka Connect.
            TargetState::Stopped | TargetState::Paused => entry.tasks.clear(),
            TargetState::Started => {
                self.start_instance(name, entry).await;
                if let Err(e) = self.start_idle(name, entry) {
                    entry.failure = Some(e.to_string());
                }
            }
        }
    }

    /// Starts what the target of connector `name` asks for, its instance started without the
    /// connectors lock (a slow `start()` must not hold up status reads; changes are serialized
    /// by the changes lock, so nothing else changes the entry meanwhile).
    async fn bring_up_named(&self, name: &str) -> Result<(), ChangeError> {
        let (class, config) = {
            let mut connectors = self.connectors.lock().await;
            let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
            if entry.target != TargetState::Started {
                entry.tasks.clear();
                return Ok(());
            }
            (entry.class, entry.config.clone())
        };
        let started = self.instantiate(name, class, &config).await;
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        self.install_instance(entry, started);
        if let Err(e) = self.start_idle(name, entry) {
            entry.failure = Some(e.to_string());
        }
        Ok(())
    }

    /// Takes everything down: tasks cancelled (returned to await) and the connector instance
    /// taken out, to be stopped once the connectors lock is released.
    fn take_down(entry: &mut ConnectorEntry) -> (Vec<super::Stopping>, Option<crate::plugins::AnyConnector>) {
        (Self::cancel_tasks(entry, |_, _| true), entry.instance.take())
    }

    /// Creates or reconfigures a connector; `true` when it was created.
    pub async fn put_connector_config(&self, name: &str, props: Props) -> Result<bool, ChangeError> {
        let _changes = self.changes.lock().await;
        self.put_locked(name, props).await
    }

    /// [`Worker::put_connector_config`] with the changes lock held: whether the connector
    /// exists is decided under it, so a racing create, delete or patch cannot slip between.
    async fn put_locked(&self, name: &str, props: Props) -> Result<bool, ChangeError> {
        if !self.connectors.lock().await.contains_key(name) {
            return self.create_locked(props, TargetState::Started).await.map(|()| true);
        }
        let checked = self.check(&props)?;
        let (stopping, instance) = {
            let mut connectors = self.connectors.lock().await;
            let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
            let down = Self::take_down(entry);
            entry.kind = checked.plugin.kind;
            entry.class = checked.plugin.class;
            entry.config = props;
            down
        };
        Self::stop_instance(name, instance).await;
        let stuck = self.await_stopped(stopping).await;
        if !stuck.is_empty() {
            report_stuck(name, &stuck);
            // Starting the new configuration beside a task that still runs would run it twice.
            let mut connectors = self.connectors.lock().await;
            if let Some(entry) = connectors.get_mut(name) {
                entry.failure = Some(format!(
                    "{} task(s) of the previous configuration did not stop within task.shutdown.graceful.timeout.ms; restart the connector once they have",
                    stuck.len()
                ));
            }
            return Ok(false);
        }
        self.bring_up_named(name).await?;
        tracing::info!(connector = %name, "connector reconfigured");
        Ok(false)
    }

    /// Changes keys of a connector's config (`None` removes the key), as `PATCH .../config`.
    pub async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        let mut config = self.connector_config(name).await.ok_or_else(|| not_found(name))?;
        for (k, v) in patch {
            match v {
                Some(v) => config.insert(k, v),
                None => config.remove(&k),
            };
        }
        self.put_locked(name, config).await.map(|_| ())
    }

    /// Deletes a connector: its tasks drain and stop, the connector stops.
    pub async fn delete_connector(&self, name: &str) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        let (stopping, mut entry) = {
            let mut connectors = self.connectors.lock().await;
            let mut entry = connectors.remove(name).ok_or_else(|| not_found(name))?;
            (Self::cancel_tasks(&mut entry, |_, _| true), entry)
        };
        report_stuck(name, &self.await_stopped(stopping).await);
        Self::stop_instance(name, entry.instance.take()).await;
        tracing::info!(connector = %name, "connector deleted");
        Ok(())
    }

    /// Pauses a connector's tasks (idempotent).
    pub async fn pause_connector(&self, name: &str) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        let stopping = {
            let mut connectors = self.connectors.lock().await;
            let entry =
                connectors.get_mut(name).ok_or_else(|| ChangeError::NotFound(format!("Unknown connector {name}")))?;
            if entry.target != TargetState::Started {
                // Pausing a stopped connector is a target change only, as in Kafka Connect.
                if entry.target == TargetState::Stopped {
                    entry.target = TargetState::Paused;
                }
                return Ok(());
            }
            entry.target = TargetState::Paused;
            Self::cancel_tasks(entry, |_, _| true)
        };
        self.settle(name, stopping).await?;
        tracing::info!(connector = %name, "connector paused");
        Ok(())
    }

    /// Resumes a paused or stopped connector (idempotent).
    pub async fn resume_connector(&self, name: &str) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        let needs_instance = {
            let mut connectors = self.connectors.lock().await;
            let entry =
                connectors.get_mut(name).ok_or_else(|| ChangeError::NotFound(format!("Unknown connector {name}")))?;
            if entry.target == TargetState::Started {
                return Ok(());
            }
            entry.target = TargetState::Started;
            let needs = entry.instance.is_none();
            if !needs {
                self.start_idle(name, entry)?;
            }
            needs
        };
        if needs_instance {
            self.bring_up_named(name).await?;
        }
        tracing::info!(connector = %name, "connector resumed");
        Ok(())
    }

    /// Stops a connector (KIP-980): tasks and connector shut down, task configs dropped.
    pub async fn stop_connector(&self, name: &str) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        let (stopping, instance) = {
            let mut connectors = self.connectors.lock().await;
            let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
            entry.target = TargetState::Stopped;
            Self::take_down(entry)
        };
        Self::stop_instance(name, instance).await;
        let stuck = self.await_stopped(stopping).await;
        report_stuck(name, &stuck);
        if let Some(entry) = self.connectors.lock().await.get_mut(name) {
            entry.tasks.clear();
            entry.failure = None;
        }
        tracing::info!(connector = %name, "connector stopped");
        Ok(())
    }

    /// Restarts the instance of connector `name`, stopping and starting it without the
    /// connectors lock. Tasks keep running when the restarted connector asks for the same task
    /// configs; otherwise they are cancelled (returned, to be awaited) and their slots replaced
    /// by the new configs.
    async fn restart_instance(&self, name: &str) -> Result<Vec<super::Stopping>, ChangeError> {
        let (instance, class, config) = {
            let mut connectors = self.connectors.lock().await;
            let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
            (entry.instance.take(), entry.class, entry.config.clone())
        };
        Self::stop_instance(name, instance).await;
        let started = self.instantiate(name, class, &config).await;
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let mut old = std::mem::take(&mut entry.tasks);
        self.install_instance(entry, started);
        let same = entry.failure.is_none()
            && entry.tasks.len() == old.len()
            && entry.tasks.iter().zip(&old).all(|(a, b)| a.config == b.config);
        if same {
            entry.tasks = old;
            return Ok(Vec::new());
        }
        let mut stopping = Vec::new();
        for (i, slot) in old.iter_mut().enumerate() {
            if let Some((cancel, handle)) = slot.running.take() {
                cancel.cancel();
                stopping.push((i, cancel, handle));
            }
        }
        Ok(stopping)
    }

    /// Starts (target RUNNING) or marks PAUSED (target PAUSED) every task slot that is idle.
    fn start_idle(&self, name: &str, entry: &mut ConnectorEntry) -> Result<(), ChangeError> {
        for i in 0..entry.tasks.len() {
            if entry.tasks[i].running.is_some() {
                continue;
            }
            match entry.target {
                TargetState::Started => self.start_task(name, entry, i).map_err(|e| ChangeError::Failed(e.chain()))?,
                TargetState::Paused => set_state(&entry.tasks[i], State::Paused),
                TargetState::Stopped => {}
            }
        }
        Ok(())
    }

    /// Runs `start_idle` on `name` after `stopping` tasks have ended. A task that would not go
    /// keeps its slot (marked FAILED) so it is never run twice at once.
    async fn settle(&self, name: &str, stopping: Vec<super::Stopping>) -> Result<(), ChangeError> {
        let stuck = self.await_stopped(stopping).await;
        let mut connectors = self.connectors.lock().await;
        let Some(entry) = connectors.get_mut(name) else { return Ok(()) };
        for (i, cancel, handle) in stuck {
            if let Some(slot) = entry.tasks.get_mut(i)
                && slot.running.is_none()
            {
                slot.running = Some((cancel, handle));
                let mut s = slot.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                s.fail(format!(
                    "task {name}-{i} did not stop within task.shutdown.graceful.timeout.ms and was abandoned; restart it once it has stopped"
                ));
            }
        }
        self.start_idle(name, entry)
    }

    /// Restarts the connector instance only (its tasks keep running when their configs do not
    /// change), as a plain `POST /connectors/{name}/restart`.
    pub async fn restart_connector(&self, name: &str) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        {
            let connectors = self.connectors.lock().await;
            let entry = connectors.get(name).ok_or_else(|| unknown(name))?;
            if entry.target == TargetState::Stopped {
                return Ok(());
            }
        }
        let stopping = self.restart_instance(name).await?;
        self.settle(name, stopping).await
    }

    /// `POST /connectors/{name}/restart?includeTasks=&onlyFailed=` (KIP-745): restarts the
    /// connector (unless `only_failed` and it has not failed) and, with `include_tasks`, its
    /// tasks (only the failed ones with `only_failed`). Answers the status with what is
    /// restarted marked RESTARTING, as Kafka Connect does.
    pub async fn restart_connector_and_tasks(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<super::ConnectorStatus, ChangeError> {
        let _changes = self.changes.lock().await;
        let (plan, mut stopping, restart_connector) = {
            let mut connectors = self.connectors.lock().await;
            let entry = connectors.get_mut(name).ok_or_else(|| unknown(name))?;
            let mut plan = self.status_of(name, entry);
            if entry.target == TargetState::Stopped {
                return Ok(plan);
            }
            let restart_connector = !only_failed || entry.failure.is_some();
            let restart_tasks: Vec<bool> =
                entry.tasks.iter().map(|t| include_tasks && (!only_failed || state_of(t) == State::Failed)).collect();
            if restart_connector {
                plan.state = State::Restarting;
            }
            for (t, r) in plan.tasks.iter_mut().zip(&restart_tasks) {
                if *r {
                    t.state = State::Restarting;
                }
            }
            let stopping = Self::cancel_tasks(entry, |i, _| restart_tasks.get(i).copied().unwrap_or(false));
            (plan, stopping, restart_connector)
        };
        if restart_connector {
            stopping.extend(self.restart_instance(name).await?);
        }
        self.settle(name, stopping).await?;
        Ok(plan)
    }

    /// Asks connector `name`'s running instance for its task configs again (it requested it
    /// through its `ConnectorContext`) and, when they changed, replaces its tasks: the old ones
    /// drain and stop first, so no task runs twice, as Kafka Connect's standalone herder does.
    /// Answers whether the tasks were replaced.
    pub async fn reconfigure_tasks(&self, name: &str) -> Result<bool, ChangeError> {
        let _changes = self.changes.lock().await;
        let stopping = {
            let mut connectors = self.connectors.lock().await;
            // Deleted, paused or stopped meanwhile: nothing to do (resuming computes configs).
            let Some(entry) = connectors.get_mut(name) else { return Ok(false) };
            let Some(instance) = entry.instance.as_ref().filter(|_| entry.target == TargetState::Started) else {
                return Ok(false);
            };
            let task_class = self.registry.connector(entry.class).map(|p| p.task_class).unwrap_or_default();
            let configs = match super::units::current_task_configs(instance, task_class, &entry.resolved) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(connector = %name, "connector failed to give new task configs: {}", e.chain());
                    entry.failure = Some(e.chain());
                    return Ok(false);
                }
            };
            if configs.len() == entry.tasks.len() && configs.iter().zip(&entry.tasks).all(|(c, t)| *c == t.config) {
                tracing::debug!(connector = %name, "task reconfiguration requested; task configs unchanged");
                return Ok(false);
            }
            let stopping = Self::cancel_tasks(entry, |_, _| true);
            entry.tasks = configs
                .into_iter()
                .map(|config| super::TaskSlot {
                    config,
                    status: Arc::new(std::sync::Mutex::new(super::TaskStatus::new(State::Unassigned, &self.worker_id))),
                    running: None,
                })
                .collect();
            tracing::info!(connector = %name, tasks = entry.tasks.len(), "task configs changed; restarting the connector's tasks");
            stopping
        };
        self.settle(name, stopping).await?;
        Ok(true)
    }

    /// Serves the task reconfigurations connectors request, until `cancel`: the standalone
    /// herder's loop (a distributed herder takes [`Worker::reconfiguration_requests`] itself).
    pub async fn serve_reconfigurations(&self, cancel: CancellationToken) {
        loop {
            let names = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                names = self.reconfigurations.next() => names,
            };
            for name in names {
                if let Err(e) = self.reconfigure_tasks(&name).await {
                    tracing::warn!(connector = %name, "task reconfiguration failed: {e}");
                }
            }
        }
    }

    /// The requests connectors make for new task configs.
    pub fn reconfiguration_requests(&self) -> Arc<crate::api::ReconfigurationRequests> {
        self.reconfigurations.clone()
    }

    /// Restarts one task.
    pub async fn restart_task(&self, name: &str, task: usize) -> Result<(), ChangeError> {
        let _changes = self.changes.lock().await;
        let stopping = {
            let mut connectors = self.connectors.lock().await;
            let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
            if task >= entry.tasks.len() {
                return Err(ChangeError::NotFound(format!("Unknown task: {name}-{task}")));
            }
            Self::cancel_tasks(entry, |i, _| i == task)
        };
        self.settle(name, stopping).await
    }

    /// The status of one task.
    pub async fn task_status(&self, name: &str, task: usize) -> Result<TaskStatus, ChangeError> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        let slot = entry
            .tasks
            .get(task)
            .ok_or_else(|| ChangeError::NotFound(format!("No status found for task {name}-{task}")))?;
        Ok(slot.status.lock().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone()))
    }
}

/// Logs tasks that would not stop even when aborted (stuck in blocking code).
fn report_stuck(name: &str, stuck: &[super::Stopping]) {
    for (i, _, _) in stuck {
        tracing::error!(connector = %name, task = i, "task did not stop even after being aborted; it may still be running");
    }
}

fn state_of(t: &super::TaskSlot) -> State {
    t.status.lock().map(|s| s.state).unwrap_or_else(|p| p.into_inner().state)
}

fn set_state(t: &super::TaskSlot, state: State) {
    let mut s = t.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    s.state = state;
    s.trace = None;
}

impl From<ConnectError> for ChangeError {
    fn from(e: ConnectError) -> Self {
        ChangeError::Failed(e.chain())
    }
}
