use std::collections::BTreeMap;

use tributary_runtime::api::{Headers, SinkRecord, Value};

use super::config::{self, parse_server_uri, source_config_def};
use super::split_filters;
use super::topic::{kafka_topic, render_sink_topic, validate_filter};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn source_errors(pairs: &[(&str, &str)]) -> String {
    match source_config_def().parse(&props(pairs)) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn accepts_wildcards_and_shared_subscriptions() {
    for f in ["sensors/+/temp", "sensors/#", "#", "+", "a//b", "$share/g/sensors/#", "/lead"] {
        assert_eq!(validate_filter(f), Ok(()), "{f}");
    }
}

#[test]
fn rejects_malformed_filters_naming_the_filter() {
    for f in ["sensors/#/temp", "sensors/te#", "sensors/a+", "", "$share/g", "$share/+/x", "$share//x"] {
        let e = validate_filter(f).unwrap_err();
        assert!(e.contains(f) || f.is_empty(), "{e}");
    }
    let e =
        source_errors(&[("mqtt.server.uri", "tcp://h:1883"), ("mqtt.topics", "ok/+,bad/#/x"), ("kafka.topic", "t")]);
    assert!(e.contains("mqtt.topics") && e.contains("bad/#/x"), "{e}");
}

#[test]
fn reports_every_bad_key_at_once() {
    let e = source_errors(&[
        ("mqtt.server.uri", "http://h:1883"),
        ("mqtt.topics", "a"),
        ("kafka.topic", "x-${nope}"),
        ("mqtt.qos", "3"),
    ]);
    for key in ["mqtt.server.uri", "kafka.topic", "mqtt.qos"] {
        assert!(e.contains(key), "{key} missing from: {e}");
    }
    assert!(e.contains("unsupported scheme 'http'"), "{e}");
}

#[test]
fn parses_server_uris() {
    let u = parse_server_uri("tcp://127.0.0.1:11883").unwrap();
    assert_eq!((u.tls, u.host.as_str(), u.port), (false, "127.0.0.1", 11883));
    let u = parse_server_uri("ssl://broker").unwrap();
    assert_eq!((u.tls, u.port), (true, 8883));
    assert!(parse_server_uri("tcp://h:0").is_err());
    assert!(parse_server_uri("tcp://h:99999").is_err());
    assert!(parse_server_uri("h:1883").is_err());
    assert!(parse_server_uri("tcp://h:1883/path").is_err());
}

#[test]
fn password_is_hidden_and_needs_a_user() {
    let def = source_config_def();
    let p = props(&[
        ("mqtt.server.uri", "tcp://h:1"),
        ("mqtt.topics", "a"),
        ("kafka.topic", "t"),
        ("mqtt.password", "hunter2"),
    ]);
    let e = config::connection_settings(&p, &def).unwrap_err().to_string();
    assert!(e.contains("mqtt.username") && !e.contains("hunter2"), "{e}");
    let mut p = p;
    p.insert("mqtt.username".into(), "u".into());
    let s = config::connection_settings(&p, &def).unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn maps_mqtt_topics_to_kafka_topics() {
    assert_eq!(kafka_topic("mqtt.${topic}", "sensors/12/temp", '.'), "mqtt.sensors.12.temp");
    assert_eq!(kafka_topic("${topic}", "a b/ü/$x", '_'), "a_b____x");
    assert_eq!(kafka_topic("fixed", "a/b", '.'), "fixed");
}

fn sink_record(key: Value) -> SinkRecord {
    let mut headers = Headers::new();
    headers.add_string("device", "d-7");
    SinkRecord {
        topic: "cmds".into(),
        kafka_partition: 0,
        kafka_offset: 5,
        timestamp: None,
        key_schema: None,
        key,
        value_schema: None,
        value: Value::Null,
        headers,
    }
}

#[test]
fn renders_sink_topics_from_key_header_and_topic() {
    let r = sink_record(Value::String("dev/1".into()));
    assert_eq!(render_sink_topic("${topic}", &r).unwrap(), "cmds");
    assert_eq!(render_sink_topic("out/${key}/set", &r).unwrap(), "out/dev/1/set");
    assert_eq!(render_sink_topic("d/${header:device}", &r).unwrap(), "d/d-7");
    let e = render_sink_topic("d/${header:missing}", &r).unwrap_err();
    assert_eq!(e.kind(), tributary_runtime::api::ErrorKind::Data);
    let e = render_sink_topic("${key}", &sink_record(Value::Null)).unwrap_err();
    assert!(e.to_string().contains("cmds-0@5"), "{e}");
    let e = render_sink_topic("${key}", &sink_record(Value::String("a/#".into()))).unwrap_err();
    assert_eq!(e.kind(), tributary_runtime::api::ErrorKind::Data);
}

#[test]
fn plain_filters_get_one_task_each_and_shared_ones_every_task() {
    let f = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(split_filters(&f(&["a", "b"]), 4), vec![f(&["a"]), f(&["b"])]);
    assert_eq!(split_filters(&f(&["a", "b", "c"]), 2), vec![f(&["a", "c"]), f(&["b"])]);
    assert_eq!(
        split_filters(&f(&["$share/g/x", "a"]), 3),
        vec![f(&["$share/g/x", "a"]), f(&["$share/g/x"]), f(&["$share/g/x"])]
    );
}

#[test]
fn client_ids_are_stable_and_distinct_per_task() {
    assert_eq!(config::client_id("", "conn", 2), "tributary-conn-2");
    assert_eq!(config::client_id("dev", "conn", 0), "dev");
    assert_eq!(config::client_id("dev", "conn", 1), "dev-1");
}
