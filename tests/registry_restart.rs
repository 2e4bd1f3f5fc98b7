//! The registry's state lives in its Kafka topic: a registry killed and started again answers
//! exactly as before (ids, versions, configs, deletions), a second registry on the same topic
//! sees what the first registers, and the records are in Confluent's formats.

#[path = "registry_util.rs"]
mod registry_util;

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use registry_util::{Registry, avro_body};
use serde_json::{Value, json};
use tributary_testcontainers::{TestEnv, unique_name};

fn user(fields: &str) -> String {
    avro_body(&format!(r#"{{"type":"record","name":"User","fields":[{{"name":"name","type":"string"}}{fields}]}}"#))
}

/// Everything a client could ask, as one JSON document.
fn snapshot(r: &Registry) -> Value {
    let mut out = serde_json::Map::new();
    let mut get = |path: String| {
        let (status, body) = r.call("GET", &path, None);
        out.insert(path, json!([status, body]));
        body
    };
    let subjects = get("/subjects?deleted=true".into());
    get("/subjects".into());
    get("/config".into());
    get("/mode".into());
    for s in subjects.as_array().unwrap() {
        let s = s.as_str().unwrap();
        get(format!("/config/{s}"));
        get(format!("/subjects/{s}/versions"));
        for v in get(format!("/subjects/{s}/versions?deleted=true")).as_array().unwrap() {
            get(format!("/subjects/{s}/versions/{v}"));
            get(format!("/subjects/{s}/versions/{v}?deleted=true"));
        }
    }
    for id in 1..=6 {
        get(format!("/schemas/ids/{id}"));
        get(format!("/schemas/ids/{id}/versions?deleted=true"));
    }
    Value::Object(out)
}

fn post(r: &Registry, path: &str, body: &str) -> Value {
    let (status, v) = r.call("POST", path, Some(body));
    assert_eq!(status, 200, "POST {path} {body}: {v}");
    v
}

#[test]
fn a_restarted_or_second_registry_sees_everything_in_the_topic() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("_schemas");
    let args = ["--bootstrap-servers", bootstrap, "--topic", &topic];
    let first = Registry::start(dir.path(), "first", &args);
    assert!(first.startup.contains("0 subjects, 0 schemas, 0 versions loaded"), "{}", first.startup);

    assert_eq!(post(&first, "/subjects/a/versions", &user("")), json!({"id": 1}));
    assert_eq!(
        post(&first, "/subjects/a/versions", &user(r#",{"name":"age","type":"int","default":0}"#)),
        json!({"id": 2})
    );
    assert_eq!(post(&first, "/subjects/b/versions", &user("")), json!({"id": 1}));
    let json_schema = json!({"schema": r#"{"type":"object"}"#, "schemaType": "JSON"}).to_string();
    assert_eq!(post(&first, "/subjects/j/versions", &json_schema), json!({"id": 3}));
    assert_eq!(first.call("PUT", "/config/a", Some(r#"{"compatibility":"NONE"}"#)).0, 200);
    assert_eq!(first.call("PUT", "/config", Some(r#"{"compatibility":"FULL"}"#)).0, 200);
    assert_eq!(first.call("DELETE", "/subjects/a/versions/1", None), (200, json!(1)));
    assert_eq!(first.call("DELETE", "/subjects/j", None), (200, json!([1])));
    assert_eq!(post(&first, "/subjects/gone/versions", &avro_body(r#""long""#)), json!({"id": 4}));
    assert_eq!(first.call("DELETE", "/subjects/gone", None).0, 200);
    assert_eq!(first.call("DELETE", "/subjects/gone?permanent=true", None), (200, json!([1])));
    let before = snapshot(&first);
    first.kill9();

    let again = Registry::start(dir.path(), "again", &args);
    assert!(again.startup.contains("3 subjects, 3 schemas, 4 versions loaded"), "{}", again.startup);
    assert_eq!(snapshot(&again), before, "the restarted registry answers differently");
    assert_eq!(
        post(&again, "/subjects/c/versions", &avro_body(r#""string""#)),
        json!({"id": 5}),
        "ids continue after the highest ever used (4, permanently deleted)"
    );

    let second = Registry::start(dir.path(), "second", &args);
    assert_eq!(snapshot(&second), snapshot(&again));
    assert_eq!(post(&again, "/subjects/d/versions", &avro_body(r#""double""#)), json!({"id": 6}));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = second.call("GET", "/subjects/d/versions/1", None);
        if status == 200 {
            assert_eq!(body, json!({"subject": "d", "version": 1, "id": 6, "schema": "\"double\""}));
            break;
        }
        assert!(Instant::now() < deadline, "the second registry never saw subject d: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(post(&second, "/subjects/e/versions", &avro_body(r#""float""#)), json!({"id": 7}));
    assert!(again.stop().success());
    assert!(second.stop().success());

    assert_confluent_records(bootstrap, &topic);
}

/// The first records of the topic, byte for byte as Confluent writes them.
fn assert_confluent_records(bootstrap: &str, topic: &str) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "registry-restart-test")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning).unwrap();
    consumer.assign(&tpl).unwrap();
    let (_, end) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).unwrap();
    let mut records = Vec::new();
    let mut next = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while next < end && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
            records.push((text(m.key()).unwrap_or_default(), text(m.payload())));
            next = m.offset() + 1;
        }
    }
    let has = |key: &str, value: Option<&str>| records.iter().any(|(k, v)| k == key && v.as_deref() == value);
    let expected = [
        (
            r#"{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}"#,
            Some(
                r#"{"subject":"a","version":1,"id":1,"schema":"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"name\",\"type\":\"string\"}]}","deleted":false}"#,
            ),
        ),
        (
            r#"{"keytype":"SCHEMA","subject":"j","version":1,"magic":1}"#,
            Some(
                r#"{"subject":"j","version":1,"id":3,"schemaType":"JSON","schema":"{\"type\":\"object\"}","deleted":false}"#,
            ),
        ),
        (r#"{"keytype":"CONFIG","subject":"a","magic":0}"#, Some(r#"{"compatibilityLevel":"NONE"}"#)),
        (r#"{"keytype":"CONFIG","subject":null,"magic":0}"#, Some(r#"{"compatibilityLevel":"FULL"}"#)),
        (r#"{"keytype":"DELETE_SUBJECT","subject":"j","magic":0}"#, Some(r#"{"subject":"j","version":1}"#)),
        (r#"{"keytype":"SCHEMA","subject":"gone","version":1,"magic":1}"#, None),
        (r#"{"keytype":"NOOP","magic":0}"#, None),
    ];
    for (key, value) in expected {
        assert!(has(key, value), "no record {key} -> {value:?} in the topic:\n{records:#?}");
    }
}
