//! MQTT source operations through the real binary and a real Mosquitto: a broker restarted
//! mid-stream, bad payloads under both `errors.tolerance` settings, and Kafka topics chosen by
//! a regular expression over the MQTT topic.
//!
//! The restart test runs its own Mosquitto (scripts/mosquitto.sh, on a free port, state in a
//! temporary directory) so stopping it disturbs no other test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::mqtt::{Fixture, Version, consume, consume_distinct, consume_values, distinct, env, source_props};
use common::mqtt_broker::{OwnBroker, publish, publish_with_retry};
use common::{WorkerProcess, lines_with, worker_props};
use tributary_testcontainers::{TestEnv, create_topic, topic_end_offset, unique_name};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_survives_a_broker_restart_mid_stream_without_loss() {
    broker_restart_mid_stream("3.1.1").await;
}

/// The same with MQTT 5, whose acknowledgements take rumqttc's request channel (its v5 event
/// loop does not expose the connection to write them to).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt5_source_survives_a_broker_restart_mid_stream_without_loss() {
    broker_restart_mid_stream("5").await;
}

/// The restart tests run one at a time: each runs a broker, a worker and a publisher, and two
/// at once on 2 cores delay acknowledgements enough to blur what the duplicate count measures.
static RESTARTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn broker_restart_mid_stream(version: &str) {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let _one_at_a_time = RESTARTS.lock().await;
    let broker = OwnBroker::start();
    let fx = Fixture::new(kafka, "rs", "mqtt-restart", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let src = fx.source(
        Version::V311,
        &broker.url(),
        &[
            ("mqtt.client.id", &unique_name("restart")),
            ("mqtt.max.unacked.messages", "2000"),
            ("mqtt.version", version),
        ],
    );
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&src], 0);
    w.wait_log("subscribed", Duration::from_secs(60));

    let n = 30_000;
    let msgs: Vec<(String, Vec<u8>)> =
        (0..n).map(|i| (format!("{root}/s/{}", i % 10), format!("r-{i}").into_bytes())).collect();
    let progress = Arc::new(AtomicUsize::new(0));
    let publisher = tokio::spawn(publish_with_retry(broker.url(), msgs, 500, progress.clone(), None));
    // Mid-stream: once a third is published and some of it is in Kafka.
    let t0 = Instant::now();
    while progress.load(Ordering::Relaxed) < n / 3 || topic_end_offset(kafka, topic).unwrap_or(0) < 1000 {
        assert!(t0.elapsed() < Duration::from_secs(60), "no progress before the restart:\n{}", w.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let at_stop = (progress.load(Ordering::Relaxed), topic_end_offset(kafka, topic).unwrap_or(0));
    broker.down();
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.up();
    let published = publisher.await.unwrap();
    assert_eq!(published.acked, n);

    let got = consume_distinct(kafka, topic, Duration::from_secs(120), n);
    let (distinct, dups) = distinct(&got);
    let lost = n - distinct.len();
    eprintln!(
        "MQTT {version}: broker stopped after {} acknowledged publishes, {} records in Kafka; publisher retried {} batches; \
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_are_skipped_logged_and_acknowledged_with_tolerance_all() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "ba", "mqtt-bad-all", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let tolerant =
        [("errors.tolerance", "all"), ("errors.log.enable", "true"), ("errors.log.include.messages", "true")];
    let (id_s, id_j) = (unique_name("bas"), unique_name("baj"));
    let string = source_props(
        dir.path(),
        "strings",
        &mqtt.url,
        &format!("{root}/s"),
        topic,
        &[
            &tolerant[..],
            &[
                ("mqtt.payload.format", "string"),
                ("mqtt.client.id", &id_s),
                ("value.converter", "org.apache.kafka.connect.storage.StringConverter"),
            ],
        ]
        .concat(),
    );
    let json = source_props(
        dir.path(),
        "json",
        &mqtt.url,
        &format!("{root}/j"),
        topic,
        &[
            &tolerant[..],
            &[
                ("mqtt.payload.format", "json"),
                ("mqtt.client.id", &id_j),
                ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
                ("value.converter.schemas.enable", "false"),
            ],
        ]
        .concat(),
    );
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&string, &json], 0);
    w.wait_log_count("subscribed", 2, Duration::from_secs(60));
    let (s, j) = (format!("{root}/s"), format!("{root}/j"));
    publish(
        &mqtt.url,
        vec![
            (s.clone(), b"s-0".to_vec()),
            (s.clone(), vec![0xff, 0xfe, 0x41]),
            (s.clone(), b"s-1".to_vec()),
            (j.clone(), br#"{"j":0}"#.to_vec()),
            (j.clone(), b"{not json".to_vec()),
            (j.clone(), vec![0xff, b'{', b'}']),
            (j.clone(), br#"{"j":1}"#.to_vec()),
        ],
        None,
    )
    .await;
    let got = consume_values(kafka, topic, Duration::from_secs(30), |g| g.len() >= 4);
    let mut values: Vec<String> = got.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect();
    values.sort();
    assert_eq!(values, ["s-0", "s-1", r#"{"j":0}"#, r#"{"j":1}"#], "the good messages, and only them");
    w.wait_log("is not JSON", Duration::from_secs(10));
    let log = w.log_text();
    let stage = "executing stage 'TASK_POLL'";
    assert_eq!(lines_with(&log, &[stage, &format!("MQTT topic '{s}' is not UTF-8")]), 1, "{log}");
    assert_eq!(lines_with(&log, &[stage, &format!("MQTT topic '{j}' is not JSON")]), 2, "{log}");
    assert!(lines_with(&log, &[stage, "value=Bytes([123, 110, 111, 116"]) == 1, "raw payload not logged:\n{log}");
    // The bad messages were acknowledged: a new run on the same sessions gets nothing again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(w.terminate(Duration::from_secs(30)).success());
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&string, &json], 1);
    w.wait_log_count("session_present=true", 2, Duration::from_secs(60));
    publish(&mqtt.url, vec![(s.clone(), b"s-2".to_vec())], None).await;
    consume(kafka, topic, Duration::from_secs(30), |g| g.len() >= 5);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = w.log_text();
    assert_eq!(lines_with(&log, &[stage]), 0, "bad messages delivered again (not acknowledged):\n{log}");
    assert_eq!(topic_end_offset(kafka, topic).unwrap(), 5, "good messages delivered again:\n{log}");
    assert!(w.terminate(Duration::from_secs(30)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_payload_fails_the_task_with_tolerance_none_and_stays_unacknowledged() {
    let Some((kafka, mqtt)) = env() else { return };
    let fx = Fixture::new(kafka, "bn", "mqtt-bad-none", 1).await;
    let Fixture { dir, root, topic, worker } = &fx;
    let id = unique_name("bn");
    let props = |extra: &[(&str, &str)]| {
        let base = [
            ("mqtt.payload.format", "json"),
            ("mqtt.client.id", id.as_str()),
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter.schemas.enable", "false"),
        ];
        source_props(dir.path(), "json", &mqtt.url, &format!("{root}/#"), topic, &[&base[..], extra].concat())
    };
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&props(&[])], 0);
    w.wait_log("subscribed", Duration::from_secs(60));
    let t = format!("{root}/dev");
    publish(
        &mqtt.url,
        vec![
            (t.clone(), br#"{"n":0}"#.to_vec()),
            (t.clone(), br#"{"n":1"#.to_vec()),
            (t.clone(), br#"{"n":2}"#.to_vec()),
        ],
        None,
    )
    .await;
    w.wait_log("task failed", Duration::from_secs(30));
    let log = w.log_text();
    let why = format!("the payload of a message on MQTT topic '{t}' is not JSON (mqtt.payload.format=json)");
    assert_eq!(lines_with(&log, &["task failed", &why, "EOF while parsing"]), 1, "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(topic_end_offset(kafka, topic).unwrap(), 1, "only the record before the bad one:\n{log}");
    assert!(w.terminate(Duration::from_secs(30)).success());
    // Nothing from the bad message on was acknowledged: with errors.tolerance=all the broker's
    // redelivery is skipped and logged, and the message after it arrives.
    let tolerant = props(&[("errors.tolerance", "all"), ("errors.log.enable", "true")]);
    let mut w = WorkerProcess::standalone(dir.path(), worker, &[&tolerant], 1);
    w.wait_log("executing stage 'TASK_POLL'", Duration::from_secs(30));
    let got = consume_values(kafka, topic, Duration::from_secs(30), |g| g.iter().any(|v| v.value == br#"{"n":2}"#));
    assert!(got.iter().any(|v| v == br#"{"n":2}"#), "the message after the bad one is lost");
    assert!(w.terminate(Duration::from_secs(30)).success());
}

/// Waits until `needle` appears `count` times in the worker log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_topics_come_from_regex_groups_and_unmatched_topics_go_to_kafka_topic() {
    let Some((kafka, mqtt)) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = unique_name("rx");
    let prefix = unique_name("rx");
    for t in ["temp.kitchen", "temp.hall", "other", "strict.kitchen"] {
        create_topic(kafka, &format!("{prefix}.{t}"), 1).await.unwrap();
    }
    let worker = worker_props(dir.path(), kafka, &[]);
    // As written in a .properties file, where \ escapes: the regex is {root}/sensors/(\w+)/temp.
    let regex = format!(r"{root}/sensors/(\\w+)/temp");
    let replacement = format!("{prefix}.temp.$1");
    let src = source_props(
        dir.path(),
        &format!("{prefix}-c"),
        &mqtt.url,
        &format!("{root}/sensors/#"),
        &format!("{prefix}.other"),
        &[("kafka.topic.regex", &regex), ("kafka.topic.replacement", &replacement)],
    );
    // The same rule, but unmatched MQTT topics are data errors (here tolerated and logged).
    let strict_regex = format!(r"{root}/strict/(\\w+)/temp");
    let strict = source_props(
        dir.path(),
        &format!("{prefix}-strict"),
        &mqtt.url,
        &format!("{root}/strict/#"),
        &format!("{prefix}.other"),
        &[
            ("kafka.topic.regex", &strict_regex),
            ("kafka.topic.replacement", &format!("{prefix}.strict.$1")),
            ("kafka.topic.regex.unmatched", "fail"),
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
        ],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &strict], 0);
    w.wait_log_count("subscribed", 2, Duration::from_secs(60));
    let at = |s: &str| format!("{root}/sensors/{s}");
    let strict_at = |s: &str| format!("{root}/strict/{s}");
    publish(
        &mqtt.url,
        vec![
            (at("kitchen/temp"), b"k1".to_vec()),
            (at("hall/temp"), b"h1".to_vec()),
            (at("kitchen/humidity"), b"u1".to_vec()),
            (at("kitchen/temp"), b"k2".to_vec()),
            (strict_at("kitchen/humidity"), b"s0".to_vec()),
            (strict_at("kitchen/temp"), b"s1".to_vec()),
        ],
        None,
    )
    .await;
    let read =
        |t: &str, n: usize| consume_values(kafka, &format!("{prefix}.{t}"), Duration::from_secs(30), |g| g.len() >= n);
    assert_eq!(read("temp.kitchen", 2), [b"k1".to_vec(), b"k2".to_vec()]);
    assert_eq!(read("temp.hall", 1), [b"h1".to_vec()]);
    assert_eq!(read("other", 1), [b"u1".to_vec()], "the unmatched MQTT topic goes to kafka.topic");
    assert_eq!(read("strict.kitchen", 1), [b"s1".to_vec()]);
    let log = w.log_text();
    let unmatched = format!("the MQTT topic '{}' does not match kafka.topic.regex", strict_at("kitchen/humidity"));
    assert_eq!(lines_with(&log, &["executing stage 'TASK_POLL'", &unmatched]), 1, "{log}");
    assert_eq!(
        topic_end_offset(kafka, &format!("{prefix}.other")).unwrap(),
        1,
        "with fail, nothing goes to kafka.topic"
    );
    assert!(w.terminate(Duration::from_secs(30)).success());

    // A replacement naming a group the regex lacks fails the connector, naming key and problem.
    let bad = source_props(
        dir.path(),
        "badrx",
        &mqtt.url,
        "a/#",
        "t",
        &[("kafka.topic.regex", r"a/(\\w+)"), ("kafka.topic.replacement", "t.$2")],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&bad], 1);
    w.wait_log("refers to group 2", Duration::from_secs(30));
    let log = w.log_text();
    assert_eq!(lines_with(&log, &["kafka.topic.replacement", "'t.$2' refers to group 2", "has 1 group"]), 1, "{log}");
    assert!(w.terminate(Duration::from_secs(30)).success());
}
