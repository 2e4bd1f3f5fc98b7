//! Throughput of exactly-once sources as a ratio to at-least-once, in one run.
//!
//! Run: `scripts/kafka.sh start --port 19092 && cargo bench --bench exactly_once`
//! (`BENCH_RECORDS` sets the record count, default 500000; `BENCH_ROUNDS` the rounds, default
//! 3; `KAFKA_BOOTSTRAP_SERVERS` the broker).
//!
//! Each mode runs a `tributary distributed` worker process (the release binary) of its own:
//! at-least-once, then exactly-once with `transaction.boundary` poll, interval 1 s and interval
//! 100 ms. Once the worker is ready, a datagen `orders` connector (one task, JSON values, no
//! pause between records) is created with `iterations` N, and the time runs until a
//! read_committed view of the topic (its last stable offset, which excludes open transactions)
//! holds N records. The modes alternate within each round; the median records/s per mode and
//! its ratio to at-least-once are printed last.

mod support;
use support::{env_or, median};

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, change};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;
use tributary_testcontainers::{create_topic, unique_name};

/// The end of `topic` (partition 0) as a read_committed reader sees it: the last stable
/// offset, which open transactions hold back (markers included).
fn committed_end(consumer: &BaseConsumer, topic: &str) -> i64 {
    consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).map(|w| w.1).unwrap_or(0)
}

/// Runs one mode: returns records/s.
fn run(bootstrap: &str, extra: &[(&str, &str)], connector: &[(&str, &str)], n: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start_with(dir.path(), bootstrap, 1, extra);
    let topic = unique_name("bench-eos");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 1)).unwrap();
    let mut config = json!({
        "connector.class": "DatagenConnector", "kafka.topic": topic, "quickstart": "orders",
        "iterations": n.to_string(), "max.interval": "0", "tasks.max": "1",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    for (k, v) in connector {
        config[*k] = json!(v);
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let body = json!({"name": "bench", "config": config}).to_string();
    let started = Instant::now();
    change("POST", &cluster.url(0, "/connectors"), Some(&body), 201);
    let done = "generated the configured iterations";
    let deadline = Instant::now() + Duration::from_secs(600);
    // The task logs when it has produced N records; with transactions the last ones are
    // committed when the stable offset stops moving.
    while !cluster.workers[0].log_text().contains(done) {
        assert!(Instant::now() < deadline, "the connector did not finish:\n{}", cluster.logs());
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut last = committed_end(&consumer, &topic);
    loop {
        std::thread::sleep(Duration::from_millis(5));
        let now = committed_end(&consumer, &topic);
        if now == last && u64::try_from(now).unwrap_or(0) >= n {
            break;
        }
        last = now;
    }
    let elapsed = started.elapsed();
    n as f64 / elapsed.as_secs_f64()
}

/// A mode: its name, worker properties and connector properties.
type Mode<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);

fn main() {
    let Some(bootstrap) = support::kafka() else { return };
    let n = env_or("BENCH_RECORDS", 500_000) as u64;
    let rounds = env_or("BENCH_ROUNDS", 3);
    let eos = [("exactly.once.source.support", "enabled")];
    let modes: [Mode<'_>; 4] = [
        ("at-least-once", &[], &[]),
        ("exactly-once, boundary poll", &eos, &[("transaction.boundary", "poll")]),
        (
            "exactly-once, boundary interval 1 s",
            &eos,
            &[("transaction.boundary", "interval"), ("transaction.boundary.interval.ms", "1000")],
        ),
        (
            "exactly-once, boundary interval 100 ms",
            &eos,
            &[("transaction.boundary", "interval"), ("transaction.boundary.interval.ms", "100")],
        ),
    ];
    let mut results: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for round in 0..rounds {
        for (i, (name, worker, connector)) in modes.iter().enumerate() {
            let rate = run(bootstrap, worker, connector, n);
            println!("round {round}: {name}: {rate:.0} records/s");
            results.entry(i).or_default().push(rate);
        }
    }
    let base = median(results[&0].clone());
    println!("\nmedian over {rounds} rounds, {n} datagen records each (one task, JSON values):");
    for (i, (name, _, _)) in modes.iter().enumerate() {
        let m = median(results[&i].clone());
        println!("  {name}: {m:.0} records/s, ratio to at-least-once {:.2}", m / base);
    }
}
