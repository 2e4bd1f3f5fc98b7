//! A Mosquitto of a test's own (scripts/mosquitto.sh on a free port, state in a temporary
//! directory), for tests that stop it or need listeners the shared one lacks (TLS, client
//! certificates, WebSocket), and a publisher that keeps publishing through its restarts.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS, TlsConfiguration, Transport};
use tributary_testcontainers::{split_url, start_mosquitto_args, stop_mosquitto, unique_name};

/// The listeners of an [`OwnBroker`] besides its MQTT one on 127.0.0.1.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Listeners {
    /// The MQTT listener (and the WebSocket one) speak TLS (`--tls`).
    pub(crate) tls: bool,
    /// Clients must present a certificate signed by the broker's CA (`--client-certs`).
    pub(crate) client_certs: bool,
    /// A second listener speaks MQTT over WebSocket (`--ws-port`).
    pub(crate) websocket: bool,
}

/// A Mosquitto of the test's own, stopped when dropped.
#[derive(Debug)]
pub(crate) struct OwnBroker {
    port: u16,
    ws_port: u16,
    dir: tempfile::TempDir,
    listeners: Listeners,
}

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct free TCP ports on 127.0.0.1 (all held until all are picked).
fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<_> = (0..N).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

impl OwnBroker {
    /// A broker with one plain MQTT listener.
    pub(crate) fn start() -> Self {
        Self::with(Listeners::default())
    }

    /// A broker with `listeners`, on free ports (picked again if another process takes one
    /// before Mosquitto binds it).
    pub(crate) fn with(listeners: Listeners) -> Self {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let [port, ws_port] = free_ports::<2>();
            let b = Self { port, ws_port, dir: tempfile::tempdir().unwrap(), listeners };
            match b.try_up() {
                Ok(()) => return b,
                Err(e) if (e.contains("is taken") || e.contains("exited while starting")) && attempt < 3 => {
                    eprintln!("{e}; trying other ports");
                }
                Err(e) => {
                    panic!("cannot start a Mosquitto for this test (CI needs the packages mosquitto and openssl): {e}")
                }
            }
        }
    }

    /// Starts the broker (again, after [`OwnBroker::down`]: sessions and queued messages kept).
    pub(crate) fn up(&self) {
        if let Err(e) = self.try_up() {
            panic!("cannot start a Mosquitto for this test (CI needs the packages mosquitto and openssl): {e}");
        }
    }

    fn try_up(&self) -> Result<(), String> {
        let l = self.listeners;
        let mut args = Vec::new();
        if l.tls {
            args.push("--tls".to_owned());
        }
        if l.client_certs {
            args.push("--client-certs".to_owned());
        }
        if l.websocket {
            args.extend(["--ws-port".to_owned(), self.ws_port.to_string()]);
        }
        start_mosquitto_args(self.port, self.dir.path(), &args)
    }

    /// Stops the broker (SIGTERM: it saves its state first).
    pub(crate) fn down(&self) {
        stop_mosquitto(self.port, Some(self.dir.path())).unwrap();
    }

    /// The port of its MQTT listener on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `tcp://` or `ssl://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.listeners.tls { "ssl" } else { "tcp" }, self.port)
    }

    /// `ws://` or `wss://127.0.0.1:WS_PORT/mqtt` (with [`Listeners::websocket`]).
    pub(crate) fn ws_url(&self) -> String {
        assert!(self.listeners.websocket, "this broker has no WebSocket listener");
        format!("{}://127.0.0.1:{}/mqtt", if self.listeners.tls { "wss" } else { "ws" }, self.ws_port)
    }

    /// A file of the broker's TLS material: `ca.pem`, `client.pem`, `client.key`.
    pub(crate) fn tls_file(&self, name: &str) -> PathBuf {
        self.dir.path().join("tls").join(name)
    }

    /// The TLS settings of a test client: trust the broker's CA, and present the client
    /// certificate when the broker requires one. `None` without TLS.
    pub(crate) fn client_tls(&self) -> Option<TlsConfiguration> {
        let l = self.listeners;
        l.tls.then(|| TlsConfiguration::Simple {
            ca: std::fs::read(self.tls_file("ca.pem")).unwrap(),
            alpn: None,
            client_auth: l.client_certs.then(|| {
                (
                    std::fs::read(self.tls_file("client.pem")).unwrap(),
                    std::fs::read(self.tls_file("client.key")).unwrap(),
                )
            }),
        })
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = stop_mosquitto(self.port, Some(self.dir.path()));
    }
}

/// What a publisher achieved: messages the broker acknowledged (PUBACK), and how many times
/// it had to reconnect and publish a batch again.
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub(crate) acked: usize,
    pub(crate) retries: usize,
}

/// Publishes `messages` at QoS 1 in batches, retrying what the broker did not acknowledge:
/// a batch counts as published once every one of its PUBACKs arrived on one connection; if
/// the connection fails first, the client is dropped and the whole batch is published again
/// on a new connection (so a message may reach the broker twice, never zero times).
/// `progress` counts acknowledged messages as batches complete; `tls` as
/// [`OwnBroker::client_tls`].
pub(crate) async fn publish_with_retry(
    url: String,
    messages: Vec<(String, Vec<u8>)>,
    batch: usize,
    progress: Arc<AtomicUsize>,
    tls: Option<TlsConfiguration>,
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
            if let Some(tls) = &tls {
                o.set_transport(Transport::Tls(tls.clone()));
            }
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

/// Publishes `(topic, payload)` at QoS 1 to `url` (over TLS with `tls`) and waits until the
/// broker acknowledged all.
pub(crate) async fn publish(url: &str, messages: Vec<(String, Vec<u8>)>, tls: Option<TlsConfiguration>) {
    let n = messages.len();
    let published = publish_with_retry(url.to_owned(), messages, n.max(1), Arc::default(), tls).await;
    assert_eq!(published.acked, n);
}
