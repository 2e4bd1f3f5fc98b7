//! Throughput of the MQTT source (MQTT → Kafka) as a ratio to a bare rumqttc subscriber that
//! only counts, in one run, against the same Mosquitto with the same publishers.
//!
//! Run: `scripts/kafka.sh start --port 19092 && cargo bench --bench mqtt`
//! (`BENCH_MESSAGES` sets the messages per run, default 200000; `BENCH_ROUNDS` the rounds,
//! default 3; `BENCH_PUBLISHERS` the publisher connections, default 2; `BENCH_PERF=FILE`
//! profiles the worker's QoS 1 drain with `perf record -g`;
//! `KAFKA_BOOTSTRAP_SERVERS` the broker). The bench starts its own Mosquitto
//! (scripts/mosquitto.sh, free port, state in a temporary directory: persistence on, 10,000
//! in-flight and up to 1,000,000 queued messages per client) and stops it at the end.
//!
//! Consumers: the bare subscriber in this process (auto-acknowledging), or a `tributary
//! standalone` worker (the release binary) running the source connector with one task,
//! ByteArrayConverter values, the MQTT topic as a string key. Publishers send N 100-byte
//! payloads as fast as the broker takes them (QoS 1: each keeps up to 1,000 unacknowledged),
//! spread over 100 topics.
//!
//! QoS 0, live: the consumer subscribes, then the publishers start; the time runs from the
//! first publish until the consumer holds the last message (the bare subscriber received it;
//! Kafka's end offset for the worker), or until nothing more arrived for 3 s, in which case the
//! messages missing are reported as dropped (QoS 0 lets the broker drop messages for a slow
//! client). The publishers take a fraction of the consumers' time, so they are not the limit.
//!
//! QoS 1, preloaded: a live run would measure the publishers (QoS 1 publishing is as slow as
//! consuming here). So the consumer creates a persistent session and goes away, the publishers
//! fill it (Mosquitto queues up to 1,000,000 messages), and the time runs from the consumer's
//! return (the bare subscriber's reconnection; the worker process's start, start-up included)
//! until it holds the last message.
//!
//! The two consumers alternate which goes first from round to round; the median ratio is
//! printed last.

mod support;
use support::{counting_subscriber, env_or, median};

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::mqtt_broker::OwnBroker;
use common::{WorkerProcess, worker_props, write_props};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use tributary_testcontainers::{create_topic, unique_name};

const PAYLOAD: usize = 100;
const TOPICS: usize = 100;
const IDLE: Duration = Duration::from_secs(3);

/// What one run measured.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Messages the consumer got (distinct for the bare subscriber: QoS 1 has no redelivery
    /// here, so it is the count).
    received: usize,
    /// Seconds from the first publish to the last message.
    secs: f64,
    /// Seconds the publishers took.
    publish_secs: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.received as f64 / self.secs
    }
}

/// Publishes `n` messages over `publishers` connections; returns the seconds it took.
async fn publish(port: u16, root: String, qos: QoS, n: usize, publishers: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let share = n / publishers + usize::from(p < n % publishers);
        let root = root.clone();
        tasks.push(tokio::spawn(async move {
            let mut o = MqttOptions::new(unique_name("bench-pub"), "127.0.0.1", port);
            o.set_keep_alive(Duration::from_secs(30)).set_inflight(1000).set_max_packet_size(1 << 20, 1 << 20);
            let (client, mut eventloop) = AsyncClient::new(o, 10_000);
            let acked = Arc::new(AtomicUsize::new(0));
            let a = acked.clone();
            let driver = tokio::spawn(async move {
                loop {
                    match eventloop.poll().await {
                        Ok(Event::Incoming(Incoming::PubAck(_))) => {
                            a.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        // After the disconnect; before it, publish fails and says so.
                        Err(_) => return,
                    }
                }
            });
            let payload = vec![b'x'; PAYLOAD];
            for i in 0..share {
                let topic = format!("{root}/p{p}/t{}", i % TOPICS);
                client.publish(topic, qos, false, payload.clone()).await.unwrap();
            }
            if qos == QoS::AtLeastOnce {
                while acked.load(Ordering::Relaxed) < share {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            } else {
                // QoS 0 has no acknowledgement: a ping round trip says the broker read them all.
                client.subscribe(format!("{root}/none-{p}"), QoS::AtMostOnce).await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            client.disconnect().await.ok();
            tokio::time::sleep(Duration::from_millis(20)).await;
            driver.abort();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// Waits until `count()` reaches `n` or stops moving for [`IDLE`]; returns the count and the
/// time of the last change, from `started`.
async fn wait_count(started: Instant, n: usize, mut count: impl FnMut() -> usize) -> (usize, f64) {
    let (mut last, mut last_change) = (0, started.elapsed());
    loop {
        let c = count();
        if c != last {
            (last, last_change) = (c, started.elapsed());
        }
        if c >= n || started.elapsed() - last_change > IDLE {
            return (c, last_change.as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The bare subscriber: counts what it receives. With `preload`, its persistent session is
/// created, the publishers fill it while it is away, and the time runs from its reconnection.
async fn bare(port: u16, qos: QoS, n: usize, publishers: usize, preload: bool) -> Run {
    let root = unique_name("bench-bare");
    let id = unique_name("bench-sub");
    let received = Arc::new(AtomicUsize::new(0));
    let (client, driver, subscribed) = counting_subscriber(port, &id, !preload, received.clone());
    client.subscribe(format!("{root}/#"), qos).await.unwrap();
    subscribed.await.unwrap();
    let (started, publish_secs, driver) = if preload {
        client.disconnect().await.unwrap();
        let _ = driver.await;
        let publish_secs = publish(port, root.clone(), qos, n, publishers).await;
        let started = Instant::now();
        let (_client, driver, _) = counting_subscriber(port, &id, false, received.clone());
        (started, publish_secs, driver)
    } else {
        let started = Instant::now();
        let publishing = tokio::spawn(publish(port, root.clone(), qos, n, publishers));
        let (got, secs) = wait_count(started, n, || received.load(Ordering::Relaxed)).await;
        driver.abort();
        return Run { received: got, secs, publish_secs: publishing.await.unwrap() };
    };
    let (got, secs) = wait_count(started, n, || received.load(Ordering::Relaxed)).await;
    driver.abort();
    Run { received: got, secs, publish_secs }
}

/// The source connector in a `tributary standalone` worker, writing to a fresh topic.
/// With `preload`, the worker runs once to create its persistent session and stops, the
/// publishers fill the session, and the time runs from the start of a new worker process.
async fn tributary(bootstrap: &str, port: u16, qos: QoS, n: usize, publishers: usize, preload: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("bench-trib");
    let topic = unique_name("bench-mqtt");
    create_topic(bootstrap, &topic, 1).await.unwrap();
    let worker = worker_props(dir.path(), bootstrap, &[]);
    let qos_text = (qos as u8).to_string();
    let src = write_props(
        &dir.path().join("mqtt.properties"),
        &[
            ("name", "bench-mqtt"),
            ("connector.class", "io.confluent.connect.mqtt.MqttSourceConnector"),
            ("mqtt.server.uri", &format!("tcp://127.0.0.1:{port}")),
            ("mqtt.topics", &format!("{root}/#")),
            ("kafka.topic", &topic),
            ("mqtt.qos", &qos_text),
            ("mqtt.clean.session.enabled", "false"),
            ("mqtt.client.id", &unique_name("bench-src")),
            ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
            ("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
        ],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let end = |c: &BaseConsumer| c.fetch_watermarks(&topic, 0, Duration::from_secs(10)).map_or(0, |w| w.1 as usize);
    let (got, secs, publish_secs) = if preload {
        assert!(w.terminate(Duration::from_secs(30)).success(), "{}", w.log_text());
        let publish_secs = publish(port, root.clone(), qos, n, publishers).await;
        let started = Instant::now();
        w = WorkerProcess::standalone(dir.path(), &worker, &[&src], 1);
        let perf = profile(w.child.id());
        let (got, secs) = wait_count(started, n, || end(&consumer)).await;
        if let Some(mut perf) = perf {
            std::process::Command::new("kill").args(["-INT", &perf.id().to_string()]).status().ok();
            perf.wait().ok();
        }
        (got, secs, publish_secs)
    } else {
        let started = Instant::now();
        let publishing = tokio::spawn(publish(port, root.clone(), qos, n, publishers));
        let (got, secs) = wait_count(started, n, || end(&consumer)).await;
        (got, secs, publishing.await.unwrap())
    };
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    Run { received: got, secs, publish_secs }
}

/// With `BENCH_PERF=FILE`, records a CPU profile of the worker `pid` into FILE (`perf record
/// -g`) while it drains a preloaded session; see it with `perf report -i FILE`.
fn profile(pid: u32) -> Option<std::process::Child> {
    let file = std::env::var("BENCH_PERF").ok().filter(|f| !f.is_empty())?;
    let args = ["record", "-F", "999", "-g", "-o", &file, "-p", &pid.to_string()];
    std::process::Command::new("perf").args(args).stderr(std::process::Stdio::null()).spawn().ok()
}

fn main() {
    let Some(bootstrap) = support::kafka() else { return };
    let n = env_or("BENCH_MESSAGES", 200_000);
    let rounds = env_or("BENCH_ROUNDS", 3);
    let publishers = env_or("BENCH_PUBLISHERS", 2).max(1);
    let broker = OwnBroker::start();
    let port = broker.port();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut ratios: BTreeMap<u8, Vec<f64>> = BTreeMap::new();
    let mut runs: BTreeMap<(u8, &str), Vec<Run>> = BTreeMap::new();
    for round in 0..rounds {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
            let q = qos as u8;
            let preload = qos == QoS::AtLeastOnce;
            let (b, t) = if round % 2 == 0 {
                let b = rt.block_on(bare(port, qos, n, publishers, preload));
                (b, rt.block_on(tributary(bootstrap, port, qos, n, publishers, preload)))
            } else {
                let t = rt.block_on(tributary(bootstrap, port, qos, n, publishers, preload));
                (rt.block_on(bare(port, qos, n, publishers, preload)), t)
            };
            let ratio = t.rate() / b.rate();
            println!(
                "round {round}: QoS {q}: bare {:.0} msg/s ({} of {n}, publishers {:.1} s), tributary {:.0} msg/s ({} of {n}, publishers {:.1} s), ratio {ratio:.2}",
                b.rate(),
                b.received,
                b.publish_secs,
                t.rate(),
                t.received,
                t.publish_secs
            );
            ratios.entry(q).or_default().push(ratio);
            runs.entry((q, "bare")).or_default().push(b);
            runs.entry((q, "tributary")).or_default().push(t);
        }
    }
    drop(broker);
    println!("\nmedian over {rounds} rounds, {n} messages of {PAYLOAD} bytes each, {publishers} publishers:");
    for (q, r) in &ratios {
        let rate = |who| median(runs[&(*q, who)].iter().map(Run::rate).collect());
        let dropped = |who| runs[&(*q, who)].iter().map(|r| n - r.received.min(n)).sum::<usize>();
        println!(
            "  QoS {q}: bare {:.0} msg/s, tributary {:.0} msg/s, ratio {:.2} (per round {:?}); dropped over all rounds: bare {}, tributary {}",
            rate("bare"),
            rate("tributary"),
            median(r.clone()),
            r.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>(),
            dropped("bare"),
            dropped("tributary")
        );
    }
}
