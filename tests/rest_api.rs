//! Every endpoint of the Kafka Connect v1 REST API against a running standalone worker with
//! real connectors (file source and sink, datagen) on the shared broker: status codes and JSON
//! shapes as Kafka Connect answers them.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{WorkerProcess, wait_until, write_props};
use serde_json::{Value, json};
use tributary_testcontainers::{TestEnv, unique_name};

const PORT: u16 = 18584;

/// One request with curl: (status, JSON body or Null, raw headers).
fn call(method: &str, path: &str, body: Option<&str>) -> (u16, Value, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-D", "-", "-X", method, &format!("http://127.0.0.1:{PORT}{path}")]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "-H", "Expect:", "--data-binary", b]);
    }
    let out = cmd.output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()))
    };
    (status, json, head.to_owned())
}

fn get(path: &str) -> (u16, Value) {
    let (s, v, _) = call("GET", path, None);
    (s, v)
}

fn expect(method: &str, path: &str, body: Option<&str>, status: u16) -> Value {
    let (s, v, _) = call(method, path, body);
    assert_eq!(s, status, "{method} {path} answered {s}: {v}");
    v
}

fn error_message(v: &Value, code: u16) -> String {
    assert_eq!(v["error_code"], json!(code), "error body {v}");
    v["message"].as_str().expect("message").to_owned()
}

fn state(name: &str) -> Value {
    get(&format!("/connectors/{name}/status")).1
}

#[test]
fn every_endpoint_answers_as_kafka_connect_does() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("in.txt");
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let worker = write_props(
        &d.join("worker.properties"),
        &[
            ("bootstrap.servers", bootstrap),
            ("offset.storage.file.filename", &d.join("offsets.json").display().to_string()),
            ("offset.flush.interval.ms", "500"),
            ("listeners", &format!("http://127.0.0.1:{PORT}")),
        ],
    );
    let mut w = WorkerProcess::standalone(d, &worker, &[], 1);
    wait_until("REST up", Duration::from_secs(30), || get("/").0 == 200);

    // Root and health.
    let root = get("/").1;
    assert!(root["version"].is_string() && root["commit"].is_string(), "{root}");
    assert!(root["kafka_cluster_id"].as_str().is_some_and(|c| !c.is_empty()), "{root}");
    wait_until("healthy", Duration::from_secs(30), || get("/health").0 == 200);
    assert_eq!(get("/health").1["status"], "healthy");

    // Create.
    let topic = unique_name("rest-src");
    let src = format!(
        r#"{{"name":"src","config":{{"connector.class":"FileStreamSource","file":"{}","topic":"{topic}"}}}}"#,
        input.display()
    );
    let (s, info, head) = call("POST", "/connectors", Some(&src));
    assert_eq!(s, 201, "{info}");
    assert!(head.to_ascii_lowercase().contains("location: /connectors/src"), "{head}");
    assert_eq!(info["name"], "src");
    assert_eq!(info["type"], "source");
    assert_eq!(info["tasks"], json!([{"connector": "src", "task": 0}]));
    assert_eq!(info["config"]["name"], "src");
    let m = error_message(&expect("POST", "/connectors", Some(&src), 409), 409);
    assert_eq!(m, "Connector src already exists");
    let m = error_message(
        &expect(
            "POST",
            "/connectors",
            Some(r#"{"name":"bad","config":{"connector.class":"FileStreamSource","tasks.max":"0"}}"#),
            400,
        ),
        400,
    );
    assert!(m.starts_with("Connector configuration is invalid and contains the following"), "{m}");
    assert!(m.contains("tasks.max"), "{m}");
    error_message(&expect("POST", "/connectors", Some("{not json"), 400), 400);
    error_message(&expect("POST", "/connectors", Some(r#"{"name":"x","config":{},"extra":1}"#), 400), 400);
    error_message(
        &expect(
            "POST",
            "/connectors",
            Some(
                r#"{"name":"x","config":{"connector.class":"FileStreamSource","topic":"t"},"initial_state":"SLEEPING"}"#,
            ),
            400,
        ),
        400,
    );

    // Read.
    wait_until("records read", Duration::from_secs(30), || {
        get("/connectors/src/topics").1["src"]["topics"] == json!([topic])
    });
    assert_eq!(get("/connectors").1, json!(["src"]));
    let expanded = get("/connectors?expand=status&expand=info").1;
    assert_eq!(expanded["src"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(expanded["src"]["info"]["name"], "src");
    assert_eq!(get("/connectors/src").1["tasks"], json!([{"connector": "src", "task": 0}]));
    assert_eq!(get("/connectors/src/config").1["topic"], json!(topic));
    let st = state("src");
    assert_eq!(st["connector"]["state"], "RUNNING");
    assert_eq!(st["tasks"][0]["state"], "RUNNING");
    assert_eq!(st["tasks"][0]["worker_id"], json!(format!("127.0.0.1:{PORT}")));
    assert_eq!(get("/connectors/src/tasks/0/status").1["state"], "RUNNING");
    let tasks = get("/connectors/src/tasks").1;
    assert_eq!(tasks[0]["id"], json!({"connector": "src", "task": 0}));
    assert_eq!(tasks[0]["config"]["topic"], json!(topic));
    assert_eq!(error_message(&get("/connectors/nope").1, 404), "Connector nope not found");
    assert_eq!(get("/connectors/nope/status").0, 404);
    assert_eq!(get("/connectors/src/tasks/7/status").0, 404);
    assert_eq!(get("/connectors/src/tasks/x/status").0, 404);

    // Pause, resume, restarts.
    expect("PUT", "/connectors/src/pause", None, 202);
    wait_until("paused", Duration::from_secs(10), || state("src")["tasks"][0]["state"] == "PAUSED");
    assert_eq!(state("src")["connector"]["state"], "PAUSED");
    expect("PUT", "/connectors/src/resume", None, 202);
    wait_until("resumed", Duration::from_secs(10), || state("src")["tasks"][0]["state"] == "RUNNING");
    expect("POST", "/connectors/src/restart", None, 204);
    let plan = expect("POST", "/connectors/src/restart?includeTasks=true", None, 202);
    assert_eq!(plan["connector"]["state"], "RESTARTING");
    assert_eq!(plan["tasks"][0]["state"], "RESTARTING");
    let plan = expect("POST", "/connectors/src/restart?includeTasks=true&onlyFailed=true", None, 202);
    assert_eq!(plan["connector"]["state"], "RUNNING", "nothing failed, nothing restarts: {plan}");
    expect("POST", "/connectors/src/tasks/0/restart", None, 204);
    assert_eq!(expect("POST", "/connectors/src/tasks/3/restart", None, 404)["error_code"], 404);
    wait_until("running again", Duration::from_secs(10), || state("src")["tasks"][0]["state"] == "RUNNING");

    // Topics.
    expect("PUT", "/connectors/src/topics/reset", None, 202);
    assert_eq!(get("/connectors/src/topics").1, json!({"src": {"topics": []}}));

    // Offsets: readable any time, changeable only when stopped.
    wait_until("offset stored", Duration::from_secs(20), || {
        get("/connectors/src/offsets").1["offsets"][0]["offset"]["position"] == json!(14)
    });
    let partition = json!({"filename": input.display().to_string()});
    let patch = json!({"offsets": [{"partition": partition, "offset": {"position": 4}}]}).to_string();
    let m = error_message(&expect("PATCH", "/connectors/src/offsets", Some(&patch), 400), 400);
    assert!(m.starts_with("Connectors must be in the STOPPED state"), "{m}");
    expect("PUT", "/connectors/src/stop", None, 204);
    let st = state("src");
    assert_eq!(st["connector"]["state"], "STOPPED");
    assert_eq!(st["tasks"], json!([]));
    assert_eq!(get("/connectors/src/tasks").1, json!([]));
    let ok = expect("PATCH", "/connectors/src/offsets", Some(&patch), 200);
    assert!(ok["message"].as_str().is_some_and(|m| m.contains("altered successfully")), "{ok}");
    assert_eq!(get("/connectors/src/offsets").1["offsets"][0]["offset"]["position"], 4);
    expect("PATCH", "/connectors/src/offsets", Some(r#"{"offsets":[]}"#), 400);
    let ok = expect("DELETE", "/connectors/src/offsets", None, 200);
    assert!(ok["message"].as_str().is_some_and(|m| m.contains("reset successfully")), "{ok}");
    assert_eq!(get("/connectors/src/offsets").1, json!({"offsets": []}));
    expect("PUT", "/connectors/src/resume", None, 202);
    wait_until("running after stop", Duration::from_secs(10), || state("src")["tasks"][0]["state"] == "RUNNING");

    // Config: PUT creates (201) then updates (200); PATCH changes and removes keys.
    let out = d.join("out.txt");
    let sink_cfg = json!({"connector.class": "FileStreamSink", "file": out.display().to_string(), "topics": topic});
    // Unique: the group `connect-<name>` must not carry members of earlier runs.
    let sink = unique_name("sink");
    let created = expect("PUT", &format!("/connectors/{sink}/config"), Some(&sink_cfg.to_string()), 201);
    assert_eq!(created["type"], "sink");
    let updated = expect("PUT", &format!("/connectors/{sink}/config"), Some(&sink_cfg.to_string()), 200);
    assert_eq!(updated["name"], json!(sink));
    let m = error_message(
        &expect(
            "PUT",
            &format!("/connectors/{sink}/config"),
            Some(r#"{"name":"other","connector.class":"FileStreamSink","topics":"t","file":"/tmp/x"}"#),
            400,
        ),
        400,
    );
    assert!(m.contains("doesn't match connector name in the URL"), "{m}");
    let patched = expect(
        "PATCH",
        &format!("/connectors/{sink}/config"),
        Some(r#"{"tasks.max":"1","errors.log.enable":null}"#),
        200,
    );
    assert_eq!(patched["config"]["tasks.max"], "1");
    assert_eq!(expect("PATCH", "/connectors/nope/config", Some("{}"), 404)["error_code"], 404);
    wait_until("sink wrote the lines", Duration::from_secs(30), || {
        std::fs::read_to_string(&out).unwrap_or_default().lines().count() >= 3
    });
    // Sink offsets are the group's committed offsets.
    wait_until("sink offsets committed", Duration::from_secs(30), || {
        get(&format!("/connectors/{sink}/offsets")).1["offsets"][0]["offset"]["kafka_offset"].as_i64().unwrap_or(0) >= 3
    });
    let so = get(&format!("/connectors/{sink}/offsets")).1;
    assert_eq!(so["offsets"][0]["partition"], json!({"kafka_topic": topic, "kafka_partition": 0}));

    // A task that fails shows its trace; onlyFailed restarts only it.
    let bad = json!({"connector.class": "FileStreamSink", "file": d.join("missing/dir/out.txt").display().to_string(), "topics": topic});
    let failing = unique_name("failing");
    expect("PUT", &format!("/connectors/{failing}/config"), Some(&bad.to_string()), 201);
    wait_until("task failed", Duration::from_secs(20), || state(&failing)["tasks"][0]["state"] == "FAILED");
    assert!(state(&failing)["tasks"][0]["trace"].as_str().is_some_and(|t| !t.is_empty()));
    let plan = expect("POST", &format!("/connectors/{failing}/restart?includeTasks=true&onlyFailed=true"), None, 202);
    assert_eq!(plan["tasks"][0]["state"], "RESTARTING");
    assert_eq!(plan["connector"]["state"], "RUNNING", "{plan}");

    // Created paused or stopped.
    let paused = json!({"name": "gen", "config": {"connector.class": "DatagenConnector", "kafka.topic": unique_name("gen"), "quickstart": "users", "max.interval": "100"}, "initial_state": "PAUSED"});
    expect("POST", "/connectors", Some(&paused.to_string()), 201);
    assert_eq!(state("gen")["connector"]["state"], "PAUSED");
    // As Kafka Connect: a connector created paused gets its tasks when resumed.
    assert_eq!(state("gen")["tasks"], json!([]));
    expect("PUT", "/connectors/gen/resume", None, 202);
    wait_until("gen running", Duration::from_secs(10), || state("gen")["tasks"][0]["state"] == "RUNNING");
    let mut stopped = paused.clone();
    stopped["name"] = json!("gen2");
    stopped["initial_state"] = json!("STOPPED");
    expect("POST", "/connectors", Some(&stopped.to_string()), 201);
    assert_eq!(state("gen2")["connector"]["state"], "STOPPED");
    assert_eq!(state("gen2")["tasks"], json!([]));

    // Plugins.
    let plugins = get("/connector-plugins").1;
    let classes: Vec<&str> = plugins.as_array().unwrap().iter().filter_map(|p| p["class"].as_str()).collect();
    assert!(classes.contains(&"org.apache.kafka.connect.file.FileStreamSourceConnector"), "{plugins}");
    assert!(plugins.as_array().unwrap().iter().all(|p| p["type"] == "source" || p["type"] == "sink"));
    let all = get("/connector-plugins?connectorsOnly=false").1;
    assert!(all.as_array().unwrap().iter().any(|p| p["type"] == "converter"), "{all}");
    let keys = get("/connector-plugins/FileStreamSource/config").1;
    assert!(keys.as_array().unwrap().iter().any(|k| k["name"] == "file"), "{keys}");
    assert_eq!(get("/connector-plugins/Nope/config").0, 404);
    let infos = expect(
        "PUT",
        "/connector-plugins/FileStreamSource/config/validate",
        Some(r#"{"connector.class":"FileStreamSource","tasks.max":"x"}"#),
        200,
    );
    assert!(infos["error_count"].as_i64().unwrap() >= 1, "{infos}");
    // Kafka Connect names the answer after `connector.class` as given.
    assert_eq!(infos["name"], "FileStreamSource");
    expect(
        "PUT",
        "/connector-plugins/FileStreamSource/config/validate",
        Some(r#"{"connector.class":"FileStreamSink"}"#),
        400,
    );

    // Loggers.
    assert_eq!(get("/admin/loggers").1["root"]["level"], "INFO");
    assert_eq!(
        expect("PUT", "/admin/loggers/tributary_runtime::worker", Some(r#"{"level":"DEBUG"}"#), 200),
        json!(["tributary_runtime::worker"])
    );
    // A child logger (a module that has logged) inherits the level; unknown loggers are 404.
    assert_eq!(get("/admin/loggers/tributary_runtime::worker::lifecycle").1["level"], "DEBUG");
    assert_eq!(error_message(&get("/admin/loggers/no.such.logger").1, 404), "Logger no.such.logger not found.");
    assert!(get("/admin/loggers").1["tributary_runtime::worker"]["last_modified"].is_u64());
    expect("PUT", "/admin/loggers/x", Some(r#"{"level":"LOUD"}"#), 404);
    // A name a filter cannot hold is refused, and the levels keep working after it.
    expect("PUT", "/admin/loggers/a%5Bb", Some(r#"{"level":"DEBUG"}"#), 400);
    expect("PUT", "/admin/loggers/root", Some(r#"{"level":"INFO"}"#), 200);
    expect("PUT", "/admin/loggers/x", Some(r#"{}"#), 400);

    // Oversize body, unknown path.
    let big = format!(r#"{{"name":"big","config":{{"x":"{}"}}}}"#, "a".repeat(5 * 1024 * 1024));
    let big_path = d.join("big.json");
    std::fs::write(&big_path, big).unwrap();
    let (s, v, _) = call("POST", "/connectors", Some(&format!("@{}", big_path.display())));
    assert_eq!(s, 413, "{v}");
    assert_eq!(get("/nothing/here").0, 404);

    // Delete.
    for c in ["src", &sink, &failing, "gen", "gen2"] {
        expect("DELETE", &format!("/connectors/{c}"), None, 204);
    }
    expect("DELETE", "/connectors/src", None, 404);
    assert_eq!(get("/connectors").1, json!([]));
    let log = w.log_text();
    assert!(w.terminate(Duration::from_secs(30)).success());
    assert!(!log.contains("panicked"), "{log}");
}
