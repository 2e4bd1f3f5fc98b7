//! MQTT ↔ Kafka through the real binary, a real Mosquitto (scripts/mosquitto.sh) and the test
//! Kafka broker.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::cluster::{Cluster, change};
use common::mqtt::{Fixture, Got, Mqtt, Version, consume, consume_distinct, distinct, env, source_props};
use common::mqtt_broker::free_port;
use common::{WorkerProcess, metrics_when, task_metric, wait_until, worker_props};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tributary_testcontainers::{TEST_MQTT_USER, create_topic, topic_end_offset, unique_name};

/// `m-{i}` on `{root}/sensors/{i % 1000}/temp` for each `i` below `n`.
fn sensor_messages(root: &str, n: usize) -> impl Iterator<Item = (String, Vec<u8>)> {
    (0..n).map(move |i| (format!("{root}/sensors/{}/temp", i % 1000), format!("m-{i}").into_bytes()))
}

/// `g`, one of [`sensor_messages`], has its MQTT topic as key and in the `mqtt.topic` header.
fn assert_key_and_topic_header(g: &Got, root: &str) {
    let text = String::from_utf8(g.value.clone()).unwrap();
    let i: usize = text.trim_start_matches("m-").parse().unwrap();
    let mqtt_topic = format!("{root}/sensors/{}/temp", i % 1000);
    assert_eq!(g.key.as_deref(), Some(mqtt_topic.as_str()), "key of {text}");
    assert_eq!(g.text("mqtt.topic"), Some(mqtt_topic), "mqtt.topic header of {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_delivers_100k_qos1_messages_from_1000_topics_with_key_and_headers() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "t", "mqtt-src", 4).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let src = source_props(dir.path(), &format!("{topic}-c"), &mqtt.url, &format!("{root}/sensors/+/temp"), topic, &[]);
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));

    let n = 100_000;
    let publisher = Mqtt::connect(Version::V311, &mqtt.url, None).await;
    let t0 = Instant::now();
    publisher.publish_all(sensor_messages(root, n)).await;
    let got = consume(kafka, topic, Duration::from_secs(300), |g| g.len() >= n);
    let (set, dups) = distinct(&got);
    eprintln!("{} records, {} distinct, {dups} duplicates, in {:?}", got.len(), set.len(), t0.elapsed());
    assert_eq!(set.len(), n, "messages missing in Kafka");
    for g in got.iter().take(2000) {
        assert_key_and_topic_header(g, root);
        assert_eq!(g.text("mqtt.qos").as_deref(), Some("1"));
        assert_eq!(g.text("mqtt.retained").as_deref(), Some("false"));
        assert!(g.text("mqtt.message.id").is_some_and(|id| id.parse::<u16>().is_ok_and(|id| id > 0)));
    }
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    assert!(!w.log_text().contains("panicked"), "{}", w.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_exactly_once_100k_qos1_messages_arrive_each_exactly_once() {
    let Some((kafka, mqtt)) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start_with(dir.path(), kafka, 1, &[("exactly.once.source.support", "enabled")]);
    let root = unique_name("t");
    let topic = unique_name("mqtt-eos");
    create_topic(kafka, &topic, 4).await.unwrap();
    let name = format!("{topic}-c");
    let body = serde_json::json!({"name": name, "config": {
        "connector.class": "io.confluent.connect.mqtt.MqttSourceConnector", "mqtt.server.uri": mqtt.url,
        "mqtt.topics": format!("{root}/sensors/+/temp"), "kafka.topic": topic, "mqtt.qos": "1",
        "mqtt.clean.session.enabled": "false", "mqtt.client.id": unique_name("eos"),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    }})
    .to_string();
    change("POST", &cluster.url(0, "/connectors"), Some(&body), 201);
    cluster.workers[0].wait_log("subscribed", Duration::from_secs(60));

    let n = 100_000;
    let publisher = Mqtt::connect(Version::V311, &mqtt.url, None).await;
    let t0 = Instant::now();
    publisher.publish_all(sensor_messages(&root, n)).await;
    let mut got = consume(kafka, &topic, Duration::from_secs(300), |g| g.len() >= n);
    let elapsed = t0.elapsed();
    // Anything more (a duplicate) would come within a few more commits.
    got.extend(consume(kafka, &topic, Duration::from_secs(3), |_| false).into_iter().skip(n));
    let (set, dups) = distinct(&got);
    eprintln!(
        "exactly-once: {} read_committed records, {} distinct, {dups} duplicates, in {elapsed:?}",
        got.len(),
        set.len()
    );
    assert_eq!(set.len(), n, "messages missing in Kafka:\n{}", cluster.logs());
    assert_eq!(dups, 0, "duplicates with exactly-once");
    assert!(cluster.logs().contains("transactional producer ready"), "{}", cluster.logs());
    // GET /metrics: what the task read and wrote, and nothing left unacknowledged upstream.
    let metric = |text: &str, metric: &str| task_metric(text, metric, &name, 0);
    let text = metrics_when(&cluster.url(0, "/metrics"), &name, "tributary_task_mqtt_unacknowledged_messages", 0);
    let n = i64::try_from(n).unwrap();
    assert_eq!(metric(&text, "tributary_source_record_poll_total"), Some(n), "{text}");
    assert_eq!(metric(&text, "tributary_source_record_write_total"), Some(n), "{text}");
    assert_eq!(metric(&text, "tributary_source_record_active_count"), Some(0), "{text}");
    assert_eq!(metric(&text, "tributary_task_mqtt_unacknowledged_messages"), Some(0), "{text}");
    assert!(text.contains("# TYPE tributary_source_record_poll_total counter"), "{text}");
    for g in got.iter().take(1000) {
        assert_key_and_topic_header(g, &root);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_maps_mqtt_topics_to_kafka_topics_and_parses_json() {
    let Some((kafka, mqtt)) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("tj");
    let prefix = unique_name("mq");
    for d in ["a", "b"] {
        create_topic(kafka, &format!("{prefix}.{root}.dev.{d}"), 1).await.unwrap();
    }
    let worker = worker_props(dir.path(), kafka, &[]);
    let src = source_props(
        dir.path(),
        &format!("{prefix}-c"),
        &mqtt.url,
        &format!("{root}/dev/#"),
        &format!("{prefix}.${{topic}}"),
        &[
            ("mqtt.payload.format", "json"),
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter.schemas.enable", "false"),
            ("errors.tolerance", "all"),
        ],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let publisher = Mqtt::connect(Version::V311, &mqtt.url, None).await;
    publisher
        .publish_all([
            (format!("{root}/dev/a"), br#"{"t": 21.5, "id": 1}"#.to_vec()),
            (format!("{root}/dev/b"), b"not json".to_vec()),
            (format!("{root}/dev/b"), br#"{"t": 3}"#.to_vec()),
        ])
        .await;
    let a = consume(kafka, &format!("{prefix}.{root}.dev.a"), Duration::from_secs(60), |g| !g.is_empty());
    let b = consume(kafka, &format!("{prefix}.{root}.dev.b"), Duration::from_secs(60), |g| !g.is_empty());
    assert_eq!(a.len(), 1);
    let v: serde_json::Value = serde_json::from_slice(&a[0].value).unwrap();
    assert_eq!(v, serde_json::json!({"t": 21.5, "id": 1}));
    assert_eq!(b.len(), 1, "the bad JSON message is skipped (errors.tolerance=all), the good one arrives");
    w.wait_log("is not JSON", Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_sigkill_with_persistent_session_loses_nothing() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "tk", "mqtt-kill", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let src = fx.source(Version::V311, &mqtt.url, &[("mqtt.client.id", &unique_name("kill"))]);
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let n = 30_000;
    let publisher = Mqtt::connect(Version::V311, &mqtt.url, None).await;
    let msgs: Vec<(String, Vec<u8>)> =
        (0..n).map(|i| (format!("{root}/s/{}", i % 10), format!("k-{i}").into_bytes())).collect();
    publisher.publish_all(msgs[..n / 2].iter().cloned()).await;
    wait_until("some records in Kafka", Duration::from_secs(60), || {
        tributary_testcontainers::topic_end_offset(kafka, topic).unwrap_or(0) >= 1000
    });
    w.kill9();
    let before = tributary_testcontainers::topic_end_offset(kafka, topic).unwrap();
    // Published while the worker is down: the broker queues them in the session.
    publisher.publish_all(msgs[n / 2..].iter().cloned()).await;
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 1);
    w.wait_log("session_present=true", Duration::from_secs(60));
    let got = consume_distinct(kafka, topic, Duration::from_secs(120), n);
    let (set, dups) = distinct(&got);
    eprintln!("{before} records before the kill; {} records, {} distinct, {dups} duplicates", got.len(), set.len());
    let log = w.log_text();
    let tail: String = log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    // How many records Kafka holds tells a loss from a reader that did not get to the end.
    let end = tributary_testcontainers::topic_end_offset(kafka, topic).unwrap_or(0);
    assert_eq!(
        set.len(),
        n,
        "messages lost across the SIGKILL (read {} of the {end} records in Kafka); worker log tail:\n{tail}",
        got.len()
    );
    w.terminate(Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_publishes_100k_records_at_qos1_in_order_per_topic() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "ts", "mqtt-sink", 1).await;
    let Fixture { dir, root, topic, .. } = &fx;
    let n = 100_000usize;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", kafka)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "200000")
        .create()
        .unwrap();
    let mut futures = Vec::with_capacity(n);
    for i in 0..n {
        let key = format!("dev-{}", i % 100);
        let value = format!("{key}:{i}");
        futures.push(producer.send_result(FutureRecord::to(topic).key(&key).payload(&value)).unwrap());
    }
    for f in futures {
        f.await.unwrap().unwrap();
    }
    let mut subscriber = Mqtt::connect(Version::V311, &mqtt.url, Some(&format!("{root}/#"))).await;
    let window = 500;
    let sink = fx.sink(
        Version::V311,
        &mqtt.url,
        &format!("{root}/${{key}}/cmd"),
        &[("mqtt.max.inflight.messages", &window.to_string())],
    );
    let port = free_port();
    let listener = format!("http://127.0.0.1:{port}");
    let worker = worker_props(dir.path(), kafka, &[("listeners", &listener)]);
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&sink], 0);
    // GET /metrics while it runs: the in-flight publishes stay within the window.
    let metrics_url = format!("{listener}/metrics");
    let sink_name = format!("{topic}-sink");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (url, name, done) = (metrics_url.clone(), sink_name.clone(), done.clone());
        std::thread::spawn(move || {
            let mut in_flight = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let (status, body) = common::cluster::call("GET", &url, None);
                let text = body.as_str().unwrap_or_default();
                if let (200, Some(v)) = (status, task_metric(text, "tributary_task_mqtt_in_flight_publishes", &name, 0))
                {
                    in_flight.push(v);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            in_flight
        })
    };
    let mut last: HashMap<String, usize> = HashMap::new();
    let mut seen = HashSet::new();
    let mut received = 0usize;
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(p)) = tokio::time::timeout(left, subscriber.received.recv()).await else {
            panic!("only {} of {n} records received over MQTT:\n{}", seen.len(), w.log_text());
        };
        received += 1;
        let text = String::from_utf8(p.payload.to_vec()).unwrap();
        let (key, i) = text.split_once(':').unwrap();
        let i: usize = i.parse().unwrap();
        assert_eq!(p.topic, format!("{root}/{key}/cmd"));
        if let Some(prev) = last.insert(p.topic.clone(), i) {
            assert!(i > prev || seen.contains(&i), "{} out of order: {i} after {prev}", p.topic);
        }
        seen.insert(i);
    }
    done.store(true, Ordering::Relaxed);
    let in_flight = sampler.join().unwrap();
    let busiest = in_flight.iter().copied().max().unwrap_or(0);
    eprintln!(
        "{received} MQTT messages, {} distinct; in-flight publishes over {} samples: at most {busiest}",
        seen.len(),
        in_flight.len()
    );
    assert!(in_flight.len() >= 3, "too few /metrics samples: {in_flight:?}");
    assert!(busiest > 0 && busiest <= window, "in-flight publishes {busiest}, window {window}");
    let metric = |text: &str, m: &str| task_metric(text, m, &sink_name, 0);
    let text = metrics_when(&metrics_url, &sink_name, "tributary_task_mqtt_in_flight_publishes", 0);
    assert_eq!(metric(&text, "tributary_task_mqtt_in_flight_publishes"), Some(0), "{text}");
    assert_eq!(metric(&text, "tributary_sink_record_read_total"), Some(i64::try_from(n).unwrap()), "{text}");
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos2_source_and_sink_deliver_each_message_once() {
    qos2_round_trip(Version::V311).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt5_qos2_source_and_sink_deliver_each_message_once() {
    qos2_round_trip(Version::V5).await;
}

/// QoS 2 end to end: a QoS 2 publisher, the source subscribed at QoS 2 (its PUBREC goes out
/// once Kafka holds the record), the sink publishing at QoS 2 (offsets committed after each
/// PUBCOMP) and a QoS 2 subscriber. With nothing failing, each message is in Kafka once and
/// reaches the subscriber once, in order per topic.
async fn qos2_round_trip(version: Version) {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "q2", "mqtt-qos2", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let out = format!("{root}-out");
    let src = fx.source(version, &mqtt.url, &[("mqtt.qos", "2"), ("mqtt.client.id", &unique_name("q2"))]);
    let sink = fx.sink(version, &mqtt.url, &format!("{out}/${{key}}"), &[("mqtt.qos", "2")]);
    let qos2 = rumqttc::QoS::ExactlyOnce;
    let mut subscriber = Mqtt::connect_qos(version, &mqtt.url, Some(&format!("{out}/#")), qos2).await;
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src, &sink], 0);
    w.wait_log("subscribed", Duration::from_secs(60));

    let n = 5_000;
    let publisher = Mqtt::connect_qos(version, &mqtt.url, None, qos2).await;
    publisher
        .publish_all((0..n).map(|i| (format!("{root}/d/{}", i % 10), format!("{}:{i}", i % 10).into_bytes())))
        .await;

    let got = consume_distinct(kafka, topic, Duration::from_secs(120), n);
    let (set, dups) = distinct(&got);
    assert_eq!((set.len(), dups), (n, 0), "records in Kafka: distinct, duplicates");
    assert!(got.iter().all(|g| g.text("mqtt.qos").as_deref() == Some("2")), "a record without mqtt.qos=2");

    let mut last: HashMap<String, usize> = HashMap::new();
    let mut seen = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(p)) = tokio::time::timeout(left, subscriber.received.recv()).await else {
            panic!("only {} of {n} messages reached the subscriber:\n{}", seen.len(), w.log_text());
        };
        let text = String::from_utf8(p.payload.to_vec()).unwrap();
        let (device, i) = text.split_once(':').unwrap();
        let i: usize = i.parse().unwrap();
        assert_eq!(p.topic, format!("{out}/{root}/d/{device}"));
        assert_eq!(p.qos, 2, "the sink published {i} below QoS 2");
        if let Some(prev) = last.insert(p.topic.clone(), i) {
            assert!(i > prev, "{}: {i} after {prev}", p.topic);
        }
        assert!(seen.insert(i), "{i} reached the subscriber twice");
    }
    // Nothing more arrives: each message reached the subscriber once.
    let extra = tokio::time::timeout(Duration::from_secs(2), subscriber.received.recv()).await;
    assert!(extra.is_err(), "a message beyond the {n}: {extra:?}");
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    assert_eq!(topic_end_offset(kafka, topic).unwrap(), i64::try_from(n).unwrap(), "records written to Kafka");
}

/// `mqtt.retain.enabled=true`: the broker keeps the sink's last publish per topic and hands it
/// to a later subscriber with the retain flag; a source that subscribes later reads it with
/// the header `mqtt.retained=true` (and, with `mqtt.record.key=none`, no key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_retains_messages_and_a_later_source_marks_them_retained() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "tr", "mqtt-retain", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", kafka).create().unwrap();
    for (key, value) in [("lamp", "off"), ("door", "open"), ("lamp", "on")] {
        producer.send(FutureRecord::to(topic).key(key).payload(value), Duration::from_secs(10)).await.unwrap();
    }
    let mut live = Mqtt::connect(Version::V311, &mqtt.url, Some(&format!("{root}/#"))).await;
    let sink = fx.sink(Version::V311, &mqtt.url, &format!("{root}/${{key}}"), &[("mqtt.retain.enabled", "true")]);
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&sink], 0);
    for _ in 0..3 {
        let m = tokio::time::timeout(Duration::from_secs(60), live.received.recv()).await.unwrap().unwrap();
        assert!(!m.retain, "a live subscriber gets the publish as it happens, without the retain flag");
    }
    assert!(w.terminate(Duration::from_secs(30)).success(), "{}", w.log_text());

    // A subscriber that comes later gets the last publish of each topic, retained.
    let mut later = Mqtt::connect(Version::V311, &mqtt.url, Some(&format!("{root}/#"))).await;
    let mut retained = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(2), later.received.recv()).await {
        retained.push((m.topic, String::from_utf8(m.payload.to_vec()).unwrap(), m.retain));
    }
    retained.sort();
    assert_eq!(
        retained,
        [(format!("{root}/door"), "open".to_owned(), true), (format!("{root}/lamp"), "on".to_owned(), true)]
    );

    // So does a source: its records say mqtt.retained=true, and carry no key.
    let out = unique_name("mqtt-retained");
    create_topic(kafka, &out, 1).await.unwrap();
    let src = source_props(
        dir.path(),
        &format!("{out}-c"),
        &mqtt.url,
        &format!("{root}/#"),
        &out,
        &[("mqtt.record.key", "none"), ("mqtt.clean.session.enabled", "true")],
    );
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    let mut got = consume(kafka, &out, Duration::from_secs(60), |g| g.len() >= 2);
    got.sort_by(|a, b| a.value.cmp(&b.value));
    let seen: Vec<_> = got.iter().map(|g| (g.text("mqtt.topic"), g.text("mqtt.retained"), g.key.clone())).collect();
    assert_eq!(
        seen,
        [
            (Some(format!("{root}/lamp")), Some("true".to_owned()), None),
            (Some(format!("{root}/door")), Some("true".to_owned()), None),
        ],
        "values {:?}",
        got.iter().map(|g| String::from_utf8_lossy(&g.value).into_owned()).collect::<Vec<_>>()
    );
    assert!(w.terminate(Duration::from_secs(30)).success(), "{}", w.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gives_clear_errors_without_panics() {
    let Some((kafka, mqtt)) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("mqtt-bad");
    create_topic(kafka, &topic, 1).await.unwrap();
    let worker = worker_props(dir.path(), kafka, &[]);
    let root = unique_name("tb");
    let unreachable = source_props(
        dir.path(),
        "unreachable",
        "tcp://127.0.0.1:1,tcp://127.0.0.1:2",
        "a/#",
        &topic,
        &[("mqtt.connect.timeout.seconds", "1")],
    );
    let creds = source_props(
        dir.path(),
        "creds",
        &mqtt.auth_url,
        "a/#",
        &topic,
        &[("mqtt.username", TEST_MQTT_USER), ("mqtt.password", "wrong-password-xyz")],
    );
    let oversized = source_props(
        dir.path(),
        "oversized",
        &mqtt.url,
        &format!("{root}/big"),
        &topic,
        &[("mqtt.max.message.bytes", "1024"), ("mqtt.client.id", &unique_name("big"))],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&unreachable, &creds, &oversized], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let publisher = Mqtt::connect(Version::V311, &mqtt.url, None).await;
    publisher.publish_all([(format!("{root}/big"), vec![7u8; 5000])]).await;
    w.wait_log(
        "cannot connect to any MQTT broker of mqtt.server.uri (tcp://127.0.0.1:1,tcp://127.0.0.1:2)",
        Duration::from_secs(60),
    );
    w.wait_log("refused the connection: not authorized: wrong user name or password", Duration::from_secs(30));
    w.wait_log("larger than mqtt.max.message.bytes", Duration::from_secs(30));
    let log = w.log_text();
    assert!(!log.contains("wrong-password-xyz"), "the password was logged:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(tributary_testcontainers::topic_end_offset(kafka, &topic).unwrap(), 0);
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{log}");

    // A malformed filter is refused before anything connects, naming the key and the filter.
    let bad = source_props(dir.path(), "badfilter", &mqtt.url, "sensors/#/temp", &topic, &[]);
    let out = common::tributary().arg("standalone").arg(&worker).arg(&bad).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("mqtt.topics") && text.contains("sensors/#/temp"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}
