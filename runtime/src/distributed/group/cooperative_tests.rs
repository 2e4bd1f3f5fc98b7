//! The incremental cooperative assignor, round by round, as the workers would see it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ConfigSnapshot, IncrementalCooperativeAssignor};
use crate::distributed::group::assignor::{AssignmentContext, Assignor, GroupAssignment, MemberMetadata};
use crate::distributed::group::protocol::{ConnectAssignment, ConnectProtocol, ConnectorTaskId, WorkerState};

/// A test clock: a fixed origin plus an offset the test advances.
static OFFSET_MS: AtomicU64 = AtomicU64::new(0);
fn origin() -> Instant {
    static O: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *O.get_or_init(Instant::now)
}
fn clock() -> Instant {
    origin() + Duration::from_millis(OFFSET_MS.load(Ordering::SeqCst))
}

/// What each worker runs, applied round by round.
#[derive(Default)]
struct Cluster {
    running: BTreeMap<String, (Vec<String>, Vec<ConnectorTaskId>)>,
}

impl Cluster {
    fn join(&mut self, id: &str) {
        self.running.entry(id.to_owned()).or_default();
    }
    fn leave(&mut self, id: &str) {
        self.running.remove(id);
    }
    /// One rebalance: the assignor decides, every worker applies its allocation.
    fn round(&mut self, a: &IncrementalCooperativeAssignor) -> GroupAssignment {
        let members: Vec<MemberMetadata> = self
            .running
            .iter()
            .map(|(id, (c, t))| MemberMetadata {
                member_id: id.clone(),
                state: WorkerState {
                    url: format!("http://{id}:8083/"),
                    config_offset: 10,
                    assignment: Some(ConnectAssignment {
                        version: 1,
                        error: 0,
                        leader: String::new(),
                        leader_url: String::new(),
                        config_offset: 10,
                        connectors: c.clone(),
                        tasks: t.clone(),
                        revoked_connectors: vec![],
                        revoked_tasks: vec![],
                        delay: 0,
                    }),
                },
            })
            .collect();
        let leader = members.first().map(|m| m.member_id.clone()).unwrap_or_default();
        let ctx = AssignmentContext { leader_id: &leader, protocol: ConnectProtocol::Sessioned, members: &members };
        let out = a.assign(&ctx).expect("assigns");
        for (id, alloc) in &out.allocations {
            let Some((c, t)) = self.running.get_mut(id) else { continue };
            c.retain(|x| !alloc.revoked_connectors.contains(x));
            t.retain(|x| !alloc.revoked_tasks.contains(x));
            c.extend(alloc.connectors.iter().cloned());
            t.extend(alloc.tasks.iter().cloned());
        }
        out
    }
    fn tasks(&self, id: &str) -> usize {
        self.running.get(id).map_or(0, |r| r.1.len())
    }
    fn all_tasks(&self) -> Vec<ConnectorTaskId> {
        let mut v: Vec<_> = self.running.values().flat_map(|r| r.1.iter().cloned()).collect();
        v.sort();
        v
    }
    fn revocations(out: &GroupAssignment) -> usize {
        out.allocations.values().map(|a| a.revoked_tasks.len() + a.revoked_connectors.len()).sum()
    }
}

fn assignor(connectors: &[(&str, u32)]) -> IncrementalCooperativeAssignor {
    let a = IncrementalCooperativeAssignor::with_clock(Duration::from_secs(300), clock);
    a.set_config(ConfigSnapshot {
        offset: 10,
        connectors: connectors.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect(),
    });
    a
}

#[test]
fn six_tasks_spread_two_two_two_with_no_duplicates() {
    let a = assignor(&[("c", 6)]);
    let mut cl = Cluster::default();
    for w in ["w1", "w2", "w3"] {
        cl.join(w);
    }
    cl.round(&a);
    assert_eq!([cl.tasks("w1"), cl.tasks("w2"), cl.tasks("w3")], [2, 2, 2]);
    assert_eq!(cl.all_tasks().len(), 6);
    let connectors: usize = cl.running.values().map(|r| r.0.len()).sum();
    assert_eq!(connectors, 1);
    // A stable group: another round changes nothing.
    let out = cl.round(&a);
    assert_eq!(Cluster::revocations(&out), 0);
    assert!(out.allocations.values().all(|a| a.tasks.is_empty()));
}

#[test]
fn a_joining_worker_moves_only_what_it_takes() {
    let a = assignor(&[("c", 6)]);
    let mut cl = Cluster::default();
    cl.join("w1");
    cl.join("w2");
    cl.round(&a);
    assert_eq!([cl.tasks("w1"), cl.tasks("w2")], [3, 3]);
    cl.join("w3");
    let first = cl.round(&a);
    // Round 1 revokes one task from each busy worker, nothing else.
    assert_eq!(first.allocations.values().map(|a| a.revoked_tasks.len()).sum::<usize>(), 2);
    assert!(first.allocations.values().all(|a| a.tasks.is_empty()));
    // Round 2 (the revoking workers rejoin) gives them to the newcomer.
    let second = cl.round(&a);
    assert_eq!(Cluster::revocations(&second), 0);
    assert_eq!([cl.tasks("w1"), cl.tasks("w2"), cl.tasks("w3")], [2, 2, 2]);
    assert_eq!(cl.all_tasks().len(), 6);
}

#[test]
fn a_departed_workers_work_is_held_then_reassigned() {
    OFFSET_MS.store(0, Ordering::SeqCst);
    let a = assignor(&[("c", 6)]);
    let mut cl = Cluster::default();
    for w in ["w1", "w2", "w3"] {
        cl.join(w);
    }
    cl.round(&a);
    cl.leave("w3");
    let held = cl.round(&a);
    assert!(held.allocations.values().all(|a| a.tasks.is_empty()), "held, not reassigned: {held:?}");
    assert!(held.allocations.values().all(|a| a.delay > 0 && a.delay <= 300_000));
    assert_eq!(cl.all_tasks().len(), 4);
    OFFSET_MS.store(301_000, Ordering::SeqCst);
    cl.round(&a);
    assert_eq!(cl.all_tasks().len(), 6, "after the delay every task runs again");
    assert_eq!([cl.tasks("w1"), cl.tasks("w2")], [3, 3]);
}

#[test]
fn a_worker_back_within_the_delay_gets_the_work_back() {
    OFFSET_MS.store(0, Ordering::SeqCst);
    let a = assignor(&[("c", 6)]);
    let mut cl = Cluster::default();
    for w in ["w1", "w2", "w3"] {
        cl.join(w);
    }
    cl.round(&a);
    cl.leave("w3");
    cl.round(&a);
    cl.join("w3b"); // restarted: a new member id
    let back = cl.round(&a);
    assert_eq!(back.allocations["w3b"].tasks.len(), 2, "{back:?}");
    assert_eq!(Cluster::revocations(&back), 0, "nobody else moves");
    assert_eq!(cl.all_tasks().len(), 6);
}

#[test]
fn deleted_connectors_are_revoked_and_a_leader_behind_says_so() {
    let a = assignor(&[("c", 2), ("d", 2)]);
    let mut cl = Cluster::default();
    cl.join("w1");
    cl.join("w2");
    cl.round(&a);
    a.set_config(ConfigSnapshot { offset: 10, connectors: [("c".to_owned(), 2)].into() });
    let out = cl.round(&a);
    let revoked: usize = out.allocations.values().map(|a| a.revoked_tasks.len()).sum();
    assert_eq!(revoked, 2);
    assert!(cl.all_tasks().iter().all(|t| t.connector == "c"));
    a.set_config(ConfigSnapshot { offset: 5, connectors: [("c".to_owned(), 2)].into() });
    assert_eq!(cl.round(&a).error, crate::distributed::group::protocol::ASSIGNMENT_CONFIG_MISMATCH);
}

#[test]
fn eager_rounds_deal_everything_out_with_no_hold() {
    OFFSET_MS.store(0, Ordering::SeqCst);
    let a = assignor(&[("c", 6), ("d", 3)]);
    let members: Vec<MemberMetadata> = ["w1", "w2", "w3"]
        .iter()
        .map(|id| MemberMetadata {
            member_id: (*id).to_owned(),
            state: WorkerState { url: String::new(), config_offset: 10, assignment: None },
        })
        .collect();
    for round in 0..2 {
        // The second round drops a member: eager protocols hold nothing back.
        let ms = &members[..3 - round];
        let ctx = AssignmentContext { leader_id: "w1", protocol: ConnectProtocol::Eager, members: ms };
        let out = a.assign(&ctx).expect("assigns");
        let tasks: usize = out.allocations.values().map(|a| a.tasks.len()).sum();
        let connectors: usize = out.allocations.values().map(|a| a.connectors.len()).sum();
        assert_eq!((tasks, connectors), (9, 2), "round {round}: {out:?}");
        assert!(out.allocations.values().all(|a| a.delay == 0 && a.revoked_tasks.is_empty()));
        let most = out.allocations.values().map(|a| a.tasks.len()).max().unwrap_or(0);
        let least = out.allocations.values().map(|a| a.tasks.len()).min().unwrap_or(0);
        assert!(most - least <= 1, "balanced: {out:?}");
    }
}
