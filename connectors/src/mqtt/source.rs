//! The MQTT source task: subscribes to its filters and turns each PUBLISH into a record.
//!
//! No loss: messages are received with manual acknowledgements. A QoS 1/2 message is
//! acknowledged to the broker (PUBACK, or PUBREC for QoS 2) only in `commit_record`, which
//! the runtime calls once Kafka holds the record (in poll order, one call per polled record).
//! A message that was not acknowledged when the task or connection died is redelivered by the
//! broker when the session is persistent (`mqtt.clean.session.enabled=false`): at-least-once.
//!
//! Back-pressure: the driver waits for a permit per unacknowledged QoS 1/2 message
//! (`mqtt.max.unacked.messages`) and for room in a bounded channel, and reads nothing from
//! the broker meanwhile. Acknowledgements go to the driver through a channel it drains in
//! every state (also while it waits), so acknowledging never waits on reading.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering as AtomicOrdering};
use std::time::Duration;

use async_trait::async_trait;
use rumqttc::QoS;
use tokio::sync::{Semaphore, mpsc};
use tributary_runtime::api::{
    ConnectError, ConnectResult, OffsetMap, Props, RecordMetadata, Schema, SchemaType, SourceRecord, SourceTask,
    SourceTaskContext, Value,
};

use super::client::{Ack, Connection, Handler, Setup, connect};
use super::config::{self, ConnectionSettings};
use super::headers;
use super::payload::json_to_value;
use super::protocol::Message;
use super::topic_map::TopicMap;

const BATCH: usize = 1000;
const IDLE_POLL: Duration = Duration::from_millis(500);
const TOPIC_CACHE: usize = 10_000;

/// How a payload becomes the record value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Bytes,
    String,
    Json,
}

/// A received message and the generation of the connection it came on.
struct Msg {
    publish: Message,
    generation: u64,
}

struct SourceHandler {
    tx: mpsc::Sender<Msg>,
    permits: Arc<Semaphore>,
}

#[async_trait]
impl Handler for SourceHandler {
    async fn publish(&mut self, publish: Message, generation: u64) {
        if publish.qos != QoS::AtMostOnce {
            match self.permits.acquire().await {
                // Given back in commit_record.
                Ok(p) => p.forget(),
                Err(_) => return,
            }
        }
        let _ = self.tx.send(Msg { publish, generation }).await;
    }
    fn acked(&mut self) {}
}

/// Reads MQTT messages into records.
#[derive(Debug)]
pub struct MqttSourceTask {
    conn: Option<Connection>,
    rx: Option<mpsc::Receiver<Msg>>,
    acks: Option<mpsc::Sender<Ack>>,
    permits: Arc<Semaphore>,
    /// One entry per polled record, in poll order: what to acknowledge when Kafka holds it.
    owed: VecDeque<Option<(u64, QoS, u16)>>,
    /// Messages received since start, logged at stop (how shared subscriptions spread them).
    received: u64,
    /// Messages received and not yet acknowledged to the broker (waiting for Kafka): the task's
    /// `mqtt-unacknowledged-messages` metric.
    unacked: Arc<AtomicI64>,
    topic_map: TopicMap,
    key_topic: bool,
    format: Format,
    topics: HashMap<String, Arc<str>>,
    partition: Arc<OffsetMap>,
    string_schema: Arc<Schema>,
    bytes_schema: Arc<Schema>,
    int_schema: Arc<Schema>,
    bool_schema: Arc<Schema>,
}

impl Default for MqttSourceTask {
    fn default() -> Self {
        Self {
            conn: None,
            rx: None,
            acks: None,
            permits: Arc::new(Semaphore::new(0)),
            owed: VecDeque::new(),
            received: 0,
            unacked: Arc::default(),
            topic_map: TopicMap::default(),
            key_topic: true,
            format: Format::Bytes,
            topics: HashMap::new(),
            partition: Arc::default(),
            string_schema: Schema::primitive(SchemaType::String),
            bytes_schema: Schema::primitive(SchemaType::Bytes),
            int_schema: Schema::primitive(SchemaType::Int32),
            bool_schema: Schema::primitive(SchemaType::Boolean),
        }
    }
}

impl MqttSourceTask {
    fn kafka_topic_for(&mut self, mqtt_topic: &str) -> ConnectResult<Arc<str>> {
        if let Some(t) = self.topics.get(mqtt_topic) {
            return Ok(t.clone());
        }
        if self.topics.len() >= TOPIC_CACHE {
            self.topics.clear();
        }
        let t: Arc<str> = self.topic_map.kafka_topic(mqtt_topic)?.into();
        self.topics.insert(mqtt_topic.to_owned(), t.clone());
        Ok(t)
    }

    fn value(&self, publish: &Message) -> ConnectResult<(Option<Arc<Schema>>, Value)> {
        match self.format {
            Format::Bytes => Ok((Some(self.bytes_schema.clone()), Value::Bytes(publish.payload.to_vec()))),
            Format::String => match std::str::from_utf8(&publish.payload) {
                Ok(s) => Ok((Some(self.string_schema.clone()), Value::String(s.to_owned()))),
                Err(e) => Err(ConnectError::data_from(
                    format!(
                        "the payload of a message on MQTT topic '{}' is not UTF-8 (mqtt.payload.format=string)",
                        publish.topic
                    ),
                    e,
                )),
            },
            Format::Json => match serde_json::from_slice::<serde_json::Value>(&publish.payload) {
                Ok(v) => Ok((None, json_to_value(v))),
                Err(e) => Err(ConnectError::data_from(
                    format!(
                        "the payload of a message on MQTT topic '{}' is not JSON (mqtt.payload.format=json)",
                        publish.topic
                    ),
                    e,
                )),
            },
        }
    }

    fn record(&mut self, publish: &Message) -> ConnectResult<SourceRecord> {
        let (value_schema, value) = self.value(publish)?;
        let kafka_topic = self.kafka_topic_for(&publish.topic)?;
        let mut r = SourceRecord::new(self.partition.clone(), OffsetMap::new(), kafka_topic, value_schema, value);
        if self.key_topic {
            r = r.with_key(Some(self.string_schema.clone()), Value::String(publish.topic.clone()));
        }
        let qos = publish.qos as u8;
        r.headers.add(headers::TOPIC, Some(self.string_schema.clone()), Value::String(publish.topic.clone()));
        r.headers.add(headers::QOS, Some(self.int_schema.clone()), Value::Int32(i32::from(qos)));
        r.headers.add(headers::RETAINED, Some(self.bool_schema.clone()), Value::Boolean(publish.retain));
        r.headers.add(headers::MESSAGE_ID, Some(self.int_schema.clone()), Value::Int32(i32::from(publish.pkid)));
        if let Some(p) = &publish.properties {
            headers::add_properties(&mut r.headers, p, &self.string_schema, &self.bytes_schema);
        }
        Ok(r)
    }

    /// Acknowledges a message, if still on its connection.
    async fn ack(&self, generation: u64, qos: QoS, pkid: u16) {
        if qos == QoS::AtMostOnce {
            return;
        }
        self.permits.add_permits(1);
        let Some(acks) = &self.acks else { return };
        // The driver drops acknowledgements of older connections.
        if acks.send(Ack { generation, qos, pkid }).await.is_err() {
            tracing::debug!("cannot acknowledge a message: the connection is closed");
        }
    }

    /// Handles one message: its record, or, when the payload is not the configured format, a
    /// failed record carrying the raw payload and the error. The runtime applies
    /// `errors.tolerance` to it and calls `commit_record` for it in order, which acknowledges
    /// the message like any other: never ahead of records still on their way to Kafka.
    fn take(&mut self, msg: Msg) -> SourceRecord {
        let record = self.record(&msg.publish).unwrap_or_else(|e| {
            let topic = self.kafka_topic_for(&msg.publish.topic).unwrap_or_else(|_| Arc::from(""));
            let raw = Value::Bytes(msg.publish.payload.to_vec());
            SourceRecord::failed(self.partition.clone(), OffsetMap::new(), topic, raw, &e)
        });
        self.owed.push_back(Some((msg.generation, msg.publish.qos, msg.publish.pkid)));
        record
    }

    fn stopped_error(&self) -> ConnectError {
        match self.conn.as_ref().and_then(Connection::fatal) {
            Some(why) => ConnectError::fatal(why),
            None => ConnectError::fatal("the MQTT connection stopped"),
        }
    }
}

#[async_trait]
impl SourceTask for MqttSourceTask {
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> ConnectResult<()> {
        let def = config::source_config_def();
        let c = def.parse(props)?;
        let settings: ConnectionSettings = config::connection_settings(props, &def)?;
        self.unacked = ctx.metrics.gauge("mqtt-unacknowledged-messages");
        self.topic_map = TopicMap::from_config(&c)?;
        self.key_topic = c.string(config::RECORD_KEY).eq_ignore_ascii_case("topic");
        self.format = match c.string(config::PAYLOAD_FORMAT).to_ascii_lowercase().as_str() {
            "json" => Format::Json,
            "string" => Format::String,
            _ => Format::Bytes,
        };
        let max_unacked = c.long(config::MAX_UNACKED).unwrap_or(10_000).max(1) as usize;
        self.permits = Arc::new(Semaphore::new(max_unacked));
        let (tx, rx) = mpsc::channel(BATCH * 4);
        self.rx = Some(rx);
        let filters: Vec<(String, QoS)> = c.list(config::TOPICS).into_iter().map(|f| (f, settings.qos)).collect();
        let client_id = config::client_id(&settings.client_id, &ctx.connector, ctx.task);
        let uris = c.list(config::SERVER_URI).join(",");
        tracing::info!(
            client_id,
            brokers = %uris,
            filters = ?filters.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            qos = settings.qos as u8,
            clean_session = settings.clean_session,
            version = ?settings.version,
            session_expiry_s = settings.session_expiry,
            "MQTT source connecting"
        );
        if settings.qos != QoS::AtMostOnce && settings.clean_session {
            tracing::warn!(
                "mqtt.clean.session.enabled=true: messages published while the task is down or reconnecting are lost; set it to false for no loss"
            );
        }
        let handler = SourceHandler { tx, permits: self.permits.clone() };
        let (ack_tx, ack_rx) = mpsc::channel(max_unacked);
        self.acks = Some(ack_tx);
        let setup = Setup {
            client_id: &client_id,
            subscriptions: filters,
            manual_acks: true,
            inflight: 100,
            receive_maximum: u16::try_from(max_unacked).unwrap_or(u16::MAX),
            request_capacity: 16,
        };
        let conn = connect(&settings, setup, Some(ack_rx), handler)?;
        let timeout = settings.connect_timeout * settings.servers.len().max(1) as u32 + Duration::from_secs(1);
        conn.wait_connected(&uris, timeout).await?;
        self.conn = Some(conn);
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let Some(rx) = self.rx.as_mut() else { return Err(ConnectError::fatal("the MQTT source task is not started")) };
        let first = match tokio::time::timeout(IDLE_POLL, rx.recv()).await {
            Err(_) => {
                return match self.conn.as_ref().and_then(Connection::fatal) {
                    Some(why) => Err(ConnectError::fatal(why)),
                    None => Ok(Vec::new()),
                };
            }
            Ok(None) => return Err(self.stopped_error()),
            Ok(Some(m)) => m,
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match self.rx.as_mut().map(mpsc::Receiver::try_recv) {
                Some(Ok(m)) => batch.push(m),
                _ => break,
            }
        }
        self.received += batch.len() as u64;
        let records = batch.into_iter().map(|msg| self.take(msg)).collect();
        self.unacked.store(self.owed.len() as i64, AtomicOrdering::Relaxed);
        Ok(records)
    }

    async fn commit_record(&mut self, _record: &SourceRecord, _metadata: Option<RecordMetadata>) -> ConnectResult<()> {
        if let Some(Some((generation, qos, pkid))) = self.owed.pop_front() {
            self.ack(generation, qos, pkid).await;
        }
        self.unacked.store(self.owed.len() as i64, AtomicOrdering::Relaxed);
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        tracing::info!(received = self.received, "MQTT source task stopping");
        if let Some(mut conn) = self.conn.take() {
            conn.close().await;
        }
        self.rx = None;
        self.acks = None;
        Ok(())
    }
}
