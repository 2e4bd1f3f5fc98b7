//! Helpers for the MQTT integration tests (tests/mqtt_pipeline.rs, tests/mqtt5.rs,
//! tests/mqtt_ops.rs): the test environment, connector properties, a test MQTT client of
//! either protocol version, and a reader of what reached Kafka.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rdkafka::ClientConfig;
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers as _;
use rumqttc::v5::mqttbytes::v5::PublishProperties;
use tokio::sync::mpsc;
use tributary_testcontainers::{MqttBrokers, TestEnv, create_topic, split_url, unique_name};

use super::write_props;

/// The Kafka bootstrap servers and the Mosquitto brokers, or `None` (the test is skipped)
/// where the test environment lacks either.
pub(crate) fn env() -> Option<(&'static str, &'static MqttBrokers)> {
    Some((TestEnv::get().kafka()?, TestEnv::get().mqtt()?))
}

/// `pairs` with `extra` applied: a key already there takes the new value in place, a new key
/// is appended (the effect the worker gives a repeated key: the last one wins).
fn merged<'a>(mut pairs: Vec<(&'a str, &'a str)>, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    for &(key, value) in extra {
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => pairs.push((key, value)),
        }
    }
    pairs
}

/// `{name}.properties` in `dir` for an MQTT source reading `filter` at QoS 1 on a persistent
/// session into `kafka_topic`, keys as strings and values as bytes; `extra` adds or overrides.
pub(crate) fn source_props(
    dir: &Path,
    name: &str,
    url: &str,
    filter: &str,
    kafka_topic: &str,
    extra: &[(&str, &str)],
) -> PathBuf {
    let pairs = vec![
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
    write_props(&dir.join(format!("{name}.properties")), &merged(pairs, extra))
}

/// `sink.properties` in `dir` for an MQTT sink named `name` publishing the records of
/// `kafka_topic` to `mqtt_topic` at QoS 1, keys as strings and values as bytes; `extra` adds
/// or overrides.
pub(crate) fn sink_props(
    dir: &Path,
    name: &str,
    url: &str,
    kafka_topic: &str,
    mqtt_topic: &str,
    extra: &[(&str, &str)],
) -> PathBuf {
    let pairs = vec![
        ("name", name),
        ("connector.class", "MqttSink"),
        ("topics", kafka_topic),
        ("mqtt.server.uri", url),
        ("mqtt.topic", mqtt_topic),
        ("mqtt.qos", "1"),
        ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
        ("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
    ];
    write_props(&dir.join("sink.properties"), &merged(pairs, extra))
}

/// The values of the records of `topic`, read from the start until `done` (given what was
/// read so far) says so or `timeout` passes.
pub(crate) fn consume_values(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
    done: impl FnMut(&[Got]) -> bool,
) -> Vec<Vec<u8>> {
    consume(bootstrap, topic, timeout, done).into_iter().map(|g| g.value).collect()
}

/// A record read back from Kafka, headers in order with their raw bytes.
#[derive(Debug)]
pub(crate) struct Got {
    pub(crate) key: Option<String>,
    pub(crate) value: Vec<u8>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

impl Got {
    /// The last header named `name`.
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
    }

    /// The last header named `name`, as text.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.header(name).map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// Reads `topic` from the start until `done` (given what was read so far) says so or
/// `timeout` passes (read_committed, so records of aborted transactions are never counted).
pub(crate) fn consume(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Got]) -> bool,
) -> Vec<Got> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("mqtt-test"))
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while Instant::now() < deadline && !done(&out) {
        let Some(m) = consumer.poll(Duration::from_millis(200)) else { continue };
        let m = m.unwrap();
        let headers = m
            .headers()
            .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())).collect())
            .unwrap_or_default();
        out.push(Got {
            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            value: m.payload().unwrap_or_default().to_vec(),
            headers,
        });
    }
    out
}

/// [`consume`] until `n` distinct values were read or `timeout` passes. Counted incrementally:
/// recounting every record at each poll would make reading quadratic, too slow to get past
/// the duplicates to the last records within the timeout.
pub(crate) fn consume_distinct(bootstrap: &str, topic: &str, timeout: Duration, n: usize) -> Vec<Got> {
    let (mut seen, mut counted) = (HashSet::new(), 0);
    consume(bootstrap, topic, timeout, |g| {
        seen.extend(g[counted..].iter().map(|r| r.value.clone()));
        counted = g.len();
        seen.len() >= n
    })
}

/// Distinct values and the number of duplicates among `got`.
pub(crate) fn distinct(got: &[Got]) -> (HashSet<Vec<u8>>, usize) {
    let set: HashSet<Vec<u8>> = got.iter().map(|g| g.value.clone()).collect();
    let dups = got.len() - set.len();
    (set, dups)
}

/// The MQTT protocol version of a test client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// MQTT 3.1.1, the connectors' default.
    V311,
    /// MQTT 5 (`mqtt.version=5`).
    V5,
}

/// A message to publish: topic, payload and (MQTT 5 only) properties.
pub(crate) struct Outgoing {
    topic: String,
    payload: Vec<u8>,
    properties: Option<PublishProperties>,
}

impl From<(String, Vec<u8>)> for Outgoing {
    fn from((topic, payload): (String, Vec<u8>)) -> Self {
        Self { topic, payload, properties: None }
    }
}

impl From<(String, Vec<u8>, Option<PublishProperties>)> for Outgoing {
    fn from((topic, payload, properties): (String, Vec<u8>, Option<PublishProperties>)) -> Self {
        Self { topic, payload, properties }
    }
}

/// A message a test client received (properties only over MQTT 5).
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) topic: String,
    /// The QoS the broker delivered it with (at most the subscription's).
    pub(crate) qos: u8,
    /// The retain flag: a retained message sent on subscribing.
    pub(crate) retain: bool,
    pub(crate) payload: Bytes,
    pub(crate) properties: Option<PublishProperties>,
}

/// The rumqttc client of the chosen version.
enum Client {
    V311(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

/// An event of a test client's event loop, of either version.
enum ClientEvent {
    /// CONNACK or SUBACK.
    Ready,
    /// PUBACK (QoS 1) or PUBCOMP (QoS 2): a publish completed.
    PubAck,
    Publish(Box<Received>),
    Other,
}

impl From<rumqttc::Event> for ClientEvent {
    fn from(e: rumqttc::Event) -> Self {
        use rumqttc::{Event, Incoming};
        match e {
            Event::Incoming(Incoming::ConnAck(_) | Incoming::SubAck(_)) => Self::Ready,
            Event::Incoming(Incoming::PubAck(_) | Incoming::PubComp(_)) => Self::PubAck,
            Event::Incoming(Incoming::Publish(p)) => Self::Publish(Box::new(Received {
                topic: p.topic,
                qos: p.qos as u8,
                retain: p.retain,
                payload: p.payload,
                properties: None,
            })),
            _ => Self::Other,
        }
    }
}

impl From<rumqttc::v5::Event> for ClientEvent {
    fn from(e: rumqttc::v5::Event) -> Self {
        use rumqttc::v5::{Event, Incoming};
        match e {
            Event::Incoming(Incoming::ConnAck(_) | Incoming::SubAck(_)) => Self::Ready,
            Event::Incoming(Incoming::PubAck(_) | Incoming::PubComp(_)) => Self::PubAck,
            Event::Incoming(Incoming::Publish(p)) => Self::Publish(Box::new(Received {
                topic: String::from_utf8_lossy(&p.topic).into_owned(),
                qos: p.qos as u8,
                retain: p.retain,
                payload: p.payload,
                properties: p.properties,
            })),
            _ => Self::Other,
        }
    }
}

/// Where a test client's event loop reports: readiness, completed publishes and received
/// messages.
struct Reports {
    ready: mpsc::Sender<()>,
    acked: Arc<AtomicUsize>,
    received: mpsc::Sender<Received>,
}

impl Reports {
    async fn report<E: std::fmt::Display>(&self, event: Result<ClientEvent, E>) {
        match event {
            Ok(ClientEvent::Ready) => {
                let _ = self.ready.try_send(());
            }
            Ok(ClientEvent::PubAck) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(ClientEvent::Publish(p)) => {
                let _ = self.received.send(*p).await;
            }
            Ok(ClientEvent::Other) => {}
            Err(e) => {
                eprintln!("test MQTT client: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// An MQTT client whose event loop runs on a task; `acked` counts completed publishes.
pub(crate) struct Mqtt {
    client: Client,
    /// The QoS it publishes and subscribes with.
    qos: rumqttc::QoS,
    acked: Arc<AtomicUsize>,
    /// How long [`Mqtt::publish_all`] waits for the PUBACKs.
    ack_timeout: Duration,
    pub(crate) received: mpsc::Receiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Mqtt {
    /// Connects to `url` with a fresh client id, waits for the CONNACK and, with `subscribe`,
    /// subscribes to that filter at QoS 1 and waits for the SUBACK.
    pub(crate) async fn connect(version: Version, url: &str, subscribe: Option<&str>) -> Self {
        Self::connect_qos(version, url, subscribe, rumqttc::QoS::AtLeastOnce).await
    }

    /// [`Mqtt::connect`], publishing and subscribing at `qos`.
    pub(crate) async fn connect_qos(version: Version, url: &str, subscribe: Option<&str>, qos: rumqttc::QoS) -> Self {
        let (host, port) = split_url(url);
        let id = unique_name(if subscribe.is_some() { "sub" } else { "pub" });
        let acked = Arc::new(AtomicUsize::new(0));
        let (tx, received) = mpsc::channel(200_000);
        let (ready, mut ready_rx) = mpsc::channel(1);
        let reports = Reports { ready, acked: acked.clone(), received: tx };
        let (client, task, ack_timeout) = match version {
            Version::V311 => {
                let mut o = rumqttc::MqttOptions::new(id, host, port);
                o.set_keep_alive(Duration::from_secs(30)).set_max_packet_size(1 << 20, 1 << 20).set_inflight(1000);
                let (client, mut eventloop) = rumqttc::AsyncClient::new(o, 1000);
                let task = tokio::spawn(async move {
                    loop {
                        reports.report(eventloop.poll().await.map(ClientEvent::from)).await;
                    }
                });
                (Client::V311(client), task, Duration::from_secs(120))
            }
            Version::V5 => {
                let mut o = rumqttc::v5::MqttOptions::new(id, host, port);
                o.set_keep_alive(Duration::from_secs(30))
                    .set_max_packet_size(Some(1 << 20))
                    .set_outgoing_inflight_upper_limit(1000);
                let (client, mut eventloop) = rumqttc::v5::AsyncClient::new(o, 1000);
                let task = tokio::spawn(async move {
                    loop {
                        reports.report(eventloop.poll().await.map(ClientEvent::from)).await;
                    }
                });
                // The MQTT 5 tests publish more per call, on a slower path (shared subscriptions).
                (Client::V5(client), task, Duration::from_secs(180))
            }
        };
        let mqtt = Self { client, qos, acked, ack_timeout, received, task };
        tokio::time::timeout(Duration::from_secs(10), ready_rx.recv()).await.expect("test MQTT client did not connect");
        if let Some(filter) = subscribe {
            match &mqtt.client {
                Client::V311(c) => c.subscribe(filter, qos).await.unwrap(),
                Client::V5(c) => c.subscribe(filter, qos5(qos)).await.unwrap(),
            }
            tokio::time::timeout(Duration::from_secs(10), ready_rx.recv()).await.expect("no SUBACK");
        }
        mqtt
    }

    /// Publishes `(topic, payload)` or (MQTT 5) `(topic, payload, properties)` at the client's
    /// QoS and waits for every PUBACK (PUBCOMP at QoS 2).
    pub(crate) async fn publish_all(&self, messages: impl IntoIterator<Item = impl Into<Outgoing>>) {
        let start = self.acked.load(Ordering::Relaxed);
        let mut n = 0;
        for m in messages {
            let Outgoing { topic, payload, properties } = m.into();
            match (&self.client, properties) {
                (Client::V311(c), None) => c.publish(topic, self.qos, false, payload).await.unwrap(),
                (Client::V311(_), Some(_)) => panic!("MQTT 3.1.1 has no publish properties"),
                (Client::V5(c), None) => c.publish(topic, qos5(self.qos), false, payload).await.unwrap(),
                (Client::V5(c), Some(p)) => {
                    c.publish_with_properties(topic, qos5(self.qos), false, payload, p).await.unwrap();
                }
            }
            n += 1;
        }
        let deadline = Instant::now() + self.ack_timeout;
        while self.acked.load(Ordering::Relaxed) < start + n {
            assert!(Instant::now() < deadline, "the broker did not acknowledge {n} publishes");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `qos` as rumqttc's MQTT 5 client spells it.
fn qos5(qos: rumqttc::QoS) -> rumqttc::v5::mqttbytes::QoS {
    match qos {
        rumqttc::QoS::AtMostOnce => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
        rumqttc::QoS::AtLeastOnce => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
        rumqttc::QoS::ExactlyOnce => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
    }
}

/// What most MQTT tests start from: a temporary directory, a unique MQTT topic root, a unique
/// Kafka topic (created) and the worker properties.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) root: String,
    pub(crate) topic: String,
    pub(crate) worker: PathBuf,
}

impl Fixture {
    /// Names the root and the topic after the prefixes; the topic has `partitions`.
    pub(crate) async fn new(kafka: &str, root_prefix: &str, topic_prefix: &str, partitions: i32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = unique_name(root_prefix);
        let topic = unique_name(topic_prefix);
        create_topic(kafka, &topic, partitions).await.unwrap();
        let worker = super::worker_props(dir.path(), kafka, &[]);
        Self { dir, root, topic, worker }
    }

    /// [`source_props`] for a source named `{topic}-c` reading `{root}/#` into the topic, over
    /// MQTT `version`.
    pub(crate) fn source(&self, version: Version, url: &str, extra: &[(&str, &str)]) -> PathBuf {
        let name = format!("{}-c", self.topic);
        let filter = format!("{}/#", self.root);
        source_props(self.dir.path(), &name, url, &filter, &self.topic, &[version_props(version), extra].concat())
    }

    /// [`sink_props`] for a sink named `{topic}-sink` publishing the topic to `mqtt_topic`, over
    /// MQTT `version`.
    pub(crate) fn sink(&self, version: Version, url: &str, mqtt_topic: &str, extra: &[(&str, &str)]) -> PathBuf {
        let name = format!("{}-sink", self.topic);
        sink_props(self.dir.path(), &name, url, &self.topic, mqtt_topic, &[version_props(version), extra].concat())
    }
}

/// The connector properties selecting `version`: none for 3.1.1, the default.
fn version_props(version: Version) -> &'static [(&'static str, &'static str)] {
    match version {
        Version::V311 => &[],
        Version::V5 => &[("mqtt.version", "5")],
    }
}
