//! What a task does to each record between the connector and Kafka, resolved from its
//! connector's config: converters, transforms, the error policy, and the exactly-once and
//! offset-topic settings of its loop.

use crate::api::Props;
use crate::plugins::{AnyConnector, Registry};
use crate::transforms::TransformChain;

use super::config::WorkerConfig;
use super::converters::TaskConverters;
use super::errors::ErrorPolicy;
use super::{exactly_once, offsets};
use crate::api::ConnectResult;

/// What a task does to each record between the connector and Kafka: transforms, converters,
/// and the error policy for records that fail them.
pub(super) struct TaskStages {
    pub(super) converters: TaskConverters,
    pub(super) transforms: TransformChain,
    pub(super) errors: ErrorPolicy,
    /// The transaction boundary of a source task on a worker with exactly-once support.
    pub(super) boundary: Option<exactly_once::TransactionBoundary>,
    /// The connector's own offsets topic (`offsets.storage.topic`), if it has one.
    pub(super) offsets_topic: Option<String>,
    /// How a Kafka-to-Kafka sink's tasks write to Kafka.
    pub(super) kafka_writes: Option<crate::api::KafkaWrites>,
}

impl TaskStages {
    /// The stages `resolved` (a connector config, variables resolved) asks for.
    pub(super) fn resolve(
        registry: &Registry,
        config: &WorkerConfig,
        connector: &AnyConnector,
        resolved: &Props,
    ) -> ConnectResult<Self> {
        let boundary = match connector {
            AnyConnector::Source(c) if exactly_once::ExactlyOnceSupport::enabled(config) => {
                let boundary = exactly_once::TransactionBoundary::of(resolved, config)?;
                // Validation refuses this already; a config written to the config topic by
                // other means must not start tasks that would never commit.
                if boundary == exactly_once::TransactionBoundary::Connector
                    && !c.can_define_transaction_boundaries(resolved)
                {
                    return Err(exactly_once::cannot_define_boundaries());
                }
                Some(boundary)
            }
            _ => None,
        };
        Ok(Self {
            converters: TaskConverters::resolve(registry, config, resolved)?,
            transforms: TransformChain::from_config(registry, resolved)?,
            errors: ErrorPolicy::from_config(resolved),
            boundary,
            offsets_topic: offsets::connector_topic(resolved).map(str::to_owned),
            kafka_writes: match connector {
                AnyConnector::Sink(c) => c.kafka_writes(resolved),
                AnyConnector::Source(_) => None,
            },
        })
    }
}
