//! MQTT 5 (`mqtt.version=5`) through the real binary, a real Mosquitto (scripts/mosquitto.sh)
//! and the test Kafka broker: properties to headers and back, shared subscriptions over tasks,
//! and the checks of the MQTT 5 keys.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::mqtt::{self, Fixture, Mqtt, Version, consume, consume_distinct, distinct, env};
use common::{WorkerProcess, write_props};
use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rumqttc::v5::mqttbytes::v5::PublishProperties;
use tributary_testcontainers::{topic_end_offset, unique_name};

fn properties(
    user: &[(&str, &str)],
    content_type: &str,
    correlation: &[u8],
    response_topic: &str,
) -> PublishProperties {
    PublishProperties {
        user_properties: user.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        content_type: Some(content_type.to_owned()),
        correlation_data: Some(correlation.to_vec().into()),
        response_topic: Some(response_topic.to_owned()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_writes_mqtt5_properties_as_headers() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "p5", "mqtt5-props", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let src = fx.source(Version::V5, &mqtt.url, &[]);
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let publisher = Mqtt::connect(Version::V5, &mqtt.url, None).await;
    let with = properties(
        &[("device", "d-1"), ("unit", "°C"), ("device", "d-2"), ("mqtt.qos", "not the QoS")],
        "application/json",
        &[0, 1, 2, 255],
        &format!("{root}/replies/7"),
    );
    publisher
        .publish_all([
            (format!("{root}/a"), b"with".to_vec(), Some(with)),
            (format!("{root}/b"), b"without".to_vec(), None),
        ])
        .await;
    let got = consume(kafka, topic, Duration::from_secs(60), |g| g.len() >= 2);
    assert_eq!(got.len(), 2, "{got:?}");
    let a = got.iter().find(|g| g.value == b"with").expect("the message with properties");
    let user: Vec<(String, String)> = a
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("mqtt.user."))
        .map(|(k, v)| (k.clone(), String::from_utf8(v.clone()).unwrap()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("mqtt.user.device", "d-1"),
        ("mqtt.user.unit", "°C"),
        ("mqtt.user.device", "d-2"),
        ("mqtt.user.mqtt.qos", "not the QoS"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(user, expected, "user properties, in order, repeats kept");
    assert_eq!(a.text("mqtt.content.type").as_deref(), Some("application/json"));
    assert_eq!(a.header("mqtt.correlation.data"), Some(&[0u8, 1, 2, 255][..]));
    assert_eq!(a.text("mqtt.response.topic"), Some(format!("{root}/replies/7")));
    assert_eq!(a.text("mqtt.topic"), Some(format!("{root}/a")));
    assert_eq!(a.text("mqtt.qos").as_deref(), Some("1"), "a user property named mqtt.qos does not shadow it");
    assert_eq!(a.text("mqtt.retained").as_deref(), Some("false"));
    assert!(a.text("mqtt.message.id").is_some_and(|id| id.parse::<u16>().is_ok_and(|id| id > 0)));
    let b = got.iter().find(|g| g.value == b"without").expect("the message without properties");
    let names: Vec<&str> = b.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["mqtt.topic", "mqtt.qos", "mqtt.retained", "mqtt.message.id"]);
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
}

/// `received` per task from the tasks' "MQTT source task stopping" lines.
fn received_per_task(log: &str) -> BTreeMap<u32, u64> {
    let number = |line: &str, key: &str| -> Option<u64> {
        let at = line.find(key)? + key.len();
        line[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
    };
    log.lines()
        .filter(|l| l.contains("MQTT source task stopping"))
        .filter_map(|l| Some((u32::try_from(number(l, "task=")?).ok()?, number(l, "received=")?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tasks_share_30k_qos1_messages_without_loss() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "s5", "mqtt5-shared", 4).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let src = fx.source(
        Version::V5,
        &mqtt.url,
        &[
            ("tasks.max", "3"),
            ("mqtt.client.id", &unique_name("shared")),
            ("mqtt.session.expiry.interval.seconds", "300"),
        ],
    );
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    common::wait_until("3 tasks subscribed", Duration::from_secs(60), || {
        w.log_text().matches("subscribed").count() >= 3
    });
    let n = 30_000usize;
    let publisher = Mqtt::connect(Version::V5, &mqtt.url, None).await;
    let t0 = Instant::now();
    publisher.publish_all((0..n).map(|i| (format!("{root}/s/{}", i % 10), format!("m-{i}").into_bytes()))).await;
    let got = consume_distinct(kafka, topic, Duration::from_secs(180), n);
    let (distinct, _) = distinct(&got);
    let in_kafka = topic_end_offset(kafka, topic).unwrap();
    let status = w.terminate(Duration::from_secs(30));
    let log = w.log_text();
    let per_task = received_per_task(&log);
    eprintln!(
        "{} records read, {} distinct, {in_kafka} in Kafka, in {:?}; received per task: {per_task:?}",
        got.len(),
        distinct.len(),
        t0.elapsed()
    );
    assert!(status.success(), "worker exited with {status}:\n{log}");
    assert_eq!(distinct.len(), n, "messages missing in Kafka");
    assert_eq!(in_kafka, n as i64, "every message once: the tasks share the subscription instead of each getting all");
    assert_eq!(per_task.len(), 3, "three tasks ran: {per_task:?}\n{log}");
    assert_eq!(per_task.values().sum::<u64>(), n as u64, "{per_task:?}");
    for (task, received) in &per_task {
        assert!(*received >= n as u64 / 10, "task {task} got {received} of {n}: the broker did not spread the load");
    }
    assert!(log.contains(&format!("$share/tributary-{topic}-c/{root}/#")), "default group from the connector name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_publishes_headers_as_mqtt5_properties() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "k5", "mqtt5-sink", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", kafka).create().unwrap();
    let headers = OwnedHeaders::new()
        .insert(Header { key: "mqtt.user.device", value: Some("d-1") })
        .insert(Header { key: "mqtt.user.device", value: Some("d-2") })
        .insert(Header { key: "mqtt.user.unit", value: Some("°C") })
        .insert(Header { key: "mqtt.content.type", value: Some("text/plain") })
        .insert(Header { key: "mqtt.correlation.data", value: Some(&[0u8, 159, 146, 150][..]) })
        .insert(Header { key: "mqtt.response.topic", value: Some("replies/9") })
        .insert(Header { key: "unrelated", value: Some("kept out") });
    let with = FutureRecord::to(topic).key("k").payload("with").headers(headers);
    producer.send_result(with).unwrap().await.unwrap().unwrap();
    producer.send_result(FutureRecord::to(topic).key("k").payload("without")).unwrap().await.unwrap().unwrap();
    let mut subscriber = Mqtt::connect(Version::V5, &mqtt.url, Some(&format!("{root}/#"))).await;
    let sink = fx.sink(Version::V5, &mqtt.url, &format!("{root}/out"), &[]);
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&sink], 0);
    let mut got = Vec::new();
    while got.len() < 2 {
        let Ok(Some(p)) = tokio::time::timeout(Duration::from_secs(60), subscriber.received.recv()).await else {
            panic!("only {} of 2 records received over MQTT 5:\n{}", got.len(), w.log_text());
        };
        got.push(p);
    }
    let with = got.iter().find(|p| p.payload.as_ref() == b"with").expect("the record with headers");
    let p = with.properties.clone().expect("MQTT 5 properties");
    let user: Vec<(&str, &str)> = p.user_properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(user, [("device", "d-1"), ("device", "d-2"), ("unit", "°C")]);
    assert_eq!(p.content_type.as_deref(), Some("text/plain"));
    assert_eq!(p.correlation_data.as_deref(), Some(&[0u8, 159, 146, 150][..]));
    assert_eq!(p.response_topic.as_deref(), Some("replies/9"));
    let without = got.iter().find(|p| p.payload.as_ref() == b"without").expect("the record without headers");
    let none = without.properties.clone().unwrap_or_default();
    assert!(
        none.user_properties.is_empty() && none.content_type.is_none() && none.correlation_data.is_none(),
        "{none:?}"
    );
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
}

#[test]
fn mqtt5_keys_are_checked_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let worker = write_props(
        &dir.path().join("worker.properties"),
        &[
            ("bootstrap.servers", "127.0.0.1:1"),
            ("offset.storage.file.filename", dir.path().join("offsets.json").to_str().unwrap()),
            ("listeners", ""),
        ],
    );
    let run = |name: &str, extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("name", name),
            ("connector.class", "io.confluent.connect.mqtt.MqttSourceConnector"),
            ("mqtt.server.uri", "tcp://127.0.0.1:1"),
            ("mqtt.topics", "a/#"),
            ("kafka.topic", "t"),
        ];
        pairs.extend_from_slice(extra);
        let c = write_props(&dir.path().join(format!("{name}.properties")), &pairs);
        refused(&worker, &c)
    };
    let e = run("expiry311", &[("mqtt.session.expiry.interval.seconds", "3600")]);
    assert!(
        e.contains("mqtt.session.expiry.interval.seconds is an MQTT 5 setting: set mqtt.version=5, or remove it"),
        "{e}"
    );
    let e = run("group311", &[("mqtt.version", "3.1.1"), ("mqtt.shared.subscription.group", "g")]);
    assert!(e.contains("mqtt.shared.subscription.group is an MQTT 5 setting"), "{e}");
    let e = run("tasks311", &[("tasks.max", "3")]);
    assert!(e.contains("tasks.max is 3, but MQTT 3.1.1 gives each filter of mqtt.topics to one task"), "{e}");
    let e = run("version4", &[("mqtt.version", "4")]);
    assert!(e.contains("Invalid value 4 for configuration mqtt.version: String must be one of: 3.1.1, 5"), "{e}");
    let e = run("expiry-range", &[("mqtt.version", "5"), ("mqtt.session.expiry.interval.seconds", "-1")]);
    assert!(e.contains("mqtt.session.expiry.interval.seconds") && e.contains("out of range"), "{e}");
    // The sink's checks are the same.
    let sink = write_props(
        &dir.path().join("sink.properties"),
        &[
            ("name", "sink311"),
            ("connector.class", "MqttSink"),
            ("topics", "t"),
            ("mqtt.server.uri", "tcp://127.0.0.1:1"),
            ("mqtt.session.expiry.interval.seconds", "10"),
        ],
    );
    let e = refused(&worker, &sink);
    assert!(e.contains("mqtt.session.expiry.interval.seconds is an MQTT 5 setting"), "{e}");
}

/// Runs `tributary standalone worker connector`, which must exit with an error at once; its
/// output. A worker still running after 20 s accepted the config: the test fails.
fn refused(worker: &Path, connector: &Path) -> String {
    let log = connector.with_extension("log");
    let mut child = common::tributary()
        .arg("standalone")
        .arg(worker)
        .arg(connector)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    assert!(status.is_some_and(|s| !s.success()), "{} was accepted ({status:?}):\n{text}", connector.display());
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_expiry_keeps_messages_across_a_worker_kill() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "e5", "mqtt5-expiry", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let src = fx.source(
        Version::V5,
        &mqtt.url,
        &[("mqtt.client.id", &unique_name("expiry")), ("mqtt.session.expiry.interval.seconds", "300")],
    );
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let n = 10_000;
    let publisher = Mqtt::connect(Version::V5, &mqtt.url, None).await;
    let msgs: Vec<(String, Vec<u8>)> =
        (0..n).map(|i| (format!("{root}/s/{}", i % 10), format!("x-{i}").into_bytes())).collect();
    publisher.publish_all(msgs[..n / 2].iter().cloned()).await;
    common::wait_until("some records in Kafka", Duration::from_secs(60), || {
        topic_end_offset(kafka, topic).unwrap_or(0) >= 1000
    });
    w.kill9();
    // Published while the worker is down: the broker queues them in the unexpired session.
    publisher.publish_all(msgs[n / 2..].iter().cloned()).await;
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 1);
    w.wait_log("session_present=true", Duration::from_secs(60));
    let got = consume_distinct(kafka, topic, Duration::from_secs(120), n);
    let (distinct, dups) = distinct(&got);
    eprintln!("{} records, {} distinct, {dups} duplicates", got.len(), distinct.len());
    assert_eq!(distinct.len(), n, "messages lost across the kill:\n{}", w.log_text());
    w.terminate(Duration::from_secs(30));
}

#[test]
fn validate_endpoint_reports_mqtt5_keys_under_their_names() {
    let mut r = tributary_runtime::Registry::new();
    tributary_converters::register(&mut r);
    tributary_connectors::register(&mut r);
    let r = std::sync::Arc::new(r);
    let plugin = r.connector("io.confluent.connect.mqtt.MqttSourceConnector").unwrap().clone();
    let props: BTreeMap<String, String> = [
        ("name", "v"),
        ("connector.class", "io.confluent.connect.mqtt.MqttSourceConnector"),
        ("mqtt.server.uri", "tcp://127.0.0.1:1883"),
        ("mqtt.topics", "a/#"),
        ("kafka.topic", "t"),
        ("mqtt.session.expiry.interval.seconds", "60"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    // PUT /connector-plugins/{plugin}/config/validate answers this.
    let infos = tributary_runtime::worker::config_infos(&r, &plugin, &props, &BTreeMap::new());
    assert_eq!(infos["error_count"], 1, "{infos}");
    let errors = |key: &str| {
        infos["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == key).unwrap()["value"]["errors"]
            .clone()
    };
    let e = errors("mqtt.session.expiry.interval.seconds");
    assert!(e[0].as_str().is_some_and(|m| m.contains("is an MQTT 5 setting: set mqtt.version=5")), "{e}");
    assert_eq!(errors("mqtt.version"), serde_json::json!([]));
    assert_eq!(errors("tasks.max"), serde_json::json!([]));
    // MQTT 3.1.1 gives each filter to one task: two tasks for one filter are refused, on tasks.max.
    let mut two_tasks = props.clone();
    two_tasks.remove("mqtt.session.expiry.interval.seconds");
    two_tasks.insert("tasks.max".to_owned(), "2".to_owned());
    let infos = tributary_runtime::worker::config_infos(&r, &plugin, &two_tasks, &BTreeMap::new());
    assert_eq!(infos["error_count"], 1, "{infos}");
    let tasks = infos["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == "tasks.max").unwrap();
    let e = &tasks["value"]["errors"];
    assert!(e[0].as_str().is_some_and(|m| m.contains("at most 1 tasks would run: set tasks.max to 1 or lower")), "{e}");
}

#[test]
fn mqtt5_example_is_valid() {
    let mut r = tributary_runtime::Registry::new();
    tributary_converters::register(&mut r);
    tributary_connectors::register(&mut r);
    let r = std::sync::Arc::new(r);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/connectors/mqtt5-source.properties");
    let props = tributary_runtime::properties::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let plugin = r.connector(&props["connector.class"]).unwrap().clone();
    let infos = tributary_runtime::worker::config_infos(&r, &plugin, &props, &BTreeMap::new());
    assert_eq!(infos["error_count"], 0, "{infos}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_round_trip_mqtt_to_kafka_to_mqtt() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "r5", "mqtt5-round", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let (src_name, filter) = (format!("{topic}-src"), format!("{root}/in/#"));
    let src = mqtt::source_props(dir.path(), &src_name, &mqtt.url, &filter, topic, &[("mqtt.version", "5")]);
    let class = [("connector.class", "io.confluent.connect.mqtt.MqttSinkConnector")];
    let sink = fx.sink(Version::V5, &mqtt.url, &format!("{root}/out"), &class);
    let mut subscriber = Mqtt::connect(Version::V5, &mqtt.url, Some(&format!("{root}/out"))).await;
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src, &sink], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let sent = properties(
        &[("trace", "abc"), ("unit", "°C"), ("trace", "def")],
        "application/octet-stream",
        &[255, 0, 128, 7],
        &format!("{root}/replies"),
    );
    let publisher = Mqtt::connect(Version::V5, &mqtt.url, None).await;
    publisher.publish_all([(format!("{root}/in/x"), b"payload".to_vec(), Some(sent.clone()))]).await;
    let Ok(Some(p)) = tokio::time::timeout(Duration::from_secs(60), subscriber.received.recv()).await else {
        panic!("nothing came back over MQTT:\n{}", w.log_text());
    };
    assert_eq!(p.payload.as_ref(), b"payload");
    let back = p.properties.expect("MQTT 5 properties");
    assert_eq!(back.user_properties, sent.user_properties);
    assert_eq!(back.content_type, sent.content_type);
    assert_eq!(back.correlation_data, sent.correlation_data);
    assert_eq!(back.response_topic, sent.response_topic);
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
}
