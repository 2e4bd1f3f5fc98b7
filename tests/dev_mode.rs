//! `tributary dev`: starts its own Apache Kafka as a child process, a one-worker distributed
//! cluster with REST, the given connectors; Ctrl-C (SIGINT) stops everything, the broker
//! included; a second `tributary dev` on the same data directory runs the connectors again.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::time::Duration;

use common::{tributary, wait_until, write_props};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer};
use tributary_testcontainers::{TestEnv, confluent_python, repo_root, topic_end_offset, unique_name, wait_for_kafka};

const KAFKA_PORT: u16 = 19292;
const REST_PORT: u16 = 18383;
const REGISTRY_PORT: u16 = 18381;

fn get(path: &str) -> Option<serde_json::Value> {
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{REST_PORT}{path}")])
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

/// `PUT /connectors/{name}/config` with `config`; the HTTP status.
fn put_config(name: &str, config: &serde_json::Value) -> String {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Type: application/json"])
        .args(["-d", &config.to_string(), &format!("http://127.0.0.1:{REST_PORT}/connectors/{name}/config")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `tributary dev` and what it printed up to "Ready in".
struct Dev {
    child: Child,
    stdout: BufReader<ChildStdout>,
    printed: String,
}

impl Dev {
    /// Starts `tributary dev` on `dir/data` with the connector files given, and waits until ready.
    fn start(dir: &Path, connectors: &[&Path], log: &str) -> Self {
        let mut cmd = tributary();
        cmd.arg("dev")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--kafka-port", &KAFKA_PORT.to_string(), "--rest-port", &REST_PORT.to_string()])
            .args(["--registry-port", &REGISTRY_PORT.to_string()]);
        for c in connectors {
            cmd.arg("--connector").arg(c);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(dir.join(log)).unwrap()))
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut printed = String::new();
        let mut line = String::new();
        while !printed.contains("Ready in") {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "dev exited early:\n{printed}\n{}",
                std::fs::read_to_string(dir.join(log)).unwrap_or_default()
            );
            printed.push_str(&line);
        }
        Self { child, stdout, printed }
    }

    fn assert_printed(&self, lines: &[&str]) {
        for what in lines {
            assert!(self.printed.contains(what), "startup lines lack '{what}':\n{}", self.printed);
        }
    }

    /// Ctrl-C; checks it exits cleanly with its broker.
    fn interrupt(mut self) {
        std::process::Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status().unwrap();
        let rest: String = (&mut self.stdout).lines().map_while(Result::ok).collect::<Vec<_>>().join("\n");
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "dev exited with {exit}:\n{rest}");
        assert!(rest.contains("Kafka stopped."), "{rest}");
        let bootstrap = format!("127.0.0.1:{KAFKA_PORT}");
        assert!(!wait_for_kafka(&bootstrap, Duration::from_millis(500)), "the broker still answers after dev exited");
    }
}

/// A failed test does not leave dev and its broker running: Ctrl-C, then SIGKILL after 30 s.
impl Drop for Dev {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = std::process::Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The keys of every record in the one-partition `topic`, from the beginning to its end.
fn record_keys(bootstrap: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("dev-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let end = consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).unwrap().1;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning).unwrap();
    consumer.assign(&tpl).unwrap();
    let mut keys = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (keys.len() as i64) < end && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            keys.push(String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned());
        }
    }
    keys
}

/// The connector's status says RUNNING, with its task, on this one worker.
fn assert_running_here(name: &str) {
    let worker = format!("127.0.0.1:{REST_PORT}");
    wait_until(&format!("{name} RUNNING on {worker}"), Duration::from_secs(30), || {
        get(&format!("/connectors/{name}/status")).is_some_and(|s| {
            s["connector"]["state"] == "RUNNING"
                && s["connector"]["worker_id"] == worker
                && s["tasks"][0]["state"] == "RUNNING"
                && s["tasks"][0]["worker_id"] == worker
        })
    });
}

#[test]
fn dev_runs_kafka_and_a_one_worker_cluster_stops_both_on_ctrl_c_and_resumes_its_connectors() {
    if TestEnv::get().kafka().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("users");
    let conn = write_props(
        &dir.path().join("datagen.properties"),
        &[
            ("name", "users-gen"),
            ("connector.class", "io.confluent.kafka.connect.datagen.DatagenConnector"),
            ("kafka.topic", &topic),
            ("quickstart", "users"),
            ("iterations", "1000"),
            ("max.interval", "0"),
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter.schema.registry.url", &format!("http://127.0.0.1:{REGISTRY_PORT}")),
        ],
    );
    let dev = Dev::start(dir.path(), &[&conn], "dev.log");
    dev.assert_printed(&[
        "Kafka            127.0.0.1:19292",
        "REST API         http://127.0.0.1:18383",
        "Schema registry  http://127.0.0.1:18381",
        "Cluster          group tributary-dev, this worker 127.0.0.1:18383",
        "Connectors       1 running; state in topics tributary-dev-configs, tributary-dev-offsets, tributary-dev-status",
    ]);
    let bootstrap = format!("127.0.0.1:{KAFKA_PORT}");
    wait_until("1000 generated records in the topic", Duration::from_secs(60), || {
        topic_end_offset(&bootstrap, &topic).unwrap_or(0) >= 1000
    });
    assert_running_here("users-gen");
    assert_eq!(get("/connectors").unwrap(), serde_json::json!(["users-gen"]));
    // The worker is a distributed one: its connector lives in the config topic.
    let keys = record_keys(&bootstrap, "tributary-dev-configs");
    assert!(keys.iter().any(|k| k == "connector-users-gen"), "config topic keys: {keys:?}");
    // The values are Avro through dev's own registry: Confluent's deserializer reads them.
    if let Some(py) = confluent_python() {
        let out = std::process::Command::new(py)
            .arg(repo_root().join("tests/python/avro_interop.py"))
            .args(["consume", &bootstrap, &format!("http://127.0.0.1:{REGISTRY_PORT}"), &topic, "5"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["value"]["userid"].as_str().is_some_and(|u| u.starts_with("User_")), "{l}");
            assert!(v["value"]["registertime"].is_i64(), "{l}");
        }
        assert_eq!(text.lines().count(), 5);
    }
    // A connector created over REST lives in the cluster too.
    let rest_config = serde_json::json!({
        "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
        "kafka.topic": unique_name("rest-users"),
        "quickstart": "users",
        "iterations": "10",
        "max.interval": "0",
    });
    assert_eq!(put_config("rest-gen", &rest_config), "201");
    assert_running_here("rest-gen");
    dev.interrupt();

    // A second dev on the same data directory, without --connector, runs both again.
    let dev = Dev::start(dir.path(), &[], "dev2.log");
    dev.assert_printed(&["Connectors       2 running"]);
    assert_eq!(get("/connectors").unwrap(), serde_json::json!(["rest-gen", "users-gen"]));
    assert_running_here("users-gen");
    assert_running_here("rest-gen");
    dev.interrupt();
}
