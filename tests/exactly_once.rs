//! Exactly-once sources (KIP-618) against Apache Kafka, with worker processes killed mid-stream.
//!
//! - Chaos: a datagen source of 1,000,000 numbered records (the `orders` quickstart numbers
//!   `orderid` from 0) on one `tributary distributed` worker, SIGKILLed five times while it
//!   runs and restarted each time. With `exactly.once.source.support=enabled` a read_committed
//!   consumer sees every number exactly once; the same run without it shows duplicates (which
//!   proves the check can fail). Both counts are printed.
//! - Fencing: a worker frozen with SIGSTOP (a zombie cut off from the group) is replaced by a
//!   second worker, whose task fences the zombie's transactional id; once thawed, the zombie's
//!   next commit fails as fenced and its task stops, and every number is still there once.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, change, spread};
use common::numbers::{end_offsets, settled, tally};
use common::wait_until;
use rdkafka::ClientConfig;
use rdkafka::message::Message;
use serde_json::{Value, json};
use tributary_testcontainers::{TestEnv, create_topic, repo_root, topic_end_offset, unique_name};

/// One test at a time: they kill workers and count on time.
static SERIAL: Mutex<()> = Mutex::new(());

const RECORDS: u64 = 1_000_000;

fn eos() -> [(&'static str, &'static str); 1] {
    [("exactly.once.source.support", "enabled")]
}

/// A datagen connector numbering its records (`orderid` 0, 1, ...), `count` of them.
fn numbered(cluster: &Cluster, topic: &str, count: u64) {
    numbered_with(cluster, topic, count, &[]);
}

/// [`numbered`] with `extra` connector keys.
fn numbered_with(cluster: &Cluster, topic: &str, count: u64, extra: &[(&str, &str)]) {
    let mut body = json!({"name": "numbers", "config": {
        "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "orders",
        "iterations": count.to_string(), "max.interval": "0", "tasks.max": "1", "random.seed": "7",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    }});
    for (k, v) in extra {
        body["config"][*k] = json!(v);
    }
    change("POST", &cluster.url(0, "/connectors"), Some(&body.to_string()), 201);
}

/// Every `orderid` a read_committed consumer reads from `topic` up to its current end.
fn committed_numbers(bootstrap: &str, topic: &str) -> Vec<u64> {
    common::numbers::committed_numbers(bootstrap, topic, |v| {
        serde_json::from_slice::<Value>(v).unwrap()["orderid"].as_u64().unwrap()
    })
}

/// Runs the numbered source on one worker, SIGKILLs and restarts it at five points of the
/// stream, and returns what a read_committed consumer sees: (records, missing, duplicates).
fn chaos(bootstrap: &str, extra: &[(&str, &str)]) -> (usize, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start_with(dir.path(), bootstrap, 1, extra);
    let topic = unique_name("eos-numbers");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 3)).unwrap();
    numbered(&cluster, &topic, RECORDS);
    for (i, share) in [8u64, 25, 45, 65, 85].into_iter().enumerate() {
        let at = i64::try_from(RECORDS * share / 100).unwrap();
        wait_until(&format!("{share}% of the records written"), Duration::from_secs(300), || {
            end_offsets(bootstrap, &topic, 3) >= at
        });
        // A little later than the mark, not always at the same phase of a transaction.
        std::thread::sleep(Duration::from_millis(37 * (i as u64 + 1)));
        cluster.workers[0].kill9();
        cluster.restart(0);
    }
    settled(bootstrap, &topic, 3, RECORDS);
    assert!(spread(&cluster.status(0, "numbers"), 1).is_some(), "{}", cluster.status(0, "numbers"));
    let numbers = committed_numbers(bootstrap, &topic);
    let (missing, duplicates) = tally(&numbers, RECORDS);
    (numbers.len(), missing, duplicates)
}

#[test]
fn a_killed_worker_with_exactly_once_delivers_each_record_once_and_without_it_duplicates() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let started = Instant::now();
    let (eos_records, eos_missing, eos_duplicates) = chaos(bootstrap, &eos());
    let eos_time = started.elapsed();
    let started = Instant::now();
    let (alo_records, alo_missing, alo_duplicates) = chaos(bootstrap, &[]);
    println!(
        "5 SIGKILLs during {RECORDS} numbered records: exactly-once {eos_records} read_committed records, \
         {eos_missing} missing, {eos_duplicates} duplicates ({:.0} s); at-least-once {alo_records} records, \
         {alo_missing} missing, {alo_duplicates} duplicates ({:.0} s)",
        eos_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!((eos_missing, eos_duplicates), (0, 0), "exactly-once lost or repeated records");
    assert_eq!(alo_missing, 0, "at-least-once lost records");
    assert!(alo_duplicates > 0, "the at-least-once run shows no duplicate: the check could not fail");
}

#[test]
fn a_zombie_worker_is_fenced_and_only_the_new_owner_commits() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start_with(dir.path(), bootstrap, 1, &eos());
    let topic = unique_name("eos-zombie");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let count = 200_000;
    numbered(&cluster, &topic, count);
    wait_until("records flowing", Duration::from_secs(60), || {
        topic_end_offset(bootstrap, &topic).unwrap_or(0) > 20_000
    });
    // Freeze the owner: cut off from the group, it will wake believing it still owns the task.
    let zombie = cluster.workers[0].child.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &zombie]).status().unwrap().success());
    let second = cluster.add(bootstrap, &eos());
    wait_until("the task RUNNING on the second worker", Duration::from_secs(60), || {
        spread(&cluster.status(second, "numbers"), 1).is_some_and(|s| s.contains_key(&cluster.id(second)))
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(Command::new("kill").args(["-CONT", &zombie]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cluster.workers[0].log_text().contains("was fenced") {
        assert!(Instant::now() < deadline, "the zombie's task was not fenced:\n{}", cluster.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    settled(bootstrap, &topic, 1, count);
    let numbers = committed_numbers(bootstrap, &topic);
    let (missing, duplicates) = tally(&numbers, count);
    let log = cluster.workers[0].log_text();
    let fenced = log.lines().find(|l| l.contains("was fenced")).unwrap_or_default().to_owned();
    let states: BTreeMap<String, Value> =
        (0..2).map(|i| (cluster.id(i), cluster.status(i, "numbers")["tasks"][0].clone())).collect();
    println!(
        "zombie fenced: {fenced}\n{} records, {missing} missing, {duplicates} duplicates; {states:?}",
        numbers.len()
    );
    assert_eq!((missing, duplicates), (0, 0), "{}", cluster.logs());
}

/// A broker of its own whose transaction coordinator cannot work (its transaction log wants 3
/// replicas on one node); stopped when dropped.
struct NoTransactionsBroker {
    port: u16,
}

impl NoTransactionsBroker {
    fn start(port: u16) -> Self {
        let script = repo_root().join("scripts/kafka.sh");
        let status = Command::new("bash")
            .arg(&script)
            .args(["start", "--port", &port.to_string(), "--set", "transaction.state.log.replication.factor=3"])
            .status()
            .unwrap();
        assert!(status.success(), "cannot start the second broker");
        Self { port }
    }
}

impl Drop for NoTransactionsBroker {
    fn drop(&mut self) {
        let script = repo_root().join("scripts/kafka.sh");
        let _ = Command::new("bash").arg(&script).args(["stop", "--port", &self.port.to_string()]).status();
    }
}

#[test]
fn dev_refuses_exactly_once_on_a_cluster_that_cannot_do_transactions() {
    if TestEnv::get().kafka().is_none() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let broker = NoTransactionsBroker::start(19492);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = common::tributary()
        .arg("dev")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--bootstrap-servers", &format!("127.0.0.1:{}", broker.port), "--exactly-once"])
        .args(["--rest-port", "18493", "--registry-port", "18494"])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "dev ran without transactions:\n{text}");
    assert!(
        text.contains(
            "exactly.once.source.support=enabled, but the Kafka cluster at 127.0.0.1:19492 cannot do transactions"
        ),
        "{text}"
    );
    println!(
        "dev --exactly-once on a cluster without a working transaction coordinator: refused after {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        text.lines().find(|l| l.contains("cannot do transactions")).unwrap_or_default()
    );
}

/// The errors of one key in a validation answer.
fn key_errors(answer: &Value, key: &str) -> Vec<String> {
    answer["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["value"]["name"] == key)
        .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn exactly_once_preflight_checks_as_kafka_connect() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start_with(dir.path(), bootstrap, 1, &eos());
    let validate = |class: &str, extra: &[(&str, &str)]| -> Value {
        let mut config =
            json!({"connector.class": class, "name": "v", "topic": "t", "kafka.topic": "t", "quickstart": "users"});
        for (k, v) in extra {
            config[*k] = json!(v);
        }
        let url = cluster.url(0, &format!("/connector-plugins/{class}/config/validate"));
        common::cluster::call("PUT", &url, Some(&config.to_string())).1
    };
    let required = [("exactly.once.support", "required")];
    assert_eq!(key_errors(&validate("DatagenConnector", &required), "exactly.once.support"), Vec::<String>::new());
    assert_eq!(
        key_errors(
            &validate("FileStreamSource", &[("exactly.once.support", "required"), ("file", "")]),
            "exactly.once.support"
        ),
        vec!["The connector does not support exactly-once semantics with the provided configuration.".to_owned()]
    );
    let connector_boundary = validate("DatagenConnector", &[("transaction.boundary", "connector")]);
    assert_eq!(
        key_errors(&connector_boundary, "transaction.boundary"),
        vec![
            "The connector does not support connector-defined transaction boundaries with the given configuration. \
              Please reconfigure it to use a different transaction boundary definition."
                .to_owned()
        ]
    );
    // A connector created with required and an interval boundary runs.
    let topic = unique_name("eos-interval");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let body = json!({"name": "interval", "config": {
        "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "orders", "iterations": "5000",
        "max.interval": "0", "exactly.once.support": "required", "transaction.boundary": "interval",
        "transaction.boundary.interval.ms": "100",
    }})
    .to_string();
    change("POST", &cluster.url(0, "/connectors"), Some(&body), 201);
    settled(bootstrap, &topic, 1, 5000);
    assert!(cluster.logs().contains("transactional producer ready"), "{}", cluster.logs());
}

#[test]
fn the_leader_fences_the_previous_generation_before_new_tasks_start() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start_with(dir.path(), bootstrap, 1, &eos());
    let topic = unique_name("eos-shrink");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let config = |tasks: u32| {
        json!({"connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "orders",
               "max.interval": "50", "tasks.max": tasks.to_string()})
        .to_string()
    };
    change("PUT", &cluster.url(0, "/connectors/shrink/config"), Some(&config(3)), 201);
    wait_until("3 tasks RUNNING", Duration::from_secs(60), || spread(&cluster.status(0, "shrink"), 3).is_some());
    // A zombie of task 2: a producer with its transactional id, in the middle of a transaction.
    let zombie: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("transactional.id", format!("{}-shrink-2", cluster.group))
        .create()
        .unwrap();
    zombie.init_transactions(Duration::from_secs(30)).unwrap();
    zombie.begin_transaction().unwrap();
    zombie.send(BaseRecord::<str, str>::to(&topic).payload("zombie")).map_err(|(e, _)| e).unwrap();
    zombie.flush(Duration::from_secs(10)).unwrap();
    let mark = cluster.workers[0].log_text().len();
    change("PUT", &cluster.url(0, "/connectors/shrink/config"), Some(&config(1)), 200);
    let done = "fenced the previous generation's transactional producers";
    wait_until("the leader's fencing", Duration::from_secs(60), || {
        cluster.workers[0].log_text()[mark..].contains(done)
    });
    wait_until("the new generation's task RUNNING", Duration::from_secs(60), || {
        let log = cluster.workers[0].log_text();
        let after = &log[mark..][log[mark..].find(done).unwrap_or(0)..];
        after.contains("source task started") && spread(&cluster.status(0, "shrink"), 1).is_some()
    });
    let log = cluster.workers[0].log_text();
    let tail = &log[mark..];
    let fenced = tail.find(done).unwrap_or_default();
    let line = tail[fenced..].lines().next().unwrap_or_default();
    assert!(line.contains("fenced=3") && line.contains("tasks=1"), "{line}");
    // The zombie of task 2 (beyond the new task count) can no longer commit.
    let committed = zombie.commit_transaction(Duration::from_secs(30));
    assert!(committed.is_err(), "the zombie committed after the fencing");
    println!("task count 3 -> 1: {line}\nthe zombie's commit: {}", committed.unwrap_err());
}

/// Every (key, value) of an offsets topic, read_committed, in order per partition (every key of
/// one task lands in one partition); `None` for a tombstone.
fn offset_records(bootstrap: &str, topic: &str) -> Vec<(String, Option<Value>)> {
    common::numbers::read_all(bootstrap, topic, "read_committed", |m| {
        let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
        (key, m.payload().map(|p| serde_json::from_slice(p).unwrap()))
    })
}

/// The last value of `key` in `records`.
fn last_of<'a>(records: &'a [(String, Option<Value>)], key: &str) -> Option<&'a Option<Value>> {
    records.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[test]
fn a_connector_with_its_own_offsets_topic_commits_its_offsets_there() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start_with(dir.path(), bootstrap, 1, &eos());
    let topic = unique_name("own-offsets-data");
    let own = unique_name("own-offsets");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let count = 60_000;
    numbered_with(&cluster, &topic, count, &[("offsets.storage.topic", own.as_str())]);
    wait_until("40% of the records written", Duration::from_secs(120), || {
        topic_end_offset(bootstrap, &topic).unwrap_or(0) >= 24_000
    });
    // The restarted task resumes from its own topic: a resume from anywhere else would
    // repeat or skip numbers.
    cluster.workers[0].kill9();
    cluster.restart(0);
    settled(bootstrap, &topic, 1, count);
    let (missing, duplicates) = tally(&committed_numbers(bootstrap, &topic), count);
    assert_eq!((missing, duplicates), (0, 0), "{}", cluster.logs());

    let key = r#"["numbers",{"task.id":0}]"#;
    let records = offset_records(bootstrap, &own);
    assert!(records.len() > 1, "one offset record per transaction in {own}: {records:?}");
    assert!(records.iter().all(|(k, _)| k == key), "Kafka Connect's offset keys: {records:?}");
    let last = last_of(&records, key).cloned().flatten().unwrap();
    assert_eq!(last["current.iteration"], json!(count), "{last}");
    // Copied to the worker's topic after each commit, as Kafka Connect does.
    let global = format!("{}-offsets", cluster.group);
    wait_until("the offsets copied to the worker's topic", Duration::from_secs(30), || {
        last_of(&offset_records(bootstrap, &global), key).cloned().flatten().as_ref() == Some(&last)
    });
    let url = cluster.url(0, "/connectors/numbers/offsets");
    let listed = change("GET", &url, None, 200);
    assert_eq!(listed["offsets"][0]["offset"], last, "{listed}");

    // A reset removes the offsets from both topics, so none comes back from the fallback.
    change("PUT", &cluster.url(0, "/connectors/numbers/stop"), None, 204);
    wait_until("the connector STOPPED", Duration::from_secs(30), || {
        cluster.status(0, "numbers")["connector"]["state"] == "STOPPED"
    });
    change("DELETE", &url, None, 200);
    assert_eq!(change("GET", &url, None, 200)["offsets"], json!([]));
    for t in [&own, &global] {
        assert_eq!(last_of(&offset_records(bootstrap, t), key), Some(&None), "a tombstone ends {t}");
    }
    println!(
        "own offsets topic: {} offset records in {own}, last {last}; {count} numbers once each after a SIGKILL",
        records.len()
    );
}
