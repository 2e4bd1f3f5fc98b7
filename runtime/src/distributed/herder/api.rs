//! The REST API's view of a distributed worker: reads from the stores this worker reads,
//! changes made by the leader (written to the config topic and read back), requests between
//! workers over HTTP.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::reconcile::live_tasks;
use super::{CONFLICTING_OPERATION, DistributedHerder, Inner, NO_LEADER, STALE_CONFIG};
use crate::api::{OffsetMap, Props};
use crate::distributed::stores::{ClusterConfigState, State as StoredState, Status, TargetState as StoredTarget};
use crate::herder::{ConnectorInfo, Herder, WriteRoute};
use crate::plugins::{ConnectorKind, Registry};
use crate::worker::{ChangeError, ConnectorStatus, State, TargetState, TaskId, TaskStatus, Worker};

/// Marks a request one worker sends another: the receiver handles it itself (Kafka Connect's
/// `forward=false`).
pub(super) const NO_FORWARD: &str = "forward=false";

fn not_found(name: &str) -> ChangeError {
    ChangeError::NotFound(format!("Connector {name} not found"))
}

fn failed(e: impl std::fmt::Display) -> ChangeError {
    ChangeError::Failed(e.to_string())
}

fn to_state(s: StoredState) -> State {
    match s {
        StoredState::Unassigned | StoredState::Destroyed => State::Unassigned,
        StoredState::Running => State::Running,
        StoredState::Paused => State::Paused,
        StoredState::Failed => State::Failed,
        StoredState::Restarting => State::Restarting,
        StoredState::Stopped => State::Stopped,
    }
}

fn task_status(s: Option<Status>) -> TaskStatus {
    match s {
        Some(s) => TaskStatus { state: to_state(s.state), worker_id: s.worker_id, trace: s.trace },
        None => TaskStatus { state: State::Unassigned, worker_id: String::new(), trace: None },
    }
}

fn stored_target(t: TargetState) -> StoredTarget {
    match t {
        TargetState::Started => StoredTarget::Started,
        TargetState::Paused => StoredTarget::Paused,
        TargetState::Stopped => StoredTarget::Stopped,
    }
}

/// Sends task configs to the leader (Kafka Connect's internal `POST /connectors/{name}/tasks`).
pub(super) async fn send_task_configs(
    inner: &Inner,
    leader: &str,
    name: &str,
    configs: &[Props],
) -> Result<(), String> {
    let url = format!("{}/connectors/{}/tasks?{NO_FORWARD}", leader.trim_end_matches('/'), encode(name));
    let response = inner.http.post(&url).json(configs).send().await.map_err(|e| format!("{url}: {e}"))?;
    if response.status().is_success() {
        return Ok(());
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(format!("{url} answered {status}: {body}"))
}

/// Percent-encodes a path segment.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl DistributedHerder {
    fn snapshot(&self) -> ClusterConfigState {
        self.inner.configs.snapshot()
    }

    /// Changes are made by the leader only, and not while a rebalance is expected.
    fn leader_only(&self) -> Result<(), ChangeError> {
        let v = self.inner.view();
        if v.rebalancing {
            Err(ChangeError::Conflict(STALE_CONFIG.to_owned()))
        } else if !v.is_leader {
            Err(ChangeError::Conflict(CONFLICTING_OPERATION.to_owned()))
        } else {
            Ok(())
        }
    }

    fn kind_of(&self, config: &Props) -> (String, ConnectorKind) {
        let class = config.get("connector.class").map(String::as_str).unwrap_or_default();
        match self.inner.worker.registry().connector(class) {
            Ok(p) => (p.class.to_owned(), p.kind),
            Err(_) => (class.to_owned(), ConnectorKind::Source),
        }
    }

    fn info_of(&self, state: &ClusterConfigState, name: &str) -> Result<ConnectorInfo, ChangeError> {
        let config = state.connector_configs.get(name).ok_or_else(|| not_found(name))?.clone();
        let (_, kind) = self.kind_of(&config);
        Ok(ConnectorInfo { name: name.to_owned(), tasks: live_tasks(state, name).len(), config, kind })
    }

    fn status_of(&self, state: &ClusterConfigState, name: &str) -> Option<ConnectorStatus> {
        let config = state.connector_configs.get(name)?;
        let connector = self.inner.statuses.connector(name)?;
        let (class, kind) = self.kind_of(config);
        let tasks = (0..live_tasks(state, name).len())
            .map(|t| task_status(self.inner.statuses.task(name, u32::try_from(t).unwrap_or(u32::MAX))))
            .collect();
        Some(ConnectorStatus {
            name: name.to_owned(),
            class,
            kind,
            state: to_state(connector.state),
            trace: connector.trace,
            worker_id: connector.worker_id,
            tasks,
        })
    }

    /// Writes a connector config (checked first) and reads it back; `true` when created.
    async fn write_config(&self, name: &str, config: Props, target: Option<TargetState>) -> Result<bool, ChangeError> {
        self.leader_only()?;
        let (checked, _) = self.inner.worker.check_connector(&config)?;
        if checked != name {
            return Err(ChangeError::BadRequest(format!(
                "Connector name configuration ({checked}) doesn't match connector name in the URL ({name})"
            )));
        }
        let created = !self.snapshot().connector_configs.contains_key(name);
        let target = target.filter(|t| *t != TargetState::Started).map(stored_target);
        self.inner.configs.put_connector_config(name, &config, target).await.map_err(failed)?;
        tracing::info!(connector = %name, created, "connector config written");
        Ok(created)
    }

    async fn put_target(&self, name: &str, target: StoredTarget) -> Result<(), ChangeError> {
        self.leader_only()?;
        if !self.snapshot().connector_configs.contains_key(name) {
            return Err(ChangeError::NotFound(format!("Unknown connector {name}")));
        }
        self.inner.configs.put_target_state(name, target).await.map_err(failed)?;
        if target == StoredTarget::Stopped {
            self.inner.configs.put_task_configs(name, &[]).await.map_err(failed)?;
        }
        self.inner.configs.read_to_end().await.map_err(failed)
    }

    async fn request_restart(&self, name: &str, only_failed: bool, include_tasks: bool) -> Result<(), ChangeError> {
        self.leader_only()?;
        if !self.snapshot().connector_configs.contains_key(name) {
            return Err(ChangeError::NotFound(format!("Unknown connector: {name}")));
        }
        self.inner.configs.put_restart_request(name, only_failed, include_tasks).await.map_err(failed)
    }

    /// The stopped connector's kind and config, for offset changes.
    fn stopped(&self, name: &str) -> Result<(ConnectorKind, Props), ChangeError> {
        let state = self.snapshot();
        let config = state.connector_configs.get(name).ok_or_else(|| not_found(name))?.clone();
        if state.target_state(name) != Some(StoredTarget::Stopped) || !state.tasks(name).is_empty() {
            return Err(Worker::stop_first(name));
        }
        Ok((self.kind_of(&config).1, config))
    }

    /// Restarts a task running here, or asks the worker running it.
    async fn restart_task_at_owner(&self, name: &str, task: usize) -> Result<(), ChangeError> {
        let state = self.snapshot();
        let config = state.connector_configs.get(name).ok_or_else(|| not_found(name))?.clone();
        let tasks = live_tasks(&state, name);
        let task_config =
            tasks.get(task).ok_or_else(|| ChangeError::NotFound(format!("Unknown task: {name}-{task}")))?;
        let worker = &self.inner.worker;
        if worker.task_units().await.contains_key(&(name.to_owned(), task)) {
            let id = TaskId { connector: name.to_owned(), task };
            worker.stop_task_unit(&id).await;
            let target = state.target_state(name).unwrap_or(StoredTarget::Started);
            let target = if target == StoredTarget::Paused { TargetState::Paused } else { TargetState::Started };
            worker.start_task_unit(&id, &config, task_config, target).await;
            return Ok(());
        }
        let owner = self.inner.statuses.task(name, u32::try_from(task).unwrap_or(u32::MAX)).map(|s| s.worker_id);
        let (Some(owner), true) = (owner, self.inner.view().is_leader) else {
            return Err(ChangeError::Conflict("Cannot restart task since it is not assigned to this member".into()));
        };
        let url = format!("http://{owner}/connectors/{}/tasks/{task}/restart?{NO_FORWARD}", encode(name));
        let response = self.inner.http.post(&url).send().await.map_err(|e| failed(format!("{url}: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ChangeError::Conflict(format!("{url} answered {}", response.status())))
        }
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    fn write_route(&self) -> WriteRoute {
        let v = self.inner.view();
        if v.rebalancing {
            WriteRoute::Conflict(STALE_CONFIG.to_owned())
        } else if v.is_leader {
            WriteRoute::Local
        } else if let Some(url) = &v.leader_url {
            WriteRoute::Forward(url.clone())
        } else {
            WriteRoute::Conflict(NO_LEADER.to_owned())
        }
    }
    async fn put_task_configs(&self, name: &str, configs: Vec<Props>) -> Result<(), ChangeError> {
        let v = self.inner.view().clone();
        if !v.is_leader {
            return Err(ChangeError::Conflict("Only the leader may write task configurations.".into()));
        }
        if !self.snapshot().connector_configs.contains_key(name) {
            return Err(not_found(name));
        }
        self.inner.configs.put_task_configs(name, &configs).await.map_err(failed)
    }
    fn worker_id(&self) -> String {
        self.inner.cfg.worker_id.clone()
    }
    fn metrics(&self) -> String {
        self.inner.worker.metrics().render()
    }
    fn registry(&self) -> &std::sync::Arc<Registry> {
        self.inner.worker.registry()
    }
    fn converter_defaults(&self) -> Props {
        <Worker as Herder>::converter_defaults(&self.inner.worker)
    }
    async fn kafka_cluster_id(&self) -> Option<String> {
        self.inner.worker.kafka_cluster_id().await
    }
    async fn connectors(&self) -> Vec<String> {
        self.snapshot().connector_configs.keys().cloned().collect()
    }
    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, ChangeError> {
        self.info_of(&self.snapshot(), name)
    }
    async fn connector_config(&self, name: &str) -> Result<Props, ChangeError> {
        self.snapshot().connector_configs.get(name).cloned().ok_or_else(|| not_found(name))
    }
    async fn connector_status(&self, name: &str) -> Result<ConnectorStatus, ChangeError> {
        self.status_of(&self.snapshot(), name)
            .ok_or_else(|| ChangeError::NotFound(format!("No status found for connector {name}")))
    }
    async fn connector_statuses(&self) -> Vec<ConnectorStatus> {
        let state = self.snapshot();
        state.connector_configs.keys().filter_map(|n| self.status_of(&state, n)).collect()
    }
    async fn task_status(&self, name: &str, task: usize) -> Result<TaskStatus, ChangeError> {
        let state = self.snapshot();
        if !state.connector_configs.contains_key(name) {
            return Err(not_found(name));
        }
        let status = (task < live_tasks(&state, name).len())
            .then(|| self.inner.statuses.task(name, u32::try_from(task).unwrap_or(u32::MAX)))
            .flatten();
        status
            .map(|s| task_status(Some(s)))
            .ok_or_else(|| ChangeError::NotFound(format!("No status found for task {name}-{task}")))
    }
    async fn task_configs(&self, name: &str) -> Result<Vec<Props>, ChangeError> {
        let state = self.snapshot();
        if !state.connector_configs.contains_key(name) {
            return Err(not_found(name));
        }
        Ok(live_tasks(&state, name))
    }
    async fn create_connector(&self, config: Props, target: TargetState) -> Result<ConnectorInfo, ChangeError> {
        let name = config.get("name").cloned().unwrap_or_default();
        self.leader_only()?;
        if self.snapshot().connector_configs.contains_key(&name) {
            return Err(ChangeError::Conflict(format!("Connector {name} already exists")));
        }
        self.write_config(&name, config, Some(target)).await?;
        self.info_of(&self.snapshot(), &name)
    }
    async fn put_connector_config(&self, name: &str, config: Props) -> Result<(bool, ConnectorInfo), ChangeError> {
        let created = self.write_config(name, config, None).await?;
        Ok((created, self.info_of(&self.snapshot(), name)?))
    }
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, ChangeError> {
        let mut config = self.connector_config(name).await?;
        for (k, v) in patch {
            match v {
                Some(v) => config.insert(k, v),
                None => config.remove(&k),
            };
        }
        self.write_config(name, config, None).await?;
        self.info_of(&self.snapshot(), name)
    }
    async fn delete_connector(&self, name: &str) -> Result<(), ChangeError> {
        self.leader_only()?;
        let state = self.snapshot();
        if !state.connector_configs.contains_key(name) {
            return Err(not_found(name));
        }
        self.inner.configs.remove_connector_config(name).await.map_err(failed)?;
        // Statuses go with the connector (tombstones), as Kafka Connect's onDeletion.
        let gone = Status {
            state: StoredState::Destroyed,
            trace: None,
            worker_id: self.inner.cfg.worker_id.clone(),
            generation: self.inner.view().generation,
        };
        let count = state.task_counts.get(name).copied().unwrap_or(0);
        for t in 0..count {
            self.inner.statuses.put_task(name, t, &gone).await.map_err(failed)?;
        }
        self.inner.statuses.put_connector(name, &gone).await.map_err(failed)?;
        tracing::info!(connector = %name, "connector deleted");
        Ok(())
    }
    async fn pause_connector(&self, name: &str) -> Result<(), ChangeError> {
        self.put_target(name, StoredTarget::Paused).await
    }
    async fn resume_connector(&self, name: &str) -> Result<(), ChangeError> {
        self.put_target(name, StoredTarget::Started).await
    }
    async fn stop_connector(&self, name: &str) -> Result<(), ChangeError> {
        self.put_target(name, StoredTarget::Stopped).await
    }
    async fn restart_connector(&self, name: &str) -> Result<(), ChangeError> {
        self.request_restart(name, false, false).await
    }
    async fn restart_connector_and_tasks(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, ChangeError> {
        self.request_restart(name, only_failed, include_tasks).await?;
        let mut plan = self.connector_status(name).await?;
        if !only_failed || plan.state == State::Failed {
            plan.state = State::Restarting;
        }
        for t in plan.tasks.iter_mut().filter(|t| include_tasks && (!only_failed || t.state == State::Failed)) {
            t.state = State::Restarting;
        }
        Ok(plan)
    }
    async fn restart_task(&self, name: &str, task: usize) -> Result<(), ChangeError> {
        self.restart_task_at_owner(name, task).await
    }
    async fn active_topics(&self, name: &str) -> Result<Vec<String>, ChangeError> {
        if !self.snapshot().connector_configs.contains_key(name) {
            return Err(not_found(name));
        }
        let mut topics: Vec<String> = self.inner.statuses.topics(name).into_iter().map(|t| t.topic).collect();
        topics.sort();
        Ok(topics)
    }
    async fn reset_active_topics(&self, name: &str) -> Result<(), ChangeError> {
        for topic in self.active_topics(name).await? {
            self.inner.statuses.delete_topic(name, &topic).await.map_err(failed)?;
        }
        self.inner.worker.reset_unit_topics(name).await;
        Ok(())
    }
    async fn connector_offsets(&self, name: &str) -> Result<Vec<(OffsetMap, OffsetMap)>, ChangeError> {
        let config = self.connector_config(name).await?;
        let kind = self.kind_of(&config).1;
        self.inner.worker.offsets_of(name, kind, &config).await
    }
    async fn alter_connector_offsets(
        &self,
        name: &str,
        changes: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> Result<&'static str, ChangeError> {
        self.leader_only()?;
        let (kind, config) = self.stopped(name)?;
        self.inner.worker.change_offsets_of(name, kind, &config, Some(changes)).await
    }
    async fn reset_connector_offsets(&self, name: &str) -> Result<&'static str, ChangeError> {
        self.leader_only()?;
        let (kind, config) = self.stopped(name)?;
        self.inner.worker.change_offsets_of(name, kind, &config, None).await
    }
}
