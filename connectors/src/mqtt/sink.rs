//! The MQTT sink task: publishes each record to the MQTT topic its template gives.
//!
//! Delivery: at-least-once. `put` hands publishes to the client (waiting when the in-flight
//! window, `mqtt.max.inflight.messages`, and the request channel are full); `flush`, which
//! the runtime calls before committing consumer offsets, waits until the broker acknowledged
//! every QoS 1/2 publish so far (PUBACK / PUBCOMP). If the connection drops with publishes
//! outstanding and the broker kept no session, those publishes are gone: the task then fails,
//! and its restart resumes from the last committed offsets. Ordering: one connection per task
//! and publishes in record order, so per MQTT topic (and Kafka partition) order is kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rumqttc::QoS;
use tokio::sync::Notify;
use tributary_runtime::api::{ConnectError, ConnectResult, Props, SinkOffsets, SinkRecord, SinkTask, SinkTaskContext};

use super::client::{Connection, Handler, Setup, connect};
use super::config::{self, Version};
use super::headers;
use super::payload::value_to_payload;
use super::protocol::Message;
use super::topic::render_sink_topic;

/// How long `flush` waits for acknowledgements before reporting a retriable error.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
struct Acks {
    acked: AtomicU64,
    /// Publishes were outstanding when a connection without a session started.
    lost: AtomicBool,
    /// Publishes requested and not acknowledged, as last seen by `put` (for `connected`).
    outstanding: AtomicU64,
    notify: Notify,
}

struct SinkHandler {
    acks: Arc<Acks>,
}

#[async_trait]
impl Handler for SinkHandler {
    async fn publish(&mut self, _message: Message, _generation: u64) {}
    fn acked(&mut self) {
        self.acks.acked.fetch_add(1, Ordering::AcqRel);
        self.acks.notify.notify_waiters();
    }
    fn connected(&mut self, generation: u64, session_present: bool) {
        if generation > 1 && !session_present && self.acks.outstanding.load(Ordering::Acquire) > 0 {
            self.acks.lost.store(true, Ordering::Release);
            self.acks.notify.notify_waiters();
        }
    }
}

/// Publishes records to MQTT.
#[derive(Debug, Default)]
pub struct MqttSinkTask {
    conn: Option<Connection>,
    acks: Arc<Acks>,
    /// QoS 1/2 publishes handed to the client.
    sent: u64,
    template: String,
    qos: Option<QoS>,
    retain: bool,
    /// MQTT 5: publish the properties the record's headers carry.
    properties: bool,
    /// QoS 1/2 publishes the broker has not acknowledged yet: the task's
    /// `mqtt-in-flight-publishes` metric.
    in_flight: Arc<std::sync::atomic::AtomicI64>,
    /// `mqtt.max.inflight.messages`: `put` waits while this many publishes are unacknowledged.
    window: u64,
}

impl MqttSinkTask {
    fn check(&self) -> ConnectResult<&Connection> {
        let Some(conn) = &self.conn else { return Err(ConnectError::fatal("the MQTT sink task is not started")) };
        if let Some(why) = conn.fatal() {
            return Err(ConnectError::fatal(why));
        }
        if self.acks.lost.load(Ordering::Acquire) {
            return Err(ConnectError::fatal(
                "the MQTT connection was lost with publishes unacknowledged and the broker kept no session; \
                 restarting from the last committed offsets (set mqtt.clean.session.enabled=false to resume instead)",
            ));
        }
        Ok(conn)
    }

    /// Waits until fewer than `mqtt.max.inflight.messages` publishes are unacknowledged, so
    /// the window bounds everything handed to the client (its request queue included), not
    /// only what the client has on the wire.
    async fn wait_for_window(&self) -> ConnectResult<()> {
        loop {
            let notified = self.acks.notify.notified();
            if self.sent.saturating_sub(self.acks.acked.load(Ordering::Acquire)) < self.window {
                return Ok(());
            }
            self.update_outstanding();
            self.check()?;
            // Woken by each acknowledgement; the timeout re-checks the connection's state.
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }

    fn update_outstanding(&self) {
        let acked = self.acks.acked.load(Ordering::Acquire);
        let outstanding = self.sent.saturating_sub(acked);
        self.acks.outstanding.store(outstanding, Ordering::Release);
        self.in_flight.store(i64::try_from(outstanding).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}

#[async_trait]
impl SinkTask for MqttSinkTask {
    async fn start(&mut self, ctx: SinkTaskContext, props: &Props) -> ConnectResult<()> {
        let def = config::sink_config_def();
        let c = def.parse(props)?;
        let settings = config::connection_settings(props, &def)?;
        self.in_flight = ctx.metrics.gauge("mqtt-in-flight-publishes");
        self.template = c.string(config::MQTT_TOPIC);
        self.qos = Some(settings.qos);
        self.retain = c.bool(config::RETAIN);
        self.properties = settings.version == Version::V5;
        let inflight = c.long(config::MAX_INFLIGHT).unwrap_or(1000).clamp(1, 65535) as u16;
        self.window = u64::from(inflight);
        let client_id = config::client_id(&settings.client_id, &ctx.connector, ctx.task);
        let uris = c.list(config::SERVER_URI).join(",");
        tracing::info!(
            client_id,
            brokers = %uris,
            qos = settings.qos as u8,
            version = ?settings.version,
            session_expiry_s = settings.session_expiry,
            "MQTT sink connecting"
        );
        self.acks = Arc::new(Acks::default());
        let handler = SinkHandler { acks: self.acks.clone() };
        let setup = Setup {
            client_id: &client_id,
            subscriptions: Vec::new(),
            manual_acks: false,
            inflight,
            receive_maximum: u16::MAX,
            request_capacity: usize::from(inflight),
        };
        let conn = connect(&settings, setup, None, handler)?;
        let timeout = settings.connect_timeout * settings.servers.len().max(1) as u32 + Duration::from_secs(1);
        conn.wait_connected(&uris, timeout).await?;
        self.conn = Some(conn);
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()> {
        let qos = self.qos.unwrap_or(QoS::AtLeastOnce);
        for record in records {
            let topic = render_sink_topic(&self.template, &record)?;
            let payload = value_to_payload(&record.value)?;
            let properties = if self.properties { headers::properties(&record)? } else { None };
            self.wait_for_window().await?;
            let conn = self.check()?;
            conn.client
                .publish(topic, qos, self.retain, payload, properties)
                .await
                .map_err(|e| ConnectError::fatal(format!("the MQTT client stopped: {e}")))?;
            if qos != QoS::AtMostOnce {
                self.sent += 1;
            }
        }
        self.update_outstanding();
        Ok(())
    }

    async fn flush(&mut self, _offsets: &SinkOffsets) -> ConnectResult<()> {
        let deadline = tokio::time::Instant::now() + FLUSH_TIMEOUT;
        loop {
            self.update_outstanding();
            self.check()?;
            let notified = self.acks.notify.notified();
            if self.acks.acked.load(Ordering::Acquire) >= self.sent {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(ConnectError::retriable(format!(
                    "{} MQTT publishes still unacknowledged after {} s",
                    self.sent.saturating_sub(self.acks.acked.load(Ordering::Acquire)),
                    FLUSH_TIMEOUT.as_secs()
                )));
            }
            // Woken by each acknowledgement; the timeout re-checks the connection's state.
            let _ = tokio::time::timeout(Duration::from_millis(200).min(deadline - now), notified).await;
        }
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(mut conn) = self.conn.take() {
            conn.close().await;
        }
        Ok(())
    }
}
