//! Distributed mode end to end: three `tributary distributed` processes on 127.0.0.1 form a
//! cluster against the test broker (random group and topic names per test).
//!
//! - A datagen connector with `tasks.max=6` is spread 2/2/2; every worker answers the same
//!   status; a create and a config update sent to a follower are applied by the leader; a
//!   delete works from any worker.
//! - SIGKILL of the worker running a file source task: after `session.timeout.ms` plus
//!   `scheduled.rebalance.max.delay.ms` its tasks run on the others (the time is printed), and
//!   every line appended to the file meanwhile reaches the topic (at-least-once; duplicates
//!   are counted and printed).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, call, change, read_values, spread};
use common::wait_until;
use serde_json::json;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

#[test]
fn six_tasks_spread_two_per_worker_and_any_worker_serves_the_api() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path(), bootstrap, 3);
    let leader = cluster.leader();
    let follower = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    let topic = unique_name("dist-datagen");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 3)).unwrap();

    // Created through a follower: forwarded to the leader, which writes it.
    let create = json!({"name": "dg", "config": {
        "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "users",
        "tasks.max": "6", "max.interval": "200",
    }})
    .to_string();
    let info = change("POST", &cluster.url(follower, "/connectors"), Some(&create), 201);
    assert_eq!(info["name"], "dg", "{info}");
    let log = cluster.workers[leader].log_text();
    assert!(log.contains("connector config written connector=dg created=true"), "the leader wrote it:\n{log}");

    wait_until("6 tasks RUNNING, 2 per worker", Duration::from_secs(60), || {
        spread(&cluster.status(other, "dg"), 6).is_some_and(|s| s.len() == 3 && s.values().all(|n| *n == 2))
    });
    let counts = spread(&cluster.status(other, "dg"), 6).unwrap();
    for i in 0..3 {
        assert_eq!(counts.get(&cluster.id(i)), Some(&2), "{counts:?}");
    }
    // Every worker answers the same status.
    wait_until("the same status from every worker", Duration::from_secs(10), || {
        let s = cluster.status(0, "dg");
        (1..3).all(|i| cluster.status(i, "dg") == s)
    });
    for i in 0..3 {
        assert_eq!(call("GET", &cluster.url(i, "/connectors"), None).1, json!(["dg"]));
        assert_eq!(call("GET", &cluster.url(i, "/connectors/dg/config"), None).1["tasks.max"], "6");
    }

    // Pause and resume through followers: every task follows, wherever it runs.
    change("PUT", &cluster.url(follower, "/connectors/dg/pause"), None, 202);
    wait_until("every task PAUSED", Duration::from_secs(30), || {
        let s = cluster.status(other, "dg");
        s["connector"]["state"] == "PAUSED"
            && s["tasks"].as_array().is_some_and(|t| t.iter().all(|t| t["state"] == "PAUSED"))
    });
    change("PUT", &cluster.url(other, "/connectors/dg/resume"), None, 202);
    wait_until("every task RUNNING again", Duration::from_secs(30), || {
        spread(&cluster.status(leader, "dg"), 6).is_some()
    });
    // A restart of the connector and its tasks, asked of a follower, is done by their workers.
    let starts = |c: &Cluster| c.logs().matches("source task started").count();
    let before = starts(&cluster);
    let plan = change("POST", &cluster.url(follower, "/connectors/dg/restart?includeTasks=true"), None, 202);
    assert_eq!(plan["connector"]["state"], "RESTARTING", "{plan}");
    wait_until("6 tasks started again", Duration::from_secs(30), || starts(&cluster) >= before + 6);
    wait_until("restarted tasks RUNNING", Duration::from_secs(30), || {
        spread(&cluster.status(leader, "dg"), 6).is_some()
    });

    // A config update sent to a follower: applied by the leader, seen by every worker.
    let update = json!({
        "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "users",
        "tasks.max": "3", "max.interval": "200",
    })
    .to_string();
    change("PUT", &cluster.url(other, "/connectors/dg/config"), Some(&update), 200);
    wait_until("3 tasks RUNNING, one per worker", Duration::from_secs(60), || {
        spread(&cluster.status(follower, "dg"), 3).is_some_and(|s| s.len() == 3)
    });
    for i in 0..3 {
        assert_eq!(call("GET", &cluster.url(i, "/connectors/dg/config"), None).1["tasks.max"], "3");
    }

    // Delete from a follower.
    change("DELETE", &cluster.url(follower, "/connectors/dg"), None, 204);
    wait_until("deleted everywhere", Duration::from_secs(30), || {
        (0..3).all(|i| call("GET", &cluster.url(i, "/connectors"), None).1 == json!([]))
    });
    assert_eq!(call("GET", &cluster.url(other, "/connectors/dg/status"), None).0, 404);
    assert!(!cluster.logs().contains(" ERROR "), "errors logged:\n{}", cluster.logs());
}

#[test]
fn a_killed_followers_tasks_move_after_the_session_timeout_and_the_scheduled_delay_and_nothing_is_lost() {
    kill_one_worker(false);
}

#[test]
fn a_killed_leaders_tasks_move_after_the_session_timeout_and_nothing_is_lost() {
    kill_one_worker(true);
}

/// Kills the leader, or the follower running the most tasks, while a file pipeline runs.
fn kill_one_worker(kill_leader: bool) {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(dir.path(), bootstrap, 3);
    let topic = unique_name("dist-file");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, "").unwrap();
    let leader = cluster.leader();
    let file = json!({"name": "file", "config": {
        "connector.class": "FileStreamSource", "file": input.display().to_string(), "topic": topic,
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }})
    .to_string();
    change("POST", &cluster.url(leader, "/connectors"), Some(&file), 201);
    let dg_topic = unique_name("dist-dg");
    rt.block_on(create_topic(bootstrap, &dg_topic, 3)).unwrap();
    let dg = json!({"name": "dg", "config": {
        "connector.class": "DatagenConnector", "kafka.topic": dg_topic, "quickstart": "users",
        "tasks.max": "5", "max.interval": "500",
    }})
    .to_string();
    change("POST", &cluster.url(leader, "/connectors"), Some(&dg), 201);
    wait_until("every task RUNNING", Duration::from_secs(60), || {
        spread(&cluster.status(leader, "file"), 1).is_some() && spread(&cluster.status(leader, "dg"), 5).is_some()
    });

    // Lines are appended all along; the worker running the file task is killed midway.
    let mut out = std::fs::OpenOptions::new().append(true).open(&input).unwrap();
    let mut written = 0;
    let mut append = |n: usize, written: &mut usize| {
        for _ in 0..n {
            writeln!(out, "line-{:06}", *written).unwrap();
            *written += 1;
        }
        out.flush().unwrap();
    };
    for _ in 0..20 {
        append(50, &mut written);
        std::thread::sleep(Duration::from_millis(25));
    }
    let owners: Vec<String> = ["file", "dg"]
        .iter()
        .flat_map(|c| cluster.status(leader, c)["tasks"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["worker_id"].as_str().map(str::to_owned))
        .collect();
    let victim = if kill_leader {
        leader
    } else {
        (0..3).filter(|i| *i != leader).max_by_key(|i| owners.iter().filter(|o| **o == cluster.id(*i)).count()).unwrap()
    };
    let owner_id = cluster.id(victim);
    let survivor = if kill_leader { (victim + 1) % 3 } else { leader };
    let moved_tasks: usize = ["file", "dg"]
        .iter()
        .map(|c| {
            let s = cluster.status(survivor, c);
            s["tasks"].as_array().unwrap().iter().filter(|t| t["worker_id"] == json!(owner_id)).count()
        })
        .sum();
    let killed = Instant::now();
    cluster.workers[victim].kill9();
    for _ in 0..40 {
        append(50, &mut written);
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_until("the killed worker's tasks RUNNING elsewhere", Duration::from_secs(90), || {
        ["file", "dg"].iter().all(|c| {
            let s = cluster.status(survivor, c);
            let n = s["tasks"].as_array().map_or(0, Vec::len);
            spread(&s, n).is_some_and(|by| n > 0 && !by.contains_key(&owner_id))
        })
    });
    let recovery = killed.elapsed();
    append(100, &mut written);
    wait_until("every line in the topic", Duration::from_secs(60), || {
        read_values(bootstrap, &topic).into_iter().collect::<BTreeSet<_>>().len() >= written
    });
    let values = read_values(bootstrap, &topic);
    let distinct: BTreeSet<&String> = values.iter().collect();
    let expected: BTreeSet<String> = (0..written).map(|i| format!("line-{i:06}")).collect();
    assert_eq!(
        distinct.len(),
        written,
        "lost lines: {:?}",
        expected.iter().filter(|l| !distinct.contains(l)).take(5).collect::<Vec<_>>()
    );
    let role = if victim == leader { "leader" } else { "follower" };
    println!(
        "SIGKILL of the {role} {owner_id} ({moved_tasks} tasks): all tasks RUNNING again after {:.1} s \
         (session.timeout.ms 6 s, scheduled.rebalance.max.delay.ms 3 s); {written} lines, {} records, {} duplicates",
        recovery.as_secs_f64(),
        values.len(),
        values.len() - distinct.len()
    );
    // The group drops the worker a session timeout after its last heartbeat (at most one
    // heartbeat interval before the kill). A follower's work is then held for the scheduled
    // delay; a new leader has no record of what the old one assigned, so it hands the work out
    // at once (as Kafka Connect's assignor does).
    let floor = if victim == leader { Duration::from_secs(5) } else { Duration::from_secs(8) };
    assert!(recovery >= floor, "the {role}'s tasks moved after {recovery:?}, before {floor:?}");
}
