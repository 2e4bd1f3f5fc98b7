//! The MQTT connection: options from the config, and a driver task that polls rumqttc's event
//! loop, fails over between brokers and reconnects with exponential back-off and jitter.
//!
//! The driver owns the [`EventLoop`]; tasks talk to it through the [`AsyncClient`] (publish,
//! ack), whose request channel is bounded, and receive what it sees through a [`Handler`].
//! Acknowledgements bypass rumqttc's pending queue (see [`super::acks`] for why and how).
//! Every successful CONNACK starts a new *generation*: acknowledgements of messages received
//! under an older generation are not sent, because after a reconnect the broker redelivers
//! them (persistent session) or forgot them (clean session), and a stale packet id could
//! acknowledge another message.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rumqttc::QoS;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tributary_runtime::api::{ConnectError, ConnectResult};

use super::acks::AckQueue;
use super::config::ConnectionSettings;
use super::protocol::{Client, Inbound, Link, LinkError, LinkOptions, Message};

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
    async fn publish(&mut self, message: Message, generation: u64);
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
    pub(super) client: Client,
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
        self.client.try_disconnect();
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
    /// Incoming QoS 1/2 messages unacknowledged, at most (MQTT 5 receive maximum).
    pub(super) receive_maximum: u16,
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
    let Setup { client_id, subscriptions, manual_acks, inflight, receive_maximum, request_capacity } = setup;
    let options = LinkOptions { client_id, manual_acks, inflight, receive_maximum, request_capacity };
    let (client, link) = Link::new(settings, options)?;
    let servers: Vec<String> = settings.servers.iter().map(ToString::to_string).collect();
    let generation = Arc::new(AtomicU64::new(0));
    let status = SharedStatus::default();
    let cancel = CancellationToken::new();
    let driver = Driver {
        link,
        servers,
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
    link: Link,
    /// `mqtt.server.uri`, for messages; `current` is the one in use.
    servers: Vec<String>,
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
                    self.owed.send(&mut self.link).await;
                    continue;
                }
                e = self.link.poll() => e,
            };
            if event.is_ok() && self.owed.has_queued() {
                // MQTT 5 hands acknowledgements over a few at a time (see `acks`): the rest
                // goes as the event loop takes them.
                self.owed.send(&mut self.link).await;
            }
            match event {
                Ok(Inbound::ConnAck { session_present }) => self.on_connack(session_present),
                Ok(Inbound::Publish(m)) => {
                    let generation = self.generation.load(Ordering::Acquire);
                    let publish = self.handler.publish(m, generation);
                    tokio::pin!(publish);
                    loop {
                        tokio::select! {
                            biased;
                            _ = cancel.cancelled() => return,
                            _ = &mut publish => break,
                            () = self.owed.recv() => self.owed.send(&mut self.link).await,
                        }
                    }
                }
                Ok(Inbound::Acked) => self.handler.acked(),
                Ok(Inbound::SubAck { refused: Some((i, reason)) }) => {
                    let filter = self.subscriptions.get(i).map_or("?", |(f, _)| f.as_str());
                    let fatal = format!(
                        "the broker refused the subscription to '{filter}' ({reason}; check mqtt.topics and the broker's ACLs)"
                    );
                    tracing::error!("{fatal}");
                    set_status(&self.status, |s| s.fatal = Some(fatal));
                    return;
                }
                Ok(Inbound::SubAck { refused: None }) => {
                    tracing::info!(filters = self.subscriptions.len(), "subscribed");
                }
                Ok(Inbound::Disconnect) => {
                    tracing::warn!(broker = %self.servers[self.current], "the broker closed the session");
                }
                Ok(Inbound::Other) => {}
                Err(LinkError::Done) => return,
                Err(LinkError::Fatal(what)) => {
                    self.owed.connection_lost(&mut self.link);
                    let fatal = format!("{} {what}", self.servers[self.current]);
                    tracing::error!("{fatal}");
                    set_status(&self.status, |s| s.fatal = Some(fatal));
                    return;
                }
                Err(LinkError::Retry(e)) => {
                    self.owed.connection_lost(&mut self.link);
                    set_status(&self.status, |s| s.last_error = Some(format!("{}: {e}", self.servers[self.current])));
                    let delay = self.next_delay();
                    let was = self.current;
                    self.current = (self.current + 1) % self.servers.len().max(1);
                    tracing::warn!(
                        broker = %self.servers[was],
                        error = %e,
                        retry_in_ms = delay.as_millis() as u64,
                        next = %self.servers[self.current],
                        "MQTT connection failed or lost; reconnecting"
                    );
                    self.link.use_server(self.current);
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
            broker = %self.servers[self.current],
            session_present,
            generation,
            "connected to the MQTT broker"
        );
        if !session_present && !self.subscriptions.is_empty() {
            // Straight into the event loop's queue, ahead of anything else: the request channel
            // may be full of acknowledgements, and this task is the one that drains it.
            self.link.subscribe_first(&self.subscriptions);
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
