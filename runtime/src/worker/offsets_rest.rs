//! Connector offsets over the REST API (KIP-875): reading them, and altering or resetting
//! those of STOPPED connectors, with Kafka Connect's messages.

use serde_json::Value as Json;

use super::lifecycle::{ChangeError, not_found};
use super::status::TargetState;
use super::{Worker, sink_offsets};
use crate::api::{OffsetMap, Props};
use crate::plugins::ConnectorKind;

pub(super) const STOP_FIRST: &str = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{}/stop' endpoint";

/// Kafka Connect's answer to a successful offsets change.
pub(super) const OFFSETS_ALTERED_BY_CONNECTOR: &str = "The offsets for this connector have been altered successfully";
pub(super) const OFFSETS_RESET_BY_CONNECTOR: &str = "The offsets for this connector have been reset successfully";
pub(super) const OFFSETS_ALTERED: &str = "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.";
/// Kafka Connect's answer to a successful offsets reset.
pub(super) const OFFSETS_RESET: &str = "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.";

/// Reads `{"offsets": [{"partition": {...}, "offset": {...} | null}]}` (KIP-875's body).
pub fn parse_offsets_body(body: &Json) -> Result<Vec<(OffsetMap, Option<OffsetMap>)>, ChangeError> {
    let bad = |m: &str| ChangeError::BadRequest(m.to_owned());
    let list = body
        .get("offsets")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("Partitions / offsets need to be provided for an alter offsets request"))?;
    if list.is_empty() {
        return Err(bad("Partitions / offsets need to be provided for an alter offsets request"));
    }
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        let p =
            e.get("partition").and_then(Json::as_object).ok_or_else(|| bad("Partitions cannot be null or empty"))?;
        let o = match e.get("offset") {
            None | Some(Json::Null) => None,
            Some(Json::Object(o)) => Some(o.clone()),
            Some(_) => return Err(bad("Offsets must be JSON objects or null")),
        };
        out.push((p.clone(), o));
    }
    Ok(out)
}

impl Worker {
    /// `PATCH /connectors/{name}/offsets`: only for STOPPED connectors.
    pub async fn alter_connector_offsets(
        &self,
        name: &str,
        changes: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> Result<&'static str, ChangeError> {
        let _changes = self.changes.lock().await;
        let (kind, config) = self.stopped(name).await?;
        let handled = self.connector_alters_offsets(&config, &changes)?;
        match kind {
            ConnectorKind::Source => {
                self.source_offsets(&config)
                    .await?
                    .alter(name, changes)
                    .await
                    .map_err(|e| ChangeError::Failed(e.chain()))?;
            }
            ConnectorKind::Sink => {
                let worker = self.config.clone();
                let name = name.to_owned();
                tokio::task::spawn_blocking(move || sink_offsets::alter(&worker, &name, &config, changes))
                    .await
                    .map_err(|e| ChangeError::Failed(e.to_string()))??;
            }
        }
        Ok(if handled { OFFSETS_ALTERED_BY_CONNECTOR } else { OFFSETS_ALTERED })
    }

    /// Asks a fresh instance of the connector to check (and apply) an offsets change, as Kafka
    /// Connect does for stopped connectors.
    pub(super) fn connector_alters_offsets(
        &self,
        config: &Props,
        changes: &[(OffsetMap, Option<OffsetMap>)],
    ) -> Result<bool, ChangeError> {
        let class = config.get("connector.class").map(String::as_str).unwrap_or_default();
        let plugin = self.registry.connector(class).map_err(|e| ChangeError::Failed(e.to_string()))?;
        let handled = match (plugin.factory)() {
            crate::plugins::AnyConnector::Source(c) => c.alter_offsets(config, changes),
            crate::plugins::AnyConnector::Sink(c) => c.alter_offsets(config, changes),
        };
        handled.map_err(|e| ChangeError::BadRequest(e.chain()))
    }

    /// `DELETE /connectors/{name}/offsets`: only for STOPPED connectors.
    pub async fn reset_connector_offsets(&self, name: &str) -> Result<&'static str, ChangeError> {
        let _changes = self.changes.lock().await;
        let (kind, config) = self.stopped(name).await?;
        let known = match kind {
            ConnectorKind::Source => {
                self.source_offsets(&config).await?.list(name).await.map_err(|e| ChangeError::Failed(e.chain()))?
            }
            ConnectorKind::Sink => Vec::new(),
        };
        let removals: Vec<(OffsetMap, Option<OffsetMap>)> = known.into_iter().map(|(p, _)| (p, None)).collect();
        let handled = self.connector_alters_offsets(&config, &removals)?;
        match kind {
            ConnectorKind::Source => {
                self.source_offsets(&config)
                    .await?
                    .alter(name, removals)
                    .await
                    .map_err(|e| ChangeError::Failed(e.chain()))?;
            }
            ConnectorKind::Sink => {
                let worker = self.config.clone();
                let name = name.to_owned();
                tokio::task::spawn_blocking(move || sink_offsets::reset(&worker, &name))
                    .await
                    .map_err(|e| ChangeError::Failed(e.to_string()))??;
            }
        }
        Ok(if handled { OFFSETS_RESET_BY_CONNECTOR } else { OFFSETS_RESET })
    }

    async fn stopped(&self, name: &str) -> Result<(ConnectorKind, Props), ChangeError> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        if entry.target != TargetState::Stopped || !entry.tasks.is_empty() {
            return Err(ChangeError::BadRequest(STOP_FIRST.replace("{}", name)));
        }
        Ok((entry.kind, entry.config.clone()))
    }

    /// The connector's offsets (KIP-875): source offsets from the offset store, sink offsets
    /// committed by the connector's consumer group.
    pub async fn connector_offsets(&self, name: &str) -> Result<Vec<(OffsetMap, OffsetMap)>, ChangeError> {
        let (kind, config) = {
            let connectors = self.connectors.lock().await;
            let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
            (entry.kind, entry.config.clone())
        };
        match kind {
            ConnectorKind::Source => {
                self.source_offsets(&config).await?.list(name).await.map_err(|e| ChangeError::Failed(e.chain()))
            }
            ConnectorKind::Sink => {
                let worker = self.config.clone();
                let name = name.to_owned();
                tokio::task::spawn_blocking(move || sink_offsets::committed(&worker, &name, &config))
                    .await
                    .map_err(|e| ChangeError::Failed(e.to_string()))?
            }
        }
    }
}
