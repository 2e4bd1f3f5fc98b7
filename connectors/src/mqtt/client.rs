//! The MQTT connection: options from the config, and a driver task that polls rumqttc's event
//! loop, fails over between brokers and reconnects with exponential back-off and jitter.
//!
//! The driver owns the [`EventLoop`]; tasks talk to it through the [`AsyncClient`] (publish,
//! ack), whose request channel is bounded, and receive what it sees through a [`Handler`].
//! Acknowledgements are written straight to the connection (see [`super::acks`] for why).
//! Every successful CONNACK starts a new *generation*: acknowledgements of messages received
//! under an older generation are not sent, because after a reconnect the broker redelivers
//! them (persistent session) or forgot them (clean session), and a stale packet id could
//! acknowledge another message.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, Incoming, MqttOptions, Publish, QoS, Request,
    Subscribe, SubscribeFilter, SubscribeReasonCode, TlsConfiguration, Transport,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tributary_runtime::api::{ConnectError, ConnectResult};

use super::acks::AckQueue;
use super::config::{ConnectionSettings, ServerUri};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A manual acknowledgement the task owes the broker for a received QoS 1/2 message.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ack {
    /// Connection generation the message arrived on.
    pub(super) generation: u64,
    pub(super) qos: QoS,
    pub(super) pkid: u16,
}

/// What the driver reports to the task that owns it.
#[async_trait]
pub(super) trait Handler: Send + 'static {
    /// A PUBLISH arrived under `generation`. May wait (back-pressure): the driver reads
    /// nothing more from the broker meanwhile.
    async fn publish(&mut self, publish: Publish, generation: u64);
    /// The broker acknowledged an outgoing QoS 1 (PUBACK) or QoS 2 (PUBCOMP) publish.
    fn acked(&mut self);
    /// A new connection (generation) started; `session_present` as in the CONNACK.
    fn connected(&mut self, generation: u64, session_present: bool) {
        let _ = (generation, session_present);
    }
}

/// What the driver knows about the connection, for the task to read.
#[derive(Debug, Default)]
pub(super) struct Status {
    /// Why the driver stopped for good (wrong credentials, refused subscription...).
    pub(super) fatal: Option<String>,
    /// The last connection error, for "cannot connect" messages.
    pub(super) last_error: Option<String>,
}

/// The shared [`Status`].
pub(super) type SharedStatus = Arc<std::sync::Mutex<Status>>;

fn set_status(status: &SharedStatus, f: impl FnOnce(&mut Status)) {
    // A poisoned lock only means a panic elsewhere; the status is still worth writing.
    let mut guard = status.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut guard);
}

/// A running connection.
#[derive(Debug)]
pub(super) struct Connection {
    pub(super) client: AsyncClient,
    generation: Arc<AtomicU64>,
    status: SharedStatus,
    cancel: CancellationToken,
    driver: Option<JoinHandle<()>>,
}

impl Connection {
    /// Why the connection stopped for good, if it did.
    pub(super) fn fatal(&self) -> Option<String> {
        self.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).fatal.clone()
    }

    /// The last connection error.
    pub(super) fn last_error(&self) -> Option<String> {
        self.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).last_error.clone()
    }

    /// Waits until the first CONNACK, a fatal error, or `timeout`.
    pub(super) async fn wait_connected(&self, uris: &str, timeout: Duration) -> ConnectResult<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(fatal) = self.fatal() {
                return Err(ConnectError::fatal(fatal));
            }
            if self.generation() > 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ConnectError::retriable(format!(
                    "cannot connect to any MQTT broker of mqtt.server.uri ({uris}) within {} s: {}",
                    timeout.as_secs(),
                    self.last_error().unwrap_or_else(|| "no answer".into())
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The current connection generation (0 before the first CONNACK).
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Disconnects (best effort) and stops the driver.
    pub(super) async fn close(&mut self) {
        let _ = self.client.try_disconnect();
        // Give the driver a moment to send DISCONNECT, so the broker does not publish a will
        // or log an unexpected close; then stop it regardless.
        if let Some(driver) = self.driver.take() {
            let stopped = tokio::time::timeout(Duration::from_millis(500), async {
                while !driver.is_finished() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await;
            self.cancel.cancel();
            if stopped.is_err() {
                driver.abort();
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// rumqttc options for one broker.
pub(super) fn options(
    s: &ConnectionSettings,
    server: &ServerUri,
    client_id: &str,
    manual_acks: bool,
    inflight: u16,
) -> ConnectResult<MqttOptions> {
    let mut o = MqttOptions::new(client_id, server.host.clone(), server.port);
    o.set_keep_alive(s.keep_alive)
        .set_clean_session(s.clean_session)
        .set_manual_acks(manual_acks)
        .set_max_packet_size(s.max_message_bytes, s.max_message_bytes)
        .set_inflight(inflight.max(1));
    if let Some(user) = &s.username {
        o.set_credentials(user.clone(), s.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default());
    }
    if server.tls {
        o.set_transport(tls_transport(s)?);
    }
    Ok(o)
}

fn read_pem(key: &str, path: &str) -> ConnectResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| ConnectError::config(key, format!("cannot read {path}: {e}")))
}

fn tls_transport(s: &ConnectionSettings) -> ConnectResult<Transport> {
    let Some(ca_path) = &s.ca else { return Ok(Transport::tls_with_default_config()) };
    let ca = read_pem(super::config::SSL_CA, ca_path)?;
    let client_auth = match &s.client_cert {
        Some((cert, key)) => Some((read_pem(super::config::SSL_CERT, cert)?, read_pem(super::config::SSL_KEY, key)?)),
        None => None,
    };
    Ok(Transport::Tls(TlsConfiguration::Simple { ca, alpn: None, client_auth }))
}

/// How a task wants its connection.
#[derive(Debug)]
pub(super) struct Setup<'a> {
    pub(super) client_id: &'a str,
    /// Filters to subscribe to, with their QoS.
    pub(super) subscriptions: Vec<(String, QoS)>,
    /// Acknowledge received messages only when the task says so.
    pub(super) manual_acks: bool,
    /// Outgoing QoS 1/2 publishes awaiting acknowledgement, at most.
    pub(super) inflight: u16,
    /// Capacity of the client's request channel.
    pub(super) request_capacity: usize,
}

/// Starts the driver. `subscriptions` are (re)subscribed whenever the broker has no session
/// for us; `request_capacity` bounds the client's request channel.
pub(super) fn connect<H: Handler>(
    settings: &ConnectionSettings,
    setup: Setup<'_>,
    acks: Option<mpsc::Receiver<Ack>>,
    handler: H,
) -> ConnectResult<Connection> {
    let Setup { client_id, subscriptions, manual_acks, inflight, request_capacity } = setup;
    let mut all_options = Vec::with_capacity(settings.servers.len());
    for server in &settings.servers {
        all_options.push((server.to_string(), options(settings, server, client_id, manual_acks, inflight)?));
    }
    if all_options.is_empty() {
        return Err(ConnectError::config(super::config::SERVER_URI, "no broker URI"));
    }
    let (client, mut eventloop) = AsyncClient::new(all_options[0].1.clone(), request_capacity.max(1));
    eventloop.network_options.set_connection_timeout(settings.connect_timeout.as_secs().max(1));
    let generation = Arc::new(AtomicU64::new(0));
    let status = SharedStatus::default();
    let cancel = CancellationToken::new();
    let driver = Driver {
        eventloop,
        servers: all_options,
        current: 0,
        subscriptions,
        generation: generation.clone(),
        status: status.clone(),
        handler,
        owed: AckQueue::new(acks),
        failures: 0,
    };
    // In the task's span, so its logs carry the connector and task.
    let driver = tokio::spawn(tracing::Instrument::instrument(driver.run(cancel.clone()), tracing::Span::current()));
    Ok(Connection { client, generation, status, cancel, driver: Some(driver) })
}

struct Driver<H> {
    eventloop: EventLoop,
    servers: Vec<(String, MqttOptions)>,
    current: usize,
    subscriptions: Vec<(String, QoS)>,
    generation: Arc<AtomicU64>,
    status: SharedStatus,
    handler: H,
    /// Acknowledgements from the task. The driver takes and writes them in every state, also
    /// while `Handler::publish` waits, so the task never waits on the driver to acknowledge.
    owed: AckQueue,
    /// Connection failures in a row.
    failures: u32,
}

impl<H: Handler> Driver<H> {
    async fn run(mut self, cancel: CancellationToken) {
        loop {
            let event = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                () = self.owed.recv() => {
                    self.owed.send(&mut self.eventloop).await;
                    continue;
                }
                e = self.eventloop.poll() => e,
            };
            match event {
                Ok(Event::Incoming(Incoming::ConnAck(ack))) => self.on_connack(ack.session_present),
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    let generation = self.generation.load(Ordering::Acquire);
                    let publish = self.handler.publish(p, generation);
                    tokio::pin!(publish);
                    loop {
                        tokio::select! {
                            biased;
                            _ = cancel.cancelled() => return,
                            _ = &mut publish => break,
                            () = self.owed.recv() => self.owed.send(&mut self.eventloop).await,
                        }
                    }
                }
                Ok(Event::Incoming(Incoming::PubAck(_) | Incoming::PubComp(_))) => self.handler.acked(),
                Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                    if let Some(i) = ack.return_codes.iter().position(|c| *c == SubscribeReasonCode::Failure) {
                        let filter = self.subscriptions.get(i).map_or("?", |(f, _)| f.as_str());
                        let fatal = format!(
                            "the broker refused the subscription to '{filter}' (check mqtt.topics and the broker's ACLs)"
                        );
                        tracing::error!("{fatal}");
                        set_status(&self.status, |s| s.fatal = Some(fatal));
                        return;
                    }
                    tracing::info!(filters = self.subscriptions.len(), "subscribed");
                }
                Ok(Event::Incoming(Incoming::Disconnect)) => {
                    tracing::warn!(broker = %self.servers[self.current].0, "the broker closed the session");
                }
                Ok(_) => {}
                Err(ConnectionError::RequestsDone) => return,
                Err(e) => {
                    self.owed.connection_lost(&mut self.eventloop);
                    if let Some(fatal) = fatal_error(&e, &self.servers[self.current].0) {
                        tracing::error!("{fatal}");
                        set_status(&self.status, |s| s.fatal = Some(fatal));
                        return;
                    }
                    // A certificate the CA does not vouch for is the usual TLS failure.
                    let hint = if matches!(e, ConnectionError::Tls(_)) { " (check mqtt.ssl.ca.path)" } else { "" };
                    set_status(&self.status, |s| {
                        s.last_error = Some(format!("{}: {e}{hint}", self.servers[self.current].0));
                    });
                    let delay = self.next_delay();
                    let was = self.servers[self.current].0.clone();
                    self.current = (self.current + 1) % self.servers.len();
                    let next = self.servers[self.current].clone();
                    tracing::warn!(
                        broker = %was,
                        error = %e,
                        retry_in_ms = delay.as_millis() as u64,
                        next = %next.0,
                        "MQTT connection failed or lost; reconnecting"
                    );
                    self.eventloop.mqtt_options = next.1;
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    fn on_connack(&mut self, session_present: bool) {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.failures = 0;
        self.owed.connected(generation);
        tracing::info!(
            broker = %self.servers[self.current].0,
            session_present,
            generation,
            "connected to the MQTT broker"
        );
        if !session_present && !self.subscriptions.is_empty() {
            let filters =
                self.subscriptions.iter().map(|(f, q)| SubscribeFilter::new(f.clone(), *q)).collect::<Vec<_>>();
            // Straight into the event loop's queue, ahead of anything else: the request channel
            // may be full of acknowledgements, and this task is the one that drains it.
            self.eventloop.pending.push_front(Request::Subscribe(Subscribe::new_many(filters)));
        }
        self.handler.connected(generation, session_present);
    }

    /// Exponential back-off per round over all brokers, with ±50% jitter.
    fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let rounds = (self.failures - 1) / self.servers.len().max(1) as u32;
        let base = BACKOFF_MIN.saturating_mul(1u32 << rounds.min(16)).min(BACKOFF_MAX);
        let jitter = 0.5 + rand::random::<f64>();
        base.mul_f64(jitter).min(BACKOFF_MAX)
    }
}

/// Errors that retrying cannot fix: the broker refused our credentials or client id.
fn fatal_error(e: &ConnectionError, broker: &str) -> Option<String> {
    let ConnectionError::ConnectionRefused(code) = e else {
        if let ConnectionError::MqttState(rumqttc::StateError::Deserialization(
            rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(n),
        )) = e
        {
            return Some(format!(
                "{broker} sent a message of {n} bytes, larger than mqtt.max.message.bytes allows; raise it (the broker keeps the message)"
            ));
        }
        return None;
    };
    let why = match code {
        ConnectReturnCode::BadUserNamePassword => "bad user name or password (check mqtt.username and mqtt.password)",
        // Mosquitto answers a wrong password with this code too.
        ConnectReturnCode::NotAuthorized => {
            "not authorized: wrong user name or password, or no permission (check mqtt.username, mqtt.password and the broker's ACLs)"
        }
        ConnectReturnCode::BadClientId => "client id rejected (check mqtt.client.id)",
        ConnectReturnCode::RefusedProtocolVersion => "MQTT 3.1.1 is not supported by this broker",
        _ => return None,
    };
    Some(format!("{broker} refused the connection: {why}"))
}
