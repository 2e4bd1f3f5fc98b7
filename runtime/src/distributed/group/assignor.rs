//! What the leader computes: the [`Assignor`] trait and a round-robin assignor.

use super::protocol::{ASSIGNMENT_NO_ERROR, ConnectProtocol, ConnectorTaskId, WorkerState};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One member's metadata as the leader sees it in the JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// Its REST URL, config offset and current assignment.
    pub state: WorkerState,
}

/// What the leader's assignor is given.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentContext<'a> {
    /// The leader's member id (this worker's).
    pub leader_id: &'a str,
    /// The protocol the coordinator chose; under cooperative ones, allocations are deltas
    /// against each member's [`WorkerState::assignment`].
    pub protocol: ConnectProtocol,
    /// Every member whose metadata decoded, sorted by member id.
    pub members: &'a [MemberMetadata],
}

/// One member's share: what it starts, and (cooperative protocols) what it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocation {
    /// Connectors to run.
    pub connectors: Vec<String>,
    /// Tasks to run.
    pub tasks: Vec<ConnectorTaskId>,
    /// Connectors to stop.
    pub revoked_connectors: Vec<String>,
    /// Tasks to stop.
    pub revoked_tasks: Vec<ConnectorTaskId>,
    /// Milliseconds until departed workers' work is reassigned.
    pub delay: i32,
}

/// The leader's decision for the whole group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupAssignment {
    /// [`ASSIGNMENT_NO_ERROR`](super::protocol::ASSIGNMENT_NO_ERROR), or
    /// [`ASSIGNMENT_CONFIG_MISMATCH`](super::protocol::ASSIGNMENT_CONFIG_MISMATCH) when the
    /// leader is behind a member's config offset.
    pub error: i16,
    /// The config offset the assignment is computed at.
    pub config_offset: i64,
    /// Member id → its allocation; members left out get an empty one.
    pub allocations: BTreeMap<String, Allocation>,
}

/// Computes assignments when this worker leads a rebalance (Kafka Connect's `ConnectAssignor`).
pub trait Assignor: Send + Sync + fmt::Debug {
    /// Assigns the group's connectors and tasks to `ctx.members`.
    fn assign(&self, ctx: &AssignmentContext<'_>) -> Result<GroupAssignment, Box<dyn std::error::Error + Send + Sync>>;
}

/// Kafka Connect's `EagerAssignor` over a fixed set of connectors: members sorted by id, all
/// connectors (sorted) dealt round-robin, then all tasks continuing the same round.
///
/// Under the cooperative protocols it sends each member the difference between that round-robin
/// target and the assignment the member reported, so every member ends up running its target
/// in one round. It does not wait for revocations to complete before reassigning, nor delay
/// reassigning a departed worker's work: that is the incremental cooperative assignor's job
/// (KIP-415), which a real cluster uses.
#[derive(Debug, Clone, Default)]
pub struct RoundRobinAssignor {
    connectors: BTreeMap<String, u32>,
}

impl RoundRobinAssignor {
    /// An assignor for `connectors`: (name, number of tasks).
    pub fn new<S: Into<String>>(connectors: impl IntoIterator<Item = (S, u32)>) -> Self {
        Self { connectors: connectors.into_iter().map(|(name, tasks)| (name.into(), tasks)).collect() }
    }

    /// Each member's target: what it should run once the rebalance is done.
    pub fn targets(&self, member_ids: &[&str]) -> BTreeMap<String, (Vec<String>, Vec<ConnectorTaskId>)> {
        let mut sorted: Vec<&str> = member_ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out: BTreeMap<String, (Vec<String>, Vec<ConnectorTaskId>)> =
            sorted.iter().map(|m| ((*m).to_string(), Default::default())).collect();
        if sorted.is_empty() {
            return out;
        }
        let mut next = sorted.iter().cycle();
        for connector in self.connectors.keys() {
            if let Some(entry) = next.next().and_then(|m| out.get_mut(*m)) {
                entry.0.push(connector.clone());
            }
        }
        for (connector, tasks) in &self.connectors {
            for task in 0..*tasks {
                let task = ConnectorTaskId::new(connector.clone(), i32::try_from(task).unwrap_or(i32::MAX));
                if let Some(entry) = next.next().and_then(|m| out.get_mut(*m)) {
                    entry.1.push(task);
                }
            }
        }
        out
    }
}

impl Assignor for RoundRobinAssignor {
    fn assign(&self, ctx: &AssignmentContext<'_>) -> Result<GroupAssignment, Box<dyn std::error::Error + Send + Sync>> {
        let ids: Vec<&str> = ctx.members.iter().map(|m| m.member_id.as_str()).collect();
        let targets = self.targets(&ids);
        let config_offset = ctx.members.iter().map(|m| m.state.config_offset).max().unwrap_or(-1);
        let mut allocations = BTreeMap::new();
        for member in ctx.members {
            let Some((connectors, tasks)) = targets.get(&member.member_id) else { continue };
            let allocation = match (&member.state.assignment, ctx.protocol.is_cooperative()) {
                (Some(current), true) => Allocation {
                    connectors: minus(connectors, &current.connectors),
                    tasks: minus(tasks, &current.tasks),
                    revoked_connectors: minus(&current.connectors, connectors),
                    revoked_tasks: minus(&current.tasks, tasks),
                    delay: 0,
                },
                _ => Allocation { connectors: connectors.clone(), tasks: tasks.clone(), ..Allocation::default() },
            };
            allocations.insert(member.member_id.clone(), allocation);
        }
        Ok(GroupAssignment { error: ASSIGNMENT_NO_ERROR, config_offset, allocations })
    }
}

/// The items of `a` not in `b`, in `a`'s order.
fn minus<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let b: BTreeSet<&T> = b.iter().collect();
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}
