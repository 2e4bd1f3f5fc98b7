//! How the MQTT connectors reach a broker, each against a Mosquitto of the test's own
//! (scripts/mosquitto.sh): MQTT over WebSocket (`ws://`, `wss://`), TLS with the broker's CA
//! (and a clear error with another), TLS client certificates, and failover along
//! `mqtt.server.uri`.

mod common;

use std::time::Duration;

use common::mqtt::{Mqtt, Version, consume_values, sink_props, source_props};
use common::mqtt_broker::{Listeners, OwnBroker, publish};
use common::{WorkerProcess, lines_with, worker_props};
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

/// `n` messages `{prefix}-{i}` on `{root}/in/{i % 10}`.
fn numbered(root: &str, prefix: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n).map(|i| (format!("{root}/in/{}", i % 10), format!("{prefix}-{i}").into_bytes())).collect()
}

/// The values of `topic` once it holds `n` records (or after 60 s), sorted.
fn sorted_values(kafka: &str, topic: &str, n: usize) -> Vec<Vec<u8>> {
    let mut got = consume_values(kafka, topic, Duration::from_secs(60), |g| g.len() >= n);
    got.sort();
    got
}

fn sorted(mut messages: Vec<(String, Vec<u8>)>) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = messages.drain(..).map(|(_, p)| p).collect();
    v.sort();
    v
}

/// MQTT over WebSocket both ways: a 3.1.1 source and an MQTT 5 source read over `ws://`, and a
/// sink publishes over `ws://` to a subscriber on the plain listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_and_a_sink_speak_mqtt_over_websocket() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let broker = OwnBroker::with(Listeners { websocket: true, ..Listeners::default() });
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("ws");
    let (t311, t5) = (unique_name("mqtt-ws311"), unique_name("mqtt-ws5"));
    for t in [&t311, &t5] {
        create_topic(kafka, t, 1).await.unwrap();
    }
    let ws = broker.ws_url();
    assert!(ws.starts_with("ws://127.0.0.1:") && ws.ends_with("/mqtt"), "{ws}");
    let filter = format!("{root}/in/#");
    let src311 = source_props(dir.path(), "ws-311", &ws, &filter, &t311, &[]);
    let src5 = source_props(dir.path(), "ws-5", &ws, &filter, &t5, &[("mqtt.version", "5")]);
    let out = format!("{root}/out");
    let sink = sink_props(dir.path(), "ws-sink", &ws, &t311, &out, &[("mqtt.version", "5")]);
    let subscriber = Mqtt::connect(Version::V311, &broker.url(), Some(&out)).await;
    let worker = worker_props(dir.path(), kafka, &[]);
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src311, &src5, &sink], 0);
    w.wait_log_count("subscribed", 2, Duration::from_secs(60));

    let n = 2_000;
    let messages = numbered(&root, "ws", n);
    let expected = sorted(messages.clone());
    publish(&broker.url(), messages, None).await;
    assert_eq!(sorted_values(kafka, &t311, n), expected, "3.1.1 over ws://");
    assert_eq!(sorted_values(kafka, &t5, n), expected, "MQTT 5 over ws://");

    let mut subscriber = subscriber;
    let mut received = Vec::with_capacity(n);
    while received.len() < n {
        match tokio::time::timeout(Duration::from_secs(60), subscriber.received.recv()).await {
            Ok(Some(m)) => received.push(m.payload.to_vec()),
            _ => panic!("only {} of {n} messages came back over the sink:\n{}", received.len(), w.log_text()),
        }
    }
    received.sort();
    assert_eq!(received, expected, "the sink's publishes over ws://");
    let log = w.log_text();
    assert!(lines_with(&log, &["connected to the MQTT broker", &ws]) >= 3, "{log}");
    assert!(w.terminate(Duration::from_secs(30)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_connects_over_tls_with_the_configured_ca_and_fails_clearly_with_another() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let broker = OwnBroker::with(Listeners { tls: true, ..Listeners::default() });
    let dir = tempfile::tempdir().unwrap();
    let wrong_ca = dir.path().join("wrong-ca.pem");
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=not the broker's CA"])
        .arg("-keyout")
        .arg(dir.path().join("wrong-ca.key"))
        .arg("-out")
        .arg(&wrong_ca)
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    let root = unique_name("tls");
    let topic = unique_name("mqtt-tls");
    create_topic(kafka, &topic, 1).await.unwrap();
    let worker = worker_props(dir.path(), kafka, &[]);
    let ca = broker.tls_file("ca.pem").to_str().unwrap().to_owned();
    let good =
        source_props(dir.path(), "tls-good", &broker.url(), &format!("{root}/#"), &topic, &[("mqtt.ssl.ca.path", &ca)]);
    let bad = source_props(
        dir.path(),
        "tls-wrong-ca",
        &broker.url(),
        &format!("{root}/#"),
        &topic,
        &[("mqtt.ssl.ca.path", wrong_ca.to_str().unwrap()), ("mqtt.connect.timeout.seconds", "3")],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&good, &bad], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    publish(&broker.url(), vec![(format!("{root}/a"), b"over tls".to_vec())], broker.client_tls()).await;
    let got = consume_values(kafka, &topic, Duration::from_secs(30), |g| !g.is_empty());
    assert_eq!(got, [b"over tls".to_vec()]);
    w.wait_log("cannot connect to any MQTT broker", Duration::from_secs(30));
    let log = w.log_text();
    let url = broker.url();
    let wrong = [
        &format!("cannot connect to any MQTT broker of mqtt.server.uri ({url})")[..],
        "invalid peer certificate: UnknownIssuer (check mqtt.ssl.ca.path)",
    ];
    assert_eq!(lines_with(&log, &wrong), 1, "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(w.terminate(Duration::from_secs(30)).success());
}

/// A broker that requires client certificates: sources with `mqtt.ssl.cert.path` and
/// `mqtt.ssl.key.path` read over `ssl://` and `wss://`; one without a certificate cannot
/// connect, and one whose key file holds no key fails naming `mqtt.ssl.key.path`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_over_ssl_and_wss() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let broker = OwnBroker::with(Listeners { tls: true, client_certs: true, websocket: true });
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("cert");
    let (t_ssl, t_wss) = (unique_name("mqtt-cert-ssl"), unique_name("mqtt-cert-wss"));
    for t in [&t_ssl, &t_wss] {
        create_topic(kafka, t, 1).await.unwrap();
    }
    let file = |name: &str| broker.tls_file(name).to_str().unwrap().to_owned();
    let (ca, cert, key) = (file("ca.pem"), file("client.pem"), file("client.key"));
    let with_cert = [("mqtt.ssl.ca.path", &ca[..]), ("mqtt.ssl.cert.path", &cert), ("mqtt.ssl.key.path", &key)];
    let filter = format!("{root}/in/#");
    let wss = broker.ws_url();
    assert!(wss.starts_with("wss://"), "{wss}");
    let via_ssl = source_props(dir.path(), "cert-ssl", &broker.url(), &filter, &t_ssl, &with_cert);
    let via_wss = source_props(dir.path(), "cert-wss", &wss, &filter, &t_wss, &with_cert);
    let timeout = ("mqtt.connect.timeout.seconds", "3");
    let no_cert =
        source_props(dir.path(), "no-cert", &broker.url(), &filter, &t_ssl, &[("mqtt.ssl.ca.path", &ca), timeout]);
    let bad_key = source_props(
        dir.path(),
        "bad-key",
        &broker.url(),
        &filter,
        &t_ssl,
        &[("mqtt.ssl.ca.path", &ca), ("mqtt.ssl.cert.path", &cert), ("mqtt.ssl.key.path", &cert)],
    );
    let worker = worker_props(dir.path(), kafka, &[]);
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&via_ssl, &via_wss, &no_cert, &bad_key], 0);
    w.wait_log_count("subscribed", 2, Duration::from_secs(60));

    let n = 500;
    let messages = numbered(&root, "cert", n);
    let expected = sorted(messages.clone());
    publish(&broker.url(), messages, broker.client_tls()).await;
    assert_eq!(sorted_values(kafka, &t_ssl, n), expected, "ssl:// with a client certificate");
    assert_eq!(sorted_values(kafka, &t_wss, n), expected, "wss:// with a client certificate");

    w.wait_log("cannot connect to any MQTT broker of mqtt.server.uri", Duration::from_secs(30));
    let log = w.log_text();
    let refused = [
        &format!("cannot connect to any MQTT broker of mqtt.server.uri ({})", broker.url())[..],
        "no-cert",
        "the broker requires a client certificate: set mqtt.ssl.cert.path and mqtt.ssl.key.path",
    ];
    assert_eq!(lines_with(&log, &refused), 1, "{log}");
    assert_eq!(lines_with(&log, &["mqtt.ssl.key.path", "no PEM private key", "client.pem", "bad-key"]), 1, "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(w.terminate(Duration::from_secs(30)).success());
}

/// Failover over `mqtt.server.uri`: an unreachable first broker is skipped; when the broker in
/// use stops, the source moves on to the next one, subscribes there and keeps reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_fails_over_to_the_next_broker_of_the_list() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let (a, b) = (OwnBroker::start(), OwnBroker::start());
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("fo");
    let topic = unique_name("mqtt-failover");
    create_topic(kafka, &topic, 1).await.unwrap();
    let uris = format!("tcp://127.0.0.1:1,{},{}", a.url(), b.url());
    let src = source_props(
        dir.path(),
        "failover",
        &uris,
        &format!("{root}/in/#"),
        &topic,
        &[("mqtt.connect.timeout.seconds", "2"), ("mqtt.clean.session.enabled", "true")],
    );
    let worker = worker_props(dir.path(), kafka, &[]);
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let first = numbered(&root, "a", 100);
    publish(&a.url(), first.clone(), None).await;
    assert_eq!(sorted_values(kafka, &topic, 100), sorted(first.clone()), "read from the second URI");

    a.down();
    w.wait_log_count("subscribed", 2, Duration::from_secs(60));
    let second = numbered(&root, "b", 100);
    publish(&b.url(), second.clone(), None).await;
    assert_eq!(sorted_values(kafka, &topic, 200), sorted([first, second].concat()), "read from the third URI");
    let log = w.log_text();
    let connected = |url: &str| lines_with(&log, &["connected to the MQTT broker", &format!("broker={url}")]);
    assert_eq!((connected(&a.url()), connected(&b.url())), (1, 1), "{log}");
    assert!(
        lines_with(&log, &["reconnecting", "broker=tcp://127.0.0.1:1", &format!("next={}", a.url())]) >= 1,
        "{log}"
    );
    assert!(
        lines_with(&log, &["reconnecting", &format!("broker={}", a.url()), &format!("next={}", b.url())]) >= 1,
        "{log}"
    );
    assert!(w.terminate(Duration::from_secs(30)).success());
}
