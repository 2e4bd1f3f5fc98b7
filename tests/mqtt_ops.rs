//! MQTT source operations through the real binary and a real Mosquitto: a broker restarted
//! mid-stream, bad payloads under both `errors.tolerance` settings, and Kafka topics chosen by
//! a regular expression over the MQTT topic.
//!
//! The restart test runs its own Mosquitto (scripts/mosquitto.sh, on a free port, state in a
//! temporary directory) so stopping it disturbs no other test.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{WorkerProcess, worker_props, write_props};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use tributary_testcontainers::{
    TestEnv, create_topic, split_url, start_mosquitto, stop_mosquitto, topic_end_offset, unique_name,
};

/// The values of the records of `topic`, read from the start until `done` says so or
/// `timeout` passes. `done` sees the values read since its previous call, so counting stays
/// linear.
fn consume(bootstrap: &str, topic: &str, timeout: Duration, mut done: impl FnMut(&[Vec<u8>]) -> bool) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("mqtt-ops"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut checked = 0;
    while Instant::now() < deadline {
        if done(&out[checked..]) {
            break;
        }
        checked = out.len();
        let Some(m) = consumer.poll(Duration::from_millis(200)) else { continue };
        out.push(m.unwrap().payload().unwrap_or_default().to_vec());
    }
    out
}

fn source_props(dir: &Path, name: &str, url: &str, filter: &str, kafka_topic: &str, extra: &[(&str, &str)]) -> PathBuf {
    let mut pairs = vec![
        ("name", name),
        ("connector.class", "io.confluent.connect.mqtt.MqttSourceConnector"),
        ("mqtt.server.uri", url),
        ("mqtt.topics", filter),
        ("kafka.topic", kafka_topic),
        ("mqtt.qos", "1"),
        ("mqtt.clean.session.enabled", "false"),
        ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
        ("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
    ];
    pairs.extend_from_slice(extra);
    write_props(&dir.join(format!("{name}.properties")), &pairs)
}

/// What a publisher achieved: messages the broker acknowledged (PUBACK), and how many times
/// it had to reconnect and publish a batch again.
#[derive(Debug, Default)]
struct Published {
    acked: usize,
    retries: usize,
}

/// Publishes `messages` at QoS 1 in batches, retrying what the broker did not acknowledge:
/// a batch counts as published once every one of its PUBACKs arrived on one connection; if
/// the connection fails first, the client is dropped and the whole batch is published again
/// on a new connection (so a message may reach the broker twice, never zero times).
/// `progress` counts acknowledged messages as batches complete.
async fn publish_with_retry(
    url: String,
    messages: Vec<(String, Vec<u8>)>,
    batch: usize,
    progress: Arc<AtomicUsize>,
) -> Published {
    let (host, port) = split_url(&url);
    let id = unique_name("pub");
    let mut out = Published::default();
    let mut conn: Option<(AsyncClient, rumqttc::EventLoop)> = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut next = 0;
    while next < messages.len() {
        assert!(Instant::now() < deadline, "publisher: no progress within 120 s ({next} published)");
        let (client, eventloop) = conn.get_or_insert_with(|| {
            let mut o = MqttOptions::new(id.clone(), host.clone(), port);
            o.set_keep_alive(Duration::from_secs(30)).set_inflight(u16::try_from(batch + 1).unwrap());
            AsyncClient::new(o, batch + 1)
        });
        let end = (next + batch).min(messages.len());
        for (topic, payload) in &messages[next..end] {
            client.try_publish(topic.clone(), QoS::AtLeastOnce, false, payload.clone()).unwrap();
        }
        let mut acks = 0;
        let complete = loop {
            match tokio::time::timeout(Duration::from_secs(10), eventloop.poll()).await {
                Ok(Ok(Event::Incoming(Incoming::PubAck(_)))) => {
                    acks += 1;
                    if acks == end - next {
                        break true;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(_)) | Err(_) => break false,
            }
        };
        if complete {
            out.acked += end - next;
            progress.fetch_add(end - next, Ordering::Relaxed);
            next = end;
        } else {
            // Drop the client: its retransmissions would make the PUBACK count ambiguous.
            conn = None;
            out.retries += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    out
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Mosquitto of the test's own, stopped when dropped.
struct OwnBroker {
    port: u16,
    dir: tempfile::TempDir,
}

impl OwnBroker {
    fn start() -> Self {
        let b = Self { port: free_port(), dir: tempfile::tempdir().unwrap() };
        b.up();
        b
    }
    fn up(&self) {
        if let Err(e) = start_mosquitto(self.port, Some(self.dir.path()), None) {
            panic!("cannot start a Mosquitto for this test (CI needs the package mosquitto): {e}");
        }
    }
    fn down(&self) {
        stop_mosquitto(self.port, Some(self.dir.path())).unwrap();
    }
    fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = stop_mosquitto(self.port, Some(self.dir.path()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_survives_a_broker_restart_mid_stream_without_loss() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let broker = OwnBroker::start();
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("rs");
    let topic = unique_name("mqtt-restart");
    create_topic(kafka, &topic, 1).await.unwrap();
    let worker = worker_props(dir.path(), kafka, &[]);
    let src = source_props(
        dir.path(),
        &format!("{topic}-c"),
        &broker.url(),
        &format!("{root}/#"),
        &topic,
        &[("mqtt.client.id", &unique_name("restart")), ("mqtt.max.unacked.messages", "2000")],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));

    let n = 30_000;
    let msgs: Vec<(String, Vec<u8>)> =
        (0..n).map(|i| (format!("{root}/s/{}", i % 10), format!("r-{i}").into_bytes())).collect();
    let progress = Arc::new(AtomicUsize::new(0));
    let publisher = tokio::spawn(publish_with_retry(broker.url(), msgs, 500, progress.clone()));
    // Mid-stream: once a third is published and some of it is in Kafka.
    let t0 = Instant::now();
    while progress.load(Ordering::Relaxed) < n / 3 || topic_end_offset(kafka, &topic).unwrap_or(0) < 1000 {
        assert!(t0.elapsed() < Duration::from_secs(60), "no progress before the restart:\n{}", w.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let at_stop = (progress.load(Ordering::Relaxed), topic_end_offset(kafka, &topic).unwrap_or(0));
    broker.down();
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.up();
    let published = publisher.await.unwrap();
    assert_eq!(published.acked, n);

    let mut seen = HashSet::new();
    let got = consume(kafka, &topic, Duration::from_secs(120), |new| {
        seen.extend(new.iter().cloned());
        seen.len() >= n
    });
    let distinct: HashSet<&Vec<u8>> = got.iter().collect();
    let (lost, dups) = (n - distinct.len(), got.len() - distinct.len());
    eprintln!(
        "broker stopped after {} acknowledged publishes, {} records in Kafka; publisher retried {} batches; \
         {} records read, {lost} lost, {dups} duplicates",
        at_stop.0,
        at_stop.1,
        published.retries,
        got.len()
    );
    let log = w.log_text();
    assert_eq!(lost, 0, "messages acknowledged by the broker are missing in Kafka; worker log:\n{log}");
    // Redelivered: what the task held unacknowledged at the stop (at most 2,000), plus the
    // batch the publisher was sending (500). Acknowledgements stuck in the client instead of
    // reaching the broker made it redeliver everything read before the stop (over 10,000).
    assert!(dups <= 5000, "{dups} duplicates: acknowledgements did not reach the broker before the stop");
    assert!(log.contains("MQTT connection failed or lost; reconnecting"), "no disconnection logged:\n{log}");
    let reconnected = log.lines().any(|l| l.contains("connected to the MQTT broker") && l.contains("generation=2"));
    assert!(reconnected, "no reconnection logged:\n{log}");
    assert!(log.lines().any(|l| l.contains("generation=2") && l.contains("session_present=true")), "{log}");
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{log}");
}
