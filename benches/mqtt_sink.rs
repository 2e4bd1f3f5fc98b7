//! Throughput of the MQTT sink (Kafka → MQTT) as a ratio to a bare loop, in one run, against
//! the same Kafka topic, the same Mosquitto and the same counting subscriber.
//!
//! Run: `scripts/kafka.sh start --port 19092 && cargo bench --bench mqtt_sink`
//! (`BENCH_MESSAGES` sets the records per run, default 200000; `BENCH_ROUNDS` the rounds,
//! default 3; `KAFKA_BOOTSTRAP_SERVERS` the broker). The bench starts its own Mosquitto
//! (scripts/mosquitto.sh, free port, state in a temporary directory) and stops it at the end.
//!
//! The input: one Kafka topic with one partition, preloaded with N records of 100 bytes keyed
//! `dev-<i % 100>`. Each consumer publishes record i at QoS 1 to `<root>/<key>` with at most
//! 1,000 publishes unacknowledged, and a subscriber (QoS 1, in this process) counts what
//! arrives; the time runs from the consumer's start until the subscriber holds all N.
//!
//! - bare: an rdkafka consumer (assigned the partition, no group) and a rumqttc client with
//!   an in-flight window of 1,000, publishing each record as it reads it (one async loop).
//! - tributary: a `tributary standalone` worker (the release binary) running the MQTT sink
//!   with one task, ByteArrayConverter values, `mqtt.topic=<root>/${key}` and
//!   `mqtt.max.inflight.messages=1000`; its time includes the process start and the
//!   consumer group join, and the sink commits offsets only after the PUBACKs.
//!
//! The two consumers alternate which goes first from round to round; the median ratio is
//! printed last.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::mqtt_broker::OwnBroker;
use common::{WorkerProcess, worker_props, write_props};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use support::{counting_subscriber, env_or, median};
use tributary_testcontainers::{create_topic, unique_name};

const PAYLOAD: usize = 100;
const KEYS: usize = 100;
const WINDOW: u16 = 1000;

/// A topic of `n` records of [`PAYLOAD`] bytes keyed `dev-<i % KEYS>`.
async fn preload(bootstrap: &str, n: usize) -> String {
    let topic = unique_name("bench-mqtt-sink");
    create_topic(bootstrap, &topic, 1).await.unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    let payload = vec![b'x'; PAYLOAD];
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let key = format!("dev-{}", i % KEYS);
        pending.push(producer.send_result(FutureRecord::to(&topic).key(&key).payload(&payload)).unwrap());
    }
    for p in pending {
        p.await.unwrap().unwrap();
    }
    topic
}

/// A subscriber to `<root>/#` at QoS 1 counting what it receives (while its client is kept);
/// returns once subscribed.
async fn subscriber(port: u16, root: &str, received: Arc<AtomicUsize>) -> (AsyncClient, tokio::task::JoinHandle<()>) {
    let (client, driver, subscribed) = counting_subscriber(port, &unique_name("bench-count"), true, received);
    client.subscribe(format!("{root}/#"), QoS::AtLeastOnce).await.unwrap();
    subscribed.await.unwrap();
    (client, driver)
}

/// Waits until `received` reaches `n` (at most 300 s); the seconds from `started`.
async fn until_received(started: Instant, received: &AtomicUsize, n: usize) -> f64 {
    while received.load(Ordering::Relaxed) < n {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "only {} of {n} received",
            received.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed().as_secs_f64()
}

/// The bare loop: read the partition from the start, publish each record at QoS 1.
async fn bare(bootstrap: &str, port: u16, topic: &str, n: usize) -> f64 {
    let root = unique_name("bench-bare");
    let received = Arc::new(AtomicUsize::new(0));
    let (_counter, counting) = subscriber(port, &root, received.clone()).await;
    let started = Instant::now();
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("bench-bare"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning).unwrap();
    consumer.assign(&tpl).unwrap();
    let mut o = MqttOptions::new(unique_name("bench-bare-pub"), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(30)).set_inflight(WINDOW).set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(o, usize::from(WINDOW));
    let driver = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let publishing = tokio::spawn(async move {
        let mut read = 0;
        while read < n {
            // Non-blocking poll; a short sleep only when librdkafka has nothing fetched yet.
            let Some(m) = consumer.poll(Duration::ZERO) else {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            };
            let m = m.unwrap();
            let topic = format!("{root}/{}", String::from_utf8_lossy(m.key().unwrap_or_default()));
            let payload = m.payload().unwrap_or_default().to_vec();
            client.publish(topic, QoS::AtLeastOnce, false, payload).await.unwrap();
            read += 1;
        }
        client
    });
    let secs = until_received(started, &received, n).await;
    let client = publishing.await.unwrap();
    client.disconnect().await.ok();
    driver.abort();
    counting.abort();
    secs
}

/// The MQTT sink in a `tributary standalone` worker.
async fn tributary(bootstrap: &str, port: u16, topic: &str, n: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("bench-trib");
    let received = Arc::new(AtomicUsize::new(0));
    let (_counter, counting) = subscriber(port, &root, received.clone()).await;
    let worker = worker_props(dir.path(), bootstrap, &[]);
    let sink = write_props(
        &dir.path().join("sink.properties"),
        &[
            ("name", &unique_name("bench-mqtt-sink")),
            ("connector.class", "io.confluent.connect.mqtt.MqttSinkConnector"),
            ("topics", topic),
            ("mqtt.server.uri", &format!("tcp://127.0.0.1:{port}")),
            ("mqtt.topic", &format!("{root}/${{key}}")),
            ("mqtt.qos", "1"),
            ("mqtt.max.inflight.messages", &WINDOW.to_string()),
            ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
            ("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
        ],
    );
    let started = Instant::now();
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&sink], 1);
    let secs = until_received(started, &received, n).await;
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    counting.abort();
    secs
}

fn main() {
    let Some(bootstrap) = support::kafka() else { return };
    let n = env_or("BENCH_MESSAGES", 200_000);
    let rounds = env_or("BENCH_ROUNDS", 3);
    let broker = OwnBroker::start();
    let port = broker.port();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let topic = rt.block_on(preload(bootstrap, n));
    let (mut ratios, mut bare_rates, mut trib_rates) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (b, t) = if round % 2 == 0 {
            let b = rt.block_on(bare(bootstrap, port, &topic, n));
            (b, rt.block_on(tributary(bootstrap, port, &topic, n)))
        } else {
            let t = rt.block_on(tributary(bootstrap, port, &topic, n));
            (rt.block_on(bare(bootstrap, port, &topic, n)), t)
        };
        let (b_rate, t_rate) = (n as f64 / b, n as f64 / t);
        println!(
            "round {round}: bare {b_rate:.0} msg/s ({b:.2} s), tributary {t_rate:.0} msg/s ({t:.2} s), ratio {:.2}",
            t_rate / b_rate
        );
        ratios.push(t_rate / b_rate);
        bare_rates.push(b_rate);
        trib_rates.push(t_rate);
    }
    drop(broker);
    println!(
        "\nmedian over {rounds} rounds, {n} records of {PAYLOAD} bytes at QoS 1: bare {:.0} msg/s, tributary {:.0} msg/s, ratio {:.2} (per round {:?})",
        median(bare_rates),
        median(trib_rates),
        median(ratios.clone()),
        ratios.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>()
    );
}
