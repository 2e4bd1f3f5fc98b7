//! Throughput of the Kafka sink (Kafka to Kafka on one cluster), exactly-once and at-least-once,
//! as a ratio to a bare rdkafka copy loop measured in the same run.
//!
//! Run: `scripts/kafka.sh start --port 19092 && cargo bench --bench kafka_sink`
//! (`BENCH_RECORDS` sets the record count, default 500000; `BENCH_ROUNDS` the rounds, default
//! 3; `KAFKA_BOOTSTRAP_SERVERS` the broker).
//!
//! The input is one partition of N records of 100 bytes. The baseline is a loop in this
//! process: a read_committed consumer and a plain idempotent producer, copying until N records
//! are acknowledged. Each sink mode runs a `tributary distributed` worker process (the release
//! binary) with one task (ByteArrayConverter, offset.flush.interval.ms 500), timed from the
//! connector's creation until its consumer group has committed offset N. The modes alternate
//! within each round; the median records/s per mode and its ratio to the baseline are printed.

mod support;
use support::{env_or, median};

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, change};
use common::send_waiting;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;
use tributary_testcontainers::{create_topic, unique_name};

/// A topic of `n` records of 100 bytes.
fn input(bootstrap: &str, n: u64) -> String {
    let topic = unique_name("bench-k2k-in");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let producer: BaseProducer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("linger.ms", "20").create().unwrap();
    let payload = [b'x'; 100];
    for _ in 0..n {
        send_waiting(&producer, BaseRecord::<[u8], [u8]>::to(&topic).payload(&payload[..]));
    }
    producer.flush(Duration::from_secs(120)).unwrap();
    topic
}

/// The bare copy loop: records/s.
fn baseline(bootstrap: &str, topic: &str, n: u64) -> f64 {
    let output = unique_name("bench-k2k-bare");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &output, 1)).unwrap();
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("bench-k2k-bare"))
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let started = Instant::now();
    let mut copied = 0;
    while copied < n {
        let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) else { continue };
        send_waiting(&producer, BaseRecord::<[u8], [u8]>::to(&output).payload(m.payload().unwrap_or_default()));
        copied += 1;
    }
    producer.flush(Duration::from_secs(120)).unwrap();
    n as f64 / started.elapsed().as_secs_f64()
}

/// The offset the sink's group committed on partition 0 of `topic`.
fn committed(bootstrap: &str, group: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("group.id", group).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    committed
        .elements()
        .first()
        .and_then(|e| if let Offset::Offset(o) = e.offset() { Some(o) } else { None })
        .unwrap_or(0)
}

/// One sink mode: records/s.
fn sink(bootstrap: &str, topic: &str, n: u64, exactly_once: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path(), bootstrap, 1);
    let name = unique_name("bench-k2k");
    let body = json!({"name": name, "config": {
        "connector.class": "KafkaSinkConnector", "topics": topic, "tasks.max": "1",
        "kafka.topic.format": format!("${{topic}}.{name}"), "exactly.once.enabled": exactly_once.to_string(),
        "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    }})
    .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &format!("{topic}.{name}"), 1)).unwrap();
    let started = Instant::now();
    change("POST", &cluster.url(0, "/connectors"), Some(&body), 201);
    let deadline = Instant::now() + Duration::from_secs(600);
    let group = format!("connect-{name}");
    while committed(bootstrap, &group, topic) < i64::try_from(n).unwrap() {
        assert!(Instant::now() < deadline, "the sink did not finish:\n{}", cluster.logs());
        std::thread::sleep(Duration::from_millis(20));
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let Some(bootstrap) = support::kafka() else { return };
    let n = env_or("BENCH_RECORDS", 500_000) as u64;
    let rounds = env_or("BENCH_ROUNDS", 3);
    let topic = input(bootstrap, n);
    let mut results: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 1..=rounds {
        for (mode, rate) in [
            ("bare rdkafka copy", baseline(bootstrap, &topic, n)),
            ("Kafka sink, at-least-once", sink(bootstrap, &topic, n, false)),
            ("Kafka sink, exactly-once", sink(bootstrap, &topic, n, true)),
        ] {
            println!("round {round}: {mode}: {rate:.0} records/s");
            results.entry(mode).or_default().push(rate);
        }
    }
    let base = median(results["bare rdkafka copy"].clone());
    println!("\n{n} records of 100 bytes, median of {rounds} rounds:");
    for (mode, rates) in results {
        let m = median(rates);
        println!("{mode:<28} {m:>10.0} records/s   ratio {:.2}", m / base);
    }
}
