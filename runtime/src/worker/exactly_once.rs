//! Exactly-once source support (KIP-618): the worker key `exactly.once.source.support`, the
//! connector's `transaction.boundary`, and each task's transactional producer id.
//!
//! With `exactly.once.source.support=enabled` on a distributed worker, every source task
//! writes its records and their source offsets (to the offset topic) in one Kafka transaction
//! per boundary, with a stable `transactional.id` of `<group.id>-<connector>-<task>`. A newer
//! instance of the task fences older ones when it calls `init_transactions`, so a zombie that
//! still runs can no longer commit. The task's `commit_record` and `commit` run only once the
//! transaction that holds the records committed.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::api::{ConfigError, ConnectError, ConnectResult, Props};
use crate::plugins::{AnyConnector, ConnectorPlugin};

use super::config::WorkerConfig;

/// The worker key turning exactly-once source support on.
pub const WORKER_KEY: &str = "exactly.once.source.support";

/// What `exactly.once.source.support` asks of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExactlyOnceSupport {
    /// Source tasks use plain producers (at-least-once); the default.
    #[default]
    Disabled,
    /// A step of the rolling upgrade to `enabled`: the worker accepts the key, tasks still use
    /// plain producers.
    Preparing,
    /// Source tasks write records and offsets in transactions.
    Enabled,
}

impl ExactlyOnceSupport {
    /// Reads the worker's key; only distributed workers (with a `group.id`) honour `enabled`.
    pub fn of(worker: &WorkerConfig) -> Result<Self, ConnectError> {
        match worker.props.get(WORKER_KEY).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("disabled") => Ok(Self::Disabled),
            Some("preparing") => Ok(Self::Preparing),
            Some("enabled") => Ok(Self::Enabled),
            Some(other) => Err(ConnectError::config(
                WORKER_KEY,
                format!(
                    "Invalid value {other} for configuration {WORKER_KEY}: must be one of disabled, preparing, enabled"
                ),
            )),
        }
    }

    /// Whether this worker's source tasks run transactionally.
    pub fn enabled(worker: &WorkerConfig) -> bool {
        worker.props.contains_key("group.id") && matches!(Self::of(worker), Ok(Self::Enabled))
    }
}

/// When a source task commits its transaction (`transaction.boundary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionBoundary {
    /// After every batch the task's `poll` returned (the default).
    Poll,
    /// When this much time passed since the transaction began (checked between polls).
    Interval(Duration),
    /// Where the task asks, through its [`crate::api::TransactionContext`]; the preflight
    /// check lets only connectors that can define boundaries use it.
    Connector,
}

impl TransactionBoundary {
    /// The boundary a connector's config asks for; `interval` defaults to the worker's
    /// `offset.flush.interval.ms`, as in Kafka Connect.
    pub fn of(config: &Props, worker: &WorkerConfig) -> ConnectResult<Self> {
        let boundary = config.get(BOUNDARY_KEY).map(|v| v.trim().to_ascii_lowercase());
        match boundary.as_deref() {
            None | Some("poll") => Ok(Self::Poll),
            Some("interval") => {
                let key = "transaction.boundary.interval.ms";
                let interval = match config.get(key) {
                    None => worker.offset_flush_interval,
                    Some(v) => v
                        .trim()
                        .parse::<u64>()
                        .map(Duration::from_millis)
                        .map_err(|_| ConnectError::config(key, format!("'{v}' is not a number of milliseconds")))?,
                };
                Ok(Self::Interval(interval))
            }
            Some("connector") => Ok(Self::Connector),
            Some(other) => Err(ConnectError::config(
                BOUNDARY_KEY,
                format!(
                    "Invalid value {other} for configuration transaction.boundary: must be one of poll, interval, connector"
                ),
            )),
        }
    }
}

/// Kafka Connect's preflight checks of a source connector's `exactly.once.support` and
/// `transaction.boundary` (`AbstractHerder.validateSourceConnectorConfig`), with its messages.
pub(crate) fn preflight(plugin: &ConnectorPlugin, props: &Props, worker: &Props) -> Vec<ConfigError> {
    let set = |k: &str| props.get(k).map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
    let mut errors = Vec::new();
    let AnyConnector::Source(connector) = (plugin.factory)() else { return errors };
    let enabled = worker.get(WORKER_KEY).is_some_and(|v| v == "enabled");
    let error = |key: &str, message: &str| ConfigError { key: key.into(), message: message.into() };
    match set("exactly.once.support").as_deref() {
        None | Some("requested") => {}
        Some("required") if !enabled => {
            errors
                .push(error("exactly.once.support", "This worker does not have exactly-once source support enabled."));
        }
        Some("required") => match connector.exactly_once_support(props) {
            Some(true) => {}
            Some(false) => errors.push(error(
                "exactly.once.support",
                "The connector does not support exactly-once semantics with the provided configuration.",
            )),
            None => errors.push(error(
                "exactly.once.support",
                "The connector does not implement the API required for preflight validation of exactly-once source \
                 support. Please consult the documentation for the connector to determine whether it supports \
                 exactly-once semantics, and then consider reconfiguring the connector to use the value \"requested\" \
                 for this property (which will disable this preflight check and allow the connector to be created).",
            )),
        },
        // Other values: the key's own validator reports them.
        Some(_) => {}
    }
    match set(BOUNDARY_KEY).as_deref() {
        None | Some("poll") | Some("interval") => {}
        Some("connector") if !connector.can_define_transaction_boundaries(props) => {
            errors.push(error(BOUNDARY_KEY, CANNOT_DEFINE_BOUNDARIES))
        }
        Some("connector") => {}
        Some(_) => {}
    }
    errors
}

const BOUNDARY_KEY: &str = "transaction.boundary";

/// Kafka Connect's message for `transaction.boundary=connector` on a connector that cannot
/// define boundaries.
const CANNOT_DEFINE_BOUNDARIES: &str = "The connector does not support connector-defined transaction boundaries \
     with the given configuration. Please reconfigure it to use a different transaction boundary definition.";

/// The error of a task whose connector cannot define the boundaries its config asks for.
pub(crate) fn cannot_define_boundaries() -> ConnectError {
    ConnectError::config(BOUNDARY_KEY, CANNOT_DEFINE_BOUNDARIES)
}

/// The `transactional.id` of a source task: `<group.id>-<connector>-<task>`, as Kafka Connect
/// names it, so a task keeps its id wherever it runs.
pub fn transactional_id(group: &str, connector: &str, task: usize) -> String {
    format!("{group}-{connector}-{task}")
}

/// Re-applies the worker's `producer.*` settings over the transactional defaults, so a user's
/// own `producer.retry.backoff.ms` wins.
pub(crate) fn apply_overrides(config: &mut rdkafka::ClientConfig, worker: &WorkerConfig) {
    for (k, v) in worker.with_prefix("producer.") {
        config.set(k, v);
    }
}

/// Whether `e` says a newer producer with the same transactional id took over.
pub(crate) fn is_fenced(e: &KafkaError) -> bool {
    let code = match e {
        KafkaError::Transaction(e) => Some(e.code()),
        other => other.rdkafka_error_code(),
    };
    matches!(
        code,
        Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch)
    ) || matches!(e, KafkaError::Transaction(t) if t.is_fatal())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(pairs: &[(&str, &str)]) -> WorkerConfig {
        let mut props: std::collections::BTreeMap<String, String> =
            [("bootstrap.servers", "localhost:9092")].iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        props.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        WorkerConfig::from_props(props).unwrap()
    }

    #[test]
    fn only_distributed_workers_with_enabled_run_transactions() {
        assert!(ExactlyOnceSupport::enabled(&worker(&[("group.id", "g"), (WORKER_KEY, "enabled")])));
        assert!(!ExactlyOnceSupport::enabled(&worker(&[(WORKER_KEY, "enabled")])));
        assert!(!ExactlyOnceSupport::enabled(&worker(&[("group.id", "g"), (WORKER_KEY, "preparing")])));
        let bad = ExactlyOnceSupport::of(&worker(&[(WORKER_KEY, "yes")])).unwrap_err().to_string();
        assert!(bad.contains(WORKER_KEY) && bad.contains("disabled, preparing, enabled"), "{bad}");
    }

    #[test]
    fn boundaries_as_kafka_connect_reads_them() {
        let w = worker(&[("offset.flush.interval.ms", "2500")]);
        let props = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(TransactionBoundary::of(&props(&[]), &w).unwrap(), TransactionBoundary::Poll);
        assert_eq!(
            TransactionBoundary::of(&props(&[("transaction.boundary", "interval")]), &w).unwrap(),
            TransactionBoundary::Interval(Duration::from_millis(2500))
        );
        assert_eq!(
            TransactionBoundary::of(
                &props(&[("transaction.boundary", "interval"), ("transaction.boundary.interval.ms", "100")]),
                &w
            )
            .unwrap(),
            TransactionBoundary::Interval(Duration::from_millis(100))
        );
        assert_eq!(
            TransactionBoundary::of(&props(&[("transaction.boundary", "Connector")]), &w).unwrap(),
            TransactionBoundary::Connector
        );
        let e = TransactionBoundary::of(&props(&[("transaction.boundary", "batch")]), &w).unwrap_err();
        assert!(e.to_string().contains("must be one of poll, interval, connector"), "{e}");
        assert_eq!(transactional_id("connect-cluster", "dg", 3), "connect-cluster-dg-3");
    }
}
