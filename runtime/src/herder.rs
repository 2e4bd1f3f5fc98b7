//! What the REST API needs from a worker, as a trait so the API does not see worker internals:
//! Kafka Connect's `Herder`, implemented by the standalone [`Worker`] and by the distributed
//! herder ([`crate::distributed::herder::DistributedHerder`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::api::{OffsetMap, Props};
use crate::plugins::{ConnectorKind, Registry};
use crate::worker::{ChangeError, ConnectorStatus, TargetState, TaskStatus, Worker};

/// A connector's name, config and tasks (Kafka Connect's `ConnectorInfo`).
#[derive(Debug, Clone)]
pub struct ConnectorInfo {
    /// Name.
    pub name: String,
    /// Configuration as given.
    pub config: Props,
    /// Number of tasks (their ids are 0..tasks).
    pub tasks: usize,
    /// Source or sink.
    pub kind: ConnectorKind,
}

/// Where a request that changes something must be handled (distributed mode: only the leader
/// writes the config topic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRoute {
    /// This worker handles it.
    Local,
    /// Forward it to the leader at this REST URL (`http://host:port`).
    Forward(String),
    /// Answer 409 with this message (a rebalance runs, or the leader is not known yet).
    Conflict(String),
}

/// Answers questions about connectors and changes them.
#[async_trait]
pub trait Herder: Send + Sync {
    /// Where changes are handled: here (standalone, or the distributed leader), or forwarded.
    fn write_route(&self) -> WriteRoute {
        WriteRoute::Local
    }
    /// Kafka Connect's internal `POST /connectors/{name}/tasks`: a worker running the connector
    /// sends the task configs it generated to the leader, which writes them. Only distributed
    /// herders accept it.
    async fn put_task_configs(&self, name: &str, configs: Vec<Props>) -> Result<(), ChangeError> {
        let _ = configs;
        Err(ChangeError::NotFound(format!(
            "Cannot set task configurations of {name}: this worker is not part of a distributed cluster"
        )))
    }
    /// This worker's id.
    fn worker_id(&self) -> String;
    /// The metrics of the tasks running on this worker, in Prometheus's text format.
    fn metrics(&self) -> String;
    /// The plugins this worker can run.
    fn registry(&self) -> &Arc<Registry>;
    /// The worker settings validation shows or depends on: its converters (`key.converter`,
    /// `value.converter`, `header.converter`, which apply to connectors that set none), and
    /// `exactly.once.source.support=enabled` when source tasks run transactionally.
    fn converter_defaults(&self) -> Props;
    /// The Kafka cluster's id, when the cluster answers.
    async fn kafka_cluster_id(&self) -> Option<String>;
    /// Names of every connector.
    async fn connectors(&self) -> Vec<String>;
    /// A connector's name, config and tasks.
    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, ChangeError>;
    /// A connector's configuration.
    async fn connector_config(&self, name: &str) -> Result<Props, ChangeError>;
    /// A connector's status.
    async fn connector_status(&self, name: &str) -> Result<ConnectorStatus, ChangeError>;
    /// Every connector's status, read at once.
    async fn connector_statuses(&self) -> Vec<ConnectorStatus>;
    /// One task's status.
    async fn task_status(&self, name: &str, task: usize) -> Result<TaskStatus, ChangeError>;
    /// The task configurations.
    async fn task_configs(&self, name: &str) -> Result<Vec<Props>, ChangeError>;
    /// Creates a connector.
    async fn create_connector(&self, config: Props, target: TargetState) -> Result<ConnectorInfo, ChangeError>;
    /// Creates or updates a connector; `true` when created.
    async fn put_connector_config(&self, name: &str, config: Props) -> Result<(bool, ConnectorInfo), ChangeError>;
    /// Changes some keys of a connector's config (`None` removes one).
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, ChangeError>;
    /// Deletes a connector.
    async fn delete_connector(&self, name: &str) -> Result<(), ChangeError>;
    /// Pauses a connector.
    async fn pause_connector(&self, name: &str) -> Result<(), ChangeError>;
    /// Resumes a connector.
    async fn resume_connector(&self, name: &str) -> Result<(), ChangeError>;
    /// Stops a connector.
    async fn stop_connector(&self, name: &str) -> Result<(), ChangeError>;
    /// Restarts the connector instance.
    async fn restart_connector(&self, name: &str) -> Result<(), ChangeError>;
    /// Restarts the connector and/or tasks (KIP-745).
    async fn restart_connector_and_tasks(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, ChangeError>;
    /// Restarts one task.
    async fn restart_task(&self, name: &str, task: usize) -> Result<(), ChangeError>;
    /// Topics the connector used (KIP-558).
    async fn active_topics(&self, name: &str) -> Result<Vec<String>, ChangeError>;
    /// Forgets the connector's used topics.
    async fn reset_active_topics(&self, name: &str) -> Result<(), ChangeError>;
    /// The connector's offsets (KIP-875).
    async fn connector_offsets(&self, name: &str) -> Result<Vec<(OffsetMap, OffsetMap)>, ChangeError>;
    /// Alters offsets of a stopped connector; answers Kafka Connect's message.
    async fn alter_connector_offsets(
        &self,
        name: &str,
        changes: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> Result<&'static str, ChangeError>;
    /// Resets the offsets of a stopped connector; answers Kafka Connect's message.
    async fn reset_connector_offsets(&self, name: &str) -> Result<&'static str, ChangeError>;
}

fn not_found(name: &str) -> ChangeError {
    ChangeError::NotFound(format!("Connector {name} not found"))
}

impl Worker {
    async fn info(&self, name: &str) -> Result<ConnectorInfo, ChangeError> {
        let status = self.status(name).await.ok_or_else(|| not_found(name))?;
        let config = Worker::connector_config(self, name).await.ok_or_else(|| not_found(name))?;
        Ok(ConnectorInfo { name: name.to_owned(), config, tasks: status.tasks.len(), kind: status.kind })
    }
}

#[async_trait]
impl Herder for Worker {
    fn metrics(&self) -> String {
        Worker::metrics(self).render()
    }
    fn worker_id(&self) -> String {
        Worker::worker_id(self).to_owned()
    }
    fn registry(&self) -> &Arc<Registry> {
        Worker::registry(self)
    }
    fn converter_defaults(&self) -> Props {
        let props = &self.config().props;
        crate::worker::CONVERTER_KEYS
            .iter()
            .map(|k| {
                let default = match *k {
                    "header.converter" => "org.apache.kafka.connect.storage.SimpleHeaderConverter",
                    _ => crate::worker::config::DEFAULT_CONVERTER,
                };
                ((*k).to_owned(), props.get(*k).cloned().unwrap_or_else(|| default.to_owned()))
            })
            .chain(
                crate::worker::exactly_once::ExactlyOnceSupport::enabled(self.config())
                    .then(|| (crate::worker::exactly_once::WORKER_KEY.to_owned(), "enabled".to_owned())),
            )
            .collect()
    }
    async fn kafka_cluster_id(&self) -> Option<String> {
        Worker::kafka_cluster_id(self).await
    }
    async fn connectors(&self) -> Vec<String> {
        Worker::connector_names(self).await
    }
    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, ChangeError> {
        self.info(name).await
    }
    async fn connector_config(&self, name: &str) -> Result<Props, ChangeError> {
        Worker::connector_config(self, name).await.ok_or_else(|| not_found(name))
    }
    async fn connector_status(&self, name: &str) -> Result<ConnectorStatus, ChangeError> {
        self.status(name).await.ok_or_else(|| ChangeError::NotFound(format!("No status found for connector {name}")))
    }
    async fn task_status(&self, name: &str, task: usize) -> Result<TaskStatus, ChangeError> {
        Worker::task_status(self, name, task).await
    }
    async fn connector_statuses(&self) -> Vec<ConnectorStatus> {
        self.statuses().await
    }
    async fn task_configs(&self, name: &str) -> Result<Vec<Props>, ChangeError> {
        Worker::task_configs(self, name).await.ok_or_else(|| not_found(name))
    }
    async fn create_connector(&self, config: Props, target: TargetState) -> Result<ConnectorInfo, ChangeError> {
        let name = config.get("name").cloned().unwrap_or_default();
        Worker::create_connector(self, config, target).await?;
        self.info(&name).await
    }
    async fn put_connector_config(&self, name: &str, config: Props) -> Result<(bool, ConnectorInfo), ChangeError> {
        let created = Worker::put_connector_config(self, name, config).await?;
        Ok((created, self.info(name).await?))
    }
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, ChangeError> {
        Worker::patch_connector_config(self, name, patch).await?;
        self.info(name).await
    }
    async fn delete_connector(&self, name: &str) -> Result<(), ChangeError> {
        Worker::delete_connector(self, name).await
    }
    async fn pause_connector(&self, name: &str) -> Result<(), ChangeError> {
        Worker::pause_connector(self, name).await
    }
    async fn resume_connector(&self, name: &str) -> Result<(), ChangeError> {
        Worker::resume_connector(self, name).await
    }
    async fn stop_connector(&self, name: &str) -> Result<(), ChangeError> {
        Worker::stop_connector(self, name).await
    }
    async fn restart_connector(&self, name: &str) -> Result<(), ChangeError> {
        Worker::restart_connector(self, name).await
    }
    async fn restart_connector_and_tasks(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<ConnectorStatus, ChangeError> {
        Worker::restart_connector_and_tasks(self, name, include_tasks, only_failed).await
    }
    async fn restart_task(&self, name: &str, task: usize) -> Result<(), ChangeError> {
        Worker::restart_task(self, name, task).await
    }
    async fn active_topics(&self, name: &str) -> Result<Vec<String>, ChangeError> {
        Worker::active_topics(self, name).await.ok_or_else(|| not_found(name))
    }
    async fn reset_active_topics(&self, name: &str) -> Result<(), ChangeError> {
        if Worker::reset_active_topics(self, name).await { Ok(()) } else { Err(not_found(name)) }
    }
    async fn connector_offsets(&self, name: &str) -> Result<Vec<(OffsetMap, OffsetMap)>, ChangeError> {
        Worker::connector_offsets(self, name).await
    }
    async fn alter_connector_offsets(
        &self,
        name: &str,
        changes: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> Result<&'static str, ChangeError> {
        Worker::alter_connector_offsets(self, name, changes).await
    }
    async fn reset_connector_offsets(&self, name: &str) -> Result<&'static str, ChangeError> {
        Worker::reset_connector_offsets(self, name).await
    }
}
