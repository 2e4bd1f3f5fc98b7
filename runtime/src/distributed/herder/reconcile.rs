//! Keeps this worker's units in line with its assignment and the config topic: starts what is
//! assigned, stops what is revoked or deleted, restarts what changed or was asked to restart,
//! sends the task configs of the connectors it runs to the leader, and reports statuses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Inner;
use crate::api::Props;
use crate::distributed::group::{ConnectorTaskId, Generation};
use crate::distributed::stores::{ClusterConfigState, State as StoredState, Status, TargetState, TopicStatus};
use crate::worker::{State, TargetState as WorkerTarget, TaskId};

/// The units of this worker and what was last reported about them.
pub(super) struct Units {
    inner: Arc<Inner>,
    /// The config the units reflect.
    applied: ClusterConfigState,
    connectors: BTreeSet<String>,
    tasks: BTreeSet<ConnectorTaskId>,
    /// Task configs generated here and not yet written by the leader.
    pending: BTreeMap<String, Vec<Props>>,
    /// (connector, task or -1) → state and trace last written to the status topic.
    reported: BTreeMap<(String, i64), (State, Option<String>)>,
    topics_reported: BTreeSet<(String, String)>,
    /// Offset of the last restart request handled, per connector; `None` before the first
    /// config is applied (requests older than this worker are not replayed).
    restarts_seen: Option<BTreeMap<String, i64>>,
    failed_publishes: u32,
}

fn to_worker_target(t: TargetState) -> WorkerTarget {
    match t {
        TargetState::Started => WorkerTarget::Started,
        TargetState::Paused => WorkerTarget::Paused,
        TargetState::Stopped => WorkerTarget::Stopped,
    }
}

fn to_stored(s: State) -> StoredState {
    match s {
        State::Unassigned => StoredState::Unassigned,
        State::Running => StoredState::Running,
        State::Paused => StoredState::Paused,
        State::Stopped => StoredState::Stopped,
        State::Failed => StoredState::Failed,
        State::Restarting => StoredState::Restarting,
    }
}

/// The task configs of `connector` that should run: none while it is STOPPED.
pub(super) fn live_tasks(state: &ClusterConfigState, connector: &str) -> Vec<Props> {
    match state.target_state(connector) {
        Some(TargetState::Stopped) | None => Vec::new(),
        Some(_) => state.tasks(connector),
    }
}

/// Restart requests newer than `seen`: connector → (only failed, include tasks).
fn new_restarts(seen: &mut BTreeMap<String, i64>, state: &ClusterConfigState) -> BTreeMap<String, (bool, bool)> {
    let mut out = BTreeMap::new();
    for (name, r) in &state.restart_requests {
        if seen.get(name).is_none_or(|o| *o < r.offset) {
            seen.insert(name.clone(), r.offset);
            out.insert(name.clone(), (r.only_failed, r.include_tasks));
        }
    }
    out
}

impl Units {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self {
            inner,
            applied: ClusterConfigState::default(),
            connectors: BTreeSet::new(),
            tasks: BTreeSet::new(),
            pending: BTreeMap::new(),
            reported: BTreeMap::new(),
            topics_reported: BTreeSet::new(),
            restarts_seen: None,
            failed_publishes: 0,
        }
    }

    /// The config the units reflect.
    pub(super) fn applied(&self) -> &ClusterConfigState {
        &self.applied
    }

    /// Takes a new assignment (already augmented: everything this worker should run).
    pub(super) async fn apply(&mut self, generation: &Generation, snapshot: ClusterConfigState) {
        self.connectors = generation.assignment.connectors.iter().cloned().collect();
        self.tasks = generation.assignment.tasks.iter().cloned().collect();
        self.follow(snapshot).await;
    }

    /// Brings the units in line with the assignment and `snapshot`.
    pub(super) async fn follow(&mut self, snapshot: ClusterConfigState) {
        let restarts = match &mut self.restarts_seen {
            Some(seen) => new_restarts(seen, &snapshot),
            None => {
                let mut seen = BTreeMap::new();
                new_restarts(&mut seen, &snapshot);
                self.restarts_seen = Some(seen);
                BTreeMap::new()
            }
        };
        let old = std::mem::replace(&mut self.applied, snapshot);
        self.follow_connectors(&old, &restarts).await;
        self.follow_tasks(&old, &restarts).await;
        self.tick().await;
    }

    async fn follow_connectors(&mut self, old: &ClusterConfigState, restarts: &BTreeMap<String, (bool, bool)>) {
        let worker = self.inner.worker.clone();
        let running = worker.connector_units().await;
        for name in running.keys() {
            let deleted = !self.applied.connector_configs.contains_key(name);
            if deleted || !self.connectors.contains(name) {
                worker.stop_connector_unit(name).await;
                self.gone(name, -1, deleted).await;
            }
        }
        for name in self.connectors.clone() {
            let Some(config) = self.applied.connector_configs.get(&name).cloned() else { continue };
            let target = self.applied.target_state(&name).unwrap_or(TargetState::Started);
            let restart = restarts.get(&name).is_some_and(|(only_failed, _)| {
                !only_failed || running.get(&name).is_some_and(|s| s.state == State::Failed)
            });
            let changed = !running.contains_key(&name)
                || old.connector_configs.get(&name) != Some(&config)
                || old.target_state(&name) != Some(target)
                || restart;
            if !changed {
                continue;
            }
            if let Some(configs) = worker.start_connector_unit(&name, &config, to_worker_target(target)).await {
                self.maybe_publish(&name, configs).await;
            }
        }
    }

    async fn follow_tasks(&mut self, old: &ClusterConfigState, restarts: &BTreeMap<String, (bool, bool)>) {
        let worker = self.inner.worker.clone();
        let running = worker.task_units().await;
        for (c, t) in running.keys() {
            let id = ConnectorTaskId::new(c.clone(), i32::try_from(*t).unwrap_or(i32::MAX));
            let deleted = !self.applied.connector_configs.contains_key(c);
            if deleted || !self.tasks.contains(&id) || *t >= live_tasks(&self.applied, c).len() {
                worker.stop_task_unit(&TaskId { connector: c.clone(), task: *t }).await;
                self.gone(c, *t as i64, deleted).await;
            }
        }
        for id in self.tasks.clone() {
            let Some(config) = self.applied.connector_configs.get(&id.connector).cloned() else { continue };
            let Ok(index) = usize::try_from(id.task) else { continue };
            let Some(task_config) = live_tasks(&self.applied, &id.connector).get(index).cloned() else { continue };
            let target = self.applied.target_state(&id.connector).unwrap_or(TargetState::Started);
            let key = (id.connector.clone(), index);
            let restart = restarts.get(&id.connector).is_some_and(|(only_failed, include_tasks)| {
                *include_tasks && (!only_failed || running.get(&key).is_some_and(|(s, _)| s.state == State::Failed))
            });
            let changed = !running.contains_key(&key)
                || old.connector_configs.get(&id.connector) != Some(&config)
                || live_tasks(old, &id.connector).get(index) != Some(&task_config)
                || old.target_state(&id.connector) != Some(target)
                || restart;
            if !changed {
                continue;
            }
            if target == TargetState::Started
                && super::fencing::awaits_fencing(&self.inner, &self.applied, &id.connector)
            {
                tracing::info!(connector = %id.connector, task = index, "waiting for the leader's zombie fencing before starting");
                if running.contains_key(&key) {
                    worker.stop_task_unit(&TaskId { connector: id.connector.clone(), task: index }).await;
                }
                continue;
            }
            let task = TaskId { connector: id.connector.clone(), task: index };
            if running.contains_key(&key) {
                worker.stop_task_unit(&task).await;
            }
            worker.start_task_unit(&task, &config, &task_config, to_worker_target(target)).await;
        }
    }

    /// A unit stopped here: UNASSIGNED is reported, unless its connector was deleted (the
    /// leader removed its statuses).
    async fn gone(&mut self, connector: &str, task: i64, deleted: bool) {
        self.reported.remove(&(connector.to_owned(), task));
        if deleted {
            self.topics_reported.retain(|(c, _)| c != connector);
            return;
        }
        let status = self.status(State::Unassigned, None);
        let written = if task < 0 {
            self.inner.statuses.put_connector(connector, &status).await.map(|()| true)
        } else {
            self.inner.statuses.put_task_safe(connector, task as u32, &status).await
        };
        if let Err(e) = written {
            tracing::warn!(connector, task, "cannot report a stopped unit: {e}");
        }
    }

    fn status(&self, state: State, trace: Option<String>) -> Status {
        let generation = self.inner.view().generation;
        Status { state: to_stored(state), trace, worker_id: self.inner.cfg.worker_id.clone(), generation }
    }

    /// Connectors running here asked for new task configs: those that changed are published,
    /// and the tasks follow once the config topic has them.
    pub(super) async fn reconfigure(&mut self, names: Vec<String>) {
        for name in names {
            if !self.connectors.contains(&name) {
                continue;
            }
            let Some(config) = self.applied.connector_configs.get(&name).cloned() else { continue };
            if let Some(configs) = self.inner.worker.connector_unit_task_configs(&name, &config).await {
                self.maybe_publish(&name, configs).await;
            }
        }
    }

    /// Queues the task configs a connector generated when they differ from the committed ones.
    async fn maybe_publish(&mut self, name: &str, configs: Vec<Props>) {
        let committed = self.applied.task_counts.contains_key(name) && !self.applied.inconsistent.contains(name);
        if committed && self.applied.tasks(name) == configs {
            self.pending.remove(name);
            return;
        }
        self.pending.insert(name.to_owned(), configs);
        self.publish().await;
    }

    /// Writes (leader) or sends to the leader (follower) the queued task configs.
    async fn publish(&mut self) {
        let (is_leader, leader_url) = {
            let v = self.inner.view();
            (v.is_leader, v.leader_url.clone())
        };
        for (name, configs) in std::mem::take(&mut self.pending) {
            if !self.connectors.contains(&name) || !self.applied.connector_configs.contains_key(&name) {
                continue;
            }
            let sent = if is_leader {
                self.inner.configs.put_task_configs(&name, &configs).await.map_err(|e| e.to_string())
            } else if let Some(url) = &leader_url {
                super::api::send_task_configs(&self.inner, url, &name, &configs).await
            } else {
                Err("the leader is not known yet".to_owned())
            };
            match sent {
                Ok(()) => {
                    self.failed_publishes = 0;
                    tracing::info!(connector = %name, tasks = configs.len(), leader = is_leader, "task configs published");
                }
                Err(e) => {
                    self.failed_publishes += 1;
                    if self.failed_publishes % 20 == 1 {
                        tracing::warn!(connector = %name, "cannot publish task configs (retrying): {e}");
                    }
                    self.pending.insert(name, configs);
                }
            }
        }
    }

    /// Retries publications and reports statuses that changed.
    pub(super) async fn tick(&mut self) {
        if !self.pending.is_empty() {
            self.publish().await;
        }
        let worker = self.inner.worker.clone();
        for (name, s) in worker.connector_units().await {
            let key = (name.clone(), -1);
            let now = (s.state, s.trace.clone());
            if self.reported.get(&key) == Some(&now) {
                continue;
            }
            match self.inner.statuses.put_connector(&name, &self.status(s.state, s.trace)).await {
                Ok(()) => {
                    self.reported.insert(key, now);
                }
                Err(e) => tracing::warn!(connector = %name, "cannot report the connector's status: {e}"),
            }
        }
        for ((c, t), (s, topics)) in worker.task_units().await {
            self.report_topics(&c, t, topics).await;
            let key = (c.clone(), t as i64);
            let now = (s.state, s.trace.clone());
            if self.reported.get(&key) == Some(&now) {
                continue;
            }
            match self.inner.statuses.put_task_safe(&c, t as u32, &self.status(s.state, s.trace)).await {
                Ok(_) => {
                    self.reported.insert(key, now);
                }
                Err(e) => tracing::warn!(connector = %c, task = t, "cannot report the task's status: {e}"),
            }
        }
    }

    /// Records the topics a task used that were not reported yet (KIP-558).
    async fn report_topics(&mut self, connector: &str, task: usize, topics: Vec<String>) {
        for topic in topics {
            let key = (connector.to_owned(), topic.clone());
            if self.topics_reported.contains(&key) {
                continue;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let status = TopicStatus {
                topic,
                connector: connector.to_owned(),
                task: i32::try_from(task).unwrap_or(i32::MAX),
                discover_timestamp: now,
            };
            match self.inner.statuses.put_topic(&status).await {
                Ok(()) => {
                    self.topics_reported.insert(key);
                }
                Err(e) => tracing::warn!(connector, "cannot report an active topic: {e}"),
            }
        }
    }

    /// Stops every unit, reporting each UNASSIGNED.
    pub(super) async fn stop_all(&mut self) {
        self.connectors.clear();
        self.tasks.clear();
        let snapshot = self.applied.clone();
        let restarts = BTreeMap::new();
        let old = snapshot.clone();
        self.follow_tasks(&old, &restarts).await;
        self.follow_connectors(&old, &restarts).await;
    }
}
