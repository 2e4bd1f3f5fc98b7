//! What the REST API needs from a worker, as a trait so the API does not see worker internals.

use async_trait::async_trait;

use crate::api::Props;
use crate::worker::{ConnectorStatus, Worker};

/// Answers questions about connectors and changes them.
#[async_trait]
pub trait Herder: Send + Sync {
    /// Names of every connector.
    async fn connectors(&self) -> Vec<String>;
    /// A connector's configuration.
    async fn connector_config(&self, name: &str) -> Option<Props>;
    /// A connector's status.
    async fn connector_status(&self, name: &str) -> Option<ConnectorStatus>;
    /// This worker's id.
    fn worker_id(&self) -> String;
}

#[async_trait]
impl Herder for Worker {
    async fn connectors(&self) -> Vec<String> {
        self.statuses().await.into_iter().map(|s| s.name).collect()
    }
    async fn connector_config(&self, name: &str) -> Option<Props> {
        Worker::connector_config(self, name).await
    }
    async fn connector_status(&self, name: &str) -> Option<ConnectorStatus> {
        self.status(name).await
    }
    fn worker_id(&self) -> String {
        Worker::worker_id(self).to_owned()
    }
}
