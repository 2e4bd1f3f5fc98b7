//! The config, offset and status stores of distributed mode against a real broker, and against
//! Kafka Connect 4.1.1's own distributed worker (`scripts/kafka-connect.sh`): the stores read
//! what Kafka Connect wrote in its internal topics, and Kafka Connect reads what they write.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use tributary_runtime::api::OffsetMap;
use tributary_runtime::distributed::stores::{
    KafkaConfigStore, KafkaOffsetStore, KafkaStatusStore, State, Status, StoreSettings, TargetState, TopicKind,
    TopicStatus,
};
use tributary_runtime::worker::offsets::OffsetStore;
use tributary_testcontainers::{TestEnv, create_topic, in_ci, repo_root, unique_name};

fn settings(kind: TopicKind, topic: &str, bootstrap: &str) -> StoreSettings {
    StoreSettings::new(kind, topic, bootstrap).with_replication_factor(1)
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn map(v: Value) -> OffsetMap {
    v.as_object().cloned().unwrap_or_default()
}

/// Writes raw records (`None` value: a tombstone) to a topic, as another writer would.
async fn write_raw(bootstrap: &str, topic: &str, records: &[(&str, Option<&str>)]) {
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    for (k, v) in records {
        let mut r = FutureRecord::<str, str>::to(topic).key(k);
        if let Some(v) = v {
            r = r.payload(v);
        }
        producer.send(r, Duration::from_secs(10)).await.map_err(|(e, _)| e).unwrap();
    }
}

/// (partition count, cleanup.policy) of a topic, from the broker.
async fn describe(bootstrap: &str, topic: &str) -> (usize, String) {
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let partitions = md.topics()[0].partitions().len();
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let res = admin.describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new()).await.unwrap();
    let cfg = res.into_iter().next().unwrap().unwrap();
    (partitions, cfg.get("cleanup.policy").and_then(|e| e.value.clone()).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_store_round_trip_restart_and_uncommitted_tasks() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let t0 = Instant::now();
    let topic = unique_name("stores-configs");
    let s = settings(TopicKind::Config, &topic, bootstrap).with_partitions(5);
    let store = KafkaConfigStore::start(&s).await.unwrap();
    assert_eq!(describe(bootstrap, &topic).await, (1, "compact".to_string()), "config topic: 1 partition, compacted");

    let conf = props(&[("connector.class", "FileStreamSource"), ("name", "my-conn")]);
    store.put_connector_config("my-conn", &conf, Some(TargetState::Paused)).await.unwrap();
    store.put_task_configs("my-conn", &[props(&[("t", "0")]), props(&[("t", "1")])]).await.unwrap();
    store.put_connector_config("gone", &conf, None).await.unwrap();
    store.remove_connector_config("gone").await.unwrap();
    store.put_target_state("my-conn", TargetState::Stopped).await.unwrap();
    // Raw record shapes are Kafka Connect's.
    let raw = read_all(bootstrap, &topic);
    assert_eq!(raw["connector-my-conn"], Some(json!({"properties": conf})));
    assert_eq!(raw["task-my-conn-1"], Some(json!({"properties": {"t": "1"}})));
    assert_eq!(raw["commit-my-conn"], Some(json!({"tasks": 2})));
    assert_eq!(raw["target-state-my-conn"], Some(json!({"state": "PAUSED", "state.v2": "STOPPED"})));
    assert_eq!(raw["connector-gone"], None);
    // Another writer's task configs without their commit, and records no reader can use.
    write_raw(
        bootstrap,
        &topic,
        &[
            ("task-my-conn-0", Some(r#"{"properties":{"t":"new"}}"#)),
            ("connector-broken", Some("{not json")),
            ("connector-wrong", Some(r#"{"properties":[1]}"#)),
            ("commit-my-conn", Some(r#"{"tasks":"two"}"#)),
            ("who-knows", Some("{}")),
        ],
    )
    .await;
    store.read_to_end().await.unwrap();
    let snap = store.snapshot();
    assert_eq!(snap.connector_configs.keys().collect::<Vec<_>>(), vec!["my-conn"]);
    assert_eq!(snap.target_state("my-conn"), Some(TargetState::Stopped));
    assert_eq!(
        snap.tasks("my-conn"),
        vec![props(&[("t", "0")]), props(&[("t", "1")])],
        "uncommitted task config invisible"
    );

    // A new instance sees the same state from the topic alone.
    let again = KafkaConfigStore::start(&s).await.unwrap();
    let snap2 = again.snapshot();
    assert_eq!(snap2.connector_configs, snap.connector_configs);
    assert_eq!(snap2.tasks("my-conn"), snap.tasks("my-conn"));
    assert_eq!(snap2.target_state("my-conn"), Some(TargetState::Stopped));
    assert_eq!(snap2.offset, snap.offset);

    eprintln!("config store test took {:?}", t0.elapsed());
}

/// The last value per key of a topic (None: tombstone); non-JSON values as JSON strings.
fn read_all(bootstrap: &str, topic: &str) -> BTreeMap<String, Option<Value>> {
    use rdkafka::Message;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("stores-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = BTreeMap::new();
    let (mut eofs, mut idle) = (0, 0);
    let parts = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap().topics()[0].partitions().len();
    while eofs < parts && idle < 100 {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let k = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
                let v = m.payload().map(|p| {
                    serde_json::from_slice(p).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(p).into()))
                });
                out.insert(k, v);
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => eofs += 1,
            _ => idle += 1,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_store_round_trip_tombstones_and_restart() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let topic = unique_name("stores-offsets");
    let s = settings(TopicKind::Offset, &topic, bootstrap).with_partitions(3);
    let store = KafkaOffsetStore::start(&s).await.unwrap();
    assert_eq!(describe(bootstrap, &topic).await, (3, "compact".to_string()));

    let (p1, p2) = (map(json!({"filename": "/a"})), map(json!({"table": "t", "db": "d"})));
    store
        .put("c1", vec![(p1.clone(), map(json!({"position": 10}))), (p2.clone(), map(json!({"id": 7})))])
        .await
        .unwrap();
    store.put("c2", vec![(p1.clone(), map(json!({"position": 99})))]).await.unwrap();
    store.put("c1", vec![(p1.clone(), map(json!({"position": 20})))]).await.unwrap();
    assert_eq!(store.get("c1", &p1).await.unwrap(), Some(map(json!({"position": 20}))));
    store.alter("c1", vec![(p2.clone(), None)]).await.unwrap();
    assert_eq!(store.list("c1").await.unwrap(), vec![(p1.clone(), map(json!({"position": 20})))]);
    // Another writer's tombstone with the fields in another order, and corrupt records.
    write_raw(
        bootstrap,
        &topic,
        &[(r#"["c2",{"filename":"/a"}]"#, None), ("not json", Some("{}")), (r#"["c3",{"x":1}]"#, Some("[1,2]"))],
    )
    .await;
    assert_eq!(store.list("c2").await.unwrap(), vec![]);

    let again = KafkaOffsetStore::start(&s).await.unwrap();
    assert_eq!(again.list("c1").await.unwrap(), vec![(p1.clone(), map(json!({"position": 20})))]);
    assert_eq!(again.get("c1", &p2).await.unwrap(), None);
    assert_eq!(again.connectors(), vec!["c1".to_string()]);
    let raw = read_all(bootstrap, &topic);
    assert_eq!(raw[r#"["c1",{"filename":"/a"}]"#], Some(json!({"position": 20})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_store_round_trip_and_restart() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let topic = unique_name("stores-status");
    let s = settings(TopicKind::Status, &topic, bootstrap).with_partitions(2);
    let store = KafkaStatusStore::start(&s).await.unwrap();
    assert_eq!(describe(bootstrap, &topic).await, (2, "compact".to_string()));
    let st = |state, gen_| Status { state, trace: None, worker_id: "127.0.0.1:8083".into(), generation: gen_ };
    store.put_connector("c-1", &st(State::Running, 4)).await.unwrap();
    store.put_task("c-1", 0, &st(State::Running, 4)).await.unwrap();
    let failed = Status { trace: Some("boom\n\tat x".into()), ..st(State::Failed, 4) };
    store.put_task("c-1", 1, &failed).await.unwrap();
    store.read_to_end().await.unwrap();
    let other = Status { worker_id: "other:8083".into(), ..st(State::Unassigned, 3) };
    assert!(!store.put_task_safe("c-1", 0, &other).await.unwrap(), "a later generation of another worker wins");
    let ts =
        TopicStatus { topic: "t1".into(), connector: "c-1".into(), task: 0, discover_timestamp: 1_700_000_000_000 };
    store.put_topic(&ts).await.unwrap();
    store.put_connector("gone", &st(State::Running, 4)).await.unwrap();
    store.put_connector("gone", &st(State::Destroyed, 4)).await.unwrap();
    write_raw(bootstrap, &topic, &[("status-connector-bad", Some("nope")), ("status-task-x", Some("{}"))]).await;
    store.read_to_end().await.unwrap();

    let again = KafkaStatusStore::start(&s).await.unwrap();
    assert_eq!(again.connectors(), vec!["c-1".to_string()]);
    assert_eq!(again.connector("c-1"), Some(st(State::Running, 4)));
    assert_eq!(again.task("c-1", 0), Some(st(State::Running, 4)));
    assert_eq!(again.task("c-1", 1), Some(failed));
    assert_eq!(again.topics("c-1"), vec![ts]);
    let raw = read_all(bootstrap, &topic);
    assert_eq!(
        raw["status-task-c-1-0"],
        Some(json!({"state": "RUNNING", "trace": null, "worker_id": "127.0.0.1:8083", "generation": 4}))
    );
    assert_eq!(
        raw["status-topic-t1:connector-c-1"],
        Some(
            json!({"topic": {"name": "t1", "connector": "c-1", "task": 0, "discoverTimestamp": 1_700_000_000_000_i64}})
        )
    );
    assert_eq!(raw["status-connector-gone"], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_bad_existing_topics_with_kafka_connects_messages() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    // A compacted config topic with 2 partitions.
    let topic = unique_name("stores-configs2");
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let nt = NewTopic::new(&topic, 2, TopicReplication::Fixed(1)).set("cleanup.policy", "compact");
    admin.create_topics([&nt], &AdminOptions::new()).await.unwrap().into_iter().for_each(|r| {
        r.unwrap();
    });
    let err = KafkaConfigStore::start(&settings(TopicKind::Config, &topic, bootstrap)).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "Topic '{topic}' supplied via the 'config.storage.topic' property is required to have a single partition \
             in order to guarantee consistency of connector configurations, but found 2 partitions."
        )
    );
    // A topic with the default cleanup.policy=delete.
    let topic = unique_name("stores-status-delete");
    create_topic(bootstrap, &topic, 1).await.unwrap();
    let err = KafkaStatusStore::start(&settings(TopicKind::Status, &topic, bootstrap)).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "Topic '{topic}' supplied via the 'status.storage.topic' property is required to have \
             'cleanup.policy=compact' to guarantee consistency and durability of connector and task statuses, but \
             found the topic currently has 'cleanup.policy=delete'."
        )),
        "{err}"
    );
}

// ---- Kafka Connect 4.1.1 as the oracle -------------------------------------------------------

/// Its own port (and so its own group and internal topics), not the REST differential test's.
const CONNECT_PORT: u16 = 18093;

fn connect_available() -> bool {
    let cache = std::env::var_os("TRIBUTARY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/tributary"));
    let java = Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success());
    if java && cache.join("connect-4.1.1/libs/.complete").is_file() {
        return true;
    }
    assert!(!in_ci(), "CI=true and Kafka Connect cannot run here: run scripts/setup.sh");
    eprintln!("SKIPPED: Kafka Connect cannot run here (java or jars missing); run scripts/setup.sh");
    false
}

fn connect_script(cmd: &str, bootstrap: &str) {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/kafka-connect.sh"))
        .args([cmd, "--port", &CONNECT_PORT.to_string(), "--bootstrap", bootstrap])
        .output()
        .expect("cannot run scripts/kafka-connect.sh");
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.status.success(), "kafka-connect.sh {cmd} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

struct Connect {
    http: reqwest::Client,
    base: String,
}

impl Connect {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await.1
    }

    async fn wait_for(&self, path: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.get(path).await;
            if ok(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; last GET {path}: {v}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn kc_settings(kind: TopicKind, suffix: &str, bootstrap: &str) -> StoreSettings {
    settings(kind, &format!("tributary-diff-connect-{CONNECT_PORT}-{suffix}"), bootstrap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_kafka_connects_own_internal_topics() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    if !connect_available() {
        return;
    }
    let t0 = Instant::now();
    connect_script("start", bootstrap);
    let kc = Connect { http: reqwest::Client::new(), base: format!("http://127.0.0.1:{CONNECT_PORT}") };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.txt");
    let text = "one\ntwo\nthree\n";
    std::fs::write(&file, text).unwrap();
    let name = unique_name("stores-fs");
    let topic = unique_name("stores-fs-topic");
    let config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1", "file": file.to_str().unwrap(), "topic": topic,
    });
    let (code, body) = kc.call(reqwest::Method::PUT, &format!("/connectors/{name}/config"), Some(config)).await;
    assert_eq!(code, 201, "{body}");
    let result = check_kafka_connect_topics(&kc, bootstrap, &name, &topic, &file, text.len()).await;
    kc.call(reqwest::Method::DELETE, &format!("/connectors/{name}"), None).await;
    connect_script("stop", bootstrap);
    result.unwrap();
    eprintln!("Kafka Connect oracle test took {:?}", t0.elapsed());
}

async fn check_kafka_connect_topics(
    kc: &Connect,
    bootstrap: &str,
    name: &str,
    topic: &str,
    file: &std::path::Path,
    len: usize,
) -> Result<(), String> {
    let running = |v: &Value| v["connector"]["state"] == "RUNNING" && v["tasks"][0]["state"] == "RUNNING";
    kc.wait_for(&format!("/connectors/{name}/status"), "RUNNING", running).await;
    let partition = json!({"filename": file.to_str().unwrap()});
    let offset = json!({"position": len});
    let expected_offsets = json!({"offsets": [{"partition": partition, "offset": offset}]});
    kc.wait_for(&format!("/connectors/{name}/offsets"), "the offset commit", |v| *v == expected_offsets).await;
    kc.call(reqwest::Method::PUT, &format!("/connectors/{name}/pause"), None).await;
    let paused = |v: &Value| v["connector"]["state"] == "PAUSED" && v["tasks"][0]["state"] == "PAUSED";
    let status = kc.wait_for(&format!("/connectors/{name}/status"), "PAUSED", paused).await;
    let rest_config = kc.get(&format!("/connectors/{name}/config")).await;
    let rest_tasks = kc.get(&format!("/connectors/{name}/tasks")).await;
    let rest_topics = kc.get(&format!("/connectors/{name}/topics")).await;

    // Config topic: connector config, committed task config, PAUSED.
    let configs = KafkaConfigStore::start(&kc_settings(TopicKind::Config, "configs", bootstrap))
        .await
        .map_err(|e| e.to_string())?;
    let snap = configs.snapshot();
    let ours: Value = serde_json::to_value(&snap.connector_configs[name]).unwrap();
    assert_eq!(ours, rest_config, "connector config");
    let tasks: Vec<Value> = snap.tasks(name).iter().map(|t| serde_json::to_value(t).unwrap()).collect();
    assert_eq!(tasks, vec![rest_tasks[0]["config"].clone()], "committed task config");
    assert_eq!(snap.target_state(name), Some(TargetState::Paused));
    assert_eq!(snap.task_counts.get(name), Some(&1));
    assert!(snap.session_key.is_some(), "Kafka Connect's leader writes a session key");

    // Offset topic.
    let offsets = KafkaOffsetStore::start(&kc_settings(TopicKind::Offset, "offsets", bootstrap))
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(offsets.list(name).await.unwrap(), vec![(map(partition.clone()), map(offset))]);

    // Status topic.
    let statuses = KafkaStatusStore::start(&kc_settings(TopicKind::Status, "status", bootstrap))
        .await
        .map_err(|e| e.to_string())?;
    let worker_id = status["connector"]["worker_id"].as_str().unwrap_or_default().to_string();
    let c = statuses.connector(name).ok_or("no connector status")?;
    assert_eq!((c.state, c.worker_id.as_str(), c.trace.as_deref()), (State::Paused, worker_id.as_str(), None));
    let t = statuses.task(name, 0).ok_or("no task status")?;
    assert_eq!(
        (t.state, t.worker_id.as_str()),
        (State::Paused, status["tasks"][0]["worker_id"].as_str().unwrap_or(""))
    );
    let topics: Vec<String> = statuses.topics(name).into_iter().map(|t| t.topic).collect();
    assert_eq!(topics, vec![topic.to_string()]);
    assert_eq!(json!({ name: {"topics": topics} }), rest_topics, "KIP-558 topic records");
    assert_eq!(statuses.topics(name)[0].connector, name);

    // The reverse: Kafka Connect reads an offset written by the store, for a stopped connector.
    kc.call(reqwest::Method::PUT, &format!("/connectors/{name}/stop"), None).await;
    kc.wait_for(&format!("/connectors/{name}/status"), "STOPPED", |v| v["connector"]["state"] == "STOPPED").await;
    offsets.put(name, vec![(map(partition.clone()), map(json!({"position": 4})))]).await.unwrap();
    let want = json!({"offsets": [{"partition": partition, "offset": {"position": 4}}]});
    kc.wait_for(&format!("/connectors/{name}/offsets"), "our offset in Kafka Connect", |v| *v == want).await;
    configs.read_to_end().await.map_err(|e| e.to_string())?;
    assert_eq!(configs.snapshot().target_state(name), Some(TargetState::Stopped), "STOPPED written by Kafka Connect");

    // The reverse for configs: a connector config and PAUSED target state written by the store
    // are picked up by Kafka Connect's herder, which starts the connector paused.
    let other = format!("{name}-from-store");
    let conf: BTreeMap<String, String> = [
        ("connector.class", "org.apache.kafka.connect.file.FileStreamSourceConnector"),
        ("name", other.as_str()),
        ("tasks.max", "1"),
        ("file", file.to_str().unwrap_or_default()),
        ("topic", topic),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    configs.put_connector_config(&other, &conf, Some(TargetState::Paused)).await.map_err(|e| e.to_string())?;
    let paused_connector = |v: &Value| v["connector"]["state"] == "PAUSED";
    kc.wait_for(&format!("/connectors/{other}/status"), "the store's connector in Kafka Connect", paused_connector)
        .await;
    assert_eq!(kc.get(&format!("/connectors/{other}/config")).await, serde_json::to_value(&conf).unwrap());
    kc.call(reqwest::Method::DELETE, &format!("/connectors/{other}"), None).await;
    Ok(())
}
