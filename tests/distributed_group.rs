//! Group membership with protocol type `connect` against the real Apache Kafka test broker:
//! members join, rebalance when one joins, leaves or disappears, and the metadata crosses the
//! broker byte for byte; and a Tributary member joins a real Kafka Connect worker's group.
//!
//! Run: `cargo test --test distributed_group` (starts the test broker if none runs).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tributary_runtime::distributed::group::{
    ConnectProtocol, ConnectorTaskId, Generation, GroupConfig, GroupMember, RoundRobinAssignor,
};
use tributary_testcontainers::{TestEnv, unique_name};

enum Cmd {
    Leave,
    Crash,
}

/// A member driven by its own task: it rejoins whenever the group needs it and reports each
/// generation with the metadata it sent for it.
struct Driver {
    cmd: mpsc::Sender<Cmd>,
    generations: mpsc::Receiver<(Generation, Vec<u8>)>,
    latest: Option<Generation>,
    sent_metadata: Option<Vec<u8>>,
}

fn config(bootstrap: &str, group: &str) -> GroupConfig {
    GroupConfig::new(bootstrap, group).with_timeouts(
        Duration::from_secs(6),
        Duration::from_secs(20),
        Duration::from_millis(500),
    )
}

fn assignor() -> Arc<RoundRobinAssignor> {
    Arc::new(RoundRobinAssignor::new([("conn-a", 4u32), ("conn-b", 3)]))
}

fn spawn_member(bootstrap: &str, group: &str, n: usize) -> Driver {
    let mut member =
        GroupMember::new(config(bootstrap, group), format!("http://127.0.0.1:{}/", 9000 + n), 0, assignor());
    let (cmd_tx, mut cmd_rx) = mpsc::channel(4);
    let (gen_tx, gen_rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut events = member.subscribe();
        loop {
            let sent = member.metadata(ConnectProtocol::Sessioned).expect("metadata encodes").to_vec();
            match member.join().await {
                Ok(g) => {
                    if gen_tx.send((g, sent)).await.is_err() {
                        return;
                    }
                }
                Err(e) => panic!("join failed: {e}"),
            }
            loop {
                tokio::select! {
                    cmd = cmd_rx.recv() => match cmd {
                        Some(Cmd::Leave) => { member.leave().await.expect("leave"); return; }
                        Some(Cmd::Crash) | None => { drop(member); return; }
                    },
                    changed = events.changed() => {
                        if changed.is_err() { return; }
                        if events.borrow_and_update().is_some() { break; }
                    }
                }
            }
        }
    });
    Driver { cmd: cmd_tx, generations: gen_rx, latest: None, sent_metadata: None }
}

/// Waits until every driver's latest generation is the same one with `drivers.len()` members.
async fn settle(drivers: &mut [&mut Driver], timeout: Duration) -> i32 {
    let deadline = Instant::now() + timeout;
    loop {
        for d in drivers.iter_mut() {
            while let Ok((g, sent)) = d.generations.try_recv() {
                d.latest = Some(g);
                d.sent_metadata = Some(sent);
            }
        }
        let ids: BTreeSet<i32> = drivers.iter().filter_map(|d| d.latest.as_ref().map(|g| g.generation_id)).collect();
        let all = drivers.iter().all(|d| d.latest.is_some());
        let leader_sees = drivers
            .iter()
            .filter_map(|d| d.latest.as_ref())
            .find(|g| g.is_leader && ids.len() == 1 && Some(&g.generation_id) == ids.first())
            .map(|g| g.members.len());
        if all && ids.len() == 1 && leader_sees == Some(drivers.len()) {
            return *ids.first().expect("one id");
        }
        assert!(Instant::now() < deadline, "group did not settle: generations {ids:?}, leader sees {leader_sees:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One leader, the same leader for all, every connector and task assigned exactly once, and the
/// metadata each member sent reaching the leader byte for byte.
fn check_generation(drivers: &[&mut Driver]) {
    let gens: Vec<&Generation> = drivers.iter().filter_map(|d| d.latest.as_ref()).collect();
    assert_eq!(gens.iter().filter(|g| g.is_leader).count(), 1, "exactly one leader");
    let leader = gens.iter().find(|g| g.is_leader).expect("leader");
    assert!(gens.iter().all(|g| g.leader_id == leader.leader_id && g.protocol == ConnectProtocol::Sessioned));
    let mut connectors = Vec::new();
    let mut tasks: Vec<ConnectorTaskId> = Vec::new();
    for g in &gens {
        assert_eq!(g.assignment.leader, leader.member_id);
        connectors.extend(g.assignment.connectors.iter().cloned());
        tasks.extend(g.assignment.tasks.iter().cloned());
    }
    connectors.sort();
    tasks.sort();
    assert_eq!(connectors, ["conn-a", "conn-b"]);
    let expected: Vec<ConnectorTaskId> = (0..4)
        .map(|t| ConnectorTaskId::new("conn-a", t))
        .chain((0..3).map(|t| ConnectorTaskId::new("conn-b", t)))
        .collect();
    assert_eq!(tasks, expected, "every task exactly once");
    let by_id: BTreeMap<&str, &Driver> =
        drivers.iter().map(|d| (d.latest.as_ref().map(|g| g.member_id.as_str()).unwrap_or(""), &**d)).collect();
    for m in &leader.members {
        let sent = by_id[m.member_id.as_str()].sent_metadata.as_ref().expect("sent");
        assert_eq!(&m.raw_metadata[..], &sent[..], "metadata of {} crossed the broker unchanged", m.member_id);
        assert!(m.metadata.is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_join_rebalance_on_join_leave_and_crash() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let group = unique_name("tributary-group");
    let started = Instant::now();
    let (mut a, mut b, mut c) =
        (spawn_member(bootstrap, &group, 1), spawn_member(bootstrap, &group, 2), spawn_member(bootstrap, &group, 3));
    let g3 = settle(&mut [&mut a, &mut b, &mut c], Duration::from_secs(60)).await;
    check_generation(&[&mut a, &mut b, &mut c]);
    eprintln!("three members in generation {g3} after {:?}", started.elapsed());

    let t = Instant::now();
    let mut d = spawn_member(bootstrap, &group, 4);
    let g4 = settle(&mut [&mut a, &mut b, &mut c, &mut d], Duration::from_secs(60)).await;
    assert!(g4 > g3, "a fourth member starts a new generation");
    check_generation(&[&mut a, &mut b, &mut c, &mut d]);
    eprintln!("four members in generation {g4} after {:?}", t.elapsed());

    let t = Instant::now();
    let left = d.latest.as_ref().map(|g| g.member_id.clone()).expect("joined");
    d.cmd.send(Cmd::Leave).await.expect("driver runs");
    let g5 = settle(&mut [&mut a, &mut b, &mut c], Duration::from_secs(60)).await;
    assert!(g5 > g4);
    check_generation(&[&mut a, &mut b, &mut c]);
    let leader = [&a, &b, &c].into_iter().filter_map(|d| d.latest.as_ref()).find(|g| g.is_leader).expect("leader");
    assert!(leader.members.iter().all(|m| m.member_id != left));
    eprintln!("LeaveGroup: generation {g5} without it after {:?}", t.elapsed());

    let t = Instant::now();
    let crashed = c.latest.as_ref().map(|g| g.member_id.clone()).expect("joined");
    c.cmd.send(Cmd::Crash).await.expect("driver runs");
    let g6 = settle(&mut [&mut a, &mut b], Duration::from_secs(60)).await;
    assert!(g6 > g5);
    check_generation(&[&mut a, &mut b]);
    let elapsed = t.elapsed();
    let leader = [&a, &b].into_iter().filter_map(|d| d.latest.as_ref()).find(|g| g.is_leader).expect("leader");
    assert!(leader.members.iter().all(|m| m.member_id != crashed));
    assert!(elapsed >= Duration::from_secs(5), "a silent member is dropped after the session timeout, not before");
    eprintln!("crash: generation {g6} without it after {elapsed:?} (session timeout 6 s)");

    for d in [a, b] {
        d.cmd.send(Cmd::Leave).await.expect("driver runs");
    }
}

/// Joins the group of Kafka Connect's own distributed worker (scripts/kafka-connect.sh, port
/// 18083), decodes the assignment its leader computes for us, and leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_a_kafka_connect_workers_group() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    if std::net::TcpStream::connect_timeout(&"127.0.0.1:18083".parse().expect("addr"), Duration::from_secs(1)).is_err()
    {
        eprintln!("SKIPPED: no Kafka Connect worker on 18083 (bash scripts/kafka-connect.sh start --port 18083)");
        return;
    }
    let config = GroupConfig::new(bootstrap, "tributary-diff-connect-18083").with_timeouts(
        Duration::from_secs(10),
        Duration::from_secs(60),
        Duration::from_secs(1),
    );
    let mut member = GroupMember::new(config, "http://127.0.0.1:9/", -1, Arc::new(RoundRobinAssignor::default()));
    let generation = member.join().await.expect("joins Kafka Connect's group");
    eprintln!("joined Kafka Connect's group: {generation:#?}");
    // Leave before asserting, so a failed check does not leave Kafka Connect's group waiting
    // for this member's session to expire.
    let checked = check_kafka_connect_generation(&generation);
    member.leave().await.expect("leaves");
    checked.unwrap_or_else(|e| panic!("{e}"));
}

/// What a member of Kafka Connect 4.1's group can verify of the bytes Kafka Connect sent it.
fn check_kafka_connect_generation(generation: &Generation) -> Result<(), String> {
    let ensure = |ok: bool, what: &str| if ok { Ok(()) } else { Err(format!("{what}: {generation:#?}")) };
    ensure(generation.protocol == ConnectProtocol::Sessioned, "Kafka Connect 4.x negotiates sessioned")?;
    if generation.is_leader {
        // We won the election: Kafka Connect's worker's metadata must decode.
        let theirs = generation.members.iter().find(|m| m.member_id != generation.member_id);
        let state = theirs.and_then(|m| m.metadata.as_ref().ok());
        ensure(state.is_some_and(|s| s.url == "http://127.0.0.1:18083/"), "Kafka Connect's metadata decodes")
    } else {
        let a = &generation.assignment;
        ensure(a.version == 2, "a sessioned (v2) assignment")?;
        ensure(!a.failed(), "no config mismatch")?;
        ensure(a.leader_url == "http://127.0.0.1:18083/", "the leader's REST URL")?;
        ensure(a.leader == generation.leader_id, "the leader's member id")?;
        ensure(a.config_offset >= 0, "the leader's config offset")
    }
}
