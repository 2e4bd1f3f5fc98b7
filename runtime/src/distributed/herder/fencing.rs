//! Zombie fencing for exactly-once sources (KIP-618), done by the leader: before the tasks of
//! a new generation of a source connector start, the transactional ids of the previous
//! generation (`<group.id>-<connector>-<task>` for every task the last task-count record
//! counted) are fenced by initialising a producer with each, so a task instance still running
//! on a worker cut off from the group can no longer commit. Then the leader writes the
//! connector's task-count record (`tasks-fencing-<connector>`), and the workers start the
//! new tasks: until that record follows the task configs, tasks of that connector wait.

use std::time::Duration;

use rdkafka::producer::{BaseProducer, Producer};

use super::Inner;
use crate::distributed::stores::ClusterConfigState;
use crate::plugins::ConnectorKind;
use crate::worker::exactly_once::{ExactlyOnceSupport, transactional_id};

/// How long initialising one fencing producer may take.
const FENCE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `connector`'s tasks must wait for the leader's fencing before they start.
pub(super) fn awaits_fencing(inner: &Inner, state: &ClusterConfigState, connector: &str) -> bool {
    ExactlyOnceSupport::enabled(inner.worker.config())
        && state.pending_fencing.contains(connector)
        && is_source(inner, state, connector)
}

fn is_source(inner: &Inner, state: &ClusterConfigState, connector: &str) -> bool {
    state
        .connector_configs
        .get(connector)
        .and_then(|c| c.get("connector.class"))
        .and_then(|class| inner.worker.registry().connector(class).ok())
        .is_some_and(|p| p.kind == ConnectorKind::Source)
}

/// The leader's round of fencing: for every source connector whose task configs are newer
/// than its task-count record, fences the previous generation's producers and writes the
/// record. Failures are logged and retried at the next config change or rebalance.
pub(super) async fn fence_pending(inner: &Inner, state: &ClusterConfigState) {
    if !ExactlyOnceSupport::enabled(inner.worker.config()) {
        return;
    }
    for connector in &state.pending_fencing {
        if !is_source(inner, state, connector) {
            continue;
        }
        let previous = state.task_count_records.get(connector).copied().unwrap_or(0);
        let count = state.task_counts.get(connector).copied().unwrap_or(0);
        if let Err(e) = fence(inner, connector, previous).await {
            tracing::error!(connector = %connector, "zombie fencing failed; the connector's tasks wait (retried at the next rebalance): {e}");
            continue;
        }
        match inner.configs.put_task_count_record(connector, count).await {
            Ok(()) => tracing::info!(
                connector = %connector,
                fenced = previous,
                tasks = count,
                "fenced the previous generation's transactional producers; its new tasks may start"
            ),
            Err(e) => tracing::error!(connector = %connector, "cannot write the task-count record: {e}"),
        }
    }
}

/// Initialises a producer with each transactional id of tasks `0..tasks` of `connector`, all
/// at once: each bumps its id's epoch, fencing whoever held it.
async fn fence(inner: &Inner, connector: &str, tasks: u32) -> Result<(), String> {
    let group = inner.cfg.group.group_id.clone();
    let mut pending = Vec::new();
    for task in 0..tasks {
        let id = transactional_id(&group, connector, task as usize);
        let mut config = crate::worker::kafka::producer_config(inner.worker.config(), &format!("fencer-{id}"));
        config.set("transactional.id", &id);
        pending.push(tokio::task::spawn_blocking(move || {
            let producer: BaseProducer = config.create().map_err(|e| format!("{id}: {e}"))?;
            producer.init_transactions(FENCE_TIMEOUT).map_err(|e| format!("{id}: {e}"))
        }));
    }
    for handle in pending {
        handle.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}
