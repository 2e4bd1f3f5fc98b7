//! Incremental cooperative assignment (KIP-415), as Kafka Connect's
//! `IncrementalCooperativeAssignor` does it: a rebalance revokes only what must move, and moves
//! it in the next round once its owner has stopped it; work of a worker that left is held for
//! `scheduled.rebalance.max.delay.ms` so a quick restart gets it back without a shuffle, then
//! given to the least loaded workers; connectors and tasks are balanced separately, so no worker
//! runs more than one connector or one task above any other.
//!
//! The leader keeps what it assigned last (the set of work it expects to see reported) to tell
//! work that was lost from work that is new.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::assignor::{Allocation, AssignmentContext, Assignor, GroupAssignment};
use super::protocol::{ASSIGNMENT_CONFIG_MISMATCH, ASSIGNMENT_NO_ERROR, ConnectorTaskId};

/// What the leader knows of the configuration: connectors and their task counts, at a config
/// topic offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSnapshot {
    /// Offset in the config topic this snapshot reflects.
    pub offset: i64,
    /// Connector name → number of tasks (0 for a stopped connector's tasks).
    pub connectors: BTreeMap<String, u32>,
}

/// Work held back after a worker left, until `deadline`.
#[derive(Debug, Clone)]
struct Held {
    deadline: Instant,
    connectors: BTreeSet<String>,
    tasks: BTreeSet<ConnectorTaskId>,
}

#[derive(Debug, Default)]
struct State {
    /// Work the previous round left each member with (members by id).
    previous: BTreeMap<String, (BTreeSet<String>, BTreeSet<ConnectorTaskId>)>,
    held: Option<Held>,
}

/// Kafka Connect's incremental cooperative assignor.
#[derive(Debug)]
pub struct IncrementalCooperativeAssignor {
    max_delay: Duration,
    config: Mutex<ConfigSnapshot>,
    state: Mutex<State>,
    now: fn() -> Instant,
}

type Load = BTreeMap<String, Entry>;

impl IncrementalCooperativeAssignor {
    /// An assignor that holds departed workers' work for `max_delay`
    /// (`scheduled.rebalance.max.delay.ms`).
    pub fn new(max_delay: Duration) -> Self {
        Self::with_clock(max_delay, Instant::now)
    }

    /// The same with a clock of the caller's (tests).
    pub fn with_clock(max_delay: Duration, now: fn() -> Instant) -> Self {
        Self { max_delay, config: Mutex::new(ConfigSnapshot::default()), state: Mutex::new(State::default()), now }
    }

    /// The configuration to assign from (the herder keeps it current as it reads the config
    /// topic).
    pub fn set_config(&self, snapshot: ConfigSnapshot) {
        *lock(&self.config) = snapshot;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is whole; a poisoned lock still holds a consistent value.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

type Entry = (BTreeSet<String>, BTreeSet<ConnectorTaskId>);

/// Gives each of `items` to the member with the fewest of that kind (ties: smallest id).
fn deal<T: Ord + Clone>(
    items: impl IntoIterator<Item = T>,
    load: &mut Load,
    pick: fn(&mut Entry) -> &mut BTreeSet<T>,
    out: &mut BTreeMap<String, Vec<T>>,
) {
    for item in items {
        let mut best: Option<(usize, String)> = None;
        for (id, e) in load.iter_mut() {
            let n = pick(e).len();
            if best.as_ref().is_none_or(|(b, _)| n < *b) {
                best = Some((n, id.clone()));
            }
        }
        let Some((_, member)) = best else { return };
        if let Some(entry) = load.get_mut(&member) {
            pick(entry).insert(item.clone());
        }
        out.entry(member).or_default().push(item);
    }
}

fn connectors_of(e: &mut Entry) -> &mut BTreeSet<String> {
    &mut e.0
}

fn tasks_of(e: &mut Entry) -> &mut BTreeSet<ConnectorTaskId> {
    &mut e.1
}

/// Revokes from members above the ceiling of `total / members` until each is at most there;
/// answers what each member must stop.
fn shed<T: Ord + Clone>(load: &mut Load, pick: fn(&mut Entry) -> &mut BTreeSet<T>) -> BTreeMap<String, Vec<T>> {
    let members = load.len();
    let mut out = BTreeMap::new();
    if members == 0 {
        return out;
    }
    let total: usize = load.values_mut().map(|e| pick(e).len()).sum();
    let ceil = total.div_ceil(members);
    let floor = total / members;
    // Only shed when some member is below the floor: otherwise the spread is already as even as
    // it can be (at most one apart).
    let lowest = load.values_mut().map(|e| pick(e).len()).min().unwrap_or(0);
    if lowest >= floor {
        return out;
    }
    let mut deficit: usize = load.values_mut().map(|e| floor.saturating_sub(pick(e).len())).sum();
    for (id, e) in load.iter_mut() {
        let set = pick(e);
        while set.len() > ceil.max(floor) && deficit > 0 {
            let Some(last) = set.iter().next_back().cloned() else { break };
            set.remove(&last);
            out.entry(id.clone()).or_insert_with(Vec::new).push(last);
            deficit -= 1;
        }
    }
    for (id, e) in load.iter_mut() {
        let set = pick(e);
        while set.len() > floor && deficit > 0 {
            let Some(last) = set.iter().next_back().cloned() else { break };
            set.remove(&last);
            out.entry(id.clone()).or_insert_with(Vec::new).push(last);
            deficit -= 1;
        }
    }
    out
}

impl Assignor for IncrementalCooperativeAssignor {
    fn assign(&self, ctx: &AssignmentContext<'_>) -> Result<GroupAssignment, Box<dyn std::error::Error + Send + Sync>> {
        let config = lock(&self.config).clone();
        let max_member_offset = ctx.members.iter().map(|m| m.state.config_offset).max().unwrap_or(-1);
        if max_member_offset > config.offset {
            // The leader is behind a member: it must read the config topic further first.
            return Ok(GroupAssignment {
                error: ASSIGNMENT_CONFIG_MISMATCH,
                config_offset: config.offset,
                allocations: BTreeMap::new(),
            });
        }
        let configured_tasks: BTreeSet<ConnectorTaskId> = config
            .connectors
            .iter()
            .flat_map(|(c, n)| {
                (0..*n).map(move |t| ConnectorTaskId::new(c.clone(), i32::try_from(t).unwrap_or(i32::MAX)))
            })
            .collect();
        let configured_connectors: BTreeSet<String> = config.connectors.keys().cloned().collect();

        let mut state = lock(&self.state);
        if !ctx.protocol.is_cooperative() {
            // Eager (protocol v0): members report nothing and stop everything at each rebalance,
            // so there is nothing to hold back: deal all the work out afresh, evenly.
            let mut load: Load = ctx.members.iter().map(|m| (m.member_id.clone(), Entry::default())).collect();
            let (mut added_connectors, mut added_tasks) = (BTreeMap::new(), BTreeMap::new());
            deal(configured_connectors.iter().cloned(), &mut load, connectors_of, &mut added_connectors);
            deal(configured_tasks.iter().cloned(), &mut load, tasks_of, &mut added_tasks);
            state.previous = load;
            state.held = None;
            let allocations = ctx
                .members
                .iter()
                .map(|m| {
                    let id = m.member_id.clone();
                    let a = Allocation {
                        connectors: added_connectors.remove(&id).unwrap_or_default(),
                        tasks: added_tasks.remove(&id).unwrap_or_default(),
                        ..Allocation::default()
                    };
                    (id, a)
                })
                .collect();
            return Ok(GroupAssignment { error: ASSIGNMENT_NO_ERROR, config_offset: config.offset, allocations });
        }
        let now = (self.now)();
        let mut revoked_connectors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut revoked_tasks: BTreeMap<String, Vec<ConnectorTaskId>> = BTreeMap::new();
        // What each member runs now, less what no longer exists (revoked).
        let mut load: Load = BTreeMap::new();
        let mut seen_connectors = BTreeSet::new();
        let mut seen_tasks = BTreeSet::new();
        for m in ctx.members {
            let mut entry = (BTreeSet::new(), BTreeSet::new());
            if let Some(a) = &m.state.assignment {
                for c in &a.connectors {
                    if configured_connectors.contains(c) && seen_connectors.insert(c.clone()) {
                        entry.0.insert(c.clone());
                    } else {
                        revoked_connectors.entry(m.member_id.clone()).or_default().push(c.clone());
                    }
                }
                for t in &a.tasks {
                    if configured_tasks.contains(t) && seen_tasks.insert(t.clone()) {
                        entry.1.insert(t.clone());
                    } else {
                        revoked_tasks.entry(m.member_id.clone()).or_default().push(t.clone());
                    }
                }
            }
            load.insert(m.member_id.clone(), entry);
        }
        // Work the leader gave out before that nobody reports now: its worker left.
        let mut lost_connectors: BTreeSet<String> = state
            .previous
            .values()
            .flat_map(|(c, _)| c.iter().cloned())
            .filter(|c| configured_connectors.contains(c) && !seen_connectors.contains(c))
            .collect();
        let mut lost_tasks: BTreeSet<ConnectorTaskId> = state
            .previous
            .values()
            .flat_map(|(_, t)| t.iter().cloned())
            .filter(|t| configured_tasks.contains(t) && !seen_tasks.contains(t))
            .collect();
        if let Some(h) = &state.held {
            lost_connectors.extend(
                h.connectors
                    .iter()
                    .filter(|c| configured_connectors.contains(*c) && !seen_connectors.contains(*c))
                    .cloned(),
            );
            lost_tasks
                .extend(h.tasks.iter().filter(|t| configured_tasks.contains(*t) && !seen_tasks.contains(*t)).cloned());
        }
        let newcomers: Vec<String> = load.keys().filter(|id| !state.previous.contains_key(*id)).cloned().collect();
        let mut delay = 0;
        let mut held_back = (BTreeSet::new(), BTreeSet::new());
        if !lost_connectors.is_empty() || !lost_tasks.is_empty() {
            let deadline = state.held.as_ref().map_or(now + self.max_delay, |h| h.deadline);
            if now < deadline && newcomers.is_empty() {
                // Hold the work: its worker may come back within the delay.
                delay = i32::try_from(deadline.saturating_duration_since(now).as_millis()).unwrap_or(i32::MAX);
                held_back = (lost_connectors.clone(), lost_tasks.clone());
                state.held = Some(Held { deadline, connectors: lost_connectors.clone(), tasks: lost_tasks.clone() });
            } else {
                // Delay over, or a (returning) worker joined: the lost work is assigned now.
                state.held = None;
            }
        } else {
            state.held = None;
        }
        let new_connectors: Vec<String> = configured_connectors
            .iter()
            .filter(|c| !seen_connectors.contains(*c) && !held_back.0.contains(*c))
            .cloned()
            .collect();
        let new_tasks: Vec<ConnectorTaskId> = configured_tasks
            .iter()
            .filter(|t| !seen_tasks.contains(*t) && !held_back.1.contains(*t))
            .cloned()
            .collect();
        let mut added_connectors = BTreeMap::new();
        let mut added_tasks = BTreeMap::new();
        let nothing_new = new_connectors.is_empty() && new_tasks.is_empty();
        if nothing_new && delay == 0 {
            // A stable round: move what is needed to even the load (revoked now, given out in
            // the round the revoking workers start once they have stopped it).
            for (id, items) in shed(&mut load, connectors_of) {
                revoked_connectors.entry(id).or_default().extend(items);
            }
            for (id, items) in shed(&mut load, tasks_of) {
                revoked_tasks.entry(id).or_default().extend(items);
            }
        } else {
            deal(new_connectors, &mut load, connectors_of, &mut added_connectors);
            deal(new_tasks, &mut load, tasks_of, &mut added_tasks);
        }
        state.previous = load.clone();
        // What the leader expects to see next round includes the held work, under no member.
        let mut allocations = BTreeMap::new();
        for m in ctx.members {
            let id = &m.member_id;
            let allocation = if ctx.protocol.is_cooperative() {
                Allocation {
                    connectors: added_connectors.remove(id).unwrap_or_default(),
                    tasks: added_tasks.remove(id).unwrap_or_default(),
                    revoked_connectors: revoked_connectors.remove(id).unwrap_or_default(),
                    revoked_tasks: revoked_tasks.remove(id).unwrap_or_default(),
                    delay,
                }
            } else {
                let (c, t) = load.get(id).cloned().unwrap_or_default();
                Allocation {
                    connectors: c.into_iter().collect(),
                    tasks: t.into_iter().collect(),
                    ..Allocation::default()
                }
            };
            allocations.insert(id.clone(), allocation);
        }
        Ok(GroupAssignment { error: ASSIGNMENT_NO_ERROR, config_offset: config.offset, allocations })
    }
}

#[cfg(test)]
#[path = "cooperative_tests.rs"]
mod tests;
