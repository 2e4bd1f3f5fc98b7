//! Distributed mode under operations: rolling restarts, a worker joining, bad input, and the
//! cost of many connectors. Each test runs its own cluster of `tributary distributed`
//! processes on 127.0.0.1 against the test broker, one test at a time (they measure time and
//! CPU).
//!
//! - Rolling restart of three workers, one at a time, while a file source and datagen run:
//!   the task-side "task starting" / "task stopped" lines (they bracket each task instance's
//!   life) never overlap for one task, and every line of the file reaches the topic.
//! - A third worker joining a two-worker cluster moves exactly the two tasks it takes.
//! - Bad input: a group member with unreadable metadata, corrupt records in the config topic,
//!   and a worker with another `config.storage.topic`: clear errors, the cluster keeps working.
//! - 50 datagen connectors × 2 tasks at a low rate: CPU and RSS of each worker are printed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use common::cluster::{Cluster, call, change, read_values, spread};
use common::wait_until;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::{ApiKey, GroupId, JoinGroupRequest, JoinGroupResponse, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::json;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

/// One test at a time: each runs several workers and some measure time or CPU.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Creates a datagen connector through worker `i`.
fn datagen(cluster: &Cluster, i: usize, name: &str, topic: &str, tasks: u32, interval_ms: u32) {
    let body = json!({"name": name, "config": {
        "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "users",
        "tasks.max": tasks.to_string(), "max.interval": interval_ms.to_string(),
    }})
    .to_string();
    change("POST", &cluster.url(i, "/connectors"), Some(&body), 201);
}

/// One life of a task instance, from its "task starting" to its "task stopped" line (log
/// timestamps are fixed-width RFC 3339 in UTC, so they compare as text).
#[derive(Debug, Clone)]
struct Life {
    start: String,
    end: Option<String>,
    run: String,
}

/// `(connector, task)` from a log line of a task's span.
fn task_of(line: &str) -> Option<(String, u32)> {
    let rest = &line[line.find("task{connector=")? + "task{connector=".len()..];
    let (connector, rest) = rest.split_once(' ')?;
    let task = rest.strip_prefix("task=")?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    Some((connector.to_owned(), task))
}

/// Every task instance's life in one log; a task started twice without stopping in one
/// process counts as two lives, open ones end with `None`.
fn lives(log: &str, run: &str, out: &mut BTreeMap<(String, u32), Vec<Life>>) {
    for line in log.lines() {
        let starting = line.ends_with("task starting");
        let stopped = line.contains("task stopped");
        if !starting && !stopped {
            continue;
        }
        let Some(id) = task_of(line) else { continue };
        let at = line.split_whitespace().next().unwrap_or_default().to_owned();
        let list = out.entry(id).or_default();
        if starting {
            list.push(Life { start: at, end: None, run: run.to_owned() });
        } else if let Some(open) = list.iter_mut().rev().find(|l| l.run == run && l.end.is_none()) {
            open.end = Some(at);
        }
    }
}

/// Pairs of lives of one task that overlap in time.
fn overlaps(all: &BTreeMap<(String, u32), Vec<Life>>) -> Vec<String> {
    let mut found = Vec::new();
    for ((connector, task), lives) in all {
        let mut sorted = lives.clone();
        sorted.sort_by(|a, b| a.start.cmp(&b.start));
        for pair in sorted.windows(2) {
            let ended = pair[0].end.as_deref().unwrap_or("9999");
            if pair[1].start.as_str() <= ended {
                found.push(format!("{connector}-{task}: {:?} and {:?}", pair[0], pair[1]));
            }
        }
    }
    found
}

#[test]
fn a_rolling_restart_never_runs_two_instances_of_a_task_and_loses_nothing() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(dir.path(), bootstrap, 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let topic = unique_name("roll-file");
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let dg_topic = unique_name("roll-dg");
    rt.block_on(create_topic(bootstrap, &dg_topic, 3)).unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, "").unwrap();
    let file = json!({"name": "file", "config": {
        "connector.class": "FileStreamSource", "file": input.display().to_string(), "topic": topic,
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }})
    .to_string();
    change("POST", &cluster.url(0, "/connectors"), Some(&file), 201);
    datagen(&cluster, 0, "dg", &dg_topic, 5, 100);
    let all_running = |c: &Cluster, i: usize| {
        let file = spread(&c.status(i, "file"), 1);
        let dg = spread(&c.status(i, "dg"), 5);
        match (file, dg) {
            (Some(f), Some(d)) => f.keys().chain(d.keys()).collect::<BTreeSet<_>>().len() == 3,
            _ => false,
        }
    };
    wait_until("6 tasks RUNNING on 3 workers", Duration::from_secs(60), || all_running(&cluster, 0));

    // A writer appends lines all along.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let input = input.clone();
        std::thread::spawn(move || {
            let mut out = std::fs::OpenOptions::new().append(true).open(&input).unwrap();
            let mut written = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for _ in 0..20 {
                    writeln!(out, "line-{written:06}").unwrap();
                    written += 1;
                }
                out.flush().unwrap();
                std::thread::sleep(Duration::from_millis(50));
            }
            written
        })
    };

    let started = Instant::now();
    for i in 0..3 {
        let status = cluster.workers[i].terminate(Duration::from_secs(60));
        assert!(status.success(), "worker {i} exited with {status} on SIGTERM:\n{}", cluster.logs());
        cluster.restart(i);
        let other = (i + 1) % 3;
        wait_until(&format!("every task RUNNING after worker {i} restarted"), Duration::from_secs(90), || {
            all_running(&cluster, other)
        });
    }
    let rolled = started.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();

    wait_until("every line in the topic", Duration::from_secs(60), || {
        read_values(bootstrap, &topic).into_iter().collect::<BTreeSet<_>>().len() >= written
    });
    let values = read_values(bootstrap, &topic);
    let distinct: BTreeSet<&String> = values.iter().collect();
    assert_eq!(distinct.len(), written, "lines lost");

    // Task-side lives: every stopped process closed each of its lives, and no two lives of a
    // task overlap.
    let mut all = BTreeMap::new();
    for (i, logs) in cluster.all_logs.iter().enumerate() {
        for (n, path) in logs.iter().enumerate() {
            lives(&std::fs::read_to_string(path).unwrap(), &format!("worker {i} run {n}"), &mut all);
        }
    }
    let stopped_runs: Vec<String> = (0..3).map(|i| format!("worker {i} run 0")).collect();
    let unclosed: Vec<_> = all
        .iter()
        .flat_map(|(id, lives)| lives.iter().map(move |l| (id, l)))
        .filter(|(_, l)| l.end.is_none() && stopped_runs.contains(&l.run))
        .collect();
    assert!(unclosed.is_empty(), "a stopped worker never logged 'task stopped' for {unclosed:?}\n{}", cluster.logs());
    let instances: usize = all.values().map(Vec::len).sum();
    assert_eq!(all.len(), 6, "six tasks: {:?}", all.keys());
    let found = overlaps(&all);
    assert!(found.is_empty(), "two instances of one task ran at once:\n{}", found.join("\n"));
    println!(
        "rolling restart of 3 workers in {:.1} s: {instances} task instances of 6 tasks, none overlapping; \
         {written} lines, {} records, {} duplicates",
        rolled.as_secs_f64(),
        values.len(),
        values.len() - distinct.len()
    );
}

#[test]
fn lives_that_overlap_are_found() {
    // The checker above must be able to fail: two processes running dg-0 at once.
    let a = "2026-12-02T05:00:00.000001Z  INFO task{connector=dg task=0 kind=source}: source task starting\n\
             2026-12-02T05:00:03.000000Z  INFO task{connector=dg task=0 kind=source}: source task stopped unacknowledged=0";
    let b = "2026-12-02T05:00:02.500000Z  INFO task{connector=dg task=0 kind=source}: source task starting";
    let c = "2026-12-02T05:00:03.000001Z  INFO task{connector=dg task=1 kind=source}: source task starting";
    let mut all = BTreeMap::new();
    lives(a, "a", &mut all);
    lives(c, "c", &mut all);
    assert!(overlaps(&all).is_empty());
    lives(b, "b", &mut all);
    assert_eq!(overlaps(&all).len(), 1, "{all:?}");
}

/// Lines of `log` from byte `from` on.
fn since(log: &str, from: usize) -> &str {
    log.get(from..).unwrap_or_default()
}

#[test]
fn a_joining_worker_moves_only_the_tasks_it_takes() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(dir.path(), bootstrap, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let topic = unique_name("join-dg");
    rt.block_on(create_topic(bootstrap, &topic, 3)).unwrap();
    datagen(&cluster, 0, "dg", &topic, 6, 200);
    wait_until("6 tasks RUNNING, 3 per worker", Duration::from_secs(60), || {
        spread(&cluster.status(0, "dg"), 6).is_some_and(|s| s.len() == 2 && s.values().all(|n| *n == 3))
    });
    let before: Vec<usize> = (0..2).map(|i| cluster.workers[i].log_text().len()).collect();
    let owners_before = cluster.status(0, "dg")["tasks"].clone();

    let new = cluster.add(bootstrap, &[]);
    wait_until("6 tasks RUNNING, 2 per worker", Duration::from_secs(60), || {
        spread(&cluster.status(0, "dg"), 6).is_some_and(|s| s.len() == 3 && s.values().all(|n| *n == 2))
    });
    let mut revoked = Vec::new();
    let mut stopped = 0;
    let mut started = 0;
    for (i, from) in before.iter().enumerate() {
        let log = cluster.workers[i].log_text();
        let tail = since(&log, *from);
        for line in tail.lines().filter(|l| l.contains("joined group as")) {
            let list = line.split("revoked connectors").nth(1).unwrap_or_default();
            let (connectors, tasks) = list.split_once("and tasks").unwrap_or_default();
            assert_eq!(connectors.trim(), "[]", "a connector was revoked: {line}");
            let tasks = tasks.trim().strip_prefix('[').and_then(|t| t.split_once(']')).map_or("", |(t, _)| t);
            revoked.extend(
                tasks.split(", ").filter(|t| !t.is_empty()).map(|t| format!("worker {i}: {}", t.trim_matches('"'))),
            );
        }
        stopped += tail.matches("source task stopped").count();
        started += tail.matches("source task starting").count();
    }
    let new_log = cluster.workers[new].log_text();
    assert_eq!(revoked.len(), 2, "revocations: {revoked:?}\n{}", cluster.logs());
    assert_eq!(stopped, 2, "tasks stopped on the first two workers\n{}", cluster.logs());
    assert_eq!(started, 0, "the first two workers restarted a task\n{}", cluster.logs());
    assert_eq!(new_log.matches("source task starting").count(), 2, "{new_log}");
    // The four tasks that stayed kept their workers.
    let after = cluster.status(0, "dg")["tasks"].clone();
    let kept = owners_before
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| after.as_array().unwrap().iter().any(|a| a["id"] == t["id"] && a["worker_id"] == t["worker_id"]))
        .count();
    assert_eq!(kept, 4, "before {owners_before}\nafter {after}");
    println!("a third worker joined: {} revocations ({}), 4 tasks untouched", revoked.len(), revoked.join("; "));
}

/// Joins `group` on the (single) test broker as a member with unreadable metadata under the
/// `sessioned` protocol, and returns once the coordinator answered the join (the member then
/// goes silent, so the group drops it after its session timeout).
fn join_with_garbage_metadata(bootstrap: &str, group: &str) -> String {
    let mut stream = std::net::TcpStream::connect(bootstrap).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    let mut member_id = String::new();
    for correlation in 0..2 {
        let version = 5;
        let request = JoinGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.to_owned())))
            .with_session_timeout_ms(6000)
            .with_rebalance_timeout_ms(10000)
            .with_member_id(StrBytes::from_string(member_id.clone()))
            .with_protocol_type(StrBytes::from_static_str("connect"))
            .with_protocols(vec![
                JoinGroupRequestProtocol::default()
                    .with_name(StrBytes::from_static_str("sessioned"))
                    .with_metadata(Bytes::from_static(b"\x00\x02\xff\xffnot a worker state")),
            ]);
        let header = RequestHeader::default()
            .with_request_api_key(ApiKey::JoinGroup as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(StrBytes::from_static_str("garbage-member")));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        header.encode(&mut frame, JoinGroupRequest::header_version(version)).unwrap();
        request.encode(&mut frame, version).unwrap();
        let size = i32::try_from(frame.len() - 4).unwrap();
        frame[..4].copy_from_slice(&size.to_be_bytes());
        stream.write_all(&frame).unwrap();
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).unwrap();
        let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(size)).unwrap()];
        stream.read_exact(&mut body).unwrap();
        let mut body = Bytes::from(body);
        ResponseHeader::decode(&mut body, JoinGroupResponse::header_version(version)).unwrap();
        let response = JoinGroupResponse::decode(&mut body, version).unwrap();
        assert!(!body.has_remaining());
        member_id = response.member_id.to_string();
        match response.error_code {
            79 => continue, // MEMBER_ID_REQUIRED: join again with the id given
            0 => return member_id,
            e => panic!("JoinGroup failed with error {e}"),
        }
    }
    panic!("the coordinator kept asking for a member id")
}

#[test]
fn bad_input_gets_clear_errors_and_the_cluster_keeps_working() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(dir.path(), bootstrap, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let topic = unique_name("bad-dg");
    rt.block_on(create_topic(bootstrap, &topic, 3)).unwrap();
    datagen(&cluster, 0, "dg", &topic, 4, 200);
    let settled = |c: &Cluster| spread(&c.status(0, "dg"), 4).is_some_and(|s| s.len() == 2);
    wait_until("4 tasks RUNNING on 2 workers", Duration::from_secs(60), || settled(&cluster));
    let owners = cluster.status(0, "dg")["tasks"].clone();
    let task_starts = |c: &Cluster| c.logs().matches("source task starting").count();
    let starts = task_starts(&cluster);

    // 1. A member whose metadata is not a worker state: the leader says so and gives it no
    //    work; nothing else moves.
    let leader = cluster.leader();
    let garbage = join_with_garbage_metadata(bootstrap, &cluster.group);
    wait_until("the leader reports the unreadable member", Duration::from_secs(30), || {
        cluster.workers[leader].log_text().contains("Member metadata cannot be read; the member gets no work.")
    });
    let log = cluster.workers[leader].log_text();
    let line = log.lines().find(|l| l.contains("Member metadata cannot be read")).unwrap();
    assert!(line.contains(&garbage), "the warning names the member: {line}");
    wait_until("4 tasks RUNNING after the garbage member", Duration::from_secs(60), || settled(&cluster));
    // The silent member is dropped after its session timeout; the group rebalances again.
    std::thread::sleep(Duration::from_secs(8));
    wait_until("4 tasks RUNNING after it was dropped", Duration::from_secs(60), || settled(&cluster));
    assert_eq!(cluster.status(0, "dg")["tasks"], owners, "tasks moved");
    assert_eq!(task_starts(&cluster), starts, "a task was restarted:\n{}", cluster.logs());

    // 2. Corrupt records in the config topic: each is skipped with a warning naming its
    //    offset; later changes and a restarted worker work.
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let config_topic = format!("{}-configs", cluster.group);
    let corrupt: [(&[u8], &[u8]); 4] = [
        (b"connector-broken", b"{not json"),
        (b"\xff\xfe-not-utf8", b"{\"properties\":{}}"),
        (b"task-dg-0", b"\xff\xfe\x00"),
        (b"commit-dg", b"{\"tasks\":\"many\"}"),
    ];
    let end = |p: &BaseProducer| p.client().fetch_watermarks(&config_topic, 0, Duration::from_secs(10)).unwrap().1;
    let before = end(&producer);
    for (key, value) in corrupt {
        producer.send(BaseRecord::<[u8], [u8]>::to(&config_topic).key(key).payload(value)).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(end(&producer), before + 4, "the corrupt records are in the config topic");
    let created = unique_name("bad-after");
    rt.block_on(create_topic(bootstrap, &created, 1)).unwrap();
    datagen(&cluster, 1, "after", &created, 1, 200);
    wait_until("the connector created after the corrupt records RUNNING", Duration::from_secs(60), || {
        spread(&cluster.status(0, "after"), 1).is_some()
    });
    let logs = cluster.logs();
    let skipped: Vec<&str> =
        logs.lines().filter(|l| l.contains("config record") && l.contains(&config_topic)).collect();
    assert_eq!(skipped.len(), 4 * 2, "each worker reports each corrupt record once:\n{logs}");
    for line in &skipped {
        assert!(line.contains("skipping") && line.contains("offset="), "the report names the offset: {line}");
    }
    assert_eq!(call("GET", &cluster.url(0, "/connectors"), None).1, json!(["after", "dg"]));
    let follower = 1 - cluster.leader();
    assert!(cluster.workers[follower].terminate(Duration::from_secs(60)).success());
    cluster.restart(follower);
    wait_until("every task RUNNING after a worker read the corrupt records again", Duration::from_secs(60), || {
        settled(&cluster) && spread(&cluster.status(follower, "after"), 1).is_some()
    });

    // 3. A worker of the same group with another config topic: it says what is wrong, leaves
    //    and exits; the cluster goes on.
    let port = common::cluster::free_port();
    let other_topic = format!("{}-other-configs", cluster.group);
    let pairs = cluster.worker_props(bootstrap, port, &[("config.storage.topic", &other_topic)]);
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let props = common::write_props(&dir.path().join("odd.properties"), &borrowed);
    let odd_log = dir.path().join("odd.log");
    let mut odd = common::tributary()
        .arg("distributed")
        .arg(&props)
        .env("TRIBUTARY_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(std::fs::File::create(&odd_log).unwrap()))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = odd.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            odd.kill().unwrap();
            panic!("the odd worker kept running:\n{}", std::fs::read_to_string(&odd_log).unwrap());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let odd_text = std::fs::read_to_string(&odd_log).unwrap();
    assert!(!status.success(), "{odd_text}");
    assert!(
        odd_text.contains(&format!("this worker's config topic '{other_topic}' ends at offset"))
            && odd_text.contains("do not share one config.storage.topic"),
        "{odd_text}"
    );
    assert!(!odd_text.contains("panicked"), "{odd_text}");
    wait_until("every task RUNNING on the two workers after the odd one left", Duration::from_secs(60), || {
        settled(&cluster)
            && spread(&cluster.status(0, "after"), 1).is_some_and(|s| !s.contains_key(&format!("127.0.0.1:{port}")))
    });
    change("DELETE", &cluster.url(0, "/connectors/after"), None, 204);
    let first_error = odd_text.lines().find(|l| l.contains("ERROR")).unwrap_or_default();
    println!(
        "garbage member {garbage}: no work, no task moved; corrupt config records skipped; odd worker: {first_error}"
    );
}

/// User and system CPU seconds and resident memory (KiB) of process `pid`.
fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    (ticks as f64 / 100.0, rss)
}

#[test]
fn fifty_connectors_of_two_tasks_cpu_and_rss_per_worker() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path(), bootstrap, 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let topic = unique_name("many-dg");
    rt.block_on(create_topic(bootstrap, &topic, 3)).unwrap();
    let idle: Vec<(f64, u64)> = cluster.workers.iter().map(|w| usage(w.child.id())).collect();
    let created = Instant::now();
    for n in 0..50 {
        datagen(&cluster, n % 3, &format!("dg-{n:02}"), &topic, 2, 1000);
    }
    wait_until("100 tasks RUNNING", Duration::from_secs(180), || {
        let list = call("GET", &cluster.url(0, "/connectors?expand=status"), None).1;
        list.as_object().is_some_and(|m| m.len() == 50 && m.values().all(|c| spread(&c["status"], 2).is_some()))
    });
    let settled_in = created.elapsed();
    let list = call("GET", &cluster.url(0, "/connectors?expand=status"), None).1;
    let mut per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for c in list.as_object().unwrap().values() {
        for t in c["status"]["tasks"].as_array().unwrap() {
            *per_worker.entry(t["worker_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    let window = Duration::from_secs(30);
    let before: Vec<(f64, u64)> = cluster.workers.iter().map(|w| usage(w.child.id())).collect();
    std::thread::sleep(window);
    let after: Vec<(f64, u64)> = cluster.workers.iter().map(|w| usage(w.child.id())).collect();
    let records = read_values(bootstrap, &topic).len();
    let mut report = Vec::new();
    for i in 0..3 {
        let cpu = (after[i].0 - before[i].0) / window.as_secs_f64() * 100.0;
        let rss_mib = after[i].1 as f64 / 1024.0;
        report.push(format!(
            "worker {i} ({} tasks): CPU {cpu:.1}% of one core, RSS {rss_mib:.0} MiB (idle before: {:.0} MiB)",
            per_worker.get(&cluster.id(i)).copied().unwrap_or(0),
            idle[i].1 as f64 / 1024.0
        ));
        // Bounds far above what was measured (about 30 MiB, a few % CPU), to catch a leak or a
        // busy loop, not noise.
        assert!(rss_mib < 400.0, "{}", report.join("\n"));
        assert!(cpu < 50.0, "{}", report.join("\n"));
    }
    assert!(per_worker.values().all(|n| (33..=34).contains(n)), "{per_worker:?}");
    println!(
        "50 datagen connectors x 2 tasks (1 record/s each) on 3 workers, all RUNNING {:.1} s after the first \
         create; {records} records; measured over {} s:\n{}",
        settled_in.as_secs_f64(),
        window.as_secs(),
        report.join("\n")
    );
}
