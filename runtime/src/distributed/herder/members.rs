//! The membership loop: joins and rejoins the group, applies each assignment (stop what was
//! revoked, start what was assigned), follows the config topic, and reports statuses. One task
//! per worker owns the [`GroupMember`]; the REST side only reads the shared [`View`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::Inner;
use super::reconcile::Units;
use crate::distributed::group::{ConfigSnapshot, Generation, GroupMember, IncrementalCooperativeAssignor};
use crate::distributed::stores::{ClusterConfigState, TargetState};

/// How often statuses are compared with what was reported, and failed publications retried.
const STATUS_INTERVAL: Duration = Duration::from_millis(500);
/// Pause before rejoining after a failed join or a config mismatch.
const REJOIN_BACKOFF: Duration = Duration::from_millis(500);

/// Failed assignments in a row with the leader behind this worker's config offset before the
/// two are taken to read different config topics.
const LEADER_BEHIND_ROUNDS: u32 = 3;

/// This worker and the group's leader read different config topics (or Kafka clusters): the
/// worker cannot run what it is assigned, nor give the leader what it has read.
#[derive(Debug, thiserror::Error)]
#[error(
    "this worker's config topic '{topic}' ends at offset {own_offset}, but the leader of group '{group}' ({leader}) \
     has read its config topic to offset {leader_offset}: the workers of the group do not share one \
     config.storage.topic on one Kafka cluster. This worker leaves the group and stops; give every worker of \
     group '{group}' the same bootstrap.servers, config.storage.topic, offset.storage.topic and \
     status.storage.topic, or another group.id"
)]
pub(super) struct ConfigTopicMismatch {
    group: String,
    topic: String,
    own_offset: i64,
    leader: String,
    leader_offset: i64,
}

/// The loop's state.
pub(super) struct Membership {
    inner: Arc<Inner>,
    member: GroupMember,
    assignor: Arc<IncrementalCooperativeAssignor>,
    units: Units,
    /// When to rejoin next (`None`: not needed).
    rejoin_at: Option<Instant>,
    /// Consecutive failed assignments whose leader had read less of the config topic than
    /// this worker (a leader that just took over catches up in one round; one that stays
    /// behind reads another topic).
    leader_behind: u32,
}

/// The assignor's view of the config: connectors and committed task counts (none for a
/// stopped connector).
pub(super) fn config_snapshot(state: &ClusterConfigState) -> ConfigSnapshot {
    let connectors = state
        .connector_configs
        .keys()
        .map(|c| {
            let tasks = if state.target_state(c) == Some(TargetState::Stopped) {
                0
            } else {
                u32::try_from(state.tasks(c).len()).unwrap_or(u32::MAX)
            };
            (c.clone(), tasks)
        })
        .collect::<BTreeMap<_, _>>();
    ConfigSnapshot { offset: state.offset, connectors }
}

/// Whether the work to assign differs: connectors added or removed, or task counts changed.
fn shape_changed(a: &ClusterConfigState, b: &ClusterConfigState) -> bool {
    config_snapshot(a).connectors != config_snapshot(b).connectors
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership").field("member", &self.member).finish_non_exhaustive()
    }
}

impl Membership {
    pub(super) fn new(inner: Arc<Inner>, member: GroupMember, assignor: Arc<IncrementalCooperativeAssignor>) -> Self {
        let units = Units::new(inner.clone());
        Self { inner, member, assignor, units, rejoin_at: Some(Instant::now()), leader_behind: 0 }
    }

    /// Runs until `cancel`, then stops every unit and leaves the group.
    pub(super) async fn run(mut self, cancel: CancellationToken) {
        let span =
            tracing::info_span!("herder", group = %self.inner.cfg.group.group_id, worker = %self.inner.cfg.worker_id);
        async {
            let mut events = self.member.subscribe();
            let mut config_updates = self.inner.configs.updates();
            let reconfigurations = self.inner.worker.reconfiguration_requests();
            let mut ticks = tokio::time::interval(STATUS_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let rejoin_at = self.rejoin_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep_until(rejoin_at), if self.rejoin_at.is_some() => {
                        if let Err(mismatch) = self.rebalance().await {
                            tracing::error!("{mismatch}");
                            self.inner.fail(mismatch.to_string());
                            break;
                        }
                    }
                    changed = events.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let reason = events.borrow_and_update().clone();
                        if let Some(reason) = reason {
                            tracing::info!(?reason, "the group is rebalancing; rejoining");
                            self.expect_rebalance();
                        }
                    }
                    changed = config_updates.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        self.on_config_update().await;
                    }
                    _ = ticks.tick() => self.units.tick().await,
                    names = reconfigurations.next() => self.units.reconfigure(names).await,
                }
            }
            self.stop().await;
        }
        .instrument(span)
        .await;
    }

    /// Marks a rebalance as expected (changes are refused until it is done) and rejoins now.
    fn expect_rebalance(&mut self) {
        self.inner.view().rebalancing = true;
        self.rejoin_at = Some(Instant::now());
    }

    /// Reads the config topic to its end, joins, and applies the assignment. Fails when this
    /// worker and the leader cannot be reading the same config topic.
    async fn rebalance(&mut self) -> Result<(), ConfigTopicMismatch> {
        self.rejoin_at = None;
        self.inner.view().rebalancing = true;
        if self.member.lost_membership() {
            tracing::warn!(
                "this worker dropped out of the group (no heartbeat got through for session.timeout.ms, or its \
                 generation ended): stopping all its connectors and tasks before rejoining, since the group may have \
                 given them to other workers"
            );
            self.units.stop_all().await;
        }
        if let Err(e) = self.inner.configs.read_to_end().await {
            tracing::warn!("cannot read the config topic to its end before joining: {e}");
        }
        let snapshot = self.inner.configs.snapshot();
        self.assignor.set_config(config_snapshot(&snapshot));
        self.member.set_config_offset(snapshot.offset);
        let generation = match self.member.join().await {
            Ok(g) => g,
            Err(e) => {
                tracing::error!("cannot join the group (retrying): {e}");
                self.rejoin_at = Some(Instant::now() + REJOIN_BACKOFF);
                return Ok(());
            }
        };
        let leader_offset = generation.assignment.config_offset;
        if generation.assignment.failed() && leader_offset < snapshot.offset {
            self.leader_behind += 1;
            if self.leader_behind >= LEADER_BEHIND_ROUNDS {
                return Err(self.mismatch(&generation, snapshot.offset));
            }
        } else {
            self.leader_behind = 0;
        }
        if !generation.assignment.failed() && leader_offset > snapshot.offset {
            // The leader assigned work at a config offset this worker has not read: read on.
            // The leader only assigns what it has read back, so a topic that ends before it is
            // another topic.
            if let Err(e) = self.inner.configs.read_to_end().await {
                tracing::warn!("cannot read the config topic to its end after joining: {e}");
                self.rejoin_at = Some(Instant::now() + REJOIN_BACKOFF);
                return Ok(());
            }
            let read = self.inner.configs.snapshot().offset;
            if read < leader_offset {
                return Err(self.mismatch(&generation, read));
            }
        }
        if generation.assignment.failed() {
            // The leader had not read as far as some member: everyone reads on and rejoins.
            tracing::warn!(
                generation = generation.generation_id,
                leader_offset = generation.assignment.config_offset,
                own_offset = snapshot.offset,
                "assignment failed: the leader's config offset is behind; reading the config topic and rejoining"
            );
            self.rejoin_at = Some(Instant::now() + REJOIN_BACKOFF);
            return Ok(());
        }
        self.joined(&generation, &snapshot);
        if generation.is_leader {
            super::fencing::fence_pending(&self.inner, &self.inner.configs.snapshot()).await;
        }
        let snapshot = self.inner.configs.snapshot();
        self.units.apply(&generation, snapshot).await;
        let a = &generation.assignment;
        if !a.revoked_connectors.is_empty() || !a.revoked_tasks.is_empty() {
            // What was revoked is handed out in the next round, once stopped here.
            self.rejoin_at = Some(Instant::now());
        } else if a.delay > 0 {
            self.rejoin_at = Some(Instant::now() + Duration::from_millis(u64::try_from(a.delay).unwrap_or(0)));
        } else {
            self.inner.view().rebalancing = false;
        }
        Ok(())
    }

    /// The error of a worker whose config topic is not the leader's.
    fn mismatch(&self, generation: &Generation, own_offset: i64) -> ConfigTopicMismatch {
        let leader_url = &generation.assignment.leader_url;
        ConfigTopicMismatch {
            group: self.inner.cfg.group.group_id.clone(),
            topic: self.inner.cfg.config_topic.topic.clone(),
            own_offset,
            leader: if leader_url.is_empty() { generation.leader_id.clone() } else { leader_url.clone() },
            leader_offset: generation.assignment.config_offset,
        }
    }

    /// Records the new generation and says what this worker got.
    fn joined(&mut self, g: &Generation, snapshot: &ClusterConfigState) {
        let a = &g.assignment;
        {
            let mut view = self.inner.view();
            view.generation = g.generation_id;
            view.is_leader = g.is_leader;
            view.leader_url = Some(a.leader_url.clone()).filter(|u| !u.is_empty());
            view.joined = true;
        }
        let tasks: BTreeSet<String> = a.tasks.iter().map(|t| format!("{}-{}", t.connector, t.task)).collect();
        tracing::info!(
            generation = g.generation_id,
            leader = %a.leader_url,
            config_offset = snapshot.offset,
            protocol = %g.protocol,
            delay_ms = a.delay,
            "joined group as {}, generation {}, assigned connectors {:?} and tasks {:?}; revoked connectors {:?} and tasks {:?}",
            if g.is_leader { "leader" } else { "follower" },
            g.generation_id,
            a.connectors,
            tasks,
            a.revoked_connectors,
            a.revoked_tasks.iter().map(|t| format!("{}-{}", t.connector, t.task)).collect::<Vec<_>>(),
        );
    }

    /// A change in the config topic: units follow it; a change in the work to assign calls
    /// for a rebalance (the leader starts it).
    async fn on_config_update(&mut self) {
        let snapshot = self.inner.configs.snapshot();
        let shape = shape_changed(self.units.applied(), &snapshot);
        let (is_leader, joined) = {
            let v = self.inner.view();
            (v.is_leader, v.joined)
        };
        if !joined {
            return;
        }
        if shape && is_leader {
            tracing::info!(config_offset = snapshot.offset, "connectors or task counts changed; rebalancing");
            self.expect_rebalance();
        }
        if is_leader {
            super::fencing::fence_pending(&self.inner, &snapshot).await;
        }
        self.units.follow(snapshot).await;
    }

    /// Stops every unit (reporting them UNASSIGNED) and leaves the group.
    async fn stop(&mut self) {
        tracing::info!("stopping: connectors and tasks stop, then the worker leaves the group");
        self.units.stop_all().await;
        if let Err(e) = self.member.leave().await {
            tracing::warn!("could not leave the group cleanly (the others rebalance after session.timeout.ms): {e}");
        }
    }
}
