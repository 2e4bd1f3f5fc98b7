//! The protocol-specific layer: rumqttc's MQTT 3.1.1 client (`rumqttc`) and MQTT 5 client
//! (`rumqttc::v5`) behind one client handle ([`Client`]) and one event loop ([`Link`]) that
//! speak in protocol-neutral terms ([`Message`], [`Inbound`], [`LinkError`]).
//!
//! Everything above this file (the driver in `client.rs`, the source and the sink) is the same
//! for both versions; MQTT 5 only adds [`Properties`] to messages, a session expiry interval
//! and a receive maximum to the CONNECT.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::tokio_rustls::rustls::pki_types::pem::PemObject;
use rumqttc::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rumqttc::v5 as mqtt5;
use rumqttc::v5::mqttbytes::v5 as packets5;
use rumqttc::{ConnectReturnCode, ConnectionError, MqttOptions, QoS, SubscribeReasonCode, TlsConfiguration, Transport};
use tributary_runtime::api::{ConnectError, ConnectResult};

use super::config::{ConnectionSettings, SSL_CA, SSL_CERT, SSL_KEY, Scheme, ServerUri, Version};

/// The MQTT 5 properties of a PUBLISH that Tributary maps to and from Kafka headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Properties {
    /// User properties, in order; names may repeat.
    pub(super) user: Vec<(String, String)>,
    pub(super) content_type: Option<String>,
    pub(super) correlation_data: Option<Bytes>,
    pub(super) response_topic: Option<String>,
}

impl Properties {
    fn from_v5(p: packets5::PublishProperties) -> Self {
        Self {
            user: p.user_properties,
            content_type: p.content_type,
            correlation_data: p.correlation_data,
            response_topic: p.response_topic,
        }
    }

    fn into_v5(self) -> packets5::PublishProperties {
        packets5::PublishProperties {
            user_properties: self.user,
            content_type: self.content_type,
            correlation_data: self.correlation_data,
            response_topic: self.response_topic,
            ..Default::default()
        }
    }
}

/// A received PUBLISH, whatever the protocol version.
#[derive(Clone, Debug)]
pub(super) struct Message {
    pub(super) topic: String,
    pub(super) payload: Bytes,
    pub(super) qos: QoS,
    pub(super) retain: bool,
    pub(super) pkid: u16,
    /// MQTT 5 properties; `None` with 3.1.1 or when the message has none.
    pub(super) properties: Option<Properties>,
}

/// What the broker sent, as the driver needs it.
#[derive(Debug)]
pub(super) enum Inbound {
    ConnAck {
        session_present: bool,
    },
    Publish(Message),
    /// PUBACK or PUBCOMP of an outgoing QoS 1/2 publish.
    Acked,
    /// A SUBACK; `refused` is the index and reason of the first refused filter.
    SubAck {
        refused: Option<(usize, String)>,
    },
    Disconnect,
    Other,
}

/// Why polling failed.
#[derive(Debug)]
pub(super) enum LinkError {
    /// The client was dropped: stop.
    Done,
    /// Retrying cannot help (credentials, client id, oversized message); what the broker did,
    /// as a sentence to put after the broker's name.
    Fatal(String),
    /// Reconnect, after a back-off.
    Retry(String),
}

/// The client handle tasks publish and disconnect through.
#[derive(Clone, Debug)]
pub(super) enum Client {
    V311(rumqttc::AsyncClient),
    V5(mqtt5::AsyncClient),
}

impl Client {
    /// Publishes (waits when the request channel is full). `properties` are dropped with 3.1.1.
    pub(super) async fn publish(
        &self,
        topic: String,
        qos: QoS,
        retain: bool,
        payload: Vec<u8>,
        properties: Option<Properties>,
    ) -> Result<(), String> {
        match self {
            Self::V311(c) => c.publish(topic, qos, retain, payload).await.map_err(|e| e.to_string()),
            Self::V5(c) => match properties {
                Some(p) => c.publish_with_properties(topic, qos5(qos), retain, payload, p.into_v5()).await,
                None => c.publish(topic, qos5(qos), retain, payload).await,
            }
            .map_err(|e| e.to_string()),
        }
    }

    /// Asks the event loop to send DISCONNECT, without waiting.
    pub(super) fn try_disconnect(&self) {
        let _ = match self {
            Self::V311(c) => c.try_disconnect().map_err(|_| ()),
            Self::V5(c) => c.try_disconnect().map_err(|_| ()),
        };
    }
}

/// One connection's event loop and the options of every broker to fail over to.
/// The event loops are boxed: they are large, and of different sizes.
pub(super) enum Link {
    V311 {
        eventloop: Box<rumqttc::EventLoop>,
        servers: Vec<MqttOptions>,
    },
    V5 {
        eventloop: Box<mqtt5::EventLoop>,
        servers: Vec<mqtt5::MqttOptions>,
        /// The event loop's own request channel, for acknowledgements: rumqttc's MQTT 5 event
        /// loop does not expose its connection (see `acks`).
        acker: mqtt5::AsyncClient,
    },
}

/// What a connection needs beyond the settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct LinkOptions<'a> {
    pub(super) client_id: &'a str,
    pub(super) manual_acks: bool,
    /// Outgoing QoS 1/2 publishes awaiting acknowledgement, at most.
    pub(super) inflight: u16,
    /// Incoming QoS 1/2 messages unacknowledged, at most (MQTT 5 receive maximum).
    pub(super) receive_maximum: u16,
    pub(super) request_capacity: usize,
}

impl Link {
    /// A client and its event loop, connected to the first broker once polled.
    pub(super) fn new(s: &ConnectionSettings, o: LinkOptions<'_>) -> ConnectResult<(Client, Link)> {
        let cap = o.request_capacity.max(1);
        match s.version {
            Version::V311 => {
                let servers = s.servers.iter().map(|u| options_v311(s, u, &o)).collect::<ConnectResult<Vec<_>>>()?;
                let first = servers.first().cloned().ok_or_else(no_broker)?;
                let (client, mut eventloop) = rumqttc::AsyncClient::new(first, cap);
                eventloop.network_options.set_connection_timeout(s.connect_timeout.as_secs().max(1));
                Ok((Client::V311(client), Link::V311 { eventloop: Box::new(eventloop), servers }))
            }
            Version::V5 => {
                let servers = s.servers.iter().map(|u| options_v5(s, u, &o)).collect::<ConnectResult<Vec<_>>>()?;
                let first = servers.first().cloned().ok_or_else(no_broker)?;
                let (client, eventloop) = mqtt5::AsyncClient::new(first, cap);
                let acker = client.clone();
                Ok((Client::V5(client), Link::V5 { eventloop: Box::new(eventloop), servers, acker }))
            }
        }
    }

    /// Connects to broker `i` of `mqtt.server.uri` on the next poll.
    pub(super) fn use_server(&mut self, i: usize) {
        match self {
            Self::V311 { eventloop, servers } => {
                if let Some(o) = servers.get(i) {
                    eventloop.mqtt_options = o.clone();
                }
            }
            Self::V5 { eventloop, servers, .. } => {
                if let Some(o) = servers.get(i) {
                    eventloop.options = o.clone();
                }
            }
        }
    }

    /// The next event.
    pub(super) async fn poll(&mut self) -> Result<Inbound, LinkError> {
        match self {
            Self::V311 { eventloop, .. } => eventloop.poll().await.map(inbound_v311).map_err(error_v311),
            Self::V5 { eventloop, .. } => eventloop.poll().await.map(inbound_v5).map_err(error_v5),
        }
    }

    /// Puts a SUBSCRIBE at the head of the event loop's queue, ahead of anything else.
    pub(super) fn subscribe_first(&mut self, subscriptions: &[(String, QoS)]) {
        match self {
            Self::V311 { eventloop, .. } => {
                let filters = subscriptions.iter().map(|(f, q)| rumqttc::SubscribeFilter::new(f.clone(), *q));
                let subscribe = rumqttc::Subscribe::new_many(filters);
                eventloop.pending.push_front(rumqttc::Request::Subscribe(subscribe));
            }
            Self::V5 { eventloop, .. } => {
                let filters = subscriptions.iter().map(|(f, q)| packets5::Filter::new(f.clone(), qos5(*q)));
                let subscribe = packets5::Subscribe::new_many(filters, None);
                eventloop.pending.push_front(mqtt5::Request::Subscribe(subscribe));
            }
        }
    }

    /// Sends the acknowledgements at the front of `acks` (QoS 1: PUBACK, QoS 2: PUBREC),
    /// removing those handed over.
    ///
    /// 3.1.1 writes them all straight to the connection and flushes, bypassing the event loop;
    /// on a write error, or with no connection, they are dropped (the event loop meets the
    /// error on its next poll and reconnects; the broker redelivers). MQTT 5 puts as many as
    /// fit into the event loop's request channel, which it serves without a timer; the rest
    /// stay in `acks` for the next call.
    pub(super) async fn send_acks(&mut self, acks: &mut VecDeque<(QoS, u16)>) {
        match self {
            Self::V311 { eventloop, .. } => {
                let Some(network) = eventloop.network.as_mut() else {
                    acks.clear();
                    return;
                };
                while let Some((qos, pkid)) = acks.pop_front() {
                    let packet = match qos {
                        QoS::AtMostOnce => continue,
                        QoS::AtLeastOnce => rumqttc::Packet::PubAck(rumqttc::PubAck::new(pkid)),
                        QoS::ExactlyOnce => rumqttc::Packet::PubRec(rumqttc::PubRec::new(pkid)),
                    };
                    if let Err(e) = network.write(packet).await {
                        tracing::debug!(error = %e, "cannot write an acknowledgement; the broker will redeliver");
                        acks.clear();
                        return;
                    }
                }
                match tokio::time::timeout(ACK_FLUSH_TIMEOUT, network.flush()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "cannot flush acknowledgements; the broker will redeliver")
                    }
                    Err(_) => tracing::debug!("flushing acknowledgements timed out; the broker will redeliver"),
                }
            }
            Self::V5 { acker, .. } => {
                while let Some(&(qos, pkid)) = acks.front() {
                    // `try_ack` reads only the packet id and QoS of the message.
                    let mut publish = packets5::Publish::new("", qos5(qos), Bytes::new(), None);
                    publish.pkid = pkid;
                    match acker.try_ack(&publish) {
                        Ok(()) => {
                            acks.pop_front();
                        }
                        // The channel is full (never closed: its receiver is the event loop
                        // beside it); the event loop takes one per poll, the rest waits.
                        Err(_) => return,
                    }
                }
            }
        }
    }

    /// Drops the acknowledgements rumqttc still holds for a lost connection: it moves unsent
    /// requests into `pending` to resend them on the next connection, where their packet ids
    /// may name other messages.
    pub(super) fn forget_acks(&mut self) {
        match self {
            Self::V311 { eventloop, .. } => {
                eventloop.pending.retain(|r| !matches!(r, rumqttc::Request::PubAck(_) | rumqttc::Request::PubRec(_)));
            }
            Self::V5 { eventloop, .. } => {
                eventloop.pending.retain(|r| !matches!(r, mqtt5::Request::PubAck(_) | mqtt5::Request::PubRec(_)));
            }
        }
    }
}

/// How long a 3.1.1 flush of acknowledgements may take before they are given up (the
/// connection is then as good as lost, and the event loop will say so).
const ACK_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

fn no_broker() -> ConnectError {
    ConnectError::config(super::config::SERVER_URI, "no broker URI")
}

fn qos5(q: QoS) -> mqtt5::mqttbytes::QoS {
    match q {
        QoS::AtMostOnce => mqtt5::mqttbytes::QoS::AtMostOnce,
        QoS::AtLeastOnce => mqtt5::mqttbytes::QoS::AtLeastOnce,
        QoS::ExactlyOnce => mqtt5::mqttbytes::QoS::ExactlyOnce,
    }
}

fn qos_of5(q: mqtt5::mqttbytes::QoS) -> QoS {
    match q {
        mqtt5::mqttbytes::QoS::AtMostOnce => QoS::AtMostOnce,
        mqtt5::mqttbytes::QoS::AtLeastOnce => QoS::AtLeastOnce,
        mqtt5::mqttbytes::QoS::ExactlyOnce => QoS::ExactlyOnce,
    }
}

fn options_v311(s: &ConnectionSettings, server: &ServerUri, o: &LinkOptions<'_>) -> ConnectResult<MqttOptions> {
    let mut m = MqttOptions::new(o.client_id, broker_addr(server), server.port);
    m.set_keep_alive(s.keep_alive)
        .set_clean_session(s.clean_session)
        .set_manual_acks(o.manual_acks)
        .set_max_packet_size(s.max_message_bytes, s.max_message_bytes)
        .set_inflight(o.inflight.max(1));
    if let Some(user) = &s.username {
        m.set_credentials(user.clone(), s.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default());
    }
    m.set_transport(transport(s, server.scheme)?);
    Ok(m)
}

fn options_v5(s: &ConnectionSettings, server: &ServerUri, o: &LinkOptions<'_>) -> ConnectResult<mqtt5::MqttOptions> {
    let mut m = mqtt5::MqttOptions::new(o.client_id, broker_addr(server), server.port);
    let timeout = s.connect_timeout.as_secs().max(1);
    let mut network = rumqttc::NetworkOptions::new();
    network.set_connection_timeout(timeout);
    m.set_keep_alive(s.keep_alive)
        .set_clean_start(s.clean_session)
        .set_manual_acks(o.manual_acks)
        .set_max_packet_size(Some(u32::try_from(s.max_message_bytes).unwrap_or(u32::MAX)))
        .set_receive_maximum(Some(o.receive_maximum.max(1)))
        .set_outgoing_inflight_upper_limit(o.inflight.max(1))
        .set_session_expiry_interval(s.session_expiry)
        .set_connection_timeout(timeout)
        .set_network_options(network);
    if let Some(user) = &s.username {
        m.set_credentials(user.clone(), s.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default());
    }
    m.set_transport(transport(s, server.scheme)?);
    Ok(m)
}

/// What rumqttc connects to: the host, or for a WebSocket the whole URL (rumqttc takes host,
/// port and path from it).
fn broker_addr(server: &ServerUri) -> String {
    match server.scheme {
        Scheme::Tcp | Scheme::Ssl => server.host.clone(),
        Scheme::Ws | Scheme::Wss => server.to_string(),
    }
}

fn transport(s: &ConnectionSettings, scheme: Scheme) -> ConnectResult<Transport> {
    Ok(match scheme {
        Scheme::Tcp => Transport::Tcp,
        Scheme::Ssl => Transport::Tls(tls_config(s)?),
        Scheme::Ws => Transport::Ws,
        Scheme::Wss => Transport::Wss(tls_config(s)?),
    })
}

/// TLS settings from `mqtt.ssl.*`: the CAs of `mqtt.ssl.ca.path` (or the system's trusted
/// roots) and the client certificate and key when both are set. Files are read and checked
/// here, so a bad one fails the task naming its key instead of every connection attempt.
fn tls_config(s: &ConnectionSettings) -> ConnectResult<TlsConfiguration> {
    use rumqttc::tokio_rustls::rustls::{ClientConfig, RootCertStore};
    let mut roots = RootCertStore::empty();
    match &s.ca {
        Some(path) => {
            let (added, _) = roots.add_parsable_certificates(read_certs(SSL_CA, path)?);
            if added == 0 {
                return Err(ConnectError::config(SSL_CA, format!("{path} holds no usable CA certificate")));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                let why = native.errors.first().map(|e| format!(" ({e})")).unwrap_or_default();
                return Err(ConnectError::config(
                    SSL_CA,
                    format!(
                        "is empty and this system has no trusted root certificates{why}: set it to the broker's CA"
                    ),
                ));
            }
        }
    }
    let builder = ClientConfig::builder().with_root_certificates(roots);
    let config = match &s.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = read_certs(SSL_CERT, cert)?;
            if chain.is_empty() {
                return Err(ConnectError::config(SSL_CERT, format!("{cert} holds no PEM certificate")));
            }
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| ConnectError::config(SSL_KEY, format!("no PEM private key in {key}: {e}")))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| ConnectError::config(SSL_KEY, format!("{key} does not fit {cert}: {e}")))?
        }
    };
    Ok(TlsConfiguration::Rustls(std::sync::Arc::new(config)))
}

/// The PEM certificates in `path` (for the error, `key` names the setting).
fn read_certs(key: &str, path: &str) -> ConnectResult<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ConnectError::config(key, format!("cannot read PEM certificates from {path}: {e}")))
}

fn inbound_v311(event: rumqttc::Event) -> Inbound {
    use rumqttc::{Event, Incoming};
    match event {
        Event::Incoming(Incoming::ConnAck(a)) => Inbound::ConnAck { session_present: a.session_present },
        Event::Incoming(Incoming::Publish(p)) => Inbound::Publish(Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            pkid: p.pkid,
            properties: None,
        }),
        Event::Incoming(Incoming::PubAck(_) | Incoming::PubComp(_)) => Inbound::Acked,
        Event::Incoming(Incoming::SubAck(a)) => Inbound::SubAck {
            refused: a
                .return_codes
                .iter()
                .position(|c| *c == SubscribeReasonCode::Failure)
                .map(|i| (i, "failure".to_owned())),
        },
        Event::Incoming(Incoming::Disconnect) => Inbound::Disconnect,
        _ => Inbound::Other,
    }
}

fn inbound_v5(event: mqtt5::Event) -> Inbound {
    use mqtt5::{Event, Incoming};
    use packets5::SubscribeReasonCode as Code;
    match event {
        Event::Incoming(Incoming::ConnAck(a)) => Inbound::ConnAck { session_present: a.session_present },
        Event::Incoming(Incoming::Publish(p)) => Inbound::Publish(Message {
            // MQTT 5 requires UTF-8 topics; a broker that breaks that gets its bytes replaced.
            topic: String::from_utf8_lossy(&p.topic).into_owned(),
            payload: p.payload,
            qos: qos_of5(p.qos),
            retain: p.retain,
            pkid: p.pkid,
            properties: p.properties.map(Properties::from_v5),
        }),
        Event::Incoming(Incoming::PubAck(_) | Incoming::PubComp(_)) => Inbound::Acked,
        Event::Incoming(Incoming::SubAck(a)) => Inbound::SubAck {
            refused: a
                .return_codes
                .iter()
                .position(|c| !matches!(c, Code::Success(_)))
                .map(|i| (i, format!("{:?}", a.return_codes[i]))),
        },
        Event::Incoming(Incoming::Disconnect(_)) => Inbound::Disconnect,
        _ => Inbound::Other,
    }
}

fn error_v311(e: ConnectionError) -> LinkError {
    match &e {
        ConnectionError::RequestsDone => LinkError::Done,
        ConnectionError::MqttState(rumqttc::StateError::Deserialization(
            rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(n),
        )) => LinkError::Fatal(too_large(*n)),
        ConnectionError::ConnectionRefused(code) => {
            let why = match code {
                ConnectReturnCode::BadUserNamePassword => Some(BAD_LOGIN),
                // Mosquitto answers a wrong password with this code too.
                ConnectReturnCode::NotAuthorized => Some(NOT_AUTHORIZED),
                ConnectReturnCode::BadClientId => Some(BAD_CLIENT_ID),
                ConnectReturnCode::RefusedProtocolVersion => {
                    Some("MQTT 3.1.1 is not supported by this broker (check mqtt.version)")
                }
                _ => None,
            };
            why.map_or_else(|| LinkError::Retry(e.to_string()), refused)
        }
        ConnectionError::Tls(_) => retry(e.to_string(), TLS_HINT),
        _ => retry(e.to_string(), ""),
    }
}

fn error_v5(e: mqtt5::ConnectionError) -> LinkError {
    use mqtt5::{ConnectionError as E, StateError as S};
    use packets5::ConnectReturnCode as C;
    match &e {
        E::RequestsDone => LinkError::Done,
        E::MqttState(S::Deserialization(rumqttc::v5::mqttbytes::Error::PayloadSizeLimitExceeded {
            pkt_size, ..
        })) => LinkError::Fatal(too_large(*pkt_size)),
        E::MqttState(S::IncomingPacketTooLarge { pkt_size, .. }) => LinkError::Fatal(too_large(*pkt_size)),
        E::ConnectionRefused(code) => {
            let why = match code {
                C::BadUserNamePassword => Some(BAD_LOGIN),
                C::NotAuthorized => Some(NOT_AUTHORIZED),
                C::ClientIdentifierNotValid | C::BadClientId => Some(BAD_CLIENT_ID),
                C::Banned => Some("banned by the broker"),
                C::UnsupportedProtocolVersion | C::RefusedProtocolVersion => {
                    Some("MQTT 5 is not supported by this broker (set mqtt.version=3.1.1)")
                }
                _ => None,
            };
            why.map_or_else(|| LinkError::Retry(e.to_string()), refused)
        }
        E::Tls(_) => retry(e.to_string(), TLS_HINT),
        _ => retry(e.to_string(), ""),
    }
}

/// A connection failure worth retrying, with a hint at the setting to check where the error
/// says which (TLS errors surface in several wrappers: TLS, I/O, WebSocket); `fallback`
/// otherwise.
fn retry(error: String, fallback: &str) -> LinkError {
    let hint = if error.contains("CertificateRequired") {
        CLIENT_CERT_HINT
    } else if error.contains("invalid peer certificate") {
        TLS_HINT
    } else {
        fallback
    };
    LinkError::Retry(format!("{error}{hint}"))
}

/// A certificate the CA does not vouch for is the usual TLS failure.
const TLS_HINT: &str = " (check mqtt.ssl.ca.path)";
const CLIENT_CERT_HINT: &str =
    " (the broker requires a client certificate: set mqtt.ssl.cert.path and mqtt.ssl.key.path)";
const BAD_LOGIN: &str = "bad user name or password (check mqtt.username and mqtt.password)";
const NOT_AUTHORIZED: &str = "not authorized: wrong user name or password, or no permission (check mqtt.username, mqtt.password and the broker's ACLs)";
const BAD_CLIENT_ID: &str = "client id rejected (check mqtt.client.id)";

fn refused(why: &str) -> LinkError {
    LinkError::Fatal(format!("refused the connection: {why}"))
}

fn too_large(n: usize) -> String {
    format!(
        "sent a message of {n} bytes, larger than mqtt.max.message.bytes allows; raise it (the broker keeps the message)"
    )
}
