//! `tributary dev`: starts its own Apache Kafka as a child process, a worker with REST, the
//! given connectors; Ctrl-C (SIGINT) stops everything, the broker included.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{tributary, wait_until, write_props};
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

#[test]
fn dev_runs_kafka_and_a_worker_and_stops_both_on_ctrl_c() {
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
    let mut child = tributary()
        .arg("dev")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--kafka-port", &KAFKA_PORT.to_string(), "--rest-port", &REST_PORT.to_string()])
        .args(["--registry-port", &REGISTRY_PORT.to_string()])
        .arg("--connector")
        .arg(&conn)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(dir.path().join("dev.log")).unwrap()))
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
            std::fs::read_to_string(dir.path().join("dev.log")).unwrap_or_default()
        );
        printed.push_str(&line);
    }
    for what in [
        "Kafka            127.0.0.1:19292",
        "REST API         http://127.0.0.1:18383",
        "Schema registry  http://127.0.0.1:18381",
        "Connectors       1 running",
    ] {
        assert!(printed.contains(what), "startup lines lack '{what}':\n{printed}");
    }
    let bootstrap = format!("127.0.0.1:{KAFKA_PORT}");
    wait_until("1000 generated records in the topic", Duration::from_secs(60), || {
        topic_end_offset(&bootstrap, &topic).unwrap_or(0) >= 1000
    });
    let status = get("/connectors/users-gen/status").expect("status answer");
    assert_eq!(status["connector"]["state"], "RUNNING");
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    assert_eq!(get("/connectors").unwrap(), serde_json::json!(["users-gen"]));
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

    std::process::Command::new("kill").arg("-INT").arg(child.id().to_string()).status().unwrap();
    let rest: String = stdout.lines().map_while(Result::ok).collect::<Vec<_>>().join("\n");
    let exit = child.wait().unwrap();
    assert!(exit.success(), "dev exited with {exit}:\n{rest}");
    assert!(rest.contains("Kafka stopped."), "{rest}");
    assert!(!wait_for_kafka(&bootstrap, Duration::from_millis(500)), "the broker still answers after dev exited");
}
