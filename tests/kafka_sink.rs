//! Kafka-to-Kafka exactness: the Kafka sink copies 200,000 numbered records (3 partitions) to
//! another topic on a `tributary distributed` worker SIGKILLed three times mid-copy. With
//! `exactly.once.enabled` (records and consumed offsets in one transaction,
//! `send_offsets_to_transaction`) a read_committed consumer of the copy sees every number
//! exactly once; the same run with `exactly.once.enabled=false` shows duplicates, which proves
//! the check can fail. Both counts are printed.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, change, spread};
use common::numbers::{committed_numbers, end_offsets, tally};
use common::send_waiting;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

/// One test at a time: they kill workers and count on time.
static SERIAL: Mutex<()> = Mutex::new(());

const RECORDS: u64 = 200_000;
const PARTITIONS: i32 = 3;

fn number(v: &[u8]) -> u64 {
    std::str::from_utf8(v).unwrap().parse().unwrap()
}

/// A topic holding the numbers 0..RECORDS as string values, keyed by themselves.
fn numbered_topic(bootstrap: &str) -> String {
    let topic = unique_name("k2k-in");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, PARTITIONS)).unwrap();
    let producer: BaseProducer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("linger.ms", "20").create().unwrap();
    for n in 0..RECORDS {
        let text = n.to_string();
        send_waiting(&producer, BaseRecord::<str, str>::to(&topic).key(&text).payload(&text));
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    topic
}

/// The sum of the offsets `group` committed on `topic`'s partitions.
fn committed_offsets(bootstrap: &str, group: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("group.id", group).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    committed.elements().iter().filter_map(|e| if let Offset::Offset(o) = e.offset() { Some(o) } else { None }).sum()
}

/// Copies `input` with the Kafka sink on one worker killed three times, and returns what a
/// read_committed consumer of the copy sees: (records, missing, duplicates).
fn copy_with_kills(bootstrap: &str, input: &str, exactly_once: bool) -> (usize, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    // Consumers of a killed worker leave the sink's group after this, not after the default
    // 45 s.
    let mut cluster = Cluster::start_with(
        dir.path(),
        bootstrap,
        1,
        &[("consumer.session.timeout.ms", "6000"), ("consumer.heartbeat.interval.ms", "1000")],
    );
    let output = format!("{input}.copy-{}", if exactly_once { "eos" } else { "alo" });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &output, PARTITIONS)).unwrap();
    // A name of its own: the sink's consumer group is `connect-<name>` on the shared broker.
    let name = unique_name("copy");
    let body = json!({"name": name, "config": {
        "connector.class": "KafkaSinkConnector", "topics": input, "tasks.max": "2",
        "kafka.topic.format": format!("${{topic}}.copy-{}", if exactly_once { "eos" } else { "alo" }),
        "exactly.once.enabled": exactly_once.to_string(),
        "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    }})
    .to_string();
    change("POST", &cluster.url(0, "/connectors"), Some(&body), 201);
    for (i, share) in [15u64, 45, 75].into_iter().enumerate() {
        let at = i64::try_from(RECORDS * share / 100).unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while end_offsets(bootstrap, &output, PARTITIONS) < at {
            assert!(
                Instant::now() < deadline,
                "{share}% not copied within 120 s: {}\n{}",
                cluster.status(0, &name),
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(53 * (i as u64 + 1)));
        cluster.workers[0].kill9();
        cluster.restart(0);
    }
    // Done when the group's committed offsets reach the input's end: the copy's end offset
    // also counts aborted records and transaction markers.
    let deadline = Instant::now() + Duration::from_secs(300);
    while committed_offsets(bootstrap, &format!("connect-{name}"), input) < i64::try_from(RECORDS).unwrap() {
        assert!(Instant::now() < deadline, "the copy did not finish: {}\n{}", cluster.status(0, &name), cluster.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Both tasks run again after the last restart (the copy may finish on one task while the
    // other is still starting: its partitions then went to the first).
    let deadline = Instant::now() + Duration::from_secs(60);
    while spread(&cluster.status(0, &name), 2).is_none() {
        assert!(Instant::now() < deadline, "not both tasks RUNNING: {}\n{}", cluster.status(0, &name), cluster.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    let numbers = committed_numbers(bootstrap, &output, number);
    let (missing, duplicates) = tally(&numbers, RECORDS);
    (numbers.len(), missing, duplicates)
}

#[test]
fn a_killed_worker_copies_each_record_once_with_transactions_and_duplicates_without() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let input = numbered_topic(bootstrap);
    let started = Instant::now();
    let (eos_records, eos_missing, eos_duplicates) = copy_with_kills(bootstrap, &input, true);
    let eos_time = started.elapsed();
    let started = Instant::now();
    let (alo_records, alo_missing, alo_duplicates) = copy_with_kills(bootstrap, &input, false);
    println!(
        "3 SIGKILLs while copying {RECORDS} numbered records: exactly-once {eos_records} read_committed records, \
         {eos_missing} missing, {eos_duplicates} duplicates ({:.0} s); at-least-once {alo_records} records, \
         {alo_missing} missing, {alo_duplicates} duplicates ({:.0} s)",
        eos_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!((eos_missing, eos_duplicates), (0, 0), "the exactly-once copy lost or repeated records");
    assert_eq!(alo_missing, 0, "the at-least-once copy lost records");
    assert!(alo_duplicates > 0, "the at-least-once copy shows no duplicate: the check could not fail");
}
